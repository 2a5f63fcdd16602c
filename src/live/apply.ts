import type { HostProfile } from "../host/profile";
import type { DomainSpec } from "../input/schema";
import { hostFor } from "../system/host-for";
import { withVirshSession, type VirshSession } from "../system/virsh-session";
import type { ApplyResult, DomainPlan, FleetOptions, HostPlan, RestartPolicy, Target } from "./model";
import { eachHost, planDomain, planFleet } from "./plan";

/** apply: define what the plan says, restart on request; by UUID, never by a name libvirt may read as an ID. */

/** virsh's error text on one line, without the temporary file it read from. */
const virshError = (stderr: string): string =>
  stderr
    .split("\n")
    .map((l) => l.replace(/^error: /, "").trim())
    .filter((l) => l && !/^Failed to define domain from /.test(l))
    .join("; ");

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

/** One domain's apply result; restarted and restartPending default to false. */
const result = (
  d: Pick<DomainPlan, "uri" | "domain" | "action">,
  outcome: ApplyResult["outcome"],
  more: Partial<ApplyResult> = {},
): ApplyResult => ({
  uri: d.uri,
  domain: d.domain,
  action: d.action,
  outcome,
  restarted: false,
  restartPending: false,
  warnings: [],
  ...more,
});

/** The run state and autostart the plan asks for, after the define: by UUID. */
async function reconcileRun(session: VirshSession, d: DomainPlan): Promise<{ ok: true } | { ok: false; error: string }> {
  if (!d.runChange && d.autostart === undefined) return { ok: true };
  const uuid = d.uuid ?? (await session.domains().then((l) => ("byName" in l ? l.byName.get(d.domain) : undefined)));
  if (!uuid) return { ok: false, error: `${d.domain} is not listed after its define` };
  const steps: string[][] = [];
  if (d.runChange === "start") steps.push(["start", "--domain", uuid]);
  if (d.runChange === "start-paused") steps.push(["start", "--paused", "--domain", uuid]);
  if (d.runChange === "resume") steps.push(["resume", "--domain", uuid]);
  if (d.runChange === "pause") steps.push(["suspend", "--domain", uuid]);
  if (d.autostart !== undefined) steps.push(["autostart", ...(d.autostart ? [] : ["--disable"]), "--domain", uuid]);
  for (const step of steps) {
    const r = await session.run(step);
    if (r.code !== 0) return { ok: false, error: `${step[0]} failed: ${virshError(r.stderr)}` };
  }
  return { ok: true };
}

/** Applies one planned domain on its host's session (the CLI's apply and the Pulumi Domain resource alike). */
export async function applyDomain(
  session: VirshSession,
  d: DomainPlan,
  spec: DomainSpec,
  restart: RestartPolicy,
  host?: HostProfile,
): Promise<ApplyResult> {
  const defined = { ...(await defineDomain(session, d, spec, restart, host)), warnings: d.warnings };
  if (defined.outcome === "failed") return defined;
  const run = await reconcileRun(session, d);
  return run.ok ? defined : { ...defined, outcome: "failed", error: `${defined.outcome === "defined" ? "defined, but " : ""}${run.error}` };
}

/** The definition part of applyDomain: define (or not), restart on request. */
async function defineDomain(
  session: VirshSession,
  d: DomainPlan,
  spec: DomainSpec,
  restart: RestartPolicy,
  host?: HostProfile,
): Promise<ApplyResult> {
  if (d.error) return result(d, "failed", { restartPending: d.pendingRestart.length > 0, error: d.error });
  if (d.action === "unchanged") {
    // an earlier change still waits for a restart
    if (d.pendingRestart.length === 0) return result(d, "unchanged");
    if (restart !== "if-needed") return result(d, "unchanged", { restartPending: true });
    const rs = await restartDomain(session, d);
    return rs.ok ? result(d, "unchanged", { restarted: true }) : result(d, "failed", { restartPending: true, error: rs.error });
  }
  // libvirt's define is atomic: on failure the previous definition stays
  let r = await session.define(d.desiredXml!);
  if (r.code !== 0 && d.action === "create" && /already exists/.test(r.stderr)) {
    // another apply defined it after our plan: plan it again against what is there now
    const again = await replan(session, d, spec, host);
    if (again?.action === "unchanged") return result(again, "unchanged");
    if (again && !again.error) r = await session.define(again.desiredXml!);
  }
  if (r.code !== 0) return result(d, "failed", { error: virshError(r.stderr) });
  // pinning changes reach the running domain now; the define above keeps them for its next start
  for (const c of d.liveChanges ?? []) {
    const pin = await session.run(c.args);
    if (pin.code !== 0)
      return result(d, "failed", {
        restartPending: true,
        error: `defined, but ${c.args[0]} --live of ${c.setting} failed: ${virshError(pin.stderr)}`,
      });
  }
  if (!d.restartNeeded) return result(d, "defined");
  if (restart !== "if-needed") return result(d, "defined", { restartPending: true });
  const rs = await restartDomain(session, d);
  return rs.ok
    ? result(d, "defined", { restarted: true })
    : result(d, "failed", { restartPending: true, error: `defined, but ${rs.error}` });
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
      const mine = ts.filter((t) => t.uri === uri);
      if (plan.error) {
        for (const t of mine) results.push(result({ uri, domain: t.spec.name, action: "create" }, "failed", { error: plan.error }));
        return;
      }
      const specs = new Map(mine.map((t) => [t.spec.name, t.spec]));
      await withVirshSession(uri, opts.timeoutMs, async (session) => {
        // the facts the plan used (read once per URI and process)
        const host = await hostFor(uri, opts.host, { timeoutMs: opts.timeoutMs });
        const todo = plan.domains.filter((d) => d.action === "create" || d.action === "update").length;
        let n = 0;
        for (const d of plan.domains) {
          if (d.action === "delete-candidate") continue;
          results.push(await applyDomain(session, d, specs.get(d.domain)!, restart, host));
          if (d.action === "create" || d.action === "update") {
            n++;
            if (todo > 10 && (n % 25 === 0 || n === todo)) opts.progress?.(`apply: ${uri}: ${n}/${todo} done`);
          }
        }
      });
    },
  );
  return { hosts, results };
}
