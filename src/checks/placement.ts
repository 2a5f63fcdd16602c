import type { Planned } from "../libvirt/plan";
import { formatCpuset } from "../util/cpuset";
import { explicitOn, res, type Rule } from "./rule";

/**
 * Pinning, NUMA placement and huge pages against what kvm-hint-dedicated promises and what
 * the host has (its NUMA nodes, CPUs and page pools: the profile's numaNodes, read over a connection).
 */

const hintOn = (r: Planned) => r.domain.accel === "kvm" && res(r, "hintDedicated")?.enabled === true;

/** The pages of the domain's size the domain may take: on its strict nodes, else on any node; null when the host lists no such pool. */
function pagePool(r: Planned): { free: number; nodes: number[]; listed: boolean } | null {
  const size = r.domain.hugepages?.sizeKiB;
  const nodes = r.host.numaNodes;
  if (size === undefined || !nodes) return null;
  const nodeset = r.domain.numa?.nodeset;
  const strict = nodeset && r.domain.numa!.mode !== "preferred" ? new Set(nodeset) : null;
  const usable = nodes.filter((n) => !strict || strict.has(n.id));
  const pools = usable.flatMap((n) => (n.pages ?? []).filter((p) => p.sizeKiB === size));
  const listed = nodes.some((n) => (n.pages ?? []).some((p) => p.sizeKiB === size));
  return { free: pools.reduce((sum, p) => sum + (p.free ?? p.total), 0), nodes: usable.map((n) => n.id), listed };
}

