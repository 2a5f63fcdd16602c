import { Option, type Command } from "commander";
import { applyFleet } from "../../live/apply";
import type { ApplyResult, RestartPolicy } from "../../live/model";
import { loadProfile } from "../io";
import { chooseView, type View } from "../views";
import { PLAN_EXIT, type Ctx } from "./context";
import { connectOption, loadTargets, timeoutMs, timeoutOption, warningLine } from "./plan";
import { hostOption, jsonOption } from "./render";

/** `apply`: define new domains, redefine changed ones (keeping what the spec does not own), restart on request. */

const count = (results: ApplyResult[], outcome: ApplyResult["outcome"]) => results.filter((r) => r.outcome === outcome).length;

const view: View<ApplyResult[]> = {
  human: (results) =>
    [
      ...results.flatMap((r) => [
        `${r.outcome.padEnd(9)} ${r.uri} ${r.domain}${r.restarted ? " (restarted)" : ""}${r.restartPending ? " (restart pending: runs with its old CPU)" : ""}${r.error ? `: ${r.error}` : ""}`,
        ...r.warnings.map((w) => warningLine(w, "  ")),
      ]),
      `apply: ${count(results, "defined")} defined, ${count(results, "unchanged")} unchanged, ${count(results, "failed")} failed`,
    ].join("\n"),
  json: (results) => ({ results }),
};

interface Opts {
  connect?: string[];
  host?: string;
  json?: boolean;
  restart: RestartPolicy;
  timeout?: number;
}

async function run(ctx: Ctx, file: string, opts: Opts): Promise<void> {
  const present = chooseView(ctx.io, opts.json, view);
  const ts = loadTargets(ctx.io, file, opts.connect ?? []);
  if (!ts) return ctx.exit(PLAN_EXIT.error);
  const { results } = await applyFleet(ts, opts.restart, {
    host: loadProfile(ctx.io, opts.host),
    progress: (s) => ctx.io.err(s),
    timeoutMs: timeoutMs(opts.timeout),
  });
  present(results);
  ctx.exit(count(results, "failed") ? PLAN_EXIT.error : PLAN_EXIT.ok);
}

export function registerApply(program: Command, ctx: Ctx): void {
  program
    .command("apply")
    .description(
      "defines new domains, redefines changed ones keeping UUID, devices and other metadata; restarts running ones only with --restart if-needed",
    )
    .argument("<file>", "the spec, YAML or JSON ('-' reads standard input)")
    .addOption(connectOption())
    .addOption(hostOption())
    .addOption(timeoutOption())
    .addOption(new Option("--restart <when>", "restart running domains whose CPU changed").choices(["never", "if-needed"]).default("never"))
    .addOption(jsonOption())
    .action((file: string, opts: Opts) => run(ctx, file, opts));
}
