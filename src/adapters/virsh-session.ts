import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
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

export class VirshSessionError extends Error {}

interface Pending {
  marker: string;
  line: string;
  resolve: (r: VirshResult) => void;
}

export class VirshSession {
  private child: ChildProcessWithoutNullStreams;
  private out = "";
  private err = "";
  private queue: Pending[] = [];
  private seq = 0;
  private dead: Error | null = null;
  private tmpDir: string | null = null;

  constructor(readonly uri: string) {
    this.child = spawn(virshBinary(), ["-q", "-c", uri], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.setEncoding("utf8").on("data", (s: string) => {
      this.out += s;
      this.drain();
    });
    this.child.stderr.setEncoding("utf8").on("data", (s: string) => {
      this.err += s;
      this.drain();
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const p of this.queue.splice(0)) p.resolve({ code: null, stdout: "", stderr: `${this.err}\n${e.message}` });
    };
    this.child.on("error", (e) => fail(new VirshSessionError(`virsh could not start: ${e.message}`)));
    this.child.on("exit", (code) =>
      fail(new VirshSessionError(`virsh exited (${code}) on ${uri}: ${this.err.trim().split("\n").slice(-1)[0] ?? ""}`)),
    );
    this.child.stdin.on("error", () => undefined);
  }

  private drain(): void {
    while (this.queue.length) {
      const p = this.queue[0];
      const outEnd = `virsh # echo ${p.marker}\n${p.marker}`;
      const errEnd = `error: ${p.marker}\n`;
      const oi = this.out.indexOf(outEnd);
      const ei = this.err.indexOf(errEnd);
      if (oi < 0 || ei < 0) return;
      let stdout = this.out.slice(0, oi);
      const echoed = `virsh # ${p.line}\n`;
      if (stdout.startsWith(echoed)) stdout = stdout.slice(echoed.length);
      const rest = this.out.slice(oi + outEnd.length);
      // what follows the marker is the prompt echo of the stderr marker command
      const errEcho = `virsh # echo --err ${p.marker}\n`;
      this.out = rest.startsWith(errEcho) ? rest.slice(errEcho.length) : rest;
      const stderr = this.err.slice(0, ei);
      this.err = this.err.slice(ei + errEnd.length);
      this.queue.shift();
      p.resolve({ code: /^error: /m.test(stderr) ? 1 : 0, stdout, stderr });
    }
  }

  /** Runs one virsh command (arguments unquoted); resolves with its output, never throws for a failed command. */
  run(args: readonly string[]): Promise<VirshResult> {
    if (this.dead) return Promise.resolve({ code: null, stdout: "", stderr: this.dead.message });
    const marker = `__KPV_${process.pid}_${++this.seq}__`;
    const line = args.map(virshQuote).join(" ");
    return new Promise((resolve) => {
      this.queue.push({ marker, line, resolve });
      this.child.stdin.write(`${line}\necho ${marker}\necho --err ${marker}\n`);
    });
  }

  /** Defines a domain from XML (virsh reads a file: a private temporary one). */
  async define(xml: string): Promise<VirshResult> {
    this.tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "kvm-paravirt-session-"));
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
