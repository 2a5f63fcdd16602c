import type * as pulumi from "@pulumi/pulumi";
import type { DomainInput } from "../input/schema";

/**
 * The hand-written argument interface of ParavirtDomain. Its JSDoc becomes the
 * documentation of every generated SDK; the compile-time check at the bottom
 * keeps it in step with the zod spec schema, and test/pulumi/schema.test.ts
 * checks the paravirt keys and their descriptions against the catalog.
 */

/** The effective value of one PV property, why it has it. */
export interface FeatureState {
  /** the QOM property value of the realized vCPU (for kvm: false = KVM signature hidden) */
  enabled: boolean;
  /** default, explicit, host-passthrough, implied, dropped or os-profile (the guest OS profile, for Hyper-V) */
  source: string;
  /** why */
  reason: string;
}

/** A diagnostic about the arguments, with a stable code. */
export interface DomainDiagnostic {
  /** error, warning or info */
  severity: string;
  /** stable code, e.g. msi-ext-dest-id-needs-split-irqchip */
  code: string;
  message: string;
  /** the argument it concerns, e.g. paravirt.pvIpi */
  path: string;
}

/** CPU mode, as libvirt names it. */
export const CpuMode = {
  /** a named QEMU CPU model (cpu.model); QEMU's named-model PV defaults apply */
  Custom: "custom",
  /** `-cpu host`: every PV feature the host's KVM offers is passed through (never hints) */
  HostPassthrough: "host-passthrough",
  /** libvirt expands it to the host's named model at start; named-model PV defaults apply */
  HostModel: "host-model",
  /** `-cpu max`: like host-passthrough for PV features */
  Maximum: "maximum",
} as const;
export type CpuMode = (typeof CpuMode)[keyof typeof CpuMode];

/** libvirt's `<cpu check>`. */
export const CpuCheck = {
  /** no host check: behaves like plain QEMU, which warns and drops what the host lacks (default) */
  None: "none",
  /** libvirt checks the host before starting */
  Partial: "partial",
  /** libvirt also checks the CPU QEMU created */
  Full: "full",
} as const;
export type CpuCheck = (typeof CpuCheck)[keyof typeof CpuCheck];

/** Accelerator. */
export const Accel = {
  /** KVM (default): the only accelerator with PV features */
  Kvm: "kvm",
  /** TCG emulation: QEMU clears every KVM PV feature */
  Tcg: "tcg",
} as const;
export type Accel = (typeof Accel)[keyof typeof Accel];

/** Where the interrupt controllers live. */
export const Irqchip = {
  /** in-kernel LAPIC, IOAPIC and PIC (default) */
  Kernel: "kernel",
  /** in-kernel LAPIC, userspace IOAPIC (libvirt `<ioapic driver='qemu'/>`): turns kvm-msi-ext-dest-id on */
  Split: "split",
  /** userspace LAPIC (deprecated by QEMU for KVM): no kvm-pv-unhalt, no x2apic */
  Off: "off",
} as const;
export type Irqchip = (typeof Irqchip)[keyof typeof Irqchip];

/** The vCPU model. */
/** Bus of a disk. */
export const DiskBus = { Virtio: "virtio", Sata: "sata", Scsi: "scsi", Ide: "ide" } as const;
export type DiskBus = (typeof DiskBus)[keyof typeof DiskBus];
/** What the guest sees: a disk or a cdrom drive. */
export const DiskDevice = { Disk: "disk", Cdrom: "cdrom" } as const;
export type DiskDevice = (typeof DiskDevice)[keyof typeof DiskDevice];
/** Image format. */
export const DiskFormat = { Qcow2: "qcow2", Raw: "raw" } as const;
export type DiskFormat = (typeof DiskFormat)[keyof typeof DiskFormat];
/** Host page cache mode. */
export const DiskCache = {
  Default: "default",
  None: "none",
  Writethrough: "writethrough",
  Writeback: "writeback",
  Directsync: "directsync",
  Unsafe: "unsafe",
} as const;
export type DiskCache = (typeof DiskCache)[keyof typeof DiskCache];
/** I/O mode. */
export const DiskIo = { Native: "native", Threads: "threads", IoUring: "io_uring" } as const;
export type DiskIo = (typeof DiskIo)[keyof typeof DiskIo];
/** NIC model. */
export const NicModel = { Virtio: "virtio", E1000e: "e1000e", E1000: "e1000", Rtl8139: "rtl8139" } as const;
export type NicModel = (typeof NicModel)[keyof typeof NicModel];
/** Graphics device. */
export const GraphicsType = { None: "none", Vnc: "vnc", Spice: "spice" } as const;
export type GraphicsType = (typeof GraphicsType)[keyof typeof GraphicsType];
/** What the domain does after its definition is applied. */
export const RunState = { Defined: "defined", Running: "running", Paused: "paused" } as const;
export type RunState = (typeof RunState)[keyof typeof RunState];

