import { z } from "zod";
import { FEATURES, FEATURE_BY_QEMU_NAME } from "../catalog/features";
import { isMachineSyntax, MACHINE_PATTERN_HELP } from "../catalog/machines";

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
export const guestSchema = z.strictObject({ kernel: kernelRelease.optional() });

const machine = z.string().refine(isMachineSyntax, { message: `a machine type: ${MACHINE_PATTERN_HELP}` });

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
  /** the vCPUs are pinned to dedicated host CPUs (informational: policies and hints use it) */
  dedicatedVcpus: z.boolean().optional(),
  paravirt: paravirtSchema.optional(),
  host: hostSchema.optional(),
  guest: guestSchema.optional(),
};
/** The field names every domain (and `defaults`) may have, besides `name`: one list for messages and the Pulumi args. */
export const DOMAIN_FIELD_NAMES: readonly string[] = Object.keys(domainFields);

export const defaultsSchema = z.strictObject(domainFields);

export const domainSchema = z.strictObject({ name: domainName, ...domainFields }).superRefine((d, ctx) => {
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
  paravirt: ParavirtSettings;
  host?: { qemu?: string; libvirt?: string; kernel?: string };
  guest?: { kernel?: string };
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
    paravirt: { ...(d.paravirt ?? {}) },
    ...(d.host ? { host: { ...d.host } } : {}),
    ...(d.guest ? { guest: { ...d.guest } } : {}),
  };
}
