import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "./specs";

/** The built CLI (npm test builds dist/ first), run as a user runs it: a process, stdout and stderr apart. */
const BIN = path.join(ROOT, "bin/kvm-paravirt.js");

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `kvm-paravirt ARGS...` and waits for it. */
export function runCli(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same without blocking the test process (for runs at the same time, or a server the test itself serves). */
export function runCliAsync(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args]);
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    c.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}
