import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { checkPolicy, evaluateArgs, PARAVIRT_DOMAIN_TYPE, POLICIES, violationText, type PolicyDef } from "kvm-paravirt/core";

/**
 * One CrossGuard policy per kvm-paravirt policy: it matches ParavirtDomain by type,
 * resolves the component's inputs with the same core as the component and
 * `kvm-paravirt check`, and reports each violation with the same text.
 * Exported separately from index.ts: constructing a PolicyPack starts a server.
 */
function toCrossGuard(def: PolicyDef): ResourceValidationPolicy {
  return {
    name: def.name,
    description: def.description,
    enforcementLevel: def.enforcementLevel,
    // derived from the policy's zod config (plain JSON schema: type, items, enum, uniqueItems, description)
    configSchema: { properties: def.configSchema.properties as PolicyConfigSchema["properties"] },
    validateResource: (args, reportViolation) => {
      if (args.type !== PARAVIRT_DOMAIN_TYPE) return;
      // unknown inputs (preview) throw inside props access; the policy runtime reports them as not evaluable
      const ev = evaluateArgs(args.name, args.props);
      if (!ev.resolution) return; // invalid arguments fail the component itself, with the same codes
      const { enforcementLevel: _level, ...config } = args.getConfig<Record<string, unknown>>();
      for (const v of checkPolicy(def, ev.resolution, { enforcementLevel: "mandatory", config })) reportViolation(violationText(v));
    },
  };
}

export const policies: ResourceValidationPolicy[] = POLICIES.map(toCrossGuard);
