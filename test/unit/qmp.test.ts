import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { QmpClient, qmpReturn } from "../../src/system/qmp";

/** The QMP client's failure paths, against real unix sockets (no QEMU needed). */
describe("QMP client failures", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-qmp-"));
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  beforeAll(() => process.on("unhandledRejection", onUnhandled));
  afterAll(() => process.off("unhandledRejection", onUnhandled));

  test("a socket nobody listens on: connect rejects, and no promise is left rejected unobserved", async () => {
    await expect(QmpClient.connect(path.join(dir, "nobody.sock"), 2000)).rejects.toThrow(/ENOENT|ECONNREFUSED/);
    await new Promise((r) => setTimeout(r, 50)); // let Node report any unhandled rejection
    expect(unhandled).toEqual([]);
  });

  test("a peer that closes before the greeting: connect rejects with the reason", async () => {
    const sock = path.join(dir, "closer.sock");
    const server = net.createServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen(sock, () => r()));
    try {
      await expect(QmpClient.connect(sock, 2000)).rejects.toThrow(/QMP connection closed/);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      server.close();
    }
  });
});

describe("qmpReturn: one QMP reply as virsh qemu-monitor-command prints it", () => {
  test("the return, whatever it is (an empty object, a list, false)", () => {
    expect(qmpReturn("query-x", '{"return":{},"id":"libvirt-1"}')).toEqual({});
    expect(qmpReturn("query-cpus-fast", '{"return":[{"cpu-index":0}]}')).toEqual([{ "cpu-index": 0 }]);
    expect(qmpReturn("qom-get", '{"return":false,"id":"libvirt-2"}')).toBe(false);
  });
  test("an error reply is an error naming the command and QMP's class and text, never an undefined return", () => {
    expect(() =>
      qmpReturn("qom-get", '{"id":"libvirt-3","error":{"class":"GenericError","desc":"Property \'x2apix\' not found"}}'),
    ).toThrow("QMP qom-get failed: GenericError: Property 'x2apix' not found");
  });
  test("text that is no reply is an error", () => {
    expect(() => qmpReturn("qom-get", "")).toThrow(/qom-get: not a QMP reply/);
    expect(() => qmpReturn("qom-get", "null")).toThrow(/qom-get: not a QMP reply/);
    expect(() => qmpReturn("qom-get", '{"id":"libvirt-4"}')).toThrow(/qom-get: not a QMP reply/);
  });
});
