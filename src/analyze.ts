import type { Diagnostic } from "./diagnostics";
import type { HostProfile } from "./host/profile";
import { runRules, type RuleEnv } from "./checks/rules";
import { planLibvirt, type Planned } from "./libvirt/plan";
import { resolveFeatures } from "./resolve/resolve";
import type { PlacementContext } from "./resolve/placement";
import type { DomainSpec } from "./input/schema";

/**
 * Resolve, then plan, then check: the order the data flows in. The resolver knows QEMU
 * only; the libvirt plan decides how each explicit setting reaches QEMU through libvirt;
 * the checks (rules with stable codes) see both. Renderers and policies take the result.
 */
export interface Resolution extends Planned {
  diagnostics: Diagnostic[];
}

/** What an edge that can see the host adds for the checks (a local host's file system, libvirt's schema validator). */
export type HostAccess = Pick<RuleEnv, "pathExists" | "schemaProblem">;

export function resolveDomain(
  domain: DomainSpec,
  profile?: HostProfile,
  access: HostAccess = {},
  placement?: PlacementContext,
): Resolution {
  const resolved = resolveFeatures(domain, profile, placement);
  const planned: Planned = { ...resolved, libvirt: planLibvirt(resolved) };
  const diagnostics = runRules(planned, {
    enforceCpuid: resolved.enforceCpuid,
    hadProfile: profile !== undefined,
    ...access,
  });
  return { ...planned, diagnostics };
}
