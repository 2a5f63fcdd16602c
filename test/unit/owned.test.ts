import { escapeXml, parseDocument } from "../../src/libvirt/document";
import { ownedArgIndexes, ownedArgPair, ownedArgPairXPath, SLOTS, topologyFits, topologyFitsXPath } from "../../src/libvirt/owned";
import { describeWith } from "../helpers/env";
import { perNodeStylesheet, xsltproc } from "../helpers/xslt";

/**
 * What the merge and the XSLT own, tested on their own: the CPU topology a vCPU count keeps, the
 * QEMU arguments that are ours, the <clock> timers. Each JavaScript test has an XPath twin in the
 * exported XSLT; xsltproc evaluates the twin on the same inputs.
 */
const one = (xml: string) => parseDocument(xml)[0];

const TOPOLOGIES: readonly [string, number, boolean][] = [
  [`<topology sockets='1' dies='1' cores='2' threads='1'/>`, 2, true],
  [`<topology sockets='1' dies='1' cores='2' threads='1'/>`, 4, false],
  [`<topology sockets='2' dies='1' cores='2' threads='2'/>`, 8, true],
  [`<topology sockets='2' dies='1' cores='2' threads='2'/>`, 2, false],
  [`<topology sockets='2' dies='2' cores='1' threads='1'/>`, 4, true],
  [`<topology sockets='3' dies='1' cores='1' threads='2'/>`, 6, true],
  [`<topology sockets='3' dies='1' cores='1' threads='2'/>`, 3, false],
  // an attribute left out counts as 1 (libvirt's default)
  [`<topology cores='4'/>`, 4, true],
  [`<topology threads='2'/>`, 2, true],
  [`<topology sockets='2' threads='2'/>`, 4, true],
  [`<topology/>`, 1, true],
  [`<topology/>`, 2, false],
];

describe("topologyFits: a <topology> is kept only when it multiplies to the vCPU count", () => {
  test.each(TOPOLOGIES)("%s with %d vCPUs: %s", (xml, vcpus, fits) => {
    expect(topologyFits(one(xml), vcpus)).toBe(fits);
  });
});

const ARG_PAIRS: readonly [string, string, boolean][] = [
  ["-global", "x86_64-cpu.kvm-pv-eoi=on", true],
  ["-global", "x86_64-cpu.kvm_pv_eoi=off", true],
  ["-global", "qemu64-x86_64-cpu.kvm-pv-ipi=on", true],
  ["-global", "Skylake-Server-v1-x86_64-cpu.kvm-pv-tlb-flush=on", true],
  ["-global", "x86_64-cpu.kvmclock=off", true],
  // not a PV property, not the x86 CPU, a driver prefix with a character GLOBAL_RE refuses
  ["-global", "x86_64-cpu.pmu=off", false],
  ["-global", "virtio-net-pci.kvm-pv-eoi=on", false],
  ["-global", "my cpu x86_64-cpu.kvm-pv-eoi=on", false],
  ["-global", "x86_64-cpu.kvm-pv-eoi", false],
  ["-machine", "kernel-irqchip=split", true],
  ["-machine", "kernel_irqchip=off", true],
  ["-machine", "accel=tcg", false],
  ["-machine", "q35,kernel-irqchip=off", false],
  ["-machine", "xkernel-irqchip=on", false],
  ["-accel", "kernel-irqchip=on", false],
  ["-cpu", "x86_64-cpu.kvm-pv-eoi=on", false],
  ["-device", "x86_64-cpu.kvm-pv-eoi=on", false],
];

describe("ownedArgPair: the QEMU arguments that are ours (a PV -global, -machine kernel-irqchip=)", () => {
  test.each(ARG_PAIRS)("%s %s: %s", (flag, value, owned) => {
    expect(ownedArgPair(flag, value)).toBe(owned);
  });
});

describe("ownedArgIndexes: flag and value of each owned pair, in a <qemu:commandline>", () => {
  const commandline = (values: string[]) =>
    one(
      `<qemu:commandline xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">\n${values
        .map((v) => `  <qemu:arg value='${v}'/>\n`)
        .join("")}  <qemu:env name='X' value='-global'/>\n</qemu:commandline>`,
    );
  // child indexes count the indentation text nodes: the n-th <qemu:arg> is child 2n+1
  const argIndexes = (values: string[]) => [...ownedArgIndexes(commandline(values))].map((i) => (i - 1) / 2).sort((a, b) => a - b);

  test("owned pairs among foreign ones", () => {
    expect(argIndexes(["-S", "-global", "x86_64-cpu.kvm-pv-eoi=on", "-name", "x", "-machine", "kernel-irqchip=off"])).toEqual([1, 2, 5, 6]);
  });
  test("a trailing flag without its value, and a commandline without arguments, own nothing", () => {
    expect(argIndexes(["-name", "x", "-global"])).toEqual([]);
    expect(argIndexes([])).toEqual([]);
  });
});

describe("<clock>: only the catalog's timers are ours", () => {
  const clock = SLOTS.find((s) => s.parent.join("/") === "clock")!;
  test.each([
    [`<timer name='kvmclock' present='no'/>`, true],
    [`<timer name='rtc' tickpolicy='catchup'/>`, false],
    [`<timer name='hpet' present='no'/>`, false],
    [`<timer/>`, false],
    [`<other name='kvmclock'/>`, false],
  ])("%s: %s", (xml, owned) => {
    expect(clock.owns(one(xml))).toBe(owned);
  });
});

describeWith(["xsltproc"], "the XPath twins (the exported XSLT's) agree with the merge, as xsltproc evaluates them", () => {
  const lines = (xsl: string, xml: string) => {
    const r = xsltproc(xsl, xml);
    expect(r.stderr).toBe("");
    return r.stdout.split("\n").slice(0, -1);
  };
  test("topologyFitsXPath", () => {
    const xml = `<all>${TOPOLOGIES.map(([t, n]) => `<case n='${n}'>${t}</case>`).join("")}</all>`;
    const tests = [...new Set(TOPOLOGIES.map(([, n]) => n))]
      .map(
        (n) => `<xsl:if test="../@n = ${n}"><xsl:value-of select="boolean(self::topology[${escapeXml(topologyFitsXPath(n))}])"/></xsl:if>`,
      )
      .join("");
    expect(lines(perNodeStylesheet("/all/case/topology", tests), xml)).toEqual(TOPOLOGIES.map(([, , fits]) => String(fits)));
  });

  test("ownedArgPairXPath", () => {
    const xml = `<all>${ARG_PAIRS.map(([f, v]) => `<pair><flag value="${escapeXml(f)}"/><v value="${escapeXml(v)}"/></pair>`).join("")}</all>`;
    const value = `<xsl:value-of select="${escapeXml(ownedArgPairXPath("flag/@value", "v/@value"))}"/>`;
    expect(lines(perNodeStylesheet("/all/pair", value), xml)).toEqual(ARG_PAIRS.map(([, , owned]) => String(owned)));
  });
});
