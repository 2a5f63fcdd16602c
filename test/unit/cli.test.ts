import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { main, type Io } from "../../src/cli/main";
import { parseHostProfileJson } from "../../src/host/profile";
import { renderSpec } from "../../src/render-spec";
import { parseSpecText } from "../../src/input/load";
import { describeWith } from "../helpers/env";
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
    expect(Object.keys(j)).toEqual(["formatVersion", "domains"]);
    expect(j.formatVersion).toBe("1.2");
    for (const d of j.domains) {
      expect(Object.keys(d)).toEqual(["name", "domainXml", "qemuArgs", "features", "resolved", "diagnostics"]);
      expect(Object.keys(d.resolved)).toEqual(["machine", "machineRequested", "accel", "cpu", "x2apic"]);
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

  test("render --json says what the features depend on: the alias resolved for the host, CPU mode and model, accelerator, x2apic", async () => {
    const spec = [
      "domains:",
      "  - { name: a, machine: q35 }",
      "  - { name: b, machine: pc-i440fx-1.7, cpu: { mode: custom, model: Westmere } }",
      "  - { name: c, accel: tcg, cpu: { mode: maximum } }",
      "  - { name: d, cpu: { mode: host-passthrough }, irqchip: off, paravirt: { asyncpfInt: false } }",
    ].join("\n");
    const r = await run(["render", "s.yaml", "--host", PROFILE, "--json"], { "s.yaml": spec });
    const j = JSON.parse(r.out) as { domains: { name: string; resolved: unknown }[] };
    expect(j.domains.map((d) => [d.name, d.resolved])).toEqual([
      ["a", { machine: "pc-q35-7.2", machineRequested: "q35", accel: "kvm", cpu: { mode: "custom", model: "qemu64" }, x2apic: true }],
      [
        "b",
        {
          machine: "pc-i440fx-1.7",
          machineRequested: "pc-i440fx-1.7",
          accel: "kvm",
          cpu: { mode: "custom", model: "Westmere" },
          x2apic: false,
        },
      ],
      ["c", { machine: "pc-q35-7.2", machineRequested: "q35", accel: "tcg", cpu: { mode: "maximum", model: "max" }, x2apic: false }],
      [
        "d",
        { machine: "pc-q35-7.2", machineRequested: "q35", accel: "kvm", cpu: { mode: "host-passthrough", model: "host" }, x2apic: false },
      ],
    ]);
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
    ["unknown command", ["deploy"], /unknown command 'deploy'/],
    [
      "unknown option",
      ["render", FLEET, "--jsn"],
      /unknown option '--jsn'\n\(Did you mean --json\?\)\nUsage: kvm-paravirt render \[options\] <file>/,
    ],
    [
      "another command's option",
      ["render", FLEET, "--restart", "bogus", "--domain", "x"],
      /unknown option '--restart'\nUsage: kvm-paravirt render/,
    ],
    ["an option before the command", ["--json", "render", FLEET], /unknown option '--json'/],
    ["an option without its value", ["validate", FLEET, "--host"], /option '--host <profile>' argument missing/],
    ["missing file", ["render", "/nonexistent.yaml"], /cannot read spec \/nonexistent.yaml: no such file/],
    ["two files", ["render", FLEET, FLEET], /too many arguments for 'render'/],
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
    expect(rules.rules.map((x: { code: string }) => x.code)).toContain("msi-ext-dest-id-needs-split-irqchip");
    const cat = JSON.parse((await run(["catalog", "--json"])).out);
    expect(cat.features).toHaveLength(18);
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
    ["no --policy", ["check", FLEET], /required option '--policy <file>' not specified/],
    [
      "a FILE and --connect",
      ["check", FLEET, "--connect", "test:///default", "--policy", "p.json"],
      /exactly one FILE, or --connect URI instead/,
    ],
    ["a bad policy file", ["check", FLEET, "--policy", "p.json"], /p.json: unknown policy "nope"/],
  ])("%s exits 2", async (_w, argv, message) => {
    const r = await run(argv as string[], { "p.json": '{"nope": "mandatory"}' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  test("advisory-only violations exit 0, mandatory ones 1", async () => {
    const spec = { "s.yaml": "domains: [{name: a, paravirt: {hidden: true}}]" };
    expect((await run(["check", "s.yaml", "--policy", "adv.json"], { ...spec, "adv.json": '{"all": "advisory"}' })).code).toBe(0);
    const r = await run(["check", "s.yaml", "--policy", "man.json", "--json"], {
      ...spec,
      "man.json": '{"hidden-signature": "mandatory"}',
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ domains: 1, mandatory: 1 });
  });

  test("{all: advisory, required-features: {features: [...]}}: the violation is advisory, exit 0", async () => {
    const r = await run(["check", "s.yaml", "--policy", "p.yaml", "--json"], {
      "s.yaml": "domains: [{name: a, paravirt: {pvIpi: false}}]",
      "p.yaml": "all: advisory\nrequired-features: {features: [kvm-pv-ipi]}\n",
    });
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ domains: 1, mandatory: 0 });
    expect(
      j.violations
        .filter((v: { policy: string }) => v.policy === "required-features")
        .map((v: { feature: string; enforcementLevel: string }) => [v.feature, v.enforcementLevel]),
    ).toEqual([["kvm-pv-ipi", "advisory"]]);
    expect(r.code).toBe(0);
  });
});

describe("kvm-paravirt CLI: per-command options, help, version", () => {
  test.each([
    ["render", ["--xml", "--args", "--host <profile>", "--json"], ["--restart", "--connect", "--policy"]],
    ["plan", ["--connect <uri>", "--detailed-exitcode", "--json"], ["--xml", "--restart", "--policy"]],
    ["apply", ["--restart <when>", "--connect <uri>"], ["--xml", "--detailed-exitcode"]],
    ["check", ["--policy <file>", "--connect <uri>"], ["--xml", "--restart"]],
  ])("%s --help lists its own options only, exit 0", async (command, has, hasNot) => {
    const r = await run([command, "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: kvm-paravirt ${command} \\[options\\]`));
    for (const o of has) expect(r.out).toContain(o);
    for (const o of hasNot) expect(r.out).not.toContain(o);
  });

  test("--help lists every command; --version prints the package version", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const c of ["render", "validate", "check", "plan", "apply", "import", "xslt", "probe", "catalog", "rules"])
      expect(help.out).toMatch(new RegExp(`\\n  ${c} `));
    const v = await run(["--version"]);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version);
  });

  test("a --connect that is not a libvirt URI is a usage error naming the option", async () => {
    const r = await run(["check", FLEET, "--policy", "p.json", "--connect", ""]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/option '--connect <uri>' argument '' is invalid\. expected a libvirt URI/);
  });
});

