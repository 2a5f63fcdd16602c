import { Option, type Command } from "commander";
import { probeHost } from "../../system/probe";
import type { HostProfile } from "../../host/profile";
import { formatProfile } from "../format";
import { chooseView, type View } from "../views";
import { EXIT, type Ctx } from "./context";
import { uriArgument } from "./plan";
import { jsonOption } from "./render";

/** `probe`: this machine's host profile, read from QEMU, KVM and libvirt. Its JSON view is a `--host` file. */

const view: View<HostProfile> = { human: formatProfile, json: (p) => ({ ...p }) };

interface Opts {
  json?: boolean;
  connect?: string;
  libvirt: boolean;
}

async function run(ctx: Ctx, opts: Opts): Promise<void> {
  const present = chooseView(ctx.io, opts.json, view);
  const profile = await probeHost({
    connect: opts.libvirt ? (opts.connect ?? "qemu:///system") : null,
    progress: (s) => ctx.io.err(`probe: ${s}`),
  });
  present(profile);
  ctx.exit(EXIT.ok);
}

export function registerProbe(program: Command, ctx: Ctx): void {
  program
    .command("probe")
    .description("a host profile of this machine, read from QEMU, KVM and libvirt (save --json output for --host)")
    .addOption(jsonOption())
    .addOption(
      new Option("--connect <uri>", "the libvirt URI to ask for its version and host-model CPU")
        .argParser(uriArgument)
        .default(undefined, "qemu:///system")
        .conflicts("libvirt"),
    )
    .option("--no-libvirt", "do not ask libvirt")
    .action((opts: Opts) => run(ctx, opts));
}
