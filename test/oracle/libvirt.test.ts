import { describeWith } from "../helpers/env";
import { checkWithLibvirt, hostProfile, leftoverDomains } from "../helpers/oracle";
import { oracleConfigs, ORACLE_SEED } from "../helpers/oracle-configs";

/**
 * libvirt oracle: the rendered domain XML is defined on qemu:///system, started
 * paused, and the realized vCPU read back through `virsh qemu-monitor-command`.
 * It must equal the same prediction the QEMU oracle checks; where the resolver
 * predicts a refusal, libvirt must refuse. Then the domain is destroyed and undefined.
 */
describeWith(["kvm", "qemu", "libvirt"], "libvirt oracle: defined, started paused, read back over QMP", () => {
  const configs = oracleConfigs({ libvirt: true });
  const compared: string[] = [];

  test(`at least 20 configurations (seed ${ORACLE_SEED})`, () => {
    expect(configs.length).toBeGreaterThanOrEqual(20);
  });

  test.each(configs.map((c) => [c.id, c] as const))("%s", async (_id, config) => {
    if ((await checkWithLibvirt(config, await hostProfile(), `kpv-oracle-${config.id}`)) === "compared") compared.push(config.id);
  });

  test("at least 20 configurations were compared feature by feature, and none is left defined", async () => {
    expect(compared.length).toBeGreaterThanOrEqual(20);
    expect(await leftoverDomains()).toEqual([]);
  });
});
