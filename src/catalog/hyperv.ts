/**
 * The Hyper-V enlightenment catalog: one row per `hv-*` flag of QEMU's x86 CPU, the single
 * source of truth for the spec's `hyperv` map, the resolver, the rules, the renderers and the
 * docs, as src/catalog/features.ts is for the KVM PV features.
 *
 * Facts: ../shared/reference/hyperv.md (QEMU 7.2 and 10.2 sources, Linux 6.18, libvirt 9.0,
 * 10.7 and upstream, each with its file and line) and what QEMU 7.2.22 did on a host whose KVM
 * has no Hyper-V (test/fixtures/hyperv-observed, measured at the guest's CPUID;
 * test/unit/hyperv-catalog.test.ts checks every row's measured behaviour against it).
 */

/** The spec's `hyperv` flag keys, in QEMU's feature order (HYPERV_FEAT_*, target/i386/cpu.h), the order QEMU checks them in. */
// Stryker disable all: the catalog table is data read once at module load; pinned by hyperv-catalog.test (every row against the measured records and QEMU's own table)
export const HYPERV_KEY_NAMES = [
  "relaxed",
  "vapic",
  "time",
  "crash",
  "reset",
  "vpindex",
  "runtime",
  "synic",
  "stimer",
  "frequencies",
  "reenlightenment",
  "tlbflush",
  "evmcs",
  "ipi",
  "stimerDirect",
  "avic",
  "syndbg",
  "emsrBitmap",
  "xmmInput",
  "tlbflushExt",
  "tlbflushDirect",
  "enforceCpuid",
] as const;
// Stryker restore all
export type HypervKey = (typeof HYPERV_KEY_NAMES)[number];

/** Where libvirt expresses a flag, if it does. */
export type HypervLibvirt =
  /** a child of <features><hyperv> (`path` below it; a nested one such as stimer/direct) with state='on|off' */
  | { kind: "hyperv"; path: readonly string[]; since: string }
  /** <clock><timer name='hypervclock' present='yes|no'/> */
  | { kind: "timer"; name: "hypervclock"; since: string }
  /** <devices><panic model='hyperv'/> (present when on) */
  | { kind: "panic"; since: string };

/** What QEMU does with the flag where it cannot give it (measured on QEMU 7.2.22; test/fixtures/hyperv-observed). */
export interface Unsupported {
  /** starts, and the guest gets nothing (QOM still reads true); refused: exits 1; aborts: SIGABRT after a failed MSR write */
  outcome: "starts" | "refused" | "aborts";
  /** QEMU's own words (without the program name) */
  message?: string;
}

export interface HypervRow {
  readonly key: HypervKey;
  /** the QOM property on the x86 CPU */
  readonly qemu: string;
  /** other accepted spellings */
  readonly aliases: readonly string[];
  /** QEMU's name for it in its messages (kvm_hyperv_properties[].desc); null for a property that is no feature bit */
  readonly desc: string | null;
  /** the guest CPUID bits it sets (what the oracle reads at KVM_SET_CPUID2) */
  readonly cpuid: readonly { readonly leaf: string; readonly register: "EAX" | "EBX" | "EDX"; readonly bits: readonly number[] }[];
  /** first QEMU release with the property (the hyphenated spelling) */
  readonly qemuSince: string;
  /** first host kernel whose KVM offers it; null: present in the oldest kernel read (4.0.5), its first release UNCONFIRMED, so no kernel counts as too old */
  readonly hostKernelMin: string | null;
  /** only on Intel hosts with nested VMX (kvm_intel nested=1) */
  readonly intelOnly: boolean;
  /** the flags QEMU refuses it without (kvm_hyperv_properties[].dependencies), in QEMU's order */
  readonly requires: readonly HypervKey[];
  /** on a host whose KVM has no Hyper-V at all (KVM_CAP_HYPERV 0): QEMU checks nothing, the guest gets no Hyper-V leaf */
  readonly withoutHostHyperv: Unsupported;
  /** under TCG (QEMU 7.2; hv-vpindex is accepted from 8.2) */
  readonly underTcg: Unsupported;
  readonly libvirt: HypervLibvirt | null;
  readonly description: string;
  /** where the facts come from (sections of ../shared/reference/hyperv.md and their sources) */
  readonly sources: string;
}

