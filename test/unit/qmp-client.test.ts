import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { QmpClient, QmpError, qmpReturn } from "../../src/system/qmp";

/**
 * The QMP client against a scripted server in this process: how it reads the stream (several
 * messages in one chunk, one split over chunks, blank and foreign lines, events, replies to no
 * request), its ids, errors and the connection's end. The real QEMU: test/unit/local-probe.test.ts.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-qmp-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const GREETING = '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}\r\n';

interface Server {
  sock: string;
  /** every request the client sent, parsed */
  seen: { execute: string; id?: string; arguments?: unknown }[];
  close(): Promise<void>;
}

/** A QMP server that greets (unless `greet` is false) and answers each request with `reply(request, conn)`. */
async function serve(reply: (req: { execute: string; id?: string }, c: net.Socket) => void, greet = true): Promise<Server> {
  const sock = path.join(dir, `s${Math.random().toString(16).slice(2)}.sock`);
  const seen: Server["seen"] = [];
  const conns: net.Socket[] = [];
  const server = net.createServer((c) => {
    conns.push(c);
    c.on("error", () => undefined);
    if (greet) c.write(GREETING);
    let buf = "";
    c.on("data", (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const req = JSON.parse(buf.slice(0, nl)) as Server["seen"][number];
        buf = buf.slice(nl + 1);
        seen.push(req);
        if (req.execute === "qmp_capabilities") c.write(`{"return": {}, "id": ${JSON.stringify(req.id)}}\r\n`);
        else reply(req, c);
      }
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  return {
    sock,
    seen,
    close: () =>
      new Promise((r) => {
        for (const c of conns) c.destroy();
        server.close(() => r());
      }),
  };
}

const ret = (id: string | undefined, value: unknown) => `${JSON.stringify({ return: value, id })}\r\n`;

describe("QmpClient", () => {
  test("greeting: the QEMU version; capabilities negotiated first; ids 1, 2, 3 in order, one per request", async () => {
    const s = await serve((req, c) => c.write(ret(req.id, req.execute)));
    const q = await QmpClient.connect(s.sock);
    expect(q.version).toEqual({ major: 7, minor: 2, micro: 22 });
    expect(await q.execute("query-status")).toBe("query-status");
    expect(await q.execute("query-machines", { a: 1 })).toBe("query-machines");
    expect(s.seen).toEqual([
      { execute: "qmp_capabilities", id: "1" },
      { execute: "query-status", id: "2" },
      { execute: "query-machines", id: "3", arguments: { a: 1 } },
    ]);
    q.close();
    await s.close();
  });

  test("the stream: two replies in one chunk, one reply split over chunks, blank, foreign and event lines, a reply to nobody", async () => {
    let held: { id?: string }[] = [];
    const s = await serve((req, c) => {
      held.push(req);
      if (held.length < 3) return;
      const [a, b, x] = held;
      held = [];
      // an event, a blank line, a line that is no JSON, a reply to an id nobody asked for, then two replies in one write
      c.write('{"event": "RESUME", "timestamp": {}}\r\n\r\nnot json\r\n{"return": 9, "id": "999"}\r\n' + ret(b.id, "b") + ret(a.id, "a"));
      // the third reply in two pieces
      const text = ret(x.id, "x");
      c.write(text.slice(0, 7));
      setTimeout(() => c.write(text.slice(7)), 30);
    });
    const q = await QmpClient.connect(s.sock);
    expect(await Promise.all([q.execute("a"), q.execute("b"), q.execute("x")])).toEqual(["a", "b", "x"]);
    q.close();
    await s.close();
  });

  test("an error reply is a QmpError with its class and text; without them, QMP's defaults", async () => {
    const s = await serve((req, c) =>
      c.write(
        req.execute === "bad"
          ? `{"error": {"class": "GenericError", "desc": "no such thing"}, "id": "${req.id}"}\r\n`
          : `{"error": {}, "id": "${req.id}"}\r\n`,
      ),
    );
    const q = await QmpClient.connect(s.sock);
    const e = (await q.execute("bad").catch((x: unknown) => x)) as QmpError;
    expect(e).toBeInstanceOf(QmpError);
    expect(e.message).toBe("QMP bad failed: GenericError: no such thing");
    await expect(q.execute("bare")).rejects.toThrow("QMP bare failed: Error: unknown error");
    q.close();
    await s.close();
  });

  test("the connection ends: pending requests fail, later ones at once", async () => {
    const s = await serve((_req, c) => c.destroy());
    const q = await QmpClient.connect(s.sock);
    await expect(q.execute("query-status")).rejects.toThrow(/QMP connection closed/);
    await expect(q.execute("again")).rejects.toThrow(/QMP connection closed/);
    await s.close();
  });

  test("a server that never greets: the connect fails after its time limit, naming it", async () => {
    const s = await serve(() => undefined, false);
    const started = Date.now();
    await expect(QmpClient.connect(s.sock, 300)).rejects.toThrow("QMP greeting timed out after 300 ms");
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    await s.close();
  });

  test("no server at the path: the connect fails", async () => {
    await expect(QmpClient.connect(path.join(dir, "nobody.sock"), 1000)).rejects.toThrow(/ENOENT|ECONNREFUSED/);
  });

  test("a connect that succeeds leaves no timer running (the process can end)", async () => {
    const s = await serve((req, c) => c.write(ret(req.id, 1)));
    const spy = jest.spyOn(global, "clearTimeout");
    const q = await QmpClient.connect(s.sock, 60_000);
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
    q.close();
    await s.close();
  });
});

describe("qmpReturn (a reply as virsh qemu-monitor-command prints it)", () => {
  test.each([
    ['{"return": {"a": 1}, "id": "libvirt-1"}', { a: 1 }],
    ['{"return": null}', null],
    ['  {"return": 3}\n', 3],
  ])("%j: its return", (text, value) => {
    expect(qmpReturn("cmd", text)).toEqual(value);
  });

  test.each([
    ["no JSON", "  not json at all  \n", "cmd: not a QMP reply: not json at all"],
    ["no return", '{"foo": 1}', 'cmd: not a QMP reply: {"foo": 1}'],
    ["null", "null", "cmd: not a QMP reply: null"],
    ["300 characters", `  ${"x".repeat(300)}  `, `cmd: not a QMP reply: ${"x".repeat(200)}`],
  ])("%s: an error naming the command and the text (trimmed, at most 200 characters)", (_what, text, message) => {
    expect(() => qmpReturn("cmd", text)).toThrow(new Error(message));
  });

  test("an error reply: a QmpError with QMP's defaults where the reply has no class or text", () => {
    expect(() => qmpReturn("cmd", '{"error": {"class": "CommandNotFound", "desc": "nope"}}')).toThrow(
      "QMP cmd failed: CommandNotFound: nope",
    );
    expect(() => qmpReturn("cmd", '{"error": {}}')).toThrow("QMP cmd failed: QMP error: ");
  });
});
