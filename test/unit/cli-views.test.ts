import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { main, type Io } from "../../src/cli/main";
import { formatProfile } from "../../src/cli/format";
import { processIo, readText } from "../../src/cli/io";
import { parseHostProfileJson } from "../../src/host/profile";
import { ROOT } from "../helpers/specs";

/**
 * What the CLI prints, whole: each command's help (a snapshot: options, defaults, descriptions),
 * the human views of validate, check and xslt, and how input files are read (bounded,
 * directories and missing files named).
 */

const PROFILE = path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json");

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

const COMMANDS = ["render", "validate", "check", "plan", "apply", "import", "xslt", "probe", "catalog", "rules"];

describe("help", () => {
  test.each(COMMANDS)("%s --help", async (command) => {
    const r = await run([command, "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatchSnapshot();
  });

  test("--help: the commands and the exit codes", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatchSnapshot();
  });

  test("a usage error: one line without commander's 'error:', the command's usage, where its help is", async () => {
    const r = await run(["render", "x.yaml", "--bogus"]);
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toBe(
      "kvm-paravirt: unknown option '--bogus'\nUsage: kvm-paravirt render [options] <file>\nRun kvm-paravirt render --help for its options.\n",
    );
    const top = await run(["nope"]);
    expect(top.code).toBe(2);
    expect(top.err).toBe("kvm-paravirt: unknown command 'nope'\nRun kvm-paravirt --help for the commands.\n");
  });

  test("--version and -V: the package's version, exit 0", async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) expect(await run([flag])).toEqual({ code: 0, out: `${version}\n`, err: "" });
  });

  test("no arguments: the program's help on stderr, exit 2", async () => {
    const r = await run([]);
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toBe((await run(["--help"])).out);
  });
});

