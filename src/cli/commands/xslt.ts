import { Option, type Command } from "commander";
import { hasErrors } from "../../diagnostics";
import { renderDomain } from "../../render-spec";
import { renderXslt } from "../../libvirt/xslt";
import { parseSpecText } from "../../input/load";
import { formatDiagnostics } from "../format";
import { loadProfile, readText, UsageError } from "../io";
import { EXIT, type Ctx } from "./context";
import { hostOption } from "./render";

/** `xslt`: a stylesheet that applies one domain's PV settings to any libvirt domain XML (its only view is the XSLT). */

interface Opts {
  domain: string;
  host?: string;
}

function run(ctx: Ctx, file: string, opts: Opts): void {
  const loaded = parseSpecText(readText(ctx.io, file, "spec"));
  const d = loaded.domains.find((x) => x.name === opts.domain);
  if (!d)
    throw new UsageError(
      `${file} has no domain ${JSON.stringify(opts.domain)}; it has ${loaded.domains.map((x) => x.name).join(", ") || "none"}`,
    );
  if (!d.spec) {
    ctx.io.err(formatDiagnostics(d.diagnostics));
    return ctx.exit(EXIT.diagnostics);
  }
  const { resolution } = renderDomain(d.spec, loadProfile(ctx.io, opts.host));
  ctx.io.out(renderXslt(resolution));
  ctx.exit(hasErrors(resolution.diagnostics) ? EXIT.diagnostics : EXIT.ok);
}

export function registerXslt(program: Command, ctx: Ctx): void {
  program
    .command("xslt")
    .description("an XSLT stylesheet applying that domain's PV settings to any libvirt domain XML")
    .argument("<file>", "the spec, YAML or JSON ('-' reads standard input)")
    .addOption(new Option("--domain <name>", "the spec domain whose settings the stylesheet applies").makeOptionMandatory())
    .addOption(hostOption())
    .action((file: string, opts: Opts) => run(ctx, file, opts));
}