describe("kvm-paravirt plan: Terraform's exit codes (libvirt's test driver, no daemon)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-cli-plan-"));
  const spec = path.join(dir, "spec.yaml");
  fs.writeFileSync(spec, "domains:\n  - name: kpv-plan-a\n    paravirt: { pvUnhalt: true }\n");
  // a test-driver host that already has the domain exactly as rendered (the test driver reads its state from this file)
  const rendered = renderSpec(parseSpecText(fs.readFileSync(spec, "utf8")), parseProfile()).domains[0].domainXml;
  const nodeXml = path.join(dir, "node.xml");
  fs.writeFileSync(nodeXml, `<node>\n${rendered.replace(/<\?xml[^>]*\?>/, "")}\n</node>\n`);
  const empty = "test:///default";
  const same = `test://${nodeXml}`;

  test.each([
    ["changes, plain", 0, [spec, "--connect", empty]],
    ["changes, --detailed-exitcode", 2, [spec, "--connect", empty, "--detailed-exitcode"]],
    ["no changes, --detailed-exitcode", 0, [spec, "--connect", same, "--detailed-exitcode"]],
    ["a missing file", 1, ["/nonexistent.yaml", "--connect", empty, "--detailed-exitcode"]],
    ["an unknown option", 1, [spec, "--connect", empty, "--detailed-exitcode", "--xml"]],
    ["an unreachable host", 1, [spec, "--connect", "qemu+tcp://127.0.0.1:1/system", "--detailed-exitcode"]],
    ["no host for a domain", 1, [spec, "--detailed-exitcode"]],
  ])("%s: exit %d", async (_what, code, argv) => {
    const r = await run(["plan", ...(argv as string[]), "--host", PROFILE]);
    expect({ code: r.code, err: r.err }).toMatchObject({ code });
  });

  test("an error on one host and changes on another: --detailed-exitcode exits 1, the error wins over the changes", async () => {
    const argv = [spec, "--connect", empty, "--connect", "qemu+tcp://127.0.0.1:1/system", "--host", PROFILE];
    const j = JSON.parse((await run(["plan", ...argv, "--json"])).out);
    // both halves are there: one host plans a create, the other is an error
    expect(
      j.hosts.map((h: { uri: string; error?: string; domains: { action: string }[] }) => [
        h.uri,
        !!h.error,
        h.domains.map((d) => d.action),
      ]),
    ).toEqual([
      [empty, false, ["create"]],
      ["qemu+tcp://127.0.0.1:1/system", true, []],
    ]);
    expect((await run(["plan", ...argv, "--detailed-exitcode"])).code).toBe(1);
    expect((await run(["plan", ...argv.slice(0, 3), "--host", PROFILE, "--detailed-exitcode"])).code).toBe(2);
  });

  test.each([
    ["plan", ["--json", "plan", spec, "--connect", empty, "--detailed-exitcode"]],
    ["apply", ["--json", "apply", spec, "--connect", empty]],
    ["plan, after an unknown short option", ["-x", "plan", spec, "--connect", empty, "--detailed-exitcode"]],
  ])("an option before the command is a usage error: %s exits 1, never 2 (changes pending)", async (_what, argv) => {
    const r = await run(argv as string[]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unknown option '(--json|-x)'/);
  });

  test("apply refuses an unknown option (--restart-if-needed) with exit 1 and the usage line, and applies nothing", async () => {
    const r = await run(["apply", spec, "--connect", empty, "--restart-if-needed"]);
    expect({ code: r.code, out: r.out }).toEqual({ code: 1, out: "" });
    expect(r.err).toMatch(/unknown option '--restart-if-needed'[\s\S]*Usage: kvm-paravirt apply \[options\] <file>/);
  });

  test("plan --json: the documented shape with formatVersion; the human view is the same plan", async () => {
    const j = JSON.parse((await run(["plan", spec, "--connect", empty, "--host", PROFILE, "--json"])).out);
    expect(j.formatVersion).toBe("1.2");
    expect(
      j.hosts.map((h: { uri: string; domains: { domain: string; action: string }[] }) => [
        h.uri,
        h.domains.map((d) => `${d.domain} ${d.action}`),
      ]),
    ).toEqual([[empty, ["kpv-plan-a create"]]]);
    expect(j.hosts[0].domains[0]).not.toHaveProperty("desiredXml");
    const human = await run(["plan", spec, "--connect", same, "--host", PROFILE]);
    expect(human.out).toMatch(/host test:\/\/.*node\.xml\n\s+unchanged\s+kpv-plan-a\nplan: 0 to create, 0 to update, 1 unchanged/);
  });
});

