import type { Command } from "commander";
import { FEATURES } from "../../catalog/features";
import { RULES } from "../../checks/rules";
import { catalogMarkdown, table } from "../format";
import { chooseView, type View } from "../views";
import { EXIT, type Ctx } from "./context";
import { jsonOption } from "./render";

/** `catalog` and `rules`: the PV feature catalog and the diagnostic codes. */

const catalogView: View<typeof FEATURES> = { human: () => catalogMarkdown(), json: (features) => ({ features }) };

const rulesView: View<typeof RULES> = {
  human: (rules) => table([["CODE", "SEVERITY", "SUMMARY"], ...rules.map((r) => [r.code, r.severity, r.summary])], ""),
  json: (rules) => ({ rules: rules.map((r) => ({ code: r.code, severity: r.severity, summary: r.summary })) }),
};

export function registerCatalog(program: Command, ctx: Ctx): void {
  program
    .command("catalog")
    .description("the PV feature catalog: CPUID bits, versions, defaults, libvirt elements")
    .addOption(jsonOption())
    .action((opts: { json?: boolean }) => {
      chooseView(ctx.io, opts.json, catalogView)(FEATURES);
      ctx.exit(EXIT.ok);
    });
  program
    .command("rules")
    .description("the diagnostic codes, their severities and what each means")
    .addOption(jsonOption())
    .action((opts: { json?: boolean }) => {
      chooseView(ctx.io, opts.json, rulesView)(RULES);
      ctx.exit(EXIT.ok);
    });
}