const F3 = "0x40000003";
const F4 = "0x40000004";
const FA = "0x4000000A";
const STARTS: Unsupported = { outcome: "starts" };
const abortsOnMsr = (msr: string, value: string): Unsupported => ({
  outcome: "aborts",
  message: `error: failed to set MSR ${msr} to ${value}`,
});
const VPINDEX_REFUSED: Unsupported = { outcome: "refused", message: "kernel doesn't allow setting HyperV VP_INDEX" };
const hv = (since: string, ...path: string[]) => ({ kind: "hyperv" as const, path, since });

/** The catalog, in QEMU's feature order, then hv-enforce-cpuid. */
// Stryker disable all: the catalog table is data read once at module load; pinned by hyperv-catalog.test (every row against the measured records and QEMU's own table)
export const HYPERV_FEATURES: readonly HypervRow[] = [
  {
    key: "relaxed",
    qemu: "hv-relaxed",
    aliases: ["hv_relaxed"],
    desc: "relaxed timing (hv-relaxed)",
    cpuid: [{ leaf: F4, register: "EAX", bits: [5] }],
    qemuSince: "2.0",
    hostKernelMin: null,
    intelOnly: false,
    requires: [],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("1.0.0", "relaxed"),
    description: "Relaxed timing: Windows disables its watchdog timeouts, which a preempted vCPU would trip (BSOD 0x101).",
    sources: "hyperv.md §1: hv_relaxed since 1.1 (28f52cc04d), hyphen form since 2.0; KVM_CAP_HYPERV present in 4.0.5; §3 <relaxed/> 1.0.0",
  },
  {
    key: "vapic",
    qemu: "hv-vapic",
    aliases: [],
    desc: "virtual APIC (hv-vapic)",
    cpuid: [{ leaf: F3, register: "EAX", bits: [4] }],
    qemuSince: "2.0",
    hostKernelMin: null,
    intelOnly: false,
    requires: [],
    withoutHostHyperv: abortsOnMsr("0x40000073", "0x0"),
    underTcg: STARTS,
    libvirt: hv("1.1.0", "vapic"),
    description: "Virtual APIC MSRs: EOI, ICR and TPR accesses without APIC page emulation.",
    sources: "hyperv.md §1: 1.1 (hyphen form 2.0), MSRs 0x40000070-73; KVM_CAP_HYPERV present in 4.0.5; §3 <vapic/> 1.1.0",
  },
  {
    key: "time",
    qemu: "hv-time",
    aliases: [],
    desc: "clocksources (hv-time)",
    cpuid: [{ leaf: F3, register: "EAX", bits: [1, 9] }],
    qemuSince: "2.0",
    hostKernelMin: null,
    intelOnly: false,
    requires: [],
    withoutHostHyperv: abortsOnMsr("0x40000021", "0x0"),
    underTcg: STARTS,
    libvirt: { kind: "timer", name: "hypervclock", since: "1.2.2" },
    description: "Hyper-V reference counter and TSC page: the clocksource Windows prefers.",
    sources:
      "hyperv.md §1: 2.0 (48a5f3bcbb), KVM_CAP_HYPERV_TIME present in 4.0.5; §3 <timer name='hypervclock'> 1.2.2 (no <hyperv><time>)",
  },
  {
    key: "crash",
    qemu: "hv-crash",
    aliases: [],
    desc: "crash MSRs (hv-crash)",
    cpuid: [{ leaf: F3, register: "EDX", bits: [10] }],
    qemuSince: "2.5",
    hostKernelMin: "4.3",
    intelOnly: false,
    requires: [],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: { kind: "panic", since: "1.3.0" },
    description: "Crash MSRs: the guest reports a crash to the host (a panic event), which stops Windows' own crash dump.",
    sources: "hyperv.md §1: 2.5, 4.3 (absent 4.2.8); §3 <panic model='hyperv'/> 1.3.0; §2 QEMU docs: only if something consumes it",
  },
  {
    key: "reset",
    qemu: "hv-reset",
    aliases: [],
    desc: "reset MSR (hv-reset)",
    cpuid: [{ leaf: F3, register: "EAX", bits: [7] }],
    qemuSince: "2.5",
    hostKernelMin: "4.4",
    intelOnly: false,
    requires: [],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("1.3.3", "reset"),
    description: "Reset MSR: the guest can reset itself through Hyper-V.",
    sources: "hyperv.md §1: 2.5, 4.4 (absent 4.3); §3 <reset/> 1.3.3",
  },
  {
    key: "vpindex",
    qemu: "hv-vpindex",
    aliases: [],
    desc: "VP_INDEX MSR (hv-vpindex)",
    cpuid: [{ leaf: F3, register: "EAX", bits: [6] }],
    qemuSince: "2.5",
    hostKernelMin: "4.13",
    intelOnly: false,
    requires: [],
    withoutHostHyperv: VPINDEX_REFUSED,
    underTcg: VPINDEX_REFUSED,
    libvirt: hv("1.3.3", "vpindex"),
    description: "Virtual processor index MSR: needed by SynIC, PV TLB flush and PV IPI.",
    sources:
      "hyperv.md §1: 2.5, KVM_CAP_HYPERV_VP_INDEX absent 4.12, present 4.13.4; §2 refused without it (hw/i386/x86.c:420-424), under TCG up to 8.1; §3 <vpindex/> 1.3.3",
  },
  {
    key: "runtime",
    qemu: "hv-runtime",
    aliases: [],
    desc: "VP_RUNTIME MSR (hv-runtime)",
    cpuid: [{ leaf: F3, register: "EAX", bits: [0] }],
    qemuSince: "2.5",
    hostKernelMin: "4.4",
    intelOnly: false,
    requires: [],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("1.3.3", "runtime"),
    description: "Virtual processor run time MSR: the guest sees how long it really ran.",
    sources: "hyperv.md §1: 2.5, 4.4; §3 <runtime/> 1.3.3",
  },
  {
    key: "synic",
    qemu: "hv-synic",
    aliases: [],
    desc: "synthetic interrupt controller (hv-synic)",
    cpuid: [{ leaf: F3, register: "EAX", bits: [2] }],
    qemuSince: "2.6",
    hostKernelMin: "4.13",
    intelOnly: false,
    // and hv-vpindex on machine types from 3.1 (x-hv-synic-kvm-only before): a check of its own in QEMU
    requires: [],
    withoutHostHyperv: abortsOnMsr("0x40000081", "0x1"),
    underTcg: STARTS,
    libvirt: hv("1.3.3", "synic"),
    description: "Synthetic interrupt controller: needed by synthetic timers and VMBus devices.",
    sources:
      "hyperv.md §1: 2.6, KVM_CAP_HYPERV_SYNIC2 (machines from 3.1) in 4.13; §2 requires hv-vpindex unless x-hv-synic-kvm-only (machines up to 3.0); §3 <synic/> 1.3.3",
  },
  {
    key: "stimer",
    qemu: "hv-stimer",
    aliases: [],
    desc: "synthetic timers (hv-stimer)",
    cpuid: [{ leaf: F3, register: "EAX", bits: [3] }],
    qemuSince: "2.6",
    hostKernelMin: "4.13",
    intelOnly: false,
    requires: ["time", "synic"],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("1.3.3", "stimer"),
    description: "Synthetic timers: far fewer timer interrupts and VM exits for an idle Windows guest.",
    sources: "hyperv.md §1: 2.6, same kernel as hv-synic; §2 requires hv-time and hv-synic; §3 <stimer/> 1.3.3",
  },
  {
    key: "frequencies",
    qemu: "hv-frequencies",
    aliases: [],
    desc: "frequency MSRs (hv-frequencies)",
    cpuid: [
      { leaf: F3, register: "EAX", bits: [11] },
      { leaf: F3, register: "EDX", bits: [8] },
    ],
    qemuSince: "2.12",
    hostKernelMin: "4.14",
    intelOnly: false,
    requires: [],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("4.7.0", "frequencies"),
    description: "TSC and APIC frequency MSRs: the guest reads the frequencies instead of calibrating.",
    sources: "hyperv.md §1: 2.12 (absent 2.10), 4.14 (absent 4.13.4); §3 <frequencies/> 4.7.0",
  },
  {
    key: "reenlightenment",
    qemu: "hv-reenlightenment",
    aliases: [],
    desc: "reenlightenment MSRs (hv-reenlightenment)",
    cpuid: [{ leaf: F3, register: "EAX", bits: [13] }],
    qemuSince: "3.0",
    hostKernelMin: "4.17",
    intelOnly: false,
    requires: [],
    withoutHostHyperv: abortsOnMsr("0x40000106", "0x0"),
    underTcg: STARTS,
    libvirt: hv("4.7.0", "reenlightenment"),
    description: "Reenlightenment notifications after a migration changes the TSC frequency (for nested hypervisors in the guest).",
    sources: "hyperv.md §1: 3.0 (absent 2.12.1), 4.17 (absent 4.16.13); §3 <reenlightenment/> 4.7.0",
  },
  {
    key: "tlbflush",
    qemu: "hv-tlbflush",
    aliases: [],
    desc: "paravirtualized TLB flush (hv-tlbflush)",
    cpuid: [{ leaf: F4, register: "EAX", bits: [2, 11] }],
    qemuSince: "3.0",
    hostKernelMin: "4.18",
    intelOnly: false,
    requires: ["vpindex"],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("4.7.0", "tlbflush"),
    description: "Paravirtual TLB flush: one hypercall instead of IPIs to every vCPU, and no waiting for preempted ones.",
    sources: "hyperv.md §1: 3.0, KVM_CAP_HYPERV_TLBFLUSH 4.18 (absent 4.17.0); §2 requires hv-vpindex; §3 <tlbflush/> 4.7.0",
  },
  {
    key: "evmcs",
    qemu: "hv-evmcs",
    aliases: [],
    desc: "enlightened VMCS (hv-evmcs)",
    cpuid: [{ leaf: F4, register: "EAX", bits: [14] }],
    qemuSince: "3.1",
    hostKernelMin: "4.20",
    intelOnly: true,
    requires: ["vapic"],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("4.10.0", "evmcs"),
    description: "Enlightened VMCS for a hypervisor nested in the guest (Hyper-V, WSL2, VBS); Intel VMX with nested=1 only.",
    sources:
      "hyperv.md §1: 3.1, KVM_CAP_HYPERV_ENLIGHTENED_VMCS 4.20, Intel VMX only; §5 only VMX's nested ops report it; §2 requires hv-vapic; §3 <evmcs/> 4.10.0",
  },
  {
    key: "ipi",
    qemu: "hv-ipi",
    aliases: [],
    desc: "paravirtualized IPI (hv-ipi)",
    cpuid: [{ leaf: F4, register: "EAX", bits: [10, 11] }],
    qemuSince: "3.1",
    hostKernelMin: "4.20",
    intelOnly: false,
    requires: ["vpindex"],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("4.10.0", "ipi"),
    description: "Paravirtual IPIs: one hypercall sends an IPI to many vCPUs.",
    sources: "hyperv.md §1: 3.1, KVM_CAP_HYPERV_SEND_IPI 4.20 (absent 4.19.304); §2 requires hv-vpindex; §3 <ipi/> 4.10.0",
  },
  {
    key: "stimerDirect",
    qemu: "hv-stimer-direct",
    aliases: [],
    desc: "direct mode synthetic timers (hv-stimer-direct)",
    cpuid: [{ leaf: F3, register: "EDX", bits: [19] }],
    qemuSince: "4.1",
    hostKernelMin: "5.0",
    intelOnly: false,
    requires: ["stimer"],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("5.7.0", "stimer", "direct"),
    description: "Synthetic timers delivered as a normal interrupt, not a VMBus message (needed by some guests' timer setups).",
    sources: "hyperv.md §1: 4.1 (absent 3.1.0), 5.0 (absent 4.20); §2 requires hv-stimer; §3 <stimer><direct/></stimer> 5.7.0",
  },
  {
    key: "avic",
    qemu: "hv-avic",
    aliases: ["hv-apicv"],
    desc: "AVIC/APICv support (hv-avic/hv-apicv)",
    cpuid: [{ leaf: F4, register: "EAX", bits: [9] }],
    qemuSince: "6.2",
    hostKernelMin: "5.15",
    intelOnly: false,
    requires: [],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("8.10.0", "avic"),
    description: "Tells the guest not to use the auto-EOI feature, so AVIC/APICv hardware interrupt virtualization stays on.",
    sources: "hyperv.md §1: 6.2 (libvirt doc), 5.15 (absent 5.14-rc5), alias hv-apicv; §3 <avic/> 8.10.0",
  },
  {
    key: "syndbg",
    qemu: "hv-syndbg",
    aliases: [],
    desc: "Enable synthetic kernel debugger channel (hv-syndbg)",
    cpuid: [{ leaf: F3, register: "EDX", bits: [11] }],
    qemuSince: "7.2",
    hostKernelMin: "5.8",
    intelOnly: false,
    requires: ["relaxed", "synic"],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: null,
    description: "Synthetic kernel debugger channel (debugging only; built only with CONFIG_SYNDBG).",
    sources:
      "hyperv.md §1: absent 6.2.0, present 7.2.0 (Debian builds it), 5.8 (absent 5.7.14); §2 requires hv-relaxed and hv-synic; §3 no libvirt element",
  },
  {
    key: "emsrBitmap",
    qemu: "hv-emsr-bitmap",
    aliases: [],
    desc: "enlightened MSR-Bitmap (hv-emsr-bitmap)",
    cpuid: [{ leaf: FA, register: "EAX", bits: [19] }],
    qemuSince: "7.1",
    hostKernelMin: "5.17",
    intelOnly: false,
    requires: [],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("10.7.0", "emsr_bitmap"),
    description: "Enlightened MSR bitmap for a hypervisor nested in the guest.",
    sources: "hyperv.md §1: 7.1 (libvirt doc), absent 5.15.85, present 5.17-rc5; §3 <emsr_bitmap/> 10.7.0 (refused by 9.0, §6.6)",
  },
  {
    key: "xmmInput",
    qemu: "hv-xmm-input",
    aliases: [],
    desc: "XMM fast hypercall input (hv-xmm-input)",
    cpuid: [{ leaf: F3, register: "EDX", bits: [4] }],
    qemuSince: "7.1",
    hostKernelMin: "5.14",
    intelOnly: false,
    requires: [],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("10.7.0", "xmm_input"),
    description: "Hypercall input passed in XMM registers: faster hypercalls.",
    sources: "hyperv.md §1: 7.1, absent 5.12.9, present 5.14-rc5; §3 <xmm_input/> 10.7.0",
  },
  {
    key: "tlbflushExt",
    qemu: "hv-tlbflush-ext",
    aliases: [],
    desc: "Extended gva ranges for TLB flush hypercalls (hv-tlbflush-ext)",
    cpuid: [{ leaf: F3, register: "EDX", bits: [14] }],
    qemuSince: "7.2",
    hostKernelMin: "6.2",
    intelOnly: false,
    requires: ["tlbflush"],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("11.0.0", "tlbflush", "extended"),
    description: "Extended GVA ranges for the TLB flush hypercalls.",
    sources:
      "hyperv.md §1: absent 6.2, present 7.2 (QEMU 7.2.22 lists it, hyperv-observed), 6.2 (absent 6.1-rc7); §2 requires hv-tlbflush; §3 <tlbflush><extended/> 11.0.0",
  },
  {
    key: "tlbflushDirect",
    qemu: "hv-tlbflush-direct",
    aliases: [],
    desc: "direct TLB flush (hv-tlbflush-direct)",
    cpuid: [{ leaf: FA, register: "EAX", bits: [17] }],
    qemuSince: "7.2",
    hostKernelMin: "6.2",
    intelOnly: false,
    requires: ["vapic"],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: hv("11.0.0", "tlbflush", "direct"),
    description: "Direct TLB flush for a hypervisor nested in the guest.",
    sources:
      "hyperv.md §1: absent 6.2, present 7.2 (QEMU 7.2.22 lists it), 6.2 (absent 6.1-rc7); §2 requires hv-vapic; §3 <tlbflush><direct/> 11.0.0",
  },
  {
    key: "enforceCpuid",
    qemu: "hv-enforce-cpuid",
    aliases: [],
    desc: null,
    cpuid: [],
    qemuSince: "6.2",
    hostKernelMin: "5.14",
    intelOnly: false,
    requires: [],
    withoutHostHyperv: STARTS,
    underTcg: STARTS,
    libvirt: null,
    description:
      "KVM refuses every Hyper-V feature the guest was not given in CPUID (without it, every one KVM implements works once any is exposed).",
    sources:
      "hyperv.md §1: absent 5.2.0, present 6.2.0; absent 5.12.9, present 5.14-rc5 (KVM_CAP_HYPERV_ENFORCE_CPUID); §2 failed to enable KVM_CAP_HYPERV_ENFORCE_CPUID; §3 no libvirt element",
  },
];
// Stryker restore all

