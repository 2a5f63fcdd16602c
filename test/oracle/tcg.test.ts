import { FEATURES } from "../../src/catalog/features";
import { describeWith } from "../helpers/env";
import { checkWithLibvirt, checkWithQemu, hostProfile, leftoverDomains } from "../helpers/oracle";
import { prng, type OracleConfig } from "../helpers/oracle-configs";

/**
 * The oracles under TCG: they need QEMU (and libvirtd) but no /dev/kvm, so they run on
 * every machine, also where the KVM oracles cannot. Each configuration is started
 * paused (-accel tcg; libvirt type='qemu'), and every PV property and x2apic of the
 * realized vCPU 0, read over QMP, must equal the prediction.
 */

function tcgConfigs(): OracleConfig[] {
  const out: OracleConfig[] = [];
  for (const model of ["qemu64", "Skylake-Client"])
    for (const irqchip of ["kernel", "split", "off"])
      for (const x2apic of [undefined, true, false])
        out.push({
          id: `tcg-${model}-${irqchip}-x2apic-${x2apic ?? "default"}`,
          domain: { accel: "tcg", cpu: { model }, irqchip, ...(x2apic === undefined ? {} : { x2apic }) },
        });
  out.push({ id: "tcg-max", domain: { accel: "tcg", cpu: { mode: "maximum" } } });
  out.push({ id: "tcg-hidden", domain: { accel: "tcg", paravirt: { hidden: true } } });
  const rand = prng(20261127);
  for (let i = 0; i < 12; i++) {
    const paravirt: Record<string, boolean> = {};
    for (const f of FEATURES)
      if (f.qemu !== "kvm-pv-enforce-cpuid" && f.qemu !== "kvm-asyncpf-vmexit" && rand() < 0.4) paravirt[f.specKey] = rand() < 0.5;
    out.push({ id: `tcg-random-${i}`, domain: { accel: "tcg", memoryMiB: 64, paravirt } });
  }
  return out;
}

describeWith(["qemu"], "QEMU oracle under TCG: realized vCPU (PV properties and x2apic) equals the prediction", () => {
  const configs = tcgConfigs();
  test.each(configs.map((c) => [c.id, c] as const))("%s", async (_id, config) => {
    expect(await checkWithQemu(config, await hostProfile())).toBe("compared");
  });
});

describeWith(["qemu", "libvirt"], "libvirt oracle under TCG: defined, started paused, read back over QMP", () => {
  const configs = tcgConfigs().filter((_c, i) => i % 2 === 0);
  test.each(configs.map((c) => [c.id, c] as const))("%s", async (_id, config) => {
    // compared, or a refusal the resolver predicted, with libvirt's own reason
    expect(["compared", "refused"]).toContain(await checkWithLibvirt(config, await hostProfile(), `kpv-tcg-${config.id}`));
  });
  afterAll(async () => expect(await leftoverDomains()).toEqual([]));
});
