import { InvalidArgumentError, Option, type Command } from "commander";
import type { HostPlan, PlanWarning, Target } from "../../live/model";
import { planFleet } from "../../live/plan";
import { targets } from "../../live/targets";
import { parseSpecText } from "../../input/load";
import { libvirtUri } from "../../input/schema";
import { formatDiagnostics, table } from "../format";
import { loadProfile, readText, type Io } from "../io";
import { chooseView, type View } from "../views";
import { PLAN_EXIT, type Ctx } from "./context";
import { hostOption, jsonOption } from "./render";

/** `plan`: what `apply` would do on each host, per domain, with the feature table current -> desired. */

/** A warning diagnostic as plan and apply print it (validate's words, one line). */
export const warningLine = (w: PlanWarning, indent: string) => `${indent}warning [${w.code}] ${w.path ? `${w.path}: ` : ""}${w.message}`;

const onOff = (x: { enabled: boolean; source: string } | null) => (x ? `${x.enabled ? "on" : "off"} (${x.source})` : "-");

/** The human view of a plan (exported for its table test). */
export function formatPlan(hosts: HostPlan[]): string {
  const out: string[] = [];
  for (const h of hosts) {
    out.push(`host ${h.uri}${h.error ? `: ERROR ${h.error}` : ""}`);
    for (const d of h.domains) {
      const flags = [d.restartNeeded ? "restart needed" : "", d.drift.length ? "DRIFT" : "", d.error ? `ERROR ${d.error}` : ""]
        .filter(Boolean)
        .join(", ");
      out.push(`  ${d.action.padEnd(16)} ${d.domain}${flags ? `  [${flags}]` : ""}`);
      for (const w of d.warnings) out.push(warningLine(w, "      "));
      for (const c of d.fieldChanges) out.push(`      ${c.field}: ${JSON.stringify(c.current)} -> ${JSON.stringify(c.desired)}`);
      if (d.pinning && d.action !== "delete-candidate")
        out.push(
          `      pinning: ${d.pinning.vcpus ? `vCPUs on host CPUs ${d.pinning.vcpus.join(" | ")}${d.pinning.picked ? " (picked)" : ""}` : "vCPUs not pinned"}; emulator ${d.pinning.emulator ? `on ${d.pinning.emulator}` : "not pinned"}; ${d.pinning.dedicated ? "dedicated" : `not dedicated: ${d.pinning.reason}`}`,
        );
      for (const c of d.liveChanges ?? [])
        out.push(`      applied live (no restart): ${c.setting} on host CPUs ${c.from ?? "(any)"} -> ${c.to} (virsh ${c.args[0]} --live)`);
      if (d.action === "update" && d.featureChanges.length)
        out.push(
          table(
            [["FEATURE", "CURRENT", "DESIRED"], ...d.featureChanges.map((c) => [c.feature, onOff(c.current), onOff(c.desired)])],
            "      ",
          ),
        );
      for (const x of d.drift)
        out.push(
          `      drift: ${x.feature} was ${x.recorded ? "on" : "off"} when defined, is ${x.current === null ? "absent" : x.current ? "on" : "off"} now`,
        );
      for (const x of d.pendingRestart)
        out.push(`      restart pending: ${x.feature} runs ${x.running ? "on" : "off"}, defined ${x.defined ? "on" : "off"}`);
      if (d.deviceChanges.length)
        out.push(
          table(
            [
              ["DEVICE", "CHANGE", "ON A RUNNING DOMAIN"],
              ...d.deviceChanges.map((c) => [
                c.device,
                c.change,
                c.hotplug ? "hot-pluggable (applied at the next start)" : "needs a restart",
              ]),
            ],
            "      ",
          ),
        );
      if (d.runChange) out.push(`      then: ${d.runChange.replace("-", " ")}`);
      if (d.autostart !== undefined) out.push(`      autostart: ${d.autostart ? "on" : "off"}`);
    }
  }
  const all = hosts.flatMap((h) => h.domains);
  const n = (a: string) => all.filter((d) => d.action === a).length;
  out.push(
    `plan: ${n("create")} to create, ${n("update")} to update, ${n("unchanged")} unchanged, ${n("delete-candidate")} delete candidate(s)`,
  );
  return out.join("\n");
}

