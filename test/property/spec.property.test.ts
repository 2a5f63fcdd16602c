import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { runs } from "../helpers/runs";
import { XMLParser } from "fast-xml-parser";
import { SPEC_KEYS } from "../../src/catalog/features";
import { renderSpec } from "../../src/render-spec";
import { parseSpecText, validateSpecObject } from "../../src/input/load";
import { whyNot } from "../helpers/env";
import { DEBIAN12 } from "../helpers/specs";

/** Random specs never crash the tool, and every accepted spec renders schema-valid, consistent output. */

const domainArb = fc.record(
  {
    vcpus: fc.integer({ min: 1, max: 300 }),
    memoryMiB: fc.integer({ min: 16, max: 65536 }),
    machine: fc.constantFrom("q35", "pc", "pc-q35-5.1", "pc-i440fx-5.1", "pc-q35-7.2", "pc-q35-2.4", "pc-i440fx-10.0"),
    accel: fc.constantFrom("kvm", "tcg"),
    cpu: fc.oneof(
      fc.record(
        { mode: fc.constant("custom"), model: fc.constantFrom("qemu64", "kvm64", "Skylake-Server", "EPYC-Rome") },
        { requiredKeys: [] },
      ),
      fc.record(
        { mode: fc.constantFrom("host-passthrough", "host-model", "maximum"), check: fc.constantFrom("none", "partial", "full") },
        { requiredKeys: ["mode"] },
      ),
      fc.record({ features: fc.dictionary(fc.constantFrom("arch-capabilities", "vmx", "pcid", "ssse3"), fc.boolean()) }),
    ),
    irqchip: fc.constantFrom("kernel", "split", "off"),
    x2apic: fc.boolean(),
    paravirt: fc.dictionary(fc.constantFrom(...SPEC_KEYS), fc.boolean()),
    host: fc.record(
      { qemu: fc.constantFrom("5.2.0", "7.2.0", "9.1.0"), kernel: fc.constantFrom("4.19", "5.4", "6.1") },
      { requiredKeys: [] },
    ),
    guest: fc.record({ kernel: fc.constantFrom("3.10", "4.18", "5.15", "6.8") }),
  },
  { requiredKeys: [] },
);

const specArb = fc
  .array(domainArb, { minLength: 1, maxLength: 4 })
  .map((ds) => ({ domains: ds.map((d, i) => ({ name: `vm-${i}`, ...d })) }));
const hostArb = fc.constantFrom(DEBIAN12, undefined);
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_", isArray: (n) => n === "qemu:arg" });

describe("property: random specs", () => {
  test("arbitrary values as a spec never throw, and come back as diagnostics", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          // domain-shaped objects whose fields hold anything: the shape the validator must survive
          fc.array(
            fc.dictionary(
              fc.constantFrom("name", "vcpus", "machine", "cpu", "irqchip", "paravirt", "host", "guest", "x2apic", "junk"),
              fc.anything(),
            ),
          ),
        ),
        fc.anything(),
        (domains, defaults) => {
          const r = renderSpec(validateSpecObject({ domains, defaults }), DEBIAN12);
          for (const d of r.domains) for (const x of d.diagnostics) expect(["error", "warning", "info"]).toContain(x.severity);
        },
      ),
      { numRuns: runs(500) },
    );
  });

  test("arbitrary text as a spec file never throws", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        const l = parseSpecText(text);
        expect(l.unreadable || Array.isArray(l.domains)).toBe(true);
      }),
      { numRuns: runs(300) },
    );
  });

  test("every explicit setting reaches both renderings exactly once", () => {
    fc.assert(
      fc.property(specArb, hostArb, (spec, host) => {
        for (const d of renderSpec(validateSpecObject(spec), host).domains) {
          if (!d.domainXml) continue;
          const cpuArg = d.qemuArgs[d.qemuArgs.indexOf("-cpu") + 1].split(",").slice(1);
          const dom = parser.parse(d.domainXml).domain;
          const globals: string[] = (dom["qemu:commandline"]?.["qemu:arg"] ?? [])
            .map((a: { "@_value": string }) => a["@_value"])
            .filter((v: string) => v.startsWith("x86_64-cpu."));
          for (const [prop, f] of Object.entries(d.features)) {
            if (f.source !== "explicit" && f.source !== "dropped") continue;
            const inArgs = cpuArg.filter((a) => a.startsWith(`${prop}=`));
            expect(inArgs).toHaveLength(1);
            // in the XML: a -global, or libvirt's own element (not both)
            const asGlobal = globals.filter((g) => g.startsWith(`x86_64-cpu.${prop}=`));
            expect(asGlobal.length).toBeLessThanOrEqual(1);
            if (asGlobal.length) expect(asGlobal[0]).toBe(`x86_64-cpu.${inArgs[0]}`);
          }
        }
      }),
      { numRuns: runs(300) },
    );
  });

  const noValidator = whyNot(["virt-xml-validate"]);
  // under CI=true a missing validator is a failure, not a skip
  (noValidator && process.env.CI !== "true" ? test.skip : test)(
    `every accepted spec renders XML that passes virt-xml-validate${noValidator ? ` (SKIPPED: ${noValidator})` : ""}`,
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-prop-"));
      let checked = 0;
      try {
        fc.assert(
          fc.property(specArb, hostArb, (spec, host) => {
            const r = renderSpec(validateSpecObject(spec), host);
            for (const d of r.domains) {
              if (!d.domainXml) continue;
              const f = path.join(dir, `d${checked++}.xml`);
              fs.writeFileSync(f, d.domainXml);
              const v = spawnSync("virt-xml-validate", [f, "domain"], { encoding: "utf8" });
              if (v.status !== 0) throw new Error(`virt-xml-validate rejected:\n${d.domainXml}\n${v.stdout}${v.stderr}`);
            }
          }),
          { numRuns: runs(40) },
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      expect(checked).toBeGreaterThanOrEqual(runs(40));
    },
  );
});
