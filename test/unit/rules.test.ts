import { HYPERV_FEATURES } from "../../src/catalog/hyperv";
import { RULES } from "../../src/checks/rules";
import { ALIAS_DROPPED } from "../../src/libvirt/devices";
import type { HostProfile } from "../../src/host/profile";
import type { PinnedNeighbour } from "../../src/resolve/placement";
import { renderDomain } from "../../src/render-spec";
import { hostAccess } from "../../src/system/host-access";
import { DEBIAN12, domainSpec } from "../helpers/specs";

/**
 * Every rule, on domains made to fire it (and, where a condition has an edge, one made not
 * to): each case pins all the findings of its rule, path and whole message, as a snapshot.
 * The resolution matrix shows which rules fire across many domains; this shows each rule's
 * every wording, the hints included. The libvirt and QEMU texts the messages quote were
 * read from the real programs (the oracles check them when they refuse).
 */

/** A host older than most features: QEMU 5.0, kernel 4.15, KVM offering the early bits only. */
const OLD: HostProfile = {
  qemu: "5.0.0",
  libvirt: "6.0.0",
  kernel: "4.15.0",
  kvm: {
    available: true,
    supported: ["kvmclock", "kvm-nopiodelay", "kvm-asyncpf", "kvm-steal-time", "kvm-pv-unhalt"],
    enforceCpuid: false,
  },
  source: "file",
};
const MODELS = ["qemu64", "kvm64", "Nehalem", "Westmere", "SandyBridge", "IvyBridge", "Haswell-noTSX", "Broadwell-noTSX"];
const WITH_MODELS: HostProfile = {
  ...DEBIAN12,
  cpuModels: [...MODELS.map((name) => ({ name, usable: true })), { name: "Skylake-Server", usable: false }],
};
const FEW_MODELS: HostProfile = {
  ...DEBIAN12,
  cpuModels: [
    { name: "qemu64", usable: true },
    { name: "Haswell", usable: false },
  ],
};
const NO_USABLE_MODEL: HostProfile = { ...DEBIAN12, cpuModels: [{ name: "Haswell", usable: false }] };
/** As probed under KVM on a nested AMD host: libvirt's start check (cpu-compare with the host CPU) and usable disagree. */
const COMPARED: HostProfile = {
  ...DEBIAN12,
  cpuModels: [
    { name: "qemu64", usable: false, hostCompatible: false },
    { name: "Westmere", usable: false, hostCompatible: true },
    { name: "pentium", usable: true, hostCompatible: true },
  ],
};
const NO_KVM: HostProfile = { ...DEBIAN12, kvm: { available: false }, cpuModels: [{ name: "qemu64", usable: true }] };
const NO_ENFORCE: HostProfile = { ...DEBIAN12, kvm: { ...DEBIAN12.kvm!, enforceCpuid: false } };
const NETWORKS: HostProfile = {
  ...DEBIAN12,
  networks: [
    { name: "default", active: true },
    { name: "lab", active: false },
  ],
};

/** This kind of host (DEBIAN12 is one): a KVM built without Hyper-V (measured: kvm.hyperv empty; test/fixtures/hyperv-observed). */
const NO_HYPERV: HostProfile = DEBIAN12;
/** The same QEMU on a stock Debian 12 kernel, whose KVM has Hyper-V (not measured: derived from the kernel). */
const HV: HostProfile = { ...DEBIAN12, kernel: "6.1.0-18-amd64", kvm: { available: true, supported: DEBIAN12.kvm!.supported } };
/** A Hyper-V host as probed: relaxed, vapic, time, vpindex, synic, stimer only. */
const SOME_HYPERV: HostProfile = {
  ...HV,
  kvm: { ...HV.kvm!, hyperv: ["hv-relaxed", "hv-vapic", "hv-time", "hv-vpindex", "hv-synic", "hv-stimer"] },
};
const QEMU_3_1: HostProfile = { qemu: "3.1.0", libvirt: "5.0.0", kernel: "4.19.0", source: "file" };
const hv = (hyperv: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ hyperv, ...more });

/** A host with four CPUs on one NUMA node and a pool of 256 free 2 MiB pages (of 512). */
const PINNABLE: HostProfile = {
  ...DEBIAN12,
  numaNodes: [
    {
      id: 0,
      cpus: [0, 1, 2, 3],
      memoryKiB: 16777216,
      pages: [
        { sizeKiB: 4, total: 3000000, free: 2000000 },
        { sizeKiB: 2048, total: 512, free: 256 },
      ],
    },
  ],
};
/** Four CPUs on two cores (SMT): 0 and 2 share one, 1 and 3 the other. */
const SMT: HostProfile = {
  ...DEBIAN12,
  numaNodes: [
    {
      id: 0,
      cpus: [0, 1, 2, 3],
      siblings: [
        [0, 2],
        [1, 3],
      ],
    },
  ],
};
/** A domain's neighbours on the host (`_neighbours` in a case's domain): live ones, as plan reads them. */
const live = (name: string, vcpus: number[][] | null, emulator: number[] | null = null): PinnedNeighbour => ({
  name,
  vcpus,
  emulator,
  from: "live",
});

