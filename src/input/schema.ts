import { z } from "zod";
import { FEATURES, FEATURE_BY_QEMU_NAME } from "../catalog/features";
import { HYPERV_FEATURES, HYPERV_VALUES, WINDOWS_VERSIONS, type HypervKey } from "../catalog/hyperv";
import { isMachineSyntax, MACHINE_PATTERN_HELP } from "../catalog/machines";
import { CPUSET_HELP, formatCpuset, parseCpuset } from "../util/cpuset";

/**
 * The declarative input: one entry per libvirt domain. Every field that reaches
 * XML, a shell or a QEMU option string is restricted here first.
 */

export const CPU_MODES = ["custom", "host-passthrough", "host-model", "maximum"] as const;
export const IRQCHIPS = ["kernel", "split", "off"] as const;
export const ACCELS = ["kvm", "tcg"] as const;

/** Characters a domain name may not contain: XML specials, quotes, commas, whitespace, slashes, controls. */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern refuses
const NAME_FORBIDDEN = /[<>&'",\s/\\\x00-\x1f\x7f]/;
export const NAME_HELP = "1-255 bytes, not starting with '-', without < > & quotes commas whitespace slashes or control characters";

/**
 * The first character XML 1.0 cannot hold (its Char production: no controls but tab and
 * line breaks, no U+FFFE/U+FFFF, no lone surrogate), or null. libvirt refuses such names
 * or stores U+FFFD instead, after which the domain no longer matches its spec.
 */
export function xmlInvalidChar(s: string): string | null {
  const m = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.exec(s);
  return m ? `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}` : null;
}

export const domainName = z.string().superRefine((s, ctx) => {
  const bytes = Buffer.byteLength(s, "utf8");
  let problem: string | null = null;
  const invalid = xmlInvalidChar(s);
  if (bytes === 0) problem = "is empty";
  else if (invalid) problem = `contains ${invalid}, which XML (and so libvirt) cannot hold`;
  else if (bytes > 255) problem = `is ${bytes} bytes long`;
  else if (s.startsWith("-")) problem = "starts with '-'";
  else {
    const bad = NAME_FORBIDDEN.exec(s);
    if (bad) problem = `contains ${JSON.stringify(bad[0])}`;
  }
  if (problem) ctx.addIssue({ code: "custom", message: `domain name ${problem}; allowed: ${NAME_HELP}` });
});

/** CPU model, feature and machine names: QEMU/libvirt identifiers only (never a comma, so never an option string's separator). */
export const IDENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The PV feature a CPU feature name spells, whichever spelling QEMU accepts: its
 * `-cpu` parser turns every '_' into '-' (feat2prop), so kvm_pv_ipi and kvm-pv_ipi are kvm-pv-ipi.
 */
export function pvFeatureSpelled(name: string) {
  return FEATURE_BY_QEMU_NAME.get(name) ?? FEATURE_BY_QEMU_NAME.get(name.replace(/_/g, "-"));
}
/** CPU models that are not models but the passthrough modes. */
export const PASSTHROUGH_MODELS: ReadonlyMap<string, string> = new Map([
  ["host", "host-passthrough"],
  ["max", "maximum"],
]);
const cpuModel = z.string().regex(IDENT_RE, "a CPU model name such as qemu64 or Skylake-Server (letters, digits, . _ -)");

const cpuFeatureMap = z
  .record(z.string().regex(IDENT_RE, "a CPU feature name such as x2apic or arch-capabilities"), z.boolean())
  .superRefine((m, ctx) => {
    for (const name of Object.keys(m)) {
      const pv = pvFeatureSpelled(name);
      if (pv || name.replace(/_/g, "-") === "x2apic")
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: pv ? `${name} is a PV feature: set paravirt.${pv.specKey} instead` : "x2apic has its own field: set x2apic instead",
        });
    }
  });

export const CPU_CHECKS = ["none", "partial", "full"] as const;

