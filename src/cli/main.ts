import fs from "node:fs";
import { parseArgs } from "node:util";
import { probeHost } from "../adapters/probe";
import { FEATURES } from "../catalog/features";
import { parseHostProfileJson, type HostProfile } from "../host/profile";
import { renderSpec, specHasErrors, type RenderedSpec } from "../pipeline";
import { RULES } from "../resolve/rules";
import { parseSpecText } from "../spec/load";
import YAML from "yaml";
import { applyFleet, importDomains, planFleet, targets, type HostPlan } from "../live/fleet";
import { renderXslt } from "../render/xslt";
import { renderDomain } from "../pipeline";
import { hasErrors } from "../diagnostics";
import { checkHost, checkSpec, type AuditReport } from "../policy/audit";
import { parsePolicyText, PolicyConfigError } from "../policy/config";
import { catalogMarkdown, formatDiagnostics, formatDomain, formatProfile, table } from "./format";

/**
 * `kvm-paravirt`: a thin front end over the pure core. Exit codes: 0 no error
 * diagnostics, 1 error diagnostics, 2 unreadable input or usage.
 */

export const EXIT = { ok: 0, diagnostics: 1, usage: 2 } as const;

const USAGE = `kvm-paravirt: declarative paravirtualized KVM features for libvirt/QEMU

Usage:
  kvm-paravirt render FILE [--host PROFILE.json] [--json] [--xml] [--args]
      per domain: every PV feature with its effective value, source and reason,
      then diagnostics; --xml and --args add the libvirt XML and QEMU arguments
  kvm-paravirt validate FILE [--host PROFILE.json] [--json]
      diagnostics only
  kvm-paravirt probe [--json] [--connect URI | --no-libvirt]
      a host profile of this machine, read from QEMU, KVM and libvirt
  kvm-paravirt check FILE --policy POLICY [--host PROFILE.json] [--json]
  kvm-paravirt check --connect URI --policy POLICY [--host PROFILE.json] [--json]
      organisation policies over the resolved features of a spec's domains, or of
      every domain defined on a libvirt host; exit 1 on a mandatory violation
  kvm-paravirt plan FILE [--connect URI]... [--host PROFILE.json] [--json]
      per domain and host: create, update, unchanged or delete-candidate, the
      feature changes current -> desired, drift, whether a restart is needed.
      Exit 0 no changes, 2 changes, 1 error (like terraform plan -detailed-exitcode)
  kvm-paravirt apply FILE [--connect URI]... [--host PROFILE.json] [--restart never|if-needed] [--json]
      defines new domains, redefines changed ones (keeping UUID, devices, metadata)
  kvm-paravirt import DOMAIN... --connect URI [--host PROFILE.json]
      the spec (YAML) that reproduces the domains' PV configuration
  kvm-paravirt xslt FILE --domain NAME
      an XSLT stylesheet applying that domain's PV settings to any libvirt domain XML
  kvm-paravirt catalog [--json]
      the PV feature catalog; rules lists the diagnostic codes
  kvm-paravirt rules [--json]

FILE is YAML or JSON ('-' reads standard input).
Exit codes: 0 no errors, 1 error diagnostics, 2 unreadable input or usage.`;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  readFile: (path: string) => string;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + "\n"),
  err: (s) => process.stderr.write(s + "\n"),
  readFile: (p) => fs.readFileSync(p === "-" ? 0 : p, "utf8"),
};

class UsageError extends Error {}

function readText(io: Io, file: string, what: string): string {
  try {
    return io.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${what} ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message}`);
  }
}

function loadProfile(io: Io, file: string | undefined): HostProfile | undefined {
  if (!file) return undefined;
  const r = parseHostProfileJson(readText(io, file, "host profile"));
  if ("profile" in r) return r.profile;
  if (r.error === "json") throw new UsageError(`host profile ${file} is not valid JSON: ${r.message}`);
  throw new UsageError(`host profile ${file}: ${r.path || "(top level)"}: ${r.message} (write it with \`kvm-paravirt probe --json\`)`);
}

