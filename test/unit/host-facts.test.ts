import fs from "node:fs";
import path from "node:path";
import { resolveDomain, type Resolution } from "../../src/analyze";
import { HostProfileSchema, type HostProfile } from "../../src/host/profile";
import { validateSpecObject } from "../../src/input/load";
import {
  parseCapabilities,
  parseCpuCompare,
  parseCpuModelExpansion,
  parseDomCapabilities,
  parseHypervExpansion,
  parseVirshVersion,
  probeDomainXml,
  VPINDEX_REFUSED,
} from "../../src/system/host-facts";
import debian12 from "../../examples/host-profiles/debian12-qemu7.2.json";
import { ROOT } from "../helpers/specs";

/**
 * Parsing of what virsh answers over a connection. The fixtures were recorded once from the
 * real libvirtd (9.0.0, QEMU 7.2.22, no KVM) of this project's test machine; the KVM reply of
 * query-cpu-model-expansion is constructed from a recorded TCG one (test/fixtures/host-facts/README.md).
 */
const FIX = path.join(ROOT, "test/fixtures/host-facts");
const fixture = (f: string) => fs.readFileSync(path.join(FIX, f), "utf8");
const HOST = debian12 as HostProfile;

describe("virsh version", () => {
  test("the daemon's libvirt and the hypervisor's QEMU (recorded)", () => {
    expect(parseVirshVersion(fixture("virsh-version.txt"))).toEqual({ libvirt: "9.0.0", qemu: "7.2.22" });
  });

  test("the daemon's version wins over the client library's; without it the library's", () => {
    const out =
      "Compiled against library: libvirt 11.0.0\nUsing library: libvirt 11.0.0\nUsing API: QEMU 11.0.0\nRunning hypervisor: QEMU 9.2.0\nRunning against daemon: 9.0.0\n";
    expect(parseVirshVersion(out)).toEqual({ libvirt: "9.0.0", qemu: "9.2.0" });
    expect(parseVirshVersion(out.replace(/^Running against daemon.*$/m, ""))).toEqual({ libvirt: "11.0.0", qemu: "9.2.0" });
  });

  test("versions of any width; only a line that starts with the phrase counts", () => {
    const out = "Using library: libvirt 11.10.12\nRunning hypervisor: QEMU 10.12.134\nRunning against daemon: 10.10.123\n";
    expect(parseVirshVersion(out)).toEqual({ libvirt: "10.10.123", qemu: "10.12.134" });
    expect(parseVirshVersion(out.replace("Running against daemon: 10.10.123", ""))).toEqual({ libvirt: "11.10.12", qemu: "10.12.134" });
    const quoted =
      "Using library: libvirt 9.0.0\nNot Running against daemon: 1.1.1\nNo Running hypervisor: QEMU 1.1.1\nx Using library: libvirt 2.2.2\n";
    expect(parseVirshVersion(quoted)).toEqual({ libvirt: "9.0.0" });
  });

  test("another hypervisor is no QEMU", () => {
    expect(parseVirshVersion("Using library: libvirt 9.0.0\nRunning hypervisor: Test 2.0.0\n").qemu).toBeUndefined();
  });
});

