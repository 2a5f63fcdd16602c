/**
 * The PV feature catalog: one row per knob, the single source of truth that drives
 * spec validation, resolution, rendering, docs and (later) the Pulumi schema.
 *
 * Facts come from ../shared/reference (QEMU 10.2, Linux 6.18, libvirt sources) and
 * from experiments on QEMU 7.2 / libvirt 9.0 recorded in docs/research/. Every
 * `qemuSince` below 2.0 means "before any QEMU this tool targets" (those first
 * releases are not pinned); each row's `evidence` says how its values were found.
 */

/** How QEMU implements the knob. */
export type FeatureKind =
  /** a bit of CPUID 0x40000001 EAX (FEAT_KVM): zeroed under TCG and when KVM is hidden, passed through by host/max */
  | "kvm-bit"
  /** a bit of CPUID 0x40000001 EDX (FEAT_KVM_HINTS): never passed through, filtered under TCG */
  | "hint-bit"
  /** a plain boolean X86CPU property (no CPUID bit) */
  | "cpu-property"
  /** the KVM signature leaves (property `kvm`, false = hidden) */
  | "signature";

/** What libvirt does with its element for one property value. */
export type LibvirtEffect =
  /** libvirt puts `<qemu name>=<value>` on -cpu */
  | "emits"
  /** libvirt keeps the element but emits nothing: the value only holds when it is QEMU's own */
  | "noop";

/** The dedicated libvirt element that controls a feature, if any. */
export interface LibvirtControl {
  /** ancestors below <domain>, e.g. ["features", "kvm"] */
  parent: readonly string[];
  element: string;
  /** identifying attributes of the element, e.g. { name: "kvmclock" } for a <timer> */
  match?: Readonly<Record<string, string>>;
  attr: string;
  /** attribute value written for the QEMU property being true / false */
  values: { readonly true: string; readonly false: string };
  effect: { readonly true: LibvirtEffect; readonly false: LibvirtEffect };
  /** first libvirt release with the element */
  since: string;
  /** how we know */
  evidence: string;
}

/** Every spec key (the `paravirt` map's keys), as a type: a misspelt key fails to compile. */
export const SPEC_KEY_NAMES = [
  "kvmclock",
  "nopiodelay",
  "mmu",
  "asyncpf",
  "stealTime",
  "pvEoi",
  "pvUnhalt",
  "pvTlbFlush",
  "asyncpfVmexit",
  "pvIpi",
  "pollControl",
  "pvSchedYield",
  "asyncpfInt",
  "msiExtDestId",
  "kvmclockStableBit",
  "hintDedicated",
  "pvEnforceCpuid",
  "hidden",
] as const;
export type SpecKey = (typeof SPEC_KEY_NAMES)[number];

export interface FeatureRow {
  /** key in the spec's `paravirt` map */
  readonly specKey: SpecKey;
  /** true when the spec value is the negation of the QEMU property (hidden = !kvm) */
  readonly specInverted: boolean;
  /** QOM property name on the x86 CPU */
  readonly qemu: string;
  /** other accepted QEMU spellings */
  readonly aliases: readonly string[];
  readonly kind: FeatureKind;
  readonly cpuid: { readonly leaf: "0x40000001"; readonly register: "EAX" | "EDX"; readonly bits: readonly number[] } | null;
  readonly kvmConstants: readonly string[];
  /** first QEMU release with the property */
  readonly qemuSince: string;
  /** minimum host kernel whose KVM offers it (null: not a kernel feature) */
  readonly hostKernelMin: string | null;
  /** minimum guest kernel that uses it */
  readonly guestKernelMin: string | null;
  /** last guest kernel series that uses it, for removed features */
  readonly guestKernelMax?: string;
  /** deprecation note, null if current */
  readonly deprecated: string | null;
  /** on by default for named CPU models under KVM (QEMU kvm_default_props) */
  readonly namedModelDefault: boolean;
  /** turned on by -cpu host / max when the host supports it */
  readonly passthrough: boolean;
  /** KVM_GET_SUPPORTED_CPUID reports it (from hostKernelMin on); false for bits QEMU adds itself or KVM never reports */
  readonly reportedByKvm: boolean;
  readonly libvirt: LibvirtControl | null;
  readonly description: string;
  readonly evidence: readonly string[];
}

const KVM_LEAF = "0x40000001" as const;

function eax(...bits: number[]) {
  return { leaf: KVM_LEAF, register: "EAX" as const, bits };
}

