import fs from "node:fs";
import { parseHostProfileJson, type HostProfile } from "../host/profile";

/** What a command reads and writes: the real process, or a test's buffers. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  readFile: (path: string) => string;
}

export const processIo: Io = {
  out: (s) => process.stdout.write(s + "\n"),
  err: (s) => process.stderr.write(s + "\n"),
  readFile: (p) => fs.readFileSync(p === "-" ? 0 : p, "utf8"),
};

/** Bad arguments or unreadable input: the caller's mistake, reported without a stack trace. */
export class UsageError extends Error {}

export function readText(io: Io, file: string, what: string): string {
  try {
    return io.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    throw new UsageError(`cannot read ${what} ${file}: ${why}`);
  }
}

export function loadProfile(io: Io, file: string | undefined): HostProfile | undefined {
  if (!file) return undefined;
  const r = parseHostProfileJson(readText(io, file, "host profile"));
  if ("profile" in r) return r.profile;
  if (r.error === "json") throw new UsageError(`host profile ${file} is not valid JSON: ${r.message}`);
  throw new UsageError(`host profile ${file}: ${r.path || "(top level)"}: ${r.message} (write it with \`kvm-paravirt probe --json\`)`);
}
