import { featureByKey, type FeatureRow, type SpecKey } from "../catalog/features";
import type { Diagnostic, Severity } from "../diagnostics";
import { needsCustomArgv, type Planned } from "../libvirt/plan";
import { atLeast } from "../util/version";
import type { FeatureResolution } from "../resolve/resolve";

/**
 * Dependency and sanity rules, as data: a stable code, a severity, a one-line
 * summary (docs, policy config) and a check over the resolution. Paths are
 * relative to the domain (the caller prefixes domains[i]).
 */

export interface Finding {
  path: string;
  message: string;
}

export interface RuleEnv {
  enforceCpuid: boolean;
  hadProfile: boolean;
}

export interface Rule {
  code: string;
  severity: Severity;
  summary: string;
  check(r: Planned, env: RuleEnv): Finding[];
}

const fpath = (f: FeatureRow) => `paravirt.${f.specKey}`;
const res = (r: Planned, key: SpecKey): FeatureResolution | undefined => r.features.get(featureByKey(key).qemu);
const on = (r: Planned, key: SpecKey) => res(r, key)?.enabled === true;
const explicitOn = (r: Planned, key: SpecKey) => res(r, key)?.requested === true;
const visible = (r: Planned, key: SpecKey) => res(r, key)?.guestVisible === true;
const kvmVisible = (r: Planned) => r.domain.accel === "kvm" && res(r, "hidden")?.enabled !== false;

function droppedBy(r: Planned, ...causes: string[]): FeatureResolution[] {
  return [...r.features.values()].filter((x) => x.requested === true && x.dropCause !== undefined && causes.includes(x.dropCause));
}

