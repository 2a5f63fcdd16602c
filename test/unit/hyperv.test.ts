import { HYPERV_FEATURES } from "../../src/catalog/hyperv";
import { ASSUMED_HOST, hypervSupport, type HostProfile } from "../../src/host/profile";
import { validateSpecObject } from "../../src/input/load";
import { domainElement, parseDocument } from "../../src/libvirt/document";
import { readDomainXml } from "../../src/libvirt/read-domain";
import { compareLive } from "../../src/live/compare";
import { renderDomain } from "../../src/render-spec";
import { DEBIAN12, domainSpec } from "../helpers/specs";

/**
 * The hyperv map through the core: spec validation, what the guest gets on each kind of host
 * (resolver), the libvirt XML and QEMU args (snapshots; test/oracle/hyperv.test.ts has libvirt
 * and QEMU take them), import of what libvirt keeps, and the per-flag plan diff.
 */

const WINDOWS = {
  relaxed: true,
  vapic: true,
  time: true,
  vpindex: true,
  runtime: true,
  synic: true,
  stimer: true,
  stimerDirect: true,
  reset: true,
  frequencies: true,
  tlbflush: true,
  tlbflushExt: true,
  ipi: true,
  crash: true,
  emsrBitmap: true,
  syndbg: false,
  spinlocks: 8191,
  vendorId: "KVM Hv",
};
/** a Debian 12 kernel whose KVM has Hyper-V (derived from the kernel) */
const HV: HostProfile = { ...DEBIAN12, kernel: "6.1.0-18-amd64", kvm: { available: true, supported: DEBIAN12.kvm!.supported } };
const render = (domain: Record<string, unknown>, host?: HostProfile) => renderDomain(domainSpec({ name: "win", ...domain }), host);
const codes = (domain: Record<string, unknown>, host?: HostProfile) => render(domain, host).rendered.diagnostics.map((d) => d.code);

describe("the spec's hyperv map", () => {
  test.each([
    [{ spinlocks: 4094 }, "domains[0].hyperv.spinlocks", /at least 4095 \(libvirt refuses fewer retries\)/],
    [{ spinlocks: 2 ** 32 }, "domains[0].hyperv.spinlocks", /at most 4294967295/],
    [{ vendorId: "ABCDEFGHIJKLM" }, "domains[0].hyperv.vendorId", /1-12 characters/],
    [{ vendorId: "a,b" }, "domains[0].hyperv.vendorId", /1-12 characters/],
    [{ vendorId: " lead" }, "domains[0].hyperv.vendorId", /1-12 characters/],
    [{ vendorId: "x'/><y" }, "domains[0].hyperv.vendorId", /1-12 characters/],
    [{ mode: "host-model" }, "domains[0].hyperv.mode", /custom|passthrough/],
    [{ relaxed: "yes" }, "domains[0].hyperv.relaxed", /boolean/],
  ])("%j is refused, naming the field", (hyperv, path, message) => {
    const d = validateSpecObject({ domains: [{ name: "w", hyperv }] });
    expect(d.domains[0].spec ?? null).toBeNull();
    expect(d.domains[0].diagnostics).toContainEqual(
      expect.objectContaining({ severity: "error", path, message: expect.stringMatching(message) }),
    );
  });

  test("an unknown flag: spec-unknown-feature with the nearest one and the list", () => {
    const d = validateSpecObject({ domains: [{ name: "w", hyperv: { relaxd: true } }] });
    const x = d.domains[0].diagnostics.find((y) => y.code === "spec-unknown-feature")!;
    expect(x.path).toBe("domains[0].hyperv.relaxd");
    expect(x.message).toMatch(
      /^unknown field "relaxd"; did you mean relaxed\? Allowed: mode, spinlocks, vendorId, noNonarchCoresharing, relaxed, vapic, /,
    );
  });

  test("defaults merge into a domain's map one level deep", () => {
    const d = validateSpecObject({
      defaults: { hyperv: { relaxed: true, spinlocks: 8191 } },
      domains: [{ name: "w", hyperv: { vapic: true } }],
    });
    expect(d.domains[0].spec!.hyperv).toEqual({ relaxed: true, spinlocks: 8191, vapic: true });
  });
});

