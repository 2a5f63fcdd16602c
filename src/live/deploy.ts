import type { HostProfile } from "../host/profile";
import type { DomainSpec } from "../input/schema";
import type { VirshSession } from "../system/virsh-session";
import { applyDomain } from "./apply";
import type { ApplyResult, DomainPlan, RestartPolicy } from "./model";
import { planDomain } from "./plan";
import { readDomainXml } from "../libvirt/read-domain";

/**
 * The deploy engine for one domain on an open session: the Pulumi `Domain` resource's
 * create, read, update and delete. The change itself is the CLI apply's: planDomain
 * (read the live definition once, merge the spec into it in place) then applyDomain.
 * Every call addresses the domain by its UUID; the name is only looked up, exactly.
 */

export class DeployError extends Error {}

/** Which domain the caller expects: none of that name (create), or exactly this one (update). */
export type Expect = { absent: true } | { uuid: string };

export interface Deployed {
  uuid: string;
  plan: DomainPlan;
  result: ApplyResult;
  /** libvirt's state after the change ("shut off", "running", ...) */
  state: string;
}

async function byName(session: VirshSession): Promise<Map<string, string>> {
  const list = await session.domains();
  if ("error" in list) throw new DeployError(`cannot list the domains of ${session.uri}: ${list.error}`);
  return list.byName;
}

async function domainState(session: VirshSession, uuid: string): Promise<string> {
  const r = await session.run(["domstate", "--domain", uuid]);
  return r.code === 0 ? r.stdout.trim() : "unknown";
}

/** Defines (or updates) one domain as the spec says, on the condition `expect`; throws DeployError when it cannot. */
export async function deployDomain(
  session: VirshSession,
  spec: DomainSpec,
  expect: Expect,
  restart: RestartPolicy,
  host?: HostProfile,
): Promise<Deployed> {
  const names = await byName(session);
  const existing = names.get(spec.name);
  if ("absent" in expect && existing)
    throw new DeployError(
      `a domain named ${JSON.stringify(spec.name)} already exists on ${session.uri} (UUID ${existing}); it is not changed. ` +
        `To manage it, import it: pulumi import kvm-paravirt:index:Domain <resource name> '${spec.name}@<connection URI>'`,
    );
  if ("uuid" in expect && existing !== expect.uuid)
    throw new DeployError(
      existing
        ? `the domain ${JSON.stringify(spec.name)} on ${session.uri} now has UUID ${existing}, not ${expect.uuid} (the one this resource manages): it was replaced out of band and is not touched; refresh, then decide`
        : `the domain ${JSON.stringify(spec.name)} (UUID ${expect.uuid}) is gone from ${session.uri}; run a refresh to forget it, then create it again`,
    );
  const plan = await planDomain(session, session.uri, spec, existing, host);
  if (plan.error) throw new DeployError(`${spec.name}: ${plan.error}`);
  const result = await applyDomain(session, plan, spec, restart, host);
  if (result.outcome === "failed") throw new DeployError(`${spec.name} on ${session.uri}: ${result.error ?? "the define failed"}`);
  const uuid = existing ?? (await byName(session)).get(spec.name);
  if (!uuid) throw new DeployError(`${spec.name} was defined on ${session.uri} but is not listed afterwards`);
  return { uuid, plan, result, state: await domainState(session, uuid) };
}

/** The inactive definition of the domain with this UUID, or null when the host has no such domain. */
export async function readLive(session: VirshSession, uuid: string): Promise<{ xml: string; state: string } | null> {
  const names = await byName(session);
  if (![...names.values()].includes(uuid)) return null;
  const dump = await session.run(["dumpxml", "--inactive", "--security-info", "--domain", uuid]);
  if (dump.code !== 0) throw new DeployError(`cannot read the definition of ${uuid} on ${session.uri}: ${dump.stderr.trim()}`);
  return { xml: dump.stdout, state: await domainState(session, uuid) };
}

/** The UUID of a domain given by exact name or by UUID, or undefined. */
export async function findDomain(session: VirshSession, nameOrUuid: string): Promise<string | undefined> {
  const names = await byName(session);
  const byExactName = names.get(nameOrUuid);
  if (byExactName) return byExactName;
  const lower = nameOrUuid.toLowerCase();
  return [...names.values()].find((u) => u === lower);
}

/**
 * Undefines the domain with this UUID if this tool defined it (its kpv metadata); gone already
 * is success. A running domain keeps running (libvirt makes it transient) until it stops.
 */
export async function undefineDomain(session: VirshSession, uuid: string): Promise<"undefined" | "gone"> {
  const live = await readLive(session, uuid);
  if (!live) return "gone";
  if (readDomainXml(live.xml).recorded === null)
    throw new DeployError(`the domain ${uuid} on ${session.uri} was not defined by kvm-paravirt (no kpv:paravirt metadata): left alone`);
  const r = await session.run(["undefine", "--domain", uuid]);
  if (r.code === 0) return "undefined";
  if (/failed to get domain|Domain not found/.test(r.stderr)) return "gone";
  throw new DeployError(`cannot undefine ${uuid} on ${session.uri}: ${r.stderr.replace(/^error: /gm, "").trim()}`);
}
