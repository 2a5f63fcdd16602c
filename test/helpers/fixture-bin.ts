import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./specs";

/**
 * A script of test/fixtures/bin as an executable of its own: a copy with mode 0755 in a fresh
 * folder, because a checkout or a copy (Stryker's sandbox) may not keep the executable bit.
 * Run `use` with its path; the folder is removed afterwards.
 */
export async function withFixtureBin<T>(name: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-bin-"));
  const file = path.join(dir, name);
  fs.copyFileSync(path.join(ROOT, "test/fixtures/bin", name), file);
  fs.chmodSync(file, 0o755);
  try {
    return await use(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