const HYPERV_BY_KEY: ReadonlyMap<string, HypervRow> = new Map(HYPERV_FEATURES.map((r) => [r.key, r]));
export const HYPERV_BY_QEMU_NAME: ReadonlyMap<string, HypervRow> = new Map(
  HYPERV_FEATURES.flatMap((r) => [[r.qemu, r] as const, ...r.aliases.map((a) => [a, r] as const)]),
);

export function hypervRow(key: HypervKey): HypervRow {
  const r = HYPERV_BY_KEY.get(key);
  if (!r) throw new Error(`no Hyper-V catalog row for ${key}`);
  return r;
}

/** The value settings beside the flags: `<spinlocks retries>`, `<vendor_id value>`, and the mode. */
export const HYPERV_VALUES = {
  spinlocks: {
    qemu: "hv-spinlocks",
    /** libvirt (up to 11.8) refuses fewer retries; QEMU's default 0xFFFFFFFF means "never notify" */
    min: 4095,
    max: 0xffffffff,
    libvirtSince: "1.1.0",
    sources:
      "hyperv.md §1 default 0xFFFFFFFF; §3 <spinlocks retries='N'/> 1.1.0, retries >= 4095 (§6.6 'HyperV spinlock retry count must be at least 4095')",
  },
  vendorId: {
    qemu: "hv-vendor-id",
    /** QEMU truncates longer ones with a warning; libvirt refuses them */
    maxLength: 12,
    qemuSince: "2.5",
    libvirtSince: "1.3.3",
    sources:
      "hyperv.md §1 hv-vendor-id 2.5 (1c4a55dbed), at most 12 chars; §3 <vendor_id value='S'/> 1.3.3; §6.6 'HyperV vendor_id value must not be more than 12 characters.'",
  },
  noNonarchCoresharing: {
    qemu: "hv-no-nonarch-coresharing",
    /** QEMU's OnOffAuto; auto passes on what KVM reports (a host with SMT off) */
    values: ["on", "off", "auto"] as const,
    qemuSince: "5.0",
    /** the first kernel whose KVM reports it (for auto) */
    autoHostKernelMin: "5.6",
    cpuid: { leaf: "0x40000004", register: "EAX", bit: 18 },
    sources:
      "hyperv.md §1 hv-no-nonarch-coresharing=on/off/auto: absent in QEMU 4.1.0, present 5.0.0; auto reads it from KVM: absent 5.3.1, present 5.6.4; 0x40000004.EAX b18; §2 auto is a migration blocker; QEMU docs: only with pinned vCPUs; §3 no libvirt element; measured on QEMU 7.2.22: on and auto start without Hyper-V in KVM and under TCG",
  },
  passthrough: {
    qemu: "hv-passthrough",
    qemuSince: "4.1",
    hostKernelMin: "5.0",
    libvirtSince: "8.0.0",
    sources: "hyperv.md §1 hv-passthrough 4.1, KVM_GET_SUPPORTED_HV_CPUID 5.0; §3 <hyperv mode='passthrough'/> 8.0.0; §2 migration blocker",
  },
} as const;