type Case = [label: string, domain: Record<string, unknown>, host: HostProfile | undefined, exists?: boolean];

const CASES: Record<string, Case[]> = {
  "host-qemu-too-old": [["a QEMU 9.0 property on QEMU 7.2", { paravirt: { asyncpfVmexit: true, pvIpi: true } }, DEBIAN12]],
  "host-kernel-too-old": [["kvm-pv-ipi and kvm-pv-eoi on a 4.15 host", { paravirt: { pvIpi: true, pvEoi: true } }, OLD]],
  "default-dropped-by-host": [["kvm-pv-eoi by default on a host without it", {}, OLD]],
  "pv-enforce-cpuid-unsupported": [
    ["on a host without the capability", { paravirt: { pvEnforceCpuid: true } }, NO_ENFORCE],
    ["a host without a kernel release", { paravirt: { pvEnforceCpuid: true } }, { ...NO_ENFORCE, kernel: undefined }],
    ["under TCG: nothing", { accel: "tcg", paravirt: { pvEnforceCpuid: true } }, NO_ENFORCE],
  ],
  "host-passthrough-needs-kvm": [["host-passthrough under TCG", { accel: "tcg", cpu: { mode: "host-passthrough" } }, DEBIAN12]],
  "cpu-model-unusable-on-host": [
    ["a misspelt model: its nearest first, six named of eight usable", { cpu: { mode: "custom", model: "Broadwel-noTSX" } }, WITH_MODELS],
    ["a model nothing is near", { cpu: { mode: "custom", model: "Opteron_G9" } }, WITH_MODELS],
    ["an unusable model with check partial", { cpu: { mode: "custom", model: "Skylake-Server", check: "partial" } }, WITH_MODELS],
    ["an unusable model, one usable", { cpu: { mode: "custom", model: "Haswell", check: "partial" } }, FEW_MODELS],
    [
      "an unusable model with check full (cpu-check-full-extra-features): nothing",
      { cpu: { mode: "custom", model: "Haswell", check: "full" } },
      FEW_MODELS,
    ],
    [
      "incompatible with the host CPU (cpu-compare), check partial",
      { cpu: { mode: "custom", model: "qemu64", check: "partial" } },
      COMPARED,
    ],
    [
      "unusable but the host CPU a superset, check partial: nothing",
      { cpu: { mode: "custom", model: "Westmere", check: "partial" } },
      COMPARED,
    ],
    ["incompatible with the host CPU, check none: nothing", { cpu: { mode: "custom", model: "qemu64", check: "none" } }, COMPARED],
    ["nothing usable", { cpu: { mode: "custom", model: "Haswell", check: "partial" } }, NO_USABLE_MODEL],
    ["the TCG list for a TCG domain", { accel: "tcg", cpu: { mode: "custom", model: "Haswell" } }, NO_KVM],
    ["a model the host lists as usable under TCG: nothing", { accel: "tcg", cpu: { mode: "custom", model: "qemu64" } }, NO_KVM],
    ["a usable model: nothing", { cpu: { mode: "custom", model: "Nehalem" } }, WITH_MODELS],
    [
      "a TCG domain against the list measured for KVM: nothing",
      { accel: "tcg", cpu: { mode: "custom", model: "Opteron_G9" } },
      WITH_MODELS,
    ],
  ],
  "cpu-model-degraded-on-host": [
    ["an unusable model with check none", { cpu: { mode: "custom", model: "Skylake-Server", check: "none" } }, WITH_MODELS],
    ["unusable, the host CPU a superset, check partial", { cpu: { mode: "custom", model: "Westmere", check: "partial" } }, COMPARED],
    ["refused with check partial: nothing", { cpu: { mode: "custom", model: "qemu64", check: "partial" } }, COMPARED],
    ["usable: nothing", { cpu: { mode: "custom", model: "pentium", check: "partial" } }, COMPARED],
    [
      "unusable with check full (refused for another reason): nothing",
      { cpu: { mode: "custom", model: "Westmere", check: "full" } },
      COMPARED,
    ],
  ],
  "cpu-check-full-extra-features": [
    ["check full", { cpu: { mode: "custom", model: "pentium", check: "full" } }, DEBIAN12],
    [
      "check full with the hypervisor flag stated: nothing",
      { cpu: { mode: "custom", model: "pentium", check: "full", features: { hypervisor: true } } },
      DEBIAN12,
    ],
    ["check partial: nothing", { cpu: { mode: "custom", model: "pentium", check: "partial" } }, DEBIAN12],
    ["host-passthrough: nothing", { cpu: { mode: "host-passthrough", check: "full" } }, DEBIAN12],
  ],
  "machine-unknown-to-host": [["a machine type QEMU 7.2 lacks", { machine: "pc-q35-9.0" }, DEBIAN12]],
  "kvm-unavailable": [
    ["accel kvm on a host without /dev/kvm", { accel: "kvm" }, NO_KVM],
    ["accel tcg there: nothing", { accel: "tcg" }, NO_KVM],
  ],
  "host-profile-assumed": [["no host profile", {}, undefined]],
  "msi-ext-dest-id-needs-split-irqchip": [["kernel irqchip", { paravirt: { msiExtDestId: true } }, DEBIAN12]],
  "pv-unhalt-needs-kernel-irqchip": [["irqchip off", { irqchip: "off", paravirt: { pvUnhalt: true } }, DEBIAN12]],
  "asyncpf-int-needs-kernel-irqchip": [
    ["irqchip off", { irqchip: "off", paravirt: { asyncpfInt: true } }, DEBIAN12],
    ["irqchip off with host passthrough", { irqchip: "off", cpu: { mode: "host-passthrough" } }, DEBIAN12],
    ["irqchip off under TCG: nothing", { accel: "tcg", irqchip: "off", paravirt: { asyncpfInt: true } }, DEBIAN12],
  ],
  "pv-features-while-hidden": [["two features while hidden", { paravirt: { hidden: true, pvIpi: true, pvEoi: true } }, DEBIAN12]],
  "hint-while-hidden": [["the dedicated hint while hidden", { paravirt: { hidden: true, hintDedicated: true } }, DEBIAN12]],
  "pv-features-under-tcg": [["two features under TCG", { accel: "tcg", paravirt: { pvIpi: true, kvmclock: true } }, DEBIAN12]],
  "enforce-cpuid-asyncpf-int-without-asyncpf": [
    ["asyncpf-int without asyncpf, enforced", { paravirt: { pvEnforceCpuid: true, asyncpfInt: true, asyncpf: false } }, DEBIAN12],
  ],
  "kvmclock-stable-bit-without-kvmclock": [
    ["the stable bit without kvmclock", { paravirt: { kvmclock: false, kvmclockStableBit: true } }, DEBIAN12],
  ],
  "msi-ext-dest-id-without-x2apic": [["x2apic off", { irqchip: "split", x2apic: false, paravirt: { msiExtDestId: true } }, DEBIAN12]],
  "msi-ext-dest-id-machine-compat": [["split irqchip on a 5.1 machine", { irqchip: "split", machine: "pc-q35-5.1" }, DEBIAN12]],
  "x2apic-needs-irqchip": [["x2apic with irqchip off", { irqchip: "off", x2apic: true }, DEBIAN12]],
  "irqchip-ignored-under-tcg": [["split under TCG", { accel: "tcg", irqchip: "split" }, DEBIAN12]],
  "asyncpf-without-asyncpf-int": [["asyncpf relied on", { paravirt: { asyncpf: true } }, DEBIAN12]],
  "asyncpf-inert": [
    ["the default asyncpf of a named model", { cpu: { mode: "custom", model: "Haswell" } }, DEBIAN12],
    ["a QEMU without kvm-asyncpf-int on a 5.10 host", {}, { ...OLD, kernel: "5.10.0", kvm: { available: true } }],
    ["a 4.15 host still delivers legacy async PF: nothing", {}, OLD],
    ["asyncpf-int on: nothing", { paravirt: { asyncpfInt: true } }, DEBIAN12],
    ["asyncpf set on (asyncpf-without-asyncpf-int says it): nothing", { paravirt: { asyncpf: true } }, DEBIAN12],
    ["the KVM signature hidden: nothing", { paravirt: { hidden: true } }, DEBIAN12],
  ],
  "poll-control-without-hint-dedicated": [
    ["poll control set", { paravirt: { pollControl: true } }, DEBIAN12],
    ["poll control by host passthrough", { cpu: { mode: "host-passthrough" } }, DEBIAN12],
  ],
  "hint-dedicated-disables-pv": [
    [
      "the hint with three PV features",
      { paravirt: { hintDedicated: true, pvUnhalt: true, pvTlbFlush: true, pvSchedYield: true } },
      DEBIAN12,
    ],
  ],
  "pv-needs-steal-time": [
    ["TLB flush and sched yield without steal time", { paravirt: { stealTime: false, pvTlbFlush: true, pvSchedYield: true } }, DEBIAN12],
    ["hidden: the features are not visible, nothing", { paravirt: { hidden: true, stealTime: false, pvTlbFlush: true } }, DEBIAN12],
  ],
  "single-vcpu-pv-unused": [["one vCPU", { vcpus: 1, paravirt: { pvIpi: true, pvUnhalt: true } }, DEBIAN12]],
  "guest-kernel-too-old": [
    ["a 4.18 guest", { guest: { kernel: "4.18" }, paravirt: { pvIpi: true, pollControl: true } }, DEBIAN12],
    ["a 5.10 guest: nothing", { guest: { kernel: "5.10" }, paravirt: { pvIpi: true, pollControl: true } }, DEBIAN12],
  ],
  "kvm-mmu-deprecated": [["kvm-mmu set", { paravirt: { mmu: true } }, DEBIAN12]],
  "irqchip-off-deprecated": [["irqchip off under KVM", { irqchip: "off" }, DEBIAN12]],
  "libvirt-refuses-pvspinlock": [
    ["pv-unhalt dropped by irqchip off", { irqchip: "off", paravirt: { pvUnhalt: true } }, DEBIAN12],
    ["pv-unhalt under TCG", { accel: "tcg", paravirt: { pvUnhalt: true } }, DEBIAN12],
  ],
  "libvirt-custom-argv": [
    [
      "no element, a no-op element, an old libvirt, irqchip off",
      { irqchip: "off", paravirt: { pvTlbFlush: false, pvIpi: true, pollControl: true } },
      { ...DEBIAN12, libvirt: "6.0.0" },
    ],
  ],
  "machine-alias-resolved": [
    ["q35 on the profile's QEMU", { machine: "q35" }, DEBIAN12],
    ["q35 on the assumed host", { machine: "q35" }, undefined],
  ],
  "host-model-qemu-args": [
    ["with the profile's host model", { cpu: { mode: "host-model" } }, { ...DEBIAN12, hostModel: "Haswell-noTSX" }],
    ["without a host model", { cpu: { mode: "host-model" } }, { ...DEBIAN12, hostModel: undefined }],
    ["without a host profile", { cpu: { mode: "host-model" } }, undefined],
    ["host-passthrough: nothing", { cpu: { mode: "host-passthrough" } }, DEBIAN12],
  ],
  "device-target-twice": [
    [
      "vda twice",
      {
        disks: [
          { target: "vda", file: "/a" },
          { target: "vda", file: "/b" },
        ],
      },
      DEBIAN12,
    ],
  ],
  "nic-mac-twice": [
    [
      "one MAC twice",
      {
        nics: [
          { user: true, mac: "52:54:00:00:00:01" },
          { user: true, mac: "52:54:00:00:00:01" },
        ],
      },
      DEBIAN12,
    ],
  ],
  "device-boot-order-twice": [
    [
      "boot 1 twice",
      {
        disks: [{ target: "vda", file: "/a", boot: 1 }],
        nics: [{ user: true, boot: 1 }],
      },
      DEBIAN12,
    ],
  ],
  "device-bus-missing-on-machine": [["IDE on q35", { disks: [{ target: "hda", file: "/a", bus: "ide" }] }, DEBIAN12]],
  "network-unknown-on-host": [
    ["a network the host lacks", { nics: [{ network: "lan" }] }, NETWORKS],
    ["a host without networks", { nics: [{ network: "lan" }] }, { ...DEBIAN12, networks: [] }],
  ],
  "network-inactive-on-host": [
    ["an inactive network", { nics: [{ network: "lab" }] }, NETWORKS],
    ["a bridge named like an inactive network: nothing", { nics: [{ bridge: "lab" }] }, NETWORKS],
  ],
  "disk-path-missing": [["a missing file on a local host", { disks: [{ target: "vda", file: "/nowhere.qcow2" }] }, DEBIAN12, false]],
  "extra-device-invalid": [["an element that is not a device", { extraDevices: ["<domain/>"] }, DEBIAN12]],
  "extra-device-alias-dropped": [
    ["a memballoon of model none", { extraDevices: ["<memballoon model='none'/>"] }, DEBIAN12],
    [
      "graphics, audio, a usb controller of model none, consoles on a serial target and without a target type",
      {
        extraDevices: [
          "<graphics type='spice' autoport='yes'/>",
          "<audio id='1' type='none'/>",
          "<controller type='usb' index='0' model='none'/>",
          "<console type='pty'><target type='serial' port='0'/></console>",
          "<console type='pty'/>",
        ],
      },
      DEBIAN12,
    ],
    [
      "the neighbours libvirt keeps the alias of (a virtio balloon, video none, a usb controller, a console on virtio): nothing",
      {
        extraDevices: [
          "<memballoon model='virtio'/>",
          "<video><model type='none'/></video>",
          "<controller type='usb' index='0' model='qemu-xhci'/>",
          "<console type='pty'><target type='virtio' port='0'/></console>",
        ],
      },
      DEBIAN12,
    ],
  ],
  "extra-device-unchecked": [["a watchdog", { extraDevices: ["<watchdog model='i6300esb'/>"] }, DEBIAN12]],
  "extra-device-schema": [
    ["a watchdog of a model libvirt does not have", { extraDevices: ["<watchdog model='kpv-no-such'/>"] }, DEBIAN12],
    [
      "a valid rng and watchdog: nothing",
      { extraDevices: ["<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>", "<watchdog model='i6300esb'/>"] },
      DEBIAN12,
    ],
    ["not well-formed (extra-device-invalid's): nothing", { extraDevices: ["<rng>&xxe;</rng>"] }, DEBIAN12],
  ],
  "hv-stimer-needs-hv-time": [
    ["stimer and synic without time", hv({ stimer: true, synic: true, vpindex: true }), HV],
    [
      "on this kind of host (no Hyper-V): still an error, QEMU would not check here",
      hv({ stimer: true, synic: true, vpindex: true }),
      NO_HYPERV,
    ],
    ["under TCG", hv({ stimer: true, synic: true, vpindex: true }, { accel: "tcg" }), HV],
    ["with time: nothing", hv({ stimer: true, synic: true, vpindex: true, time: true }), HV],
    ["in passthrough mode (QEMU checks nothing): nothing", hv({ mode: "passthrough" }), HV],
  ],
  "hv-stimer-needs-hv-synic": [["stimer and time without synic", hv({ stimer: true, time: true }), HV]],
  "hv-synic-needs-hv-vpindex": [
    ["synic alone on q35", hv({ synic: true }), HV],
    ["synic alone on pc-q35-3.0 (x-hv-synic-kvm-only): nothing", hv({ synic: true }, { machine: "pc-q35-3.0" }), HV],
  ],
  "hv-tlbflush-needs-hv-vpindex": [["tlbflush alone", hv({ tlbflush: true }), HV]],
  "hv-evmcs-needs-hv-vapic": [["evmcs alone", hv({ evmcs: true }), HV]],
  "hv-ipi-needs-hv-vpindex": [["ipi alone", hv({ ipi: true }), HV]],
  "hv-stimer-direct-needs-hv-stimer": [["stimerDirect alone", hv({ stimerDirect: true }), HV]],
  "hv-syndbg-needs-hv-relaxed": [["syndbg with synic and vpindex", hv({ syndbg: true, synic: true, vpindex: true }), HV]],
  "hv-syndbg-needs-hv-synic": [["syndbg with relaxed", hv({ syndbg: true, relaxed: true }), HV]],
  "hv-tlbflush-ext-needs-hv-tlbflush": [["tlbflushExt alone", hv({ tlbflushExt: true }), HV]],
  "hv-tlbflush-direct-needs-hv-vapic": [["tlbflushDirect alone", hv({ tlbflushDirect: true }), HV]],
  "hyperv-missing-in-qemu": [
    ["hv-avic on QEMU 3.1", hv({ avic: true, relaxed: true }), QEMU_3_1],
    ["passthrough on QEMU 3.1", hv({ mode: "passthrough" }), QEMU_3_1],
    ["hv-no-nonarch-coresharing on QEMU 3.1", hv({ relaxed: true, noNonarchCoresharing: "off" }), QEMU_3_1],
  ],
  "hyperv-unsupported-by-host": [
    ["ipi on a host that offers six flags", hv({ ipi: true, vpindex: true, relaxed: true }), SOME_HYPERV],
    ["evmcs without a measurement (Intel-only)", hv({ evmcs: true, vapic: true }), HV],
    ["tlbflushExt on a 6.1 kernel", hv({ tlbflushExt: true, tlbflush: true, vpindex: true }), HV],
    [
      "what the host offers: nothing",
      hv({ relaxed: true, vapic: true, time: true, vpindex: true, synic: true, stimer: true }),
      SOME_HYPERV,
    ],
  ],
  "hyperv-refused-without-host-hyperv": [
    ["vpindex on a KVM without Hyper-V", hv({ vpindex: true, relaxed: true }), NO_HYPERV],
    ["vpindex with Hyper-V: nothing", hv({ vpindex: true }), HV],
  ],
  "hyperv-aborts-without-host-hyperv": [
    [
      "vapic, time, synic, reenlightenment on a KVM without Hyper-V",
      hv({ vapic: true, time: true, synic: true, reenlightenment: true }),
      NO_HYPERV,
    ],
    ["relaxed alone (starts): nothing", hv({ relaxed: true }), NO_HYPERV],
  ],
  "hyperv-absent-without-host-hyperv": [
    ["relaxed, stimer, tlbflush start, the guest gets none", hv({ relaxed: true, stimer: true, tlbflush: true }), NO_HYPERV],
    ["a KVM with Hyper-V: nothing", hv({ relaxed: true }), HV],
  ],
  "hyperv-ignored-under-tcg": [
    ["flags under TCG", hv({ relaxed: true, vapic: true }, { accel: "tcg" }), HV],
    ["passthrough under TCG", hv({ mode: "passthrough" }, { accel: "tcg" }), HV],
  ],
  "hyperv-vpindex-refused-under-tcg": [
    ["vpindex under TCG on QEMU 7.2", hv({ vpindex: true }, { accel: "tcg" }), HV],
    ["vpindex under TCG on QEMU 10.2 (accepted from 8.2): nothing", hv({ vpindex: true }, { accel: "tcg" }), undefined],
  ],
  "hyperv-enforce-cpuid-unsupported": [
    ["hv-enforce-cpuid with relaxed on a 4.19 kernel", hv({ enforceCpuid: true, relaxed: true }), { ...QEMU_3_1, qemu: "7.2.0" }],
    ["without another flag (no Hyper-V leaves, nothing enabled): nothing", hv({ enforceCpuid: true }), { ...QEMU_3_1, qemu: "7.2.0" }],
  ],
  "hyperv-settings-in-passthrough": [
    [
      "flags, spinlocks and a vendor id in passthrough",
      hv({ mode: "passthrough", relaxed: true, spinlocks: 8191, vendorId: "KVMKVMKVM" }),
      DEBIAN12,
    ],
  ],
  "hyperv-passthrough-not-migratable": [["passthrough", hv({ mode: "passthrough" }), HV]],
  "hyperv-vendor-id-unseen": [
    ["a vendor id alone", hv({ vendorId: "NV43FIX" }, { paravirt: { hidden: true } }), HV],
    ["with relaxed: nothing", hv({ vendorId: "NV43FIX", relaxed: true }, { paravirt: { hidden: true } }), HV],
    ["on this kind of host (no Hyper-V), with relaxed", hv({ vendorId: "NV43FIX", relaxed: true }), NO_HYPERV],
    ["under TCG, with relaxed", hv({ vendorId: "NV43FIX", relaxed: true }, { accel: "tcg" }), HV],
  ],
  "hyperv-windows-profile": [
    ["a Windows 11 guest on a Hyper-V host", { guest: { os: "windows", version: "11" } }, HV],
    ["on a host that offers six flags: what it cannot have is left out, and what needs it", { guest: { os: "windows" } }, SOME_HYPERV],
    ["the spec sets time off: stimer and stimer-direct are left out", { guest: { os: "windows" }, hyperv: { time: false } }, HV],
    ["on this kind of host (no Hyper-V): nothing set", { guest: { os: "windows" } }, NO_HYPERV],
    ["a Linux guest: nothing", { guest: { os: "linux" } }, HV],
    ["passthrough mode: nothing", { guest: { os: "windows" }, hyperv: { mode: "passthrough" } }, HV],
  ],
  "windows-guest-without-hyperv": [
    ["on this kind of host (no Hyper-V)", { guest: { os: "windows" } }, NO_HYPERV],
    [
      "every flag set off, spinlocks QEMU's never-notify",
      { guest: { os: "windows" }, hyperv: { ...Object.fromEntries(HYPERV_FEATURES.map((r) => [r.key, false])), spinlocks: 4294967295 } },
      HV,
    ],
    ["with the profile on a Hyper-V host: nothing", { guest: { os: "windows" } }, HV],
    ["under TCG (hyperv-ignored-under-tcg says why): nothing", { accel: "tcg", guest: { os: "windows" } }, HV],
  ],
  "hyperv-hidden-without-vendor-id": [
    ["hidden with Hyper-V leaves", { paravirt: { hidden: true }, hyperv: { relaxed: true } }, HV],
    ["with a vendor id: nothing", { paravirt: { hidden: true }, hyperv: { relaxed: true, vendorId: "NV43FIX" } }, HV],
    ["no leaves (this kind of host): nothing", { paravirt: { hidden: true }, hyperv: { relaxed: true } }, NO_HYPERV],
  ],
  "hyperv-no-nonarch-coresharing-auto": [
    ["auto", hv({ relaxed: true, noNonarchCoresharing: "auto" }), HV],
    ["on: nothing", hv({ relaxed: true, noNonarchCoresharing: "on" }, { dedicatedVcpus: true }), HV],
  ],
  "hyperv-no-nonarch-coresharing-shared-vcpus": [
    ["on without dedicated vCPUs", hv({ relaxed: true, noNonarchCoresharing: "on" }), HV],
    ["on with dedicated vCPUs: nothing", hv({ relaxed: true, noNonarchCoresharing: "on" }, { dedicatedVcpus: true }), HV],
  ],
  "hint-dedicated-without-dedicated-vcpus": [
    ["the hint on, the vCPUs not pinned", { vcpus: 2, paravirt: { hintDedicated: true } }, PINNABLE],
    [
      "pinned to a set each",
      { vcpus: 2, cpuPinning: { vcpus: ["0-1", "0-1"], emulator: "2" }, paravirt: { hintDedicated: true } },
      PINNABLE,
    ],
    ["the emulator not pinned", { vcpus: 2, cpuPinning: { vcpus: ["2", "3"] }, paravirt: { hintDedicated: true } }, PINNABLE],
    [
      "pinned one to one, the emulator elsewhere: nothing",
      { vcpus: 2, cpuPinning: { vcpus: ["2", "3"], emulator: "0-1" }, paravirt: { hintDedicated: true } },
      PINNABLE,
    ],
    [
      "dedicatedVcpus: true (hint-dedicated-pinning-unverified): nothing",
      { dedicatedVcpus: true, paravirt: { hintDedicated: true } },
      PINNABLE,
    ],
    ["cpuPinning.dedicated (dedicated-vcpus-not-dedicated): nothing", { vcpus: 4, cpuPinning: { dedicated: true } }, PINNABLE],
  ],
  "hint-dedicated-pinning-unverified": [
    ["dedicatedVcpus: true without pinning", { dedicatedVcpus: true, paravirt: { hintDedicated: true } }, DEBIAN12],
    [
      "dedicatedVcpus: true with one-to-one pinning: nothing",
      { dedicatedVcpus: true, cpuPinning: { vcpus: ["3"], emulator: "0" }, paravirt: { hintDedicated: true } },
      PINNABLE,
    ],
  ],
  "dedicated-vcpus-not-dedicated": [
    ["the emulator on a vCPU's host CPU", { vcpus: 2, cpuPinning: { dedicated: true, vcpus: ["2", "3"], emulator: "3" } }, PINNABLE],
    ["four vCPUs on four host CPUs (one stays for the emulator)", { vcpus: 4, cpuPinning: { dedicated: true } }, PINNABLE],
    ["the host's CPUs unknown", { cpuPinning: { dedicated: true } }, DEBIAN12],
    [
      "another domain's vCPU on the host CPU",
      { cpuPinning: { dedicated: true, vcpus: ["3"] }, _neighbours: [live("other", [[3]], [0])] },
      PINNABLE,
    ],
    [
      "another domain's emulator on the host CPU",
      { cpuPinning: { dedicated: true, vcpus: ["1"], emulator: "0" }, _neighbours: [live("other", [[3]], [1])] },
      PINNABLE,
    ],
    ["two vCPUs picked: nothing", { vcpus: 2, cpuPinning: { dedicated: true } }, PINNABLE],
    [
      "picked around a neighbour: nothing",
      { vcpus: 2, cpuPinning: { dedicated: true }, _neighbours: [live("other", [[3]], [0])] },
      PINNABLE,
    ],
  ],
  "cpuset-cpu-missing-on-host": [
    ["CPU 7 and an emulator on 8-9, on a four-CPU host", { vcpus: 2, cpuPinning: { vcpus: ["1", "7"], emulator: "8-9" } }, PINNABLE],
    ["the host's CPUs unknown: nothing", { vcpus: 2, cpuPinning: { vcpus: ["1", "7"], emulator: "8-9" } }, DEBIAN12],
  ],
  "dedicated-cpus-floating-neighbours": [
    ["an unpinned neighbour", { cpuPinning: { dedicated: true }, _neighbours: [live("web", null)] }, PINNABLE],
    [
      "six of them",
      { cpuPinning: { dedicated: true, vcpus: ["2"] }, _neighbours: ["a", "b", "c", "d", "e", "f"].map((n) => live(n, null)) },
      PINNABLE,
    ],
    ["only pinned neighbours: nothing", { cpuPinning: { dedicated: true, vcpus: ["2"] }, _neighbours: [live("db", [[3]], [0])] }, PINNABLE],
  ],
  "dedicated-cpu-sibling-shared": [
    [
      "a neighbour's vCPU on the dedicated CPU's sibling",
      { cpuPinning: { dedicated: true, vcpus: ["3"], emulator: "0" }, _neighbours: [live("db", [[1]], [0])] },
      SMT,
    ],
    [
      "the sibling free: nothing",
      { cpuPinning: { dedicated: true, vcpus: ["3"], emulator: "0" }, _neighbours: [live("db", [[2]], [0])] },
      SMT,
    ],
    [
      "no SMT in the profile: nothing",
      { cpuPinning: { dedicated: true, vcpus: ["3"], emulator: "0" }, _neighbours: [live("db", [[1]], [0])] },
      PINNABLE,
    ],
  ],
  "dedicated-vcpus-hint-off": [
    ["dedicated, the hint set off", { cpuPinning: { dedicated: true }, paravirt: { hintDedicated: false } }, PINNABLE],
    ["dedicated, the hint left to it: nothing", { cpuPinning: { dedicated: true } }, PINNABLE],
  ],
  "numa-node-missing-on-host": [
    ["nodes 0-1 on a one-node host", { numa: { nodeset: "0-1" } }, PINNABLE],
    ["node 0: nothing", { numa: { nodeset: "0", mode: "interleave" } }, PINNABLE],
  ],
  "hugepages-size-missing-on-host": [
    ["1 GiB pages on a host with 2 MiB ones", { hugepages: { sizeKiB: 1048576 } }, PINNABLE],
    ["2 MiB pages: nothing", { memoryMiB: 256, hugepages: { sizeKiB: 2048 } }, PINNABLE],
  ],
  "hugepages-pool-too-small": [
    ["1024 MiB from 256 free 2 MiB pages", { memoryMiB: 1024, hugepages: { sizeKiB: 2048 } }, PINNABLE],
    ["strict on node 0", { memoryMiB: 2048, numa: { nodeset: "0" }, hugepages: { sizeKiB: 2048 } }, PINNABLE],
    ["512 MiB: nothing", { memoryMiB: 512, hugepages: { sizeKiB: 2048 } }, PINNABLE],
  ],
  "guest-lacks-virtio": [
    ["a 2.6.18 guest with a virtio disk", { guest: { kernel: "2.6.18" }, disks: [{ target: "vda", file: "/a" }] }, DEBIAN12],
  ],
};

