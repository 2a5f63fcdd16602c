import { spawnSync } from "node:child_process";
import path from "node:path";
import YAML from "yaml";
import { FEATURES } from "../../src/catalog/features";
import { parseHostProfileJson } from "../../src/host/profile";
import { renderSpec } from "../../src/render-spec";
import { formatPath, LIMITS, parseSpecText, validateSpecObject } from "../../src/input/load";
import { describeWith } from "../helpers/env";
import { DEBIAN12, ROOT } from "../helpers/specs";

/**
 * Hostile input (issue "Safety"): every way around the prediction and every string
 * libvirt or QEMU would read differently is refused, with a diagnostic that names the field.
 */

const errorsOf = (domain: Record<string, unknown>) =>
  validateSpecObject({ domains: [domain] })
    .domains[0].diagnostics.filter((d) => d.severity === "error")
    .map((d) => `${d.path}: ${d.message}`);

describe("one path for every PV property", () => {
  // every spelling QEMU's -cpu parser accepts for a PV property: the name, underscores, a mix
  const spellings = FEATURES.flatMap((f) => [
    [f.qemu, f.specKey],
    [f.qemu.replace(/-/g, "_"), f.specKey],
    [f.qemu.replace(/-/, "_"), f.specKey],
  ]).filter(([s], i, all) => all.findIndex(([t]) => t === s) === i);

  test.each(spellings)("cpu.features.%s is refused and names paravirt.%s", (spelling, key) => {
    const errors = errorsOf({ name: "a", cpu: { features: { [spelling]: true } } });
    const at = formatPath(["domains", 0, "cpu", "features", spelling]);
    expect(errors).toEqual([`${at}: ${spelling} is a PV feature: set paravirt.${key} instead`]);
  });

  test("the 8 underscore spellings that used to slip through are among them", () => {
    for (const s of [
      "kvm_pv_ipi",
      "kvm_pv_tlb_flush",
      "kvm_asyncpf_vmexit",
      "kvm_pv_sched_yield",
      "kvm_msi_ext_dest_id",
      "kvmclock_stable_bit",
      "kvm_hint_dedicated",
      "kvm_pv_enforce_cpuid",
    ])
      expect(spellings.map(([x]) => x)).toContain(s);
  });

  test("x2apic in any spelling has its own field", () => {
    expect(errorsOf({ name: "a", cpu: { features: { x2apic: false } } })).toEqual([
      "domains[0].cpu.features.x2apic: x2apic has its own field: set x2apic instead",
    ]);
  });

  test.each([
    ["host", "host-passthrough"],
    ["max", "maximum"],
  ])("cpu.model %s in custom mode is refused: it is the %s mode", (model, mode) => {
    expect(errorsOf({ name: "a", cpu: { mode: "custom", model } })).toEqual([
      `domains[0].cpu.model: ${model} is not a CPU model but a passthrough mode: use cpu.mode ${mode} (without a model)`,
    ]);
    expect(errorsOf({ name: "a", cpu: { model } })).toHaveLength(1);
  });
});

describeWith(["qemu"], "the spellings are QEMU's own (asked of QEMU, TCG, paused)", () => {
  // QEMU reads an underscore spelling as the property; an unknown name is refused. So refusing
  // these in cpu.features closes a real bypass, not a hypothetical one.
  const start = (cpu: string) =>
    spawnSync(
      "qemu-system-x86_64",
      ["-S", "-nodefaults", "-display", "none", "-accel", "tcg", "-machine", "q35", "-cpu", cpu, "-qmp", "stdio"],
      {
        input: '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n',
        encoding: "utf8",
        timeout: 30000,
      },
    );
  test.each(["kvm_pv_ipi", "kvm_pv_tlb_flush", "kvmclock_stable_bit", "kvm-pv_ipi"])("-cpu qemu64,%s=on is accepted", (spelling) => {
    const r = start(`qemu64,${spelling}=on`);
    expect({ status: r.status, stderr: r.stderr.replace(/.*warning: .*\n/g, "") }).toEqual({ status: 0, stderr: "" });
  });
  test("an unknown property is refused (the check is not vacuous)", () => {
    const r = start("qemu64,kvm_pv_nonsense=on");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/kvm-pv-nonsense/);
  });
});

