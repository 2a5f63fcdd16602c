import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { main, type Io } from "../../src/cli/main";
import { parseSpecText } from "../../src/input/load";
import { applyDomain } from "../../src/live/apply";
import { planDomain } from "../../src/live/plan";
import { withVirshSession } from "../../src/system/virsh-session";

/**
 * The CLI's host commands (plan, apply, import, check --connect, probe --connect) run in
 * this process against libvirt's test driver, so their views and exit codes are tested
 * without libvirtd (and Stryker's mutants of src/cli reach them). `test:///default` starts
 * empty of our domains every time; `test:///FILE` starts from the domains FILE holds: here a
 * domain the tool defined (`t1`, running, kvm-pv-ipi off), dumped from the test driver.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-cli-live-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const DEFAULT = "test:///default";
const NODE = path.join(dir, "node.xml");
const HOST = `test://${NODE}`;
const UNREACHABLE = "qemu+tcp://127.0.0.1:1/system";
/** libvirt 9.0 emits nothing for <pv-ipi state='on'/>, so the tool sets it through <qemu:commandline> and says so */
const PV_IPI_WARNING =
  "warning [libvirt-custom-argv] paravirt: set through <qemu:commandline>, so libvirt marks the domain tainted (custom-argv): kvm-pv-ipi=on (libvirt's <pv-ipi> emits nothing for this value)";

const T1 = "domains:\n  - { name: t1, memoryMiB: 128, paravirt: { pvIpi: false } }\n";
const T1_CHANGED =
  "domains:\n  - { name: t1, memoryMiB: 256, paravirt: { pvIpi: true }, autostart: true, disks: [{ target: vdb, file: /tmp/x.img }] }\n";

async function run(argv: string[], files: Record<string, string> = {}) {
  let out = "";
  let err = "";
  const io: Io = {
    out: (s) => (out += s + "\n"),
    err: (s) => (err += s + "\n"),
    readFile: (p) => (p in files ? files[p] : fs.readFileSync(p, "utf8")),
  };
  const code = await main(argv, io);
  return { code, out, err };
}

beforeAll(async () => {
  // t1 as `apply` defines it, then the test driver's own dump of it (and of its default network)
  const spec = parseSpecText(T1).domains[0].spec!;
  const dumped = await withVirshSession(DEFAULT, undefined, async (s) => {
    const plan = await planDomain(s, DEFAULT, spec, undefined, undefined);
    const r = await applyDomain(s, plan, spec, "never", undefined);
    if (r.outcome !== "defined") throw new Error(`test driver refused t1: ${r.error}`);
    return [(await s.run(["dumpxml", "--domain", "t1"])).stdout, (await s.run(["net-dumpxml", "default"])).stdout];
  });
  fs.writeFileSync(NODE, `<node>\n${dumped.join("\n")}</node>\n`);
});