function findings(code: string, withNeighbours: Record<string, unknown>, host: HostProfile | undefined, exists?: boolean): string[] {
  const { _neighbours, ...domain } = withNeighbours;
  const spec = domainSpec({ name: "vm", ...domain });
  const placement = _neighbours ? { neighbours: _neighbours as PinnedNeighbour[] } : undefined;
  // libvirt's schema as the edges give it (virt-xml-validate); extra-device-schema's cases need it
  const access = { ...(exists === undefined ? {} : { pathExists: () => exists }), ...(code === "extra-device-schema" ? hostAccess() : {}) };
  const { rendered } = renderDomain(spec, host, "", access, placement);
  return rendered.diagnostics.filter((d) => d.code === code).map((d) => `${d.severity} ${d.path}: ${d.message}`);
}

describe("extra-device-schema needs the edge's validator", () => {
  test("without one (a core caller, no host access) it stays quiet: extra-device-unchecked says the device is not checked", () => {
    const { rendered } = renderDomain(domainSpec({ name: "vm", extraDevices: ["<watchdog model='kpv-no-such'/>"] }), DEBIAN12);
    expect(rendered.diagnostics.map((d) => d.code)).toContain("extra-device-unchecked");
    expect(rendered.diagnostics.map((d) => d.code)).not.toContain("extra-device-schema");
  });
});

