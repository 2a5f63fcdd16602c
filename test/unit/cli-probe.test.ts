import fs from "node:fs";
import { main, type Io } from "../../src/cli/main";
import * as hostFacts from "../../src/system/host-facts";
import * as probe from "../../src/system/probe";
import { DEBIAN12 } from "../helpers/specs";

/** `probe`'s options reach the probe as written (the probes themselves: local-probe.test.ts, host-session.test.ts). */

async function run(argv: string[]) {
  let out = "";
  let err = "";
  const io: Io = { out: (s) => (out += s + "\n"), err: (s) => (err += s + "\n"), readFile: (p) => fs.readFileSync(p, "utf8") };
  const code = await main(argv, io);
  return { code, out, err };
}

afterEach(() => jest.restoreAllMocks());

/** Stands for the probe: reports one progress line, answers the example profile. */
const answer = async (_x: unknown, opts?: { progress?: (s: string) => void }) => {
  opts?.progress?.("step one");
  return DEBIAN12;
};

describe("probe", () => {
  test("this machine, its libvirt part over qemu:///system; progress on stderr prefixed probe:", async () => {
    const local = jest.spyOn(probe, "probeHost").mockImplementation((o) => answer(undefined, o));
    const r = await run(["probe", "--json"]);
    expect(r.code).toBe(0);
    expect(local).toHaveBeenCalledWith({ connect: "qemu:///system", progress: expect.any(Function) });
    expect(r.err).toBe("probe: step one\n");
    expect(JSON.parse(r.out)).toMatchObject({ qemu: DEBIAN12.qemu, formatVersion: expect.any(String) });
  });

  test("--no-libvirt: libvirt is not asked", async () => {
    const local = jest.spyOn(probe, "probeHost").mockImplementation((o) => answer(undefined, o));
    expect((await run(["probe", "--no-libvirt"])).code).toBe(0);
    expect(local).toHaveBeenCalledWith({ connect: null, progress: expect.any(Function) });
  });

  test("--connect URI --timeout S: the host at URI through libvirt alone, with that time limit; the human view", async () => {
    const local = jest.spyOn(probe, "probeHost");
    const remote = jest.spyOn(hostFacts, "probeConnection").mockImplementation((uri, o) => answer(uri, o));
    const r = await run(["probe", "--connect", "qemu+ssh://root@kvm1/system", "--timeout", "5"]);
    expect(r.code).toBe(0);
    expect(remote).toHaveBeenCalledWith("qemu+ssh://root@kvm1/system", { progress: expect.any(Function), timeoutMs: 5000 });
    expect(local).not.toHaveBeenCalled();
    expect(r.err).toBe("probe: step one\n");
    expect(r.out).toMatch(/^QEMU\s+7\.2/m);
    const noTimeout = await run(["probe", "--connect", "qemu:///system"]);
    expect(noTimeout.code).toBe(0);
    expect(remote).toHaveBeenLastCalledWith("qemu:///system", { progress: expect.any(Function), timeoutMs: undefined });
  });

  test("--connect with --no-libvirt is a usage error", async () => {
    const r = await run(["probe", "--connect", "qemu:///system", "--no-libvirt"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot be used with/);
  });
});