describe("strings that XML cannot hold are refused", () => {
  test.each([
    ["U+FFFE", "a\uFFFEb"],
    ["U+FFFF", "a\uFFFFb"],
    ["a lone high surrogate", "a\uD800b"],
    ["a lone low surrogate", "a\uDC00"],
  ])("a domain name with %s", (what, name) => {
    const errors = errorsOf({ name });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^domains\\[0\\]\\.name: domain name contains ${what.startsWith("U+") ? what.replace("+", "\\+") : "U\\+D[8C]00"}, which XML`,
      ),
    );
    // and nothing is rendered for it
    expect(renderSpec(validateSpecObject({ domains: [{ name }] }), DEBIAN12).domains[0].domainXml).toBe("");
  });

  test("a name outside the BMP is fine (a proper surrogate pair)", () => {
    expect(errorsOf({ name: "vm-\u{1F600}" })).toEqual([]);
  });
});

describe("versions and machine types are bounded", () => {
  test.each([
    ["host.qemu", { host: { qemu: "100000000000000000000000.0" } }, "domains[0].host.qemu"],
    ["host.qemu with a suffix", { host: { qemu: "7.2<x/>" } }, "domains[0].host.qemu"],
    ["host.kernel with markup", { host: { kernel: "6.1<x/>" } }, "domains[0].host.kernel"],
    ["a machine version", { machine: "pc-q35-99999999999999999999999.0" }, "domains[0].machine"],
    ["a machine named like a JavaScript built-in", { machine: "constructor" }, "domains[0].machine"],
  ])("%s", (_what, fields, path) => {
    const errors = errorsOf({ name: "a", ...fields });
    expect(errors).toHaveLength(1);
    expect(errors[0].startsWith(`${path}: `)).toBe(true);
  });
});

describe("host profiles are validated like user input", () => {
  const base = JSON.parse(JSON.stringify(DEBIAN12)) as Record<string, unknown>;
  test.each([
    ["a hostModel with a comma (QEMU's -cpu parser does not honour ',,')", { hostModel: "qemu64,kvm=off" }, "hostModel"],
    ["an empty machine name", { machines: [{ name: "" }] }, "machines.0.name"],
    ["a machine name with markup", { machines: [{ name: "<x/>" }] }, "machines.0.name"],
    ["a machine name with a control character", { machines: [{ name: "pc-q35-7.2\u0007" }] }, "machines.0.name"],
    ["a machine alias with a comma", { machines: [{ name: "pc-q35-7.2", alias: "q35,accel=tcg" }] }, "machines.0.alias"],
    ["a huge QEMU version", { qemu: "1e+23.0" }, "qemu"],
    ["a KVM property name with a comma", { kvm: { available: true, supported: ["kvm-pv-ipi,kvm=off"] } }, "kvm.supported.0"],
  ])("%s is refused", (_what, change, path) => {
    const r = parseHostProfileJson(JSON.stringify({ ...base, ...change }));
    expect(r).toMatchObject({ error: "schema", path });
  });

  test("the example profile and a probe's output still parse", () => {
    expect(parseHostProfileJson(JSON.stringify(base))).toHaveProperty("profile");
    expect(parseHostProfileJson(JSON.stringify({ formatVersion: "1.0", ...base }))).toHaveProperty("profile");
  });
});

describe("no user value can put a comma into a QEMU option string", () => {
  test("every -machine and -cpu value of the example fleet splits into name=value items the renderer wrote", () => {
    const fleet = parseSpecText(
      "domains:\n" +
        ["qemu64", "Skylake-Server"].map((m, i) => `  - name: d${i}\n    cpu: { model: ${m}, features: { pcid: true } }\n`).join("") +
        "  - name: hm\n    cpu: { mode: host-model }\n",
    );
    for (const d of renderSpec(fleet, DEBIAN12).domains) {
      const args = d.qemuArgs;
      for (const opt of ["-machine", "-cpu"]) {
        const v = args[args.indexOf(opt) + 1];
        expect(v).not.toMatch(/,,/);
        for (const item of v.split(",").slice(1)) expect(item).toMatch(/^[A-Za-z0-9._-]+=[A-Za-z0-9._-]+$/);
      }
    }
  });
});

describe("bounded work: size limits and linear checks", () => {
  test("a repeated key is found in any mapping, with its line, in one pass", () => {
    const l = parseSpecText("domains:\n  - name: a\n    paravirt: { pvIpi: true, pvEoi: true, pvIpi: false }\n");
    expect(l.unreadable).toBe(true);
    expect(l.diagnostics[0].message).toBe('not valid YAML or JSON at line 3, column 43: map keys must be unique ("pvIpi" is repeated)');
  });

  test("a mapping with 60,000 keys is read (each a diagnostic), not refused or stuck", () => {
    let text = "domains: [{ name: a }]\nhosts:\n";
    for (let i = 0; i < 60_000; i++) text += `  k${i}: qemu:///system\n`;
    const l = parseSpecText(text);
    expect(l.unreadable).toBe(false);
    expect(l.diagnostics.filter((d) => d.path.startsWith("hosts.k"))).toHaveLength(60_000);
  });

  test("more than 8 MiB of spec text is refused before parsing", () => {
    const text = `domains: []\n#${"x".repeat(LIMITS.specBytes)}\n`;
    const l = parseSpecText(text);
    expect(l).toMatchObject({ unreadable: true, diagnostics: [{ code: "spec-too-large" }] });
  });

  test("more than 20,000 domains are refused, naming the limit", () => {
    const l = validateSpecObject({ domains: Array.from({ length: LIMITS.domains + 1 }, (_, i) => ({ name: `d${i}` })) });
    expect(l.diagnostics).toEqual([
      {
        severity: "error",
        code: "spec-too-large",
        path: "domains",
        message: expect.stringMatching(/^the spec has 20001 domains; at most 20000/),
      },
    ]);
    expect(validateSpecObject({ domains: Array.from({ length: LIMITS.domains }, (_, i) => ({ name: `d${i}` })) }).unreadable).toBe(false);
  });

  test("an endless input file (/dev/zero) is refused after 8 MiB, exit 2, no stack trace", () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, "bin/kvm-paravirt.js"), "render", "/dev/zero"], {
      encoding: "utf8",
      timeout: 60000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^kvm-paravirt: cannot read spec \/dev\/zero: larger than 8388608 bytes \(8 MiB\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("names that are JavaScript built-ins are names like any other", () => {
  const names = ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"];
  test("they validate, render, and map to hosts", () => {
    const l = validateSpecObject(
      YAML.parse(
        `domains: [${names.map((n) => `{ name: ${n} }`).join(", ")}]\nhosts: { constructor: "test:///default", __proto__: "test:///default" }\n`,
      ),
    );
    expect([...l.diagnostics, ...l.domains.flatMap((d) => d.diagnostics)]).toEqual([]);
    expect(l.domains.map((d) => d.spec?.name)).toEqual(names);
    expect([...l.hosts.keys()].sort()).toEqual(["__proto__", "constructor"]);
  });

  test("a __proto__ key inside a domain is an unknown field, not a way to inject settings", () => {
    const l = parseSpecText("domains:\n  - name: a\n    __proto__: { paravirt: { hidden: true } }\n");
    expect(l.domains[0].diagnostics.map((d) => `${d.code} ${d.path}`)).toEqual(["spec-unknown-field domains[0].__proto__"]);
    expect(l.domains[0].spec).toBeNull();
  });

  test("a bad URI for __proto__ is reported at hosts.__proto__", () => {
    const l = validateSpecObject(YAML.parse(`domains: [{ name: __proto__ }]\nhosts: { __proto__: "" }\n`));
    expect(l.diagnostics.map((d) => d.path)).toEqual(["hosts.__proto__"]);
  });
});