/** A disk or cdrom, identified by its target. */
export interface DiskArgs {
  /** The guest device: vda, vdb (virtio), sda (sata/scsi), hda (ide). */
  target: string;
  /** An absolute path of an image file on the host. */
  file?: string;
  /** A libvirt storage pool (with volume). */
  pool?: string;
  /** A volume of the pool. */
  volume?: string;
  /** disk (default) or cdrom. */
  device?: DiskDevice;
  /** Default: from the target (vd: virtio, sd: sata, hd: ide). */
  bus?: DiskBus;
  /** Default: qcow2 for a disk, raw for a cdrom. */
  format?: DiskFormat;
  /** Read-only (a cdrom always is). */
  readonly?: boolean;
  /** Boot order, 1 first. */
  boot?: number;
  /** Host page cache mode. */
  cache?: DiskCache;
  /** I/O mode. */
  io?: DiskIo;
  /** The IOThread (1..N of cpuPinning.iothreads) serving this virtio disk. */
  iothread?: number;
}

/** A network interface: exactly one of network, bridge or user. */
export interface NicArgs {
  /** A libvirt network, e.g. default. */
  network?: string;
  /** A host bridge, e.g. br0. */
  bridge?: string;
  /** User-mode networking (no host setup): true; false or left out: give network or bridge. */
  user?: boolean;
  /** Default virtio. */
  model?: NicModel;
  /** A unicast MAC; default: the one libvirt generates at creation, kept across updates. */
  mac?: string;
  /** Boot order, 1 first. */
  boot?: number;
}

/** A graphics device. */
export interface GraphicsArgs {
  /** none, vnc or spice. */
  type: GraphicsType;
  /** Listen address, default 127.0.0.1. */
  listen?: string;
}

/** When a changed definition of a running domain takes effect. */
export const Restart = {
  /** never restart: the change waits for the next restart (restartRequired says so) */
  Never: "never",
  /** destroy and start the domain again (paused if it was paused) when its definition changed */
  IfNeeded: "if-needed",
} as const;
export type Restart = (typeof Restart)[keyof typeof Restart];

export interface CpuArgs {
  /** CPU mode: custom (default), host-passthrough, host-model or maximum. */
  mode?: CpuMode;
  /** Named QEMU CPU model for mode custom, e.g. qemu64 (default) or Skylake-Server. Not allowed with other modes. */
  model?: string;
  /** libvirt's CPU check: none (default, like plain QEMU), partial or full. */
  check?: CpuCheck;
  /** Other (non-PV) CPU features by QEMU name, true to require and false to disable, e.g. { "arch-capabilities": false }. */
  features?: Record<string, boolean>;
}

