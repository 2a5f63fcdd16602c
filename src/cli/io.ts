import fs from "node:fs";
import { parseHostProfileJson, type HostProfile } from "../host/profile";

/** What a command reads and writes: the real process, or a test's buffers. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  readFile: (path: string) => string;
}

/** At most this many bytes of any input file are read: /dev/zero or a huge file is refused, not buffered. */
const MAX_INPUT_BYTES = 8 * 1024 * 1024;

/** Reads a file (or standard input, "-") up to MAX_INPUT_BYTES; one byte more is an error. */
function readBounded(file: string, limit = MAX_INPUT_BYTES): string {
  // Stryker disable next-line ConditionalExpression,StringLiteral: standard input is read only by the spawned bin (test/unit/bin.test.ts), which mutants do not reach
  const fd = file === "-" ? 0 : fs.openSync(file, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.alloc(1024 * 1024);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        // Stryker disable next-line ConditionalExpression,StringLiteral: a non-blocking or closed stdin, met only by the spawned bin (test/unit/bin.test.ts)
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue; // a non-blocking stdin: try again
        // Stryker disable next-line ConditionalExpression,StringLiteral: as above
        if ((e as NodeJS.ErrnoException).code === "EOF") break;
        throw e;
      }
      if (n === 0) break;
      total += n;
      if (total > limit) throw new Error(`larger than ${limit} bytes (8 MiB), the limit for an input file`);
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    if (fd !== 0) fs.closeSync(fd);
  }
}

export const processIo: Io = {
  out: (s) => process.stdout.write(s + "\n"),
  err: (s) => process.stderr.write(s + "\n"),
  readFile: (p) => readBounded(p),
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