describe("virsh capabilities", () => {
  const caps = parseCapabilities(fixture("capabilities.xml"));

  test("the x86_64 machine types equal what QMP query-machines gives on the same QEMU 7.2.22", () => {
    // the example profile's machines were probed with QMP (src/system/probe.ts) on QEMU 7.2.22
    expect(caps.machines).toEqual(HOST.machines);
  });

  test("aliases come from canonical names; other machine families are left out; numeric order", () => {
    expect(caps.machines).toContainEqual({ name: "pc-q35-7.2", alias: "q35" });
    expect(caps.machines).toContainEqual({ name: "pc-i440fx-7.2", alias: "pc" });
    expect(caps.machines.filter((m) => m.alias)).toHaveLength(2);
    const names = caps.machines.map((m) => m.name);
    expect(names).not.toContain("q35");
    expect(names.some((n) => /microvm|isapc|x-remote/.test(n))).toBe(false);
    expect(names.indexOf("pc-q35-2.12")).toBeGreaterThan(names.indexOf("pc-q35-2.9"));
    expect(new Set(names).size).toBe(names.length);
  });

  test("no <domain type='kvm'> here: KVM is not available", () => {
    expect(caps).toMatchObject({ x86_64: true, kvm: false });
  });

  test("a <domain type='kvm'> of the x86_64 guest is KVM; one of the i686 guest only is not", () => {
    // constructed from the recording: the x86_64 arch is the second <guest>
    const xml = fixture("capabilities.xml");
    const at = xml.lastIndexOf("<domain type='qemu'/>");
    const x86kvm = `${xml.slice(0, at)}<domain type='qemu'/>\n      <domain type='kvm'/>${xml.slice(at + "<domain type='qemu'/>".length)}`;
    expect(parseCapabilities(x86kvm).kvm).toBe(true);
    const first = xml.indexOf("<domain type='qemu'/>");
    const i686kvm = `${xml.slice(0, first)}<domain type='qemu'/>\n      <domain type='kvm'/>${xml.slice(first + "<domain type='qemu'/>".length)}`;
    expect(parseCapabilities(i686kvm).kvm).toBe(false);
  });

  const guest = (body: string, os = "hvm", arch = "x86_64") =>
    `<guest><os_type>${os}</os_type><arch name='${arch}'>${body}<domain type='qemu'/></arch></guest>`;
  const capsXml = (...guests: string[]) =>
    `<?xml version='1.0'?>\n<!-- a comment first -->\n<capabilities><host/>${guests.join("")}</capabilities>`;

  test("only an hvm guest of x86_64 counts, after an XML declaration or a comment", () => {
    const m = "<machine>pc-q35-7.2</machine>";
    expect(parseCapabilities(capsXml(guest(m)))).toEqual({ x86_64: true, machines: [{ name: "pc-q35-7.2" }], kvm: false });
    expect(parseCapabilities(capsXml(guest(m, "hvm", "i686")))).toEqual({ x86_64: false, machines: [], kvm: false });
    expect(parseCapabilities(capsXml(guest(m, "xen")))).toEqual({ x86_64: false, machines: [], kvm: false });
  });

  test("machines: pc-q35-* and pc-i440fx-* by prefix, identifiers only; an alias only when it is one, the first one kept", () => {
    const body = [
      "<machine canonical='pc-q35-7.2'>q35</machine>",
      "<machine canonical='pc-q35-7.2'>q35-again</machine>",
      "<machine canonical='pc-i440fx-7.2'>pc;x</machine>",
      "<machine>my-pc-q35-1.0</machine>",
      "<machine>pc-q35-1.0;rm</machine>",
      "<machine>pc-i440fx-2.0</machine>",
    ].join("");
    const { machines } = parseCapabilities(capsXml(guest(body)));
    expect(machines).toStrictEqual([{ name: "pc-i440fx-2.0" }, { name: "pc-i440fx-7.2" }, { name: "pc-q35-7.2", alias: "q35" }]);
  });

  test("a host without an x86_64 guest says so", () => {
    expect(parseCapabilities("<capabilities><host/></capabilities>")).toEqual({ x86_64: false, machines: [], kvm: false });
  });
});