describe("views", () => {
  const SPEC = "domains:\n  - { name: a, paravirt: { hidden: true } }\n  - { name: b, paravirt: { pvIpi: false } }\n";

  const POLICY = "all: disabled\nhidden-signature: mandatory\nrequired-features: { enforcementLevel: advisory, features: [kvm-pv-ipi] }\n";

  test("check: the violations table, the count line; exit 1 on a mandatory one", async () => {
    const r = await run(["check", "s.yaml", "--host", PROFILE, "--policy", "p.yaml"], { "s.yaml": SPEC, "p.yaml": POLICY });
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      [
        "DOMAIN  POLICY             LEVEL      FEATURE     VIOLATION",
        "a       required-features  advisory   kvm-pv-ipi  kvm-pv-ipi is required but effectively off (implied: hidden: true clears every KVM PV bit). Fix: set paravirt.pvIpi: true",
        "a       hidden-signature   mandatory  kvm         the KVM signature is hidden (hidden: true), which removes every PV feature from the guest. Fix: remove paravirt.hidden, or allow it in this policy's config",
        "b       required-features  advisory   kvm-pv-ipi  kvm-pv-ipi is required but effectively off (explicit: set off). Fix: set paravirt.pvIpi: true",
        "2 domain(s): 1 mandatory and 2 advisory violation(s), 0 not checked",
        "",
      ].join("\n"),
    );
    const j = JSON.parse(
      (await run(["check", "s.yaml", "--host", PROFILE, "--policy", "p.yaml", "--json"], { "s.yaml": SPEC, "p.yaml": POLICY })).out,
    );
    expect(j).toMatchObject({ domains: 2, mandatory: 1, advisory: 2 });
  });

  test("check: no violations, one line; exit 0", async () => {
    const r = await run(["check", "s.yaml", "--host", PROFILE, "--policy", "p.yaml"], {
      "s.yaml": "domains: [{ name: a }]\n",
      "p.yaml": "all: disabled\nhidden-signature: mandatory\n",
    });
    expect(r).toMatchObject({ code: 0, out: "1 domain(s): 0 mandatory and 0 advisory violation(s), 0 not checked\n" });
  });

  test("check: a domain that does not validate is listed as not checked, exit 1", async () => {
    const r = await run(["check", "s.yaml", "--host", PROFILE, "--policy", "p.yaml"], {
      "s.yaml": "domains:\n  - { name: a, vcpus: 0 }\n",
      "p.yaml": "all: disabled\n",
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /^not checked: a: domains\[0\]\.vcpus: \S.*\n1 domain\(s\): 0 mandatory and 0 advisory violation\(s\), 1 not checked\n$/,
    );
  });

  test("check: an unreadable spec exits 2 with its diagnostics", async () => {
    const r = await run(["check", "s.yaml", "--policy", "p.yaml"], { "s.yaml": "domains: [", "p.yaml": "all: advisory\n" });
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toMatch(/^error\s/m);
  });

  test("validate: each domain's diagnostics under its name, then the count", async () => {
    const r = await run(["validate", "s.yaml", "--host", PROFILE], {
      "s.yaml": "domains:\n  - { name: a }\n  - { name: b, paravirt: { msiExtDestId: true } }\n",
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^domain a\n {2}info {4}asyncpf-inert {2}domains\[0\]\.paravirt\.asyncpfInt\n/);
    expect(r.out).toMatch(/\ndomain b\n {2}error {3}msi-ext-dest-id-needs-split-irqchip {2}domains\[1\]\.paravirt\.msiExtDestId\n/);
    expect(r.out).toMatch(/\n2 domain\(s\): 1 error\(s\), 1 warning\(s\), 4 note\(s\)\n$/);
    const j = JSON.parse((await run(["validate", "s.yaml", "--host", PROFILE, "--json"], { "s.yaml": "domains: [{ name: a }]\n" })).out);
    expect(Object.keys(j)).toEqual(["formatVersion", "domains"]);
    expect(Object.keys(j.domains[0])).toEqual(["name", "diagnostics"]);
  });

  test("render: --xml and --args add the domain XML and the QEMU arguments", async () => {
    const spec = { "s.yaml": "domains: [{ name: a }]\n" };
    const plain = await run(["render", "s.yaml", "--host", PROFILE], spec);
    const xml = await run(["render", "s.yaml", "--host", PROFILE, "--xml"], spec);
    const args = await run(["render", "s.yaml", "--host", PROFILE, "--args"], spec);
    expect(plain.code).toBe(0);
    expect(plain.out).not.toContain("domain XML:");
    expect(plain.out).not.toContain("-cpu ");
    expect(xml.out).toContain('  domain XML:\n    <domain type="kvm">\n      <name>a</name>\n');
    expect(xml.out).not.toContain("-cpu ");
    expect(args.out).toContain("  qemu args:\n    -accel kvm -machine pc-q35-7.2 -cpu qemu64 -smp 1 -m 1024M\n");
    expect(args.out).not.toContain("domain XML:");
    expect(plain.out).toMatch(/\n\n1 domain\(s\): 0 error\(s\), 0 warning\(s\), 2 note\(s\)\n$/);
  });

  test("xslt: the stylesheet for the named domain; a missing one names those there are", async () => {
    const spec = { "s.yaml": "domains: [{ name: a }, { name: b, paravirt: { pvIpi: false } }]\n" };
    const ok = await run(["xslt", "s.yaml", "--domain", "b", "--host", PROFILE], spec);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^<xsl:stylesheet version="1.0" /);
    expect(ok.out).toContain("<!-- kvm-paravirt: settings of domain b;");
    expect(ok.out).toContain("pv-ipi");
    expect(ok.out).not.toBe((await run(["xslt", "s.yaml", "--domain", "a", "--host", PROFILE], spec)).out);
    const missing = await run(["xslt", "s.yaml", "--domain", "c"], spec);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('kvm-paravirt: s.yaml has no domain "c"; it has a, b\n');
    const none = await run(["xslt", "s.yaml", "--domain", "c"], { "s.yaml": "domains: []\n" });
    expect(none.err).toContain('has no domain "c"; it has none\n');
    const bad = await run(["xslt", "s.yaml", "--domain", "a"], { "s.yaml": "domains: [{ name: a, vcpus: 0 }]\n" });
    expect(bad).toMatchObject({ code: 1, out: "" });
    expect(bad.err).toMatch(/vcpus/);
    const broken = await run(["xslt", "s.yaml", "--domain", "a", "--host", PROFILE], {
      "s.yaml": "domains: [{ name: a, paravirt: { msiExtDestId: true } }]\n",
    });
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/^<xsl:stylesheet /);
  });
});

