import type { HostProfile } from "../host/profile";
import type { DomainSpec } from "../input/schema";
import { VirshSession } from "../system/virsh-session";
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
