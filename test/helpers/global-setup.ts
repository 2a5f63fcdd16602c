import { spawnSync } from "node:child_process";
import { ensureNetworkActive } from "./host-ready";
import { ensureSecondHost } from "./second-host";

/**
 * Jest global setup: the libvirt oracles need libvirtd. As root, start virtlogd and
 * libvirtd when they are installed but not answering (these machines have no systemd).
 */
const answers = (): boolean => spawnSync("virsh", ["-c", "qemu:///system", "version"], { encoding: "utf8", timeout: 10000 }).status === 0;
const installed = (bin: string): boolean => spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" }).status === 0;

export default async function globalSetup(): Promise<void> {
  if (process.getuid?.() === 0 && installed("libvirtd")) {
    const why = ensureSecondHost();
    process.stderr.write(why ? `\nglobal setup: ${why}\n` : "");
  }
  if (answers() && process.getuid?.() === 0) startDefaultNetwork();
  if (answers() || process.getuid?.() !== 0 || !installed("libvirtd")) return;
  process.stderr.write("\nglobal setup: starting virtlogd and libvirtd for the libvirt oracles\n");
  if (spawnSync("pgrep", ["-x", "-u", "0", "virtlogd"]).status !== 0) spawnSync("virtlogd", ["-d"]);
  if (spawnSync("pgrep", ["-x", "-u", "0", "libvirtd"]).status !== 0) spawnSync("libvirtd", ["-d"]);
  for (let i = 0; i < 40 && !answers(); i++) await new Promise((r) => setTimeout(r, 500));
  process.stderr.write(answers() ? "global setup: libvirtd answers on qemu:///system\n" : "global setup: libvirtd did not come up\n");
  if (answers()) startDefaultNetwork();
}

/** The example VMs' NIC is on libvirt's `default` network, which a fresh libvirtd leaves inactive: started (and left) active. */
function startDefaultNetwork(): void {
  const why = ensureNetworkActive("qemu:///system");
  if (why) process.stderr.write(`\nglobal setup: ${why} (the examples' NICs cannot start)\n`);
}