/** Hyper-V enlightenments (QEMU's hv-* CPU flags; libvirt's <features><hyperv>), for Windows guests. Each flag on, off or inherited (off). */
export interface HypervArgs {
  /** custom (default): the flags set here; passthrough: every enlightenment the host's KVM offers (the domain cannot migrate). */
  mode?: HypervMode;
  /** Spinlock retries before the guest notifies the host (libvirt <spinlocks retries>, at least 4095; QEMU's default: never). */
  spinlocks?: number;
  /** The Hyper-V vendor id the guest sees, 1-12 characters (QEMU's default "Microsoft Hv"). */
  vendorId?: string;
  /** hv-no-nonarch-coresharing: on tells Windows no other guest shares its cores (only true with pinned vCPUs); auto passes on what KVM says (not migratable). */
  noNonarchCoresharing?: NoNonarchCoresharing;
  /** Relaxed timing: Windows disables its watchdog timeouts, which a preempted vCPU would trip (BSOD 0x101). */
  relaxed?: boolean;
  /** Virtual APIC MSRs: EOI, ICR and TPR accesses without APIC page emulation. */
  vapic?: boolean;
  /** Hyper-V reference counter and TSC page: the clocksource Windows prefers. */
  time?: boolean;
  /** Crash MSRs: the guest reports a crash to the host (a panic event), which stops Windows' own crash dump. */
  crash?: boolean;
  /** Reset MSR: the guest can reset itself through Hyper-V. */
  reset?: boolean;
  /** Virtual processor index MSR: needed by SynIC, PV TLB flush and PV IPI. */
  vpindex?: boolean;
  /** Virtual processor run time MSR: the guest sees how long it really ran. */
  runtime?: boolean;
  /** Synthetic interrupt controller: needed by synthetic timers and VMBus devices. */
  synic?: boolean;
  /** Synthetic timers: far fewer timer interrupts and VM exits for an idle Windows guest. */
  stimer?: boolean;
  /** TSC and APIC frequency MSRs: the guest reads the frequencies instead of calibrating. */
  frequencies?: boolean;
  /** Reenlightenment notifications after a migration changes the TSC frequency (for nested hypervisors in the guest). */
  reenlightenment?: boolean;
  /** Paravirtual TLB flush: one hypercall instead of IPIs to every vCPU, and no waiting for preempted ones. */
  tlbflush?: boolean;
  /** Enlightened VMCS for a hypervisor nested in the guest (Hyper-V, WSL2, VBS); Intel VMX with nested=1 only. */
  evmcs?: boolean;
  /** Paravirtual IPIs: one hypercall sends an IPI to many vCPUs. */
  ipi?: boolean;
  /** Synthetic timers delivered as a normal interrupt, not a VMBus message (needed by some guests' timer setups). */
  stimerDirect?: boolean;
  /** Tells the guest not to use the auto-EOI feature, so AVIC/APICv hardware interrupt virtualization stays on. */
  avic?: boolean;
  /** Synthetic kernel debugger channel (debugging only; built only with CONFIG_SYNDBG). */
  syndbg?: boolean;
  /** Enlightened MSR bitmap for a hypervisor nested in the guest. */
  emsrBitmap?: boolean;
  /** Hypercall input passed in XMM registers: faster hypercalls. */
  xmmInput?: boolean;
  /** Extended GVA ranges for the TLB flush hypercalls. */
  tlbflushExt?: boolean;
  /** Direct TLB flush for a hypervisor nested in the guest. */
  tlbflushDirect?: boolean;
  /** KVM refuses every Hyper-V feature the guest was not given in CPUID (without it, every one KVM implements works once any is exposed). */
  enforceCpuid?: boolean;
}

/** hv-no-nonarch-coresharing. */
export const NoNonarchCoresharing = {
  /** the guest is told no other guest's code runs on its cores */
  On: "on",
  /** QEMU's default */
  Off: "off",
  /** what the host's KVM reports (a host with SMT off); QEMU then blocks migration */
  Auto: "auto",
} as const;
export type NoNonarchCoresharing = (typeof NoNonarchCoresharing)[keyof typeof NoNonarchCoresharing];

/** How the Hyper-V enlightenments are chosen. */
export const HypervMode = {
  /** the flags the spec sets (default) */
  Custom: "custom",
  /** every enlightenment the host's KVM offers (hv-passthrough): not migratable */
  Passthrough: "passthrough",
} as const;
export type HypervMode = (typeof HypervMode)[keyof typeof HypervMode];

