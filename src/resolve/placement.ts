import { hostCpus, type HostProfile } from "../host/profile";
import type { DomainSpec } from "../input/schema";
import { formatCpuset } from "../util/cpuset";

/**
 * Where a domain's vCPUs and QEMU's emulator threads run on the host, and whether the vCPUs
 * are dedicated: what `kvm-hint-dedicated` promises the guest (each vCPU alone on its host
 * CPU, so the guest drops PV spinlocks, PV TLB flush and PV sched yield and may load
 * haltpoll: ../shared/reference/pv-features.md §2.16). Decided from the configuration:
 * the domain's own pinning and that of the other domains on the host (the spec's and, over a
 * connection, the live ones).
 */

/** Another domain on the same host, as far as its pinning goes. */
export interface PinnedNeighbour {
  name: string;
  /** per vCPU the host CPUs it may run on; null: not pinned (its vCPUs float over every host CPU) */
  vcpus: number[][] | null;
  /** its emulator threads' host CPUs; null: not pinned */
  emulator: number[] | null;
  /** another domain of the spec on this host, or one read from the host */
  from: "spec" | "live";
  /** (live) it runs, holding its memory; its huge page size, when backed by huge pages; its memory */
  active?: boolean;
  hugepageKiB?: number;
  memoryMiB?: number;
}

/** What the fleet knows around one domain (src/resolve/place-fleet.ts builds it). */
export interface PlacementContext {
  /** the other domains on the domain's host; undefined: not known (one domain rendered alone) */
  neighbours?: readonly PinnedNeighbour[];
  /** the neighbours include the host's live domains (plan over a connection), not only the spec's */
  liveRead?: boolean;
  /** host CPUs picked for `cpuPinning.dedicated` without `vcpus`, per vCPU, or why none could be */
  picked?: number[][] | { error: string };
  /** huge pages of the domain's size it holds now (it runs with them) and those earlier domains of the spec will take */
  pages?: { held: number; claimedBefore: number };
}

/** A host CPU a neighbour is pinned to that one of this domain's vCPUs is pinned to as well. */
export interface SharedCpu {
  cpu: number;
  vcpu: number;
  with: string;
  /** the neighbour's vCPU n, or its emulator threads */
  what: string;
  from: PinnedNeighbour["from"];
}

export interface Placement {
  /** per vCPU the host CPUs rendered into <vcpupin> (the spec's, or picked); undefined: not pinned */
  vcpus?: number[][];
  /** the emulator threads' host CPUs (<emulatorpin>): the spec's, or defaulted for dedicated vCPUs */
  emulator?: number[];
  /** the tool chose them: the vCPUs' (dedicated without vcpus), the emulator's (dedicated without emulator) */
  picked: { vcpus: boolean; emulator: boolean };
  /** why no CPUs could be picked for dedicated vCPUs */
  pickError?: string;
  /** the vCPUs are dedicated, by the configuration, and why (or why not) */
  dedicated: { value: boolean; reason: string };
  /** the vCPUs' host CPUs that neighbours are pinned to */
  shared: SharedCpu[];
  /** neighbours whose vCPUs are not pinned (they may run on any host CPU) */
  floating: string[];
  /** pinned host CPUs the host does not have (with host facts) */
  missingCpus: { path: string; cpus: number[] }[];
  /** huge pages of the domain's size it holds now, and those earlier domains of the spec take first */
  pages: { held: number; claimedBefore: number };
}

const list = (cpus: readonly number[]) => formatCpuset(cpus);

/**
 * The emulator's default for dedicated vCPUs: the host CPUs that no dedicated vCPU (this
 * domain's or a neighbour's pinned one-to-one) has, where QEMU's I/O and housekeeping
 * threads can run without stealing time from a dedicated vCPU (Nova's emulator_threads_policy
 * "share" does the same with its shared CPU set).
 */
function sharedPool(cpus: readonly number[], own: readonly number[][], neighbours: readonly PinnedNeighbour[]): number[] {
  const dedicated = new Set(own.flat());
  for (const n of neighbours) if (n.vcpus && n.vcpus.every((s) => s.length === 1)) for (const s of n.vcpus) dedicated.add(s[0]);
  return cpus.filter((c) => !dedicated.has(c));
}

