import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { QmpClient } from "./qmp";

/**
 * Starts qemu-system-x86_64 paused (-S: no vCPU ever runs) with a QMP socket,
 * so the realized vCPU can be read exactly. Arguments go to spawn as an array:
 * no shell is involved.
 */

export const qemuBinary = (): string => process.env.KVM_PARAVIRT_QEMU ?? "qemu-system-x86_64";

export class QemuStartError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`QEMU did not start (exit ${exitCode}): ${stderr.trim().split("\n").slice(-3).join(" | ") || "no output"}`);
  }
}

export interface PausedQemu {
  qmp: QmpClient;
  process: ChildProcess;
  /** everything QEMU printed on stderr so far (warnings about dropped features) */
  stderr(): string;
  /** quits QEMU and removes the socket directory */
  stop(): Promise<void>;
}

export async function startPausedQemu(args: readonly string[], timeoutMs = 15_000): Promise<PausedQemu> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvm-paravirt-qmp-"));
  const sock = path.join(dir, "qmp.sock");
  const full = ["-S", "-nodefaults", "-display", "none", "-serial", "none", "-qmp", `unix:${sock},server=on,wait=off`, ...args];
  const child = spawn(qemuBinary(), full, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (s: string) => (stderr += s));
  let exitCode: number | null = null;
  let exited = false;
  const exitedP = new Promise<void>((res) =>
    child.on("exit", (code) => {
      exitCode = code;
      exited = true;
      res();
    }),
  );
  const spawnError = new Promise<Error>((res) => child.on("error", res));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });

  const deadline = Date.now() + timeoutMs;
  let qmp: QmpClient | null = null;
  while (!qmp) {
    if (exited) {
      await exitedP;
      cleanup();
      throw new QemuStartError(full, stderr, exitCode);
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      cleanup();
      throw new QemuStartError(full, stderr + "\n(timed out waiting for the QMP socket)", null);
    }
    if (fs.existsSync(sock)) {
      try {
        qmp = await QmpClient.connect(sock, Math.max(1000, deadline - Date.now()));
        break;
      } catch {
        // QEMU may still be initialising, or it died: the loop checks
      }
    }
    // a referenced timer: once QEMU is gone it is all that keeps the process waiting for this loop
    const err = await Promise.race([spawnError, new Promise<null>((r) => setTimeout(() => r(null), 20))]);
    if (err) {
      cleanup();
      throw new QemuStartError(full, `${err.message} (is ${qemuBinary()} installed?)`, null);
    }
  }
  const client = qmp;
  return {
    qmp: client,
    process: child,
    stderr: () => stderr,
    stop: async () => {
      try {
        await Promise.race([client.execute("quit"), new Promise((r) => setTimeout(r, 2000).unref())]);
      } catch {
        // the connection closes as QEMU quits
      }
      client.close();
      const killer = setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      if (!exited) await exitedP;
      clearTimeout(killer);
      cleanup();
    },
  };
}