const view: View<HostPlan[]> = {
  human: formatPlan,
  // desiredXml is the apply step's input, not part of the plan document
  json: (hosts) => ({
    hosts: hosts.map((h) => ({
      ...h,
      domains: h.domains.map(({ desiredXml: _x, liveChanges, ...d }) => ({
        ...d,
        ...(liveChanges ? { liveChanges: liveChanges.map(({ args: _a, ...c }) => c) } : {}),
      })),
    })),
  }),
};

const hasFailures = (hosts: HostPlan[]) => hosts.some((h) => h.error || h.domains.some((d) => d.error));
// delete candidates are reported, not counted: apply never deletes
const hasChanges = (hosts: HostPlan[]) =>
  hosts.some((h) =>
    h.domains.some(
      (d) => d.action === "create" || d.action === "update" || d.pendingRestart.length > 0 || d.runChange || d.autostart !== undefined,
    ),
  );

/** The spec's domains with their hosts, or null after printing why not (an error for plan and apply). */
export function loadTargets(io: Io, file: string, connect: readonly string[]): Target[] | null {
  const loaded = parseSpecText(readText(io, file, "spec"));
  const t = targets(loaded, connect);
  const errors = [...loaded.diagnostics, ...loaded.domains.flatMap((d) => d.diagnostics), ...t.diagnostics].filter(
    (d) => d.severity === "error",
  );
  if (errors.length) {
    io.err(`${file}:\n${formatDiagnostics(errors)}`);
    return null;
  }
  return t.targets;
}

/** --connect URI, checked as the spec's hosts: URIs are; repeatable. */
export function uriArgument(value: string): string {
  const r = libvirtUri.safeParse(value);
  if (!r.success) throw new InvalidArgumentError(`expected ${r.error.issues[0].message}`);
  return value;
}
/** --timeout SECONDS: one libvirt call's limit. */
export const timeoutOption = () =>
  new Option(
    "--timeout <seconds>",
    "how long one libvirt call may take before the host counts as not answering (default: KVM_PARAVIRT_TIMEOUT or 60)",
  ).argParser((v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > 86400) throw new InvalidArgumentError("expected a number of seconds between 0 and 86400");
    return n;
  });
export const timeoutMs = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000);

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), uriArgument(value)];
export const connectOption = () =>
  new Option("--connect <uri>", "libvirt URI for the domains the spec's hosts: section does not map (repeatable)").argParser(collect);

interface Opts {
  connect?: string[];
  host?: string;
  json?: boolean;
  detailedExitcode?: boolean;
  timeout?: number;
}

async function run(ctx: Ctx, file: string, opts: Opts): Promise<void> {
  const present = chooseView(ctx.io, opts.json, view);
  const ts = loadTargets(ctx.io, file, opts.connect ?? []);
  if (!ts) return ctx.exit(PLAN_EXIT.error);
  const hosts = await planFleet(ts, {
    host: loadProfile(ctx.io, opts.host),
    progress: (s) => ctx.io.err(s),
    timeoutMs: timeoutMs(opts.timeout),
  });
  present(hosts);
  if (hasFailures(hosts)) return ctx.exit(PLAN_EXIT.error);
  ctx.exit(opts.detailedExitcode && hasChanges(hosts) ? PLAN_EXIT.changes : PLAN_EXIT.ok);
}

export function registerPlan(program: Command, ctx: Ctx): void {
  program
    .command("plan")
    .description(
      "per host and domain: create, update, unchanged or delete-candidate, the feature changes current -> desired, drift, restarts needed",
    )
    .argument("<file>", "the spec, YAML or JSON ('-' reads standard input)")
    .addOption(connectOption())
    .addOption(hostOption())
    .addOption(timeoutOption())
    .addOption(jsonOption())
    .option("--detailed-exitcode", "exit 2 when the plan has changes (0 none, 1 error), as terraform plan -detailed-exitcode")
    .action((file: string, opts: Opts) => run(ctx, file, opts));
}
