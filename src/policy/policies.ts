import { z } from "zod";
import { FEATURES, FEATURE_BY_QEMU_NAME, FEATURE_BY_SPEC_KEY, type FeatureRow } from "../catalog/features";
import { needsCustomArgv } from "../libvirt/plan";
import type { Resolution } from "../analyze";
import { RULES, RULE_BY_CODE } from "../checks/rules";
import { HYPERV_BY_QEMU_NAME, HYPERV_FEATURES, HYPERV_VALUES } from "../catalog/hyperv";
import { hypervStates } from "../resolve/hyperv";

/**
 * Organisation rules over the resolved, effective features of a domain: one
 * engine for the CrossGuard pack (policy/) and `kvm-paravirt check`. Each policy
 * has a name, a default enforcement level, a zod schema for its config (which
 * validates policy files, and from which the pack's JSON-schema configSchema is
 * derived) and a check.
 */

export type Enforcement = "advisory" | "mandatory" | "disabled";
export const ENFORCEMENTS: readonly Enforcement[] = ["advisory", "mandatory", "disabled"];

export interface Finding {
  /** QEMU property the finding is about, if one */
  feature?: string;
  message: string;
  fix: string;
}

/** A JSON schema as Pulumi's policy configSchema takes it (plain JSON: type, items, enum, uniqueItems, description...). */
export type JsonSchema = { [key: string]: unknown };

export interface PolicyDef {
  name: string;
  description: string;
  enforcementLevel: Enforcement;
  /** The config (without enforcementLevel): the one source of what a policy accepts */
  config: z.ZodObject;
  /** JSON schema of the config properties, derived from `config` (the pack's configSchema) */
  configSchema: { properties: Record<string, JsonSchema> };
  check(r: Resolution, config: Record<string, unknown>): Finding[];
}

/** The JSON schema of a config's properties, for Pulumi: plain draft-07 keywords, no $schema or additionalProperties. */
export function configSchemaOf(config: z.ZodObject): { properties: Record<string, JsonSchema> } {
  const json = z.toJSONSchema(config, { target: "draft-07", io: "input" }) as { properties?: Record<string, JsonSchema> };
  return { properties: json.properties ?? {} };
}

/** A policy with a typed config; its configSchema is derived, never written by hand. */
function definePolicy<C extends z.ZodObject>(
  p: Omit<PolicyDef, "config" | "configSchema" | "check"> & { config: C; check(r: Resolution, config: z.output<C>): Finding[] },
): PolicyDef {
  return { ...p, configSchema: configSchemaOf(p.config), check: (r, c) => p.check(r, c as z.output<C>) };
}

const NO_CONFIG = z.strictObject({});
const duplicate = (a: readonly string[]) => a.find((x, i) => a.indexOf(x) !== i);
/** An optional list of distinct values from `values` (uniqueItems in the JSON schema, checked by zod too). */
const distinctList = (values: readonly string[], description: string) =>
  z
    .array(z.enum(values))
    .refine((a) => duplicate(a) === undefined, {
      error: (iss) => `must not contain duplicates (${JSON.stringify(duplicate(iss.input as string[]))} is listed twice)`,
    })
    .meta({ uniqueItems: true })
    .describe(description)
    .optional();

const QEMU_NAMES = FEATURES.map((f) => f.qemu);
const featureList = (description: string) => distinctList(QEMU_NAMES, description);
const HYPERV_NAMES = HYPERV_FEATURES.map((r) => r.qemu);
/** What every peer turns on for Windows (shared/reference/hyperv.md section 4). */
const WINDOWS_BASELINE = ["hv-relaxed", "hv-vapic", "hv-time"];
const WARNING_CODES = RULES.filter((r) => r.severity === "warning").map((r) => r.code);

const setKey = (f: FeatureRow, want: boolean) => `paravirt.${f.specKey}: ${f.specInverted ? !want : want}`;
const label = (f: FeatureRow) => (f.qemu === "kvm" ? "kvm (the KVM signature)" : f.qemu);

