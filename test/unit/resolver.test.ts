import { resolveDomain, type Resolution } from "../../src/analyze";
import type { HostProfile } from "../../src/host/profile";
import debian12 from "../../examples/host-profiles/debian12-qemu7.2.json";
import { domainSpec } from "../helpers/specs";

/**
 * Resolver semantics, one case per QEMU mechanism. Every expectation here was
 * first observed on the real QEMU 7.2 (see docs/research and the QEMU oracle,
 * which re-checks the same configurations against a realized vCPU in CI).
 */
const HOST = debian12 as HostProfile;

function resolve(domain: Record<string, unknown>, host: HostProfile | null = HOST): Resolution {
  return resolveDomain(domainSpec({ name: "t", ...domain }), host ?? undefined);
}
const onSet = (r: Resolution) => [...r.features].filter(([, v]) => v.enabled).map(([k]) => k);
const codes = (r: Resolution) => r.diagnostics.map((d) => d.code);
const src = (r: Resolution, f: string) => r.features.get(f)!.source;

const NAMED_DEFAULTS = ["kvmclock", "kvm-nopiodelay", "kvm-asyncpf", "kvm-steal-time", "kvm-pv-eoi", "kvmclock-stable-bit", "kvm"];
const HOST_ALL = [
  "kvmclock",
  "kvm-nopiodelay",
  "kvm-asyncpf",
  "kvm-steal-time",
  "kvm-pv-eoi",
  "kvm-pv-unhalt",
  "kvm-pv-tlb-flush",
  "kvm-pv-ipi",
  "kvm-poll-control",
  "kvm-pv-sched-yield",
  "kvm-asyncpf-int",
  "kvmclock-stable-bit",
  "kvm",
];