describe("virsh domcapabilities", () => {
  const dom = parseDomCapabilities(fixture("domcapabilities-qemu.xml"));

  test("the host-model CPU (recorded for TCG)", () => {
    expect(dom.hostModel).toBe("EPYC");
  });

  test("every custom-mode model with libvirt's usable verdict, in the host's order, names as text", () => {
    expect(dom.cpuModels).toHaveLength(53);
    expect(dom.cpuModels!.filter((m) => m.usable)).toHaveLength(18);
    expect(dom.cpuModels![0]).toEqual({ name: "qemu64", usable: true });
    expect(dom.cpuModels).toContainEqual({ name: "Skylake-Server", usable: false });
    expect(dom.cpuModels).toContainEqual({ name: "Opteron_G2", usable: true });
    // "486" is a model name, not the number 486
    expect(dom.cpuModels).toContainEqual({ name: "486", usable: true });
  });

  test("host-model unsupported gives no host model; names that are no identifiers are left out", () => {
    const xml = `<domainCapabilities><cpu>
      <mode name='host-model' supported='no'/>
      <mode name='custom' supported='yes'><model usable='yes'>ok-1</model><model usable='no'>bad,name</model><model usable='unknown'>maybe</model></mode>
    </cpu></domainCapabilities>`;
    expect(parseDomCapabilities(xml)).toEqual({
      cpuModels: [
        { name: "ok-1", usable: true },
        { name: "maybe", usable: true },
      ],
    });
  });

  const domcaps = (modes: string) => `<?xml version='1.0'?>\n<!-- c -->\n<domainCapabilities><cpu>${modes}</cpu></domainCapabilities>`;
  const custom = (models: string[], supported = "yes") =>
    `<mode name='custom' supported='${supported}'>${models.map((m) => `<model usable='yes'>${m}</model>`).join("")}</mode>`;

  test("as libvirt orders the modes under KVM (host-passthrough, maximum, host-model, custom), after a declaration", () => {
    const xml = domcaps(
      "<mode name='host-passthrough' supported='yes'/><mode name='maximum' supported='yes'/>" +
        "<mode name='host-model' supported='yes'><model fallback='forbid'>EPYC-Rome</model></mode>" +
        custom(["qemu64"]),
    );
    expect(parseDomCapabilities(xml)).toEqual({ hostModel: "EPYC-Rome", cpuModels: [{ name: "qemu64", usable: true }] });
  });

  test("a mode libvirt marks unsupported gives nothing, whatever it lists", () => {
    const xml = domcaps("<mode name='host-model' supported='no'><model>EPYC</model></mode>" + custom(["qemu64"], "no"));
    expect(parseDomCapabilities(xml)).toStrictEqual({});
    expect(parseDomCapabilities(domcaps("<mode name='host-model' supported='yes'><model>EPYC</model></mode>"))).toStrictEqual({
      hostModel: "EPYC",
    });
  });

  test.each([
    ["a", true],
    ["9", true],
    ["x".repeat(64), true],
    ["x".repeat(65), false],
    [".x", false],
    ["-x", false],
    ["x;y", false],
    [";x", false],
    ["x y", false],
    ["Skylake-Server-v4_1.x", true],
  ])("a model name %j is kept: %s", (name, kept) => {
    expect(parseDomCapabilities(domcaps(custom([name]))).cpuModels).toEqual(kept ? [{ name, usable: true }] : []);
    expect(parseDomCapabilities(domcaps(`<mode name='host-model' supported='yes'><model>${name}</model></mode>`)).hostModel).toBe(
      kept ? name : undefined,
    );
  });

  test("at most 4096 models, the first ones", () => {
    const names = Array.from({ length: 5000 }, (_, i) => `m${i}`);
    const models = parseDomCapabilities(domcaps(custom(names))).cpuModels!;
    expect(models).toHaveLength(4096);
    expect(models[4095].name).toBe("m4095");
  });

  test("the parsed profile is a valid --host file", () => {
    const p = HostProfileSchema.safeParse({ ...HOST, cpuModels: dom.cpuModels, hostModel: dom.hostModel });
    expect(p.success).toBe(true);
    expect(HostProfileSchema.safeParse({ ...HOST, cpuModels: [{ name: "qemu64,kvm=off", usable: true }] }).success).toBe(false);
  });
});

