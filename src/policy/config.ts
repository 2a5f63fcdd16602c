import Ajv from "ajv";
import YAML from "yaml";
import { closest } from "../util/suggest";
import { ENFORCEMENTS, POLICIES, POLICY_BY_NAME, type Enforcement, type PolicySetting } from "./policies";

/**
 * Policy files in Pulumi's policy-config format, so one file serves
 * `pulumi preview --policy-pack policy/ --policy-pack-config FILE` and
 * `kvm-paravirt check --policy FILE`:
 *   { "all": "advisory", "<policy>": "mandatory" | { "enforcementLevel": "...", ...config } }
 * Each policy's config is validated against the same configSchema the pack declares.
 */

export class PolicyConfigError extends Error {}

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map(
  POLICIES.map((p) => [
    p.name,
    ajv.compile({
      type: "object",
      properties: { enforcementLevel: { enum: [...ENFORCEMENTS] }, ...p.configSchema.properties },
      additionalProperties: false,
    }),
  ]),
);

export function parsePolicyText(text: string, file = "policy"): Map<string, PolicySetting> {
  let raw: unknown;
  try {
    raw = YAML.parse(text, { uniqueKeys: true });
  } catch (e) {
    throw new PolicyConfigError(`${file} is not valid YAML or JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new PolicyConfigError(`${file} must be a mapping of policy names to settings`);
  const entries = raw as Record<string, unknown>;
  let all: Enforcement | undefined;
  if ("all" in entries) {
    if (!ENFORCEMENTS.includes(entries.all as Enforcement)) throw new PolicyConfigError(`${file}: all: must be one of ${ENFORCEMENTS.join(", ")}`);
    all = entries.all as Enforcement;
  }
  const settings = new Map<string, PolicySetting>();
  for (const p of POLICIES) settings.set(p.name, { enforcementLevel: all ?? p.enforcementLevel, config: {} });
  for (const [name, value] of Object.entries(entries)) {
    if (name === "all") continue;
    const policy = POLICY_BY_NAME.get(name);
    if (!policy) {
      const hint = closest(name, POLICIES.map((p) => p.name));
      throw new PolicyConfigError(`${file}: unknown policy ${JSON.stringify(name)}${hint ? `; did you mean ${hint}?` : ""} Policies: ${POLICIES.map((p) => p.name).join(", ")}`);
    }
    const obj = typeof value === "string" ? { enforcementLevel: value } : value;
    const validate = validators.get(name)!;
    if (!validate(obj)) {
      const e = validate.errors![0];
      throw new PolicyConfigError(`${file}: ${name}${e.instancePath.replace(/\//g, ".")}: ${e.message}${e.params && "allowedValues" in e.params ? ` (${(e.params.allowedValues as string[]).join(", ")})` : ""}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`);
    }
    const { enforcementLevel, ...config } = obj as Record<string, unknown>;
    settings.set(name, { enforcementLevel: (enforcementLevel as Enforcement | undefined) ?? all ?? policy.enforcementLevel, config });
  }
  return settings;
}
