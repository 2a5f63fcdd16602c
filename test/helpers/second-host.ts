import { spawnSync } from "node:child_process";
import fs from "node:fs";

/**
 * A second, independent libvirt host for the fleet and host-facts tests: the session
 * libvirtd of an unprivileged user (its own state), reached by root through its socket.
 */
const USER = "kpvfleet";
const RUN = "/tmp/kpvfleet-run";
export const SECOND_URI = `qemu+unix:///session?socket=${RUN}/libvirt/libvirt-sock`;

export const answers = (): boolean => spawnSync("virsh", ["-c", SECOND_URI, "version"], { encoding: "utf8", timeout: 10000 }).status === 0;

/** Starts the second host when it is not up (root only). Returns null, or why it cannot run. */
export function ensureSecondHost(): string | null {
  if (answers()) return null;
  if (process.getuid?.() !== 0) return "the second libvirt host needs root to start (user kpvfleet's session libvirtd)";
  if (spawnSync("id", [USER]).status !== 0) spawnSync("useradd", ["-m", "-s", "/bin/sh", USER]);
  // the user's libvirtd checks /dev/kvm for virt type kvm: give it the access Debian's udev rule gives the kvm group
  if (fs.existsSync("/dev/kvm")) {
    spawnSync("groupadd", ["-f", "kvm"]);
    spawnSync("chgrp", ["kvm", "/dev/kvm"]);
    spawnSync("chmod", ["g+rw", "/dev/kvm"]);
    spawnSync("usermod", ["-aG", "kvm", USER]);
  }
  fs.mkdirSync(RUN, { recursive: true, mode: 0o700 });
  spawnSync("chown", [`${USER}:${USER}`, RUN]);
  spawnSync("chmod", ["700", RUN]);
  spawnSync("su", ["-s", "/bin/sh", USER, "-c", `XDG_RUNTIME_DIR=${RUN} libvirtd --daemon --timeout 0`], { encoding: "utf8" });
  for (let i = 0; i < 40 && !answers(); i++) spawnSync("sleep", ["0.25"]);
  return answers() ? null : "the second libvirt host (session libvirtd of user kpvfleet) did not come up";
}

/** Stops it (for the fault test). */
export function stopSecondHost(): void {
  spawnSync("pkill", ["-KILL", "-u", USER, "-x", "libvirtd"]);
  for (let i = 0; i < 20 && answers(); i++) spawnSync("sleep", ["0.1"]);
  fs.rmSync(`${RUN}/libvirt/libvirtd.pid`, { force: true });
}
