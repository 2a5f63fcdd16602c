import { FEATURES } from "../catalog/features";
import { resolveMachine } from "../catalog/machines";
import type { Diagnostic } from "../diagnostics";
import { ASSUMED_HOST, type HostProfile } from "../host/profile";
import { randomUUID } from "node:crypto";
import { renderDomain } from "../pipeline";
import { renderDomainXml } from "../render/domain-xml";
import { type FeatureSource } from "../resolve/resolve";
import { resolveDomain, type Resolution } from "../analyze";
import { validateSpecObject, type LoadedSpec } from "../input/load";
import type { DomainSpec } from "../input/schema";
import { readVcpuProperties } from "../system/qmp";
import { VirshSession } from "../system/virsh-session";
import { mergeDefinition } from "./merge";
import { readDomainXml } from "./read-domain";

/**
 * plan / apply / import against live libvirt hosts. Each host gets one
 * long-lived virsh session; hosts are worked on in parallel (bounded).
 */

export type Action = "create" | "update" | "unchanged" | "delete-candidate";

export interface FeatureChange {
  feature: string;
  current: { enabled: boolean; source: FeatureSource | "absent" } | null;
  desired: { enabled: boolean; source: FeatureSource } | null;
}

export interface DomainPlan {
  uri: string;
  domain: string;
  action: Action;
  /** libvirt state before the change: "running", "paused", "shut off", ... or "absent" */
  state: string;
  /** spec-owned settings that differ (as written), e.g. vcpus 2 -> 4 */
  fieldChanges: { field: string; current: unknown; desired: unknown }[];
  /** effective PV features that differ, current -> desired */
  featureChanges: FeatureChange[];
  /** effective PV features changed out of band since we defined the domain (recorded -> current) */
  drift: { feature: string; recorded: boolean; current: boolean | null }[];
  /** for a running domain: features whose realized value differs from its definition (a change not yet applied by a restart) */
  pendingRestart: { feature: string; running: boolean; defined: boolean }[];
  /** the domain runs (or is paused) and the change takes effect only after a restart */
  restartNeeded: boolean;
  /** the existing domain's UUID: every libvirt call addresses it by this, never by name */
  uuid?: string;
  /** why this domain could not be planned */
  error?: string;
  /** internal: what apply defines */
  desiredXml?: string;
}

export interface HostPlan {
  uri: string;
  error?: string;
  domains: DomainPlan[];
}

export interface Target {
  uri: string;
  spec: DomainSpec;
}

/** Domains -> URIs: the spec's `hosts:` section (validated by the loader), else every --connect URI. */
export function targets(loaded: LoadedSpec, connect: readonly string[]): { targets: Target[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const out: Target[] = [];
  for (const d of loaded.domains) {
    if (!d.spec) continue;
    const uris = [...new Set(loaded.hosts.get(d.name) ?? connect)]; // the same URI twice is one host
    if (uris.length === 0)
      diagnostics.push({
        severity: "error",
        code: "no-connection",
        message: `no host for domain ${d.name}: give --connect URI or a hosts: entry`,
        path: `domains[${d.index}]`,
      });
    for (const uri of uris) out.push({ uri, spec: d.spec });
  }
  return { targets: out, diagnostics };
}

const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  );

/** The spec-owned settings of a definition as written, normalised for comparison. */
function written(xml: string, host: HostProfile): Record<string, unknown> {
  const d = { ...readDomainXml(xml, { asWritten: true }).domain };
  delete d.name;
  if (typeof d.machine === "string") {
    try {
      d.machine = resolveMachine(d.machine, host).resolved;
    } catch {
      // a machine type we do not model stays as written
    }
  }
  return d;
}

/** Effective features of a live definition, as QEMU will realize them. */
function liveResolution(
  xml: string,
  host?: HostProfile,
): { resolution: Resolution | null; reason?: string; recorded: Record<string, boolean> | null } {
  const read = readDomainXml(xml);
  const loaded = validateSpecObject({ domains: [read.domain] });
  const d = loaded.domains[0];
  if (!d.spec) return { resolution: null, reason: d.diagnostics.map((x) => `${x.path}: ${x.message}`).join("; "), recorded: read.recorded };
  return { resolution: resolveDomain(d.spec, host), recorded: read.recorded };
}

