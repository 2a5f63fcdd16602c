import { describeWith } from "../helpers/env";
import { checkWithQemu, hostProfile } from "../helpers/oracle";
import { oracleConfigs, ORACLE_SEED } from "../helpers/oracle-configs";

/**
 * QEMU oracle: every configuration is started as `qemu-system-x86_64 -S` with the
 * rendered arguments, and every PV property of the realized vCPU 0 is read over
 * QMP (query-cpus-fast, qom-get). It must equal the resolver's prediction; where
 * the resolver predicts that QEMU aborts, QEMU must really refuse to start.
 */
describeWith(["kvm", "qemu"], "QEMU oracle: realized vCPU equals the prediction", () => {
  const configs = oracleConfigs();
  const compared: string[] = [];

  test(`at least 60 configurations (seed ${ORACLE_SEED})`, () => {
    expect(configs.length).toBeGreaterThanOrEqual(60);
  });

  test.each(configs.map((c) => [c.id, c] as const))("%s", async (_id, config) => {
    if ((await checkWithQemu(config, await hostProfile())) === "compared") compared.push(config.id);
  });

  test("at least 60 configurations were compared feature by feature", () => {
    expect(compared.length).toBeGreaterThanOrEqual(60);
  });
});