/** Paravirtual KVM features: true or false sets the QEMU property, absent inherits QEMU's default. */
export interface ParavirtArgs {
  /** KVM paravirtual clock (one property for CPUID bits 0 and 3): a stable guest clocksource. */
  kvmclock?: boolean;
  /** The guest skips I/O port delays (no port 0x80 writes). */
  nopiodelay?: boolean;
  /** Paravirtual MMU operations (removed from Linux; never supported by KVM's GET_SUPPORTED_CPUID). */
  mmu?: boolean;
  /** Asynchronous page faults, legacy delivery: the guest can run other tasks while the host swaps a page in. */
  asyncpf?: boolean;
  /** Steal-time accounting; the guest also needs it before it uses PV TLB flush or PV sched yield. */
  stealTime?: boolean;
  /** Paravirtual end-of-interrupt: fewer VM exits on interrupt completion. */
  pvEoi?: boolean;
  /** PV spinlocks: a waiting vCPU halts and is kicked instead of spinning. Needs the in-kernel irqchip. */
  pvUnhalt?: boolean;
  /** PV remote TLB flush: preempted vCPUs are flushed lazily instead of by IPI. */
  pvTlbFlush?: boolean;
  /** Async page faults delivered as #PF vmexits to a nested hypervisor. */
  asyncpfVmexit?: boolean;
  /** PV send-IPI hypercall: one exit for an IPI to many vCPUs. */
  pvIpi?: boolean;
  /** The guest's haltpoll cpuidle driver can turn off host-side halt polling. */
  pollControl?: boolean;
  /** PV sched yield: a vCPU sending an IPI to a preempted vCPU yields to it. */
  pvSchedYield?: boolean;
  /** Async page faults delivered as interrupts: the only async PF modern hosts and guests use. */
  asyncpfInt?: boolean;
  /** Extended MSI destination ID: >255 vCPUs in x2APIC mode without an IOMMU. QEMU offers it only with the split irqchip. */
  msiExtDestId?: boolean;
  /** Tells the guest the kvmclock is stable across vCPUs; meaningless without kvmclock. */
  kvmclockStableBit?: boolean;
  /** Hint that each vCPU has a dedicated physical CPU: the guest stops PV spinlocks, TLB flush and sched yield and may load haltpoll. */
  hintDedicated?: boolean;
  /** KVM refuses PV MSRs and hypercalls whose CPUID bit the guest was not given. QEMU aborts if the host lacks the capability. */
  pvEnforceCpuid?: boolean;
  /** The KVM CPUID signature; hidden (kvm=off) removes the KVM leaves and with them every PV feature. */
  hidden?: boolean;
}

/** vCPU and emulator pinning (libvirt <cputune>). */
export interface CpuPinningArgs {
  /** Each vCPU on a host CPU of its own that no other vCPU or emulator thread on the host is pinned to; without vcpus the tool picks them. Turns kvm-hint-dedicated on unless set. */
  dedicated?: boolean;
  /** Per vCPU, in order, the host CPUs it may run on, e.g. "2" or "2-3" (libvirt cpuset syntax). */
  vcpus?: string[];
  /** The host CPUs QEMU's emulator threads may run on; with dedicated the default is the host CPUs no dedicated vCPU has. */
  emulator?: string;
  /** One IOThread per entry, each on these host CPUs; a virtio disk uses one with iothread: N. */
  iothreads?: string[];
}

/** Where the guest's memory comes from on the host (libvirt <numatune>), and the guest's own NUMA cells. */
export interface NumaArgs {
  /** strict (default), preferred, interleave or restrictive (with nodeset). */
  mode?: NumaMode;
  /** The host NUMA nodes the memory comes from, e.g. "0". */
  nodeset?: string;
  /** The guest's NUMA topology: cells of vCPUs and memory (each vCPU in one cell, the memory adding up to memoryMiB). */
  cells?: NumaCellArgs[];
}

/** One guest NUMA cell. */
export interface NumaCellArgs {
  /** Its vCPUs, e.g. "0-1". */
  cpus: string;
  /** Its memory in MiB. */
  memoryMiB: number;
}

/** How a guest's memory may use the host's NUMA nodes. */
export const NumaMode = {
  /** only the nodes named (libvirt's default) */
  Strict: "strict",
  /** the nodes named first, others when they are full */
  Preferred: "preferred",
  /** spread over the nodes named */
  Interleave: "interleave",
  /** the nodes named, enforced by cgroups only (no memory policy inside QEMU) */
  Restrictive: "restrictive",
} as const;
export type NumaMode = (typeof NumaMode)[keyof typeof NumaMode];

/** Huge pages backing the guest's memory (libvirt <memoryBacking><hugepages>). */
export interface HugepagesArgs {
  /** The page size in KiB: 2048 (2 MiB) or 1048576 (1 GiB); the host needs a pool of that size with room for all the memory. */
  sizeKiB: number;
}

/** Versions of the target host, overriding the host profile. */
export interface HostVersionsArgs {
  /** QEMU version, e.g. 7.2.0. */
  qemu?: string;
  /** libvirt version, e.g. 9.0.0. */
  libvirt?: string;
  /** Host kernel version, e.g. 6.1. */
  kernel?: string;
}

