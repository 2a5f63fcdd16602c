import { FEATURES } from "../../src/catalog/features";

/**
 * The configurations both oracles check: a grid over CPU class, machine type
 * and irqchip, hidden signature, TCG, and seeded random tri-states.
 * Host-passthrough-like modes disable arch-capabilities: on these nested test
 * machines QEMU aborts setting MSR 0x10a otherwise (a host quirk, not a PV fact).
 */

export interface OracleConfig {
  id: string;
  /** one spec domain, without name */
  domain: Record<string, unknown>;
}

const QUIRK = { "arch-capabilities": false };

const CPUS: Record<string, Record<string, unknown>> = {
  qemu64: { mode: "custom", model: "qemu64" },
  skylake: { mode: "custom", model: "Skylake-Client" },
  host: { mode: "host-passthrough", features: QUIRK },
  max: { mode: "maximum", features: QUIRK },
  "host-model": { mode: "host-model", features: QUIRK },
};

/** mulberry32: a small seeded PRNG so every run checks the same random configs */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const ORACLE_SEED = 20261126;

export function oracleConfigs(opts: { libvirt?: boolean } = {}): OracleConfig[] {
  const out: OracleConfig[] = [];
  // grid: CPU class x machine x irqchip (asyncpf-int off with irqchip off: QEMU aborts otherwise, a rule of ours)
  for (const cpu of ["qemu64", "host", "max", "host-model"])
    for (const machine of ["q35", "pc-q35-5.1"])
      for (const irqchip of ["kernel", "split", "off"]) {
        if (cpu === "host-model" && !opts.libvirt && irqchip === "off") continue;
        out.push({
          id: `grid-${cpu}-${machine}-${irqchip}`,
          domain: { vcpus: 2, machine, irqchip, cpu: CPUS[cpu], ...(irqchip === "off" ? { paravirt: { asyncpfInt: false } } : {}) },
        });
      }
  out.push(
    { id: "pc-i440fx-5.1-split", domain: { machine: "pc-i440fx-5.1", irqchip: "split", cpu: CPUS.qemu64 } },
    { id: "pc-split-skylake", domain: { machine: "pc", irqchip: "split", cpu: CPUS.skylake } },
    { id: "hidden-qemu64", domain: { cpu: CPUS.qemu64, paravirt: { hidden: true } } },
    { id: "hidden-host-hint", domain: { cpu: CPUS.host, paravirt: { hidden: true, hintDedicated: true } } },
    { id: "hidden-requests-pv", domain: { cpu: CPUS.qemu64, paravirt: { hidden: true, pvIpi: true, kvmclock: true } } },
    { id: "hidden-false-explicit", domain: { cpu: CPUS.qemu64, paravirt: { hidden: false, pvIpi: true } } },
    { id: "tcg-qemu64", domain: { accel: "tcg", cpu: CPUS.qemu64 } },
    {
      id: "tcg-max-requests",
      domain: { accel: "tcg", cpu: { mode: "maximum" }, paravirt: { pvIpi: true, hintDedicated: true, kvmclock: true } },
    },
    { id: "msi-requested-kernel-irqchip", domain: { cpu: CPUS.qemu64, paravirt: { msiExtDestId: true } } },
    {
      id: "msi-requested-5.1-split",
      domain: { machine: "pc-q35-5.1", irqchip: "split", cpu: CPUS.qemu64, paravirt: { msiExtDestId: true } },
    },
    { id: "msi-off-split-host", domain: { irqchip: "split", cpu: CPUS.host, paravirt: { msiExtDestId: false } } },
    { id: "mmu-requested", domain: { cpu: CPUS.qemu64, paravirt: { mmu: true } } },
    { id: "unhalt-irqchip-off", domain: { irqchip: "off", cpu: CPUS.qemu64, paravirt: { pvUnhalt: true } } },
    { id: "kvmclock-off-stable-stays", domain: { cpu: CPUS.qemu64, paravirt: { kvmclock: false } } },
    { id: "host-pv-ipi-off-hint", domain: { irqchip: "split", cpu: CPUS.host, paravirt: { pvIpi: false, hintDedicated: true } } },
    {
      id: "host-all-off",
      domain: {
        cpu: CPUS.host,
        paravirt: Object.fromEntries(
          FEATURES.filter((f) => f.kind === "kvm-bit" && f.qemu !== "kvm-asyncpf-vmexit").map((f) => [f.specKey, false]),
        ),
      },
    },
    {
      id: "qemu64-all-on",
      domain: {
        vcpus: 4,
        irqchip: "split",
        cpu: CPUS.qemu64,
        paravirt: Object.fromEntries(
          FEATURES.filter((f) => f.kind === "kvm-bit" && !["kvm-mmu", "kvm-asyncpf-vmexit"].includes(f.qemu)).map((f) => [f.specKey, true]),
        ),
      },
    },
    { id: "enforce-cpuid", domain: { cpu: CPUS.qemu64, paravirt: { pvEnforceCpuid: true, pvIpi: true } } },
    { id: "x2apic-off-split", domain: { irqchip: "split", x2apic: false, cpu: CPUS.qemu64 } },
  );
  const rand = prng(ORACLE_SEED);
  const keys = FEATURES.filter((f) => f.qemu !== "kvm-asyncpf-vmexit").map((f) => f.specKey);
  const cpuNames = Object.keys(CPUS).filter((c) => opts.libvirt || c !== "host-model");
  const machines = ["q35", "pc", "pc-q35-5.1", "pc-i440fx-5.1", "pc-q35-7.2"];
  const irqchips = ["kernel", "split", "off"];
  for (let i = 0; out.length < (opts.libvirt ? 48 : 72); i++) {
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const paravirt: Record<string, boolean> = {};
    for (const k of keys) {
      const x = rand();
      if (k === "hidden") {
        if (x < 0.1) paravirt.hidden = true;
        continue;
      }
      if (x < 0.2) paravirt[k] = true;
      else if (x < 0.4) paravirt[k] = false;
    }
    const irqchip = pick(irqchips);
    out.push({
      id: `random-${i}`,
      domain: { vcpus: 1 + Math.floor(rand() * 4), machine: pick(machines), irqchip, cpu: CPUS[pick(cpuNames)], paravirt },
    });
  }
  return out;
}