export const cpuSchema = z.strictObject({
  mode: z.enum(CPU_MODES).optional(),
  /** libvirt's <cpu check>: none (default) behaves like plain QEMU, which warns and drops what the host lacks */
  check: z.enum(CPU_CHECKS).optional(),
  model: cpuModel.optional(),
  /** other (non-PV) CPU features, e.g. { "arch-capabilities": false } */
  features: cpuFeatureMap.optional(),
});

const paravirtShape = Object.fromEntries(FEATURES.map((f) => [f.specKey, z.boolean().optional()])) as Record<
  string,
  z.ZodOptional<z.ZodBoolean>
>;
export const paravirtSchema = z.strictObject(paravirtShape);

const HYPERV_MODES = ["custom", "passthrough"] as const;
/** A Hyper-V vendor id: what QEMU puts in CPUID 0x40000000 (12 bytes) and libvirt in an attribute. */
export const VENDOR_ID_RE = /^[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,10}[A-Za-z0-9._-])?$/;
const hypervFlags = Object.fromEntries(HYPERV_FEATURES.map((r) => [r.key, z.boolean().optional()])) as Record<
  HypervKey,
  z.ZodOptional<z.ZodBoolean>
>;
const hypervSchema = z.strictObject({
  /** custom (the default): the flags below; passthrough: every enlightenment the host's KVM offers (not migratable) */
  mode: z.enum(HYPERV_MODES).optional(),
  /** <spinlocks retries>: how often a guest spins before it notifies the host (QEMU's default: never) */
  spinlocks: z
    .number()
    .int()
    .min(HYPERV_VALUES.spinlocks.min, `at least ${HYPERV_VALUES.spinlocks.min} (libvirt refuses fewer retries)`)
    .max(HYPERV_VALUES.spinlocks.max, "at most 4294967295 (0xFFFFFFFF)")
    .optional(),
  /** <vendor_id value>: the Hyper-V vendor the guest sees (QEMU's default "Microsoft Hv") */
  vendorId: z
    .string()
    .regex(VENDOR_ID_RE, "a vendor id of 1-12 characters (letters, digits, . _ - and inner spaces), such as KVMKVMKVM")
    .optional(),
  /** hv-no-nonarch-coresharing: on tells Windows no other guest shares its cores (only true with pinned vCPUs); auto passes on what KVM says */
  noNonarchCoresharing: z.enum(HYPERV_VALUES.noNonarchCoresharing.values).optional(),
  ...hypervFlags,
});

/** A release number as QEMU and libvirt write them; bounded, so no number overflows into 1e+23. */
export const releaseVersion = (what: string) =>
  z.string().regex(/^\d{1,4}\.\d{1,4}(\.\d{1,6})?$/, `a ${what} version such as 7.2.0 (numbers of at most 4 digits)`);
/** A kernel release as uname -r prints it, e.g. 6.1.0-18-amd64. */
export const kernelRelease = z
  .string()
  .regex(/^\d{1,4}\.\d{1,4}[A-Za-z0-9._+~-]{0,64}$/, "a kernel release such as 6.1 or 6.1.0-18-amd64 (letters, digits, . _ + ~ -)");

export const hostSchema = z.strictObject({
  qemu: releaseVersion("QEMU").optional(),
  libvirt: releaseVersion("libvirt").optional(),
  kernel: kernelRelease.optional(),
});
const GUEST_OSES = ["linux", "windows"] as const;
export const guestSchema = z
  .strictObject({
    /** a Linux guest's kernel release: warnings about features it is too old to use */
    kernel: kernelRelease.optional(),
    /** windows: the Hyper-V flags the spec leaves unset get the Windows profile's (src/catalog/hyperv.ts) */
    os: z.enum(GUEST_OSES).optional(),
    /** the Windows release (with os windows) */
    version: z.enum(WINDOWS_VERSIONS).optional(),
  })
  .superRefine((g, ctx) => {
    if (g.version !== undefined && g.os !== "windows")
      ctx.addIssue({ code: "custom", path: ["version"], message: "a Windows release: give it with os: windows" });
    if (g.kernel !== undefined && g.os === "windows")
      ctx.addIssue({ code: "custom", path: ["kernel"], message: "kernel is a Linux guest's release: leave it out for os: windows" });
  });