function toJson(r: RenderedSpec, diagnosticsOnly: boolean): unknown {
  return {
    domains: r.domains.map((d) =>
      diagnosticsOnly ? { name: d.name, diagnostics: d.diagnostics } : { name: d.name, domainXml: d.domainXml, qemuArgs: d.qemuArgs, features: d.features, diagnostics: d.diagnostics },
    ),
    ...(r.diagnostics.length ? { diagnostics: r.diagnostics } : {}),
  };
}

function renderCommand(io: Io, positionals: string[], values: Record<string, unknown>, diagnosticsOnly: boolean): number {
  if (positionals.length !== 1) throw new UsageError(`${diagnosticsOnly ? "validate" : "render"} takes exactly one FILE`);
  const host = loadProfile(io, values.host as string | undefined);
  const file = positionals[0];
  const loaded = parseSpecText(readText(io, file, "spec"));
  const result = renderSpec(loaded, host);
  if (values.json) io.out(JSON.stringify(toJson(result, diagnosticsOnly), null, 2));
  else {
    if (result.diagnostics.length) io.out(`${file}:\n${formatDiagnostics(result.diagnostics)}`);
    for (const d of result.domains)
      io.out(diagnosticsOnly ? `domain ${d.name}\n${formatDiagnostics(d.diagnostics)}` : formatDomain(d, { xml: Boolean(values.xml), args: Boolean(values.args) }) + "\n");
    const all = [...result.diagnostics, ...result.domains.flatMap((d) => d.diagnostics)];
    const count = (s: string) => all.filter((d) => d.severity === s).length;
    io.out(`${result.domains.length} domain(s): ${count("error")} error(s), ${count("warning")} warning(s), ${count("info")} note(s)`);
  }
  if (loaded.unreadable) return EXIT.usage;
  return specHasErrors(result) ? EXIT.diagnostics : EXIT.ok;
}

async function checkCommand(io: Io, positionals: string[], values: Record<string, unknown>): Promise<number> {
  const policyFile = values.policy as string | undefined;
  if (!policyFile) throw new UsageError("check needs --policy POLICY (a Pulumi policy-config file, YAML or JSON)");
  const connects = (values.connect as string[] | undefined) ?? [];
  if (connects.length > 1) throw new UsageError("check --connect takes one URI");
  const connect = connects[0];
  if (connect ? positionals.length !== 0 : positionals.length !== 1) throw new UsageError("check takes exactly one FILE, or --connect URI instead");
  let settings;
  try {
    settings = parsePolicyText(readText(io, policyFile, "policy"), policyFile);
  } catch (e) {
    if (e instanceof PolicyConfigError) throw new UsageError(e.message);
    throw e;
  }
  const host = loadProfile(io, values.host as string | undefined);
  let report: AuditReport;
  if (connect) report = await checkHost(connect, settings, host, (s) => io.err(`check: ${s}`));
  else {
    const loaded = parseSpecText(readText(io, positionals[0], "spec"));
    if (loaded.unreadable) {
      io.err(formatDiagnostics(loaded.diagnostics, ""));
      return EXIT.usage;
    }
    report = checkSpec(loaded, settings, host);
  }
  const mandatory = report.violations.filter((v) => v.enforcementLevel === "mandatory").length;
  if (values.json) io.out(JSON.stringify({ ...report, mandatory, advisory: report.violations.length - mandatory }, null, 2));
  else {
    if (report.violations.length)
      io.out(table([["DOMAIN", "POLICY", "LEVEL", "FEATURE", "VIOLATION"], ...report.violations.map((v) => [v.domain, v.policy, v.enforcementLevel, v.feature ?? "-", `${v.message}. Fix: ${v.fix}`])], ""));
    for (const u of report.unchecked) io.out(`not checked: ${u.domain}: ${u.reason}`);
    io.out(`${report.domains} domain(s): ${mandatory} mandatory and ${report.violations.length - mandatory} advisory violation(s), ${report.unchecked.length} not checked`);
  }
  return mandatory > 0 || report.unchecked.length > 0 ? EXIT.diagnostics : EXIT.ok;
}

