import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { XMLParser } from "fast-xml-parser";
import { resolveDomain } from "../../src/analyze";
import { renderDomainXml } from "../../src/libvirt/domain-xml";
import { qemuOptValue } from "../../src/render/qemu-args";
import { renderSpec, specHasErrors } from "../../src/render-spec";
import { validateSpecObject } from "../../src/input/load";
import { whyNot } from "../helpers/env";
import { DEBIAN12, exampleSpecs, renderFile } from "../helpers/specs";

/**
 * Renderer snapshots. The snapshotted XML and arguments are the ones the QEMU
 * and libvirt oracles start for real (test/oracle/examples.test.ts), and every
 * XML is checked here with libvirt's own schema (virt-xml-validate).
 */
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" });

function renderOne(domain: Record<string, unknown>) {
  const r = renderSpec(validateSpecObject({ domains: [domain] }), DEBIAN12).domains[0];
  if (!r.domainXml) throw new Error(JSON.stringify(r.diagnostics));
  return r;
}

describe("renderers", () => {
  test.each(exampleSpecs().map((f) => [path.basename(f), f]))("snapshot: %s", (_name, file) => {
    const out = renderFile(file);
    for (const d of out.domains) {
      expect(d.domainXml).toMatchSnapshot(`${d.name} domain XML`);
      expect(d.qemuArgs).toMatchSnapshot(`${d.name} QEMU args`);
    }
  });

  test("explicit settings use libvirt's element where it works and -global where it does not", () => {
    const d = renderOne({
      name: "t",
      irqchip: "split",
      paravirt: { pvEoi: false, pvUnhalt: true, pvIpi: true, pvTlbFlush: true, hintDedicated: true, hidden: false, kvmclock: false },
    });
    const dom = parser.parse(d.domainXml).domain;
    expect(dom.features.apic).toEqual({ "@_eoi": "off" });
    expect(dom.features.pvspinlock).toEqual({ "@_state": "on" });
    expect(dom.features.kvm).toEqual({ "hint-dedicated": { "@_state": "on" }, hidden: { "@_state": "off" } });
    expect(dom.features.ioapic).toEqual({ "@_driver": "qemu" });
    expect(dom.clock.timer).toEqual({ "@_name": "kvmclock", "@_present": "no" });
    expect(dom["qemu:commandline"]["qemu:arg"].map((a: { "@_value": string }) => a["@_value"])).toEqual([
      "-global",
      "x86_64-cpu.kvm-pv-tlb-flush=on",
      "-global",
      "x86_64-cpu.kvm-pv-ipi=on",
    ]);
    expect(d.qemuArgs).toEqual([
      "-accel",
      "kvm,kernel-irqchip=split",
      "-machine",
      "pc-q35-7.2",
      "-cpu",
      "qemu64,kvmclock=off,kvm-pv-eoi=off,kvm-pv-unhalt=on,kvm-pv-tlb-flush=on,kvm-pv-ipi=on,kvm-hint-dedicated=on,kvm=on",
      "-smp",
      "1",
      "-m",
      "1024M",
    ]);
  });

  test("a no-op libvirt element is used alone only when QEMU arrives at that value by itself", () => {
    const hostOn = parser.parse(
      renderOne({ name: "t", cpu: { mode: "host-passthrough" }, paravirt: { pvIpi: true, pollControl: false } }).domainXml,
    ).domain;
    expect(hostOn.features.kvm).toEqual({ "pv-ipi": { "@_state": "on" } }); // host passthrough turns it on anyway
    expect(hostOn["qemu:commandline"]["qemu:arg"][1]).toEqual({ "@_value": "x86_64-cpu.kvm-poll-control=off" });
  });

  test("irqchip off goes through -machine in the QEMU namespace", () => {
    const dom = parser.parse(renderOne({ name: "t", irqchip: "off" }).domainXml).domain;
    expect(dom["qemu:commandline"]["qemu:arg"]).toEqual([{ "@_value": "-machine" }, { "@_value": "kernel-irqchip=off" }]);
  });

  test("TCG renders domain type qemu and no irqchip", () => {
    const d = renderOne({ name: "t", accel: "tcg", irqchip: "split", cpu: { mode: "maximum" } });
    expect(parser.parse(d.domainXml).domain["@_type"]).toBe("qemu");
    expect(d.qemuArgs.slice(0, 2)).toEqual(["-accel", "tcg"]);
  });

  test("names with shell metacharacters are escaped by the XML builder and survive a round trip", () => {
    const name = "web;$(touch${IFS}x)|`id`*?!#~{}";
    const d = renderOne({ name });
    expect(parser.parse(d.domainXml).domain.name).toBe(name);
  });

  test("other CPU features: required or disabled as declared, after the model and x2apic", () => {
    const xml = renderOne({
      name: "f",
      x2apic: true,
      cpu: { mode: "custom", model: "Haswell", features: { "arch-capabilities": false, pdpe1gb: true } },
    }).domainXml;
    const cpu = /<cpu [\s\S]*?<\/cpu>/.exec(xml)![0];
    expect(cpu.split("\n").map((l) => l.trim())).toEqual([
      '<cpu mode="custom" match="exact" check="none">',
      '<model fallback="forbid">Haswell</model>',
      '<feature policy="require" name="x2apic"/>',
      '<feature policy="disable" name="arch-capabilities"/>',
      '<feature policy="require" name="pdpe1gb"/>',
      "</cpu>",
    ]);
  });

  test("a new domain's UUID is written right after its name (every later call addresses it by UUID)", () => {
    const d = validateSpecObject({ domains: [{ name: "u" }] }).domains[0].spec!;
    const xml = renderDomainXml(resolveDomain(d, DEBIAN12), { uuid: "5a1c0000-0000-4000-8000-0000000000aa" });
    expect(xml).toMatch(/^<domain type="kvm">\n {2}<name>u<\/name>\n {2}<uuid>5a1c0000-0000-4000-8000-0000000000aa<\/uuid>\n/);
    expect(renderDomainXml(resolveDomain(d, DEBIAN12))).not.toContain("<uuid>");
  });

  test("QEMU option values escape commas", () => {
    expect(qemuOptValue("a,b,,c")).toBe("a,,b,,,,c");
  });

  const noValidator = whyNot(["virt-xml-validate"]);
  // under CI=true a missing validator is a failure, not a skip
  (noValidator && process.env.CI !== "true" ? test.skip : test)(
    `every example renders XML that libvirt's schema accepts${noValidator ? ` (SKIPPED: ${noValidator})` : ""}`,
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-xml-"));
      let n = 0;
      for (const file of exampleSpecs())
        for (const d of renderFile(file).domains) {
          const f = path.join(dir, `${n++}.xml`);
          fs.writeFileSync(f, d.domainXml);
          const r = spawnSync("virt-xml-validate", [f, "domain"], { encoding: "utf8" });
          expect({ name: d.name, status: r.status, out: r.stdout + r.stderr }).toEqual({
            name: d.name,
            status: 0,
            out: `${f} validates\n`,
          });
        }
      fs.rmSync(dir, { recursive: true, force: true });
      expect(n).toBeGreaterThanOrEqual(5);
    },
  );
});