const machine = z.string().refine(isMachineSyntax, { message: `a machine type: ${MACHINE_PATTERN_HELP}` });

// ---- devices: what a domain made by this tool needs to boot ----

export const DISK_TARGET_RE = /^(vd|sd|hd)[a-z]{1,2}$/;
/** A listen address libvirt takes: an IPv4 or IPv6 literal. */
export const LISTEN_RE = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]{2,39})$/;
export const DISK_BUSES = ["virtio", "sata", "scsi", "ide"] as const;
export const DISK_DEVICES = ["disk", "cdrom"] as const;
export const DISK_FORMATS = ["qcow2", "raw"] as const;
export const DISK_CACHES = ["default", "none", "writethrough", "writeback", "directsync", "unsafe"] as const;
export const DISK_IOS = ["native", "threads", "io_uring"] as const;
export const NIC_MODELS = ["virtio", "e1000e", "e1000", "rtl8139"] as const;
const GRAPHICS_TYPES = ["none", "vnc", "spice"] as const;
const RUN_STATES = ["defined", "running", "paused"] as const;

/** An absolute host path: no quotes, no '<>&', no control characters, no '..' component (it reaches XML and libvirt). */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern refuses
const PATH_FORBIDDEN = /["'<>&\\\x00-\x1f\x7f]/;
const hostPath = z.string().superRefine((s, ctx) => {
  let problem: string | null = null;
  if (!s.startsWith("/")) problem = "is not absolute (it must start with /)";
  else if (Buffer.byteLength(s) > 4096) problem = "is longer than 4096 bytes";
  else if (PATH_FORBIDDEN.test(s)) problem = `contains ${JSON.stringify(PATH_FORBIDDEN.exec(s)![0])}`;
  else if (s.split("/").includes("..")) problem = "has a '..' component";
  if (problem)
    ctx.addIssue({
      code: "custom",
      message: `path ${problem}; allowed: an absolute path without quotes, < > & backslashes or control characters`,
    });
});
const poolName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a storage pool name (letters, digits, . _ -)");
const volumeName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/, "a volume name (letters, digits, . _ + -)");

const diskSchema = z
  .strictObject({
    /** the guest device: vda, vdb (virtio), sda (sata/scsi), hda (ide) */
    target: z.string().regex(DISK_TARGET_RE, "a target device such as vda, vdb, sda or hda"),
    /** an image file on the host */
    file: hostPath.optional(),
    /** or a libvirt storage pool volume */
    pool: poolName.optional(),
    volume: volumeName.optional(),
    device: z.enum(DISK_DEVICES).optional(),
    /** default: from the target (vd: virtio, sd: sata, hd: ide) */
    bus: z.enum(DISK_BUSES).optional(),
    /** default: qcow2 for a disk, raw for a cdrom */
    format: z.enum(DISK_FORMATS).optional(),
    readonly: z.boolean().optional(),
    /** boot order, 1 first */
    boot: z.number().int().min(1).max(64).optional(),
    cache: z.enum(DISK_CACHES).optional(),
    io: z.enum(DISK_IOS).optional(),
    /** the IOThread (1..N of cpuPinning.iothreads) that serves this virtio disk */
    iothread: z.number().int().min(1).max(64).optional(),
  })
  .superRefine((d, ctx) => {
    const sources = [d.file !== undefined, d.pool !== undefined || d.volume !== undefined].filter(Boolean).length;
    if (sources > 1) ctx.addIssue({ code: "custom", message: "give either file or pool and volume, not both" });
    if ((d.pool === undefined) !== (d.volume === undefined))
      ctx.addIssue({ code: "custom", path: [d.pool === undefined ? "pool" : "volume"], message: "pool and volume go together" });
    if (sources === 0 && (d.device ?? "disk") === "disk")
      ctx.addIssue({ code: "custom", message: "a disk needs a source: file, or pool and volume (only a cdrom may be empty)" });
  });

