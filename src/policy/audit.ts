import type { HostProfile } from "../host/profile";
import { readDomainXml } from "../live/read-domain";
import { resolveDomain } from "../resolve/resolve";
import { validateSpecObject, type LoadedSpec } from "../spec/load";
import { virsh } from "../adapters/virsh";
import { checkAll, type PolicySetting, type Violation } from "./policies";

/** `kvm-paravirt check`: policies over a spec's domains, or over every domain defined on a host. */

export interface AuditReport {
  domains: number;
  violations: Violation[];
  /** domains that could not be checked, and why */
  unchecked: { domain: string; reason: string }[];
}

export function checkSpec(loaded: LoadedSpec, settings: ReadonlyMap<string, PolicySetting>, host?: HostProfile): AuditReport {
  const report: AuditReport = { domains: loaded.domains.length, violations: [], unchecked: [] };
  for (const d of loaded.domains) {
    if (!d.spec) {
      report.unchecked.push({ domain: d.name, reason: d.diagnostics.map((x) => `${x.path}: ${x.message}`).join("; ") });
      continue;
    }
    report.violations.push(...checkAll(resolveDomain(d.spec, host), settings));
  }
  return report;
}

/** Reads every domain defined on `uri` (persistent definitions) and checks it. */
export async function checkHost(
  uri: string,
  settings: ReadonlyMap<string, PolicySetting>,
  host?: HostProfile,
  progress?: (s: string) => void,
): Promise<AuditReport> {
  const names = (await virsh(uri, ["list", "--all", "--name"]))
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean);
  const domains: Record<string, unknown>[] = [];
  const report: AuditReport = { domains: names.length, violations: [], unchecked: [] };
  for (const [i, name] of names.entries()) {
    progress?.(`reading ${i + 1}/${names.length}: ${name}`);
    try {
      domains.push(readDomainXml(await virsh(uri, ["dumpxml", "--inactive", "--domain", name])).domain);
    } catch (e) {
      report.unchecked.push({ domain: name, reason: (e as Error).message });
    }
  }
  const loaded = validateSpecObject({ domains });
  const r = checkSpec(loaded, settings, host);
  return { domains: names.length, violations: r.violations, unchecked: [...report.unchecked, ...r.unchecked] };
}
