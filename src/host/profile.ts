import { z } from "zod";
import { FEATURES } from "../catalog/features";
import { HYPERV_FEATURES, type HypervKey } from "../catalog/hyperv";
import { atLeast } from "../util/version";

/**
 * What the resolver knows about the host a domain runs on. `kvm-paravirt probe`
 * writes one from the real programs; without one the resolver assumes
 * ASSUMED_HOST and says so.
 */
/** Names from a profile reach XML and QEMU option strings: identifiers only, as the spec's are. */
const ident = (what: string) => z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, `${what} (letters, digits, . _ -; at most 64)`);
const version = (what: string) =>
  z.string().regex(/^\d{1,4}\.\d{1,4}(\.\d{1,6})?$/, `a ${what} version such as 7.2.0 (numbers of at most 4 digits)`);

export const HostProfileSchema = z.strictObject({
  /** `kvm-paravirt probe --json` writes the CLI's JSON format version; a profile is read whatever it is */
  formatVersion: z.string().max(16).optional(),
  /** QEMU version, e.g. "7.2.22" */
  qemu: version("QEMU"),
  /** libvirt version, e.g. "9.0.0" */
  libvirt: version("libvirt").optional(),
  /** host kernel release, e.g. "6.1.0-18-amd64" */
  kernel: z
    .string()
    .regex(/^\d{1,4}\.\d{1,4}[A-Za-z0-9._+~-]{0,64}$/, "a kernel release such as 6.1 or 6.1.0-18-amd64")
    .optional(),
  kvm: z
    .strictObject({
      /** /dev/kvm usable (probe); over a connection (probe --connect): libvirt offers an x86_64 kvm domain type */
      available: z.boolean(),
      /** QEMU property names of the FEAT_KVM bits that `-cpu host` expands to (QMP query-cpu-model-expansion) */
      supported: z.array(ident("a QEMU property name such as kvm-pv-ipi")).max(256).optional(),
      /** KVM_CAP_ENFORCE_PV_FEATURE_CPUID works (QEMU started with kvm-pv-enforce-cpuid=on) */
      enforceCpuid: z.boolean().optional(),
      /**
       * the Hyper-V flags (hv-* names) the host's KVM offers, as query-cpu-model-expansion of host
       * with hv-passthrough expands them (what libvirt's domcapabilities <hyperv> is built from);
       * [] for a KVM without Hyper-V (CONFIG_KVM_HYPERV off); unset: derived from the kernel
       */
      hyperv: z.array(ident("a QEMU property name such as hv-relaxed")).max(64).optional(),
    })
    .optional(),
  /** machine types of the host's QEMU (QMP query-machines): name and alias */
  machines: z
    .array(z.strictObject({ name: ident("a machine type such as pc-q35-7.2"), alias: ident("a machine alias such as q35").optional() }))
    .max(4096)
    .optional(),
  /** the libvirt networks the host defines (virsh net-list --all), read over a connection */
  networks: z
    .array(z.strictObject({ name: ident("a libvirt network name such as default"), active: z.boolean() }))
    .max(4096)
    .optional(),
  /**
   * the host's NUMA nodes (virsh capabilities <topology>): their CPUs, memory and huge page
   * pools, with the free pages when read (virsh freepages); what pinning and hugepages are checked against
   */
  numaNodes: z
    .array(
      z.strictObject({
        id: z.number().int().min(0).max(4095),
        cpus: z.array(z.number().int().min(0).max(4095)).max(4096),
        /** SMT thread siblings: the groups of host CPUs that share a core (only groups of two or more) */
        siblings: z
          .array(z.array(z.number().int().min(0).max(4095)).min(2).max(64))
          .max(4096)
          .optional(),
        memoryKiB: z.number().int().min(0).optional(),
        pages: z
          .array(
            z.strictObject({
              sizeKiB: z.number().int().min(1),
              total: z.number().int().min(0),
              free: z.number().int().min(0).optional(),
            }),
          )
          .max(16)
          .optional(),
      }),
    )
    .max(1024)
    .optional(),
  /** the CPU model libvirt uses for host-model (virsh domcapabilities) */
  hostModel: ident("a CPU model name such as Skylake-Server-IBRS").optional(),
  /**
   * the custom-mode CPU models with libvirt's verdict whether the hypervisor can give them
   * (virsh domcapabilities, `<model usable='yes|no'>`: QEMU drops what it cannot), for the
   * host's virt type: kvm when kvm.available, qemu (TCG) when it is false; and, under KVM, the
   * check libvirt makes when it starts a custom CPU with check partial (its default for KVM):
   * the model against the host CPU of `virsh capabilities` (`virsh cpu-compare`), identical or
   * a superset is `hostCompatible: true`
   */
  cpuModels: z
    .array(
      z.strictObject({
        name: ident("a CPU model name such as Skylake-Server"),
        usable: z.boolean(),
        hostCompatible: z.boolean().optional(),
      }),
    )
    .max(4096)
    .optional(),
  /** where the profile came from */
  source: z.enum(["probe", "assumed", "spec", "file"]).optional(),
  /** free text: hostname, date */
  description: z.string().max(4096).optional(),
});

