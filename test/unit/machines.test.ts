import { spawnSync } from "node:child_process";
import { modelDefinesX2apic } from "../../src/catalog/cpu-models";
import { isMachineSyntax, resolveMachine } from "../../src/catalog/machines";
import { ASSUMED_HOST, type HostProfile } from "../../src/host/profile";
import { describeWith } from "../helpers/env";
import { DEBIAN12 } from "../helpers/specs";

/**
 * The machine-type catalog: which type an alias stands for, what a host's QEMU lacks, and the
 * compat defaults a machine version sets. The probed host (Debian 12, QEMU 7.2) is checked
 * against the real QEMU here; the same QEMU without its machine list stands for a host whose
 * profile has none (the floor table).
 */
const QEMU72_NO_LIST: HostProfile = { ...DEBIAN12, machines: undefined, source: "file" };

describe("machine syntax", () => {
  test.each([
    ["q35", true],
    ["pc", true],
    ["pc-q35-7.2", true],
    ["pc-i440fx-2.12", true],
    ["pc-i440fx-7.2.1", true],
    ["pc-q35-7", false],
    ["pc-q35-7.2 ", false],
    ["xpc-q35-7.2", false],
    ["pc-q35-7.2x", false],
    ["pc-q35-1234.1", false],
    ["pc-virt-7.2", false],
    ["microvm", false],
    ["constructor", false],
    ["", false],
  ])("%j: %s", (text, ok) => {
    expect(isMachineSyntax(text)).toBe(ok);
  });

  test("a name the syntax refuses is a programming error past the schema", () => {
    expect(() => resolveMachine("microvm", DEBIAN12)).toThrow("not a machine type: microvm");
  });
});

describe("machine compat that removes a KVM default (pc_compat_1_7: x2apic)", () => {
  test.each([
    ["pc-i440fx-1.4", ["x2apic"]],
    ["pc-i440fx-1.7", ["x2apic"]],
    ["pc-i440fx-2.0", []],
    ["pc-i440fx-7.2", []],
    // the row is pc_piix.c's: a q35 type of the same version (none exists) would not get it
    ["pc-q35-1.7", []],
    ["pc-q35-2.4", []],
  ])("%s removes %j", (machine, removed) => {
    expect([...resolveMachine(machine, QEMU72_NO_LIST).kvmDefaultsRemoved.keys()]).toEqual(removed);
  });
});

describe("named models whose definition has x2apic (X2APIC_MODEL_FAMILIES)", () => {
  test.each([
    ["Broadwell", true],
    ["Broadwell-v2", true],
    ["Skylake-Client-IBRS", true],
    ["Skylake-Client-noTSX-IBRS", true],
    ["Denverton-v3", true],
    ["Westmere", false],
    ["Westmere-IBRS", false],
    ["EPYC-Rome", false],
    ["qemu64", false],
    // a family's name inside another name is not the family
    ["Old-Broadwell", false],
    ["Broadwellx", false],
    ["Skylake", false],
  ])("%s: %s", (model, has) => {
    expect(modelDefinesX2apic(model)).toBe(has);
  });
});