describe("renderSpec over a file", () => {
  const file = validateSpecObject({
    domains: [
      { name: "good", paravirt: { pvEoi: true } },
      { name: "bad", vcpus: 0 },
      { name: "refused", accel: "tcg", paravirt: { pvIpi: true } },
    ],
  });

  test("an invalid domain renders nothing and keeps its own diagnostics; the others render, paths prefixed by their index", () => {
    const out = renderSpec(file, DEBIAN12);
    const [good, bad, refused] = out.domains;
    expect(bad).toMatchObject({ name: "bad", domainXml: "", qemuArgs: [], features: {} });
    expect(bad.diagnostics.map((d) => d.path)).toEqual(["domains[1].vcpus"]);
    expect(good.domainXml).toContain(`<apic eoi="on"/>`);
    expect(good.diagnostics.every((d) => d.path.startsWith("domains[0]."))).toBe(true);
    expect(refused.diagnostics.find((d) => d.code === "pv-features-under-tcg")?.path).toBe("domains[2].paravirt.pvIpi");
  });

  test("specHasErrors: one domain with an error is enough; warnings and infos are not", () => {
    expect(specHasErrors(renderSpec(file, DEBIAN12))).toBe(true);
    const fine = validateSpecObject({ domains: [{ name: "a" }, { name: "b", paravirt: { pvIpi: true } }] });
    const rendered = renderSpec(fine, DEBIAN12);
    expect(rendered.domains.flatMap((d) => d.diagnostics).some((d) => d.severity === "warning")).toBe(true);
    expect(specHasErrors(rendered)).toBe(false);
    const oneBad = validateSpecObject({ domains: [{ name: "a" }, { name: "b", accel: "tcg", paravirt: { pvIpi: true } }] });
    expect(specHasErrors(renderSpec(oneBad, DEBIAN12))).toBe(true);
  });
});
