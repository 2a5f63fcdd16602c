import { featureByKey, type FeatureRow, type SpecKey } from "../catalog/features";
import type { Severity } from "../diagnostics";
import type { Planned } from "../libvirt/plan";
import type { FeatureResolution } from "../resolve/resolve";

/**
 * A rule: a stable code, a severity, a one-line summary (docs, policy config) and a
 * check over the resolution and its libvirt plan. Paths are relative to the domain
 * (the caller prefixes domains[i]). The rules themselves are data, one file per topic.
 */

export interface Finding {
  path: string;
  message: string;
}

export interface RuleEnv {
  enforceCpuid: boolean;
  hadProfile: boolean;
  /** whether a host path exists, when the domain goes to this machine (a local connection); unknown otherwise */
  pathExists?: (path: string) => boolean;
  /** libvirt's schema check of a domain definition (virt-xml-validate), where the edge has it: null when it validates, else why */
  schemaProblem?: (domainXml: string) => string | null;
}

export interface Rule {
  code: string;
  severity: Severity;
  summary: string;
  check(r: Planned, env: RuleEnv): Finding[];
}

export const fpath = (f: FeatureRow) => `paravirt.${f.specKey}`;
export const res = (r: Planned, key: SpecKey): FeatureResolution | undefined => r.features.get(featureByKey(key).qemu);
export const on = (r: Planned, key: SpecKey) => res(r, key)?.enabled === true;
export const explicitOn = (r: Planned, key: SpecKey) => res(r, key)?.requested === true;
export const visible = (r: Planned, key: SpecKey) => res(r, key)?.guestVisible === true;
export const kvmVisible = (r: Planned) => r.domain.accel === "kvm" && res(r, "hidden")?.enabled !== false;

export function droppedBy(r: Planned, ...causes: string[]): FeatureResolution[] {
  return [...r.features.values()].filter((x) => x.requested === true && x.dropCause !== undefined && causes.includes(x.dropCause));
}