describe("what the guest gets", () => {
  test("no hyperv map: no Hyper-V leaves and no hv-* in the report (the KVM features' report is unchanged)", () => {
    const { resolution, rendered } = render({});
    expect(resolution.hyperv).toMatchObject({ declared: false, leaves: false });
    expect(Object.keys(rendered.features).some((k) => k.startsWith("hv-"))).toBe(false);
    expect(rendered.domainXml).not.toContain("hyperv");
  });

  test("a Hyper-V host: leaves, each set flag on, the vendor and spinlocks the guest sees; the KVM leaves stay (at 0x40000100)", () => {
    const { resolution, rendered } = render({ hyperv: { relaxed: true, vapic: true, spinlocks: 8191, vendorId: "KVMKVMKVM" } }, HV);
    expect(resolution.hyperv).toMatchObject({ leaves: true, vendor: "KVMKVMKVM", spinlocks: 8191 });
    expect(rendered.features["hv-relaxed"]).toEqual({ enabled: true, source: "explicit", reason: "set on" });
    expect(rendered.features["hv-time"]).toEqual({ enabled: false, source: "default", reason: "off by default" });
  });

  test("QEMU's defaults when nothing sets them: vendor Microsoft Hv, spinlocks never notify", () => {
    expect(render({ hyperv: { relaxed: true } }, HV).resolution.hyperv).toMatchObject({ vendor: "Microsoft Hv", spinlocks: 0xffffffff });
  });

  test("a vendor id alone builds no leaves; a spinlock count does", () => {
    expect(render({ hyperv: { vendorId: "X" } }, HV).resolution.hyperv.leaves).toBe(false);
    expect(render({ hyperv: { spinlocks: 8191 } }, HV).resolution.hyperv.leaves).toBe(true);
    expect(render({ hyperv: { relaxed: false } }, HV).resolution.hyperv.leaves).toBe(false);
  });

  test("a KVM without Hyper-V: QEMU reports the flag on, the guest gets nothing (dropped); vpindex refused, vapic aborts", () => {
    const { resolution, rendered } = render({ hyperv: { relaxed: true, vpindex: true, vapic: true } }, DEBIAN12);
    expect(resolution.hyperv.leaves).toBe(false);
    const relaxed = resolution.hyperv.flags.get("relaxed")!;
    expect(relaxed).toMatchObject({ enabled: true, guestVisible: false, failures: [] });
    expect(relaxed.reason).toBe("set on, but the host's KVM has no Hyper-V: the guest does not get it");
    expect(rendered.features["hv-relaxed"]).toMatchObject({ enabled: false, source: "dropped" });
    expect(resolution.hyperv.flags.get("vpindex")!.failures).toEqual([
      { kind: "refused", cause: "no-host-hyperv", message: "kernel doesn't allow setting HyperV VP_INDEX" },
    ]);
    expect(rendered.features["hv-vapic"].reason).toBe(
      'set on, but the host\'s KVM has no Hyper-V: the guest does not get it: QEMU aborts ("error: failed to set MSR 0x40000073 to 0x0")',
    );
  });

  test("passthrough: every flag the host offers; a measured set as measured, a derived one without syndbg from QEMU 10.2", () => {
    const measured: HostProfile = { ...HV, kvm: { ...HV.kvm!, hyperv: ["hv-relaxed", "hv-syndbg", "hv-evmcs"] } };
    const on = (host: HostProfile) =>
      [...render({ hyperv: { mode: "passthrough" } }, host).resolution.hyperv.flags.values()]
        .filter((x) => x.enabled)
        .map((x) => x.row.key);
    expect(on(measured)).toEqual(["relaxed", "evmcs", "syndbg"]);
    expect(on(HV)).toContain("syndbg");
    expect(on({ ...HV, qemu: "10.2.0" })).not.toContain("syndbg");
    expect(on(HV)).not.toContain("evmcs");
    expect(on(HV)).not.toContain("enforceCpuid");
    const r = render({ hyperv: { mode: "passthrough" } }, HV).resolution.hyperv;
    expect(r).toMatchObject({ leaves: true, vendor: "Linux KVM Hv", spinlocks: 0xfff });
    expect(render({ hyperv: { mode: "passthrough" } }, DEBIAN12).resolution.hyperv.flags.get("relaxed")!.reason).toBe(
      "hv-passthrough: the host's KVM has no Hyper-V",
    );
  });

  test("host support: measured, derived from the kernel (Intel-only flags need a measurement), none without KVM", () => {
    expect(hypervSupport(DEBIAN12)).toEqual({ supported: new Set(), available: false, how: "measured" });
    const derived = hypervSupport(HV);
    expect(derived).toMatchObject({ available: true, how: "kernel" });
    expect(derived.supported.has("ipi")).toBe(true);
    expect(derived.supported.has("tlbflushExt")).toBe(false); // Linux 6.2
    expect(derived.supported.has("evmcs")).toBe(false);
    expect(hypervSupport({ ...HV, kvm: { available: false } }).how).toBe("no-kvm");
    expect(hypervSupport(ASSUMED_HOST).supported.has("tlbflushExt")).toBe(true);
  });

  test("each flag the host's QEMU lacks is refused with QEMU's words, under its model's type name", () => {
    const x = render({ hyperv: { avic: true } }, { ...HV, qemu: "6.1.0" }).resolution.hyperv.flags.get("avic")!;
    expect(x.failures).toEqual([{ kind: "refused", cause: "missing-in-qemu", message: "Property 'qemu64-x86_64-cpu.hv-avic' not found" }]);
  });

  test("machine types up to 3.0 do not tie SynIC to VP_INDEX (x-hv-synic-kvm-only)", () => {
    expect(codes({ machine: "pc-q35-3.0", hyperv: { synic: true } }, HV)).not.toContain("hv-synic-needs-hv-vpindex");
    expect(codes({ machine: "pc-q35-3.1", hyperv: { synic: true } }, HV)).toContain("hv-synic-needs-hv-vpindex");
  });
});

