import { MACHINE_COMPAT, resolveMachine } from "../../src/catalog/machines";
import { SUPPORTED_FIXUPS, fixupAgainst, supportedUnder } from "../../src/resolve/fixups";
import { resolveFeatures } from "../../src/resolve/resolve";
import { validateSpecObject } from "../../src/input/load";
import { DEBIAN12 } from "../helpers/specs";

/** QEMU's irqchip fix-ups and the machine compat defaults: data in one place each, and what the resolver does with them. */
const spec = (d: Record<string, unknown>) => validateSpecObject({ domains: [{ name: "f", ...d }] }).domains[0].spec!;

describe("context fix-ups (kvm_arch_get_supported_cpuid)", () => {
  test("each row names the QEMU source line it comes from", () => {
    expect(SUPPORTED_FIXUPS.map((f) => [f.feature, f.effect, f.cause])).toEqual([
      ["kvm-pv-unhalt", "remove", "needs-kernel-irqchip"],
      ["kvm-msi-ext-dest-id", "add", "needs-split-irqchip"],
      ["x2apic", "remove", "needs-kernel-irqchip"],
    ]);
    for (const f of SUPPORTED_FIXUPS) expect(f.source).toMatch(/^kvm_arch_get_supported_cpuid/);
  });

  test("supportedUnder: unhalt goes without the in-kernel irqchip, msi-ext-dest-id comes with split", () => {
    const offered = new Set(["kvm-pv-unhalt", "kvmclock"]);
    expect([...supportedUnder(offered, "kernel")].sort()).toEqual(["kvm-pv-unhalt", "kvmclock"]);
    expect([...supportedUnder(offered, "split")].sort()).toEqual(["kvm-msi-ext-dest-id", "kvm-pv-unhalt", "kvmclock"]);
    expect([...supportedUnder(offered, "off")].sort()).toEqual(["kvmclock"]);
    expect(offered.size).toBe(2); // not modified
  });

  test("fixupAgainst names the fix-up that takes a feature away in a context, and only then", () => {
    expect(fixupAgainst("kvm-pv-unhalt", "off")?.cause).toBe("needs-kernel-irqchip");
    expect(fixupAgainst("kvm-pv-unhalt", "split")).toBeUndefined();
    expect(fixupAgainst("kvm-msi-ext-dest-id", "kernel")?.cause).toBe("needs-split-irqchip");
    expect(fixupAgainst("kvm-msi-ext-dest-id", "split")).toBeUndefined();
    expect(fixupAgainst("x2apic", "off")?.cause).toBe("needs-kernel-irqchip");
    expect(fixupAgainst("kvmclock", "off")).toBeUndefined();
  });

  test("the resolver drops what a fix-up takes away, with the fix-up's cause", () => {
    const r = resolveFeatures(spec({ irqchip: "off", x2apic: true, paravirt: { pvUnhalt: true } }), DEBIAN12);
    expect(r.features.get("kvm-pv-unhalt")).toMatchObject({ enabled: false, source: "dropped", dropCause: "needs-kernel-irqchip" });
    expect(r.x2apic).toEqual({ enabled: false, requested: true, dropped: true });
    const split = resolveFeatures(spec({ irqchip: "split", x2apic: true }), DEBIAN12);
    expect(split.x2apic).toEqual({ enabled: true, requested: true, dropped: false });
    expect(split.features.get("kvm-msi-ext-dest-id")).toMatchObject({ enabled: true, source: "implied" });
  });
});

describe("machine compat as data (pc_compat_*)", () => {
  test("each row names its QEMU source; 5.1 and older carry pc_compat_5_1, 5.2 does not", () => {
    for (const c of MACHINE_COMPAT) expect(c.source).toMatch(/^hw\/i386\/pc\.c pc_compat_\d+_\d+\[\]/);
    expect([...resolveMachine("pc-q35-5.1", DEBIAN12).compat.keys()]).toEqual(["kvm-msi-ext-dest-id"]);
    expect([...resolveMachine("pc-i440fx-4.2", DEBIAN12).compat.keys()]).toEqual(["kvm-msi-ext-dest-id"]);
    expect([...resolveMachine("pc-q35-5.2", DEBIAN12).compat.keys()]).toEqual([]);
    expect([...resolveMachine("q35", DEBIAN12).compat.keys()]).toEqual([]);
  });

  test("a compat default applies unless the spec sets the property", () => {
    const old = resolveFeatures(spec({ machine: "pc-q35-5.1", irqchip: "split" }), DEBIAN12);
    expect(old.features.get("kvm-msi-ext-dest-id")).toMatchObject({ enabled: false, source: "default", reason: MACHINE_COMPAT[0].reason });
    const set = resolveFeatures(spec({ machine: "pc-q35-5.1", irqchip: "split", paravirt: { msiExtDestId: true } }), DEBIAN12);
    expect(set.features.get("kvm-msi-ext-dest-id")).toMatchObject({ enabled: true, source: "explicit" });
  });
});
