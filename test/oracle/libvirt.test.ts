import { defineXml, monitorExec, runVirsh, virsh } from "../../src/adapters/virsh";
import { readVcpuProperties } from "../../src/adapters/qmp";
import { describeWith } from "../helpers/env";
import { hostProfile, LIBVIRT_REFUSES, predicted, prepare } from "../helpers/oracle";
import { oracleConfigs, ORACLE_SEED } from "../helpers/oracle-configs";

/**
 * libvirt oracle: the rendered domain XML is defined on qemu:///system, started
 * paused, and the realized vCPU read back through `virsh qemu-monitor-command`.
 * It must equal the same prediction the QEMU oracle checks; then the domain is
 * destroyed and undefined.
 */
const URI = "qemu:///system";

describeWith(["kvm", "qemu", "libvirt"], "libvirt oracle: defined, started paused, read back over QMP", () => {
  const configs = oracleConfigs({ libvirt: true });
  const compared: string[] = [];

  async function cleanup(name: string) {
    await runVirsh(URI, ["destroy", "--domain", name]);
    await runVirsh(URI, ["undefine", "--domain", name]);
  }

  test(`at least 20 configurations (seed ${ORACLE_SEED})`, () => {
    expect(configs.length).toBeGreaterThanOrEqual(20);
  });

  test.each(configs.map((c) => [c.id, c] as const))("%s", async (_id, config) => {
    const host = await hostProfile();
    const name = `kpv-oracle-${config.id}`;
    const { resolution, rendered, codes } = prepare(config, host, name);
    await cleanup(name);
    try {
      await defineXml(URI, rendered.domainXml);
      const refusal = [...codes].find((c) => LIBVIRT_REFUSES.has(c));
      const start = await runVirsh(URI, ["start", "--paused", "--domain", name]);
      if (refusal) {
        // the prediction is "libvirt or QEMU refuses to start": check it really does
        expect({ refusal, code: start.code }).toEqual({ refusal, code: 1 });
        return;
      }
      expect({ start: start.code, stderr: start.stderr }).toEqual({ start: 0, stderr: "" });
      const want = predicted(resolution);
      const got = await readVcpuProperties(monitorExec(URI, name), Object.keys(want));
      expect(got).toEqual(want);
      compared.push(config.id);
    } finally {
      await cleanup(name);
    }
  });

  test("at least 20 configurations were compared feature by feature, and none is left defined", async () => {
    expect(compared.length).toBeGreaterThanOrEqual(20);
    const left = (await virsh(URI, ["list", "--all", "--name"])).split("\n").filter((n) => n.startsWith("kpv-oracle-"));
    expect(left).toEqual([]);
  });
});