describe("query-cpu-model-expansion through virsh qemu-monitor-command", () => {
  test("host under KVM (constructed reply): the FEAT_KVM bits that are on, catalog names", () => {
    expect(parseCpuModelExpansion(fixture("qmp-expansion-host-kvm.json"))).toEqual(HOST.kvm!.supported);
  });

  test("max under TCG (recorded reply): no KVM bit", () => {
    expect(parseCpuModelExpansion(fixture("qmp-expansion-max-tcg.json"))).toEqual([]);
  });

  test("a QMP error or no reply at all is an error", () => {
    expect(() =>
      parseCpuModelExpansion('{"id":"libvirt-9","error":{"class":"GenericError","desc":"CPU model \'host\' requires KVM"}}'),
    ).toThrow(/requires KVM/);
    expect(() => parseCpuModelExpansion("")).toThrow(/not a QMP reply/);
    expect(() => parseCpuModelExpansion('{"return":{}}')).toThrow(/no model properties/);
    expect(() => parseCpuModelExpansion('{"return":null}')).toThrow(/^query-cpu-model-expansion: the reply has no model properties$/);
    expect(() => parseCpuModelExpansion('{"return":{"model":{"props":"kvmclock"}}}')).toThrow(/no model properties/);
    expect(() => parseCpuModelExpansion("garbage")).toThrow(/^query-cpu-model-expansion: not a QMP reply: garbage$/);
  });
});

describe("Hyper-V in the expansion (asked with hv-passthrough on)", () => {
  test("the hv-* flags that are on, catalog names, hv-passthrough itself and other properties not", () => {
    const reply = JSON.stringify({
      return: {
        model: {
          name: "host",
          props: { "hv-relaxed": true, "hv-vapic": false, "hv-passthrough": true, "hv-spinlocks": 4095, kvmclock: true },
        },
      },
    });
    expect(parseHypervExpansion(reply)).toEqual(["hv-relaxed"]);
    expect(parseHypervExpansion(fixture("qmp-expansion-max-tcg.json"))).toEqual([]);
    expect(() => parseHypervExpansion('{"return":{}}')).toThrow(/no model properties/);
  });

  test("QEMU's refusal of hv-vpindex on a KVM without Hyper-V, as libvirt 9.0 relays it (recorded)", () => {
    const create = (JSON.parse(fixture("session-7.2.22-kvm.json")) as { calls: { args: string[]; stderr: string }[] }).calls.find(
      (c) => c.args[3] === "<probe-xml with hv-vpindex>",
    )!;
    expect(VPINDEX_REFUSED.test(create.stderr)).toBe(true);
    expect(VPINDEX_REFUSED.test("error: internal error: qemu unexpectedly closed the monitor: kvm_init_vcpu failed")).toBe(false);
  });
});

describe("virsh cpu-compare, as libvirt 9.0 answers it", () => {
  test.each([
    ["CPU described in /tmp/c.xml is incompatible with host CPU\n\n", false],
    ["Host CPU is a superset of CPU described in /tmp/c.xml\n\n", true],
    ["CPU described in /tmp/c.xml is identical to host CPU\n\n", true],
    // an unknown model: the verdict goes to stderr, nothing here
    ["", undefined],
  ])("%j: %s", (stdout, verdict) => {
    expect(parseCpuCompare(stdout)).toBe(verdict);
  });
});

