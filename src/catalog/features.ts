/**
 * The PV feature catalog: one row per knob, the single source of truth that drives
 * spec validation, resolution, rendering, docs and (later) the Pulumi schema.
 *
 * Facts come from ../shared/reference (QEMU 10.2, Linux 6.18, libvirt sources) and
 * from experiments on QEMU 7.2 / libvirt 9.0 recorded in docs/research/. The version
 * facts (QEMU, host and guest kernel, libvirt `since`) cannot be checked against a
 * real program here, so each row's `sources` names the source line each one comes
 * from; `evidence` says how the behaviour was found. test/unit/catalog.test.ts pins
 * every fact to its source.
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
// Stryker disable all: the catalog table is data read once at module load; pinned by catalog.test (names, order, the source of every fact), the matrix snapshot and docs/features.md (README "Mutation testing")
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
// Stryker restore all
export type SpecKey = (typeof SPEC_KEY_NAMES)[number];

/**
 * Where a row's version facts come from. Each string starts with the project and the version
 * it read (`linux 4.16.13 …`, `qemu 2.1.0 …`, `libvirt 7.10.0 …`; the version is the fact
 * itself or a point release of it), then the file and line or symbol that shows the fact,
 * then the older version that lacks it. A fact the sources could not settle starts with
 * `UNCONFIRMED:` and says what was checked. A null fact has a null source; a fact the row
 * does not have (guestKernelMax, a libvirt element) has no source.
 *
 * Trees read (stored snapshots; release tarball imports unless a tag is named):
 * QEMU: git tags v0.12.0..v2.5.0 in wencongyang/qemu-xen (an upstream mirror), 2.10.0
 * ssdemajia/qemu-2.10.0, 2.12.1 wxx213/qemu-2.12, 5.2.0 zaiqiang-dong/study-qemu-5.2.0,
 * 6.2.0 wulmx/qemu-6.2, 8.2.2 yikesoftware/qemu-8.2.2-cet; libvirt/libvirt
 * tests/qemucapabilitiesdata/caps_X.x86_64.xml (what QEMU X reported), docs/formatdomain.rst,
 * docs/news-2013.html.in. Linux: git tags v2.6.25, v2.6.26 in comio/linux-2.6.25-cf547x;
 * 2.6.34 urbanspr1nter/linux-2.6.34, 2.6.35.6 rivsidn, 2.6.37 srinugnt2000, 2.6.38 zekezang,
 * 2.6.39 zouyalong-coder, 3.0.1 eastmoutain/Linux-3.0.1, 3.1.3 303750856/linux-3.1,
 * 3.2.0 fastbot3d/linux-3.2.0, 3.3.8 ciminaghi, 3.4.39 friendlyarm/linux-3.4.y,
 * 3.5 12thmantec, 3.6 New-B/Linux3.6, 3.11 tianrenz2/samsara-linux-3.11, 3.12.10
 * OLIMEX/linux-3.12.10-ti2013.12.01-am3352_som, 4.12 jason50123, 4.13.4 shizukanaskytree,
 * 4.14.177 linuxzjs/linux-4.14, 4.15.18 sndrzt/linux-4.15, 4.16.13 lizuobin, 4.17
 * SaumyaSachdev/linux-4.17, 4.18 zzwd/linux-4.18-rt, 4.19.304 maxiangpan/linux-4.19, 5.2.1
 * wangliang-cs, 5.3.1 github-lvbing, 5.4.0 jashawnyu/linux-5.4, 5.7.14 a5221985, 5.8.1
 * semwett0301, 5.9.1 ach84, 5.10.7 ejga2001, 5.11 CompressionDuck/linux-5.11 (each
 * repository's Makefile VERSION/PATCHLEVEL/SUBLEVEL checked).
 */
export interface FactSources {
  readonly qemuSince: string;
  readonly hostKernelMin: string | null;
  readonly guestKernelMin: string | null;
  /** present exactly when the row has guestKernelMax */
  readonly guestKernelMax?: string;
  /** the libvirt element's `since`; present exactly when the row has a libvirt element */
  readonly libvirtSince?: string;
}

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
  /** where each version fact above comes from (see FactSources) */
  readonly sources: FactSources;
}

const KVM_LEAF = "0x40000001" as const;

