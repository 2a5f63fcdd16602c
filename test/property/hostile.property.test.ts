import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { runs } from "../helpers/runs";
import { XMLValidator } from "fast-xml-parser";
import YAML from "yaml";
import { FEATURES } from "../../src/catalog/features";
import { parseHostProfileJson } from "../../src/host/profile";
import { renderSpec } from "../../src/render-spec";
import { validateSpecObject } from "../../src/input/load";
import { xmlInvalidChar } from "../../src/input/schema";
import { DEBIAN12, ROOT } from "../helpers/specs";

/**
 * The fuzz tests of the issue "Safety": hostile strings in every field, lying host profiles,
 * every spelling of a PV property in cpu.features, and large outputs through a pipe.
 */

// characters XML cannot hold, markup, option-string separators and controls
const nasty = fc.constantFrom("\uFFFE", "\uFFFF", "\uD800", "\uDC00", "\u0000", "\u001b", "<", "&", ",", ",,", "'", '"', "\n", " ", "=");
const withNasty = fc.tuple(fc.string({ maxLength: 6 }), nasty, fc.string({ maxLength: 6 })).map(([a, n, b]) => `${a}${n}${b}`);

/** Every string-valued field a spec domain has, as [path, value setter]. */
const FIELDS: readonly [string, (v: string) => Record<string, unknown>][] = [
  ["name", (v) => ({ name: v })],
  ["machine", (v) => ({ machine: v })],
  ["cpu.model", (v) => ({ cpu: { model: v } })],
  ["cpu.features key", (v) => ({ cpu: { features: { [v]: true } } })],
  ["host.qemu", (v) => ({ host: { qemu: v } })],
  ["host.libvirt", (v) => ({ host: { libvirt: v } })],
  ["host.kernel", (v) => ({ host: { kernel: v } })],
  ["guest.kernel", (v) => ({ guest: { kernel: v } })],
];

/** What any rendered domain must satisfy, whatever went in. */
function assertSafeOutput(xml: string, args: readonly string[]) {
  if (!xml) return;
  expect(XMLValidator.validate(xml)).toBe(true);
  expect(xmlInvalidChar(xml)).toBeNull();
  for (const opt of ["-machine", "-cpu"]) {
    const v = args[args.indexOf(opt) + 1];
    // each item name=value or a bare name; no doubled comma (QEMU's -cpu parser does not honour ',,')
    expect(v).not.toMatch(/,,/);
    for (const item of v.split(",")) expect(item).toMatch(/^[A-Za-z0-9._-]+(=[A-Za-z0-9._-]+)?$/);
  }
}

describe("property: hostile input", () => {
  test("a hostile character in any string field is refused for that field, or renders safe output", () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS), withNasty, ([field, set], value) => {
        const domain = { name: "vm", ...set(value) };
        const loaded = validateSpecObject({ domains: [domain] });
        const d = renderSpec(loaded, DEBIAN12).domains[0];
        const errors = d.diagnostics.filter((x) => x.severity === "error");
        if (d.domainXml === "") expect(errors.length).toBeGreaterThan(0);
        else {
          expect(field).toBe("name"); // only a name can hold some of these (none of the dangerous ones)
          assertSafeOutput(d.domainXml, d.qemuArgs);
        }
      }),
      { numRuns: runs(1500) },
    );
  });

  test("a lying host profile is refused, or every rendering from it is safe", () => {
    const lie = fc.oneof(
      withNasty,
      fc.constantFrom("", "1e+23.0", "99999999999999999999.0", "qemu64,kvm=off", "<x/>"),
      fc.string({ maxLength: 12 }),
    );
    const profileArb = fc.record(
      {
        qemu: fc.oneof(fc.constantFrom("7.2.22", "10.2.0"), lie),
        libvirt: fc.oneof(fc.constant("9.0.0"), lie),
        kernel: fc.oneof(fc.constant("6.1.0-18-amd64"), lie),
        hostModel: fc.oneof(fc.constant("Skylake-Server-IBRS"), lie),
        machines: fc.array(
          fc.record(
            { name: fc.oneof(fc.constantFrom("pc-q35-7.2", "pc-i440fx-7.2"), lie), alias: fc.constantFrom("q35", "pc") },
            { requiredKeys: ["name"] },
          ),
          {
            maxLength: 3,
          },
        ),
        kvm: fc.record({
          available: fc.boolean(),
          supported: fc.array(fc.oneof(fc.constantFrom(...FEATURES.map((f) => f.qemu)), lie), { maxLength: 4 }),
        }),
      },
      { requiredKeys: ["qemu"] },
    );
    let accepted = 0;
    fc.assert(
      fc.property(profileArb, fc.constantFrom("custom", "host-model", "host-passthrough"), (profile, mode) => {
        const r = parseHostProfileJson(JSON.stringify(profile));
        if (!("profile" in r)) return;
        accepted++;
        const spec = validateSpecObject({ domains: [{ name: "vm", cpu: { mode }, machine: "q35" }] });
        for (const d of renderSpec(spec, r.profile).domains) assertSafeOutput(d.domainXml, d.qemuArgs);
      }),
      { numRuns: 1500 }, // full under mutation too: the count of accepted profiles below needs it
    );
    expect(accepted).toBeGreaterThan(10); // the property saw real renderings, not only refusals
  });

  test("any '-'/'_' spelling of any PV property in cpu.features is refused and names its paravirt key", () => {
    const spelling = fc.tuple(fc.constantFrom(...FEATURES), fc.array(fc.boolean(), { minLength: 8, maxLength: 8 })).map(([f, flips]) => {
      let i = 0;
      return { f, name: f.qemu.replace(/-/g, () => (flips[i++ % flips.length] ? "_" : "-")) };
    });
    fc.assert(
      fc.property(spelling, fc.boolean(), ({ f, name }, value) => {
        const d = validateSpecObject({ domains: [{ name: "vm", cpu: { features: { [name]: value } } }] }).domains[0];
        expect(d.spec).toBeNull();
        expect(d.diagnostics.map((x) => x.message)).toContain(`${name} is a PV feature: set paravirt.${f.specKey} instead`);
      }),
      { numRuns: runs(500) },
    );
  });

  test("render --json of a large fleet arrives whole through a pipe into a consumer", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-pipe-"));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 100, max: 1500 }), async (n) => {
        const file = path.join(dir, `fleet-${n}.yaml`);
        fs.writeFileSync(
          file,
          YAML.stringify({ domains: Array.from({ length: n }, (_, i) => ({ name: `vm-${i}`, paravirt: { pvIpi: i % 2 === 0 } })) }),
        );
        // kvm-paravirt render --json FILE | cat
        const cli = spawn(process.execPath, [path.join(ROOT, "bin/kvm-paravirt.js"), "render", file, "--json"], {
          stdio: ["ignore", "pipe", "ignore"],
        });
        const cat = spawn("cat", [], { stdio: ["pipe", "pipe", "ignore"] });
        cli.stdout.pipe(cat.stdin);
        let out = "";
        cat.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
        const [code] = await Promise.all([new Promise((r) => cli.on("close", r)), new Promise((r) => cat.on("close", r))]);
        expect(code).toBe(0);
        expect(out.length).toBeGreaterThan(65536);
        const doc = JSON.parse(out);
        expect(doc.domains).toHaveLength(n);
        expect(doc.domains[n - 1].name).toBe(`vm-${n - 1}`);
      }),
      { numRuns: runs(4) },
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