function loadTargets(io: Io, positionals: string[], values: Record<string, unknown>, what: string) {
  if (positionals.length !== 1) throw new UsageError(`${what} takes exactly one FILE`);
  const loaded = parseSpecText(readText(io, positionals[0], "spec"));
  const errors = [...loaded.diagnostics, ...loaded.domains.flatMap((d) => d.diagnostics)].filter((d) => d.severity === "error");
  const t = targets(loaded, (values.connect as string[] | undefined) ?? []);
  errors.push(...t.diagnostics.filter((d) => d.severity === "error"));
  if (errors.length) {
    io.err(`${positionals[0]}:\n${formatDiagnostics(errors)}`);
    return null;
  }
  return t.targets;
}

const fmt = (x: { enabled: boolean; source: string } | null) => (x ? `${x.enabled ? "on" : "off"} (${x.source})` : "-");

function formatPlan(hosts: HostPlan[]): string {
  const out: string[] = [];
  for (const h of hosts) {
    out.push(`host ${h.uri}${h.error ? `: ERROR ${h.error}` : ""}`);
    for (const d of h.domains) {
      const flags = [d.restartNeeded ? "restart needed" : "", d.drift.length ? "DRIFT" : "", d.error ? `ERROR ${d.error}` : ""].filter(Boolean).join(", ");
      out.push(`  ${d.action.padEnd(16)} ${d.domain}${flags ? `  [${flags}]` : ""}`);
      for (const c of d.fieldChanges) out.push(`      ${c.field}: ${JSON.stringify(c.current)} -> ${JSON.stringify(c.desired)}`);
      if (d.action === "update" && d.featureChanges.length)
        out.push(table([["FEATURE", "CURRENT", "DESIRED"], ...d.featureChanges.map((c) => [c.feature, fmt(c.current), fmt(c.desired)])], "      "));
      for (const x of d.drift) out.push(`      drift: ${x.feature} was ${x.recorded ? "on" : "off"} when defined, is ${x.current === null ? "absent" : x.current ? "on" : "off"} now`);
      for (const x of d.pendingRestart) out.push(`      restart pending: ${x.feature} runs ${x.running ? "on" : "off"}, defined ${x.defined ? "on" : "off"}`);
    }
  }
  const all = hosts.flatMap((h) => h.domains);
  const n = (a: string) => all.filter((d) => d.action === a).length;
  out.push(`plan: ${n("create")} to create, ${n("update")} to update, ${n("unchanged")} unchanged, ${n("delete-candidate")} delete candidate(s)`);
  return out.join("\n");
}

const stripInternal = (hosts: HostPlan[]) => hosts.map((h) => ({ ...h, domains: h.domains.map(({ desiredXml: _x, ...d }) => d) }));

async function planCommand(io: Io, positionals: string[], values: Record<string, unknown>): Promise<number> {
  const ts = loadTargets(io, positionals, values, "plan");
  if (!ts) return 1;
  const hosts = await planFleet(ts, { host: loadProfile(io, values.host as string | undefined), progress: (s) => io.err(s) });
  io.out(values.json ? JSON.stringify({ hosts: stripInternal(hosts) }, null, 2) : formatPlan(hosts));
  if (hosts.some((h) => h.error || h.domains.some((d) => d.error))) return 1;
  // delete candidates are reported, not counted: apply never deletes
  return hosts.some((h) => h.domains.some((d) => d.action === "create" || d.action === "update" || d.pendingRestart.length > 0)) ? 2 : 0;
}

async function applyCommand(io: Io, positionals: string[], values: Record<string, unknown>): Promise<number> {
  const restart = (values.restart as string | undefined) ?? "never";
  if (restart !== "never" && restart !== "if-needed") throw new UsageError(`--restart must be never or if-needed, not ${JSON.stringify(restart)}`);
  const ts = loadTargets(io, positionals, values, "apply");
  if (!ts) return 1;
  const { results } = await applyFleet(ts, restart, { host: loadProfile(io, values.host as string | undefined), progress: (s) => io.err(s) });
  const failed = results.filter((r) => r.outcome === "failed");
  if (values.json) io.out(JSON.stringify({ results }, null, 2));
  else {
    for (const r of results) io.out(`${r.outcome.padEnd(9)} ${r.uri} ${r.domain}${r.restarted ? " (restarted)" : ""}${r.restartPending ? " (restart pending: runs with its old CPU)" : ""}${r.error ? `: ${r.error}` : ""}`);
    const n = (o: string) => results.filter((r) => r.outcome === o).length;
    io.out(`apply: ${n("defined")} defined, ${n("unchanged")} unchanged, ${failed.length} failed`);
  }
  return failed.length ? 1 : 0;
}

