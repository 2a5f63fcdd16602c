import { Option, type Command } from "commander";
import YAML from "yaml";
import type { Diagnostic } from "../../diagnostics";
import { importDomains } from "../../live/import";
import { loadProfile } from "../io";
import { chooseView, type View } from "../views";
import { EXIT, type Ctx } from "./context";
import { timeoutMs, timeoutOption, uriArgument } from "./plan";
import { hostOption, jsonOption } from "./render";

/** `import`: the spec that reproduces live domains' PV configuration. */

interface ImportModel {
  domains: Record<string, unknown>[];
  notes: Diagnostic[];
}

const view: View<ImportModel> = {
  // the human view is the spec itself, ready to save; notes go to stderr
  human: ({ domains }) => YAML.stringify({ domains }).trimEnd(),
  json: ({ domains, notes }) => ({ spec: { domains }, notes }),
};

interface Opts {
  connect: string;
  host?: string;
  json?: boolean;
  timeout?: number;
}

async function run(ctx: Ctx, names: string[], opts: Opts): Promise<void> {
  const present = chooseView(ctx.io, opts.json, view);
  const model = await importDomains(opts.connect, names, loadProfile(ctx.io, opts.host), timeoutMs(opts.timeout));
  if (!opts.json) for (const n of model.notes) ctx.io.err(`import: ${n.path}: ${n.message}`);
  present(model);
  ctx.exit(EXIT.ok);
}

export function registerImport(program: Command, ctx: Ctx): void {
  program
    .command("import")
    .description("the spec (YAML) that reproduces live domains, explicit only where they differ from the defaults")
    .argument("<domain...>", "libvirt domain names")
    .addOption(new Option("--connect <uri>", "the libvirt host the domains are on").makeOptionMandatory().argParser(uriArgument))
    .addOption(hostOption())
    .addOption(timeoutOption())
    .addOption(jsonOption())
    .action((names: string[], opts: Opts) => run(ctx, names, opts));
}
