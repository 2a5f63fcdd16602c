import fs from "node:fs";
import { parseArgs } from "node:util";
import { probeHost } from "../adapters/probe";
import { FEATURES } from "../catalog/features";
import { HostProfileSchema, type HostProfile } from "../host/profile";
import { renderSpec, specHasErrors, type RenderedSpec } from "../pipeline";
import { RULES } from "../resolve/rules";
import { parseSpecText } from "../spec/load";
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
  const text = readText(io, file, "host profile");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`host profile ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = HostProfileSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new UsageError(`host profile ${file}: ${i.path.join(".") || "(top level)"}: ${i.message} (write it with \`kvm-paravirt probe --json\`)`);
  }
  return { ...parsed.data, source: parsed.data.source === "assumed" ? "file" : (parsed.data.source ?? "file") };
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
  const connect = values.connect as string | undefined;
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

async function probeCommand(io: Io, values: Record<string, unknown>): Promise<number> {
  const profile = await probeHost({
    connect: values["no-libvirt"] ? null : ((values.connect as string | undefined) ?? "qemu:///system"),
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
        connect: { type: "string" },
        policy: { type: "string" },
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
        throw new UsageError(`unknown command ${JSON.stringify(command)}; commands: render, validate, check, probe, catalog, rules`);
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
