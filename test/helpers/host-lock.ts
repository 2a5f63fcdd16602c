import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * One test at a time on the host for `what` (across jest workers and concurrent runs): the
 * CPU pinning suites pick free host CPUs from what the host's domains pin, so a pinned
 * domain another suite defines at the same moment would change the pick. A directory is
 * the lock (mkdir is atomic); one older than `staleMs` is a crashed run's and is taken over.
 */
export async function withHostLock<T>(what: string, fn: () => Promise<T>, staleMs = 10 * 60_000): Promise<T> {
  const dir = path.join(os.tmpdir(), `kpv-host-lock-${what}`);
  for (;;) {
    try {
      fs.mkdirSync(dir);
      break;
    } catch {
      const age = Date.now() - (fs.statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > staleMs) fs.rmSync(dir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
