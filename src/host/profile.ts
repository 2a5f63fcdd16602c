import { z } from "zod";
import { FEATURES } from "../catalog/features";
import { atLeast } from "../util/version";

/**
 * What the resolver knows about the host a domain runs on. `kvm-paravirt probe`
 * writes one from the real programs; without one the resolver assumes
 * ASSUMED_HOST and says so.
 */
export const HostProfileSchema = z.strictObject({
  /** `kvm-paravirt probe --json` writes the CLI's JSON format version; a profile is read whatever it is */
  formatVersion: z.string().optional(),
  /** QEMU version, e.g. "7.2.22" */
  qemu: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "a QEMU version such as 7.2.0"),
  /** libvirt version, e.g. "9.0.0" */
  libvirt: z
    .string()
    .regex(/^\d+\.\d+(\.\d+)?$/, "a libvirt version such as 9.0.0")
    .optional(),
  /** host kernel release, e.g. "6.1.0-18-amd64" */
  kernel: z
    .string()
    .regex(/^\d+\.\d+/, "a kernel release such as 6.1")
    .optional(),
  kvm: z
    .strictObject({
      /** /dev/kvm usable */
      available: z.boolean(),
      /** QEMU property names of the FEAT_KVM bits that `-cpu host` expands to (QMP query-cpu-model-expansion) */
      supported: z.array(z.string()).optional(),
      /** KVM_CAP_ENFORCE_PV_FEATURE_CPUID works (QEMU started with kvm-pv-enforce-cpuid=on) */
      enforceCpuid: z.boolean().optional(),
    })
    .optional(),
  /** machine types of the host's QEMU (QMP query-machines): name and alias */
  machines: z.array(z.strictObject({ name: z.string(), alias: z.string().optional() })).optional(),
  /** the CPU model libvirt uses for host-model (virsh domcapabilities) */
  hostModel: z.string().optional(),
  /** where the profile came from */
  source: z.enum(["probe", "assumed", "spec", "file"]).optional(),
  /** free text: hostname, date */
  description: z.string().optional(),
});

export type HostProfile = z.infer<typeof HostProfileSchema>;

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