/** The Windows releases a guest profile names (guest.version with guest.os windows). */
export const WINDOWS_VERSIONS = [
  "7",
  "8",
  "8.1",
  "10",
  "11",
  "server-2008r2",
  "server-2012",
  "server-2012r2",
  "server-2016",
  "server-2019",
  "server-2022",
  "server-2025",
] as const;

/**
 * The Windows guest profile: what it turns on when the spec leaves a flag unset, each with why
 * and where from (QEMU's docs/system/i386/hyperv.rst "recommendations" in 10.2, and the peers'
 * sets in ../shared/reference/hyperv.md section 4), and what it leaves out and why. The same for
 * every Windows release here (7 and later): the peers that gate flags by release gate them by
 * QEMU machine version, which the catalog's own QEMU releases cover.
 */
// Stryker disable all: the profile is data read once at module load; pinned by hyperv.test (the profile's set and reasons) and the oracle (the set starts, or is refused, as predicted)
export const WINDOWS_PROFILE = {
  on: [
    {
      key: "relaxed",
      why: "Windows stops its watchdog timeouts, which a preempted vCPU trips (QEMU docs; Proxmox, virt-install, KubeVirt, Nova)",
    },
    { key: "vapic", why: "APIC access through MSRs, fewer exits (QEMU docs; Proxmox, virt-install, KubeVirt, Nova)" },
    { key: "time", why: "the Hyper-V clocksource Windows prefers (QEMU docs; every peer, as the hypervclock timer)" },
    { key: "vpindex", why: "needed by SynIC, PV TLB flush and PV IPI (QEMU docs; Proxmox, virt-install, KubeVirt, Nova)" },
    { key: "runtime", why: "the guest sees how long it really ran (QEMU docs; Proxmox, virt-install, KubeVirt, Nova)" },
    { key: "synic", why: "needed by synthetic timers (QEMU docs; Proxmox, KubeVirt, Nova)" },
    { key: "stimer", why: "synthetic timers: far fewer exits for an idle Windows (QEMU docs; Proxmox, virt-install, KubeVirt)" },
    { key: "stimerDirect", why: "timers as plain interrupts (QEMU docs; virt-install, KubeVirt)" },
    { key: "frequencies", why: "TSC and APIC frequencies read, not calibrated (QEMU docs; virt-install, KubeVirt, Nova)" },
    { key: "tlbflush", why: "PV TLB flush: no IPIs to every vCPU (QEMU docs; virt-install, KubeVirt, Nova)" },
    { key: "tlbflushExt", why: "extended ranges for the TLB flush hypercalls (QEMU docs)" },
    { key: "ipi", why: "PV IPIs (QEMU docs; Proxmox, virt-install, KubeVirt, Nova)" },
    { key: "xmmInput", why: "faster hypercalls (QEMU docs: everything but the debug flags)" },
  ] as readonly { key: HypervKey; why: string }[],
  spinlocks: {
    value: 8191,
    why: "notify the host after 8191 spins, as Proxmox, virt-install, KubeVirt and Nova set (QEMU's default never notifies)",
  },
  off: [
    { key: "reset", why: "avoidable (QEMU docs)" },
    { key: "crash", why: "it stops Windows' own crash dumps: only when something consumes the panic event (QEMU docs)" },
    { key: "reenlightenment", why: "only with TSC scaling or a domain that never migrates (QEMU docs)" },
    { key: "evmcs", why: "Intel VMX only, for a hypervisor nested in the guest (QEMU docs)" },
    { key: "avic", why: "only on hosts with APICv/AVIC hardware (QEMU docs)" },
    { key: "emsrBitmap", why: "for a hypervisor nested in the guest, with eVMCS on Intel (QEMU docs)" },
    { key: "tlbflushDirect", why: "for a hypervisor nested in the guest, with eVMCS on Intel (QEMU docs)" },
    { key: "syndbg", why: "a debugging feature (QEMU docs)" },
    { key: "enforceCpuid", why: "a debugging feature (QEMU docs)" },
  ] as readonly { key: HypervKey; why: string }[],
  sources:
    "QEMU 10.2 docs/system/i386/hyperv.rst:286-315 (recommendations); Proxmox qemu-server 9.2.6 CPUConfig.pm:1073-1138, virt-install features.py:66-107, KubeVirt common-instancetypes components/hyperv, Nova driver.py:6849-6910 (hyperv.md section 4)",
} as const;
// Stryker restore all