export const POLICIES: readonly PolicyDef[] = [
  definePolicy({
    name: "required-features",
    description: "These PV features must be effectively on (as the realized vCPU has them, not as written).",
    enforcementLevel: "mandatory",
    config: z.strictObject({ features: featureList("QEMU names of the features that must be on") }),
    check: (r, c) =>
      (c.features ?? []).flatMap((name) => {
        const f = FEATURE_BY_QEMU_NAME.get(name)!;
        const x = r.features.get(f.qemu);
        if (x?.enabled) return [];
        return [
          {
            feature: f.qemu,
            message: x
              ? `${label(f)} is required but effectively off (${x.source}: ${x.reason})`
              : `${label(f)} is required but the host's QEMU ${r.host.qemu} has no such property`,
            fix: x?.source === "dropped" ? `remove the cause: ${x.reason}` : `set ${setKey(f, true)}`,
          },
        ];
      }),
  }),
  definePolicy({
    name: "forbidden-features",
    description: "These PV features must be effectively off (e.g. a confidential-computing profile without kvmclock or async page faults).",
    enforcementLevel: "mandatory",
    config: z.strictObject({ features: featureList("QEMU names of the features that must be off") }),
    check: (r, c) =>
      (c.features ?? []).flatMap((name) => {
        const f = FEATURE_BY_QEMU_NAME.get(name)!;
        const x = r.features.get(f.qemu);
        return x?.enabled
          ? [
              {
                feature: f.qemu,
                message: `${label(f)} is forbidden but effectively on (${x.source}: ${x.reason})`,
                fix: `set ${setKey(f, false)}`,
              },
            ]
          : [];
      }),
  }),
  definePolicy({
    name: "no-deprecated",
    description: "No deprecated PV feature: kvm-mmu, or kvm-asyncpf relied on where hosts ignore it (without kvm-asyncpf-int).",
    enforcementLevel: "advisory",
    config: NO_CONFIG,
    check: (r) =>
      r.diagnostics
        .filter((d) => d.code === "kvm-mmu-deprecated" || d.code === "asyncpf-without-asyncpf-int")
        .map((d) =>
          d.code === "kvm-mmu-deprecated"
            ? { feature: "kvm-mmu", message: d.message, fix: "remove paravirt.mmu" }
            : {
                feature: "kvm-asyncpf",
                message: d.message,
                fix: "set paravirt.asyncpfInt: true (and keep asyncpf for older guests) or drop asyncpf",
              },
        ),
  }),
  definePolicy({
    name: "dependencies",
    description: "Every resolver error, and the resolver warnings listed in config, with the resolver's codes.",
    enforcementLevel: "mandatory",
    config: z.strictObject({ warnings: distinctList(WARNING_CODES, "resolver warning codes to enforce as well") }),
    check: (r, c) => {
      // Stryker disable next-line ArrayDeclaration: equivalent (a made-up entry matches no diagnostic code)
      const warnings = new Set<string>(c.warnings ?? []);
      // the config admits only warning codes, so a listed code is a warning's
      return r.diagnostics
        .filter((d) => d.severity === "error" || warnings.has(d.code))
        .map((d) => ({
          message: `[${d.code}] ${d.path}: ${d.message}`,
          fix: `see \`kvm-paravirt rules\`: ${RULE_BY_CODE.get(d.code)?.summary ?? d.code}`,
        }));
    },
  }),
  definePolicy({
    name: "hidden-signature",
    description: "Hiding the KVM signature drops every PV feature: allowed only when config says so.",
    enforcementLevel: "mandatory",
    config: z.strictObject({ allow: z.boolean().describe("allow hidden: true").optional() }),
    check: (r, c) =>
      c.allow === true || r.features.get("kvm")?.enabled !== false
        ? []
        : [
            {
              feature: "kvm",
              message: "the KVM signature is hidden (hidden: true), which removes every PV feature from the guest",
              fix: "remove paravirt.hidden, or allow it in this policy's config",
            },
          ],
  }),
  definePolicy({
    name: "dedicated-vcpus",
    description:
      "kvm-hint-dedicated only on domains whose vCPUs are dedicated (pinned one to one by cpuPinning, or declared with dedicatedVcpus: true), and on those it should be on.",
    enforcementLevel: "advisory",
    config: NO_CONFIG,
    check: (r) => {
      const hint = r.features.get("kvm-hint-dedicated")?.enabled === true;
      const dedicated = r.placement.dedicated.value || r.domain.dedicatedVcpus === true;
      if (hint && !dedicated)
        return [
          {
            feature: "kvm-hint-dedicated",
            message: `kvm-hint-dedicated is on but the vCPUs are not dedicated (${r.placement.dedicated.reason}): the guest stops PV spinlocks and TLB flush while sharing cores`,
            fix: "pin them (cpuPinning.dedicated: true), set dedicatedVcpus: true if they are dedicated by other means, else paravirt.hintDedicated: false",
          },
        ];
      if (dedicated && !hint)
        return [
          {
            feature: "kvm-hint-dedicated",
            message: "the vCPUs are dedicated but kvm-hint-dedicated is off: the guest keeps PV spinlocks and cannot use haltpoll",
            fix: "set paravirt.hintDedicated: true",
          },
        ];
      return [];
    },
  }),
  definePolicy({
    name: "no-custom-argv",
    description: "No domain that needs the QEMU-namespace fallback (libvirt marks it tainted: custom-argv).",
    enforcementLevel: "advisory",
    config: NO_CONFIG,
    check: (r) => {
      if (!needsCustomArgv(r.libvirt)) return [];
      const what = [
        ...r.libvirt.globals.map((g) => `${g.feature.qemu}=${g.value ? "on" : "off"}`),
        ...r.libvirt.machineOptions.map((m) => `-machine ${m}`),
      ];
      return [
        {
          message: `needs <qemu:commandline> for ${what.join(", ")}, so libvirt marks the domain tainted (custom-argv)`,
          fix: "drop those explicit settings (let QEMU's default stand) or allow the taint by disabling this policy",
        },
      ];
    },
  }),
  definePolicy({
    name: "guest-kernel-minimum",
    description: "No PV feature on for a guest kernel too old (or too new) to use it.",
    enforcementLevel: "advisory",
    config: NO_CONFIG,
    check: (r) =>
      r.diagnostics
        .filter((d) => d.code === "guest-kernel-too-old")
        .map((d) => {
          // Stryker disable next-line Regex: equivalent (without the anchor: a path holds "paravirt." only at its start)
          const key = d.path.replace(/^paravirt\./, "");
          const f = FEATURE_BY_SPEC_KEY.get(key);
          return {
            ...(f ? { feature: f.qemu } : {}),
            message: d.message,
            fix: f ? `set ${setKey(f, false)} or upgrade the guest kernel` : "upgrade the guest kernel",
          };
        }),
  }),
  definePolicy({
    name: "explicit-pinning",
    description: "Every PV feature stated explicitly (no inherited QEMU defaults), so a QEMU upgrade cannot change a guest's CPUID.",
    enforcementLevel: "advisory",
    config: z.strictObject({ except: featureList("features that may stay inherited") }),
    check: (r, c) => {
      // Stryker disable next-line ArrayDeclaration: equivalent (a made-up entry matches no feature)
      const except = new Set<string>(c.except ?? []);
      const inherited = [...r.features.values()].filter((x) => x.requested === undefined && !except.has(x.feature.qemu));
      return inherited.map((x) => ({
        feature: x.feature.qemu,
        message: `${label(x.feature)} is inherited (${x.source}: ${x.enabled ? "on" : "off"}); a QEMU upgrade could change it`,
        fix: `set ${setKey(x.feature, x.enabled)}`,
      }));
    },
  }),
  definePolicy({
    name: "windows-hyperv-baseline",
    description:
      "Windows guests get these Hyper-V enlightenments (as the guest's CPUID has them: set, offered by the host's KVM, not refused); default hv-relaxed, hv-vapic, hv-time.",
    enforcementLevel: "advisory",
    config: z.strictObject({
      flags: distinctList(
        HYPERV_NAMES,
        `QEMU names of the Hyper-V flags a Windows guest must get (default ${WINDOWS_BASELINE.join(", ")})`,
      ),
    }),
    check: (r, c) => {
      if (r.domain.guest?.os !== "windows") return [];
      const states = hypervStates({ ...r.hyperv, declared: true });
      return (c.flags ?? WINDOWS_BASELINE).flatMap((name) => {
        const row = HYPERV_BY_QEMU_NAME.get(name)!;
        const x = states.get(row.qemu);
        if (x?.enabled) return [];
        return [
          {
            feature: row.qemu,
            message: x
              ? `a Windows guest must get ${row.qemu}, and does not (${x.source}: ${x.reason})`
              : `a Windows guest must get ${row.qemu}; the host's QEMU ${r.host.qemu} has no such flag`,
            fix:
              x?.source === "dropped"
                ? `remove the cause: ${x.reason}`
                : `set hyperv.${row.key}: true (or guest.os windows takes the Windows profile)`,
          },
        ];
      });
    },
  }),
  definePolicy({
    name: "no-hyperv-passthrough",
    description:
      "No Hyper-V passthrough (hv-passthrough): QEMU blocks the domain's migration and the guest gets whatever the host's kernel offers.",
    enforcementLevel: "advisory",
    config: NO_CONFIG,
    check: (r) =>
      r.domain.hyperv?.mode === "passthrough"
        ? [
            {
              feature: HYPERV_VALUES.passthrough.qemu,
              message: "hyperv.mode is passthrough: the domain cannot migrate and its Hyper-V flags follow the host's kernel",
              fix: "set hyperv.mode: custom and name the flags (or guest.os windows for the Windows profile)",
            },
          ]
        : [],
  }),
];

