import fs from "node:fs";
import path from "node:path";
import { ASSUMED_HOST } from "../../src/host/profile";
import * as hostFacts from "../../src/system/host-facts";
import { hostAccess } from "../../src/system/host-access";
import { hostFor } from "../../src/system/host-for";
import { runVirsh } from "../../src/system/virsh";
import { schemaProblem, schemaValidatorInstalled } from "../../src/system/xml-validate";
import { withFixtureBin } from "../helpers/fixture-bin";
import { DEBIAN12, ROOT } from "../helpers/specs";

/**
 * The small process edges of src/system, against the real programs: one-shot virsh (on
 * libvirt's test driver), virt-xml-validate, what a command may ask of this machine, and
 * where host facts come from.
 */

afterEach(() => jest.restoreAllMocks());

function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env[name];
  process.env[name] = value;
  return fn().finally(() => {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  });
}

describe("runVirsh: one virsh process", () => {
  test("its exit status and output; a document given on stdin reaches it", async () => {
    const list = await runVirsh("test:///default", ["list", "--all", "--name"]);
    expect(list).toEqual({ code: 0, stdout: "test\n", stderr: "" });
    // without a command virsh reads its commands from stdin
    const shell = await runVirsh("test:///default", [], "domstate --domain test\n");
    expect(shell.code).toBe(0);
    expect(shell.stdout).toContain("virsh # domstate --domain test\nrunning\n");
  });

  test("a failing command: its exit status and libvirt's error", async () => {
    const r = await runVirsh("test:///default", ["domstate", "--domain", "no-such-domain"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: failed to get domain 'no-such-domain'/m);
  });

  test("no virsh: no exit status, and the hint to install it", async () => {
    const r = await withEnv("KVM_PARAVIRT_VIRSH", "/nonexistent/virsh", () => runVirsh("test:///default", ["version"]));
    expect(r.code).toBeNull();
    expect(r.stderr).toMatch(/ENOENT.*\(is virsh installed\? Debian package libvirt-clients\)$/);
  });

  test("a virsh that does not answer is killed at the time limit, saying so", async () => {
    const started = Date.now();
    const r = await withFixtureBin("silent-qemu.js", (silent) =>
      withEnv("KVM_PARAVIRT_VIRSH", silent, () => runVirsh("test:///default", ["version"], undefined, 800)),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(r.code).toBeNull();
    expect(r.stderr).toMatch(/\n\(virsh timed out after 800 ms\)$/);
  });
});

describe("schemaProblem: libvirt's schema (virt-xml-validate)", () => {
  const valid = fs.readFileSync(path.join(ROOT, "test/fixtures/domains/base/want.xml"), "utf8");

  (schemaValidatorInstalled() ? test : test.skip)(
    "a valid domain: null; an invalid one: at most three lines of why, naming domain.xml, not the temporary file, which is removed",
    () => {
      const made: string[] = [];
      const mkdtemp = fs.mkdtempSync;
      jest.spyOn(fs, "mkdtempSync").mockImplementation((prefix: string) => {
        const d = mkdtemp(prefix);
        made.push(d);
        return d;
      });
      expect(schemaProblem(valid)).toBeNull();
      const bad = valid.replace(/<devices>/, "<devices><bogus-device/>");
      const why = schemaProblem(bad)!;
      expect(why).toMatch(/domain\.xml:\d+: /);
      expect(why).not.toMatch(/kvm-paravirt-validate-/);
      expect(why).not.toMatch(/fails to validate$/);
      expect(why.split("; ").length).toBeLessThanOrEqual(3);
      expect(made).toHaveLength(2);
      expect(made.every((d) => path.basename(d).startsWith("kvm-paravirt-validate-") && !fs.existsSync(d))).toBe(true);
    },
  );

  /** xml-validate with spawnSync answering as given (node:child_process cannot be spied on). */
  function withSpawnResult(result: object): typeof import("../../src/system/xml-validate") {
    let mod!: typeof import("../../src/system/xml-validate");
    jest.isolateModules(() => {
      jest.doMock("node:child_process", () => ({ spawnSync: () => result }));
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module under the mock
      mod = require("../../src/system/xml-validate");
    });
    jest.dontMock("node:child_process");
    return mod;
  }

  test("what it runs: virt-xml-validate --help once; then FILE domain, the file the owner's alone, removed afterwards; a line that merely contains 'fails to validate' is kept", () => {
    const calls: { cmd: string; args: string[]; opts: object; mode?: number; dir?: string }[] = [];
    let mod!: typeof import("../../src/system/xml-validate");
    jest.isolateModules(() => {
      jest.doMock("node:child_process", () => ({
        spawnSync: (cmd: string, args: string[], opts: object) => {
          const file = args[0];
          calls.push({
            cmd,
            args,
            opts,
            ...(args[1] === "domain" ? { mode: fs.statSync(file).mode & 0o777, dir: path.dirname(file) } : {}),
          });
          return args[1] === "domain"
            ? { status: 1, stdout: "", stderr: `${file}:3: element x: it fails to validate here\n${file} fails to validate\n` }
            : { status: 0, stdout: "", stderr: "" };
        },
      }));
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module under the mock
      mod = require("../../src/system/xml-validate");
    });
    jest.dontMock("node:child_process");
    expect(mod.schemaValidatorInstalled()).toBe(true);
    expect(mod.schemaValidatorInstalled()).toBe(true);
    expect(mod.schemaProblem("<domain/>")).toBe("domain.xml:3: element x: it fails to validate here");
    expect(calls.map((c) => [c.cmd, c.args[1] === "domain" ? ["FILE", "domain"] : c.args, c.opts])).toEqual([
      ["virt-xml-validate", ["--help"], { encoding: "utf8" }],
      ["virt-xml-validate", ["FILE", "domain"], { encoding: "utf8", timeout: 60_000 }],
    ]);
    expect(calls[1].mode).toBe(0o600);
    expect(path.basename(calls[1].args[0])).toBe("domain.xml");
    expect(fs.existsSync(calls[1].dir!)).toBe(false);
  });

  test("virt-xml-validate missing: not installed, and a domain check says how to install it", () => {
    const m = withSpawnResult({ error: new Error("spawnSync virt-xml-validate ENOENT") });
    expect(m.schemaValidatorInstalled()).toBe(false);
    expect(m.schemaProblem("<domain/>")).toBe(
      "virt-xml-validate is not installed (Debian: apt-get install libvirt-clients libxml2-utils): extraDevices are checked with it before a define",
    );
  });

  test("a refusal without text: libvirt's schema refuses it; success: null", () => {
    expect(withSpawnResult({ status: 1, stdout: "", stderr: "/tmp/x/domain.xml fails to validate\n" }).schemaProblem("<domain/>")).toBe(
      "libvirt's schema refuses it",
    );
    const ok = withSpawnResult({ status: 0, stdout: "/tmp/x/domain.xml validates\n", stderr: "" });
    expect(ok.schemaValidatorInstalled()).toBe(true);
    expect(ok.schemaProblem("<domain/>")).toBeNull();
  });

  test("more than three lines of why: the first three", () => {
    const m = withSpawnResult({ status: 3, stdout: "", stderr: "a\nb\n\n  c  \nd\ne\n" });
    expect(m.schemaProblem("<domain/>")).toBe("a; b; c");
  });
});

describe("hostAccess: what a check may ask of this machine", () => {
  test.each([
    ["qemu:///system", true],
    ["qemu:///session", true],
    ["qemu+unix:///system", true],
    ["qemu+unix:///system?socket=/run/x", true],
    ["qemu+ssh://root@kvm1/system", false],
    ["qemu:///systemd", false],
    ["xqemu:///system", false],
    ["test:///default", false],
  ])("%s: disk paths checked here: %s", (uri, local) => {
    const a = hostAccess(uri);
    expect(a.pathExists !== undefined).toBe(local);
    if (local) {
      expect(a.pathExists!(__filename)).toBe(true);
      expect(a.pathExists!("/nonexistent/disk.qcow2")).toBe(false);
    }
  });

  test("no connection: no disk check; libvirt's schema wherever virt-xml-validate runs", () => {
    expect(hostAccess().pathExists).toBeUndefined();
    expect(hostAccess().schemaProblem).toBe(schemaValidatorInstalled() ? schemaProblem : undefined);
  });
});

describe("hostFor: where a command's host facts come from", () => {
  test("a given profile wins; the test driver stands for the assumed host; any other connection is read (once per URI)", async () => {
    const read = jest.spyOn(hostFacts, "hostFactsFor").mockResolvedValue(DEBIAN12);
    expect(await hostFor("qemu:///system", DEBIAN12)).toBe(DEBIAN12);
    expect(await hostFor("test:///default", undefined)).toBe(ASSUMED_HOST);
    expect(await hostFor("test:///tmp/node.xml", undefined)).toBe(ASSUMED_HOST);
    expect(read).not.toHaveBeenCalled();
    const opts = { timeoutMs: 5 };
    expect(await hostFor("qemu+ssh://kvm1/system", undefined, opts)).toBe(DEBIAN12);
    expect(read).toHaveBeenCalledWith("qemu+ssh://kvm1/system", opts);
    // "test" elsewhere than the scheme is no test driver
    await hostFor("qemu+ssh://test/system", undefined);
    await hostFor("qemu+ssh://test:2222/system", undefined);
    expect(read).toHaveBeenCalledTimes(3);
  });
});