async function realizedFeatures(session: VirshSession, uuid: string, props: string[]): Promise<Record<string, boolean> | null> {
  const exec = async <T>(command: string, args?: Record<string, unknown>): Promise<T> => {
    const r = await session.run([
      "qemu-monitor-command",
      "--domain",
      uuid,
      "--cmd",
      JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) }),
    ]);
    if (r.code !== 0) throw new Error(r.stderr.trim());
    return (JSON.parse(r.stdout) as { return: T }).return;
  };
  try {
    return await readVcpuProperties(exec, props);
  } catch {
    return null;
  }
}

/** The plan for one spec domain; `uuid` is the existing domain's (by exact name), undefined when there is none. */
async function planDomain(
  session: VirshSession,
  uri: string,
  spec: DomainSpec,
  uuid: string | undefined,
  host?: HostProfile,
): Promise<DomainPlan> {
  const { resolution: want, rendered } = renderDomain(spec, host);
  const base: DomainPlan = {
    uri,
    domain: spec.name,
    action: "create",
    state: "absent",
    fieldChanges: [],
    featureChanges: [],
    drift: [],
    pendingRestart: [],
    restartNeeded: false,
    desiredXml: rendered.domainXml,
  };
  if (!uuid) {
    // a UUID of our own: a define that races another one for the name fails instead of replacing it
    base.desiredXml = renderDomainXml(want, { uuid: randomUUID() });
    base.featureChanges = [...want.features.values()].map((x) => ({
      feature: x.feature.qemu,
      current: null,
      desired: { enabled: x.enabled, source: x.source },
    }));
    return base;
  }
  base.uuid = uuid;
  const dump = await session.run(["dumpxml", "--inactive", "--security-info", "--domain", uuid]);
  if (dump.code !== 0) return { ...base, action: "unchanged", error: dump.stderr.trim() };
  const state = (await session.run(["domstate", "--domain", uuid])).stdout.trim() || "unknown";
  const liveXml = dump.stdout;
  const hostForNames = want.host ?? ASSUMED_HOST;
  const cur = written(liveXml, hostForNames);
  const des = written(rendered.domainXml, hostForNames);
  const fields = new Set([...Object.keys(cur), ...Object.keys(des)]);
  const fieldChanges = [...fields]
    .filter((f) => canon(cur[f]) !== canon(des[f]))
    .map((f) => ({ field: f, current: cur[f] ?? null, desired: des[f] ?? null }));

  const live = liveResolution(liveXml, host);
  const featureChanges: FeatureChange[] = [];
  for (const f of FEATURES) {
    const d = want.features.get(f.qemu);
    const c = live.resolution?.features.get(f.qemu);
    if (!d && !c) continue;
    if (d && c && d.enabled === c.enabled && d.source === c.source) continue;
    featureChanges.push({
      feature: f.qemu,
      current: c ? { enabled: c.enabled, source: c.source } : null,
      desired: d ? { enabled: d.enabled, source: d.source } : null,
    });
  }
  const recorded = live.recorded;
  const drift: DomainPlan["drift"] = [];
  if (recorded && live.resolution)
    for (const [feature, was] of Object.entries(recorded)) {
      const now = live.resolution.features.get(feature)?.enabled ?? null;
      if (now !== was) drift.push({ feature, recorded: was, current: now });
    }
  const running = state === "running" || state === "paused";
  const pendingRestart: DomainPlan["pendingRestart"] = [];
  if (running && live.resolution) {
    const props = [...live.resolution.features.keys()];
    const realized = await realizedFeatures(session, uuid, props);
    if (realized)
      for (const p of props)
        if (realized[p] !== live.resolution.features.get(p)!.enabled)
          pendingRestart.push({ feature: p, running: realized[p], defined: live.resolution.features.get(p)!.enabled });
  }
  const changed = fieldChanges.length > 0 || drift.length > 0 || recorded === null;
  return {
    ...base,
    action: changed ? "update" : "unchanged",
    state,
    fieldChanges,
    featureChanges: changed ? featureChanges : [],
    drift,
    pendingRestart,
    restartNeeded: running && (changed || pendingRestart.length > 0),
    ...(live.reason ? { error: `the live definition does not read as a spec: ${live.reason}` } : {}),
    desiredXml: changed ? mergeDefinition(liveXml, rendered.domainXml) : rendered.domainXml,
  };
}

/** Runs `fn` for every host with at most `limit` hosts at a time. */
async function eachHost<T>(uris: string[], limit: number, fn: (uri: string) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(uris.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, uris.length) }, async () => {
      while (next < uris.length) {
        const i = next++;
        out[i] = await fn(uris[i]);
      }
    }),
  );
  return out;
}

