import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseHostProfileJson } from "../../src/host/profile";
import { validateSpecObject } from "../../src/input/load";
import { describeWith } from "../helpers/env";

/**
 * scripts/record-kvm.js (`npm run record:kvm`) records the KVM observation corpus on this host:
 * a few configurations into a temporary folder, in the corpus's format, and the same seed draws
 * the same configurations and arguments.
 */
const ROOT = path.join(__dirname, "..", "..");
const SCRIPT = path.join(ROOT, "scripts", "record-kvm.js");
/** its first six draw host passthrough (one with the irqchip off), hidden under KVM, TCG, x2apic, other flags (see the first test) */
const SEED = 20261649;

/** every vCPU property a started record carries: the measured corpus's own set (its first record) */
const PROPS = Object.keys(
  (
    JSON.parse(fs.readFileSync(path.join(ROOT, "test/fixtures/kvm-observed/observed.jsonl"), "utf8").split("\n")[0]) as {
      qemu: { props: Record<string, boolean> };
    }
  ).qemu.props,
);
const HOST_KEYS = ["recordedAt", "seed", "qemu", "libvirt", "hostKernel", "hostCpu", "nested", "hostPassthroughRealized", "note"];
/** spec paravirt key -> QEMU property (written here again: the test checks the script's mapping) */
const PV_QEMU: Record<string, string> = {
  kvmclock: "kvmclock",
  nopiodelay: "kvm-nopiodelay",
  asyncpf: "kvm-asyncpf",
  stealTime: "kvm-steal-time",
  pvEoi: "kvm-pv-eoi",
  pvUnhalt: "kvm-pv-unhalt",
  pvTlbFlush: "kvm-pv-tlb-flush",
  pvIpi: "kvm-pv-ipi",
  pollControl: "kvm-poll-control",
  pvSchedYield: "kvm-pv-sched-yield",
  asyncpfInt: "kvm-asyncpf-int",
  msiExtDestId: "kvm-msi-ext-dest-id",
  kvmclockStableBit: "kvmclock-stable-bit",
  hintDedicated: "kvm-hint-dedicated",
};

interface Spec {
  name: string;
  vcpus: number;
  accel: "kvm" | "tcg";
  irqchip: "kernel" | "split" | "off";
  machine: string;
  memoryMiB: number;
  cpu: { mode: string; model?: string; features?: Record<string, boolean> };
  paravirt?: Record<string, boolean>;
  x2apic?: boolean;
}
interface Rec {
  spec: Spec;
  qemuArgs: string[];
  qemu: { started: true; props: Record<string, boolean> } | { started: false; error: string };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "record-kvm-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function record(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120000 });
  return { status: r.status, stderr: r.stderr };
}

function recordInto(name: string, n: number, seed: number, extra: string[] = []): { dir: string; records: Rec[] } {
  const dir = path.join(tmp, name);
  const r = record(["--n", String(n), "--seed", String(seed), "--out", dir, ...extra]);
  if (r.status !== 0) throw new Error(`record-kvm exited ${r.status}:\n${r.stderr}`);
  const lines = fs.readFileSync(path.join(dir, "observed.jsonl"), "utf8").split("\n");
  expect(lines.pop()).toBe(""); // one record a line, the last one ended too
  return { dir, records: lines.map((l) => JSON.parse(l) as Rec) };
}

/** the -cpu option's settings, name -> value */
function cpuSettings(args: string[]): { model: string; settings: Map<string, string> } {
  const [model, ...rest] = args[args.indexOf("-cpu") + 1].split(",");
  return { model, settings: new Map(rest.map((s) => s.split("=") as [string, string])) };
}

