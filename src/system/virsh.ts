import { spawn } from "node:child_process";

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