/** A unicast MAC address (the low bit of the first octet clear), colon-separated hex. */
const macAddress = z
  .string()
  .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, "a MAC address such as 52:54:00:12:34:56")
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, "a unicast MAC address (the first octet even), such as 52:54:00:12:34:56")
  .refine((m) => m !== "00:00:00:00:00:00", "a MAC address other than all zeros");

const nicSchema = z
  .strictObject({
    /** a libvirt network, e.g. default */
    network: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a libvirt network name (letters, digits, . _ -)")
      .optional(),
    /** or a host bridge, e.g. br0 */
    bridge: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,14}$/, "a bridge name of at most 15 characters (letters, digits, . _ : -)")
      .optional(),
    /** or user-mode networking (no host setup, outbound only): true; false says "not user-mode" (then network or bridge) */
    user: z.boolean().optional(),
    /** default virtio */
    model: z.enum(NIC_MODELS).optional(),
    /** default: the one libvirt generates at creation, kept across updates */
    mac: macAddress.optional(),
    boot: z.number().int().min(1).max(64).optional(),
  })
  .superRefine((n, ctx) => {
    // a boolean in every Pulumi language (no literal types there): false names no kind, so it counts as left out
    const kinds = [n.network, n.bridge, n.user || undefined].filter((x) => x !== undefined).length;
    if (kinds !== 1) ctx.addIssue({ code: "custom", message: "give exactly one of network, bridge or user: true" });
  });

const listenAddress = z.string().regex(LISTEN_RE, "an IP address such as 127.0.0.1, 0.0.0.0 or ::1");
/** One device as libvirt XML, passed through (src/libvirt/devices.ts parses it; libvirt's schema checks it before a define). */
const extraDevice = z.string().max(65536, "at most 64 KiB of XML");

const graphicsSchema = z.strictObject({
  type: z.enum(GRAPHICS_TYPES),
  /** default 127.0.0.1 (this host only) */
  listen: listenAddress.optional(),
});

// ---- placement: where the vCPUs, QEMU's threads and the memory run on the host ----

/** A host CPU or NUMA node set in libvirt's syntax (src/util/cpuset.ts). */
const cpuset = (what: string) =>
  z.string().superRefine((s, ctx) => {
    const p = parseCpuset(s);
    if (typeof p === "string") ctx.addIssue({ code: "custom", message: `${what} ${p}; allowed: ${CPUSET_HELP}` });
  });
const members = (s: string) => parseCpuset(s) as number[];

const cpuPinningSchema = z
  .strictObject({
    /**
     * each vCPU on a host CPU of its own that no other vCPU and no emulator thread on the host is
     * pinned to (what kvm-hint-dedicated promises the guest); without vcpus the tool picks them
     */
    dedicated: z.boolean().optional(),
    /** per vCPU, in order, the host CPUs it may run on (<vcpupin>) */
    vcpus: z.array(cpuset("a vCPU's host CPU set")).min(1).max(4096).optional(),
    /** the host CPUs QEMU's emulator threads may run on (<emulatorpin>); with dedicated the default is the host CPUs no dedicated vCPU has */
    emulator: cpuset("the emulator's host CPU set").optional(),
    /** one IOThread per entry (<iothreads>), each on these host CPUs (<iothreadpin>); a virtio disk uses one with iothread: N */
    iothreads: z.array(cpuset("an IOThread's host CPU set")).min(1).max(64).optional(),
  })
  .superRefine((p, ctx) => {
    if (!p.dedicated || !p.vcpus) return;
    const seen = new Map<number, number>();
    p.vcpus.forEach((set, i) => {
      const cpus = members(set);
      if (!Array.isArray(cpus)) return;
      if (cpus.length !== 1)
        ctx.addIssue({
          code: "custom",
          path: ["vcpus", i],
          message: `a dedicated vCPU runs on exactly one host CPU; ${set} names ${cpus.length}`,
        });
      else if (seen.has(cpus[0]))
        ctx.addIssue({
          code: "custom",
          path: ["vcpus", i],
          message: `host CPU ${cpus[0]} is already vCPU ${seen.get(cpus[0])}'s: dedicated vCPUs need one each`,
        });
      else seen.set(cpus[0], i);
    });
  });