describe("resolveMachine", () => {
  test("an alias is what the host's QEMU points it at, and the XML names that type", () => {
    expect(resolveMachine("q35", DEBIAN12)).toMatchObject({
      requested: "q35",
      resolved: "pc-q35-7.2",
      rendered: "pc-q35-7.2",
      family: "q35",
      version: "7.2",
      problem: null,
    });
    expect(resolveMachine("pc", DEBIAN12)).toMatchObject({ resolved: "pc-i440fx-7.2", family: "i440fx", version: "7.2" });
    // the list's alias wins over the QEMU version (a distribution may point q35 at an older type)
    const pinned: HostProfile = { ...DEBIAN12, machines: [{ name: "pc-q35-7.1", alias: "q35" }] };
    expect(resolveMachine("q35", pinned)).toMatchObject({ resolved: "pc-q35-7.1", version: "7.1", problem: null });
  });

  test("without a machine list the alias is the family at the QEMU's major.minor; an assumed host renders the alias as written", () => {
    expect(resolveMachine("pc", QEMU72_NO_LIST)).toMatchObject({ resolved: "pc-i440fx-7.2", rendered: "pc-i440fx-7.2", problem: null });
    expect(resolveMachine("q35", ASSUMED_HOST)).toMatchObject({
      resolved: "pc-q35-10.2",
      rendered: "q35",
      version: "10.2",
      problem: null,
    });
    expect(resolveMachine("pc-q35-9.0", ASSUMED_HOST)).toMatchObject({ resolved: "pc-q35-9.0", rendered: "pc-q35-9.0" });
  });

  test("a QEMU version given as a bare major is major.0", () => {
    expect(resolveMachine("q35", { ...QEMU72_NO_LIST, qemu: "8" }).resolved).toBe("pc-q35-8.0");
  });

  test("a type the host's machine list lacks is a problem naming the host's QEMU", () => {
    expect(resolveMachine("pc-q35-8.0", DEBIAN12).problem).toBe("the host's QEMU 7.2.22 has no machine type pc-q35-8.0");
    // a listed type is fine even where the floor table would refuse it: the list wins
    const listed: HostProfile = { ...DEBIAN12, machines: [{ name: "pc-i440fx-1.2" }, { name: "pc-q35-9.0" }] };
    expect(resolveMachine("pc-i440fx-1.2", listed).problem).toBeNull();
    expect(resolveMachine("pc-q35-9.0", listed).problem).toBeNull();
  });

  test("without a machine list: newer than the QEMU, or older than the oldest type it keeps", () => {
    expect(resolveMachine("pc-q35-7.2", QEMU72_NO_LIST).problem).toBeNull();
    expect(resolveMachine("pc-q35-8.0", QEMU72_NO_LIST).problem).toBe("pc-q35-8.0 is newer than the host's QEMU 7.2.22");
    expect(resolveMachine("pc-q35-2.4", QEMU72_NO_LIST).problem).toBeNull();
    expect(resolveMachine("pc-q35-2.3", QEMU72_NO_LIST).problem).toBe(
      "pc-q35-2.3 is older than the oldest q35 type QEMU 7.2.22 keeps (2.4)",
    );
    expect(resolveMachine("pc-i440fx-1.4", QEMU72_NO_LIST).problem).toBeNull();
    expect(resolveMachine("pc-i440fx-1.3", QEMU72_NO_LIST).problem).toBe(
      "pc-i440fx-1.3 is older than the oldest i440fx type QEMU 7.2.22 keeps (1.4)",
    );
    // QEMU 10.2 dropped the types before 2.6 (hw/i386/pc_q35.c, pc_piix.c of 10.2)
    expect(resolveMachine("pc-q35-2.6", ASSUMED_HOST).problem).toBeNull();
    expect(resolveMachine("pc-i440fx-2.5", ASSUMED_HOST).problem).toBe(
      "pc-i440fx-2.5 is older than the oldest i440fx type QEMU 10.2.0 keeps (2.6)",
    );
    expect(resolveMachine("pc-q35-10.2", ASSUMED_HOST).problem).toBeNull();
    expect(resolveMachine("pc-q35-10.3", ASSUMED_HOST).problem).toBe("pc-q35-10.3 is newer than the host's QEMU 10.2.0");
  });

  test("machine compat: 5.1 and older force kvm-msi-ext-dest-id off, 5.2 and newer do not", () => {
    const compat = (m: string) => [...resolveMachine(m, ASSUMED_HOST).compat.entries()].map(([k, c]) => [k, c.value]);
    expect(compat("pc-q35-5.1")).toEqual([["kvm-msi-ext-dest-id", false]]);
    expect(compat("pc-i440fx-4.0")).toEqual([["kvm-msi-ext-dest-id", false]]);
    expect(compat("pc-q35-5.2")).toEqual([]);
    expect(compat("pc-q35-10.0")).toEqual([]);
    expect(compat("q35")).toEqual([]);
    // a distribution's type without a version (an alias target from the host's list) gets no compat rows
    const ubuntu: HostProfile = { ...DEBIAN12, qemu: "6.2.0", machines: [{ name: "pc-q35-jammy", alias: "q35" }] };
    expect(resolveMachine("q35", ubuntu)).toMatchObject({ resolved: "pc-q35-jammy", version: "jammy", problem: null });
    expect([...resolveMachine("q35", ubuntu).compat.keys()]).toEqual([]);
  });
});

describeWith(["qemu"], "machine types against the real QEMU", () => {
  const real = spawnSync("qemu-system-x86_64", ["-machine", "help"], { encoding: "utf8" })
    .stdout.split("\n")
    .map((l) => l.split(/\s+/)[0])
    .filter((n) => /^pc-(q35|i440fx)-/.test(n));

  test("the probed profile's machine list is this QEMU's", () => {
    expect(DEBIAN12.machines!.map((m) => m.name).sort()).toEqual([...real].sort());
  });

  test("the floor table for this QEMU's release accepts every type it has and refuses the ones below", () => {
    const host = {
      ...QEMU72_NO_LIST,
      qemu: spawnSync("qemu-system-x86_64", ["--version"], { encoding: "utf8" }).stdout.match(/version (\d+\.\d+)/)![1],
    };
    expect(real.length).toBeGreaterThan(10);
    for (const name of real) expect([name, resolveMachine(name, host).problem]).toEqual([name, null]);
    for (const family of ["q35", "i440fx"] as const) {
      const oldest = real
        .filter((n) => n.startsWith(`pc-${family}-`))
        .map((n) => n.slice(`pc-${family}-`.length))
        .sort((a, b) => Number(a.split(".")[0]) - Number(b.split(".")[0]) || Number(a.split(".")[1]) - Number(b.split(".")[1]))[0];
      const [major, minor] = oldest.split(".").map(Number);
      const below = minor > 0 ? `${major}.${minor - 1}` : `${major - 1}.9`;
      expect(real).not.toContain(`pc-${family}-${below}`);
      expect(resolveMachine(`pc-${family}-${below}`, host).problem).toMatch(/is older than the oldest/);
    }
  });
});
