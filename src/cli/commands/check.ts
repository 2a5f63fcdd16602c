import { Option, type Command } from "commander";
import { checkHost, checkSpec, type AuditReport } from "../../policy/audit";
import { parsePolicyText, PolicyConfigError } from "../../policy/config";
import { parseSpecText } from "../../input/load";
import { formatDiagnostics, table } from "../format";
import { loadProfile, readText, UsageError } from "../io";
import { chooseView, type View } from "../views";
import { EXIT, type Ctx } from "./context";
import { timeoutMs, timeoutOption, uriArgument } from "./plan";
import { hostOption, jsonOption } from "./render";

/** `check`: organisation policies over a spec's domains or over every domain on a libvirt host. */

const mandatoryCount = (r: AuditReport) => r.violations.filter((v) => v.enforcementLevel === "mandatory").length;

const view: View<AuditReport> = {
  human: (r) => {
    const out: string[] = [];
    if (r.violations.length)
      out.push(
        table(
          [
            ["DOMAIN", "POLICY", "LEVEL", "FEATURE", "VIOLATION"],
            ...r.violations.map((v) => [v.domain, v.policy, v.enforcementLevel, v.feature ?? "-", `${v.message}. Fix: ${v.fix}`]),
          ],
          "",
        ),
      );
    for (const u of r.unchecked) out.push(`not checked: ${u.domain}: ${u.reason}`);
    const mandatory = mandatoryCount(r);
    out.push(
      `${r.domains} domain(s): ${mandatory} mandatory and ${r.violations.length - mandatory} advisory violation(s), ${r.unchecked.length} not checked`,
    );
    return out.join("\n");
  },
  json: (r) => ({ ...r, mandatory: mandatoryCount(r), advisory: r.violations.length - mandatoryCount(r) }),
};

interface Opts {
  policy: string;
  connect?: string;
  host?: string;
  json?: boolean;
  timeout?: number;
}

async function run(ctx: Ctx, file: string | undefined, opts: Opts): Promise<void> {
  const { io } = ctx;
  if (opts.connect ? file !== undefined : file === undefined)
    throw new UsageError("check takes exactly one FILE, or --connect URI instead");
  const present = chooseView(io, opts.json, view);
  let settings;
  try {
    settings = parsePolicyText(readText(io, opts.policy, "policy"), opts.policy);
  } catch (e) {
    if (e instanceof PolicyConfigError) throw new UsageError(e.message);
    throw e;
  }
  const host = loadProfile(io, opts.host);
  let report: AuditReport;
  if (opts.connect) report = await checkHost(opts.connect, settings, host, (s) => io.err(`check: ${s}`), timeoutMs(opts.timeout));
  else {
    const loaded = parseSpecText(readText(io, file!, "spec"));
    if (loaded.unreadable) {
      io.err(formatDiagnostics(loaded.diagnostics, ""));
      return ctx.exit(EXIT.usage);
    }
    report = checkSpec(loaded, settings, host);
  }
  present(report);
  ctx.exit(mandatoryCount(report) > 0 || report.unchecked.length > 0 ? EXIT.diagnostics : EXIT.ok);
}

export function registerCheck(program: Command, ctx: Ctx): void {
  program
    .command("check")
    .description(
      "organisation policies over the resolved features of a spec's domains, or of every domain on a libvirt host; exit 1 on a mandatory violation",
    )
    .argument("[file]", "the spec, YAML or JSON (omit with --connect)")
    .addOption(new Option("--policy <file>", "a Pulumi policy-config file (YAML or JSON)").makeOptionMandatory())
    .addOption(new Option("--connect <uri>", "audit the live domains of this libvirt host instead of a spec").argParser(uriArgument))
    .addOption(hostOption())
    .addOption(timeoutOption())
    .addOption(jsonOption())
    .action((file: string | undefined, opts: Opts) => run(ctx, file, opts));
}