/** libvirt's <numatune><memory mode>: where the guest's memory may come from. */
const NUMA_MODES = ["strict", "preferred", "interleave", "restrictive"] as const;
const numaCellSchema = z.strictObject({
  /** the guest's vCPUs in this cell, e.g. "0-1" */
  cpus: cpuset("a cell's vCPU set"),
  /** the cell's memory; the cells' memory adds up to memoryMiB */
  memoryMiB: z
    .number()
    .int()
    .min(1)
    .max(16 * 1024 * 1024),
});
const numaSchema = z
  .strictObject({
    /** default strict: only from the nodes named (libvirt's default) */
    mode: z.enum(NUMA_MODES).optional(),
    /** the host NUMA nodes the memory comes from, e.g. "0" (<numatune>) */
    nodeset: cpuset("a host NUMA node set").optional(),
    /** the guest's own NUMA topology (<cpu><numa>): cells of vCPUs and memory */
    cells: z.array(numaCellSchema).min(1).max(64).optional(),
  })
  .superRefine((n, ctx) => {
    if (n.nodeset === undefined && n.cells === undefined)
      ctx.addIssue({ code: "custom", message: "give nodeset (the host nodes of the memory), cells (the guest's NUMA topology), or both" });
    if (n.mode !== undefined && n.nodeset === undefined)
      ctx.addIssue({ code: "custom", path: ["mode"], message: "mode applies to the host nodes: give nodeset with it" });
  });

/** The huge page sizes an x86_64 host can have, in KiB (2 MiB and 1 GiB). */
const HUGEPAGE_SIZES_KIB = [2048, 1048576] as const;
const hugepagesSchema = z.strictObject({
  /** the page size: 2048 (2 MiB) or 1048576 (1 GiB); the host must have a pool of that size with room for all the memory */
  sizeKiB: z.number().refine((n) => (HUGEPAGE_SIZES_KIB as readonly number[]).includes(n), "2048 (2 MiB pages) or 1048576 (1 GiB pages)"),
});

/** Fields shared by `defaults` and each domain. */
const domainFields = {
  vcpus: z.number().int().min(1).max(4096).optional(),
  memoryMiB: z
    .number()
    .int()
    .min(16)
    .max(16 * 1024 * 1024)
    .optional(),
  machine: machine.optional(),
  accel: z.enum(ACCELS).optional(),
  cpu: cpuSchema.optional(),
  irqchip: z.enum(IRQCHIPS).optional(),
  x2apic: z.boolean().optional(),
  /**
   * the vCPUs are dedicated by means this tool does not see (host isolation, another tool's
   * pinning): kvm-hint-dedicated without cpuPinning is then a warning, not an error
   */
  dedicatedVcpus: z.boolean().optional(),
  /** vCPU and emulator pinning; dedicated: true makes the vCPUs dedicated (and turns kvm-hint-dedicated on unless set) */
  cpuPinning: cpuPinningSchema.optional(),
  /** where on the host the guest's memory comes from (<numatune>) */
  numa: numaSchema.optional(),
  /** back the guest's memory with huge pages (<memoryBacking><hugepages>) */
  hugepages: hugepagesSchema.optional(),
  paravirt: paravirtSchema.optional(),
  /** Hyper-V enlightenments (Windows guests): each flag on, off or inherited, like paravirt */
  hyperv: hypervSchema.optional(),
  host: hostSchema.optional(),
  guest: guestSchema.optional(),
  /** disks and cdroms, each identified by its target */
  disks: z.array(diskSchema).max(64).optional(),
  /** network interfaces, each identified by its MAC (or, without one, by its source and order) */
  nics: z.array(nicSchema).max(32).optional(),
  /** a serial console (virsh console) */
  serialConsole: z.boolean().optional(),
  graphics: graphicsSchema.optional(),
  /** after the define: leave it as it is (defined, the default), or make it run, or run paused */
  runState: z.enum(RUN_STATES).optional(),
  /** start with the host */
  autostart: z.boolean().optional(),
  /** any other device, as libvirt XML: passed through (checked by libvirt's schema before a define) */
  extraDevices: z.array(extraDevice).max(16).optional(),
};
/** The field names every domain (and `defaults`) may have, besides `name`: one list for messages and the Pulumi args. */
export const DOMAIN_FIELD_NAMES: readonly string[] = Object.keys(domainFields);

