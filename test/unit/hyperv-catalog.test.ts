import fs from "node:fs";
import path from "node:path";
import { HYPERV_BY_QEMU_NAME, HYPERV_FEATURES, HYPERV_KEY_NAMES, HYPERV_VALUES } from "../../src/catalog/hyperv";
import { atLeast } from "../../src/util/version";
import { ROOT } from "../helpers/specs";

/**
 * The Hyper-V catalog against what the real QEMU 7.2.22 did (test/fixtures/hyperv-observed,
 * recorded by scripts/record-hyperv.js on a host whose KVM has no Hyper-V): its property list,
 * and each flag alone under KVM and under TCG, outcome and message, at the guest's CPUID.
 */

interface Rec {
  purpose: string;
  outcome: "started" | "refused" | "aborted" | "timeout";
  message: string | null;
  qom: Record<string, unknown> | null;
  kvmSetCpuid2: { calls: number; decoded?: { hypervInterface: boolean } };
  guest: { skipped?: boolean; decoded?: { hypervInterface: boolean } };
}
interface Recording {
  provenance: { qemuVersion: string };
  hvProperties: { name: string; type: string }[];
  records: Rec[];
}
const FIX = path.join(ROOT, "test/fixtures/hyperv-observed");
const KVM = JSON.parse(fs.readFileSync(path.join(FIX, "7.2.22-kvm.json"), "utf8")) as Recording;
const TCG = JSON.parse(fs.readFileSync(path.join(FIX, "7.2.22-tcg.json"), "utf8")) as Recording;
const OUTCOME = { started: "starts", refused: "refused", aborted: "aborts" } as const;
const single = (rec: Recording, prop: string) => rec.records.find((r) => r.purpose === `single: ${prop}=on`);

describe("the Hyper-V catalog against QEMU 7.2.22's own property list", () => {
  const booleans = KVM.hvProperties.filter((p) => p.type === "bool" && !p.name.startsWith("x-")).map((p) => p.name);

  test("every boolean hv-* flag QEMU has is a row (or an alias), hv-passthrough the mode", () => {
    const missing = booleans.filter((n) => n !== HYPERV_VALUES.passthrough.qemu && !HYPERV_BY_QEMU_NAME.has(n));
    expect(missing).toEqual([]);
  });

  test("every row QEMU 7.2 should have is in its list, with its aliases; none newer than the rows say", () => {
    for (const r of HYPERV_FEATURES) {
      expect(atLeast(KVM.provenance.qemuVersion, r.qemuSince)).toBe(true);
      expect(booleans).toContain(r.qemu);
      for (const a of r.aliases.filter((x) => x.includes("-"))) expect(booleans).toContain(a);
    }
    expect(KVM.hvProperties.find((p) => p.name === HYPERV_VALUES.spinlocks.qemu)?.type).toBe("uint32");
    expect(KVM.hvProperties.find((p) => p.name === HYPERV_VALUES.vendorId.qemu)?.type).toBe("str");
  });

  test("rows in QEMU's feature order, keys unique, dependencies name earlier-checked rows or later ones by key", () => {
    expect(HYPERV_FEATURES.map((r) => r.key)).toEqual([...HYPERV_KEY_NAMES]);
    for (const r of HYPERV_FEATURES) for (const d of r.requires) expect(HYPERV_KEY_NAMES).toContain(d);
  });
});

describe.each([
  ["KVM without Hyper-V", KVM, "withoutHostHyperv"],
  ["TCG", TCG, "underTcg"],
] as const)("each flag alone under %s: what QEMU 7.2.22 really did", (_what, rec, field) => {
  test.each(HYPERV_FEATURES.map((r) => [r.qemu, r] as const))("%s", (qemu, row) => {
    const r = single(rec, qemu);
    expect(r).toBeDefined();
    const expected = row[field];
    expect(OUTCOME[r!.outcome as keyof typeof OUTCOME]).toBe(expected.outcome);
    if (expected.outcome === "starts") {
      expect(r!.message).toBeNull();
      // QOM says on, the guest gets no Hyper-V leaf: at KVM_SET_CPUID2 (KVM) and at the guest's own CPUID
      expect(r!.qom![qemu]).toBe(true);
      expect(r!.guest.decoded!.hypervInterface).toBe(false);
      if (rec === KVM) expect(r!.kvmSetCpuid2.decoded!.hypervInterface).toBe(false);
    } else {
      expect(r!.message).toBe(`qemu-system-x86_64: ${expected.message}`);
    }
  });
});

test.each([
  ["KVM without Hyper-V", KVM],
  ["TCG", TCG],
])("hv-no-nonarch-coresharing on and auto start under %s, QOM as set, no Hyper-V leaf (the catalog says QEMU 7.2 has it)", (_w, rec) => {
  expect(atLeast(rec.provenance.qemuVersion, HYPERV_VALUES.noNonarchCoresharing.qemuSince)).toBe(true);
  expect(rec.hvProperties.find((p) => p.name === HYPERV_VALUES.noNonarchCoresharing.qemu)?.type).toBe("OnOffAuto");
  for (const v of ["on", "auto"]) {
    const r = rec.records.find((x) => x.purpose === `single: ${HYPERV_VALUES.noNonarchCoresharing.qemu}=${v}`)!;
    expect(r.outcome).toBe("started");
    expect(r.qom![HYPERV_VALUES.noNonarchCoresharing.qemu]).toBe(v);
    expect(r.guest.decoded!.hypervInterface).toBe(false);
  }
});

test("a legacy spelling QEMU accepts is an alias (hv_relaxed)", () => {
  const r = KVM.records.find((x) => x.purpose === "legacy spelling hv_relaxed")!;
  expect(r.outcome).toBe("started");
  expect(r.qom!["hv-relaxed"]).toBe(true);
  expect(HYPERV_BY_QEMU_NAME.get("hv_relaxed")?.key).toBe("relaxed");
});
