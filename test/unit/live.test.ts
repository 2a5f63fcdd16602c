import { XMLParser } from "fast-xml-parser";
import { readDomainXml } from "../../src/libvirt/read-domain";
import { mergeDefinition } from "../../src/libvirt/merge";
import { renderSpec } from "../../src/render-spec";
import { validateSpecObject } from "../../src/input/load";
import { virshQuote } from "../../src/system/virsh-session";
import { DEBIAN12 } from "../helpers/specs";

/** Reading definitions back, and merging a rendered definition into a live one (no libvirt needed). */
const render = (domain: Record<string, unknown>) =>
  renderSpec(validateSpecObject({ domains: [{ name: "vm", ...domain }] }), DEBIAN12).domains[0].domainXml;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" });

describe("reading a domain definition", () => {
  test("a rendered definition reads back as its spec (as written)", () => {
    const spec = {
      vcpus: 4,
      memoryMiB: 2048,
      irqchip: "split",
      x2apic: true,
      cpu: { mode: "custom", model: "Skylake-Server", features: { pcid: false } },
      paravirt: { pvIpi: true, pvUnhalt: true, pvTlbFlush: false, hidden: false, kvmclock: false },
    };
    const r = readDomainXml(render(spec), { asWritten: true });
    expect(r.domain).toEqual({
      name: "vm",
      vcpus: 4,
      memoryMiB: 2048,
      machine: "pc-q35-7.2",
      irqchip: "split",
      x2apic: true,
      cpu: { mode: "custom", model: "Skylake-Server", check: "none", features: { pcid: false } },
      paravirt: { pvIpi: true, pvUnhalt: true, pvTlbFlush: false, hidden: false, kvmclock: false },
    });
    expect(r.recorded?.["kvm-pv-ipi"]).toBe(true);
  });

  test("elements libvirt keeps but does not emit set nothing, as for QEMU", () => {
    const xml = `<domain type='kvm'><name>x</name><features><kvm><pv-ipi state='on'/><poll-control state='off'/><hint-dedicated state='on'/></kvm><pvspinlock state='off'/></features></domain>`;
    expect(readDomainXml(xml).domain.paravirt).toEqual({ hintDedicated: true, pvUnhalt: false });
    expect(readDomainXml(xml).notes.map((n) => n.message)).toEqual([
      expect.stringMatching(/pv-ipi state='on'/),
      expect.stringMatching(/poll-control state='off'/),
    ]);
    expect(readDomainXml(xml, { asWritten: true }).domain.paravirt).toEqual({
      pvIpi: true,
      pollControl: false,
      hintDedicated: true,
      pvUnhalt: false,
    });
  });

  test("hand-written -global entries count, and libvirt's element wins over them (it goes on -cpu)", () => {
    const xml = `<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>x</name><memory unit='KiB'>524288</memory><features><apic eoi='off'/></features>
      <qemu:commandline><qemu:arg value='-global'/><qemu:arg value='x86_64-cpu.kvm_pv_eoi=on'/><qemu:arg value='-global'/><qemu:arg value='qemu64-x86_64-cpu.kvm-steal-time=off'/><qemu:arg value='-machine'/><qemu:arg value='kernel_irqchip=off'/><qemu:arg value='-device'/><qemu:arg value='foo'/></qemu:commandline></domain>`;
    const r = readDomainXml(xml);
    expect(r.domain).toMatchObject({ memoryMiB: 512, irqchip: "off", paravirt: { pvEoi: false, stealTime: false } });
    expect(r.notes).toEqual([expect.objectContaining({ code: "import-not-carried", message: expect.stringMatching(/-device foo/) })]);
  });
});

describe("merging a rendered definition into a live one", () => {
  const live = `<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>vm</name><uuid>11111111-2222-3333-4444-555555555555</uuid>
  <metadata><app:info xmlns:app="http://example.com/app">keep</app:info></metadata>
  <memory unit='KiB'>1048576</memory><currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu placement='static' cpuset='0-3'>2</vcpu>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic eoi='off'/><vmport state='off'/><pvspinlock state='off'/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model><topology sockets='1' dies='1' cores='2' threads='1'/></cpu>
  <clock offset='utc'><timer name='rtc' tickpolicy='catchup'/><timer name='kvmclock' present='no'/></clock>
  <devices><disk type='file' device='disk'><source file='/x.qcow2'/><target dev='vda' bus='virtio'/></disk></devices>
  <qemu:commandline><qemu:arg value='-global'/><qemu:arg value='x86_64-cpu.kvm-pv-tlb-flush=on'/><qemu:arg value='-device'/><qemu:arg value='foo'/></qemu:commandline>
</domain>`;

  test("owned parts come from the rendering, everything else stays", () => {
    const merged = parser.parse(mergeDefinition(live, render({ vcpus: 2, paravirt: { pvIpi: true, pvUnhalt: true } }))).domain;
    expect(merged.uuid).toBe("11111111-2222-3333-4444-555555555555");
    expect(merged.metadata["app:info"]["#text"]).toBe("keep");
    expect(merged.metadata["kpv:paravirt"]).toBeDefined();
    expect(merged.currentMemory).toBeUndefined();
    expect(merged.vcpu).toEqual({ "#text": 2, "@_placement": "static", "@_cpuset": "0-3" });
    expect(merged.os.boot).toEqual({ "@_dev": "hd" });
    expect(merged.features).toEqual({ acpi: "", vmport: { "@_state": "off" }, apic: "", pvspinlock: { "@_state": "on" } });
    expect(merged.cpu.topology).toBeDefined(); // same vCPU count
    expect(merged.clock.timer).toEqual({ "@_name": "rtc", "@_tickpolicy": "catchup" });
    expect(merged.devices.disk.source).toEqual({ "@_file": "/x.qcow2" });
    expect(merged["qemu:commandline"]["qemu:arg"].map((a: { "@_value": string }) => a["@_value"])).toEqual([
      "-device",
      "foo",
      "-global",
      "x86_64-cpu.kvm-pv-ipi=on",
    ]);
  });

  test("a changed vCPU count drops a topology written for the old one", () => {
    expect(parser.parse(mergeDefinition(live, render({ vcpus: 4 }))).domain.cpu.topology).toBeUndefined();
  });
});

test("virsh arguments are quoted for virsh's own parser", () => {
  expect(virshQuote("it's; $(x) | y")).toBe(`'it'\\''s; $(x) | y'`);
  expect(() => virshQuote("a\nb")).toThrow(/line breaks/);
});