/** What runs inside the VM. */
export interface GuestArgs {
  /** Guest kernel version, e.g. 6.1: warns about features it is too old to use. */
  kernel?: string;
  /** The guest's OS: windows gives the Hyper-V flags left unset the Windows profile's (recommended, each with its reason). */
  os?: GuestOs;
  /** The Windows release, e.g. 11 or server-2022 (with os windows). */
  version?: WindowsVersion;
}

/** The guest's operating system. */
export const GuestOs = {
  /** a Linux guest (no Hyper-V profile) */
  Linux: "linux",
  /** a Windows guest: the Windows Hyper-V profile applies */
  Windows: "windows",
} as const;
export type GuestOs = (typeof GuestOs)[keyof typeof GuestOs];

/** A Windows release. */
export const WindowsVersion = {
  /** Windows 7 */
  Windows7: "7",
  /** Windows 8 */
  Windows8: "8",
  /** Windows 8.1 */
  Windows81: "8.1",
  /** Windows 10 */
  Windows10: "10",
  /** Windows 11 */
  Windows11: "11",
  /** Windows Server 2008 R2 */
  Server2008R2: "server-2008r2",
  /** Windows Server 2012 */
  Server2012: "server-2012",
  /** Windows Server 2012 R2 */
  Server2012R2: "server-2012r2",
  /** Windows Server 2016 */
  Server2016: "server-2016",
  /** Windows Server 2019 */
  Server2019: "server-2019",
  /** Windows Server 2022 */
  Server2022: "server-2022",
  /** Windows Server 2025 */
  Server2025: "server-2025",
} as const;
export type WindowsVersion = (typeof WindowsVersion)[keyof typeof WindowsVersion];

/** Arguments of a ParavirtDomain: one domain of the spec, plus where and whether to deploy it. */
export interface ParavirtDomainArgs {
  /** libvirt domain name (defaults to the resource name): 1-255 bytes, no < > & quotes commas whitespace slashes or control characters, not starting with '-'. */
  name?: pulumi.Input<string>;
  /** Number of vCPUs (default 1). */
  vcpus?: pulumi.Input<number>;
  /** Memory in MiB (default 1024). */
  memoryMiB?: pulumi.Input<number>;
  /** Machine type: q35 (default), pc, or a versioned type such as pc-q35-7.2 or pc-i440fx-5.1. */
  machine?: pulumi.Input<string>;
  /** Accelerator: kvm (default) or tcg. */
  accel?: pulumi.Input<Accel>;
  /** The vCPU model. */
  cpu?: pulumi.Input<CpuArgs>;
  /** Interrupt controller placement: kernel (default), split or off. */
  irqchip?: pulumi.Input<Irqchip>;
  /** Require (true) or disable (false) x2APIC; absent leaves QEMU's default. */
  x2apic?: pulumi.Input<boolean>;
  /** The vCPUs are dedicated by means this tool does not see (host isolation, pinning by another tool): kvm-hint-dedicated without cpuPinning is then a warning, not an error. */
  dedicatedVcpus?: pulumi.Input<boolean>;
  /** vCPU and emulator pinning; dedicated: true makes the vCPUs dedicated (and turns kvm-hint-dedicated on unless set). */
  cpuPinning?: pulumi.Input<CpuPinningArgs>;
  /** Where on the host the guest's memory comes from. */
  numa?: pulumi.Input<NumaArgs>;
  /** Back the guest's memory with huge pages. */
  hugepages?: pulumi.Input<HugepagesArgs>;
  /** Paravirtual KVM features, each true, false or absent (inherit QEMU's default). */
  paravirt?: pulumi.Input<ParavirtArgs>;
  /** Hyper-V enlightenments for Windows guests: each flag on, off or inherited; passthrough mode; spinlocks and vendor id. */
  hyperv?: pulumi.Input<HypervArgs>;
  /** Versions of the target host, overriding the host profile. */
  host?: pulumi.Input<HostVersionsArgs>;
  /** The guest, for warnings about features it cannot use. */
  guest?: pulumi.Input<GuestArgs>;
  /** Disks and cdroms; each identified by its target (the spec owns those it declares, others stay). */
  disks?: pulumi.Input<pulumi.Input<DiskArgs>[]>;
  /** Network interfaces; each identified by its MAC, or by its source and order. */
  nics?: pulumi.Input<pulumi.Input<NicArgs>[]>;
  /** A serial console (virsh console). */
  serialConsole?: pulumi.Input<boolean>;
  /** A graphics device. */
  graphics?: pulumi.Input<GraphicsArgs>;
  /** After the define: defined (default, left as it is), running or paused. */
  runState?: pulumi.Input<RunState>;
  /** Start the domain with the host. */
  autostart?: pulumi.Input<boolean>;
  /** Any other device as libvirt XML (one element each), passed through unchecked by the resolver; libvirt's schema checks it before a define. */
  extraDevices?: pulumi.Input<pulumi.Input<string>[]>;
  /** The JSON written by `kvm-paravirt probe --json` on the target host: the preview then fails on a host that lacks a feature. */
  hostProfile?: pulumi.Input<string>;
  /** libvirt connection URI (default qemu:///system); kept secret when it carries a password. */
  connection?: pulumi.Input<string>;
  /** A running domain whose definition changed: never restarted (default; restartRequired says so) or restarted if needed. */
  restart?: pulumi.Input<Restart>;
  /** Define the domain on the connection (default true); false only renders (for use with another libvirt provider). */
  deploy?: boolean;
}