describe("every JSON document carries formatVersion 1.1", () => {
  test.each([
    ["render", ["render", FLEET, "--host", PROFILE, "--json"]],
    ["validate", ["validate", FLEET, "--json"]],
    ["check", ["check", FLEET, "--policy", path.join(ROOT, "examples/policy/baseline.json"), "--host", PROFILE, "--json"]],
    ["catalog", ["catalog", "--json"]],
    ["rules", ["rules", "--json"]],
    ["an unreadable spec", ["render", "s.yaml", "--json"]],
  ])("%s", async (_what, argv) => {
    const r = await run(argv, { "s.yaml": "domains: [" });
    expect(JSON.parse(r.out).formatVersion).toBe("1.2");
  });
});

describe("the spec's hosts: section is validated by the spec loader, so validate and plan agree", () => {
  test.each([
    ["an empty URI", `hosts: { a: "" }`, "hosts.a", /a libvirt URI such as qemu:\/\/\/system/],
    ["an empty list", `hosts: { a: [] }`, "hosts.a", /at least one URI/],
    ["a URI with a space", `hosts: { a: "qemu:///sys tem" }`, "hosts.a", /a libvirt URI/],
    ["not a mapping", `hosts: [qemu:///system]`, "hosts", /hosts must map domain names to a libvirt URI or a list of URIs/],
    ["a domain the spec lacks", `hosts: { b: "qemu:///system" }`, "hosts.b", /hosts names a domain the spec does not have: b/],
    ["a JavaScript built-in name", `hosts: { constructor: "qemu:///system" }`, "hosts.constructor", /does not have: constructor/],
  ])("%s", async (_what, hosts, where, message) => {
    const files = { "s.yaml": `domains: [{ name: a }]\n${hosts}\n` };
    const v = await run(["validate", "s.yaml", "--json"], files);
    expect(v.code).toBe(1);
    const d = JSON.parse(v.out).diagnostics.find((x: { path: string }) => x.path === where);
    expect(d?.message).toMatch(message);
    const p = await run(["plan", "s.yaml", "--connect", "test:///default"], files);
    expect(p.code).toBe(1);
    expect(p.err).toContain(where);
    expect(p.err).toMatch(message);
  });

  test("the same --connect twice is one host (its domains are planned once)", async () => {
    const files = { "s.yaml": "domains: [{ name: a }]\n" };
    const j = JSON.parse(
      (await run(["plan", "s.yaml", "--connect", "test:///default", "--connect", "test:///default", "--json", "--host", PROFILE], files))
        .out,
    );
    expect(j.hosts.map((h: { uri: string; domains: unknown[] }) => [h.uri, h.domains.length])).toEqual([["test:///default", 1]]);
  });

  test("a valid hosts: section maps each domain to its URIs (a repeated URI counts once)", async () => {
    const files = {
      "s.yaml": `domains: [{ name: a }, { name: b }]\nhosts: { a: test:///default, b: [test:///default, test:///default] }\n`,
    };
    expect((await run(["validate", "s.yaml"], files)).code).toBe(0);
    const j = JSON.parse((await run(["plan", "s.yaml", "--json", "--host", PROFILE], files)).out);
    expect(j.hosts).toHaveLength(1);
    expect(j.hosts[0].domains.map((d: { domain: string; action: string }) => `${d.domain} ${d.action}`).sort()).toEqual([
      "a create",
      "b create",
    ]);
  });
});

function parseProfile() {
  const r = parseHostProfileJson(fs.readFileSync(PROFILE, "utf8"));
  if (!("profile" in r)) throw new Error("the example host profile does not parse");
  return r.profile;
}

describeWith(["qemu"], "probe --json is a --host file", () => {
  test("the probed profile carries formatVersion and render accepts it as --host (not a usage error)", async () => {
    const probe = await run(["probe", "--json", "--no-libvirt"]);
    expect(probe.code).toBe(0);
    const profile = JSON.parse(probe.out);
    expect(profile).toMatchObject({ formatVersion: "1.2", source: "probe" });
    const r = await run(["render", FLEET, "--host", "probed.json", "--json"], { "probed.json": probe.out });
    expect(r.code).not.toBe(2);
    expect(JSON.parse(r.out).domains).toHaveLength(5);
  });
});
