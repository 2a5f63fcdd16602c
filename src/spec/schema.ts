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

export const domainName = z.string().superRefine((s, ctx) => {
  const bytes = Buffer.byteLength(s, "utf8");
  let problem: string | null = null;
  if (bytes === 0) problem = "is empty";
  else if (bytes > 255) problem = `is ${bytes} bytes long`;
  else if (s.startsWith("-")) problem = "starts with '-'";
  else {
    const bad = NAME_FORBIDDEN.exec(s);
    if (bad) problem = `contains ${JSON.stringify(bad[0])}`;
  }
  if (problem) ctx.addIssue({ code: "custom", message: `domain name ${problem}; allowed: ${NAME_HELP}` });
});

/** CPU model and feature names: QEMU/libvirt identifiers only. */
const IDENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const cpuModel = z.string().regex(IDENT_RE, "a CPU model name such as qemu64 or Skylake-Server (letters, digits, . _ -)");

const cpuFeatureMap = z
  .record(z.string().regex(IDENT_RE, "a CPU feature name such as x2apic or arch-capabilities"), z.boolean())
  .superRefine((m, ctx) => {
    for (const name of Object.keys(m)) {
      const pv = FEATURE_BY_QEMU_NAME.get(name);
      if (pv || name === "x2apic")
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

const versionString = (what: string) => z.string().regex(/^\d+\.\d+(\.\d+)?/, `a ${what} version such as 7.2.0`);

export const hostSchema = z.strictObject({
  qemu: versionString("QEMU").optional(),
  libvirt: versionString("libvirt").optional(),
  kernel: versionString("kernel").optional(),
});
export const guestSchema = z.strictObject({ kernel: versionString("kernel").optional() });

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

export const defaultsSchema = z.strictObject(domainFields);

export const domainSchema = z.strictObject({ name: domainName, ...domainFields }).superRefine((d, ctx) => {
  const mode = d.cpu?.mode ?? "custom";
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

/** The spec's `hosts:` section: domain name -> the libvirt URI(s) it is deployed to. */
export const hostsSchema = z.record(z.string(), z.union([libvirtUri, z.array(libvirtUri).min(1, "at least one URI")]));

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
