import fs from "node:fs";
import path from "node:path";
import {
  FEATURES,
  FEATURE_BY_QEMU_NAME,
  SPEC_KEY_NAMES,
  featureByKey,
  specValue,
  versionFacts,
  type SpecKey,
} from "../../src/catalog/features";
import { RULES } from "../../src/checks/rules";
import { featuresDoc } from "../../src/docs";
import { startPausedQemu } from "../../src/system/qemu";
import { describeWith } from "../helpers/env";
import { atLeast } from "../../src/util/version";
import { ROOT } from "../helpers/specs";

const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

describe("catalog", () => {
  test("one row per knob the issue lists, spec keys are the QEMU names without kvm-, camelCase", () => {
    expect(FEATURES.map((f) => f.qemu)).toEqual([
      "kvmclock",
      "kvm-nopiodelay",
      "kvm-mmu",
      "kvm-asyncpf",
      "kvm-steal-time",
      "kvm-pv-eoi",
      "kvm-pv-unhalt",
      "kvm-pv-tlb-flush",
      "kvm-asyncpf-vmexit",
      "kvm-pv-ipi",
      "kvm-poll-control",
      "kvm-pv-sched-yield",
      "kvm-asyncpf-int",
      "kvm-msi-ext-dest-id",
      "kvmclock-stable-bit",
      "kvm-hint-dedicated",
      "kvm-pv-enforce-cpuid",
      "kvm",
    ]);
    for (const f of FEATURES) {
      if (f.qemu === "kvm") expect(f.specKey).toBe("hidden");
      else expect(f.specKey).toBe(camel(f.qemu.replace(/^kvm-/, "")));
    }
  });

  test("the SpecKey type lists exactly the catalog's spec keys, in catalog order", () => {
    expect([...SPEC_KEY_NAMES]).toEqual(FEATURES.map((f) => f.specKey));
  });

  test("names, aliases and CPUID bits are unique; aliases are the underscore spellings", () => {
    expect(FEATURE_BY_QEMU_NAME.size).toBe(FEATURES.length + FEATURES.reduce((n, f) => n + f.aliases.length, 0));
    for (const f of FEATURES) for (const a of f.aliases) expect(a).toBe(f.qemu.replace(/-/g, "_"));
    const bits = FEATURES.flatMap((f) => (f.cpuid ? f.cpuid.bits.map((b) => `${f.cpuid!.register}${b}`) : []));
    expect(new Set(bits).size).toBe(bits.length);
  });

  test("every row is complete: version facts, description, evidence", () => {
    for (const f of FEATURES) {
      expect(f.qemuSince).toMatch(/^\d+\.\d+$/);
      expect(f.description.length).toBeGreaterThan(20);
      expect(f.evidence.length).toBeGreaterThan(0);
      if (f.kind === "kvm-bit" && f.reportedByKvm) expect(f.hostKernelMin).toMatch(/^\d+\.\d+/);
      if (f.libvirt) expect(f.libvirt.values.true).not.toBe(f.libvirt.values.false);
    }
  });

  test("rule codes are unique and kebab-case", () => {
    const codes = RULES.map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  test("docs/features.md is generated from the catalog (npm run gen:docs)", () => {
    expect(fs.readFileSync(path.join(ROOT, "docs/features.md"), "utf8")).toBe(featuresDoc());
  });
});

describe("row lookups", () => {
  test("featureByKey names a key the catalog lacks", () => {
    expect(() => featureByKey("nope" as SpecKey)).toThrow("no catalog row for nope");
  });
  test("specValue: the spec's on/off is the QEMU property's, or its inverse for the one inverted row", () => {
    const inverted = FEATURES.filter((f) => f.specInverted).map((f) => f.specKey);
    expect(inverted).toEqual(["hidden"]);
    expect([specValue(featureByKey("hidden"), true), specValue(featureByKey("hidden"), false)]).toEqual([false, true]);
    expect([specValue(featureByKey("pvEoi"), true), specValue(featureByKey("pvEoi"), false)]).toEqual([true, false]);
  });
});

describe("every version fact has a trail to the source line it comes from", () => {
  // computed in each test, not at collection: Stryker's per-test coverage counts only code a test runs
  const facts = () => FEATURES.flatMap((f) => versionFacts(f).map((v) => ({ specKey: f.specKey, ...v })));
  const nonNull = () => facts().filter((v) => v.value !== null);
  const confirmed = () => nonNull().filter((v) => !v.source?.startsWith("UNCONFIRMED"));

  test("a non-null fact has a non-empty source, a null fact a null source", () => {
    for (const v of facts()) {
      if (v.value === null) expect({ ...v, source: v.source }).toEqual({ ...v, source: null });
      else expect(v.source?.trim().length ?? 0).toBeGreaterThan(40);
    }
    // the optional facts: guestKernelMax and the libvirt since have a source exactly when the row has them
    for (const f of FEATURES) {
      expect([f.specKey, "guestKernelMax" in f.sources]).toEqual([f.specKey, f.guestKernelMax !== undefined]);
      expect([f.specKey, "libvirtSince" in f.sources]).toEqual([f.specKey, f.libvirt !== null]);
    }
  });

  test("each source opens with the project and the release it read, which is the fact's (or a point release of it)", () => {
    for (const v of confirmed()) {
      const m = /^(qemu|linux|libvirt) v?(\d+(?:\.\d+)*)\b/.exec(v.source!);
      expect({ ...v, read: m && { project: m[1], version: m[2] } }).toEqual({
        ...v,
        read: { project: v.project, version: expect.any(String) },
      });
      const read = m![2];
      expect({ ...v, read }).toEqual({ ...v, read: read === v.value || read.startsWith(`${v.value}.`) ? read : `${v.value}[.x]` });
    }
  });

  test("each source names a file: a path with a file extension, or a known document", () => {
    const file = /(?:^|[\s(])[\w.-]+(?:\/[\w.*-]+)+\.(?:c|h|rst|xml|html\.in|md)\b|\b(?:ChangeLog|NEWS|Makefile)\b/;
    for (const v of nonNull()) expect({ ...v, namesFile: file.test(v.source!) }).toEqual({ ...v, namesFile: true });
  });

  test("an UNCONFIRMED source says what was checked", () => {
    for (const v of nonNull().filter((x) => x.source!.startsWith("UNCONFIRMED"))) expect(v.source).toMatch(/^UNCONFIRMED: .{40,}/);
  });

  test("the optional facts are listed exactly when the row has the fact or its source, a missing side as null", () => {
    const names = (key: SpecKey) => versionFacts(featureByKey(key)).map((v) => v.fact);
    expect(names("mmu")).toEqual(["qemuSince", "hostKernelMin", "guestKernelMin", "guestKernelMax"]);
    expect(names("pvTlbFlush")).toEqual(["qemuSince", "hostKernelMin", "guestKernelMin"]);
    expect(names("pvEoi")).toEqual(["qemuSince", "hostKernelMin", "guestKernelMin", "libvirtSince"]);
    const row = featureByKey("pvTlbFlush");
    const last = (r: typeof row) => versionFacts(r).slice(3);
    expect(last({ ...row, guestKernelMax: "9.9" })).toEqual([{ fact: "guestKernelMax", project: "linux", value: "9.9", source: null }]);
    expect(last({ ...row, sources: { ...row.sources, guestKernelMax: "linux 9.9 x.c" } })).toEqual([
      { fact: "guestKernelMax", project: "linux", value: null, source: "linux 9.9 x.c" },
    ]);
    expect(last({ ...row, sources: { ...row.sources, libvirtSince: "libvirt 9.9 x.rst" } })).toEqual([
      { fact: "libvirtSince", project: "libvirt", value: null, source: "libvirt 9.9 x.rst" },
    ]);
  });

  test("the facts and their sources are pinned: changing one without the other fails here", () => {
    expect(nonNull().map((v) => `${v.specKey} ${v.fact} ${v.value}: ${v.source}`)).toMatchSnapshot();
  });
});

describeWith(["kvm", "qemu"], "catalog against the real QEMU", () => {
  test("every KVM PV property QEMU's host CPU model has is in the catalog, and every catalog row QEMU has is a boolean there", async () => {
    const q = await startPausedQemu(["-machine", "none", "-accel", "kvm"]);
    try {
      const exp = await q.qmp.execute<{ model: { props: Record<string, unknown> } }>("query-cpu-model-expansion", {
        type: "full",
        model: { name: "host" },
      });
      const props = exp.model.props;
      // kvm-no-smi-migration and x-hv-synic-kvm-only are not PV CPUID features
      const pvLike = Object.keys(props).filter((p) => /^kvm[-_]|^kvmclock/.test(p) && p !== "kvm-no-smi-migration");
      expect(pvLike.filter((p) => !FEATURE_BY_QEMU_NAME.has(p))).toEqual([]);
      const v = q.qmp.version!;
      const present = FEATURES.filter((f) => f.qemu !== "kvm")
        .filter((f) => typeof props[f.qemu] === "boolean")
        .map((f) => f.qemu);
      // only the rows newer than this QEMU may be missing
      const missingButOldEnough = FEATURES.filter(
        (f) => f.qemu !== "kvm" && !present.includes(f.qemu) && atLeast(`${v.major}.${v.minor}.${v.micro}`, f.qemuSince),
      );
      expect(missingButOldEnough.map((f) => f.qemu)).toEqual([]);
      for (const a of FEATURES.flatMap((f) => (present.includes(f.qemu) ? f.aliases : []))) expect(typeof props[a]).toBe("boolean");
    } finally {
      await q.stop();
    }
  });
});
