import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { qmpReturn, type QmpExec } from "./qmp";
import { virshBinary, type VirshResult } from "./virsh";

/**
 * One long-lived `virsh` per connection: commands go to its interactive shell
 * one at a time, each followed by `echo` markers on stdout and stderr so the
 * replies can be cut apart. Much cheaper than a process (and a connection) per
 * call. Arguments are quoted for virsh's own parser (sh-style single quotes),
 * never handed to a system shell.
 */

/** Quotes one argument for virsh's command parser. */
export function virshQuote(arg: string): string {
  if (/[\n\r\0]/.test(arg)) throw new Error("virsh arguments cannot contain line breaks");
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

class VirshSessionError extends Error {}

/** The screen width virsh's readline is given: wider than any command line sent (see the constructor). */
const READLINE_COLUMNS = 1_000_000;

/** How long one libvirt call may take: KVM_PARAVIRT_TIMEOUT (seconds) or 60 s. */
export function defaultTimeoutMs(): number {
  const s = Number(process.env.KVM_PARAVIRT_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
}

/**
 * Parses `virsh list --all --uuid --name` ("<uuid> <name>" per line) into name -> UUID.
 * A domain is then always addressed by its UUID: `--domain X` is looked up as an ID,
 * then a UUID, then a name, so a name like "1" or another domain's UUID would hit
 * another domain.
 */
function parseUuidNameList(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) (.+)$/.exec(line);
    if (m) out.set(m[2], m[1]);
  }
  return out;
}

interface Pending {
  marker: string;
  line: string;
  resolve: (r: VirshResult) => void;
  timer: NodeJS.Timeout;
}

export class VirshSession {
  private child: ChildProcessWithoutNullStreams;
  private out = "";
  private err = "";
  private queue: Pending[] = [];
  private seq = 0;
  private dead: Error | null = null;
  private tmpDir: string | null = null;

