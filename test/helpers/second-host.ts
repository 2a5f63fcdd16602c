import { spawnSync } from "node:child_process";
import fs from "node:fs";

/**
 * A second, independent libvirt host for the fleet and host-facts tests: the session
 * libvirtd of an unprivileged user (its own state), reached by root through its socket.
 */
const USER = "kpvfleet";
const RUN = "/tmp/kpvfleet-run";
const socketUri = (runtimeDir: string) => `qemu+unix:///session?socket=${runtimeDir}/libvirt/libvirt-sock`;
export const SECOND_URI = socketUri(RUN);

const answersOn = (uri: string): boolean => spawnSync("virsh", ["-c", uri, "version"], { encoding: "utf8", timeout: 10000 }).status === 0;
export const answers = (): boolean => answersOn(SECOND_URI);

/** The user whose session libvirtds the second hosts are (root only): created, and given /dev/kvm. */
function ensureUser(): void {
  if (spawnSync("id", [USER]).status !== 0) spawnSync("useradd", ["-m", "-s", "/bin/sh", USER]);
  // the user's libvirtd checks /dev/kvm for virt type kvm: give it the access Debian's udev rule gives the kvm group
  if (fs.existsSync("/dev/kvm")) {
    spawnSync("groupadd", ["-f", "kvm"]);
    spawnSync("chgrp", ["kvm", "/dev/kvm"]);
    spawnSync("chmod", ["g+rw", "/dev/kvm"]);
    spawnSync("usermod", ["-aG", "kvm", USER]);
  }
}

/** A folder of the user's own (mode 700). */
function userDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  spawnSync("chown", [`${USER}:${USER}`, dir]);
  spawnSync("chmod", ["700", dir]);
}

/** Starts the second host when it is not up (root only). Returns null, or why it cannot run. */
export function ensureSecondHost(): string | null {
  if (answers()) return null;
  if (process.getuid?.() !== 0) return "the second libvirt host needs root to start (user kpvfleet's session libvirtd)";
  ensureUser();
  userDir(RUN);
  spawnSync("su", ["-s", "/bin/sh", USER, "-c", `XDG_RUNTIME_DIR=${RUN} libvirtd --daemon --timeout 0`], { encoding: "utf8" });
  for (let i = 0; i < 40 && !answers(); i++) spawnSync("sleep", ["0.25"]);
  return answers() ? null : "the second libvirt host (session libvirtd of user kpvfleet) did not come up";
}

/**
 * A libvirt host of one test's own, for a test that stops its daemon (the second host is shared
 * with the other suites and with other runs at the same time: it is never stopped). Another
 * session libvirtd of the same user, with its runtime, config, data and cache folders under
 * `/tmp/kpvfleet-<tag>`: its domains, socket and PID file are its own. It is stopped by the PID
 * it wrote, never by a process name, and remove() deletes the daemon and everything it defined.
 */
export class PrivateHost {
  readonly uri: string;
  private readonly runtime: string;

  constructor(readonly dir: string) {
    this.runtime = `${dir}/run`;
    this.uri = socketUri(this.runtime);
  }

  answers(): boolean {
    return answersOn(this.uri);
  }

  /** Starts it when it is not up (root only). Returns null, or why it cannot run. */
  start(): string | null {
    if (this.answers()) return null;
    if (process.getuid?.() !== 0) return `a private libvirt host needs root to start (user ${USER}'s session libvirtd)`;
    ensureUser();
    userDir(this.dir);
    const env = ["CONFIG", "DATA", "CACHE"].map((k) => `XDG_${k}_HOME=${this.dir}/${k.toLowerCase()}`).join(" ");
    const command = `HOME=${this.dir} ${env} XDG_RUNTIME_DIR=${this.runtime} libvirtd --daemon --timeout 0`;
    spawnSync("su", ["-s", "/bin/sh", USER, "-c", command], { encoding: "utf8" });
    // a fresh daemon asks QEMU for its capabilities first: seconds, more on a busy machine
    for (let i = 0; i < 240 && !this.answers(); i++) spawnSync("sleep", ["0.25"]);
    return this.answers() ? null : `the private libvirt host in ${this.dir} did not come up`;
  }

  /** Kills its daemon (the PID in its own PID file, when that process is a libvirtd). */
  stop(): void {
    const pidFile = `${this.runtime}/libvirt/libvirtd.pid`;
    const pid = Number(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8").trim() : NaN);
    if (Number.isInteger(pid) && pid > 1 && readComm(pid) === "libvirtd") process.kill(pid, "SIGKILL");
    for (let i = 0; i < 20 && this.answers(); i++) spawnSync("sleep", ["0.1"]);
    fs.rmSync(pidFile, { force: true });
  }

  /** Stops it and deletes its folder: its domains, their definitions and its state. */
  remove(): void {
    this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function readComm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}