describe("tables", () => {
  test.each([["catalog"], ["rules"]])("%s: its human table", async (command) => {
    const r = await run([command]);
    expect(r.code).toBe(0);
    expect(r.out).toMatchSnapshot();
  });

  test("probe's human view of a host profile (the example, probed on these machines)", () => {
    const r = parseHostProfileJson(fs.readFileSync(PROFILE, "utf8"));
    if (!("profile" in r)) throw new Error("the example profile does not parse");
    expect(formatProfile(r.profile)).toMatchSnapshot();
    const bare = formatProfile({ ...r.profile, libvirt: undefined, kvm: undefined, hostModel: undefined, cpuModels: undefined });
    expect(bare).toMatchSnapshot();
    const without = formatProfile({
      ...r.profile,
      kvm: { available: false, supported: [], enforceCpuid: false },
      cpuModels: [
        { name: "qemu64", usable: true },
        { name: "EPYC", usable: false },
      ],
      machines: [],
    });
    expect(without.split("\n").slice(3, 8)).toEqual([
      "/dev/kvm                  missing or not accessible",
      "enforce-cpuid capability  no",
      "host-model CPU            kvm64",
      "CPU models                1 of 2 usable (virsh domcapabilities)",
      "machine aliases           unknown",
    ]);
    expect(without).toMatch(/\n {2}kvmclock +not offered\n/);
  });
});

describe("input files", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-io-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const LIMIT = 8 * 1024 * 1024;

  test("a file is read whole, up to 8 MiB; one byte more is refused", () => {
    const exact = path.join(dir, "exact");
    fs.writeFileSync(exact, Buffer.alloc(LIMIT, "a"));
    expect(processIo.readFile(exact)).toHaveLength(LIMIT);
    const small = path.join(dir, "small");
    fs.writeFileSync(small, "domains: []\n");
    expect(processIo.readFile(small)).toBe("domains: []\n");
    const over = path.join(dir, "over");
    fs.writeFileSync(over, Buffer.alloc(LIMIT + 1, "a"));
    expect(() => processIo.readFile(over)).toThrow("larger than 8388608 bytes (8 MiB), the limit for an input file");
  });

  test.each([
    ["a missing file", "nope.yaml", "cannot read spec DIR/nope.yaml: no such file"],
    ["a directory", "sub", "cannot read spec DIR/sub: is a directory"],
  ])("%s is named, with why", (_w, name, message) => {
    fs.mkdirSync(path.join(dir, "sub"), { recursive: true });
    const file = path.join(dir, name);
    expect(() => readText(processIo, file, "spec")).toThrow(message.replace("DIR", dir));
  });

  test("another reason to fail is given as the system says it", () => {
    expect(() => readText(processIo, "/etc/hostname/x", "spec")).toThrow(
      "cannot read spec /etc/hostname/x: ENOTDIR: not a directory, open '/etc/hostname/x'",
    );
  });

  test("each file read is closed again (no descriptor leaks over many reads)", () => {
    const file = path.join(dir, "small");
    fs.writeFileSync(file, "x");
    const open = () => fs.readdirSync("/proc/self/fd").length;
    const before = open();
    for (let i = 0; i < 50; i++) processIo.readFile(file);
    expect(open()).toBeLessThan(before + 5);
  });

  test("a --host profile that is not JSON, or not a profile, is a usage error naming the file", async () => {
    const spec = { "s.yaml": "domains: [{ name: a }]\n" };
    const notJson = await run(["render", "s.yaml", "--host", "h.json"], { ...spec, "h.json": "{" });
    expect(notJson.code).toBe(2);
    expect(notJson.err).toMatch(/^kvm-paravirt: host profile h\.json is not valid JSON: /);
    const bad = await run(["render", "s.yaml", "--host", "h.json"], { ...spec, "h.json": '{"qemu": 7}' });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^kvm-paravirt: host profile h\.json: qemu: .* \(write it with `kvm-paravirt probe --json`\)\n/);
  });

  test("through the CLI: exit 2, the reason, no stack", async () => {
    const r = await run(["render", path.join(dir, "nope.yaml")]);
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toBe(`kvm-paravirt: cannot read spec ${dir}/nope.yaml: no such file\nRun kvm-paravirt render --help for usage.\n`);
  });
});
