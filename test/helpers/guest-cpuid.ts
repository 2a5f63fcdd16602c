import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * QEMU started paused with given arguments under strace, as scripts/record-hyperv.js records
 * it: how it ended (started, refused with exit 1, aborted) with every line it printed, and the
 * CPUID it handed KVM for the guest's vCPU (the last KVM_SET_CPUID2, decoded by the script's own
 * decoder). That CPUID, not QMP, is what the guest gets of Hyper-V.
 */

interface Entry {
  function: number;
  index: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}
export interface DecodedCpuid {
  hypervisorBit: boolean | null;
  signatures: Record<string, string>;
  kvmLeavesAt: string | null;
  hypervInterface: boolean;
  hypervVendor: string | null;
  hypervSpinlocks: string | null;
  hypervFeatures: string[];
}
// the recorder's decoder (plain JS, shared so that the oracle reads CPUID exactly as the records were made)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const recorder = require("../../scripts/record-hyperv.js") as {
  setCpuid2Calls(text: string): { entries: Entry[]; truncated: boolean }[];
  decode(table: Map<number, Entry>): DecodedCpuid;
};

export interface TracedRun {
  outcome: "started" | "refused" | "aborted" | "timeout";
  stderr: string;
  exitCode: number | null;
  /** the guest vCPU's CPUID as handed to KVM (the last KVM_SET_CPUID2), when QEMU made one */
  cpuid?: DecodedCpuid;
}

const STRACE_ARGS = ["-f", "-e", "trace=ioctl", "-e", "verbose=ioctl", "-X", "raw", "-v", "-s", "65535"];
const COMMON = ["-S", "-display", "none", "-nodefaults", "-monitor", "none", "-serial", "none", "-qmp", "stdio"];

/** Runs `qemu-system-x86_64 args` paused under strace; `env` adds to the environment (LD_PRELOAD for a simulated KVM). */
export function runTraced(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<TracedRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-cpuid-"));
  const trace = path.join(dir, "strace.txt");
  const child = spawn("strace", ["-o", trace, ...STRACE_ARGS, "--", "qemu-system-x86_64", ...args, ...COMMON], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  let started = false;
  let timedOut = false;
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (s: string) => (stderr += s));
  let negotiated = false;
  child.stdout!.on("data", (s: string) => {
    stdout += s;
    // greeted: negotiate, then ask for the status (answered only by a QEMU whose vCPU exists)
    if (!negotiated && stdout.includes('"QMP"')) {
      negotiated = true;
      child.stdin!.write('{"execute":"qmp_capabilities"}\n{"execute":"query-status","id":"status"}\n');
    }
    if (!started && /"id":\s*"status"/.test(stdout)) {
      started = true;
      child.stdin!.write('{"execute":"quit"}\n');
    }
  });
  child.stdin!.on("error", () => undefined);
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone already
    }
  }, timeoutMs);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const text = fs.existsSync(trace) ? fs.readFileSync(trace, "utf8") : "";
      fs.rmSync(dir, { recursive: true, force: true });
      const calls = recorder.setCpuid2Calls(text);
      const last = calls[calls.length - 1];
      let cpuid: DecodedCpuid | undefined;
      if (last && !last.truncated) {
        const table = new Map<number, Entry>();
        for (const e of last.entries) if (!table.has(e.function) || e.index === 0) table.set(e.function, e);
        cpuid = recorder.decode(table);
      }
      const aborted = signal !== null || /Assertion .* failed/.test(stderr) || /\+\+\+ killed by SIG/.test(text);
      const outcome = timedOut ? "timeout" : started ? "started" : aborted ? "aborted" : "refused";
      resolve({ outcome, stderr, exitCode: code, ...(cpuid ? { cpuid } : {}) });
    });
  });
}