describeWith(["kvm", "qemu"], "npm run record:kvm records the KVM observation corpus", () => {
  let six: { dir: string; records: Rec[] };
  beforeAll(() => {
    six = recordInto("six", 6, SEED);
  });

  test("the seed's six cover the cases the checks below are about", () => {
    // the draws do not depend on the host's machine types or models: only the names drawn do
    const specs = six.records.map((r) => r.spec);
    expect(specs.some((s) => s.accel === "kvm" && s.paravirt?.hidden === true)).toBe(true);
    expect(specs.some((s) => s.accel === "tcg")).toBe(true);
    expect(specs.some((s) => s.cpu.mode === "host-passthrough" && s.irqchip === "off")).toBe(true);
    expect(specs.some((s) => s.x2apic !== undefined)).toBe(true);
    expect(specs.some((s) => s.cpu.mode === "custom" && s.cpu.features)).toBe(true);
    expect(specs.some((s) => s.paravirt && Object.keys(s.paravirt).length > 3)).toBe(true);
  });

  test("six records, each in the corpus's shape", () => {
    expect(six.records).toHaveLength(6);
    six.records.forEach((r, i) => {
      expect(Object.keys(r)).toEqual(["spec", "qemuArgs", "qemu"]);
      expect(r.spec.name).toBe(`obs-${i}`);
      expect(r.spec.memoryMiB).toBe(128);
      if (r.qemu.started) {
        expect(Object.keys(r.qemu)).toEqual(["started", "props"]);
        expect(Object.keys(r.qemu.props)).toEqual(PROPS);
        for (const v of Object.values(r.qemu.props)) expect(typeof v).toBe("boolean");
      } else {
        expect(Object.keys(r.qemu)).toEqual(["started", "error"]);
        expect(r.qemu.error).toMatch(/\S/);
      }
    });
  });

  test("each spec is a valid domain of the project's spec format", () => {
    for (const r of six.records) {
      const loaded = validateSpecObject({ domains: [r.spec] });
      expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(loaded.domains[0].diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(loaded.domains[0].spec).not.toBeNull();
    }
  });

  test("the arguments carry exactly the spec's explicit settings", () => {
    for (const { spec, qemuArgs } of six.records) {
      expect(qemuArgs.filter((a) => a.startsWith("-"))).toEqual(["-accel", "-machine", "-cpu", "-smp", "-m"]);
      const irq = { kernel: "on", split: "split", off: "off" }[spec.irqchip];
      expect(qemuArgs[qemuArgs.indexOf("-accel") + 1]).toBe(spec.accel === "tcg" ? "tcg" : `kvm,kernel-irqchip=${irq}`);
      expect(qemuArgs[qemuArgs.indexOf("-machine") + 1]).toBe(spec.machine);
      expect(qemuArgs[qemuArgs.indexOf("-smp") + 1]).toBe(String(spec.vcpus));
      expect(qemuArgs[qemuArgs.indexOf("-m") + 1]).toBe("128");
      const { model, settings } = cpuSettings(qemuArgs);
      const want = new Map<string, string>();
      const onOff = (b: boolean) => (b ? "on" : "off");
      for (const [k, v] of Object.entries(spec.paravirt ?? {}))
        want.set(k === "hidden" ? "kvm" : PV_QEMU[k], onOff(k === "hidden" ? !v : v));
      for (const [k, v] of Object.entries(spec.cpu.features ?? {})) want.set(k, onOff(v));
      if (spec.x2apic !== undefined) want.set("x2apic", onOff(spec.x2apic));
      expect(model).toBe(spec.cpu.mode === "host-passthrough" ? "host" : spec.cpu.model);
      expect(settings).toEqual(want);
      if (spec.cpu.mode === "host-passthrough") expect(spec.cpu.features?.["arch-capabilities"]).toBe(false);
    }
  });

  test("under KVM the kvm property is on exactly when the spec does not hide it", () => {
    for (const { spec, qemu } of six.records)
      if (qemu.started && spec.accel === "kvm") expect(qemu.props.kvm).toBe(spec.paravirt?.hidden !== true);
  });

  test("the same seed draws the same configurations and arguments; another seed others", () => {
    const again = recordInto("again", 3, SEED);
    expect(again.records.map((r) => [r.spec, r.qemuArgs])).toEqual(six.records.slice(0, 3).map((r) => [r.spec, r.qemuArgs]));
    const other = recordInto("other", 3, SEED + 1);
    expect(other.records.map((r) => r.spec)).not.toEqual(six.records.slice(0, 3).map((r) => r.spec));
  });

  test("host.json has the corpus's fields", () => {
    const host = JSON.parse(fs.readFileSync(path.join(six.dir, "host.json"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(host)).toEqual(HOST_KEYS);
    expect(host.recordedAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(host.seed).toBe(SEED);
    expect(host.qemu).toMatch(/^\d+\.\d+/);
    expect(host.hostKernel).toBe(os.release());
    expect(typeof host.nested).toBe("boolean");
    const realized = host.hostPassthroughRealized as Record<string, boolean>;
    expect(Object.keys(realized)).toEqual(PROPS);
    for (const v of Object.values(realized)) expect(typeof v).toBe("boolean");
    expect(realized.kvm).toBe(true);
    expect(host.note).toMatch(/-S/);
  });

  test("probe.json is a host profile the project reads", () => {
    const parsed = parseHostProfileJson(fs.readFileSync(path.join(six.dir, "probe.json"), "utf8"));
    expect("error" in parsed ? parsed : null).toBeNull();
  });

  test("a bad option is named, exit 2, no stack trace", () => {
    for (const [args, named] of [
      [["--n", "0"], "--n"],
      [["--n", "3", "--seed", "x"], "--seed"],
      [["--n", "3", "--bogus"], "--bogus"],
      [[], "--n"],
    ] as const) {
      const r = record([...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(named);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describeWith(["qemu"], "npm run record:kvm --allow-tcg-only records TCG only", () => {
  test("every record is TCG custom, started, and host.json has no host passthrough", () => {
    const { dir, records } = recordInto("tcg", 3, SEED, ["--allow-tcg-only"]);
    expect(records).toHaveLength(3);
    for (const r of records) {
      expect(r.spec.accel).toBe("tcg");
      expect(r.spec.cpu.mode).toBe("custom");
      expect(r.qemuArgs.slice(0, 2)).toEqual(["-accel", "tcg"]);
      expect(r.qemu.started && Object.keys(r.qemu.props)).toEqual(PROPS);
    }
    const host = JSON.parse(fs.readFileSync(path.join(dir, "host.json"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(host)).toEqual(HOST_KEYS);
    expect(host.hostPassthroughRealized).toBeNull();
  });
});