export interface FleetOptions {
  host?: HostProfile;
  /** report progress lines */
  progress?: (line: string) => void;
  /** hosts worked on at once */
  parallel?: number;
  /** one libvirt call's time limit (default: KVM_PARAVIRT_TIMEOUT seconds, else 60 s) */
  timeoutMs?: number;
}

async function withSession<T>(
  uri: string,
  opts: FleetOptions,
  fn: (s: VirshSession, byName: Map<string, string>) => Promise<T>,
  onError: (e: string) => T,
): Promise<T> {
  const session = new VirshSession(uri, opts.timeoutMs);
  try {
    const list = await session.domains();
    if ("error" in list) return onError(list.error);
    return await fn(session, list.byName);
  } finally {
    session.close();
  }
}

const deleteCandidate = (uri: string, domain: string, uuid: string): DomainPlan => ({
  uri,
  domain,
  uuid,
  action: "delete-candidate",
  state: "defined",
  fieldChanges: [],
  featureChanges: [],
  drift: [],
  pendingRestart: [],
  restartNeeded: false,
});

export async function planFleet(ts: readonly Target[], opts: FleetOptions = {}): Promise<HostPlan[]> {
  const uris = [...new Set(ts.map((t) => t.uri))];
  return eachHost(uris, opts.parallel ?? 4, (uri) =>
    withSession(
      uri,
      opts,
      async (session, byName) => {
        const mine = ts.filter((t) => t.uri === uri);
        const domains: DomainPlan[] = [];
        for (const [i, t] of mine.entries()) {
          if (mine.length > 20 && i % 20 === 0) opts.progress?.(`plan: ${uri}: ${i}/${mine.length}`);
          domains.push(await planDomain(session, uri, t.spec, byName.get(t.spec.name), opts.host));
        }
        // domains we manage on this host that the spec no longer has
        const wanted = new Set(mine.map((t) => t.spec.name));
        for (const [name, uuid] of byName) {
          if (wanted.has(name)) continue;
          const dump = await session.run(["dumpxml", "--inactive", "--domain", uuid]);
          if (dump.code === 0 && readDomainXml(dump.stdout).recorded !== null) domains.push(deleteCandidate(uri, name, uuid));
        }
        return { uri, domains };
      },
      (error) => ({ uri, error, domains: [] }),
    ),
  );
}

export type RestartPolicy = "never" | "if-needed";

/** virsh's error text on one line, without the temporary file it read from. */
const virshError = (stderr: string): string =>
  stderr
    .split("\n")
    .map((l) => l.replace(/^error: /, "").trim())
    .filter((l) => l && !/^Failed to define domain from /.test(l))
    .join("; ");

export interface ApplyResult {
  uri: string;
  domain: string;
  action: Action;
  outcome: "defined" | "unchanged" | "failed" | "skipped";
  restarted: boolean;
  restartPending: boolean;
  error?: string;
}

/** Destroys and starts a domain again, paused if it was paused (its new definition takes effect). */
async function restartDomain(session: VirshSession, d: DomainPlan): Promise<{ ok: boolean; error?: string }> {
  // only a domain of the spec that exists has a UUID; by name, "1" would stop the domain with ID 1
  if (!d.uuid) return { ok: false, error: `the restart failed: ${d.domain} has no known UUID` };
  const stop = await session.run(["destroy", "--domain", d.uuid]);
  if (stop.code !== 0) return { ok: false, error: `the restart failed: ${virshError(stop.stderr)}` };
  const start = await session.run(["start", ...(d.state === "paused" ? ["--paused"] : []), "--domain", d.uuid]);
  return start.code === 0 ? { ok: true } : { ok: false, error: `the restart failed: ${virshError(start.stderr)}` };
}

/** The plan of one domain again, against the host as it is now (after a define lost a race). */
async function replan(session: VirshSession, d: DomainPlan, spec: DomainSpec, host?: HostProfile): Promise<DomainPlan | null> {
  const list = await session.domains();
  if ("error" in list) return null;
  return planDomain(session, d.uri, spec, list.byName.get(d.domain), host);
}

