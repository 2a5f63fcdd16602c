import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { resolveDomain } from "../../src/analyze";
import { parseHostProfileJson, type HostProfile } from "../../src/host/profile";
import { validateSpecObject } from "../../src/input/load";
import { predicted } from "../helpers/oracle";
import { QEMU_ABORTS, QEMU_LAST_LINE } from "../helpers/refusals";

/**
 * Replay of real KVM: what QEMU 7.2 realized under KVM for 600 random configurations
 * (test/fixtures/kvm-observed, measured data with its provenance), checked against the
 * resolver on any machine, /dev/kvm or not. Given the recording host's facts (its probe),
 * the resolver must predict every realized PV property and x2apic, and an error whose code
 * matches QEMU's reason for every configuration QEMU refused. A disagreement is a bug in the
 * resolver or the host facts, never in a record (their hashes are pinned).
 */
const DIR = path.join(__dirname, "../fixtures/kvm-observed");
const read = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");

interface ObservedRecord {
  spec: Record<string, unknown> & { name: string; accel?: string };
  qemuArgs: string[];
  qemu: { started: true; props: Record<string, boolean> } | { started: false; error: string };
}
const records = read("observed.jsonl")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as ObservedRecord);

const parsed = parseHostProfileJson(read("probe.json"));
if (!("profile" in parsed)) throw new Error(`probe.json is not a host profile: ${parsed.path} ${parsed.message}`);
const HOST: HostProfile = parsed.profile;

function resolve(spec: Record<string, unknown>) {
  const d = validateSpecObject({ domains: [spec] }).domains[0];
  if (!d.spec) throw new Error(`record spec is not valid: ${JSON.stringify(d.diagnostics)}`);
  return resolveDomain(d.spec, HOST);
}

/** The predicted values of the recorded properties (a property the resolver does not predict shows as undefined). */
const only = (want: Record<string, boolean>, got: Record<string, boolean>) => Object.fromEntries(Object.keys(got).map((k) => [k, want[k]]));

describe("the KVM observations (test/fixtures/kvm-observed)", () => {
  test("are the recorded files, unedited (SHA-256 as in their README)", () => {
    const readme = read("README.md");
    for (const f of ["observed.jsonl", "host.json", "probe.json"]) {
      const sha = createHash("sha256")
        .update(fs.readFileSync(path.join(DIR, f)))
        .digest("hex");
      expect(`${f} ${sha}`).toBe(`${f} ${new RegExp(`\\| ${f.replace(".", "\\.")} \\| ([0-9a-f]{64}) \\|`).exec(readme)?.[1]}`);
    }
  });

  test("cover what the README says: 600 records, 593 started, 7 refused, KVM and TCG, both passthrough and named models", () => {
    expect(records).toHaveLength(600);
    expect(records.filter((r) => r.qemu.started)).toHaveLength(593);
    expect(new Set(records.map((r) => r.spec.accel))).toEqual(new Set(["kvm", "tcg"]));
    expect(new Set(records.map((r) => (r.spec.cpu as { mode: string }).mode))).toEqual(new Set(["custom", "host-passthrough"]));
    expect(HOST).toMatchObject({ qemu: "7.2.22", source: "probe", kvm: { available: true } });
  });

  test("-cpu host as realized there is what the resolver predicts for host passthrough", () => {
    const host = JSON.parse(read("host.json")) as { hostPassthroughRealized: Record<string, boolean> };
    const r = resolve({ name: "passthrough", cpu: { mode: "host-passthrough", features: { "arch-capabilities": false } } });
    expect(only(predicted(r), host.hostPassthroughRealized)).toEqual(host.hostPassthroughRealized);
  });
});

describe("the resolver predicts what QEMU realized under KVM", () => {
  test.each(records.map((r) => [r.spec.name, r] as const))("%s", (_name, rec) => {
    const r = resolve(rec.spec);
    const errors = r.diagnostics.filter((d) => d.severity === "error").map((d) => d.code);
    if (!rec.qemu.started) {
      // a refusal: some predicted error must be a refusal whose text is QEMU's last line
      const why = rec.qemu.error;
      const matching = errors.filter((c) => QEMU_ABORTS.has(c) && QEMU_LAST_LINE.get(c)?.test(why));
      expect({ refused: why, predicted: errors, matching: matching.length > 0 }).toEqual({
        refused: why,
        predicted: errors,
        matching: true,
      });
      return;
    }
    // it started: no refusal predicted, and every property as realized (`kvm` means something under KVM only)
    expect(errors.filter((c) => QEMU_ABORTS.has(c))).toEqual([]);
    const want = predicted(r);
    const got = { ...rec.qemu.props };
    if (rec.spec.accel === "tcg") delete got.kvm;
    expect({ args: rec.qemuArgs, props: only(want, got) }).toEqual({ args: rec.qemuArgs, props: got });
  });
});
