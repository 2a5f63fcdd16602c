import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { main, type Io } from "../../src/cli/main";
import { ROOT } from "../helpers/specs";

/** The CLI front end: output formats and exit codes (0 ok, 1 error diagnostics, 2 unreadable input or usage). */

const PROFILE = path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json");
const FLEET = path.join(ROOT, "examples/fleet.yaml");

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

describe("kvm-paravirt CLI", () => {
  test("render --json has exactly the documented shape", async () => {
    const r = await run(["render", FLEET, "--host", PROFILE, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual(["domains"]);
    for (const d of j.domains) {
      expect(Object.keys(d)).toEqual(["name", "domainXml", "qemuArgs", "features", "diagnostics"]);
      expect(typeof d.domainXml).toBe("string");
      expect(d.qemuArgs.every((a: unknown) => typeof a === "string")).toBe(true);
      for (const f of Object.values(d.features) as Record<string, unknown>[]) {
        expect(Object.keys(f)).toEqual(["enabled", "source", "reason"]);
        expect(["default", "explicit", "host-passthrough", "implied", "dropped"]).toContain(f.source);
      }
      for (const x of d.diagnostics) expect(Object.keys(x)).toEqual(["severity", "code", "message", "path"]);
    }
    // QEMU 7.2 has every catalog property but kvm-asyncpf-vmexit (9.0)
    expect(Object.keys(j.domains[0].features)).toHaveLength(17);
    expect(j.domains[0].features["kvm-pv-ipi"]).toEqual({ enabled: true, source: "explicit", reason: "set on" });
  });

  test("render (human) shows every feature with value, source and reason, then diagnostics, then XML and args on request", async () => {
    const r = await run(["render", FLEET, "--host", PROFILE, "--xml", "--args"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/domain web-1\n\s+FEATURE\s+VALUE\s+SOURCE\s+REASON\n\s+kvmclock\s+on\s+explicit\s+set on/);
    expect(r.out).toMatch(/kvm-pv-unhalt\s+on\s+host-passthrough\s+host passthrough turns on every PV feature/);
    expect(r.out).toMatch(/diagnostics:\n\s+warning libvirt-custom-argv/);
    expect(r.out).toMatch(/qemu args:\n\s+-accel kvm -machine pc-q35-7.2 -cpu qemu64,kvmclock=on/);
    expect(r.out).toMatch(/domain XML:\n\s+<domain type="kvm"/);
    expect(r.out).toMatch(/5 domain\(s\): 0 error\(s\)/);
  });

  test("error diagnostics exit 1; validate prints diagnostics only", async () => {
    const spec = "domains: [{name: a, paravirt: {msiExtDestId: true}}]";
    const r = await run(["validate", "s.yaml", "--host", PROFILE], { "s.yaml": spec });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/error\s+msi-ext-dest-id-needs-split-irqchip\s+domains\[0\]\.paravirt\.msiExtDestId/);
    expect(r.out).not.toMatch(/FEATURE/);
    const j = JSON.parse((await run(["validate", "s.yaml", "--json"], { "s.yaml": spec })).out);
    expect(Object.keys(j.domains[0])).toEqual(["name", "diagnostics"]);
  });

  test("spec errors exit 1 and name the field", async () => {
    const r = await run(["render", "s.yaml", "--json"], { "s.yaml": "domains: [{name: a, paravirt: {pvIPI: true}}]" });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).domains[0].diagnostics[0]).toMatchObject({ code: "spec-unknown-feature", path: "domains[0].paravirt.pvIPI" });
  });

  test.each([
    ["no arguments", [], /Usage:/],
    ["unknown command", ["deploy"], /unknown command "deploy"/],
    ["unknown option", ["render", FLEET, "--jsn"], /Unknown option '--jsn'/],
    ["missing file", ["render", "/nonexistent.yaml"], /cannot read spec \/nonexistent.yaml: no such file/],
    ["two files", ["render", FLEET, FLEET], /exactly one FILE/],
    ["bad host profile", ["render", FLEET, "--host", FLEET], /host profile .* is not valid JSON/],
  ])("usage errors exit 2: %s", async (_what, argv, message) => {
    const r = await run(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.out + r.err).toMatch(message);
  });

  test("a host profile with a wrong field names it", async () => {
    const r = await run(["render", FLEET, "--host", "p.json"], { "p.json": JSON.stringify({ qemu: "seven" }) });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/host profile p.json: qemu: a QEMU version such as 7.2.0/);
  });

  test.each([
    ["empty", ""],
    ["malformed YAML", "domains: [{name: a"],
  ])("unreadable spec (%s) exits 2 with a diagnostic", async (_what, text) => {
    const r = await run(["render", "s.yaml", "--json"], { "s.yaml": text });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).diagnostics[0].severity).toBe("error");
  });

  test("rules and catalog list every code and feature", async () => {
    const rules = JSON.parse((await run(["rules", "--json"])).out);
    expect(rules.map((x: { code: string }) => x.code)).toContain("msi-ext-dest-id-needs-split-irqchip");
    const cat = JSON.parse((await run(["catalog", "--json"])).out);
    expect(cat).toHaveLength(18);
  });

  test("the installed bin prints no stack trace for bad input", () => {
    const bin = path.join(ROOT, "bin/kvm-paravirt.js");
    if (!fs.existsSync(path.join(ROOT, "dist/src/cli/main.js"))) throw new Error("dist/ is missing: run npm run build (npm ci does it)");
    const r = spawnSync(process.execPath, [bin, "render", "/nonexistent.yaml"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^kvm-paravirt: cannot read spec/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const ok = spawnSync(process.execPath, [bin, "render", FLEET, "--host", PROFILE, "--json"], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).domains).toHaveLength(5);
  });
});

describe("kvm-paravirt check (usage)", () => {
  test.each([
    ["no --policy", ["check", FLEET], /check needs --policy POLICY/],
    ["a FILE and --connect", ["check", FLEET, "--connect", "test:///default", "--policy", "p.json"], /exactly one FILE, or --connect URI instead/],
    ["a bad policy file", ["check", FLEET, "--policy", "p.json"], /p.json: unknown policy "nope"/],
  ])("%s exits 2", async (_w, argv, message) => {
    const r = await run(argv as string[], { "p.json": '{"nope": "mandatory"}' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  test("advisory-only violations exit 0, mandatory ones 1", async () => {
    const spec = { "s.yaml": "domains: [{name: a, paravirt: {hidden: true}}]" };
    expect((await run(["check", "s.yaml", "--policy", "adv.json"], { ...spec, "adv.json": '{"all": "advisory"}' })).code).toBe(0);
    const r = await run(["check", "s.yaml", "--policy", "man.json", "--json"], { ...spec, "man.json": '{"hidden-signature": "mandatory"}' });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ domains: 1, mandatory: 1 });
  });
});