export async function applyFleet(
  ts: readonly Target[],
  restart: RestartPolicy,
  opts: FleetOptions = {},
): Promise<{ hosts: HostPlan[]; results: ApplyResult[] }> {
  const hosts = await planFleet(ts, opts);
  const results: ApplyResult[] = [];
  await eachHost(
    hosts.map((h) => h.uri),
    opts.parallel ?? 4,
    async (uri) => {
      const plan = hosts.find((h) => h.uri === uri)!;
      if (plan.error) {
        for (const t of ts.filter((x) => x.uri === uri))
          results.push({
            uri,
            domain: t.spec.name,
            action: "create",
            outcome: "failed",
            restarted: false,
            restartPending: false,
            error: plan.error,
          });
        return;
      }
      const session = new VirshSession(uri, opts.timeoutMs);
      const specs = new Map(ts.filter((t) => t.uri === uri).map((t) => [t.spec.name, t.spec]));
      try {
        const todo = plan.domains.filter((d) => d.action === "create" || d.action === "update");
        let n = 0;
        for (const d of plan.domains) {
          if (d.action === "delete-candidate") continue;
          if (d.error) {
            results.push({
              uri,
              domain: d.domain,
              action: d.action,
              outcome: "failed",
              restarted: false,
              restartPending: d.pendingRestart.length > 0,
              error: d.error,
            });
            continue;
          }
          if (d.action === "unchanged") {
            // an earlier change still waits for a restart
            const restarted = d.pendingRestart.length > 0 && restart === "if-needed" ? await restartDomain(session, d) : null;
            if (restarted && !restarted.ok)
              results.push({
                uri,
                domain: d.domain,
                action: d.action,
                outcome: "failed",
                restarted: false,
                restartPending: true,
                error: restarted.error,
              });
            else
              results.push({
                uri,
                domain: d.domain,
                action: d.action,
                outcome: "unchanged",
                restarted: Boolean(restarted),
                restartPending: d.pendingRestart.length > 0 && !restarted,
              });
            continue;
          }
          // libvirt's define is atomic: on failure the previous definition stays
          let r = await session.define(d.desiredXml!);
          if (r.code !== 0 && d.action === "create" && /already exists/.test(r.stderr)) {
            // another apply defined it after our plan: plan it again against what is there now
            const again = await replan(session, d, specs.get(d.domain)!, opts.host);
            if (again?.action === "unchanged") {
              results.push({ uri, domain: d.domain, action: again.action, outcome: "unchanged", restarted: false, restartPending: false });
              continue;
            }
            if (again && !again.error) r = await session.define(again.desiredXml!);
          }
          n++;
          if (todo.length > 10 && (n % 25 === 0 || n === todo.length)) opts.progress?.(`apply: ${uri}: ${n}/${todo.length} done`);
          if (r.code !== 0) {
            results.push({
              uri,
              domain: d.domain,
              action: d.action,
              outcome: "failed",
              restarted: false,
              restartPending: false,
              error: virshError(r.stderr),
            });
            continue;
          }
          let restarted = false;
          if (d.restartNeeded && restart === "if-needed") {
            const rs = await restartDomain(session, d);
            if (!rs.ok) {
              results.push({
                uri,
                domain: d.domain,
                action: d.action,
                outcome: "failed",
                restarted: false,
                restartPending: true,
                error: `defined, but ${rs.error}`,
              });
              continue;
            }
            restarted = true;
          }
          results.push({
            uri,
            domain: d.domain,
            action: d.action,
            outcome: "defined",
            restarted,
            restartPending: d.restartNeeded && !restarted,
          });
        }
      } finally {
        session.close();
      }
    },
  );
  return { hosts, results };
}

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
  const session = new VirshSession(uri, timeoutMs);
  try {
    const list = await session.domains();
    if ("error" in list) throw new Error(`${uri}: ${list.error}`);
    const uuids = new Set(list.byName.values());
    const domains: Record<string, unknown>[] = [];
    const notes: Diagnostic[] = [];
    for (const n of names) {
      // an exact name, or a UUID: never an ID, never a name that happens to look like one
      const uuid = list.byName.get(n) ?? (uuids.has(n.toLowerCase()) ? n.toLowerCase() : undefined);
      if (!uuid) throw new Error(`${uri} has no domain named ${JSON.stringify(n)}`);
      const dump = await session.run(["dumpxml", "--inactive", "--domain", uuid]);
      if (dump.code !== 0) throw new Error(`${uri}: ${dump.stderr.trim().replace(/^error: /gm, "")}`);
      const r = importDomain(dump.stdout, host);
      domains.push(r.domain);
      notes.push(...r.notes.map((x) => ({ ...x, path: `${n}: ${x.path}` })));
    }
    return { domains, notes };
  } finally {
    session.close();
  }
}