describe("the probe domain", () => {
  const uuid = "0b7c6f0e-3d3a-4a5e-9d7e-2f9e1c4b5a60";

  test("KVM, no <cpu> (QEMU's default model starts on any host), its UUID and name, no disks", () => {
    const xml = probeDomainXml("kpv-probe-00aa", uuid, "kvm");
    expect(xml).toMatch(/^<domain type='kvm'>/);
    expect(xml).not.toContain("<cpu");
    expect(xml).toContain(`<uuid>${uuid}</uuid>`);
    expect(xml).toContain("<name>kpv-probe-00aa</name>");
    expect(xml).not.toMatch(/<disk|<interface/);
    expect(probeDomainXml("kpv-probe-00aa", uuid, "tcg")).toMatch(/^<domain type='qemu'>/);
    expect(probeDomainXml("kpv-probe-00aa", uuid, "tcg")).not.toContain("<cpu");
  });

  test("with the Hyper-V question: hv-vpindex alone, in <features>, KVM only", () => {
    const xml = probeDomainXml("kpv-probe-00aa", uuid, "kvm", true);
    expect(xml).toBe(
      probeDomainXml("kpv-probe-00aa", uuid, "kvm").replace(
        "</os>\n",
        "</os>\n  <features><hyperv><vpindex state='on'/></hyperv></features>\n",
      ),
    );
  });

  test("only probe names and UUIDs reach the XML", () => {
    expect(() => probeDomainXml("web1", uuid, "kvm")).toThrow(/^not a probe domain name: web1$/);
    expect(() => probeDomainXml("kpv-probe-00aa", "1", "kvm")).toThrow(/^not a UUID: 1$/);
    for (const name of ["x-kpv-probe-00", "kpv-probe-00'/>", "kpv-probe-"])
      expect(() => probeDomainXml(name, uuid, "kvm")).toThrow(/probe domain name/);
    for (const u of [`${uuid}'`, `x${uuid}`, uuid.toUpperCase()])
      expect(() => probeDomainXml("kpv-probe-00", u, "kvm")).toThrow(/not a UUID/);
  });

  test("the whole document (started paused by libvirt 9.0 with KVM and TCG: test/oracle/host-facts.test.ts)", () => {
    expect(probeDomainXml("kpv-probe-00aa", uuid, "kvm")).toBe(
      [
        "<domain type='kvm'>",
        "  <name>kpv-probe-00aa</name>",
        `  <uuid>${uuid}</uuid>`,
        "  <description>kvm-paravirt probe: transient, destroyed after one query-cpu-model-expansion</description>",
        "  <memory unit='MiB'>64</memory>",
        "  <vcpu>1</vcpu>",
        "  <os><type arch='x86_64'>hvm</type></os>",
        "  <on_poweroff>destroy</on_poweroff>",
        "  <on_reboot>destroy</on_reboot>",
        "  <on_crash>destroy</on_crash>",
        "  <devices><memballoon model='none'/></devices>",
        "</domain>",
        "",
      ].join("\n"),
    );
  });
});