// ---- compile-time check: the interface carries exactly the spec's domain fields ----
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Plain<T> = T extends pulumi.Input<infer U> ? U : T;
type ArgsDomainPart = {
  [K in Exclude<keyof ParavirtDomainArgs, "hostProfile" | "connection" | "restart" | "deploy">]-?: Exclude<
    Plain<ParavirtDomainArgs[K]>,
    undefined
  >;
};
type SpecDomainPart = { [K in keyof DomainInput]-?: Exclude<DomainInput[K], undefined> };
type AssertTrue<T extends true> = T;
export type _ArgsKeysMatchSpec = AssertTrue<Same<keyof ArgsDomainPart, keyof SpecDomainPart>>;
export type _CpuMatchesSpec = AssertTrue<Same<Required<CpuArgs>, Required<Exclude<DomainInput["cpu"], undefined>>>>;
export type _HostMatchesSpec = AssertTrue<Same<Required<HostVersionsArgs>, Required<Exclude<DomainInput["host"], undefined>>>>;
export type _GuestMatchesSpec = AssertTrue<Same<Required<GuestArgs>, Required<Exclude<DomainInput["guest"], undefined>>>>;
export type _ScalarsMatchSpec = AssertTrue<
  Same<
    Pick<ArgsDomainPart, "name" | "vcpus" | "memoryMiB" | "machine" | "accel" | "irqchip" | "x2apic" | "dedicatedVcpus">,
    Pick<SpecDomainPart, "name" | "vcpus" | "memoryMiB" | "machine" | "accel" | "irqchip" | "x2apic" | "dedicatedVcpus">
  >
>;
export type _ParavirtMatchesSpec = AssertTrue<
  Same<Required<ParavirtArgs>[keyof ParavirtArgs], Exclude<Exclude<DomainInput["paravirt"], undefined>[string], undefined>>
>;
export type _CpuPinningMatchesSpec = AssertTrue<Same<Required<CpuPinningArgs>, Required<Exclude<DomainInput["cpuPinning"], undefined>>>>;
export type _NumaMatchesSpec = AssertTrue<Same<Required<NumaArgs>, Required<Exclude<DomainInput["numa"], undefined>>>>;
export type _HugepagesMatchesSpec = AssertTrue<Same<Required<HugepagesArgs>, Required<Exclude<DomainInput["hugepages"], undefined>>>>;
export type _HypervMatchesSpec = AssertTrue<Same<Required<HypervArgs>, Required<Exclude<DomainInput["hyperv"], undefined>>>>;
type Item<T> = T extends readonly (infer U)[] ? U : never;
export type _DiskMatchesSpec = AssertTrue<Same<Required<DiskArgs>, Required<Item<Exclude<DomainInput["disks"], undefined>>>>>;
export type _NicMatchesSpec = AssertTrue<Same<Required<NicArgs>, Required<Item<Exclude<DomainInput["nics"], undefined>>>>>;
export type _GraphicsMatchesSpec = AssertTrue<Same<Required<GraphicsArgs>, Required<Exclude<DomainInput["graphics"], undefined>>>>;
export type _RunStateMatchesSpec = AssertTrue<Same<RunState, Exclude<DomainInput["runState"], undefined>>>;