export const POLICY_BY_NAME: ReadonlyMap<string, PolicyDef> = new Map(POLICIES.map((p) => [p.name, p]));

/** One policy's effective settings: enforcement level and config (Pulumi's policy config format). */
export interface PolicySetting {
  enforcementLevel: Enforcement;
  config: Record<string, unknown>;
}

export interface Violation {
  policy: string;
  enforcementLevel: Enforcement;
  domain: string;
  feature?: string;
  message: string;
  fix: string;
}

/** The text a violation is reported with, by the pack and by `check` alike. */
export const violationText = (v: Pick<Violation, "policy" | "domain" | "message" | "fix">): string =>
  `[${v.policy}] ${v.domain}: ${v.message}. Fix: ${v.fix}`;

export function checkPolicy(policy: PolicyDef, r: Resolution, setting: PolicySetting): Violation[] {
  if (setting.enforcementLevel === "disabled") return [];
  return policy
    .check(r, setting.config)
    .map((f) => ({ policy: policy.name, enforcementLevel: setting.enforcementLevel, domain: r.domain.name, ...f }));
}

export function checkAll(r: Resolution, settings: ReadonlyMap<string, PolicySetting>): Violation[] {
  return POLICIES.flatMap((p) => checkPolicy(p, r, settings.get(p.name) ?? { enforcementLevel: p.enforcementLevel, config: {} }));
}