describe("rules cpu-model-unusable-on-host and cpu-model-degraded-on-host", () => {
  const MODELS = parseDomCapabilities(fixture("domcapabilities-qemu.xml")).cpuModels!;
  const KVM_HOST: HostProfile = { ...HOST, cpuModels: MODELS };
  const TCG_HOST: HostProfile = { ...HOST, kvm: { available: false }, cpuModels: MODELS };

  function resolve(domain: Record<string, unknown>, host: HostProfile = KVM_HOST): Resolution {
    const l = validateSpecObject({ domains: [{ name: "t", ...domain }] });
    if (!l.domains[0].spec) throw new Error(JSON.stringify(l.domains[0].diagnostics));
    return resolveDomain(l.domains[0].spec, host);
  }
  const found = (r: Resolution) => r.diagnostics.filter((d) => d.code.startsWith("cpu-model-"));

  test("an unusable model with cpu.check partial and no cpu-compare verdict: libvirt refuses it, an error naming the model, the verdict and usable models", () => {
    for (const check of ["partial"]) {
      const d = found(resolve({ cpu: { model: "Skylake-Server", check } }));
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ code: "cpu-model-unusable-on-host", severity: "error", path: "cpu.model" });
      expect(d[0].message).toContain("Skylake-Server");
      expect(d[0].message).toContain("usable='no'");
      expect(d[0].message).toMatch(/passing libvirt's check there: qemu64, qemu32, .* \(18 in all\)/);
    }
  });

  test("a model the host does not list at all: an error whatever cpu.check, with a near usable one first", () => {
    for (const check of ["none", "partial"]) {
      const d = found(resolve({ cpu: { model: "Westmere-v9", check } }));
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ code: "cpu-model-unusable-on-host", severity: "error" });
      expect(d[0].message).toMatch(/Westmere-v9 is not among the host's CPU models/);
      expect(d[0].message).toMatch(/usable there: Westmere, /);
    }
  });

  test("an unusable model with cpu.check none (the default): libvirt starts it, QEMU drops features: a warning only", () => {
    const d = found(resolve({ cpu: { model: "Skylake-Server" } }));
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ code: "cpu-model-degraded-on-host", severity: "warning", path: "cpu.model" });
  });

  test("silent for usable models, other modes, no list, another accelerator, or a host: override of QEMU or the kernel", () => {
    expect(found(resolve({ cpu: { model: "Westmere", check: "full" } }))).toEqual([]);
    expect(found(resolve({}))).toEqual([]); // qemu64
    expect(found(resolve({ cpu: { mode: "host-passthrough" } }))).toEqual([]);
    expect(found(resolve({ cpu: { model: "Skylake-Server", check: "full" } }, HOST))).toEqual([]);
    // the list was measured for KVM: a TCG domain is not judged by it, and the other way round
    expect(found(resolve({ accel: "tcg", cpu: { model: "Skylake-Server", check: "full" } }))).toEqual([]);
    expect(found(resolve({ cpu: { model: "Skylake-Server", check: "full" } }, TCG_HOST))).toEqual([]);
    expect(found(resolve({ cpu: { model: "Skylake-Server", check: "full" }, host: { qemu: "9.2.0" } }))).toEqual([]);
    expect(found(resolve({ cpu: { model: "Skylake-Server", check: "full" }, host: { kernel: "5.4" } }))).toEqual([]);
  });

  test("with a cpu-compare verdict (KVM), check partial follows it, not usable", () => {
    const compared: HostProfile = {
      ...HOST,
      cpuModels: MODELS.map((m) => ({ ...m, hostCompatible: m.name !== "qemu64" })),
    };
    const qemu64 = found(resolve({ cpu: { model: "qemu64", check: "partial" } }, compared));
    expect(qemu64.map((x) => x.code)).toEqual(["cpu-model-unusable-on-host"]);
    expect(qemu64[0].message).toContain("virsh cpu-compare: incompatible");
    // usable='no' but the host CPU a superset: libvirt starts it, QEMU drops what KVM lacks
    expect(found(resolve({ cpu: { model: "Skylake-Server", check: "partial" } }, compared)).map((x) => x.code)).toEqual([
      "cpu-model-degraded-on-host",
    ]);
    expect(found(resolve({ cpu: { model: "qemu64", check: "none" } }, compared))).toEqual([]);
  });

  test("a TCG host's list judges TCG domains", () => {
    const d = found(resolve({ accel: "tcg", cpu: { model: "Skylake-Server", check: "partial" } }, TCG_HOST));
    expect(d.map((x) => x.code)).toEqual(["cpu-model-unusable-on-host"]);
    expect(d[0].message).toContain("--virttype qemu");
  });
});

describe("a profile read over libvirt has no kernel", () => {
  test("with kvm.supported measured, the resolver drops exactly what KVM does not offer, and blames no kernel", () => {
    const { kernel: _kernel, ...noKernel } = HOST;
    void _kernel;
    const host: HostProfile = { ...noKernel, kvm: { available: true, supported: HOST.kvm!.supported!.filter((f) => f !== "kvm-pv-ipi") } };
    const r = resolve2({ paravirt: { pvIpi: true, pvTlbFlush: true } }, host);
    expect(r.diagnostics.filter((d) => d.code === "host-kernel-too-old").map((d) => d.path)).toEqual(["paravirt.pvIpi"]);
    expect(r.diagnostics.find((d) => d.code === "host-kernel-too-old")!.message).toContain("the host's KVM does not offer it");
    expect(r.diagnostics.some((d) => d.code === "pv-enforce-cpuid-unsupported")).toBe(false);
  });

  test("without kvm.supported either, nothing counts as unsupported", () => {
    const { kernel: _kernel, ...noKernel } = HOST;
    void _kernel;
    const r = resolve2({ paravirt: { pvIpi: true, pvTlbFlush: true, pollControl: true } }, { ...noKernel, kvm: { available: true } });
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });

  function resolve2(domain: Record<string, unknown>, host: HostProfile): Resolution {
    const l = validateSpecObject({ domains: [{ name: "t", ...domain }] });
    if (!l.domains[0].spec) throw new Error(JSON.stringify(l.domains[0].diagnostics));
    return resolveDomain(l.domains[0].spec, host);
  }
});