function eax(...bits: number[]) {
  return { leaf: KVM_LEAF, register: "EAX" as const, bits };
}

/** The catalog, in CPUID bit order, then the non-bit knobs. */
// Stryker disable all: the catalog table is data read once at module load; pinned by catalog.test (names, order, the source of every fact), the matrix snapshot and docs/features.md (README "Mutation testing")
export const FEATURES: readonly FeatureRow[] = [
  {
    specKey: "kvmclock",
    specInverted: false,
    qemu: "kvmclock",
    aliases: [],
    kind: "kvm-bit",
    cpuid: eax(0, 3),
    kvmConstants: ["KVM_FEATURE_CLOCKSOURCE", "KVM_FEATURE_CLOCKSOURCE2"],
    qemuSince: "0.13",
    hostKernelMin: "2.6.35",
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
    sources: {
      qemuSince:
        'qemu 0.13.0 target-i386/cpuid.c:76 kvm_feature_name[]: "kvmclock" (bit 0; bit 3 shares the name from 0.15.0); no KVM flag names anywhere in 0.12.0 target-i386/*.c',
      hostKernelMin:
        "linux 2.6.35.6 arch/x86/kvm/x86.c:1993-1995 case KVM_CPUID_FEATURES: KVM_FEATURE_CLOCKSOURCE | KVM_FEATURE_CLOCKSOURCE2 (bit 3 defined at arch/x86/include/asm/kvm_para.h:22); 2.6.34 reports neither the leaf nor bit 3, bit 0 alone reaches QEMU from 2.6.26 through KVM_CAP_CLOCKSOURCE",
      guestKernelMin:
        "linux 2.6.26 arch/x86/kernel/kvmclock.c:150 kvm_para_has_feature(KVM_FEATURE_CLOCKSOURCE) (git tag v2.6.26; kvmclock.c absent at v2.6.25)",
      libvirtSince:
        'UNCONFIRMED: libvirt docs/formatdomain.rst gives <timer> :since:`Since 0.8.0` but the "kvmclock" timer name no version of its own; the release that added it was not found (docs/news-2013.html.in, src/conf/domain_conf.h virDomainTimerNameType searched)',
    },
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
    qemuSince: "0.13",
    hostKernelMin: "2.6.26",
    guestKernelMin: "2.6.26",
    deprecated: null,
    namedModelDefault: true,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "The guest skips I/O port delays (no port 0x80 writes).",
    sources: {
      qemuSince:
        'qemu 0.13.0 target-i386/cpuid.c:76 kvm_feature_name[]: "kvm_nopiodelay" (the dashed name with the underscore alias by 2.8, docs/research/confirmed-facts.md §4); none in 0.12.0 target-i386/*.c',
      hostKernelMin:
        "linux 2.6.26 include/linux/kvm.h:346 #define KVM_CAP_NOP_IO_DELAY 12 and include/asm-x86/kvm_para.h:14 KVM_FEATURE_NOP_IO_DELAY (git tag v2.6.26; absent at v2.6.25); QEMU maps the capability to the bit (qemu 2.0.0 target-i386/kvm.c:130 para_features[]) until KVM_GET_SUPPORTED_CPUID lists it (2.6.35.6 arch/x86/kvm/x86.c:1994)",
      guestKernelMin:
        "linux 2.6.26 arch/x86/kernel/kvm.c:213 kvm_para_has_feature(KVM_FEATURE_NOP_IO_DELAY) in paravirt_ops_setup (git tag v2.6.26; kvm.c absent at v2.6.25)",
    },
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
    qemuSince: "0.13",
    hostKernelMin: "2.6.26",
    guestKernelMin: "2.6.26",
    guestKernelMax: "3.2",
    deprecated: "The PV MMU hypercall was removed from Linux in 3.3 and KVM never reports the bit, so QEMU always drops it.",
    namedModelDefault: false,
    passthrough: true,
    reportedByKvm: false,
    libvirt: null,
    description: "Paravirtual MMU operations (removed from Linux; never supported by KVM's GET_SUPPORTED_CPUID).",
    sources: {
      qemuSince: 'qemu 0.13.0 target-i386/cpuid.c:76 kvm_feature_name[]: "kvm_mmu"; none in 0.12.0 target-i386/*.c',
      hostKernelMin:
        "linux 2.6.26 include/linux/kvm.h:347 #define KVM_CAP_PV_MMU 13 and arch/x86/kvm/x86.c:2539 case KVM_HC_MMU_OP (git tag v2.6.26; absent at v2.6.25); never in KVM_GET_SUPPORTED_CPUID, hypercall gone in 3.3.8",
      guestKernelMin:
        "linux 2.6.26 arch/x86/kernel/kvm.c:216 kvm_para_has_feature(KVM_FEATURE_MMU_OP) (git tag v2.6.26; absent at v2.6.25)",
      guestKernelMax:
        "linux 3.2.0 arch/x86/kernel/kvm.c:282 kvm_hypercall3(KVM_HC_MMU_OP, ...) in kvm_mmu_op; no PV MMU code in 3.3.8 or 3.4.39 arch/x86/kernel/kvm.c",
    },
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
    qemuSince: "0.14",
    hostKernelMin: "3.0",
    guestKernelMin: "2.6.38",
    deprecated: "Legacy #PF delivery does nothing on hosts >= 5.8 and guests >= 5.9 ignore it without kvm-asyncpf-int.",
    namedModelDefault: true,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "Asynchronous page faults, legacy delivery: the guest can run other tasks while the host swaps a page in.",
    sources: {
      qemuSince: 'qemu 0.14.0 target-i386/cpuid.c:76 kvm_feature_name[]: "kvm_asyncpf" (bit 4 NULL in 0.13.0 cpuid.c:76)',
      hostKernelMin:
        "linux 3.0.1 arch/x86/kvm/x86.c:2439 case KVM_CPUID_FEATURES: (1 << KVM_FEATURE_ASYNC_PF); 2.6.38 (x86.c:2390-2394) and 2.6.39 (x86.c:2417-2421) define the bit and KVM_CAP_ASYNC_PF but do not report it",
      guestKernelMin: "linux 2.6.38 arch/x86/kernel/kvm.c:449 kvm_para_has_feature(KVM_FEATURE_ASYNC_PF) (absent in 2.6.37)",
    },
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
    qemuSince: "1.3",
    hostKernelMin: "3.1",
    guestKernelMin: "3.1",
    deprecated: null,
    namedModelDefault: true,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "Steal-time accounting; the guest also needs it before it uses PV TLB flush or PV sched yield.",
    sources: {
      qemuSince:
        'qemu 1.3.0 target-i386/cpu.c:99 kvm_feature_name[]: "kvm_steal_time" (bit 5 NULL in 1.2.0 cpu.c:86, which sets the bit by default without a name)',
      hostKernelMin:
        "linux 3.1.3 arch/x86/kvm/x86.c:2554 entry->eax |= (1 << KVM_FEATURE_STEAL_TIME) when sched_info_on() (absent in 3.0.1)",
      guestKernelMin: "linux 3.1.3 arch/x86/kernel/kvm.c:606 kvm_para_has_feature(KVM_FEATURE_STEAL_TIME) (absent in 3.0.1)",
    },
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
    qemuSince: "1.2",
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
    sources: {
      qemuSince:
        'qemu 1.2.0 target-i386/cpu.c:86 kvm_feature_name[]: "kvm_pv_eoi" (bit 6 NULL in 1.1.0 cpu.c:80; on by default from 1.3.0)',
      hostKernelMin:
        "linux 3.6 arch/x86/kvm/cpuid.c:413 (1 << KVM_FEATURE_PV_EOI) in case KVM_CPUID_FEATURES (absent in 3.5 cpuid.c:408-412)",
      guestKernelMin: "linux 3.6 arch/x86/kernel/kvm.c:322 kvm_para_has_feature(KVM_FEATURE_PV_EOI) (absent in 3.5)",
      libvirtSince:
        'libvirt 0.10.2 docs/formatdomain.rst ``apic``: ":since:`Since 0.10.2 (QEMU only)` there is an optional attribute ``eoi``"',
    },
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
    sources: {
      qemuSince: 'qemu 1.7.0 target-i386/cpu.c:238 kvm_feature_name[]: "kvm_pv_unhalt" (bit 7 NULL in 1.6.0 cpu.c:128)',
      hostKernelMin:
        "linux 3.12.10 arch/x86/kvm/cpuid.c:417 (1 << KVM_FEATURE_PV_UNHALT) in case KVM_CPUID_FEATURES (absent in 3.11 cpuid.c:411-416)",
      guestKernelMin:
        "linux 3.12.10 arch/x86/kernel/kvm.c:807 kvm_para_has_feature(KVM_FEATURE_PV_UNHALT) in kvm_spinlock_init (absent in 3.11)",
      libvirtSince:
        'libvirt 1.2.0 docs/news-2013.html.in "1.2.0: Dec 02 2013": "qemu: Add support for paravirtual spinlocks in the guest (Peter Krempa)" (docs/formatdomain.rst ``pvspinlock`` has no :since:)',
    },
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
    sources: {
      qemuSince:
        "qemu 2.11.0 as libvirt tests/qemucapabilitiesdata/caps_2.11.0.x86_64.xml records it (<package> (v2.11.0)): KVM hostCPU <property name='kvm-pv-tlb-flush'>; bit 9 NULL in qemu 2.10.0 target/i386/cpu.c:348",
      hostKernelMin:
        "linux 4.16.13 arch/x86/kvm/cpuid.c:615 (1 << KVM_FEATURE_PV_TLB_FLUSH) and arch/x86/include/uapi/asm/kvm_para.h:28 #define KVM_FEATURE_PV_TLB_FLUSH 9 (both absent in 4.15.18)",
      guestKernelMin: "linux 4.16.13 arch/x86/kernel/kvm.c:548 kvm_para_has_feature(KVM_FEATURE_PV_TLB_FLUSH) (absent in 4.15.18)",
    },
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
    sources: {
      qemuSince:
        'qemu 9.0: target/i386/cpu.c feature_word_info[FEAT_KVM] bit 10 "kvm-asyncpf-vmexit" from qemu-devel "[PULL 03/17] target/i386: Add support of KVM_FEATURE_ASYNC_PF_VMEXIT for guest" <20240220080558.365903-4-pbonzini@redhat.com>, merged 2024-02-20 after v8.2.0; bit 10 NULL in qemu 8.2.2 target/i386/cpu.c:859',
      hostKernelMin:
        "linux 4.14.177 arch/x86/kvm/cpuid.c:622 (1 << KVM_FEATURE_ASYNC_PF_VMEXIT) and arch/x86/include/uapi/asm/kvm_para.h:28 (both absent in 4.13.4)",
      guestKernelMin: "linux 4.14.177 arch/x86/kernel/kvm.c:344 kvm_para_has_feature(KVM_FEATURE_ASYNC_PF_VMEXIT) (absent in 4.13.4)",
    },
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
    sources: {
      qemuSince:
        "qemu 3.1 per libvirt docs/formatdomain.rst pv-ipi \":since:`7.10.0 (QEMU 3.1)`\" and tests/qemucapabilitiesdata/caps_3.1.0.x86_64.xml <property name='kvm-pv-ipi'> (absent in caps_3.0.0, docs/research/confirmed-facts.md §5)",
      hostKernelMin:
        "linux 4.19.304 arch/x86/kvm/cpuid.c:644 (1 << KVM_FEATURE_PV_SEND_IPI) and arch/x86/include/uapi/asm/kvm_para.h:31 (both absent in 4.18)",
      guestKernelMin: "linux 4.19.304 arch/x86/kernel/kvm.c:715 kvm_para_has_feature(KVM_FEATURE_PV_SEND_IPI) (absent in 4.18)",
      libvirtSince: 'libvirt 7.10.0 docs/formatdomain.rst ``kvm`` table: pv-ipi ":since:`7.10.0 (QEMU 3.1)`"',
    },
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
    guestKernelMin: "5.4",
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
    sources: {
      qemuSince:
        "qemu 4.2 per libvirt docs/formatdomain.rst poll-control \":since:`6.10.0 (QEMU 4.2)`\" and tests/qemucapabilitiesdata/caps_4.2.0.x86_64.xml <property name='kvm-poll-control'>; absent from the KVM hostCPU list of caps_4.1.0.x86_64.xml (v4.1.0)",
      hostKernelMin:
        "linux 5.3.1 arch/x86/kvm/cpuid.c:697 (1 << KVM_FEATURE_POLL_CONTROL) and arch/x86/include/uapi/asm/kvm_para.h:32 (both absent in 5.2.1)",
      guestKernelMin:
        "linux 5.4.0 arch/x86/kernel/kvm.c:874 arch_haltpoll_enable: kvm_para_has_feature(KVM_FEATURE_POLL_CONTROL), called by the new drivers/cpuidle/cpuidle-haltpoll.c (neither in 5.3.1)",
      libvirtSince: 'libvirt 6.10.0 docs/formatdomain.rst ``kvm`` table: poll-control ":since:`6.10.0 (QEMU 4.2)`"',
    },
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
    sources: {
      qemuSince:
        "qemu 4.2 per libvirt tests/qemucapabilitiesdata/caps_4.2.0.x86_64.xml <property name='kvm-pv-sched-yield'> (docs/research/confirmed-facts.md §5); absent from the KVM hostCPU list of caps_4.1.0.x86_64.xml (v4.1.0)",
      hostKernelMin:
        "linux 5.3.1 arch/x86/kvm/cpuid.c:698 (1 << KVM_FEATURE_PV_SCHED_YIELD) and arch/x86/include/uapi/asm/kvm_para.h:33 (both absent in 5.2.1)",
      guestKernelMin: "linux 5.3.1 arch/x86/kernel/kvm.c:650 kvm_para_has_feature(KVM_FEATURE_PV_SCHED_YIELD) (absent in 5.2.1)",
    },
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
    sources: {
      qemuSince:
        'qemu 5.2.0 target/i386/cpu.c:802 feature_word_info[FEAT_KVM]: "kvm-asyncpf-int" (absent from libvirt tests/qemucapabilitiesdata/caps_5.1.0.x86_64.xml, docs/research/confirmed-facts.md §5)',
      hostKernelMin:
        "linux 5.8.1 arch/x86/kvm/cpuid.c:719 (1 << KVM_FEATURE_ASYNC_PF_INT) and arch/x86/include/uapi/asm/kvm_para.h:34 (both absent in 5.7.14)",
      guestKernelMin:
        "linux 5.9.1 arch/x86/kernel/kvm.c:331 kvm_para_has_feature(KVM_FEATURE_ASYNC_PF_INT) in kvm_guest_cpu_init (5.8.1 kvm.c:314 still tests KVM_FEATURE_ASYNC_PF only)",
    },
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
    guestKernelMin: "5.11",
    deprecated: null,
    namedModelDefault: false,
    passthrough: true,
    reportedByKvm: false,
    libvirt: null,
    description: "Extended MSI destination ID: >255 vCPUs in x2APIC mode without an IOMMU. QEMU offers it only with the split irqchip.",
    sources: {
      qemuSince:
        "qemu 6.0.0 as libvirt tests/qemucapabilitiesdata/caps_6.0.0.x86_64.xml records it: <property name='kvm-msi-ext-dest-id'> (docs/research/confirmed-facts.md §5); bit 15 NULL in qemu 5.2.0 target/i386/cpu.c:802",
      hostKernelMin: null,
      guestKernelMin:
        "linux 5.11 arch/x86/kernel/kvm.c:745 kvm_msi_ext_dest_id: kvm_para_has_feature(KVM_FEATURE_MSI_EXT_DEST_ID); 5.10.7 only defines the bit (arch/x86/include/uapi/asm/kvm_para.h:35) and no guest code reads it",
    },
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
    qemuSince: "2.1",
    hostKernelMin: "2.6.35",
    guestKernelMin: "2.6.35",
    deprecated: null,
    namedModelDefault: true,
    passthrough: true,
    reportedByKvm: true,
    libvirt: null,
    description: "Tells the guest the kvmclock is stable across vCPUs; meaningless without kvmclock.",
    sources: {
      qemuSince:
        'qemu 2.1.0 target-i386/cpu.c:244 kvm_feature_name[]: "kvmclock-stable-bit" at bit 24 (commit 8248c36a5d; bit 24 NULL in 2.0.0 cpu.c:236-245)',
      hostKernelMin:
        "linux 2.6.35.6 arch/x86/kvm/x86.c:1996 (1 << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT) and arch/x86/include/asm/kvm_para.h:27 (both absent in 2.6.34)",
      guestKernelMin:
        "linux 2.6.35.6 arch/x86/kernel/kvmclock.c:219 kvm_para_has_feature(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT) (absent in 2.6.34)",
    },
    evidence: [
      "named in QEMU 2.1.0 (git tag), unnamed in 2.0.0 though on by default there",
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
    sources: {
      qemuSince:
        'qemu 2.12.1 target/i386/cpu.c:394 feature_word_info[FEAT_KVM_HINTS]: "kvm-hint-dedicated"; absent from the KVM hostCPU list of libvirt tests/qemucapabilitiesdata/caps_2.11.0.x86_64.xml (v2.11.0); libvirt docs/formatdomain.rst hint-dedicated "(QEMU 2.12.0)"',
      hostKernelMin: null,
      guestKernelMin:
        "linux 4.17 arch/x86/kernel/kvm.c:460 kvm_para_has_hint(KVM_HINTS_REALTIME) and arch/x86/include/uapi/asm/kvm_para.h:32 #define KVM_HINTS_REALTIME 0 (both absent in 4.16.13)",
      libvirtSince: 'libvirt 5.7.0 docs/formatdomain.rst ``kvm`` table: hint-dedicated ":since:`5.7.0 (QEMU 2.12.0)`"',
    },
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
    sources: {
      qemuSince:
        'qemu 6.2.0 target/i386/cpu.c:6883 DEFINE_PROP_BOOL("kvm-pv-enforce-cpuid", ...), from qemu-devel "[PULL 17/30] i386: Support KVM_CAP_ENFORCE_PV_FEATURE_CPUID" (2021-10-03, after v6.1.0)',
      hostKernelMin:
        "linux 5.10.7 include/uapi/linux/kvm.h:1055 #define KVM_CAP_ENFORCE_PV_FEATURE_CPUID 190 and arch/x86/kvm/x86.c:3741 (both absent in 5.9.1)",
      guestKernelMin: null,
    },
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
    sources: {
      qemuSince:
        'qemu 2.1.0 target-i386/cpu.c:2885 DEFINE_PROP_BOOL("kvm", X86CPU, expose_kvm, true) (commit f522d2acc5; no expose_kvm in 2.0.0)',
      hostKernelMin: null,
      guestKernelMin: null,
      libvirtSince: 'libvirt 1.2.8 docs/formatdomain.rst ``kvm`` table: hidden ":since:`1.2.8 (QEMU 2.1.0)`"',
    },
    evidence: ["QEMU cpu.c x86_cpu_expand_features zeroes FEAT_KVM when !expose_kvm", "observed QEMU 7.2"],
  },
];
// Stryker restore all

/** The version facts of a row, each with the project that defines it and its source. */
export type VersionFactName = "qemuSince" | "hostKernelMin" | "guestKernelMin" | "guestKernelMax" | "libvirtSince";
export interface VersionFact {
  readonly fact: VersionFactName;
  /** the project whose release the value names */
  readonly project: "qemu" | "linux" | "libvirt";
  readonly value: string | null;
  readonly source: string | null;
}

/**
 * A row's version facts with their sources, in a fixed order. guestKernelMax and libvirtSince are
 * listed when either the fact or its source is there, so a fact without a source (or a source
 * without a fact) shows as a null on one side.
 */
export function versionFacts(f: FeatureRow): VersionFact[] {
  const s = f.sources;
  const out: VersionFact[] = [
    { fact: "qemuSince", project: "qemu", value: f.qemuSince, source: s.qemuSince },
    { fact: "hostKernelMin", project: "linux", value: f.hostKernelMin, source: s.hostKernelMin },
    { fact: "guestKernelMin", project: "linux", value: f.guestKernelMin, source: s.guestKernelMin },
  ];
  if (f.guestKernelMax !== undefined || s.guestKernelMax !== undefined)
    out.push({ fact: "guestKernelMax", project: "linux", value: f.guestKernelMax ?? null, source: s.guestKernelMax ?? null });
  if (f.libvirt || s.libvirtSince !== undefined)
    out.push({ fact: "libvirtSince", project: "libvirt", value: f.libvirt?.since ?? null, source: s.libvirtSince ?? null });
  return out;
}

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