export const defaultsSchema = z.strictObject(domainFields);

export const domainSchema = z.strictObject({ name: domainName, ...domainFields }).superRefine((d, ctx) => {
  const iothreads = d.cpuPinning?.iothreads?.length ?? 0;
  d.disks?.forEach((disk, i) => {
    if (disk.iothread === undefined) return;
    const bus = disk.bus ?? BUS_OF_TARGET[disk.target.slice(0, 2)];
    if (bus !== "virtio")
      ctx.addIssue({
        code: "custom",
        path: ["disks", i, "iothread"],
        message: `an IOThread serves virtio disks only; this disk's bus is ${bus}`,
      });
    else if (disk.iothread > iothreads)
      ctx.addIssue({
        code: "custom",
        path: ["disks", i, "iothread"],
        message: `IOThread ${disk.iothread} does not exist: cpuPinning.iothreads gives ${iothreads === 0 ? "none" : `1-${iothreads}`}`,
      });
  });
  const cells = d.numa?.cells;
  if (cells) {
    // libvirt wants every vCPU in exactly one cell and the cells' memory to be all of it
    const owner = new Map<number, number>();
    cells.forEach((c, i) => {
      const cpus = members(c.cpus);
      if (!Array.isArray(cpus)) return;
      for (const cpu of cpus) {
        if (cpu >= (d.vcpus ?? 1))
          ctx.addIssue({
            code: "custom",
            path: ["numa", "cells", i, "cpus"],
            message: `vCPU ${cpu} does not exist: the domain has vCPUs 0-${(d.vcpus ?? 1) - 1}`,
          });
        else if (owner.has(cpu))
          ctx.addIssue({
            code: "custom",
            path: ["numa", "cells", i, "cpus"],
            message: `vCPU ${cpu} is in cell ${owner.get(cpu)} already: each vCPU in one cell`,
          });
        else owner.set(cpu, i);
      }
    });
    const orphans = Array.from({ length: d.vcpus ?? 1 }, (_x, i) => i).filter((i) => !owner.has(i));
    if (orphans.length && owner.size > 0)
      ctx.addIssue({
        code: "custom",
        path: ["numa", "cells"],
        message: `vCPU${orphans.length > 1 ? "s" : ""} ${formatCpuset(orphans)} in no cell: each vCPU in one cell`,
      });
    const sum = cells.reduce((s, c) => s + c.memoryMiB, 0);
    if (sum !== (d.memoryMiB ?? 1024))
      ctx.addIssue({
        code: "custom",
        path: ["numa", "cells"],
        message: `the cells hold ${sum} MiB; they must add up to memoryMiB (${d.memoryMiB ?? 1024})`,
      });
  }
  const pins = d.cpuPinning?.vcpus;
  if (pins && pins.length !== (d.vcpus ?? 1))
    ctx.addIssue({
      code: "custom",
      path: ["cpuPinning", "vcpus"],
      message: `one host CPU set per vCPU: ${pins.length} given for ${d.vcpus ?? 1} vCPU${(d.vcpus ?? 1) === 1 ? "" : "s"}`,
    });
  const mode = d.cpu?.mode ?? "custom";
  const passthrough = d.cpu?.model === undefined ? undefined : PASSTHROUGH_MODELS.get(d.cpu.model);
  if (passthrough && mode === "custom")
    ctx.addIssue({
      code: "custom",
      path: ["cpu", "model"],
      message: `${d.cpu!.model} is not a CPU model but a passthrough mode: use cpu.mode ${passthrough} (without a model)`,
    });
  if (d.cpu?.model !== undefined && mode !== "custom")
    ctx.addIssue({
      code: "custom",
      path: ["cpu", "model"],
      message: `a model cannot be given with cpu.mode ${mode}: QEMU chooses the CPU (remove model or use mode custom)`,
    });
});

