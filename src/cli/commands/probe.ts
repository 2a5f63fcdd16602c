import { Option, type Command } from "commander";
import { probeConnection } from "../../system/host-facts";
import { probeHost } from "../../system/probe";
import type { HostProfile } from "../../host/profile";
import { formatProfile } from "../format";
import { chooseView, type View } from "../views";
import { EXIT, type Ctx } from "./context";
import { timeoutMs, timeoutOption, uriArgument } from "./plan";
import { jsonOption } from "./render";

/**
 * `probe`: this machine's host profile, read from QEMU, KVM and libvirt. With an explicit
 * --connect URI the profile is read through that connection alone (virsh), so it describes
 * the host at the URI, remote ones included. Its JSON view is a `--host` file.
 */

const view: View<HostProfile> = { human: formatProfile, json: (p) => ({ ...p }) };

interface Opts {
  json?: boolean;
  connect?: string;
  libvirt: boolean;
  timeout?: number;
}

async function run(ctx: Ctx, opts: Opts): Promise<void> {
  const present = chooseView(ctx.io, opts.json, view);
  const progress = (s: string) => ctx.io.err(`probe: ${s}`);
  const profile =
    opts.connect !== undefined
      ? await probeConnection(opts.connect, { progress, timeoutMs: timeoutMs(opts.timeout) })
      : await probeHost({ connect: opts.libvirt ? "qemu:///system" : null, progress });
  present(profile);
  ctx.exit(EXIT.ok);
}

export function registerProbe(program: Command, ctx: Ctx): void {
  program
    .command("probe")
    .description(
      "a host profile of this machine, read from QEMU, KVM and libvirt; with --connect URI, of the host at URI read through libvirt alone (save --json output for --host)",
    )
    .addOption(jsonOption())
    .addOption(
      new Option(
        "--connect <uri>",
        "read the profile of the host at this libvirt URI through the connection alone (virsh; remote URIs too) instead of probing this machine",
      )
        .argParser(uriArgument)
        .default(undefined, "this machine, its libvirt part over qemu:///system")
        .conflicts("libvirt"),
    )
    .option("--no-libvirt", "do not ask libvirt")
    .addOption(timeoutOption())
    .action((opts: Opts) => run(ctx, opts));
}