/** The catalog, in CPUID bit order, then the non-bit knobs. */
export const FEATURES: readonly FeatureRow[] = [
  {
    specKey: "kvmclock",
    specInverted: false,
    qemu: "kvmclock",
    aliases: [],
    kind: "kvm-bit",
    cpuid: eax(0, 3),
    kvmConstants: ["KVM_FEATURE_CLOCKSOURCE", "KVM_FEATURE_CLOCKSOURCE2"],
    qemuSince: "1.0",
    hostKernelMin: "2.6.26",
    guestKernelMin: "2.6.26",
    deprecated: null,
    namedModelDefault: true,
    passthrough: true,
    reportedByKvm: true,
    libvirt: {
      parent: ["clock"],
      element: "timer",
      match: { name: "kvmclock" },
      attr: "present",
      values: { true: "yes", false: "no" },
      effect: { true: "emits", false: "emits" },
      since: "0.8.0",
      evidence:
        "<timer> since libvirt 0.8.0 (formatdomain.rst; kvmclock has no separate since note); qemu_command.c qemuBuildCpuCommandLine: kvmclock=on|off; observed libvirt 9.0 emits kvmclock=on/off",
    },
    description: "KVM paravirtual clock (one property for CPUID bits 0 and 3): a stable guest clocksource.",
    evidence: ["QEMU cpu.c feature_word_info[FEAT_KVM] bits 0 and 3 share the name", "kvm-cpu.c kvm_default_props"],
  },
  {
    specKey: "nopiodelay",
    specInverted: false,
    qemu: "kvm-nopiodelay",
    aliases: ["kvm_nopiodelay"],
    kind: "kvm-bit",
    cpuid: eax(1),
    kvmConstants: ["KVM_FEATURE_NOP_IO_DELAY"],
    qemuSince: "1.0",
    hostKernelMin: "2.6.26",
    guestKernelMin: "2.6.26",
    deprecated: null,
    namedModelDefault: true,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "The guest skips I/O port delays (no port 0x80 writes).",
    evidence: ["kvm_default_props", "Linux kvm.c paravirt_ops_setup"],
  },
  {
    specKey: "mmu",
    specInverted: false,
    qemu: "kvm-mmu",
    aliases: ["kvm_mmu"],
    kind: "kvm-bit",
    cpuid: eax(2),
    kvmConstants: ["KVM_FEATURE_MMU_OP"],
    qemuSince: "1.0",
    hostKernelMin: "2.6.26",
    guestKernelMin: "2.6.26",
    guestKernelMax: "3.1",
    deprecated: "The PV MMU hypercall was removed from Linux in 3.2-3.5 and KVM never reports the bit, so QEMU always drops it.",
    namedModelDefault: false,
    passthrough: true,
    reportedByKvm: false,
    libvirt: null,
    description: "Paravirtual MMU operations (removed from Linux; never supported by KVM's GET_SUPPORTED_CPUID).",
    evidence: ["observed QEMU 7.2: kvm-mmu=on dropped with 'host doesn't support requested feature'"],
  },
  {
    specKey: "asyncpf",
    specInverted: false,
    qemu: "kvm-asyncpf",
    aliases: ["kvm_asyncpf"],
    kind: "kvm-bit",
    cpuid: eax(4),
    kvmConstants: ["KVM_FEATURE_ASYNC_PF"],
    qemuSince: "1.0",
    hostKernelMin: "2.6.38",
    guestKernelMin: "2.6.38",
    deprecated: "Legacy #PF delivery does nothing on hosts >= 5.8 and guests >= 5.9 ignore it without kvm-asyncpf-int.",
    namedModelDefault: true,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "Asynchronous page faults, legacy delivery: the guest can run other tasks while the host swaps a page in.",
    evidence: ["kvm_default_props", "Linux x86.c kvm_pv_async_pf_enabled requires DELIVERY_AS_INT since 5.8"],
  },
  {
    specKey: "stealTime",
    specInverted: false,
    qemu: "kvm-steal-time",
    aliases: ["kvm_steal_time"],
    kind: "kvm-bit",
    cpuid: eax(5),
    kvmConstants: ["KVM_FEATURE_STEAL_TIME"],
    qemuSince: "1.1",
    hostKernelMin: "3.1",
    guestKernelMin: "3.1",
    deprecated: null,
    namedModelDefault: true,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "Steal-time accounting; the guest also needs it before it uses PV TLB flush or PV sched yield.",
    evidence: ["kvm_default_props", "Linux kvm.c pv_tlb_flush_supported / pv_sched_yield_supported"],
  },
  {
    specKey: "pvEoi",
    specInverted: false,
    qemu: "kvm-pv-eoi",
    aliases: ["kvm_pv_eoi"],
    kind: "kvm-bit",
    cpuid: eax(6),
    kvmConstants: ["KVM_FEATURE_PV_EOI"],
    qemuSince: "1.3",
    hostKernelMin: "3.6",
    guestKernelMin: "3.6",
    deprecated: null,
    namedModelDefault: true,
    passthrough: true,
    reportedByKvm: true,
    libvirt: {
      parent: ["features"],
      element: "apic",
      attr: "eoi",
      values: { true: "on", false: "off" },
      effect: { true: "emits", false: "emits" },
      since: "0.10.2",
      evidence: "formatdomain.rst 'Since 0.10.2'; observed libvirt 9.0 emits kvm-pv-eoi=on/off",
    },
    description: "Paravirtual end-of-interrupt: fewer VM exits on interrupt completion.",
    evidence: ["kvm_default_props", "Linux 3.6 first has PV_EOI (QEMU's doc says 3.10: wrong)"],
  },
  {
    specKey: "pvUnhalt",
    specInverted: false,
    qemu: "kvm-pv-unhalt",
    aliases: ["kvm_pv_unhalt"],
    kind: "kvm-bit",
    cpuid: eax(7),
    kvmConstants: ["KVM_FEATURE_PV_UNHALT"],
    qemuSince: "1.7",
    hostKernelMin: "3.12",
    guestKernelMin: "3.12",
    deprecated: null,
    namedModelDefault: false,
    passthrough: true,
    reportedByKvm: true,
    libvirt: {
      parent: ["features"],
      element: "pvspinlock",
      attr: "state",
      values: { true: "on", false: "off" },
      effect: { true: "emits", false: "emits" },
      since: "1.2.0",
      evidence:
        "libvirt news 1.2.0: paravirtual spinlocks; observed libvirt 9.0 emits kvm-pv-unhalt=on/off and refuses to start with state='on' when QEMU dropped it",
    },
    description: "PV spinlocks: a waiting vCPU halts and is kicked instead of spinning. Needs the in-kernel irqchip.",
    evidence: ["QEMU kvm.c kvm_arch_get_supported_cpuid removes PV_UNHALT without in-kernel irqchip", "observed QEMU 7.2"],
  },
  {
    specKey: "pvTlbFlush",
    specInverted: false,
    qemu: "kvm-pv-tlb-flush",
    aliases: [],
    kind: "kvm-bit",
    cpuid: eax(9),
    kvmConstants: ["KVM_FEATURE_PV_TLB_FLUSH"],
    qemuSince: "2.11",
    hostKernelMin: "4.16",
    guestKernelMin: "4.16",
    deprecated: null,
    namedModelDefault: false,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "PV remote TLB flush: preempted vCPUs are flushed lazily instead of by IPI.",
    evidence: [
      "libvirt caps_2.10.0 (QEMU v2.10.0) lacks the property, caps_2.11.0 (v2.11.0) has it (docs/research/confirmed-facts.md)",
      "Linux kvm.c pv_tlb_flush_supported",
      "observed libvirt 9.0: <cpu><feature name='kvm_pv_tlb_flush'> rejected",
    ],
  },
  {
    specKey: "asyncpfVmexit",
    specInverted: false,
    qemu: "kvm-asyncpf-vmexit",
    aliases: [],
    kind: "kvm-bit",
    cpuid: eax(10),
    kvmConstants: ["KVM_FEATURE_ASYNC_PF_VMEXIT"],
    qemuSince: "9.0",
    hostKernelMin: "4.14",
    guestKernelMin: "4.14",
    deprecated: null,
    namedModelDefault: false,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "Async page faults delivered as #PF vmexits to a nested hypervisor.",
    evidence: ["observed QEMU 7.2: property not found", "pull 2024-02-20 (QEMU 9.0)"],
  },
  {
    specKey: "pvIpi",
    specInverted: false,
    qemu: "kvm-pv-ipi",
    aliases: [],
    kind: "kvm-bit",
    cpuid: eax(11),
    kvmConstants: ["KVM_FEATURE_PV_SEND_IPI"],
    qemuSince: "3.1",
    hostKernelMin: "4.19",
    guestKernelMin: "4.19",
    deprecated: null,
    namedModelDefault: false,
    passthrough: true,
    reportedByKvm: true,
    libvirt: {
      parent: ["features", "kvm"],
      element: "pv-ipi",
      attr: "state",
      values: { true: "on", false: "off" },
      effect: { true: "noop", false: "emits" },
      since: "7.10.0",
      evidence: "qemu_command.c emits kvm-pv-ipi only for OFF; observed libvirt 9.0: state='on' leaves the vCPU without pv-ipi",
    },
    description: "PV send-IPI hypercall: one exit for an IPI to many vCPUs.",
    evidence: ["Linux kvm.c pv_ipi_supported"],
  },
  {
    specKey: "pollControl",
    specInverted: false,
    qemu: "kvm-poll-control",
    aliases: ["kvm_poll_control"],
    kind: "kvm-bit",
    cpuid: eax(12),
    kvmConstants: ["KVM_FEATURE_POLL_CONTROL"],
    qemuSince: "4.2",
    hostKernelMin: "5.3",
    guestKernelMin: "5.7",
    deprecated: null,
    namedModelDefault: false,
    passthrough: true,
    reportedByKvm: true,
    libvirt: {
      parent: ["features", "kvm"],
      element: "poll-control",
      attr: "state",
      values: { true: "on", false: "off" },
      effect: { true: "emits", false: "noop" },
      since: "6.10.0",
      evidence: "qemu_command.c emits kvm-poll-control=on only; observed libvirt 9.0",
    },
    description: "The guest's haltpoll cpuidle driver can turn off host-side halt polling.",
    evidence: ["Linux cpuidle-haltpoll.c loads only with KVM_HINTS_REALTIME or force"],
  },
  {
    specKey: "pvSchedYield",
    specInverted: false,
    qemu: "kvm-pv-sched-yield",
    aliases: [],
    kind: "kvm-bit",
    cpuid: eax(13),
    kvmConstants: ["KVM_FEATURE_PV_SCHED_YIELD"],
    qemuSince: "4.2",
    hostKernelMin: "5.3",
    guestKernelMin: "5.3",
    deprecated: null,
    namedModelDefault: false,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "PV sched yield: a vCPU sending an IPI to a preempted vCPU yields to it.",
    evidence: ["Linux kvm.c pv_sched_yield_supported"],
  },
  {
    specKey: "asyncpfInt",
    specInverted: false,
    qemu: "kvm-asyncpf-int",
    aliases: ["kvm_asyncpf_int"],
    kind: "kvm-bit",
    cpuid: eax(14),
    kvmConstants: ["KVM_FEATURE_ASYNC_PF_INT"],
    qemuSince: "5.2",
    hostKernelMin: "5.8",
    guestKernelMin: "5.9",
    deprecated: null,
    namedModelDefault: false,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "Async page faults delivered as interrupts: the only async PF modern hosts and guests use.",
    evidence: ["QEMU 5.2 ChangeLog", "observed QEMU 7.2: kvm-asyncpf-int=on with kernel-irqchip=off aborts: failed to set MSR 0x4b564d06"],
  },
  {
    specKey: "msiExtDestId",
    specInverted: false,
    qemu: "kvm-msi-ext-dest-id",
    aliases: [],
    kind: "kvm-bit",
    cpuid: eax(15),
    kvmConstants: ["KVM_FEATURE_MSI_EXT_DEST_ID"],
    qemuSince: "6.0",
    hostKernelMin: null,
    guestKernelMin: "5.10",
    deprecated: null,
    namedModelDefault: false,
    passthrough: true,
    reportedByKvm: false,
    libvirt: null,
    description: "Extended MSI destination ID: >255 vCPUs in x2APIC mode without an IOMMU. QEMU offers it only with the split irqchip.",
    evidence: [
      "QEMU kvm.c adds the bit to the supported set only when kvm_irqchip_is_split()",
      "pc_compat_5_1 forces it off",
      "libvirt caps_5.2.0 (QEMU v5.2.0) lacks the property, caps_6.0.0 has it (docs/research/confirmed-facts.md)",
      "observed QEMU 7.2",
    ],
  },
  {
    specKey: "kvmclockStableBit",
    specInverted: false,
    qemu: "kvmclock-stable-bit",
    aliases: [],
    kind: "kvm-bit",
    cpuid: eax(24),
    kvmConstants: ["KVM_FEATURE_CLOCKSOURCE_STABLE_BIT"],
    qemuSince: "2.3",
    hostKernelMin: "2.6.35",
    guestKernelMin: "2.6.35",
    deprecated: null,
    namedModelDefault: true,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "Tells the guest the kvmclock is stable across vCPUs; meaningless without kvmclock.",
    evidence: [
      "named property absent from a 2.1-era cpu.c, present in 2.3.0 (bit on by default earlier, unnamed): 2.2 or 2.3, we take 2.3",
      "kvm_default_props",
      "observed QEMU 7.2: kvmclock=off leaves kvmclock-stable-bit on",
    ],
  },
  {
    specKey: "hintDedicated",
    specInverted: false,
    qemu: "kvm-hint-dedicated",
    aliases: [],
    kind: "hint-bit",
    cpuid: { leaf: KVM_LEAF, register: "EDX", bits: [0] },
    kvmConstants: ["KVM_HINTS_REALTIME"],
    qemuSince: "2.12",
    hostKernelMin: null,
    guestKernelMin: "4.17",
    deprecated: null,
    namedModelDefault: false,
    passthrough: false,
    reportedByKvm: false,
    libvirt: {
      parent: ["features", "kvm"],
      element: "hint-dedicated",
      attr: "state",
      values: { true: "on", false: "off" },
      effect: { true: "emits", false: "noop" },
      since: "5.7.0",
      evidence: "qemu_command.c emits kvm-hint-dedicated=on only; observed libvirt 9.0",
    },
    description:
      "Hint that each vCPU has a dedicated physical CPU: the guest stops PV spinlocks, TLB flush and sched yield and may load haltpoll.",
    evidence: ["QEMU: FEAT_KVM_HINTS no_autoenable_flags = ~0; under KVM always supported"],
  },
  {
    specKey: "pvEnforceCpuid",
    specInverted: false,
    qemu: "kvm-pv-enforce-cpuid",
    aliases: [],
    kind: "cpu-property",
    cpuid: null,
    kvmConstants: ["KVM_CAP_ENFORCE_PV_FEATURE_CPUID"],
    qemuSince: "6.2",
    hostKernelMin: "5.10",
    guestKernelMin: null,
    deprecated: null,
    namedModelDefault: false,
    passthrough: false,
    reportedByKvm: false,
    libvirt: null,
    description:
      "KVM refuses PV MSRs and hypercalls whose CPUID bit the guest was not given. QEMU aborts if the host lacks the capability.",
    evidence: ["QEMU kvm.c kvm_arch_init_vcpu aborts when KVM_CAP_ENFORCE_PV_FEATURE_CPUID fails"],
  },
  {
    specKey: "hidden",
    specInverted: true,
    qemu: "kvm",
    aliases: [],
    kind: "signature",
    cpuid: null,
    kvmConstants: ["KVM_CPUID_SIGNATURE"],
    qemuSince: "2.1",
    hostKernelMin: null,
    guestKernelMin: null,
    deprecated: null,
    namedModelDefault: true,
    passthrough: false,
    reportedByKvm: false,
    libvirt: {
      parent: ["features", "kvm"],
      element: "hidden",
      attr: "state",
      values: { true: "off", false: "on" },
      effect: { true: "noop", false: "emits" },
      since: "1.2.8",
      evidence: "qemu_command.c: HIDDEN==ON -> kvm=off",
    },
    description: "The KVM CPUID signature; hidden (kvm=off) removes the KVM leaves and with them every PV feature.",
    evidence: ["QEMU cpu.c x86_cpu_expand_features zeroes FEAT_KVM when !expose_kvm", "observed QEMU 7.2"],
  },
];

export const FEATURE_BY_SPEC_KEY: ReadonlyMap<string, FeatureRow> = new Map(FEATURES.map((f) => [f.specKey, f]));
export const FEATURE_BY_QEMU_NAME: ReadonlyMap<string, FeatureRow> = new Map(
  FEATURES.flatMap((f) => [[f.qemu, f] as const, ...f.aliases.map((a) => [a, f] as const)]),
);
export const SPEC_KEYS: readonly string[] = FEATURES.map((f) => f.specKey);

export function featureByKey(key: SpecKey): FeatureRow {
  const f = FEATURE_BY_SPEC_KEY.get(key);
  if (!f) throw new Error(`no catalog row for ${key}`);
  return f;
}

/** The spec value (on/off as the user writes it) for a QEMU property value. */
export function specValue(f: FeatureRow, propertyValue: boolean): boolean {
  return f.specInverted ? !propertyValue : propertyValue;
}