  constructor(
    readonly uri: string,
    /** one command's time limit; then the session is ended and every call fails, naming the host */
    readonly timeoutMs: number = defaultTimeoutMs(),
  ) {
    // virsh's shell echoes each command line through readline, at the width of a terminal it does
    // not have (80 columns without TERM, or a TERM such as dumb): a longer line comes back scrolled or
    // with cursor moves, not as typed, and stays in front of the reply. A screen wider than any
    // command line keeps every echo verbatim, whatever TERM is.
    this.child = spawn(virshBinary(), ["-q", "-c", uri], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, COLUMNS: String(READLINE_COLUMNS) },
    });
    this.child.stdout.setEncoding("utf8").on("data", (s: string) => {
      this.out += s;
      this.drain();
    });
    this.child.stderr.setEncoding("utf8").on("data", (s: string) => {
      this.err += s;
      this.drain();
    });
    const fail = (e: Error) => this.fail(e);
    this.child.on("error", (e) => fail(new VirshSessionError(`virsh could not start: ${e.message}`)));
    this.child.on("exit", (code) =>
      fail(new VirshSessionError(`virsh exited (${code}) on ${uri}: ${this.err.trim().split("\n").slice(-1)[0] ?? ""}`)),
    );
    this.child.stdin.on("error", () => undefined);
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.queue.splice(0)) {
      clearTimeout(p.timer);
      p.resolve({ code: null, stdout: "", stderr: `${this.err}\n${this.dead.message}` });
    }
  }

  private drain(): void {
    while (this.queue.length) {
      const p = this.queue[0];
      const outEnd = `virsh # echo ${p.marker}\n${p.marker}`;
      const errEnd = `error: ${p.marker}\n`;
      const oi = this.out.indexOf(outEnd);
      const ei = this.err.indexOf(errEnd);
      // Stryker disable next-line EqualityOperator: equivalent (virsh echoes the command line first: the marker is never at 0)
      if (oi < 0 || ei < 0) return;
      let stdout = this.out.slice(0, oi);
      const echoed = `virsh # ${p.line}\n`;
      // Stryker disable next-line ConditionalExpression: equivalent here (virsh's shell echoes every line it reads, as typed: test "a command line of any length")
      if (stdout.startsWith(echoed)) stdout = stdout.slice(echoed.length);
      const rest = this.out.slice(oi + outEnd.length);
      // what follows the marker is the prompt echo of the stderr marker command
      const errEcho = `virsh # echo --err ${p.marker}\n`;
      this.out = rest.startsWith(errEcho) ? rest.slice(errEcho.length) : rest;
      const stderr = this.err.slice(0, ei);
      this.err = this.err.slice(ei + errEnd.length);
      this.queue.shift();
      clearTimeout(p.timer);
      p.resolve({ code: /^error: /m.test(stderr) ? 1 : 0, stdout, stderr });
    }
  }

  /** Runs one virsh command (arguments unquoted); resolves with its output, never throws for a failed command. */
  run(args: readonly string[]): Promise<VirshResult> {
    if (this.dead) return Promise.resolve({ code: null, stdout: "", stderr: this.dead.message });
    // Stryker disable next-line UpdateOperator: equivalent (counting down gives unique markers too)
    const marker = `__KPV_${process.pid}_${++this.seq}__`;
    const line = args.map(virshQuote).join(" ");
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const secs = Math.round(this.timeoutMs / 100) / 10;
        this.fail(
          new VirshSessionError(
            `libvirt on ${this.uri} did not answer within ${secs} s (${args[0]}); raise --timeout or KVM_PARAVIRT_TIMEOUT if it is only slow`,
          ),
        );
        this.child.kill("SIGKILL");
      }, this.timeoutMs);
      this.queue.push({ marker, line, resolve, timer });
      this.child.stdin.write(`${line}\necho ${marker}\necho --err ${marker}\n`);
    });
  }

  /** name -> UUID of every domain on the host, or the error text. */
  async domains(): Promise<{ byName: Map<string, string> } | { error: string }> {
    const r = await this.run(["list", "--all", "--uuid", "--name"]);
    if (r.code !== 0) {
      // one line: virsh repeats the cause, and the session adds its own exit line
      const lines = r.stderr
        .split("\n")
        .map((l) =>
          l
            .replace(/^error: /, "")
            .replace(/^(virsh exited \(\w+\) on \S+): .*/, "$1")
            .trim(),
        )
        .filter(Boolean);
      return { error: [...new Set(lines)].join("; ") || "virsh list failed" };
    }
    return { byName: parseUuidNameList(r.stdout) };
  }

  /** Defines a domain from XML (virsh reads a file: a private temporary one). */
  async define(xml: string): Promise<VirshResult> {
    this.tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "kvm-paravirt-session-"));
    // Stryker disable next-line ArithmeticOperator: equivalent (any name in the private folder; the file is removed after its define)
    const file = path.join(this.tmpDir, `d${this.seq + 1}.xml`);
    fs.writeFileSync(file, xml, { mode: 0o600 });
    try {
      return await this.run(["define", "--file", file]);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  close(): void {
    if (!this.dead) this.child.stdin.end("quit\n");
    if (this.tmpDir) fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }
}

/** QMP through `virsh qemu-monitor-command` on the session's host, for the running domain `uuid` (addressed by UUID only). */
export function sessionQmp(session: VirshSession, uuid: string): QmpExec {
  return async <T>(command: string, args?: Record<string, unknown>): Promise<T> => {
    const r = await session.run([
      "qemu-monitor-command",
      "--domain",
      uuid,
      "--cmd",
      JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) }),
    ]);
    if (r.code !== 0) throw new Error(`virsh qemu-monitor-command ${command}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return qmpReturn<T>(command, r.stdout);
  };
}

/** Runs `fn` with a session on `uri`, closed afterwards whatever happens: the one way the product opens a session. */
export async function withVirshSession<T>(uri: string, timeoutMs: number | undefined, fn: (s: VirshSession) => Promise<T>): Promise<T> {
  const session = new VirshSession(uri, timeoutMs);
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}
