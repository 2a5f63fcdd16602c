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
  /** its IOThreads' host CPUs (IOThread n+1 at n), the pinned ones */
  iothreads?: number[][];
  /** another domain of the spec on this host, or one read from the host */
  from: "spec" | "live";
  /** (live) it runs, holding its memory; its huge page size, when backed by huge pages; its memory */
  active?: boolean;
  hugepageKiB?: number;
  memoryMiB?: number;
}

/** Who is pinned to each host CPU, and who floats: one index per host, shared by its domains' contexts. */
export interface HostUsage {
  /** host CPU -> the domains pinned there: a vCPU (one-to-one or not) or the emulator threads */
  byCpu: Map<number, { name: string; what: string; from: PinnedNeighbour["from"]; oneToOne: boolean }[]>;
  /** domains whose vCPUs are not pinned */
  floating: string[];
}

const use = (u: HostUsage, n: PinnedNeighbour): void => {
  if (n.vcpus === null) u.floating.push(n.name);
  const oneToOne = n.vcpus?.every((s) => s.length === 1) ?? false;
  const add = (cpu: number, what: string, one: boolean) => {
    const at = u.byCpu.get(cpu);
    const entry = { name: n.name, what, from: n.from, oneToOne: one };
    if (at) at.push(entry);
    else u.byCpu.set(cpu, [entry]);
  };
  n.vcpus?.forEach((set, i) => set.forEach((c) => add(c, `vCPU ${i}`, oneToOne)));
  n.emulator?.forEach((c) => add(c, "emulator threads", false));
  n.iothreads?.forEach((set, i) => set.forEach((c) => add(c, `IOThread ${i + 1}`, false)));
};

/** The index of a list of neighbours (a domain placed alone, a test). */
function usageOf(neighbours: readonly PinnedNeighbour[]): HostUsage {
  const u: HostUsage = { byCpu: new Map(), floating: [] };
  for (const n of neighbours) use(u, n);
  return u;
}

/** The CPUs someone other than `name` is pinned to (any way), and those a one-to-one vCPU of someone other than `name` has. */
function takenBy(u: HostUsage, name: string): { any: Set<number>; dedicated: Set<number> } {
  const any = new Set<number>();
  const dedicated = new Set<number>();
  for (const [cpu, users] of u.byCpu) {
    const others = users.filter((x) => x.name !== name);
    if (others.length) any.add(cpu);
    if (others.some((x) => x.oneToOne && x.what.startsWith("vCPU"))) dedicated.add(cpu);
  }
  return { any, dedicated };
}

/** What the fleet knows around one domain (placeOnHost builds it). */
export interface PlacementContext {
  /** the other domains on the domain's host; undefined (and no usage): not known (one domain rendered alone) */
  neighbours?: readonly PinnedNeighbour[];
  /** the same as an index, shared by the domains of one host (placeOnHost); the domain's own entries are skipped by name */
  usage?: HostUsage;
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
  /** the IOThreads' host CPUs (<iothreads>, <iothreadpin>): the spec's */
  iothreads?: number[][];
  /** the tool chose them: the vCPUs' (dedicated without vcpus), the emulator's (dedicated without emulator) */
  picked: { vcpus: boolean; emulator: boolean };
  /** why no CPUs could be picked for dedicated vCPUs */
  pickError?: string;
  /** the vCPUs are dedicated, by the configuration, and why (or why not) */
  dedicated: { value: boolean; reason: string };
  /** the vCPUs' host CPUs that neighbours are pinned to */
  shared: SharedCpu[];
  /** a dedicated vCPU's host CPU whose SMT sibling (same core) a neighbour is pinned to */
  siblingShared: { cpu: number; sibling: number; with: string; what: string }[];
  /** neighbours whose vCPUs are not pinned (they may run on any host CPU): how many, and the first few names */
  floating: { count: number; names: string[] };
  /** pinned host CPUs the host does not have (with host facts) */
  missingCpus: { path: string; cpus: number[] }[];
  /** huge pages of the domain's size it holds now, and those earlier domains of the spec take first */
  pages: { held: number; claimedBefore: number };
}

const list = (cpus: readonly number[]) => formatCpuset(cpus);

/** Host CPU -> its SMT siblings (the other CPUs of its core), from the profile's NUMA nodes. */
function siblingMap(host: HostProfile): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const n of host.numaNodes ?? [])
    for (const g of n.siblings ?? [])
      for (const c of g)
        out.set(
          c,
          g.filter((x) => x !== c),
        );
  return out;
}
/** The shared host CPUs a placement lists (the first: the reason names one). */
const MAX_SHARED = 16;

