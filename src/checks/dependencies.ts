import { droppedBy, explicitOn, fpath, kvmVisible, on, res, visible, type Rule } from "./rule";

/** How PV features depend on each other and on irqchip, the KVM signature, the accelerator and the machine type. */
export const DEPENDENCY_RULES: readonly Rule[] = [
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
    code: "asyncpf-int-needs-kernel-irqchip",
    severity: "error",
    summary: "kvm-asyncpf-int with irqchip: off makes QEMU abort at start (failed to set MSR 0x4b564d06).",
    // no accelerator test: under TCG every PV bit is off, so on() is false there
    check: (r) =>
      r.domain.irqchip === "off" && on(r, "asyncpfInt")
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
      return r.domain.irqchip === "split" && r.machine.compat.has("kvm-msi-ext-dest-id") && m && m.requested === undefined && kvmVisible(r)
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
    code: "irqchip-ignored-under-tcg",
    severity: "warning",
    summary: "irqchip split/off has no meaning under TCG and is not rendered.",
    check: (r) =>
      r.domain.accel === "tcg" && r.domain.irqchip !== "kernel"
        ? [{ path: "irqchip", message: `irqchip ${r.domain.irqchip} applies only to KVM; it is ignored (not rendered) for accel tcg` }]
        : [],
  },
];
