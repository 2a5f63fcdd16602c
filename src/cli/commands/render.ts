import { Option, type Command } from "commander";
import { renderSpec, specHasErrors, type RenderedSpec } from "../../render-spec";
import { parseSpecText } from "../../input/load";
import { hostAccess } from "../../system/host-access";
import { formatDiagnostics, formatDomain } from "../format";
import { loadProfile, readText } from "../io";
import { chooseView, type View } from "../views";
import { EXIT, type Ctx } from "./context";

/** `render` and `validate`: the resolved features, XML and args of a spec's domains, or its diagnostics only. */

interface RenderModel {
  file: string;
  result: RenderedSpec;
  xml: boolean;
  args: boolean;
}

function summary(r: RenderedSpec): string {
  const all = [...r.diagnostics, ...r.domains.flatMap((d) => d.diagnostics)];
  const count = (s: string) => all.filter((d) => d.severity === s).length;
  return `${r.domains.length} domain(s): ${count("error")} error(s), ${count("warning")} warning(s), ${count("info")} note(s)`;
}

const fileDiagnostics = ({ file, result }: RenderModel) =>
  result.diagnostics.length ? [`${file}:\n${formatDiagnostics(result.diagnostics)}`] : [];
const topLevel = (r: RenderedSpec) => (r.diagnostics.length ? { diagnostics: r.diagnostics } : {});

const renderView: View<RenderModel> = {
  human: (m) =>
    [...fileDiagnostics(m), ...m.result.domains.map((d) => formatDomain(d, { xml: m.xml, args: m.args }) + "\n"), summary(m.result)].join(
      "\n",
    ),
  json: ({ result }) => ({
    domains: result.domains.map((d) => ({
      name: d.name,
      domainXml: d.domainXml,
      qemuArgs: d.qemuArgs,
      features: d.features,
      ...(d.resolved ? { resolved: d.resolved } : {}),
      diagnostics: d.diagnostics,
    })),
    ...topLevel(result),
  }),
};

const validateView: View<RenderModel> = {
  human: (m) =>
    [
      ...fileDiagnostics(m),
      ...m.result.domains.map((d) => `domain ${d.name}\n${formatDiagnostics(d.diagnostics)}`),
      summary(m.result),
    ].join("\n"),
  json: ({ result }) => ({ domains: result.domains.map((d) => ({ name: d.name, diagnostics: d.diagnostics })), ...topLevel(result) }),
};

interface Opts {
  host?: string;
  json?: boolean;
  xml?: boolean;
  args?: boolean;
}

function run(ctx: Ctx, file: string, opts: Opts, view: View<RenderModel>): void {
  const present = chooseView(ctx.io, opts.json, view);
  const host = loadProfile(ctx.io, opts.host);
  const loaded = parseSpecText(readText(ctx.io, file, "spec"));
  // libvirt's schema for extra devices where virt-xml-validate is here, as plan and the provider's Check run it
  const result = renderSpec(loaded, host, hostAccess());
  present({ file, result, xml: Boolean(opts.xml), args: Boolean(opts.args) });
  ctx.exit(loaded.unreadable ? EXIT.usage : specHasErrors(result) ? EXIT.diagnostics : EXIT.ok);
}

export const hostOption = () =>
  new Option("--host <profile>", "host profile JSON (from `kvm-paravirt probe --json`); default: an assumed current host");
export const jsonOption = () => new Option("--json", `machine-readable output (a JSON document with "formatVersion")`);

export function registerRender(program: Command, ctx: Ctx): void {
  program
    .command("render")
    .description("per domain: every PV feature with its effective value, source and reason, then diagnostics")
    .argument("<file>", "the spec, YAML or JSON ('-' reads standard input)")
    .addOption(hostOption())
    .addOption(jsonOption())
    .option("--xml", "add the libvirt domain XML")
    .option("--args", "add the QEMU arguments")
    .action((file: string, opts: Opts) => run(ctx, file, opts, renderView));
  program
    .command("validate")
    .description("the spec's diagnostics only; exit 1 on an error diagnostic")
    .argument("<file>", "the spec, YAML or JSON ('-' reads standard input)")
    .addOption(hostOption())
    .addOption(jsonOption())
    .action((file: string, opts: Opts) => run(ctx, file, opts, validateView));
}
