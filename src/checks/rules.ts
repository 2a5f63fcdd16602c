import type { Diagnostic } from "../diagnostics";
import type { Planned } from "../libvirt/plan";
import { DEPENDENCY_RULES } from "./dependencies";
import { DEVICE_RULES } from "./devices";
import { GUEST_RULES } from "./guest";
import { HOST_RULES } from "./host";
import { HYPERV_RULES } from "./hyperv";
import { LIBVIRT_RULES } from "./libvirt";
import { PLACEMENT_RULES } from "./placement";
import type { Rule, RuleEnv } from "./rule";

export type { Finding, Rule, RuleEnv } from "./rule";

/** Every rule, by topic. */
export const RULES: readonly Rule[] = [
  ...HOST_RULES,
  ...DEPENDENCY_RULES,
  ...GUEST_RULES,
  ...LIBVIRT_RULES,
  ...DEVICE_RULES,
  ...HYPERV_RULES,
  ...PLACEMENT_RULES,
];

export const RULE_BY_CODE: ReadonlyMap<string, Rule> = new Map(RULES.map((r) => [r.code, r]));

export function runRules(r: Planned, env: RuleEnv): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const rule of RULES)
    for (const f of rule.check(r, env)) out.push({ severity: rule.severity, code: rule.code, message: f.message, path: f.path });
  return out;
}