/**
 * The emulator's default for dedicated vCPUs: the host CPUs that no dedicated vCPU (this
 * domain's or a neighbour's pinned one-to-one) has, where QEMU's I/O and housekeeping
 * threads can run without stealing time from a dedicated vCPU (Nova's emulator_threads_policy
 * "share" does the same with its shared CPU set).
 */
function sharedPool(cpus: readonly number[], own: readonly number[][], u: HostUsage, name: string): number[] {
  const dedicated = takenBy(u, name).dedicated;
  for (const s of own) for (const c of s) dedicated.add(c);
  return cpus.filter((c) => !dedicated.has(c));
}

export function resolvePlacement(domain: DomainSpec, host: HostProfile, ctx: PlacementContext = {}): Placement {
  const pin = domain.cpuPinning;
  const out: Placement = {
    picked: { vcpus: false, emulator: false },
    dedicated: { value: false, reason: "" },
    shared: [],
    siblingShared: [],
    floating: { count: 0, names: [] },
    missingCpus: [],
    pages: ctx.pages ?? { held: 0, claimedBefore: 0 },
  };
  const cpus = hostCpus(host);
  const usage = ctx.usage ?? usageOf(ctx.neighbours ?? []);
  // a domain placed alone (the Pulumi resources, render of one domain) picks among its known neighbours
  const picked =
    ctx.picked ?? (pin?.dedicated && !pin.vcpus && cpus ? placeOnHost([domain], host, ctx.neighbours ?? [])[0].picked : undefined);
  if (pin?.vcpus) out.vcpus = pin.vcpus;
  else if (pin?.dedicated && picked) {
    if (Array.isArray(picked)) {
      out.vcpus = picked;
      out.picked.vcpus = true;
    } else out.pickError = picked.error;
  } else if (pin?.dedicated)
    out.pickError =
      "the host's CPUs are not known: give cpuPinning.vcpus, or plan over a connection (or with a host profile listing numaNodes)";
  if (pin?.iothreads) out.iothreads = pin.iothreads;
  if (pin?.emulator) out.emulator = pin.emulator;
  else if (pin?.dedicated && out.vcpus && cpus) {
    const pool = sharedPool(cpus, out.vcpus, usage, domain.name);
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
    out.iothreads?.forEach((s, i) => {
      const gone = s.filter((c) => !have.has(c));
      if (gone.length) out.missingCpus.push({ path: `cpuPinning.iothreads[${i}]`, cpus: gone });
    });
  }
  if (out.vcpus) {
    // counts and the first few only: a fleet of thousands on one host keeps no list per domain
    const self = usage.floating.includes(domain.name) ? 1 : 0;
    out.floating = { count: usage.floating.length - self, names: usage.floating.filter((n) => n !== domain.name).slice(0, 6) };
    out.vcpus.forEach((set, vcpu) => {
      for (const cpu of set)
        for (const x of usage.byCpu.get(cpu) ?? [])
          if (x.name !== domain.name && out.shared.length < MAX_SHARED)
            out.shared.push({ cpu, vcpu, with: x.name, what: x.what, from: x.from });
    });
  }
  const known = ctx.usage === undefined && ctx.neighbours === undefined ? "unknown" : ctx.liveRead ? "host" : "spec";
  out.dedicated = dedication(out, domain, known);
  if (out.dedicated.value) {
    // hyperthreads: a dedicated vCPU still shares its core's execution units with its sibling's users
    const mine = new Set(out.vcpus!.map((s) => s[0]));
    const siblingsOf = siblingMap(host);
    for (const cpu of mine)
      for (const sibling of siblingsOf.get(cpu) ?? [])
        if (!mine.has(sibling))
          for (const x of usage.byCpu.get(sibling) ?? [])
            if (x.name !== domain.name && out.siblingShared.length < MAX_SHARED)
              out.siblingShared.push({ cpu, sibling, with: x.name, what: x.what });
  }
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
  const io = (p.iothreads ?? []).findIndex((set) => set.some((c) => cpus.includes(c)));
  if (io >= 0) return no(`IOThread ${io + 1} may run on host CPU ${p.iothreads![io].find((c) => cpus.includes(c))}, which a vCPU has`);
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
  const liveByName = new Map((live ?? []).map((n) => [n.name, n]));
  const cpus = hostCpus(host);
  // one index for the host: the live domains not in the spec, then the spec's own pins
  const usage = usageOf((live ?? []).filter((n) => !names.has(n.name)));
  const toPick = (d: DomainSpec) => d.cpuPinning?.dedicated === true && !d.cpuPinning.vcpus;
  for (const d of domains)
    if (!toPick(d))
      use(usage, { name: d.name, vcpus: d.cpuPinning?.vcpus ?? null, emulator: d.cpuPinning?.emulator ?? null, from: "spec" });
  const contexts: PlacementContext[] = domains.map(() => ({ usage, liveRead: live !== undefined }));
  const picked = (i: number, d: DomainSpec, vcpus: number[][]) => {
    contexts[i].picked = vcpus;
    use(usage, { name: d.name, vcpus, emulator: null, from: "spec" });
  };
  if (cpus) {
    // a domain that exists keeps the host CPUs it was given while they are still its alone: adding a
    // domain to the spec never moves another one's vCPUs
    domains.forEach((d, i) => {
      const now = liveByName.get(d.name)?.vcpus;
      if (!toPick(d) || !now || now.length !== d.vcpus) return;
      const taken = takenBy(usage, d.name).any;
      const mine = now.map((s) => s[0]);
      if (now.every((s) => s.length === 1 && cpus.includes(s[0]) && !taken.has(s[0])) && new Set(mine).size === mine.length)
        picked(
          i,
          d,
          now.map((s) => [...s]),
        );
    });
    // the others: the highest free host CPUs, on the domain's NUMA nodes first
    domains.forEach((d, i) => {
      if (!toPick(d) || contexts[i].picked) return;
      const taken = takenBy(usage, d.name);
      const local = new Set((host.numaNodes ?? []).filter((n) => d.numa?.nodeset?.includes(n.id)).flatMap((n) => n.cpus));
      // on the domain's NUMA nodes first, then on cores whose other threads nobody is pinned to, then the highest
      const siblings = siblingMap(host);
      const quiet = (c: number) => (siblings.get(c) ?? []).every((x) => !taken.any.has(x));
      const free = cpus
        .filter((c) => !taken.any.has(c))
        .sort((a, b) => Number(local.has(b)) - Number(local.has(a)) || Number(quiet(b)) - Number(quiet(a)) || b - a);
      // the emulator threads (and the host) keep at least one CPU no dedicated vCPU has, unless the spec pins them
      const pool = cpus.filter((c) => !taken.dedicated.has(c)).length - d.vcpus;
      if (free.length < d.vcpus || (!d.cpuPinning!.emulator && pool < 1)) {
        contexts[i].picked = {
          error: `${d.vcpus} dedicated vCPU${d.vcpus > 1 ? "s" : ""} need${d.vcpus > 1 ? "" : "s"} ${d.vcpus} free host CPU${d.vcpus > 1 ? "s" : ""}${d.cpuPinning!.emulator ? "" : " and one more for the emulator threads"}; the host has ${cpus.length}, of which ${free.length} no other domain is pinned to`,
        };
        return;
      }
      picked(
        i,
        d,
        free
          .slice(0, d.vcpus)
          .sort((a, b) => a - b)
          .map((c) => [c]),
      );
    });
    // the emulator defaults of dedicated domains join the index, so that a neighbour sees them
    const pools = domains.map((d, i) => {
      const vcpus = d.cpuPinning?.vcpus ?? (Array.isArray(contexts[i].picked) ? (contexts[i].picked as number[][]) : undefined);
      return d.cpuPinning?.dedicated && !d.cpuPinning.emulator && vcpus ? sharedPool(cpus, vcpus, usage, d.name) : [];
    });
    pools.forEach((pool, i) => {
      if (pool.length) use(usage, { name: domains[i].name, vcpus: [], emulator: pool, from: "spec" });
    });
  }
  // huge pages: a running domain holds its own; the spec's others take from the pool in order
  const pagesOf = (d: DomainSpec) => (d.hugepages ? Math.ceil((d.memoryMiB * 1024) / d.hugepages.sizeKiB) : 0);
  const holds = (d: DomainSpec) => {
    const now = liveByName.get(d.name);
    return now?.active && now.hugepageKiB === d.hugepages?.sizeKiB ? Math.ceil(((now.memoryMiB ?? 0) * 1024) / now.hugepageKiB!) : 0;
  };
  const claimed = new Map<number, number>();
  domains.forEach((d, i) => {
    if (!d.hugepages) return;
    const size = d.hugepages.sizeKiB;
    contexts[i].pages = { held: holds(d), claimedBefore: claimed.get(size) ?? 0 };
    claimed.set(size, (claimed.get(size) ?? 0) + Math.max(0, pagesOf(d) - holds(d)));
  });
  return contexts;
}