export const RULES: readonly Rule[] = [
  {
    code: "host-qemu-too-old",
    severity: "error",
    summary: "A feature is set that the host's QEMU does not have: QEMU refuses to start (property not found).",
    check: (r) =>
      r.missingInQemu.map((f) => ({
        path: fpath(f),
        message: `${f.qemu} needs QEMU ${f.qemuSince} or newer; the host has QEMU ${r.host.qemu}, which refuses to start with "property '${f.qemu}' not found"`,
      })),
  },
  {
    code: "host-kernel-too-old",
    severity: "error",
    summary: "A feature is requested on that the host kernel's KVM does not offer: QEMU drops it.",
    check: (r) =>
      droppedBy(r, "host-kvm").map((x) => ({
        path: fpath(x.feature),
        message: `${x.feature.qemu} is requested on, but ${x.reason.replace(/: dropped with a warning$/, "")}; QEMU would drop it with "host doesn't support requested feature"`,
      })),
  },
  {
    code: "default-dropped-by-host",
    severity: "warning",
    summary: "A feature QEMU turns on by default is not offered by the host: QEMU drops it with a warning.",
    check: (r) =>
      [...r.features.values()]
        .filter((x) => x.requested === undefined && x.dropCause === "host-kvm")
        .map((x) => ({ path: fpath(x.feature), message: `${x.feature.qemu} is on by default but ${x.reason}` })),
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
    code: "msi-ext-dest-id-needs-split-irqchip",
    severity: "error",
    summary: "kvm-msi-ext-dest-id requested without irqchip: split: QEMU drops it.",
    check: (r) =>
      droppedBy(r, "needs-split-irqchip").map((x) => ({
        path: fpath(x.feature),
        message: `kvm-msi-ext-dest-id needs irqchip: split (libvirt <ioapic driver='qemu'/>); with irqchip ${r.domain.irqchip} QEMU drops it`,
      })),
  },
  {
    code: "pv-unhalt-needs-kernel-irqchip",
    severity: "error",
    summary: "kvm-pv-unhalt requested with irqchip: off: QEMU drops it.",
    check: (r) =>
      droppedBy(r, "needs-kernel-irqchip").map((x) => ({
        path: fpath(x.feature),
        message: "kvm-pv-unhalt needs an in-kernel irqchip (kernel or split); with irqchip off QEMU drops it",
      })),
  },
  {
    code: "libvirt-refuses-pvspinlock",
    severity: "error",
    summary: "kvm-pv-unhalt requested but dropped under KVM: libvirt refuses to start the domain.",
    check: (r) => {
      const x = res(r, "pvUnhalt");
      return r.domain.accel === "kvm" && x?.requested === true && !x.enabled
        ? [
            {
              path: "paravirt.pvUnhalt",
              message: `libvirt refuses to start the domain ("host doesn't support paravirtual spinlocks"): <pvspinlock state='on'/> is set but ${x.reason.replace(/^requested, but /, "")}`,
            },
          ]
        : [];
    },
  },
  {
    code: "asyncpf-int-needs-kernel-irqchip",
    severity: "error",
    summary: "kvm-asyncpf-int with irqchip: off makes QEMU abort at start (failed to set MSR 0x4b564d06).",
    check: (r) =>
      r.domain.accel === "kvm" && r.domain.irqchip === "off" && on(r, "asyncpfInt")
        ? [
            {
              path: explicitOn(r, "asyncpfInt") ? "paravirt.asyncpfInt" : "irqchip",
              message: `kvm-asyncpf-int is on${explicitOn(r, "asyncpfInt") ? "" : " (host passthrough)"} with irqchip off: KVM rejects MSR 0x4b564d06 without an in-kernel LAPIC and QEMU aborts at start. Set paravirt.asyncpfInt: false or use an in-kernel irqchip`,
            },
          ]
        : [],
  },
  {
    code: "pv-features-while-hidden",
    severity: "error",
    summary: "PV features requested while the KVM signature is hidden: QEMU clears them all.",
    check: (r) =>
      droppedBy(r, "hidden").map((x) => ({
        path: fpath(x.feature),
        message: `${x.feature.qemu} is requested on but hidden: true clears every KVM PV bit; remove one of the two`,
      })),
  },
  {
    code: "hint-while-hidden",
    severity: "warning",
    summary: "kvm-hint-dedicated set while the KVM signature is hidden: the guest cannot see it.",
    check: (r) =>
      r.domain.accel === "kvm" && res(r, "hidden")?.enabled === false && explicitOn(r, "hintDedicated")
        ? [
            {
              path: "paravirt.hintDedicated",
              message: "kvm-hint-dedicated is set but hidden: true removes the KVM leaves, so the guest never sees the hint",
            },
          ]
        : [],
  },
  {
    code: "pv-features-under-tcg",
    severity: "error",
    summary: "PV features requested under accel tcg: TCG has none, QEMU clears or drops them.",
    check: (r) =>
      droppedBy(r, "tcg").map((x) => ({
        path: fpath(x.feature),
        message: `${x.feature.qemu} is requested on but accel is tcg, which has no KVM PV features`,
      })),
  },
  {
    code: "pv-enforce-cpuid-unsupported",
    severity: "error",
    summary: "kvm-pv-enforce-cpuid on a host without KVM_CAP_ENFORCE_PV_FEATURE_CPUID: QEMU aborts.",
    check: (r, env) =>
      r.domain.accel === "kvm" && explicitOn(r, "pvEnforceCpuid") && !env.enforceCpuid
        ? [
            {
              path: "paravirt.pvEnforceCpuid",
              message: `the host${r.host.kernel ? ` (kernel ${r.host.kernel})` : ""} lacks KVM_CAP_ENFORCE_PV_FEATURE_CPUID (Linux 5.10+): QEMU aborts with "failed to enable KVM_CAP_ENFORCE_PV_FEATURE_CPUID"`,
            },
          ]
        : [],
  },
  {
    code: "enforce-cpuid-asyncpf-int-without-asyncpf",
    severity: "warning",
    summary: "With kvm-pv-enforce-cpuid, kvm-asyncpf-int without kvm-asyncpf makes the guest's MSR_KVM_ASYNC_PF_EN write fault.",
    check: (r) =>
      on(r, "pvEnforceCpuid") && visible(r, "asyncpfInt") && !on(r, "asyncpf")
        ? [
            {
              path: "paravirt.asyncpf",
              message:
                "kvm-pv-enforce-cpuid is on and kvm-asyncpf-int is on without kvm-asyncpf: a Linux guest writes MSR_KVM_ASYNC_PF_EN, which KVM then refuses (Linux kvm.c kvm_guest_cpu_init, x86.c guest_pv_has)",
            },
          ]
        : [],
  },
  {
    code: "kvmclock-stable-bit-without-kvmclock",
    severity: "warning",
    summary: "kvmclock-stable-bit is on while kvmclock is off: the bit means nothing (QEMU does not tie them).",
    check: (r) =>
      visible(r, "kvmclockStableBit") && !on(r, "kvmclock")
        ? [
            {
              path: "paravirt.kvmclockStableBit",
              message:
                "kvmclock-stable-bit is on but kvmclock is off: the guest only reads the stable bit when it uses kvmclock. Set kvmclockStableBit: false too",
            },
          ]
        : [],
  },
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
    check: (r) =>
      !explicitOn(r, "asyncpf") &&
      visible(r, "asyncpf") &&
      res(r, "asyncpfInt") !== undefined &&
      !on(r, "asyncpfInt") &&
      atLeast(r.host.kernel, "5.8")
        ? [
            {
              path: "paravirt.asyncpfInt",
              message:
                "async page faults are effectively off: kvm-asyncpf (default on) is ignored by hosts since 5.8 without kvm-asyncpf-int (off for named models)",
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
    code: "msi-ext-dest-id-without-x2apic",
    severity: "warning",
    summary: "kvm-msi-ext-dest-id on while x2apic is off: the guest uses it only in x2APIC mode.",
    check: (r) =>
      visible(r, "msiExtDestId") && !r.x2apic.enabled
        ? [
            {
              path: "x2apic",
              message: "kvm-msi-ext-dest-id is on but x2apic is off: the guest uses extended destination IDs only in x2APIC mode",
            },
          ]
        : [],
  },
  {
    code: "msi-ext-dest-id-machine-compat",
    severity: "info",
    summary: "Split irqchip on a 5.1-or-older machine type: kvm-msi-ext-dest-id stays off.",
    check: (r) => {
      const m = res(r, "msiExtDestId");
      return r.domain.irqchip === "split" && r.machine.compat51 && m && m.requested === undefined && kvmVisible(r)
        ? [
            {
              path: "machine",
              message: `${r.machine.resolved} keeps kvm-msi-ext-dest-id off even with irqchip: split (pc_compat_5_1); set paravirt.msiExtDestId: true to get it`,
            },
          ]
        : [];
    },
  },
  {
    code: "x2apic-needs-irqchip",
    severity: "error",
    summary: "x2apic requested with irqchip: off: QEMU drops it (the userspace APIC has no x2APIC).",
    check: (r) =>
      r.x2apic.dropped && r.domain.accel === "kvm"
        ? [{ path: "x2apic", message: "x2apic: true needs an in-kernel irqchip; with irqchip off QEMU drops it with a warning" }]
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
  {
    code: "irqchip-ignored-under-tcg",
    severity: "warning",
    summary: "irqchip split/off has no meaning under TCG and is not rendered.",
    check: (r) =>
      r.domain.accel === "tcg" && r.domain.irqchip !== "kernel"
        ? [{ path: "irqchip", message: `irqchip ${r.domain.irqchip} applies only to KVM; it is ignored (not rendered) for accel tcg` }]
        : [],
  },
  {
    code: "host-passthrough-needs-kvm",
    severity: "error",
    summary: "cpu.mode host-passthrough needs accel kvm.",
    check: (r) =>
      r.domain.accel === "tcg" && r.domain.cpu.mode === "host-passthrough"
        ? [
            {
              path: "cpu.mode",
              message: "host-passthrough (-cpu host) needs the KVM accelerator; use mode maximum or a named model with accel tcg",
            },
          ]
        : [],
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
            (x.feature.guestKernelMax !== undefined && atLeast(gk, `${x.feature.guestKernelMax}.999`)),
        )
        .map((x) => ({
          path: fpath(x.feature),
          message: !atLeast(gk, x.feature.guestKernelMin)
            ? `${x.feature.qemu} is on but the guest kernel ${gk} is older than ${x.feature.guestKernelMin}, the first to use it`
            : `${x.feature.qemu} is on but guest kernels after ${x.feature.guestKernelMax} no longer use it (guest: ${gk})`,
        }));
    },
  },
  {
    code: "machine-unknown-to-host",
    severity: "error",
    summary: "The machine type does not exist in the host's QEMU.",
    check: (r) => (r.machine.problem ? [{ path: "machine", message: r.machine.problem }] : []),
  },
  {
    code: "kvm-unavailable",
    severity: "error",
    summary: "accel kvm on a host profile without usable /dev/kvm.",
    check: (r) =>
      r.domain.accel === "kvm" && r.host.kvm?.available === false
        ? [{ path: "accel", message: "the host profile says /dev/kvm is not usable: accel kvm cannot start there" }]
        : [],
  },
  {
    code: "libvirt-custom-argv",
    severity: "warning",
    summary:
      "Some settings have no working libvirt element and go through <qemu:commandline>: libvirt marks the domain tainted (custom-argv).",
    check: (r) => {
      const plan = r.libvirt;
      if (!needsCustomArgv(plan)) return [];
      const parts = [
        ...plan.globals.map(
          (g) =>
            `${g.feature.qemu}=${g.value ? "on" : "off"} (${g.why === "no-element" ? "libvirt has no element" : g.why === "element-is-noop" ? `libvirt's <${g.feature.libvirt?.element}> emits nothing for this value` : `libvirt ${r.host.libvirt} predates <${g.feature.libvirt?.element}> (${g.feature.libvirt?.since})`})`,
        ),
        ...plan.machineOptions.map((m) => `-machine ${m} (libvirt cannot express it)`),
      ];
      return [
        {
          path: "paravirt",
          message: `set through <qemu:commandline>, so libvirt marks the domain tainted (custom-argv): ${parts.join("; ")}`,
        },
      ];
    },
  },
  {
    code: "machine-alias-resolved",
    severity: "info",
    summary: "An unversioned machine type is resolved to the host QEMU's versioned type.",
    check: (r) =>
      r.machine.requested !== r.machine.resolved
        ? [
            {
              path: "machine",
              message: `${r.machine.requested} is ${r.machine.resolved} on QEMU ${r.host.qemu}${r.host.source === "assumed" ? " (assumed host)" : ""}`,
            },
          ]
        : [],
  },
  {
    code: "host-model-qemu-args",
    severity: "info",
    summary: "host-model is expanded by libvirt at start; the QEMU args use a named model with the same PV defaults.",
    check: (r) =>
      r.domain.cpu.mode === "host-model"
        ? [
            {
              path: "cpu.mode",
              message: `libvirt turns host-model into the host's named model at start; the QEMU args use ${r.qemuModel}${r.host.hostModel ? " (from the host profile)" : " (no host profile)"}, which has the same PV defaults`,
            },
          ]
        : [],
  },
  {
    code: "host-profile-assumed",
    severity: "info",
    summary: "No host profile was given: a current host is assumed.",
    check: (r, env) =>
      !env.hadProfile && r.host.source === "assumed"
        ? [{ path: "host", message: `${r.host.description}; pass --host with the JSON of \`kvm-paravirt probe\` for the real host` }]
        : [],
  },
];

export const RULE_BY_CODE: ReadonlyMap<string, Rule> = new Map(RULES.map((r) => [r.code, r]));

export function runRules(r: Planned, env: RuleEnv): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const rule of RULES)
    for (const f of rule.check(r, env)) out.push({ severity: rule.severity, code: rule.code, message: f.message, path: f.path });
  return out;
}
