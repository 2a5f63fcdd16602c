import { realizeVcpu, QemuStartError } from "../../src/adapters/qemu";
import { describeWith } from "../helpers/env";
import { hostProfile, predicted, prepare, QEMU_ABORTS } from "../helpers/oracle";
import { oracleConfigs, ORACLE_SEED } from "../helpers/oracle-configs";

/**
 * QEMU oracle: every configuration is started as `qemu-system-x86_64 -S` with the
 * rendered arguments, and every PV property of the realized vCPU 0 is read over
 * QMP (query-cpus-fast, qom-get). It must equal the resolver's prediction.
 */
describeWith(["kvm", "qemu"], "QEMU oracle: realized vCPU equals the prediction", () => {
  const configs = oracleConfigs();
  const compared: string[] = [];

  test(`at least 60 configurations (seed ${ORACLE_SEED})`, () => {
    expect(configs.length).toBeGreaterThanOrEqual(60);
  });

  test.each(configs.map((c) => [c.id, c] as const))("%s", async (_id, config) => {
    const host = await hostProfile();
    const { resolution, rendered, codes } = prepare(config, host);
    const abort = [...codes].find((c) => QEMU_ABORTS.has(c));
    if (abort) {
      // the prediction is a failed start: check that QEMU really refuses
      await expect(realizeVcpu(rendered.qemuArgs, ["kvm"])).rejects.toBeInstanceOf(QemuStartError);
      return;
    }
    const want = predicted(resolution);
    const got = await realizeVcpu(rendered.qemuArgs, Object.keys(want));
    expect({ args: rendered.qemuArgs, features: got.properties }).toEqual({ args: rendered.qemuArgs, features: want });
    compared.push(config.id);
  });

  test("at least 60 configurations were compared feature by feature", () => {
    expect(compared.length).toBeGreaterThanOrEqual(60);
  });
});
