import fs from "node:fs";
import path from "node:path";
import { Command, CommanderError } from "commander";
import { registerApply } from "./commands/apply";
import { registerCatalog } from "./commands/catalog";
import { registerCheck } from "./commands/check";
import { EXIT, PLAN_EXIT, type Ctx } from "./commands/context";
import { registerImport } from "./commands/import";
import { registerPlan } from "./commands/plan";
import { registerProbe } from "./commands/probe";
import { registerRender } from "./commands/render";
import { registerXslt } from "./commands/xslt";
import { redactSecrets } from "../util/secrets";
import { processIo, UsageError, type Io } from "./io";

/**
 * `kvm-paravirt`: a thin front end over the pure core, one module per command
 * (commands/), each with its own options, help, human view and JSON view.
 *
 * Exit codes: render, validate, check, import, xslt, probe, catalog, rules:
 * 0 ok, 1 error diagnostics, violations or a failure (an unreachable host),
 * 2 usage or unreadable input.
 * plan and apply (as Terraform): 0 success, 1 any error (usage included), and
 * `plan --detailed-exitcode` 2 when there are changes.
 */

export type { Io } from "./io";

/** The package's version: its package.json is two folders up from src/cli, three from dist/src/cli. */
function packageVersion(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
    if (pkg.name === "kvm-paravirt" && pkg.version) return pkg.version;
  }
  return "unknown";
}

const EPILOG = `
Exit codes: 0 ok; 1 error diagnostics, policy violations, or (plan, apply) any error;
2 usage or unreadable input, or (plan --detailed-exitcode) changes pending.
FILE is YAML or JSON ('-' reads standard input). Run kvm-paravirt COMMAND --help for a command's options.`;

function buildProgram(ctx: Ctx): Command {
  const { io } = ctx;
  const program = new Command("kvm-paravirt")
    .description("declarative paravirtualized KVM features for libvirt/QEMU: resolve, check, render, deploy")
    .version(packageVersion(), "-V, --version")
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, "")),
      writeErr: (s) => io.err(s.replace(/\n$/, "")),
      outputError: (s, write) => write(`kvm-paravirt: ${s.replace(/^error: /, "")}`),
    })
    .exitOverride()
    .addHelpText("after", EPILOG);
  for (const register of [
    registerRender,
    registerCheck,
    registerPlan,
    registerApply,
    registerImport,
    registerXslt,
    registerProbe,
    registerCatalog,
  ])
    register(program, ctx);
  for (const sub of program.commands)
    sub.showHelpAfterError(`Usage: kvm-paravirt ${sub.name()} ${sub.usage()}\nRun kvm-paravirt ${sub.name()} --help for its options.`);
  program.showHelpAfterError("Run kvm-paravirt --help for the commands.");
  return program;
}

/** The command argv names: its first word that is not an option (the program's own options take no value). */
const commandOf = (argv: readonly string[]) => argv.find((a) => !a.startsWith("-"));

/**
 * Usage errors exit 2, except for plan and apply, where every error is 1 (2 means changes pending):
 * `kvm-paravirt --json plan FILE --detailed-exitcode` is plan's usage error, whatever comes first.
 */
const usageExit = (argv: readonly string[]) => {
  const command = commandOf(argv);
  return command === "plan" || command === "apply" ? PLAN_EXIT.error : EXIT.usage;
};

/** Every line the CLI prints goes through this: no URI password ever reaches a terminal or a log. */
const redacting = (io: Io): Io => ({ ...io, out: (s) => io.out(redactSecrets(s)), err: (s) => io.err(redactSecrets(s)) });

export async function main(argv: string[], rawIo: Io = processIo): Promise<number> {
  const io = redacting(rawIo);
  let code: number = EXIT.ok;
  const program = buildProgram({ io, exit: (c) => (code = c) });
  if (argv.length === 0) {
    program.outputHelp({ error: true }); // with the exit codes, as --help prints them
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end the parse with exit code 0; everything else is a usage error, already printed
      return e.exitCode === 0 ? EXIT.ok : usageExit(argv);
    }
    if (e instanceof UsageError) {
      io.err(`kvm-paravirt: ${e.message}\nRun kvm-paravirt ${argv[0]} --help for usage.`);
      return usageExit(argv);
    }
    // a failure that is not the caller's mistake (a host that does not answer): its message, no stack trace
    io.err(`kvm-paravirt: ${(e as Error).message ?? String(e)}`);
    return EXIT.diagnostics;
  }
}