describe("plan on the test driver", () => {
  test("a new domain: create; exit 0, 2 with --detailed-exitcode", async () => {
    const r = await run(["plan", "s.yaml", "--connect", DEFAULT], { "s.yaml": T1 });
    expect(r).toMatchObject({
      code: 0,
      out: "host test:///default\n  create           t1\nplan: 1 to create, 0 to update, 0 unchanged, 0 delete candidate(s)\n",
    });
    expect(r.err).toBe("");
    expect((await run(["plan", "s.yaml", "--connect", DEFAULT, "--detailed-exitcode"], { "s.yaml": T1 })).code).toBe(2);
  });

  test("the domain as defined: unchanged; --detailed-exitcode 0", async () => {
    const r = await run(["plan", "s.yaml", "--connect", HOST, "--detailed-exitcode"], { "s.yaml": T1 });
    expect(r).toMatchObject({
      code: 0,
      out: `host ${HOST}\n  unchanged        t1\nplan: 0 to create, 0 to update, 1 unchanged, 0 delete candidate(s)\n`,
    });
  });

  test("an update shows each field, feature and device change, the restart, autostart", async () => {
    const r = await run(["plan", "s.yaml", "--connect", HOST, "--detailed-exitcode"], { "s.yaml": T1_CHANGED });
    expect(r.code).toBe(2);
    expect(r.out).toBe(
      [
        `host ${HOST}`,
        "  update           t1  [restart needed]",
        `      ${PV_IPI_WARNING}`,
        "      memoryMiB: 128 -> 256",
        '      paravirt: {"pvIpi":false} -> {"pvIpi":true}',
        "      FEATURE     CURRENT         DESIRED",
        "      kvm-pv-ipi  off (explicit)  on (explicit)",
        "      DEVICE    CHANGE  ON A RUNNING DOMAIN",
        "      disk:vdb  add     hot-pluggable (applied at the next start)",
        "      autostart: on",
        "plan: 0 to create, 1 to update, 0 unchanged, 0 delete candidate(s)",
        "",
      ].join("\n"),
    );
    const j = JSON.parse((await run(["plan", "s.yaml", "--connect", HOST, "--json"], { "s.yaml": T1_CHANGED })).out);
    expect(Object.keys(j)).toEqual(["formatVersion", "hosts"]);
    const d = j.hosts[0].domains[0];
    expect(d).not.toHaveProperty("desiredXml");
    expect(d).toMatchObject({ domain: "t1", action: "update", restartNeeded: true, autostart: true });
    expect(d.featureChanges).toEqual([
      { feature: "kvm-pv-ipi", current: expect.objectContaining({ enabled: false }), desired: expect.objectContaining({ enabled: true }) },
    ]);
  });

  test("a domain's warnings (as validate and the Pulumi preview give them), under it; JSON: warnings", async () => {
    const spec = { "s.yaml": "domains:\n  - { name: w1, irqchip: split, paravirt: { msiExtDestId: true } }\n  - { name: w2 }\n" };
    const warning =
      "warning [libvirt-custom-argv] paravirt: set through <qemu:commandline>, so libvirt marks the domain tainted (custom-argv): kvm-msi-ext-dest-id=on (libvirt has no element)";
    const r = await run(["plan", "s.yaml", "--connect", DEFAULT], spec);
    expect(r.out).toBe(
      `host test:///default\n  create           w1\n      ${warning}\n  create           w2\nplan: 2 to create, 0 to update, 0 unchanged, 0 delete candidate(s)\n`,
    );
    const j = JSON.parse((await run(["plan", "s.yaml", "--connect", DEFAULT, "--json"], spec)).out);
    expect(j.hosts[0].domains.map((d: { warnings: unknown[] }) => d.warnings)).toEqual([
      [{ code: "libvirt-custom-argv", path: "paravirt", message: expect.stringContaining("kvm-msi-ext-dest-id=on") }],
      [],
    ]);
    const a = await run(["apply", "s.yaml", "--connect", DEFAULT], spec);
    expect(a.out).toBe(
      `defined   test:///default w1\n  ${warning}\ndefined   test:///default w2\napply: 2 defined, 0 unchanged, 0 failed\n`,
    );
    const aj = JSON.parse((await run(["apply", "s.yaml", "--connect", DEFAULT, "--json"], spec)).out);
    expect(aj.results.map((x: { warnings: unknown[] }) => x.warnings.length)).toEqual([1, 0]);
  });

  test("more than 20 domains on a host: progress every 20, on stderr", async () => {
    const spec = `domains:\n${Array.from({ length: 41 }, (_, i) => `  - { name: p${i} }\n`).join("")}`;
    const r = await run(["plan", "s.yaml", "--connect", DEFAULT], { "s.yaml": spec });
    expect(r.code).toBe(0);
    expect(r.err).toBe("plan: test:///default: 0/41\nplan: test:///default: 20/41\nplan: test:///default: 40/41\n");
    expect(r.out).toMatch(/^plan: 41 to create, /m);
  });

  test("a domain recorded with a feature on that is off now: DRIFT, with the line saying so", async () => {
    const file = path.join(dir, "drift.xml");
    // the record says kvm-pv-ipi was on when defined; the definition has it off
    const xml = fs
      .readFileSync(NODE, "utf8")
      .replace(/ off="([^"]*)kvm-pv-ipi ([^"]*)"/, ' off="$1$2"')
      .replace(/ on="/, ' on="kvm-pv-ipi ');
    expect(xml).toMatch(/ on="kvm-pv-ipi /);
    fs.writeFileSync(file, xml);
    const r = await run(["plan", "s.yaml", "--connect", `test://${file}`], { "s.yaml": T1 });
    // drift is a change: apply writes the definition (and its record) again
    expect(r.out).toContain("  update           t1  [restart needed, DRIFT]\n      drift: kvm-pv-ipi was on when defined, is off now\n");
  });

  test("run state and autostart alone are changes: 'then:' and 'autostart:' lines; --detailed-exitcode 2", async () => {
    const created = await run(["plan", "s.yaml", "--connect", DEFAULT], {
      "s.yaml": "domains:\n  - { name: r1, runState: running }\n  - { name: r2, runState: paused }\n",
    });
    expect(created.out).toContain("  create           r1\n      then: start\n  create           r2\n      then: start paused\n");
    for (const [extra, line] of [
      ["autostart: true", "      autostart: on\n"],
      ["runState: paused", "      then: pause\n"],
    ]) {
      const spec = `domains:\n  - { name: t1, memoryMiB: 128, paravirt: { pvIpi: false }, ${extra} }\n`;
      const r = await run(["plan", "s.yaml", "--connect", HOST, "--detailed-exitcode"], { "s.yaml": spec });
      expect([extra, r.code, r.out]).toEqual([
        extra,
        2,
        `host ${HOST}\n  unchanged        t1\n${line}plan: 0 to create, 0 to update, 1 unchanged, 0 delete candidate(s)\n`,
      ]);
    }
  });

  test("one domain that cannot be planned is an error (exit 1) beside others that can", async () => {
    const spec = "domains:\n  - { name: ok1 }\n  - { name: bad1, paravirt: { msiExtDestId: true } }\n";
    const r = await run(["plan", "s.yaml", "--connect", DEFAULT, "--detailed-exitcode"], { "s.yaml": spec });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^ {2}create {11}bad1 {2}\[ERROR paravirt\.msiExtDestId: \[msi-ext-dest-id-needs-split-irqchip\] /m);
    expect(r.out).toMatch(/^ {2}create {11}ok1\n/m);
  });

  test("an unreachable host is an error (exit 1), even with --detailed-exitcode and changes elsewhere", async () => {
    const spec = `domains:\n  - { name: t1 }\n  - { name: t9 }\nhosts:\n  t1: "${DEFAULT}"\n  t9: "${UNREACHABLE}"\n`;
    const r = await run(["plan", "s.yaml", "--detailed-exitcode"], { "s.yaml": spec });
    expect(r.code).toBe(1);
    expect(r.out).toContain("  create           t1\n");
    expect(r.out).toMatch(new RegExp(`^host ${UNREACHABLE.replace(/[+.]/g, "\\$&")}: ERROR \\S`, "m"));
  });

  test("an invalid spec is an error before any host is asked", async () => {
    const r = await run(["plan", "s.yaml", "--connect", DEFAULT], { "s.yaml": "domains:\n  - { name: t1, vcpus: 0 }\n" });
    expect(r).toMatchObject({ code: 1, out: "" });
    expect(r.err).toMatch(/^s\.yaml:\n.*vcpus/);
  });

  test("--timeout takes seconds in (0, 86400]", async () => {
    for (const bad of ["0", "-1", "86401", "x"]) {
      const r = await run(["plan", "s.yaml", "--connect", DEFAULT, "--timeout", bad], { "s.yaml": T1 });
      expect([bad, r.code, r.err]).toEqual([bad, 1, expect.stringContaining("expected a number of seconds between 0 and 86400")]);
    }
    expect((await run(["plan", "s.yaml", "--connect", DEFAULT, "--timeout", "86400"], { "s.yaml": T1 })).code).toBe(0);
    // seconds, not milliseconds: a second is plenty for the test driver
    expect((await run(["plan", "s.yaml", "--connect", DEFAULT, "--timeout", "1"], { "s.yaml": T1 })).code).toBe(0);
  });
});

describe("apply on the test driver", () => {
  test("a new domain is defined; the human and JSON views", async () => {
    const r = await run(["apply", "s.yaml", "--connect", DEFAULT], { "s.yaml": T1 });
    expect(r).toMatchObject({ code: 0, out: "defined   test:///default t1\napply: 1 defined, 0 unchanged, 0 failed\n" });
    const j = JSON.parse((await run(["apply", "s.yaml", "--connect", DEFAULT, "--json"], { "s.yaml": T1 })).out);
    expect(j).toEqual({
      formatVersion: "1.2",
      results: [
        { uri: DEFAULT, domain: "t1", action: "create", outcome: "defined", restarted: false, restartPending: false, warnings: [] },
      ],
    });
  });

  test("unchanged, then a CPU change to the running domain: pending without --restart, restarted with if-needed", async () => {
    expect((await run(["apply", "s.yaml", "--connect", HOST], { "s.yaml": T1 })).out).toBe(
      `unchanged ${HOST} t1\napply: 0 defined, 1 unchanged, 0 failed\n`,
    );
    expect((await run(["apply", "s.yaml", "--connect", HOST], { "s.yaml": T1_CHANGED })).out).toBe(
      `defined   ${HOST} t1 (restart pending: runs with its old CPU)\n  ${PV_IPI_WARNING}\napply: 1 defined, 0 unchanged, 0 failed\n`,
    );
    expect((await run(["apply", "s.yaml", "--connect", HOST, "--restart", "if-needed"], { "s.yaml": T1_CHANGED })).out).toBe(
      `defined   ${HOST} t1 (restarted)\n  ${PV_IPI_WARNING}\napply: 1 defined, 0 unchanged, 0 failed\n`,
    );
  });

  test("a host that fails: its domains fail, exit 1", async () => {
    const r = await run(["apply", "s.yaml", "--connect", UNREACHABLE], { "s.yaml": T1 });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      new RegExp(`^failed    ${UNREACHABLE.replace(/[+.]/g, "\\$&")} t1: \\S.*\napply: 0 defined, 0 unchanged, 1 failed\n$`),
    );
  });

  test("--restart takes never or if-needed; unknown options are usage errors (exit 1)", async () => {
    for (const argv of [["--restart", "always"], ["--restart-if-needed"]]) {
      const r = await run(["apply", "s.yaml", "--connect", DEFAULT, ...argv], { "s.yaml": T1 });
      expect([argv, r.code, r.out]).toEqual([argv, 1, ""]);
    }
  });
});

describe("import on the test driver", () => {
  test("the spec that reproduces a live domain, as YAML or JSON", async () => {
    const r = await run(["import", "t1", "--connect", HOST]);
    expect(r).toMatchObject({ code: 0, out: "domains:\n  - name: t1\n    memoryMiB: 128\n    machine: q35\n" });
    const j = JSON.parse((await run(["import", "t1", "--connect", HOST, "--json"])).out);
    expect(j).toEqual({ formatVersion: "1.2", spec: { domains: [{ name: "t1", memoryMiB: 128, machine: "q35" }] }, notes: [] });
  });

  test("what cannot be carried over is noted: on stderr (human), in notes (JSON)", async () => {
    const file = path.join(dir, "noop-pv-ipi.xml");
    fs.writeFileSync(file, fs.readFileSync(NODE, "utf8").replace("<pv-ipi state='off'/>", "<pv-ipi state='on'/>"));
    const r = await run(["import", "t1", "--connect", `test://${file}`]);
    expect(r).toMatchObject({ code: 0, out: "domains:\n  - name: t1\n    memoryMiB: 128\n    machine: q35\n" });
    expect(r.err).toBe("import: t1: features.pv-ipi: <pv-ipi state='on'/> is kept by libvirt but emits nothing: ignored\n");
    const j = await run(["import", "t1", "--connect", `test://${file}`, "--json"]);
    expect(j.err).toBe("");
    expect(JSON.parse(j.out).notes).toEqual([
      {
        severity: "info",
        code: "import-not-carried",
        message: "<pv-ipi state='on'/> is kept by libvirt but emits nothing: ignored",
        path: "t1: features.pv-ipi",
      },
    ]);
  });

  test("a domain that is not there: exit 1, named", async () => {
    const r = await run(["import", "nope", "--connect", HOST]);
    expect(r).toMatchObject({ code: 1, out: "" });
    expect(r.err).toBe(`kvm-paravirt: ${HOST} has no domain named "nope"\n`);
  });

  test("--connect is required", async () => {
    const r = await run(["import", "t1"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/required option '--connect <uri>' not specified/);
  });
});

describe("check's arguments", () => {
  test("neither FILE nor --connect: a usage error", async () => {
    const r = await run(["check", "--policy", "p.json"], { "p.json": "{}" });
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toMatch(/^kvm-paravirt: check takes exactly one FILE, or --connect URI instead\n/);
  });

  test("a policy file that is not there is named", async () => {
    const r = await run(["check", "s.yaml", "--policy", path.join(dir, "nope.json")], { "s.yaml": T1 });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^kvm-paravirt: cannot read policy ${dir}/nope\\.json: no such file\n`));
  });
});

describe("host reads that fail say why, without a stack trace", () => {
  test("probe --connect to a host that is not QEMU's", async () => {
    const r = await run(["probe", "--connect", DEFAULT]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^probe: test:\/\/\/default: /m);
    expect(r.err).toMatch(/^kvm-paravirt: cannot read host facts over test:\/\/\/default: not a QEMU host/m);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  test("check --connect audits the live domains", async () => {
    const r = await run(["check", "--connect", HOST, "--policy", "p.json", "--json"], { "p.json": '{"all": "advisory"}' });
    expect(r.code).toBe(0);
    expect(r.err).toBe("check: reading 1/1: t1\n");
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ domains: 1, mandatory: 0, unchecked: [] });
  });
});