describe("extra-device-alias-dropped goes by the table the oracle checks (ALIAS_DROPPED)", () => {
  test.each(ALIAS_DROPPED.map((r) => [r.what, r] as const))("%s: its sample is refused, naming it and what to do instead", (_what, row) => {
    expect(findings("extra-device-alias-dropped", { extraDevices: [row.sample] }, DEBIAN12)).toEqual([
      `error extraDevices[0]: ${row.what}: libvirt defines it but drops the alias kvm-paravirt names it by (ua-kpv-extra-0), so it is never found again and every plan would add it anew; ${row.instead}`,
    ]);
  });
  test("an error (validate, plan, apply and the provider's Check stop on errors), on the entry's path", () => {
    const { rendered } = renderDomain(domainSpec({ name: "vm", extraDevices: ["<memballoon model='none'/>"] }), DEBIAN12);
    expect(rendered.diagnostics).toContainEqual(
      expect.objectContaining({ severity: "error", code: "extra-device-alias-dropped", path: "extraDevices[0]" }),
    );
  });
});

describe("every rule on domains made to fire it", () => {
  test("every rule has cases, and every case's code is a rule", () => {
    expect(Object.keys(CASES).sort()).toEqual(RULES.map((r) => r.code).sort());
  });

  for (const [code, cases] of Object.entries(CASES))
    describe(code, () => {
      // one rest parameter: with a fourth named one, jest would pass `done` to the three-element rows
      test.each(cases)("%s", (...[label, domain, host, exists]: Case) => {
        const got = findings(code, domain, host, exists);
        // a case labelled "nothing" is the edge where the rule must stay quiet
        if (label.endsWith("nothing")) expect(got).toEqual([]);
        else expect(got.length).toBeGreaterThan(0);
        expect(got).toMatchSnapshot();
      });
    });
});
