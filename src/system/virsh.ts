import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { qmpReturn } from "./qmp";

/**
 * libvirt through the `virsh` client (Debian libvirt-clients). Arguments are an
 * array handed to spawn, and documents go on stdin: nothing passes a shell.
 */

export const virshBinary = (): string => process.env.KVM_PARAVIRT_VIRSH ?? "virsh";

export interface VirshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

class VirshError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: VirshResult,
  ) {
    super(
      `virsh ${args[0] === "-c" ? args.slice(2, 3).join(" ") : args[0]} failed: ${result.stderr.trim().replace(/^error: /gm, "") || `exit ${result.code}`}`,
    );
  }
}

export function runVirsh(uri: string, args: readonly string[], input?: string, timeoutMs = 60_000): Promise<VirshResult> {
  return new Promise((resolve) => {
    const child = spawn(virshBinary(), ["-q", "-c", uri, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      stderr += `\n(virsh timed out after ${timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${e.message} (is virsh installed? Debian package libvirt-clients)` });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(input ?? "");
  });
}

/** Runs virsh and returns stdout, or throws VirshError. */
export async function virsh(uri: string, args: readonly string[], input?: string): Promise<string> {
  const r = await runVirsh(uri, args, input);
  if (r.code !== 0) throw new VirshError(["-c", uri, ...args], r);
  return r.stdout;
}

/** A QMP `execute` through `virsh qemu-monitor-command` for a running domain. */
export function monitorExec(uri: string, domain: string) {
  return async <T>(command: string, args?: Record<string, unknown>): Promise<T> => {
    const out = await virsh(uri, [
      "qemu-monitor-command",
      "--domain",
      domain,
      "--cmd",
      JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) }),
    ]);
    return qmpReturn<T>(command, out);
  };
}

/**
 * Defines (or redefines) a domain from XML. virsh reads a file path only, and
 * /dev/stdin is a socket under Node's spawn, so the XML goes through a private
 * temporary file that is removed afterwards.
 */
export async function defineXml(uri: string, xml: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvm-paravirt-define-"));
  const file = path.join(dir, "domain.xml");
  try {
    fs.writeFileSync(file, xml, { mode: 0o600 });
    return await virsh(uri, ["define", "--file", file]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