export const PLACEMENT_RULES: readonly Rule[] = [
  {
    code: "hint-dedicated-without-dedicated-vcpus",
    severity: "error",
    summary:
      "kvm-hint-dedicated is set but the configuration does not make the vCPUs dedicated: the guest drops PV spinlocks and may busy-poll on shared cores.",
    check: (r) =>
      hintOn(r) &&
      explicitOn(r, "hintDedicated") &&
      !r.domain.cpuPinning?.dedicated &&
      !r.placement.dedicated.value &&
      r.domain.dedicatedVcpus !== true
        ? [
            {
              path: "paravirt.hintDedicated",
              message: `kvm-hint-dedicated tells the guest each vCPU has a host CPU of its own, but ${r.placement.dedicated.reason}; the guest then stops PV spinlocks and may load haltpoll on shared cores (lock-holder preemption, wasted host time). Pin the vCPUs (cpuPinning.dedicated: true), or set dedicatedVcpus: true if they are dedicated by other means`,
            },
          ]
        : [],
  },
  {
    code: "hint-dedicated-pinning-unverified",
    severity: "warning",
    summary: "kvm-hint-dedicated with dedicatedVcpus: true but no pinning this tool can see: the promise to the guest is the user's.",
    check: (r) =>
      hintOn(r) &&
      explicitOn(r, "hintDedicated") &&
      !r.domain.cpuPinning?.dedicated &&
      !r.placement.dedicated.value &&
      r.domain.dedicatedVcpus === true
        ? [
            {
              path: "paravirt.hintDedicated",
              message: `kvm-hint-dedicated is on and dedicatedVcpus: true says the vCPUs are dedicated, but the configuration does not show it (${r.placement.dedicated.reason}); use cpuPinning to have it checked`,
            },
          ]
        : [],
  },
  {
    code: "dedicated-vcpus-not-dedicated",
    severity: "error",
    summary: "cpuPinning.dedicated is asked for but the pinning cannot give each vCPU a host CPU of its own.",
    check: (r) =>
      r.domain.cpuPinning?.dedicated && !r.placement.dedicated.value
        ? [{ path: "cpuPinning", message: `the vCPUs are to be dedicated, but ${r.placement.dedicated.reason}` }]
        : [],
  },
  {
    code: "cpuset-cpu-missing-on-host",
    severity: "error",
    summary: "A pinning names a host CPU the host does not have: libvirt refuses to start the domain.",
    check: (r) =>
      r.placement.missingCpus.map((m) => ({
        path: m.path,
        message: `host CPU${m.cpus.length > 1 ? "s" : ""} ${formatCpuset(m.cpus)} not on the host, which has CPUs ${formatCpuset((r.host.numaNodes ?? []).flatMap((n) => n.cpus))}`,
      })),
  },
  {
    code: "dedicated-cpus-floating-neighbours",
    severity: "warning",
    summary: "The vCPUs are pinned to host CPUs of their own, but other domains on the host are not pinned and may run there.",
    check: (r) =>
      r.placement.dedicated.value && r.placement.floating.count
        ? [
            {
              path: "cpuPinning",
              message: `${r.placement.floating.count} other domain${r.placement.floating.count > 1 ? "s" : ""} on the host (${r.placement.floating.names.slice(0, 5).join(", ")}${r.placement.floating.count > 5 ? ", ..." : ""}) ${r.placement.floating.count > 1 ? "have" : "has"} unpinned vCPUs, which may run on this domain's host CPUs; pin them to the other CPUs`,
            },
          ]
        : [],
  },
  {
    code: "dedicated-cpu-sibling-shared",
    severity: "warning",
    summary:
      "A dedicated vCPU's host CPU shares its core (SMT) with a CPU another domain is pinned to: the vCPU competes for the core's execution units.",
    check: (r) =>
      r.placement.siblingShared.map((x) => ({
        path: "cpuPinning",
        message: `host CPU ${x.cpu} shares its core with CPU ${x.sibling}, where ${x.with}'s ${x.what} may run: the dedicated vCPU competes with it for the core (SMT); keep the sibling free or give it to this domain`,
      })),
  },
  {
    code: "dedicated-vcpus-hint-off",
    severity: "info",
    summary: "The vCPUs are dedicated but kvm-hint-dedicated is off: the guest keeps PV spinlocks and cannot use haltpoll.",
    check: (r) =>
      r.domain.accel === "kvm" && r.placement.dedicated.value && res(r, "hintDedicated")?.enabled === false
        ? [
            {
              path: "paravirt.hintDedicated",
              message:
                "the vCPUs are dedicated but kvm-hint-dedicated is off: a Linux guest keeps PV spinlocks, PV TLB flush and PV sched yield (needless on dedicated vCPUs) and does not load the haltpoll cpuidle driver",
            },
          ]
        : [],
  },
  {
    code: "numa-node-missing-on-host",
    severity: "error",
    summary: "numa.nodeset names a NUMA node the host does not have: libvirt refuses to start the domain.",
    check: (r) => {
      const nodes = r.host.numaNodes;
      const want = r.domain.numa?.nodeset;
      if (!nodes || !want) return [];
      const missing = want.filter((n) => !nodes.some((x) => x.id === n));
      return missing.length
        ? [
            {
              path: "numa.nodeset",
              message: `NUMA node${missing.length > 1 ? "s" : ""} ${formatCpuset(missing)} not on the host, which has node${nodes.length > 1 ? "s" : ""} ${formatCpuset(nodes.map((n) => n.id))}`,
            },
          ]
        : [];
    },
  },
  {
    code: "hugepages-size-missing-on-host",
    severity: "error",
    summary: "hugepages.sizeKiB is a page size the host has no pool of: libvirt refuses to start the domain.",
    check: (r) => {
      const pool = pagePool(r);
      if (!pool || pool.listed) return [];
      const sizes = [...new Set((r.host.numaNodes ?? []).flatMap((n) => (n.pages ?? []).map((p) => p.sizeKiB)))].filter((k) => k > 4);
      return [
        {
          path: "hugepages.sizeKiB",
          message: `the host has no ${r.domain.hugepages!.sizeKiB} KiB page pool${sizes.length ? `; it has ${sizes.join(", ")} KiB` : ""}`,
        },
      ];
    },
  },
  {
    code: "hugepages-pool-too-small",
    severity: "error",
    summary:
      "The host's free huge pages of the asked size cannot hold the guest's memory: QEMU fails to start (or the start fails to allocate).",
    check: (r) => {
      const pool = pagePool(r);
      if (!pool || !pool.listed) return [];
      const size = r.domain.hugepages!.sizeKiB;
      const need = Math.ceil((r.domain.memoryMiB * 1024) / size);
      const { held, claimedBefore } = r.placement.pages;
      const free = pool.free + held - claimedBefore;
      return free >= need
        ? []
        : [
            {
              path: "hugepages",
              message: `${r.domain.memoryMiB} MiB of memory needs ${need} pages of ${size} KiB; the host has ${pool.free} free on node${pool.nodes.length > 1 ? "s" : ""} ${formatCpuset(pool.nodes)}${held ? ` (and this domain holds ${held})` : ""}${claimedBefore ? `, of which domains before it in the spec take ${claimedBefore}` : ""} (reserve more: virsh allocpages)`,
            },
          ];
    },
  },
];
