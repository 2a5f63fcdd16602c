import YAML from "yaml";
import { z } from "zod";
import { closest } from "../util/suggest";
import { ENFORCEMENTS, POLICIES, POLICY_BY_NAME, type Enforcement, type PolicyDef, type PolicySetting } from "./policies";

/**
 * Policy files in Pulumi's policy-config format, so one file serves
 * `pulumi preview --policy-pack policy/ --policy-pack-config FILE` and
 * `kvm-paravirt check --policy FILE`:
 *   { "all": "advisory", "<policy>": "mandatory" | { "enforcementLevel": "...", ...config } }
 * Each policy's config is validated with the zod schema the pack's configSchema is derived from.
 */

export class PolicyConfigError extends Error {}

const enforcementLevel = z.enum(ENFORCEMENTS);
const fileSchemas = new Map(POLICIES.map((p) => [p.name, p.config.extend({ enforcementLevel: enforcementLevel.optional() })]));

export function parsePolicyText(text: string, file = "policy"): Map<string, PolicySetting> {
  let raw: unknown;
  try {
    raw = YAML.parse(text, { uniqueKeys: true });
  } catch (e) {
    throw new PolicyConfigError(`${file} is not valid YAML or JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new PolicyConfigError(`${file} must be a mapping of policy names to settings`);
  // a Map of the file's own keys: a policy called "constructor" or "__proto__" is unknown, not an Object.prototype member
  const entries = new Map(Object.entries(raw as Record<string, unknown>));
  let all: Enforcement | undefined;
  if (entries.has("all")) {
    const level = entries.get("all");
    if (!ENFORCEMENTS.includes(level as Enforcement))
      throw new PolicyConfigError(`${file}: all: must be one of ${ENFORCEMENTS.join(", ")}, got ${show(level)}`);
    all = level as Enforcement;
  }
  const settings = new Map<string, PolicySetting>();
  for (const p of POLICIES) settings.set(p.name, { enforcementLevel: all ?? p.enforcementLevel, config: {} });
  for (const [name, value] of entries) {
    if (name === "all") continue;
    const policy = POLICY_BY_NAME.get(name);
    const schema = fileSchemas.get(name);
    if (!policy || !schema) {
      const hint = closest(
        name,
        POLICIES.map((p) => p.name),
      );
      throw new PolicyConfigError(
        `${file}: unknown policy ${JSON.stringify(name)}${hint ? `; did you mean ${hint}?` : ""} Policies: ${POLICIES.map((p) => p.name).join(", ")}`,
      );
    }
    const parsed = schema.safeParse(typeof value === "string" ? { enforcementLevel: value } : value, { reportInput: true });
    if (!parsed.success)
      throw new PolicyConfigError(
        parsed.error.issues
          .flatMap((issue) =>
            issueTexts(issue, policy).map((text) => `${file}: ${name}${issue.path.map((k) => `.${String(k)}`).join("")}: ${text}`),
          )
          .join("\n"),
      );
    const { enforcementLevel: level, ...config } = parsed.data as Record<string, unknown>;
    settings.set(name, { enforcementLevel: (level as Enforcement | undefined) ?? all ?? policy.enforcementLevel, config });
  }
  return settings;
}

/** One zod issue in words, one line per wrong thing: what was wrong and what is allowed. */
function issueTexts(issue: z.core.$ZodIssue, policy: PolicyDef): string[] {
  return issue.code === "unrecognized_keys" ? issue.keys.map((key) => unknownKeyText(key, policy)) : [issueText(issue, policy)];
}

/** The keys a policy's setting may have. */
const settingKeys = (policy: PolicyDef): string[] => ["enforcementLevel", ...Object.keys(policy.config.shape)];

function unknownKeyText(key: string, policy: PolicyDef): string {
  const keys = settingKeys(policy);
  const hint = closest(key, keys);
  return `unknown property ${JSON.stringify(key)}${hint ? `; did you mean ${hint}?` : ""} Allowed: ${keys.join(", ")}`;
}

function issueText(issue: z.core.$ZodIssue, policy: PolicyDef): string {
  switch (issue.code) {
    case "invalid_value": {
      const allowed = issue.values.map(String);
      const hint = typeof issue.input === "string" ? closest(issue.input, allowed) : null;
      return `must be equal to one of the allowed values (${allowed.join(", ")}), got ${show(issue.input)}${hint ? `; did you mean ${hint}?` : ""}`;
    }
    case "invalid_type":
      if (issue.path.length === 0)
        return `must be an enforcement level (${ENFORCEMENTS.join(", ")}) or a mapping of ${settingKeys(policy).join(", ")}, got ${show(issue.input)}`;
      return `must be ${issue.expected === "array" ? "a list" : `a ${issue.expected}`}, got ${show(issue.input)}`;
    default:
      return issue.message;
  }
}

function show(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "a mapping";
  return JSON.stringify(value);
}
