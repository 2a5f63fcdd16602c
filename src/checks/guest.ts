import { featureByKey } from "../catalog/features";
import { atLeast } from "../util/version";
import { explicitOn, fpath, on, res, visible, type Rule } from "./rule";

/** What a Linux guest does with the features it sees, and deprecated settings. */
export const GUEST_RULES: readonly Rule[] = [
  {
    code: "asyncpf-without-asyncpf-int",
    severity: "warning",
    summary: "kvm-asyncpf relied on without kvm-asyncpf-int: hosts >= 5.8 ignore legacy async PF (deprecated).",
    check: (r) =>
      explicitOn(r, "asyncpf") && visible(r, "asyncpf") && !on(r, "asyncpfInt") && atLeast(r.host.kernel, "5.8")
        ? [
            {
              path: "paravirt.asyncpf",
              message:
                "kvm-asyncpf is deprecated: hosts since Linux 5.8 ignore legacy async page faults and guests since 5.9 use them only with kvm-asyncpf-int. Set asyncpfInt: true",
            },
          ]
        : [],
  },
  {
    code: "asyncpf-inert",
    severity: "info",
    summary: "The default kvm-asyncpf is inert without kvm-asyncpf-int on current hosts.",
    // a host >= 5.8 keeps async PF off without DELIVERY_AS_INT (x86.c kvm_pv_async_pf_enabled), whatever QEMU offers
    check: (r) =>
      !explicitOn(r, "asyncpf") && visible(r, "asyncpf") && !on(r, "asyncpfInt") && atLeast(r.host.kernel, "5.8")
        ? [
            {
              path: "paravirt.asyncpfInt",
              message: `async page faults are effectively off: kvm-asyncpf (default on) is ignored by hosts since 5.8 without kvm-asyncpf-int${
                res(r, "asyncpfInt") === undefined ? `, which QEMU ${r.host.qemu} does not have (5.2+)` : " (off for named models)"
              }`,
            },
          ]
        : [],
  },
  {
    code: "poll-control-without-hint-dedicated",
    severity: "warning",
    summary: "kvm-poll-control without kvm-hint-dedicated: the guest's haltpoll driver does not load, so it is unused.",
    check: (r) =>
      visible(r, "pollControl") && !on(r, "hintDedicated")
        ? [
            {
              path: "paravirt.pollControl",
              message: `kvm-poll-control is on${explicitOn(r, "pollControl") ? "" : " (host passthrough)"} but kvm-hint-dedicated is off: Linux loads cpuidle-haltpoll, the only user of poll control, only with the dedicated hint`,
            },
          ]
        : [],
  },
  {
    code: "hint-dedicated-disables-pv",
    severity: "info",
    summary: "With kvm-hint-dedicated the guest does not use PV spinlocks, PV TLB flush or PV sched yield.",
    check: (r) => {
      if (!visible(r, "hintDedicated")) return [];
      const idle = (["pvUnhalt", "pvTlbFlush", "pvSchedYield"] as const).filter((k) => visible(r, k));
      return idle.length
        ? [
            {
              path: "paravirt.hintDedicated",
              message: `kvm-hint-dedicated is on, so a Linux guest ignores ${idle.map((k) => featureByKey(k).qemu).join(", ")}`,
            },
          ]
        : [];
    },
  },
  {
    code: "pv-needs-steal-time",
    severity: "warning",
    summary: "kvm-pv-tlb-flush or kvm-pv-sched-yield without kvm-steal-time: the guest does not use them.",
    check: (r) =>
      on(r, "stealTime")
        ? []
        : (["pvTlbFlush", "pvSchedYield"] as const)
            .filter((k) => visible(r, k))
            .map((k) => ({
              path: `paravirt.${k}`,
              message: `${featureByKey(k).qemu} is on but kvm-steal-time is off: Linux uses it only together with steal time`,
            })),
  },
  {
    code: "single-vcpu-pv-unused",
    severity: "info",
    summary: "With one vCPU a Linux guest does not use PV spinlocks, IPIs, TLB flush or sched yield.",
    check: (r) => {
      if (r.domain.vcpus !== 1) return [];
      const idle = (["pvUnhalt", "pvIpi", "pvTlbFlush", "pvSchedYield"] as const).filter((k) => visible(r, k));
      return idle.length
        ? [{ path: "vcpus", message: `one vCPU: a Linux guest ignores ${idle.map((k) => featureByKey(k).qemu).join(", ")}` }]
        : [];
    },
  },
  {
    code: "guest-kernel-too-old",
    severity: "warning",
    summary: "A feature is on that the guest kernel is too old (or too new) to use.",
    check: (r) => {
      const gk = r.domain.guest?.kernel;
      if (!gk) return [];
      return [...r.features.values()]
        .filter((x) => x.guestVisible && x.feature.guestKernelMin)
        .filter(
          (x) =>
            !atLeast(gk, x.feature.guestKernelMin) ||
            // Stryker disable next-line ConditionalExpression,StringLiteral: unreachable today: the one row with a guestKernelMax (kvm-mmu) is never visible (KVM never offers it)
            (x.feature.guestKernelMax !== undefined && atLeast(gk, `${x.feature.guestKernelMax}.999`)),
        )
        .map((x) => ({
          path: fpath(x.feature),
          message: !atLeast(gk, x.feature.guestKernelMin)
            ? `${x.feature.qemu} is on but the guest kernel ${gk} is older than ${x.feature.guestKernelMin}, the first to use it`
            : // Stryker disable next-line StringLiteral: unreachable today (see above)
              `${x.feature.qemu} is on but guest kernels after ${x.feature.guestKernelMax} no longer use it (guest: ${gk})`,
        }));
    },
  },
  {
    code: "kvm-mmu-deprecated",
    severity: "error",
    summary: "kvm-mmu is deprecated and never supported by KVM: QEMU always drops it.",
    check: (r) =>
      explicitOn(r, "mmu")
        ? [
            {
              path: "paravirt.mmu",
              message: `kvm-mmu is deprecated (PV MMU was removed from Linux 3.2-3.5) and KVM never offers it: QEMU drops it. Remove it.`,
            },
          ]
        : [],
  },
  {
    code: "irqchip-off-deprecated",
    severity: "warning",
    summary: "irqchip: off (userspace LAPIC) is deprecated for KVM by QEMU.",
    check: (r) =>
      r.domain.accel === "kvm" && r.domain.irqchip === "off"
        ? [
            {
              path: "irqchip",
              message: 'QEMU warns "Userspace local APIC is deprecated for KVM"; irqchip off also removes kvm-pv-unhalt and x2apic',
            },
          ]
        : [],
  },
];