describe("the Windows profile (guest.os windows)", () => {
  const win = (domain: Record<string, unknown> = {}, host: HostProfile = HV) =>
    render({ guest: { os: "windows", version: "11" }, ...domain }, host);
  const profileOn = (r: ReturnType<typeof win>) =>
    [...r.resolution.hyperv.flags.values()].filter((x) => x.source === "os-profile").map((x) => x.row.key);

  test("on a Hyper-V host: the profile's flags the host offers, spinlocks 8191, each with its reason; written for QEMU", () => {
    const r = win();
    expect(profileOn(r)).toEqual(
      [
        "relaxed",
        "vapic",
        "time",
        "vpindex",
        "runtime",
        "synic",
        "stimer",
        "frequencies",
        "ipi",
        "stimerDirect",
        "xmmInput",
        "tlbflush",
      ].sort((a, b) => HYPERV_FEATURES.findIndex((x) => x.key === a) - HYPERV_FEATURES.findIndex((x) => x.key === b)),
    );
    expect(r.resolution.hyperv).toMatchObject({ leaves: true, setSpinlocks: 8191, spinlocks: 8191, declared: true });
    expect(r.rendered.features["hv-relaxed"]).toMatchObject({ enabled: true, source: "os-profile" });
    expect(r.rendered.features["hv-relaxed"].reason).toMatch(/^Windows profile: Windows stops its watchdog timeouts/);
    expect(r.rendered.qemuArgs.join(" ")).toContain("hv-relaxed=on");
    expect(r.rendered.qemuArgs.join(" ")).toContain("hv-spinlocks=0x1fff");
    expect(r.rendered.domainXml).toContain('<spinlocks state="on" retries="8191"/>');
    // never a refusal of its own making
    expect(r.rendered.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });

  test("the spec wins: a flag set off stays off, what needs it is left out; spinlocks and a flag set on are the spec's", () => {
    const r = win({ hyperv: { time: false, reset: true, spinlocks: 4095 } });
    const on = profileOn(r);
    expect(on).not.toContain("time");
    expect(on).not.toContain("stimer");
    expect(on).not.toContain("stimerDirect");
    expect(r.resolution.hyperv.flags.get("reset")).toMatchObject({ source: "explicit", set: true });
    expect(r.resolution.hyperv.setSpinlocks).toBe(4095);
    expect(r.rendered.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });

  test("a newer flag than the host's QEMU or kernel is left out, with why", () => {
    const r = win({}, { ...HV, qemu: "7.0.0" });
    expect(profileOn(r)).not.toContain("xmmInput");
    expect(r.resolution.hyperv.profile!.left).toContainEqual({ key: "xmmInput", why: "recommended, but QEMU 7.0.0 lacks it" });
    expect(r.resolution.hyperv.profile!.left).toContainEqual({
      key: "tlbflushExt",
      why: "recommended, but the host's KVM does not offer it",
    });
  });

  test("on a KVM without Hyper-V, under TCG and in passthrough mode the profile sets nothing", () => {
    expect(profileOn(win({}, DEBIAN12))).toEqual([]);
    expect(win({}, DEBIAN12).resolution.hyperv.profile!.nothing).toMatch(/^the host's KVM has no Hyper-V/);
    expect(win({ accel: "tcg" }).resolution.hyperv.profile).toBeUndefined();
    expect(win({ hyperv: { mode: "passthrough" } }).resolution.hyperv.profile).toBeUndefined();
    expect(render({ guest: { os: "linux" } }, HV).resolution.hyperv.profile).toBeUndefined();
  });

  test("guest.version needs os windows; kernel is a Linux guest's", () => {
    const a = validateSpecObject({ domains: [{ name: "w", guest: { version: "11" } }] }).domains[0].diagnostics;
    expect(a).toContainEqual(
      expect.objectContaining({ path: "domains[0].guest.version", message: "a Windows release: give it with os: windows" }),
    );
    const b = validateSpecObject({ domains: [{ name: "w", guest: { os: "windows", kernel: "6.1" } }] }).domains[0].diagnostics;
    expect(b).toContainEqual(expect.objectContaining({ path: "domains[0].guest.kernel" }));
  });

  test("what the profile wrote reads back as explicit flags, and the same definition plans no change", () => {
    const r = win();
    const read = readDomainXml(r.rendered.domainXml).domain.hyperv as Record<string, unknown>;
    expect(read).toMatchObject({ relaxed: true, spinlocks: 8191 });
    const doc = domainElement(parseDocument(r.rendered.domainXml));
    const cmp = compareLive(doc, domainElement(parseDocument(r.rendered.domainXml)), r.resolution, HV);
    expect(cmp.fieldChanges).toEqual([]);
  });
});

describe("libvirt XML and QEMU args", () => {
  test("a Windows set for libvirt 11 (every element there) and for libvirt 9.0 (newer elements through -global)", () => {
    const eleven = render({ hyperv: WINDOWS }, { ...HV, libvirt: "11.0.0" }).rendered;
    const nine = render({ hyperv: WINDOWS }, HV).rendered;
    expect(eleven.domainXml).toMatchSnapshot("libvirt 11");
    expect(nine.domainXml).toMatchSnapshot("libvirt 9.0");
    expect(nine.qemuArgs).toEqual(eleven.qemuArgs);
    expect(eleven.qemuArgs).toMatchSnapshot("args");
    expect(codes({ hyperv: WINDOWS }, HV)).toContain("libvirt-custom-argv");
  });

  test("passthrough: the mode alone (libvirt 8.0), -global before it", () => {
    const r = render({ hyperv: { mode: "passthrough" } }, HV).rendered;
    expect(r.domainXml).toContain('<hyperv mode="passthrough"/>');
    expect(r.qemuArgs.join(" ")).toMatch(/-cpu qemu64,hv-passthrough=on /);
    const old = render({ hyperv: { mode: "passthrough" } }, { ...HV, libvirt: "7.10.0" }).rendered.domainXml;
    expect(old).not.toContain("<hyperv");
    expect(old).toContain('<qemu:arg value="x86_64-cpu.hv-passthrough=on"/>');
  });

  test("a nested element without its parent switched on goes through -global (libvirt writes it only inside)", () => {
    const xml = render({ hyperv: { tlbflushDirect: true, vapic: true } }, { ...HV, libvirt: "11.0.0" }).rendered.domainXml;
    expect(xml).toContain('<qemu:arg value="x86_64-cpu.hv-tlbflush-direct=on"/>');
    expect(xml).not.toContain("<tlbflush");
  });

  test("a libvirt before 8.0 gets <hyperv> without a mode; an empty map renders nothing", () => {
    expect(render({ hyperv: { relaxed: true } }, { ...HV, libvirt: "7.0.0" }).rendered.domainXml).toContain("<hyperv>\n");
    expect(render({ hyperv: {} }, HV).rendered.domainXml).not.toContain("hyperv");
  });

  test("<hyperv> goes before <kvm> in <features>, as libvirt writes them", () => {
    const xml = render({ paravirt: { hidden: true }, hyperv: { relaxed: true } }, HV).rendered.domainXml;
    expect(xml.indexOf("<hyperv")).toBeLessThan(xml.indexOf("<kvm>"));
  });
});

describe("hv-no-nonarch-coresharing", () => {
  test("written through -global (libvirt has no element) and on -cpu, in custom and passthrough mode; read back", () => {
    for (const mode of ["custom", "passthrough"] as const) {
      const r = render({ hyperv: { mode, noNonarchCoresharing: "on" } }, HV).rendered;
      expect(r.domainXml).toContain('<qemu:arg value="x86_64-cpu.hv-no-nonarch-coresharing=on"/>');
      expect(r.qemuArgs.join(" ")).toContain("hv-no-nonarch-coresharing=on");
      expect(readDomainXml(r.domainXml).domain.hyperv).toMatchObject({ noNonarchCoresharing: "on" });
    }
  });

  test("what the guest is told: on with leaves; auto as KVM reports; nothing without leaves", () => {
    expect(render({ hyperv: { relaxed: true, noNonarchCoresharing: "on" } }, HV).resolution.hyperv.noNonarchCoresharing).toMatchObject({
      guest: true,
    });
    expect(render({ hyperv: { relaxed: true, noNonarchCoresharing: "auto" } }, HV).resolution.hyperv.noNonarchCoresharing).toMatchObject({
      guest: "as-kvm-reports",
    });
    expect(
      render({ hyperv: { relaxed: true, noNonarchCoresharing: "on" } }, DEBIAN12).resolution.hyperv.noNonarchCoresharing,
    ).toMatchObject({
      guest: false,
    });
    expect(render({ hyperv: { noNonarchCoresharing: "on" } }, HV).resolution.hyperv.leaves).toBe(false);
  });
});

describe("reading what libvirt keeps (import, plan)", () => {
  test.each([
    ["libvirt 11 elements", { ...HV, libvirt: "11.0.0" }],
    ["libvirt 9.0 elements and -global", HV],
    ["a libvirt before every element", { ...HV, libvirt: "1.0.0" }],
  ])("%s: the rendered Windows set reads back as the spec's map", (_what, host) => {
    const { rendered } = render({ hyperv: WINDOWS }, host);
    expect(readDomainXml(rendered.domainXml).domain.hyperv).toEqual(WINDOWS);
  });

  test("passthrough reads back as the mode alone (the panic device under it is just a device)", () => {
    const xml = render({ hyperv: { mode: "passthrough" } }, HV).rendered.domainXml.replace(
      "</devices>",
      "<panic model='hyperv'/></devices>",
    );
    expect(readDomainXml(xml).domain.hyperv).toEqual({ mode: "passthrough" });
  });

  test("what is not a setting is not read: a nested element under an off parent, a vendor id the spec cannot take (noted)", () => {
    const xml =
      "<domain><name>w</name><features><hyperv><stimer state='off'><direct state='on'/></stimer>" +
      "<vendor_id state='on' value='a,b'/><spinlocks state='off' retries='8191'/></hyperv></features></domain>";
    const read = readDomainXml(xml);
    expect(read.domain.hyperv).toEqual({ stimer: false });
    expect(read.notes.map((n) => n.message)).toContainEqual(
      expect.stringContaining("<vendor_id value='a,b'/> is not a vendor id the spec takes"),
    );
  });

  test("every flag's -global reads back; an element wins over its -global", () => {
    for (const r of HYPERV_FEATURES) {
      const xml = `<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>w</name><qemu:commandline><qemu:arg value='-global'/><qemu:arg value='x86_64-cpu.${r.qemu}=on'/></qemu:commandline></domain>`;
      expect(readDomainXml(xml).domain.hyperv).toEqual({ [r.key]: true });
    }
    const both =
      "<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>w</name><features><hyperv><relaxed state='off'/></hyperv></features>" +
      "<qemu:commandline><qemu:arg value='-global'/><qemu:arg value='x86_64-cpu.hv-relaxed=on'/><qemu:arg value='-global'/><qemu:arg value='x86_64-cpu.hv-spinlocks=0x1fff'/></qemu:commandline></domain>";
    expect(readDomainXml(both).domain.hyperv).toEqual({ relaxed: false, spinlocks: 8191 });
  });

  test("plan: a per-flag diff of what the guest gets, and a change", () => {
    const before = render({ hyperv: { relaxed: true, vapic: true } }, HV);
    const after = render({ hyperv: { relaxed: true, vapic: false, time: true } }, HV);
    const live = domainElement(parseDocument(before.rendered.domainXml));
    const want = domainElement(parseDocument(after.rendered.domainXml));
    const cmp = compareLive(live, want, after.resolution, HV);
    expect(cmp.changed).toBe(true);
    expect(cmp.featureChanges).toEqual([
      { feature: "hv-vapic", current: { enabled: true, source: "explicit" }, desired: { enabled: false, source: "explicit" } },
      { feature: "hv-time", current: { enabled: false, source: "default" }, desired: { enabled: true, source: "explicit" } },
    ]);
    const same = compareLive(live, domainElement(parseDocument(before.rendered.domainXml)), before.resolution, HV);
    expect(same.featureChanges).toEqual([]);
    expect(same.fieldChanges).toEqual([]);
  });
});
