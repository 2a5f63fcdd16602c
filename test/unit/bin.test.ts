import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { main, type Io } from "../../src/cli/main";
import { ROOT } from "../helpers/specs";

/**
 * bin/kvm-paravirt.js, the installed command: it runs dist/ (npm test builds it
 * first), says which module is missing when an install is broken, says the build
 * is missing only when it is, and exits with main's code once stdout is written.
 */

const BIN = path.join(ROOT, "bin/kvm-paravirt.js");
const run = (bin: string, args: string[], timeout = 60000) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout });

/** A copy of the bin in a temp package whose dist/src/cli/main.js is `main` (none when undefined). */
function fakePackage(main?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-bin-"));
  fs.mkdirSync(path.join(dir, "bin"));
  fs.copyFileSync(BIN, path.join(dir, "bin/kvm-paravirt.js"));
  if (main !== undefined) {
    fs.mkdirSync(path.join(dir, "dist/src/cli"), { recursive: true });
    fs.writeFileSync(path.join(dir, "dist/src/cli/main.js"), main);
  }
  return path.join(dir, "bin/kvm-paravirt.js");
}

describe("bin/kvm-paravirt.js", () => {
  test("a QEMU that greets over QMP and then exits: probe fails with QEMU's words, not a silent exit 0", () => {
    // the wait for QMP once polled with an unref'd timer: with QEMU gone nothing kept the process alive
    const qemu = path.join(ROOT, "test/fixtures/bin/greet-then-exit-qemu.js");
    const r = spawnSync(process.execPath, [BIN, "probe", "--no-libvirt"], {
      encoding: "utf8",
      timeout: 60000,
      env: { ...process.env, KVM_PARAVIRT_QEMU: qemu },
    });
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.stderr).toContain("kernel doesn't allow setting HyperV VP_INDEX");
  });

  test("--help runs the built CLI and exits 0", () => {
    const r = run(BIN, ["--help"]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.not.stringContaining("kvm-paravirt: ") });
    expect(r.stdout + r.stderr).toMatch(/Usage: kvm-paravirt/);
  });

  test("all of a large output reaches a pipe before the process exits", () => {
    const r = run(BIN, [
      "render",
      path.join(ROOT, "examples/fleet.yaml"),
      "--host",
      path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json"),
      "--json",
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(10000);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });

  test("a slow reader gets all of an output far larger than a pipe's 64 KiB, then main's exit code", async () => {
    // a big generated spec: render --xml prints about 600 KB
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-bin-slow-"));
    const spec = path.join(dir, "big.yaml");
    const domains = Array.from({ length: 200 }, (_, i) => ({ name: `kpv-big-${i}`, vcpus: 1 + (i % 8), paravirt: { pvIpi: i % 2 === 0 } }));
    fs.writeFileSync(spec, JSON.stringify({ domains }));
    const args = ["render", spec, "--xml", "--host", path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json")];
    // what it prints, from main in this process
    let want = "";
    const io: Io = { out: (t) => (want += t + "\n"), err: () => undefined, readFile: (f) => fs.readFileSync(f, "utf8") };
    expect(await main(args, io)).toBe(0);
    expect(want.length).toBeGreaterThan(8 * 64 * 1024);
    // the reader: another process reading the pipe 4 KiB at a time, 3 ms apart, counting what arrives
    const reader = spawn(
      process.execPath,
      [
        "-e",
        `const fs = require("fs"); const buf = Buffer.alloc(4096); const chunks = [];
         for (;;) {
           let n;
           try { n = fs.readSync(0, buf, 0, buf.length, null); } catch (e) { if (e.code === "EAGAIN") { n = -1; } else throw e; }
           if (n === 0) break;
           if (n > 0) chunks.push(Buffer.from(buf.subarray(0, n)));
           Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3);
         }
         process.stdout.write(Buffer.concat(chunks));`,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    const cli = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", reader.stdin, "pipe"] });
    reader.stdin.destroy(); // only the CLI holds the pipe's write end now: EOF when it exits
    let got = "";
    reader.stdout.on("data", (d: Buffer) => (got += d.toString()));
    const [status] = await Promise.all([
      new Promise<number | null>((resolve) => cli.on("exit", (code) => resolve(code))),
      new Promise((resolve) => reader.on("close", resolve)),
    ]);
    expect({ status, length: got.length }).toEqual({ status: 0, length: want.length });
    expect(got).toBe(want);
    expect(got).toMatch(/200 domain\(s\): 0 error\(s\)/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ["no TERM (cron, ssh host cmd)", undefined],
    ["TERM=dumb", "dumb"],
    ["TERM=xterm", "xterm"],
  ])("plan against a host that has a domain (test:///default), whatever the terminal: %s", (_what, term) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-bin-plan-"));
    const spec = path.join(dir, "spec.yaml");
    fs.writeFileSync(spec, "domains: [{ name: kpv-bin-plan }]\n");
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: term };
    if (term === undefined) delete env.TERM;
    const args = [spec, "--connect", "test:///default", "--host", path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json")];
    const r = spawnSync(process.execPath, [BIN, "plan", ...args, "--detailed-exitcode"], { encoding: "utf8", env, timeout: 60000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 2, stderr: "" });
    expect(r.stdout).toMatch(/create\s+kpv-bin-plan\nplan: 1 to create/);
    // an option before the command is plan's usage error: 1, never 2 (changes pending)
    const usage = spawnSync(process.execPath, [BIN, "--json", "plan", ...args, "--detailed-exitcode"], { encoding: "utf8", env });
    expect({ status: usage.status, stderr: usage.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(/unknown option '--json'/) });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a reader that goes away (kvm-paravirt --help | head -0) is not a crash: main's exit code stands", async () => {
    const child = spawn(process.execPath, [BIN, "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy(); // the read end is closed before the CLI writes: its writes fail with EPIPE
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
  });

  test("a module missing from the install is named, not reported as a missing build", () => {
    const r = run(fakePackage('"use strict";\nrequire("no-such-module-xyz");\nexports.main = async () => 0;\n'), ["--help"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^kvm-paravirt: cannot load module 'no-such-module-xyz' \(required by .*dist\/src\/cli\/main\.js\): reinstall the package \(npm install kvm-paravirt\); missing modules mean a broken install\n {2}Cannot find module 'no-such-module-xyz'\n$/,
    );
    expect(r.stderr).not.toMatch(/the build is missing/);
  });

  test("with no dist/ at all it says the build is missing", () => {
    const r = run(fakePackage(), ["--help"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^kvm-paravirt: the build is missing \(dist\/\)/);
  });

  test("any other load error is shown with its message, without a stack trace", () => {
    const r = run(fakePackage('"use strict";\nthrow new TypeError("boom while loading\\nsecond line");\n'), ["--help"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^kvm-paravirt: cannot load the CLI \(.*dist\/src\/cli\/main\.js\): boom while loading\nsecond line\n$/);
    expect(r.stderr).not.toMatch(/the build is missing|\n\s+at /);
  });

  test("main's exit code is the process's, even with a handle left open", () => {
    const r = run(
      fakePackage(
        '"use strict";\nexports.main = async () => { setInterval(() => undefined, 1000); process.stdout.write("done\\n"); return 3; };\n',
      ),
      [],
      15000,
    );
    expect({ status: r.status, stdout: r.stdout, signal: r.signal }).toEqual({ status: 3, stdout: "done\n", signal: null });
  });
});
