import type { Diagnostic } from "../diagnostics";
import type { HostProfile } from "../host/profile";
import { resolveMachine } from "../catalog/machines";
import { resolveDomain, type Resolution } from "../analyze";
import { validateSpecObject } from "../input/load";
import { hostFor } from "../system/host-for";
import { withVirshSession } from "../system/virsh-session";
import { canon } from "./compare";
import { readDomainXml } from "../libvirt/read-domain";

/** The spec domain that reproduces a live domain, explicit only where it differs from the defaults. */
export function importDomain(xml: string, host?: HostProfile): { domain: Record<string, unknown>; notes: Diagnostic[] } {
  const read = readDomainXml(xml);
  const d: Record<string, unknown> = { ...read.domain };
  const resolveOf = (dom: Record<string, unknown>) => {
    const l = validateSpecObject({ domains: [dom] }).domains[0];
    return l.spec ? resolveDomain(l.spec, host) : null;
  };
  const full = resolveOf(d);
  if (!full)
    throw new Error(
      `the definition does not read as a spec domain: ${JSON.stringify(validateSpecObject({ domains: [d] }).domains[0].diagnostics.map((x) => `${x.path}: ${x.message}`))}`,
    );
  const fingerprint = (r: Resolution | null) =>
    r ? canon([[...r.features].map(([k, v]) => [k, v.enabled]), r.machine.resolved, r.x2apic.enabled]) : "";
  const target = fingerprint(full);
  // drop explicit PV values that QEMU would choose anyway
  const pv = { ...((d.paravirt as Record<string, boolean>) ?? {}) };
  for (const k of Object.keys(pv)) {
    const without = { ...pv };
    delete without[k];
    if (fingerprint(resolveOf({ ...d, paravirt: without })) === target) delete pv[k];
  }
  if (Object.keys(pv).length) d.paravirt = pv;
  else delete d.paravirt;
  // and scalar defaults
  if (d.vcpus === 1) delete d.vcpus;
  if (d.memoryMiB === 1024) delete d.memoryMiB;
  const cpu = { ...((d.cpu as Record<string, unknown>) ?? {}) };
  if (cpu.check === "none") delete cpu.check;
  if (cpu.mode === "custom" && cpu.model === "qemu64") delete cpu.model;
  if (cpu.mode === "custom" && Object.keys(cpu).length === 1) delete cpu.mode;
  if (Object.keys(cpu).length) d.cpu = cpu;
  else delete d.cpu;
  if (
    typeof d.machine === "string" &&
    host &&
    fingerprint(resolveOf({ ...d, machine: "q35" })) === target &&
    resolveMachine("q35", host).resolved === d.machine
  )
    delete d.machine;
  return { domain: d, notes: read.notes };
}

export async function importDomains(
  uri: string,
  names: readonly string[],
  host?: HostProfile,
  timeoutMs?: number,
): Promise<{ domains: Record<string, unknown>[]; notes: Diagnostic[] }> {
  return withVirshSession(uri, timeoutMs, async (session) => {
    const list = await session.domains();
    if ("error" in list) throw new Error(`${uri}: ${list.error}`);
    const uuids = new Set(list.byName.values());
    const facts = await hostFor(uri, host, { timeoutMs });
    const domains: Record<string, unknown>[] = [];
    const notes: Diagnostic[] = [];
    for (const n of names) {
      // an exact name, or a UUID: never an ID, never a name that happens to look like one
      const uuid = list.byName.get(n) ?? (uuids.has(n.toLowerCase()) ? n.toLowerCase() : undefined);
      if (!uuid) throw new Error(`${uri} has no domain named ${JSON.stringify(n)}`);
      const dump = await session.run(["dumpxml", "--inactive", "--domain", uuid]);
      if (dump.code !== 0) throw new Error(`${uri}: ${dump.stderr.trim().replace(/^error: /gm, "")}`);
      const r = importDomain(dump.stdout, facts);
      domains.push(r.domain);
      notes.push(...r.notes.map((x) => ({ ...x, path: `${n}: ${x.path}` })));
    }
    return { domains, notes };
  });
}