export function resolvePlacement(domain: DomainSpec, host: HostProfile, ctx: PlacementContext = {}): Placement {
  const pin = domain.cpuPinning;
  const out: Placement = {
    picked: { vcpus: false, emulator: false },
    dedicated: { value: false, reason: "" },
    shared: [],
    floating: [],
    missingCpus: [],
    pages: ctx.pages ?? { held: 0, claimedBefore: 0 },
  };
  const cpus = hostCpus(host);
  const neighbours = ctx.neighbours ?? [];
  // a domain placed alone (the Pulumi resources, render of one domain) picks among its known neighbours
  const picked = ctx.picked ?? (pin?.dedicated && !pin.vcpus && cpus ? placeOnHost([domain], host, neighbours)[0].picked : undefined);
  if (pin?.vcpus) out.vcpus = pin.vcpus;
  else if (pin?.dedicated && picked) {
    if (Array.isArray(picked)) {
      out.vcpus = picked;
      out.picked.vcpus = true;
    } else out.pickError = picked.error;
  } else if (pin?.dedicated)
    out.pickError =
      "the host's CPUs are not known: give cpuPinning.vcpus, or plan over a connection (or with a host profile listing numaNodes)";
  if (pin?.emulator) out.emulator = pin.emulator;
  else if (pin?.dedicated && out.vcpus && cpus) {
    const pool = sharedPool(cpus, out.vcpus, neighbours);
    if (pool.length) {
      out.emulator = pool;
      out.picked.emulator = true;
    }
  }
  if (cpus) {
    const have = new Set(cpus);
    out.vcpus?.forEach((s, i) => {
      const missing = s.filter((c) => !have.has(c));
      if (missing.length) out.missingCpus.push({ path: `cpuPinning.vcpus[${i}]`, cpus: missing });
    });
    const missing = (out.emulator ?? []).filter((c) => !have.has(c));
    if (missing.length) out.missingCpus.push({ path: "cpuPinning.emulator", cpus: missing });
  }
  out.floating = neighbours.filter((n) => n.vcpus === null).map((n) => n.name);
  if (out.vcpus) {
    const mine = new Map<number, number>();
    out.vcpus.forEach((s, i) => s.forEach((c) => mine.set(c, i)));
    for (const n of neighbours) {
      const uses: [number, string][] = [];
      n.vcpus?.forEach((s, i) => s.forEach((c) => uses.push([c, `vCPU ${i}`])));
      n.emulator?.forEach((c) => uses.push([c, "emulator threads"]));
      for (const [c, what] of uses) if (mine.has(c)) out.shared.push({ cpu: c, vcpu: mine.get(c)!, with: n.name, what, from: n.from });
    }
  }
  out.dedicated = dedication(out, domain, ctx.neighbours === undefined ? "unknown" : ctx.liveRead ? "host" : "spec");
  return out;
}

/** Whether the configuration makes the vCPUs dedicated, and the reason in one sentence. */
function dedication(p: Placement, domain: DomainSpec, known: "host" | "spec" | "unknown"): Placement["dedicated"] {
  const no = (reason: string) => ({ value: false, reason });
  if (!p.vcpus) return no(p.pickError ? `no vCPU is pinned: ${p.pickError}` : "the vCPUs are not pinned: they float over the host's CPUs");
  const cpus = p.vcpus.map((s) => s[0]);
  const wide = p.vcpus.findIndex((s) => s.length !== 1);
  if (wide >= 0) return no(`vCPU ${wide} may run on host CPUs ${list(p.vcpus[wide])}, not on one of its own`);
  const twice = cpus.findIndex((c, i) => cpus.indexOf(c) !== i);
  if (twice >= 0) return no(`vCPUs ${cpus.indexOf(cpus[twice])} and ${twice} share host CPU ${cpus[twice]}`);
  if (!p.emulator) return no("the emulator threads are not pinned, so they may run on the vCPUs' host CPUs (give cpuPinning.emulator)");
  const own = p.emulator.filter((c) => cpus.includes(c));
  if (own.length) return no(`the emulator threads may run on host CPU${own.length > 1 ? "s" : ""} ${list(own)}, which vCPUs have`);
  if (p.shared.length) {
    const s = p.shared[0];
    return no(`host CPU ${s.cpu} (vCPU ${s.vcpu}) is also ${s.with}'s ${s.what}${s.from === "live" ? " (on the host)" : ""}`);
  }
  const others = {
    host: "no other domain on the host is pinned to them",
    spec: "no other domain of the spec is pinned to them (plan and apply also read the host's domains over the connection)",
    unknown: "other domains on the host were not read (plan and apply over the connection read them)",
  }[known];
  const emu = `${p.picked.emulator ? "the emulator threads on the host's other CPUs, " : "the emulator threads on "}${list(p.emulator)}`;
  const d = domain.vcpus === 1 ? "the vCPU pinned to host CPU" : "the vCPUs pinned one to one to host CPUs";
  return { value: true, reason: `${d} ${cpus.join(", ")}${p.picked.vcpus ? " (picked)" : ""}; ${emu}; ${others}` };
}

/**
 * The domains of one host in spec order: for each, its neighbours (the others of the spec and
 * the live ones not in the spec) and, for dedicated vCPUs without `vcpus`, the host CPUs
 * picked, the highest free ones first (CPU 0 is where the host's own work usually runs), on the
 * domain's NUMA nodes first; earlier domains' picks are taken.
 */