async function importCommand(io: Io, positionals: string[], values: Record<string, unknown>): Promise<number> {
  const connects = (values.connect as string[] | undefined) ?? [];
  if (connects.length !== 1 || positionals.length === 0) throw new UsageError("import takes DOMAIN... and one --connect URI");
  const { domains, notes } = await importDomains(connects[0], positionals, loadProfile(io, values.host as string | undefined));
  for (const n of notes) io.err(`import: ${n.path}: ${n.message}`);
  io.out(YAML.stringify({ domains }));
  return EXIT.ok;
}

function xsltCommand(io: Io, positionals: string[], values: Record<string, unknown>): number {
  if (positionals.length !== 1 || !values.domain) throw new UsageError("xslt takes FILE and --domain NAME");
  const loaded = parseSpecText(readText(io, positionals[0], "spec"));
  const d = loaded.domains.find((x) => x.name === values.domain);
  if (!d) throw new UsageError(`${positionals[0]} has no domain ${JSON.stringify(values.domain)}; it has ${loaded.domains.map((x) => x.name).join(", ")}`);
  if (!d.spec) {
    io.err(formatDiagnostics(d.diagnostics));
    return EXIT.diagnostics;
  }
  const { resolution } = renderDomain(d.spec, loadProfile(io, values.host as string | undefined));
  io.out(renderXslt(resolution));
  return hasErrors(resolution.diagnostics) ? EXIT.diagnostics : EXIT.ok;
}

async function probeCommand(io: Io, values: Record<string, unknown>): Promise<number> {
  const profile = await probeHost({
    connect: values["no-libvirt"] ? null : ((values.connect as string[] | undefined)?.[0] ?? "qemu:///system"),
    progress: (s) => io.err(`probe: ${s}`),
  });
  io.out(values.json ? JSON.stringify(profile, null, 2) : formatProfile(profile));
  return EXIT.ok;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (!command || command === "--help" || command === "-h" || command === "help") {
      io.out(USAGE);
      return command ? EXIT.ok : EXIT.usage;
    }
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        host: { type: "string" },
        json: { type: "boolean" },
        xml: { type: "boolean" },
        args: { type: "boolean" },
        connect: { type: "string", multiple: true },
        policy: { type: "string" },
        restart: { type: "string" },
        domain: { type: "string" },
        "no-libvirt": { type: "boolean" },
      },
    });
    switch (command) {
      case "render":
        return renderCommand(io, positionals, values, false);
      case "validate":
        return renderCommand(io, positionals, values, true);
      case "probe":
        return await probeCommand(io, values);
      case "check":
        return await checkCommand(io, positionals, values);
      case "plan":
        return await planCommand(io, positionals, values);
      case "apply":
        return await applyCommand(io, positionals, values);
      case "import":
        return await importCommand(io, positionals, values);
      case "xslt":
        return xsltCommand(io, positionals, values);
      case "catalog":
        io.out(values.json ? JSON.stringify(FEATURES, null, 2) : catalogMarkdown());
        return EXIT.ok;
      case "rules":
        io.out(
          values.json
            ? JSON.stringify(RULES.map((r) => ({ code: r.code, severity: r.severity, summary: r.summary })), null, 2)
            : table([["CODE", "SEVERITY", "SUMMARY"], ...RULES.map((r) => [r.code, r.severity, r.summary])], ""),
        );
        return EXIT.ok;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}; commands: render, validate, check, plan, apply, import, xslt, probe, catalog, rules`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`kvm-paravirt: ${(e as Error).message}\nRun kvm-paravirt --help for usage.`);
      return EXIT.usage;
    }
    io.err(`kvm-paravirt: ${(e as Error).message ?? String(e)}`);
    return EXIT.usage;
  }
}
