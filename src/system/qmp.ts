import net from "node:net";

/**
 * A minimal QMP client (QEMU Machine Protocol, JSON lines over a socket):
 * greeting, qmp_capabilities, then one command at a time matched by id.
 */

export class QmpError extends Error {
  constructor(
    readonly command: string,
    readonly qmpClass: string,
    desc: string,
  ) {
    super(`QMP ${command} failed: ${qmpClass}: ${desc}`);
  }
}

/** A QMP `execute`: the command's `return`, or a rejection naming QMP's error. */
export type QmpExec = <T>(command: string, args?: Record<string, unknown>) => Promise<T>;

/**
 * The `return` of one QMP reply as text (what `virsh qemu-monitor-command` prints): an error
 * reply, or text that is no reply, is an error naming the command (never an undefined return).
 */
export function qmpReturn<T>(command: string, text: string): T {
  let msg: { return?: T; error?: { class?: string; desc?: string } };
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    throw new Error(`${command}: not a QMP reply: ${text.trim().slice(0, 200)}`);
  }
  if (msg?.error) throw new QmpError(command, msg.error.class ?? "QMP error", msg.error.desc ?? "");
  if (!msg || typeof msg !== "object" || !("return" in msg)) throw new Error(`${command}: not a QMP reply: ${text.trim().slice(0, 200)}`);
  return msg.return as T;
}

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class QmpClient {
  private buffer = "";
  private nextId = 1;
  private pending = new Map<string, Pending>();
  private greeting: Promise<unknown>;
  private closedError: Error | null = null;
  /** the QEMU version from the greeting */
  version: { major: number; minor: number; micro: number } | null = null;

  private constructor(private readonly socket: net.Socket) {
    let greeted: (v: unknown) => void;
    let greetFail: (e: Error) => void;
    this.greeting = new Promise((res, rej) => {
      greeted = res;
      greetFail = rej;
    });
    // A connection refused before the greeting rejects it while nobody awaits it yet (connect()
    // is still waiting for "connect"): mark it observed, or Node reports an unhandled rejection.
    // connect() still awaits it and sees the error.
    this.greeting.catch(() => undefined);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if ("QMP" in msg) {
          const v = (msg.QMP as { version?: { qemu?: { major: number; minor: number; micro: number } } }).version?.qemu;
          if (v) this.version = v;
          greeted(msg);
        } else if ("id" in msg) {
          const p = this.pending.get(String(msg.id));
          if (!p) continue;
          this.pending.delete(String(msg.id));
          if ("error" in msg) {
            const e = msg.error as { class?: string; desc?: string };
            p.reject(new QmpError(p.command, e.class ?? "Error", e.desc ?? "unknown error"));
          } else p.resolve(msg.return);
        }
        // events are ignored
      }
    });
    const fail = (e: Error) => {
      this.closedError = e;
      greetFail(e);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("QMP connection closed")));
  }

  /** Connects to a QMP unix socket and negotiates capabilities. */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const socket = net.createConnection(path);
    const client = new QmpClient(socket);
    const timer = setTimeout(() => socket.destroy(new Error(`QMP greeting timed out after ${timeoutMs} ms`)), timeoutMs);
    try {
      await new Promise<void>((res, rej) => {
        socket.once("connect", () => res());
        socket.once("error", rej);
      });
      await client.greeting;
      await client.execute("qmp_capabilities");
      return client;
    } catch (e) {
      socket.destroy();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + "\n");
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Reads boolean properties of vCPU 0 with query-cpus-fast and qom-get. */
export async function readVcpuProperties(
  exec: <T>(command: string, args?: Record<string, unknown>) => Promise<T>,
  properties: readonly string[],
): Promise<Record<string, boolean>> {
  const cpus = await exec<{ "qom-path": string; "cpu-index": number }[]>("query-cpus-fast");
  const cpu0 = cpus.find((c) => c["cpu-index"] === 0) ?? cpus[0];
  if (!cpu0) throw new Error("query-cpus-fast returned no vCPU");
  // all reads in flight at once: QMP matches replies by id, virsh runs one process each
  const values = await Promise.all(properties.map((p) => exec<unknown>("qom-get", { path: cpu0["qom-path"], property: p })));
  const out: Record<string, boolean> = {};
  properties.forEach((p, i) => {
    if (typeof values[i] !== "boolean") throw new Error(`qom-get ${p} returned ${JSON.stringify(values[i])}, expected a boolean`);
    out[p] = values[i] as boolean;
  });
  return out;
}