export function placeOnHost(domains: readonly DomainSpec[], host: HostProfile, live?: readonly PinnedNeighbour[]): PlacementContext[] {
  const names = new Set(domains.map((d) => d.name));
  const others = (live ?? []).filter((n) => !names.has(n.name));
  const cpus = hostCpus(host);
  const pinsOf = domains.map((d): PinnedNeighbour => ({
    name: d.name,
    vcpus: d.cpuPinning?.vcpus ?? null,
    emulator: d.cpuPinning?.emulator ?? null,
    from: "spec",
  }));
  const contexts: PlacementContext[] = domains.map(() => ({}));
  // a domain that exists keeps the host CPUs it was given while they are still its alone: adding a
  // domain to the spec never moves another one's vCPUs
  const takenBy = (i: number) => {
    const taken = new Set<number>();
    for (const n of [...others, ...pinsOf.filter((_p, j) => j !== i)]) {
      n.vcpus?.forEach((s) => s.forEach((c) => taken.add(c)));
      n.emulator?.forEach((c) => taken.add(c));
    }
    return taken;
  };
  domains.forEach((d, i) => {
    const now = live?.find((n) => n.name === d.name)?.vcpus;
    if (!d.cpuPinning?.dedicated || d.cpuPinning.vcpus || !cpus || !now || now.length !== d.vcpus) return;
    const taken = takenBy(i);
    const mine = now.map((s) => s[0]);
    if (now.every((s) => s.length === 1 && cpus.includes(s[0]) && !taken.has(s[0])) && new Set(mine).size === mine.length) {
      contexts[i].picked = now.map((s) => [...s]);
      pinsOf[i] = { ...pinsOf[i], vcpus: contexts[i].picked as number[][] };
    }
  });
  domains.forEach((d, i) => {
    if (!d.cpuPinning?.dedicated || d.cpuPinning.vcpus || contexts[i].picked) return;
    if (!cpus) return;
    const taken = new Set<number>();
    for (const n of [...others, ...pinsOf.filter((_p, j) => j !== i)]) {
      n.vcpus?.forEach((s) => s.forEach((c) => taken.add(c)));
      n.emulator?.forEach((c) => taken.add(c));
    }
    const local = new Set((host.numaNodes ?? []).filter((n) => d.numa?.nodeset?.includes(n.id)).flatMap((n) => n.cpus));
    const free = cpus.filter((c) => !taken.has(c)).sort((a, b) => Number(local.has(b)) - Number(local.has(a)) || b - a);
    // the emulator threads (and the host) keep at least one CPU no dedicated vCPU has, unless the spec pins them
    const dedicatedElsewhere = new Set<number>();
    for (const n of [...others, ...pinsOf.filter((_p, j) => j !== i)])
      if (n.vcpus?.every((set) => set.length === 1)) n.vcpus.forEach((set) => dedicatedElsewhere.add(set[0]));
    const pool = cpus.filter((c) => !dedicatedElsewhere.has(c)).length - d.vcpus;
    if (free.length < d.vcpus || (!d.cpuPinning.emulator && pool < 1)) {
      contexts[i].picked = {
        error: `${d.vcpus} dedicated vCPU${d.vcpus > 1 ? "s" : ""} need${d.vcpus > 1 ? "" : "s"} ${d.vcpus} free host CPU${d.vcpus > 1 ? "s" : ""}${d.cpuPinning.emulator ? "" : " and one more for the emulator threads"}; the host has ${cpus.length}, of which ${free.length} no other domain is pinned to`,
      };
      return;
    }
    const chosen = free.slice(0, d.vcpus).sort((a, b) => a - b);
    contexts[i].picked = chosen.map((c) => [c]);
    pinsOf[i] = { ...pinsOf[i], vcpus: chosen.map((c) => [c]) };
  });
  // emulator defaults of dedicated domains join their pins, so a neighbour sees them
  domains.forEach((d, i) => {
    const vcpus = pinsOf[i].vcpus;
    if (d.cpuPinning?.dedicated && !d.cpuPinning.emulator && vcpus && cpus) {
      const pool = sharedPool(cpus, vcpus, [...others, ...pinsOf.filter((_p, j) => j !== i)]);
      if (pool.length) pinsOf[i] = { ...pinsOf[i], emulator: pool };
    }
  });
  domains.forEach((_d, i) => {
    contexts[i].neighbours = [...others, ...pinsOf.filter((_p, j) => j !== i)];
    contexts[i].liveRead = live !== undefined;
  });
  // huge pages: a running domain holds its own; the spec's others take from the pool in order
  const pagesOf = (d: DomainSpec) => (d.hugepages ? Math.ceil((d.memoryMiB * 1024) / d.hugepages.sizeKiB) : 0);
  const holds = (d: DomainSpec) => {
    const now = live?.find((n) => n.name === d.name);
    return now?.active && now.hugepageKiB === d.hugepages?.sizeKiB ? Math.ceil(((now.memoryMiB ?? 0) * 1024) / now.hugepageKiB!) : 0;
  };
  domains.forEach((d, i) => {
    if (!d.hugepages) return;
    const before = domains.slice(0, i).filter((e) => e.hugepages?.sizeKiB === d.hugepages!.sizeKiB);
    contexts[i].pages = { held: holds(d), claimedBefore: before.reduce((sum, e) => sum + Math.max(0, pagesOf(e) - holds(e)), 0) };
  });
  return contexts;
}