describe("resolver", () => {
  test("named model defaults (kvm_default_props)", () => {
    const r = resolve({});
    expect(onSet(r)).toEqual(NAMED_DEFAULTS);
    expect(src(r, "kvm-pv-unhalt")).toBe("default");
    expect(r.machine.resolved).toBe("pc-q35-7.2");
  });

  test("QEMU 7.2 has no kvm-asyncpf-vmexit: it is not listed, and setting it is an error", () => {
    expect(resolve({}).features.has("kvm-asyncpf-vmexit")).toBe(false);
    const r = resolve({ paravirt: { asyncpfVmexit: true } });
    expect(r.diagnostics.find((d) => d.code === "host-qemu-too-old")).toMatchObject({ severity: "error", path: "paravirt.asyncpfVmexit" });
    expect(resolve({}, null).features.has("kvm-asyncpf-vmexit")).toBe(true); // assumed QEMU 10.2
  });

  test("split irqchip turns msi-ext-dest-id on for named models, not on 5.1 machine types", () => {
    expect(src(resolve({ irqchip: "split" }), "kvm-msi-ext-dest-id")).toBe("implied");
    expect(onSet(resolve({ irqchip: "split" }))).toContain("kvm-msi-ext-dest-id");
    const old = resolve({ irqchip: "split", machine: "pc-q35-5.1" });
    expect(onSet(old)).not.toContain("kvm-msi-ext-dest-id");
    expect(codes(old)).toContain("msi-ext-dest-id-machine-compat");
    expect(onSet(resolve({ irqchip: "split", machine: "pc-q35-5.1", paravirt: { msiExtDestId: true } }))).toContain("kvm-msi-ext-dest-id");
  });

  test("host passthrough turns on everything the host offers, never hints, msi only with split and not on 5.1", () => {
    expect(onSet(resolve({ cpu: { mode: "host-passthrough" } }))).toEqual(HOST_ALL);
    expect(src(resolve({ cpu: { mode: "host-passthrough" } }), "kvm-pv-ipi")).toBe("host-passthrough");
    expect(onSet(resolve({ cpu: { mode: "maximum" }, irqchip: "split" }))).toEqual([
      ...HOST_ALL.slice(0, 11),
      "kvm-msi-ext-dest-id",
      "kvmclock-stable-bit",
      "kvm",
    ]);
    expect(onSet(resolve({ cpu: { mode: "host-passthrough" }, irqchip: "split", machine: "pc-q35-5.1" }))).toEqual(HOST_ALL);
    expect(resolve({ cpu: { mode: "host-passthrough" } }).features.get("kvm-hint-dedicated")!.enabled).toBe(false);
  });

  test("irqchip off: pv-unhalt is removed, explicit request is dropped, asyncpf-int aborts QEMU", () => {
    const r = resolve({ irqchip: "off", paravirt: { pvUnhalt: true } });
    expect(r.features.get("kvm-pv-unhalt")).toMatchObject({ enabled: false, source: "dropped", dropCause: "needs-kernel-irqchip" });
    expect(codes(r)).toEqual(
      expect.arrayContaining(["pv-unhalt-needs-kernel-irqchip", "libvirt-refuses-pvspinlock", "irqchip-off-deprecated"]),
    );
    const hp = resolve({ irqchip: "off", cpu: { mode: "host-passthrough" } });
    expect(onSet(hp)).not.toContain("kvm-pv-unhalt");
    expect(hp.diagnostics.find((d) => d.code === "asyncpf-int-needs-kernel-irqchip")).toMatchObject({ severity: "error", path: "irqchip" });
    expect(codes(resolve({ irqchip: "off", cpu: { mode: "host-passthrough" }, paravirt: { asyncpfInt: false } }))).not.toContain(
      "asyncpf-int-needs-kernel-irqchip",
    );
  });

  test("hidden clears every PV bit but not the hint property", () => {
    const r = resolve({ paravirt: { hidden: true, pvIpi: true, hintDedicated: true } });
    expect(onSet(r)).toEqual(["kvm-hint-dedicated"]);
    expect(r.features.get("kvm-hint-dedicated")!.guestVisible).toBe(false);
    expect(r.features.get("kvm-pv-ipi")).toMatchObject({ source: "dropped", dropCause: "hidden" });
    expect(r.features.get("kvmclock")!.source).toBe("implied");
    expect(codes(r)).toEqual(expect.arrayContaining(["pv-features-while-hidden", "hint-while-hidden"]));
  });

  test("a hint set on while hidden says why the guest cannot see it", () => {
    const r = resolve({ paravirt: { hidden: true, hintDedicated: true } });
    expect(r.features.get("kvm-hint-dedicated")).toMatchObject({
      enabled: true,
      source: "explicit",
      guestVisible: false,
      reason: "set on, but invisible to the guest: the KVM leaves are hidden",
    });
    expect(resolve({ paravirt: { hintDedicated: true } }).features.get("kvm-hint-dedicated")!.reason).toBe("set on");
    expect(resolve({ paravirt: { hidden: true, hintDedicated: false } }).features.get("kvm-hint-dedicated")!.reason).toBe("set off");
  });

  test("a domain's host override keeps what the profile measured when it names the same versions", () => {
    const measured: HostProfile = { ...HOST, cpuModels: [{ name: "qemu64", usable: true }] };
    const same = resolve({ cpu: { mode: "host-model" }, host: { qemu: HOST.qemu, kernel: HOST.kernel } }, measured);
    expect(same.qemuModel).toBe("kvm64"); // the profile's host model
    expect(same.host.cpuModels).toEqual([{ name: "qemu64", usable: true }]);
    expect(same.host.kvm).toEqual(HOST.kvm);
    // another QEMU: the profile's QEMU-specific facts are gone; another kernel: its KVM facts are
    const otherQemu = resolve({ cpu: { mode: "host-model" }, host: { qemu: "8.2.0" } }, measured);
    expect(otherQemu.qemuModel).toBe("qemu64");
    expect(otherQemu.host.cpuModels).toBeUndefined();
    expect(otherQemu.host.machines).toBeUndefined();
    const otherKernel = resolve({ host: { kernel: "6.1.0" } }, measured);
    expect(otherKernel.host.kvm).toEqual({ available: true });
    expect(otherKernel.host.cpuModels).toBeUndefined();
    expect(otherKernel.host.hostModel).toBe("kvm64");
  });

  test("TCG clears every PV bit and drops hints", () => {
    const r = resolve({ accel: "tcg", cpu: { mode: "maximum" }, paravirt: { pvIpi: true, hintDedicated: true } });
    expect(onSet(r)).toEqual(["kvm"]);
    expect(r.features.get("kvm-hint-dedicated")).toMatchObject({ source: "dropped", dropCause: "tcg" });
    expect(codes(r)).toContain("pv-features-under-tcg");
  });

  test("kvm-mmu is never supported", () => {
    const r = resolve({ paravirt: { mmu: true } });
    expect(r.features.get("kvm-mmu")).toMatchObject({ enabled: false, source: "dropped", dropCause: "never-supported" });
    expect(codes(r)).toContain("kvm-mmu-deprecated");
  });

  test("msi-ext-dest-id without split is dropped, with a coded error", () => {
    const r = resolve({ paravirt: { msiExtDestId: true } });
    expect(r.features.get("kvm-msi-ext-dest-id")).toMatchObject({ enabled: false, dropCause: "needs-split-irqchip" });
    expect(r.diagnostics.find((d) => d.code === "msi-ext-dest-id-needs-split-irqchip")?.severity).toBe("error");
  });

  test("kvmclock off leaves kvmclock-stable-bit on, with a warning", () => {
    const r = resolve({ paravirt: { kvmclock: false } });
    expect(onSet(r)).toContain("kvmclock-stable-bit");
    expect(r.diagnostics.find((d) => d.code === "kvmclock-stable-bit-without-kvmclock")?.severity).toBe("warning");
  });

  test("host kernel older than a feature's minimum: explicit request is an error, a default a warning", () => {
    const oldHost = { qemu: "7.2.0", kernel: "4.14" } as const;
    const r = resolve({ host: oldHost, paravirt: { pvIpi: true } }, null);
    expect(r.features.get("kvm-pv-ipi")).toMatchObject({ enabled: false, source: "dropped", dropCause: "host-kvm" });
    expect(r.diagnostics.find((d) => d.code === "host-kernel-too-old")).toMatchObject({ severity: "error", path: "paravirt.pvIpi" });
    const veryOld = resolve({ host: { qemu: "7.2.0", kernel: "3.0" } }, null);
    expect(veryOld.features.get("kvm-steal-time")!.enabled).toBe(false);
    expect(codes(veryOld)).toContain("default-dropped-by-host");
  });

  test("pv-enforce-cpuid on a host without the capability is an error (QEMU aborts)", () => {
    expect(codes(resolve({ paravirt: { pvEnforceCpuid: true } }))).not.toContain("pv-enforce-cpuid-unsupported");
    const r = resolve({ host: { qemu: "7.2.0", kernel: "5.4" }, paravirt: { pvEnforceCpuid: true } }, null);
    expect(r.diagnostics.find((d) => d.code === "pv-enforce-cpuid-unsupported")?.severity).toBe("error");
  });

  test("poll-control without hint-dedicated warns; hint-dedicated notes what the guest ignores", () => {
    expect(codes(resolve({ paravirt: { pollControl: true } }))).toContain("poll-control-without-hint-dedicated");
    const r = resolve({ vcpus: 4, paravirt: { pollControl: true, hintDedicated: true, pvUnhalt: true } });
    expect(codes(r)).not.toContain("poll-control-without-hint-dedicated");
    expect(codes(r)).toContain("hint-dedicated-disables-pv");
  });

  test("asyncpf explicitly relied on without asyncpf-int is a deprecation warning", () => {
    expect(resolve({ paravirt: { asyncpf: true } }).diagnostics.find((d) => d.code === "asyncpf-without-asyncpf-int")?.severity).toBe(
      "warning",
    );
    expect(codes(resolve({ paravirt: { asyncpf: true, asyncpfInt: true } }))).not.toContain("asyncpf-without-asyncpf-int");
  });

  test("guest kernel older than a feature's minimum warns", () => {
    const r = resolve({ guest: { kernel: "4.15" }, paravirt: { pvIpi: true } });
    expect(r.diagnostics.find((d) => d.code === "guest-kernel-too-old")).toMatchObject({ severity: "warning", path: "paravirt.pvIpi" });
  });

  test("machine types the host QEMU lacks are errors", () => {
    expect(resolve({ machine: "pc-q35-9.0" }).diagnostics.find((d) => d.code === "machine-unknown-to-host")?.severity).toBe("error");
    expect(codes(resolve({ machine: "pc-q35-2.4" }))).not.toContain("machine-unknown-to-host");
    expect(codes(resolve({ machine: "pc-q35-2.4" }, null))).toContain("machine-unknown-to-host"); // QEMU 10.2 dropped it
  });

  test("the libvirt fallback is reported as a taint warning", () => {
    const r = resolve({ paravirt: { pvIpi: true } });
    expect(r.diagnostics.find((d) => d.code === "libvirt-custom-argv")?.message).toMatch(
      /kvm-pv-ipi=on \(libvirt's <pv-ipi> emits nothing/,
    );
    expect(codes(resolve({ paravirt: { pvIpi: false, pvEoi: true } }))).not.toContain("libvirt-custom-argv");
  });

  test("x2apic needs an in-kernel irqchip: on by default with kernel and split, off with irqchip off (dropped if asked for)", () => {
    // the README's x2apic claim; the QEMU oracle reads the realized x2apic where /dev/kvm exists
    expect(resolve({}).x2apic).toEqual({ enabled: true, dropped: false });
    expect(resolve({ irqchip: "split" }).x2apic).toEqual({ enabled: true, dropped: false });
    expect(resolve({ irqchip: "off" }).x2apic).toEqual({ enabled: false, dropped: false });
    const asked = resolve({ irqchip: "off", x2apic: true });
    expect(asked.x2apic).toEqual({ enabled: false, requested: true, dropped: true });
    expect(codes(asked)).toContain("x2apic-needs-irqchip");
    expect(resolve({ accel: "tcg" }).x2apic.enabled).toBe(false);
  });

  test("without a host profile a current host is assumed, and said so", () => {
    const r = resolve({}, null);
    expect(r.host.qemu).toBe("10.2.0");
    expect(codes(r)).toContain("host-profile-assumed");
  });
});