/**
 * A libvirt connection URI: a scheme, then no whitespace or control characters
 * (libvirt's URI syntax; an empty URI would make virsh fall back to its default).
 */
export const libvirtUri = z
  .string()
  // eslint-disable-next-line no-control-regex -- control characters are what this pattern refuses
  .regex(/^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]*$/, "a libvirt URI such as qemu:///system or qemu+ssh://root@kvm-07/system");

/**
 * One entry of the spec's `hosts:` section (domain name -> the libvirt URI(s) it is deployed
 * to). The section itself is walked by the loader into a Map: a record schema would build a
 * plain object, where a domain named __proto__ silently disappears.
 */
export const hostUris = z.union([libvirtUri, z.array(libvirtUri).min(1, "at least one URI")]);

export type DomainDefaults = z.infer<typeof defaultsSchema>;
export type DomainInput = z.infer<typeof domainSchema>;
export type ParavirtSettings = z.infer<typeof paravirtSchema>;
export type HypervSettings = z.infer<typeof hypervSchema>;
export type CpuMode = (typeof CPU_MODES)[number];
export type Irqchip = (typeof IRQCHIPS)[number];
export type Accel = (typeof ACCELS)[number];

/** A domain with every default filled in: what the resolver works on. */
export interface DomainSpec {
  name: string;
  vcpus: number;
  memoryMiB: number;
  machine: string;
  accel: Accel;
  cpu: { mode: CpuMode; model?: string; check: (typeof CPU_CHECKS)[number]; features: Record<string, boolean> };
  irqchip: Irqchip;
  x2apic?: boolean;
  dedicatedVcpus?: boolean;
  cpuPinning?: CpuPinningSpec;
  numa?: { mode: (typeof NUMA_MODES)[number]; nodeset?: number[]; cells?: { cpus: number[]; memoryMiB: number }[] };
  hugepages?: { sizeKiB: number };
  paravirt: ParavirtSettings;
  /** present when the spec has a hyperv map (even an empty one) */
  hyperv?: HypervSettings;
  host?: { qemu?: string; libvirt?: string; kernel?: string };
  guest?: { kernel?: string; os?: (typeof GUEST_OSES)[number]; version?: (typeof WINDOWS_VERSIONS)[number] };
  disks?: DiskSpec[];
  nics?: NicSpec[];
  serialConsole?: boolean;
  graphics?: { type: (typeof GRAPHICS_TYPES)[number]; listen?: string };
  runState?: (typeof RUN_STATES)[number];
  autostart?: boolean;
  extraDevices?: string[];
}

/** vCPU and emulator pinning, the sets parsed (sorted host CPU numbers). */
export interface CpuPinningSpec {
  dedicated: boolean;
  /** per vCPU */
  vcpus?: number[][];
  emulator?: number[];
  /** per IOThread (1..N) */
  iothreads?: number[][];
}

/** A disk with its defaults filled in. */
export interface DiskSpec {
  target: string;
  device: (typeof DISK_DEVICES)[number];
  bus: (typeof DISK_BUSES)[number];
  format: (typeof DISK_FORMATS)[number];
  file?: string;
  pool?: string;
  volume?: string;
  readonly: boolean;
  boot?: number;
  cache?: (typeof DISK_CACHES)[number];
  io?: (typeof DISK_IOS)[number];
  iothread?: number;
}

/** A network interface with its defaults filled in (the MAC lower-cased). */
export interface NicSpec {
  type: "network" | "bridge" | "user";
  source?: string;
  model: (typeof NIC_MODELS)[number];
  mac?: string;
  boot?: number;
}

const BUS_OF_TARGET: Record<string, DiskSpec["bus"]> = { vd: "virtio", sd: "sata", hd: "ide" };