export type HostProfile = z.infer<typeof HostProfileSchema>;
export type HostNumaNode = NonNullable<HostProfile["numaNodes"]>[number];

/** The host's CPU numbers (from its NUMA nodes), sorted; undefined when the profile does not list them. */
export function hostCpus(host: HostProfile): number[] | undefined {
  return host.numaNodes ? [...new Set(host.numaNodes.flatMap((n) => n.cpus))].sort((a, b) => a - b) : undefined;
}

/** The newest versions the catalog was checked against (QEMU 10.2, Linux 6.18). */
export const ASSUMED_HOST: HostProfile = {
  qemu: "10.2.0",
  libvirt: "11.0.0",
  kernel: "6.18",
  source: "assumed",
  description: "no host profile given: assuming a current host (QEMU 10.2, libvirt 11.0, Linux 6.18 with KVM)",
};

/** The FEAT_KVM bits a host's KVM offers, from the probe or derived from the kernel version. */
export function kvmSupportedSet(host: HostProfile): ReadonlySet<string> {
  if (host.kvm?.supported) return new Set(host.kvm.supported);
  return new Set(
    FEATURES.filter((f) => f.kind === "kvm-bit" && f.reportedByKvm && atLeast(host.kernel, f.hostKernelMin)).map((f) => f.qemu),
  );
}

/** What the host's KVM offers of Hyper-V: measured (the profile's kvm.hyperv) or derived from the kernel version. */
export interface HypervSupport {
  /** the flags a guest can get (catalog keys) */
  supported: ReadonlySet<HypervKey>;
  /** KVM has Hyper-V at all (KVM_CAP_HYPERV): QEMU checks the flags only then */
  available: boolean;
  how: "measured" | "kernel" | "no-kvm";
}

export function hypervSupport(host: HostProfile): HypervSupport {
  if (host.kvm?.available === false) return { supported: new Set(), available: false, how: "no-kvm" };
  const measured = host.kvm?.hyperv;
  if (measured) {
    const keys = HYPERV_FEATURES.filter((r) => measured.includes(r.qemu)).map((r) => r.key);
    return { supported: new Set(keys), available: measured.length > 0, how: "measured" };
  }
  // Intel-only flags need a measurement: the profile does not say which CPU vendor or nesting the host has
  const keys = HYPERV_FEATURES.filter((r) => !r.intelOnly && atLeast(host.kernel, r.hostKernelMin)).map((r) => r.key);
  return { supported: new Set(keys), available: true, how: "kernel" };
}

export function hostHasEnforceCpuid(host: HostProfile): boolean {
  return host.kvm?.enforceCpuid ?? atLeast(host.kernel, "5.10");
}

export type ProfileParse = { profile: HostProfile } | { error: "json" | "schema"; path: string; message: string };

/**
 * A host profile from JSON text (what `kvm-paravirt probe --json` writes), for the CLI's
 * --host and the component's hostProfile alike. A profile read from a file is never "assumed".
 */
export function parseHostProfileJson(text: string): ProfileParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { error: "json", path: "", message: (e as Error).message };
  }
  const p = HostProfileSchema.safeParse(raw);
  if (!p.success) {
    const i = p.error.issues[0];
    return { error: "schema", path: i.path.join("."), message: i.message };
  }
  return { profile: { ...p.data, source: p.data.source === "assumed" ? "file" : (p.data.source ?? "file") } };
}
