/**
 * The core bench's workload: `n` domains from a seeded generator (the same every run), with
 * random vCPUs, machine, irqchip, CPU mode and about 30% of the PV keys set. It takes the
 * catalog's spec keys as an argument, so that `bench:reference` can build the same workload
 * for an older commit from that commit's own catalog.
 */
export function benchDomains(specKeys: readonly string[], n: number): Record<string, unknown>[] {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  return Array.from({ length: n }, (_, i) => ({
    name: `bench-${i}`,
    vcpus: 1 + Math.floor(rand() * 16),
    machine: pick(["q35", "pc", "pc-q35-5.1", "pc-q35-7.2"]),
    irqchip: pick(["kernel", "split", "off"]),
    cpu: pick([{ mode: "custom", model: "qemu64" }, { mode: "host-passthrough" }, { mode: "host-model" }, { mode: "maximum" }]),
    paravirt: Object.fromEntries(specKeys.filter(() => rand() < 0.3).map((k) => [k, rand() < 0.5])),
  }));
}