function normalizeDisk(d: z.infer<typeof diskSchema>): DiskSpec {
  const device = d.device ?? "disk";
  return {
    target: d.target,
    device,
    bus: d.bus ?? BUS_OF_TARGET[d.target.slice(0, 2)],
    format: d.format ?? (device === "cdrom" ? "raw" : "qcow2"),
    ...(d.file !== undefined ? { file: d.file } : {}),
    ...(d.pool !== undefined ? { pool: d.pool, volume: d.volume } : {}),
    readonly: d.readonly ?? device === "cdrom",
    ...(d.boot !== undefined ? { boot: d.boot } : {}),
    ...(d.cache !== undefined ? { cache: d.cache } : {}),
    ...(d.io !== undefined ? { io: d.io } : {}),
    ...(d.iothread !== undefined ? { iothread: d.iothread } : {}),
  };
}

function normalizeNic(n: z.infer<typeof nicSchema>): NicSpec {
  const type = n.network !== undefined ? "network" : n.bridge !== undefined ? "bridge" : "user";
  return {
    type,
    ...(type !== "user" ? { source: n.network ?? n.bridge } : {}),
    model: n.model ?? "virtio",
    ...(n.mac !== undefined ? { mac: n.mac.toLowerCase() } : {}),
    ...(n.boot !== undefined ? { boot: n.boot } : {}),
  };
}

export const DEFAULT_MODEL = "qemu64";

export function normalizeDomain(d: DomainInput): DomainSpec {
  const mode = d.cpu?.mode ?? "custom";
  return {
    name: d.name,
    vcpus: d.vcpus ?? 1,
    memoryMiB: d.memoryMiB ?? 1024,
    machine: d.machine ?? "q35",
    accel: d.accel ?? "kvm",
    cpu: {
      mode,
      ...(mode === "custom" ? { model: d.cpu?.model ?? DEFAULT_MODEL } : {}),
      check: d.cpu?.check ?? "none",
      features: { ...(d.cpu?.features ?? {}) },
    },
    irqchip: d.irqchip ?? "kernel",
    ...(d.x2apic !== undefined ? { x2apic: d.x2apic } : {}),
    ...(d.dedicatedVcpus !== undefined ? { dedicatedVcpus: d.dedicatedVcpus } : {}),
    ...(d.cpuPinning
      ? {
          cpuPinning: {
            dedicated: d.cpuPinning.dedicated ?? false,
            ...(d.cpuPinning.vcpus ? { vcpus: d.cpuPinning.vcpus.map(members) } : {}),
            ...(d.cpuPinning.emulator !== undefined ? { emulator: members(d.cpuPinning.emulator) } : {}),
            ...(d.cpuPinning.iothreads ? { iothreads: d.cpuPinning.iothreads.map(members) } : {}),
          },
        }
      : {}),
    ...(d.numa
      ? {
          numa: {
            mode: d.numa.mode ?? "strict",
            ...(d.numa.nodeset !== undefined ? { nodeset: members(d.numa.nodeset) } : {}),
            ...(d.numa.cells ? { cells: d.numa.cells.map((c) => ({ cpus: members(c.cpus), memoryMiB: c.memoryMiB })) } : {}),
          },
        }
      : {}),
    ...(d.hugepages ? { hugepages: { sizeKiB: d.hugepages.sizeKiB } } : {}),
    paravirt: { ...(d.paravirt ?? {}) },
    ...(d.hyperv ? { hyperv: { ...d.hyperv } } : {}),
    ...(d.host ? { host: { ...d.host } } : {}),
    ...(d.guest ? { guest: { ...d.guest } } : {}),
    ...(d.disks ? { disks: d.disks.map(normalizeDisk) } : {}),
    ...(d.nics ? { nics: d.nics.map(normalizeNic) } : {}),
    ...(d.serialConsole !== undefined ? { serialConsole: d.serialConsole } : {}),
    ...(d.graphics ? { graphics: { ...d.graphics } } : {}),
    ...(d.runState !== undefined ? { runState: d.runState } : {}),
    ...(d.autostart !== undefined ? { autostart: d.autostart } : {}),
    ...(d.extraDevices ? { extraDevices: [...d.extraDevices] } : {}),
  };
}
