import type { HostProfile } from "../host/profile";
import { readDomainXml } from "../libvirt/read-domain";
import { resolveDomain } from "../analyze";
import { specPlacements } from "../render-spec";
import { validateSpecObject, type LoadedSpec } from "../input/load";
import { hostFor } from "../system/host-for";
import { withVirshSession } from "../system/virsh-session";
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
  // the domains of one host see each other's pins (a host's domains are one group, as in render)
  const placements = specPlacements(loaded, host);
  for (const d of loaded.domains) {
    if (!d.spec) {
      report.unchecked.push({ domain: d.name, reason: d.diagnostics.map((x) => `${x.path}: ${x.message}`).join("; ") });
      continue;
    }
    report.violations.push(...checkAll(resolveDomain(d.spec, host, {}, placements.get(d.index)), settings));
  }
  return report;
}

/** Reads every domain defined on `uri` (persistent definitions, each by its UUID) and checks it. */
export async function checkHost(
  uri: string,
  settings: ReadonlyMap<string, PolicySetting>,
  host?: HostProfile,
  progress?: (s: string) => void,
  timeoutMs?: number,
): Promise<AuditReport> {
  return withVirshSession(uri, timeoutMs, async (session) => {
    const list = await session.domains();
    if ("error" in list) throw new Error(`virsh list failed: ${list.error}`);
    const all = [...list.byName];
    const domains: Record<string, unknown>[] = [];
    const report: AuditReport = { domains: all.length, violations: [], unchecked: [] };
    for (const [i, [name, uuid]] of all.entries()) {
      progress?.(`reading ${i + 1}/${all.length}: ${name}`);
      const dump = await session.run(["dumpxml", "--inactive", "--domain", uuid]);
      if (dump.code === 0) domains.push(readDomainXml(dump.stdout).domain);
      else report.unchecked.push({ domain: name, reason: dump.stderr.replace(/^error: /gm, "").trim() });
    }
    const loaded = validateSpecObject({ domains });
    const r = checkSpec(loaded, settings, await hostFor(uri, host, { timeoutMs, progress }));
    return { domains: all.length, violations: r.violations, unchecked: [...report.unchecked, ...r.unchecked] };
  });
}
