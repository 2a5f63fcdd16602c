import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { qmpReturn } from "../../src/system/qmp";
import { runVirsh, type VirshResult } from "../../src/system/virsh";

/**
 * virsh for the oracles, one process per call (the product keeps one long-lived session per
 * host, src/system/virsh-session.ts): a call that fails throws, with what virsh said.
 */
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
