import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCliAsync } from "../helpers/cli";
import { describeWith } from "../helpers/env";
import { domainUuids, removeDomains, virshOn } from "../helpers/virsh";
import { RUN_TAG } from "../helpers/run-tag";

/**
 * Without --host, plan and apply resolve against the facts the connection tells (QEMU 7.2
 * on Debian 12, not the assumed 10.2): plan, apply, plan ends with no changes. TCG domains.
 */
const URI = "qemu:///system";
/** this run's names: another run at the same time (another checkout) has its own */
const NAME = `kpv-converge-${RUN_TAG}-1`;
const RUNNING = `kpv-converge-${RUN_TAG}-run`;

describeWith(["qemu", "libvirt"], "plan and apply without --host converge on this host", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-converge-"));
  const spec = path.join(dir, "spec.yaml");
  afterAll(() => removeDomains(URI, NAME, RUNNING));

  test("plan -> apply -> plan: no changes, and the machine type is the host's", async () => {
    fs.writeFileSync(spec, `domains:\n  - name: ${NAME}\n    accel: tcg\n    vcpus: 2\n    memoryMiB: 64\n`);
    const first = await runCliAsync("plan", spec, "--connect", URI, "--json", "--detailed-exitcode");
    expect(first.status).toBe(2);
    const apply = await runCliAsync("apply", spec, "--connect", URI);
    expect({ status: apply.status, out: apply.stdout }).toMatchObject({ status: 0, out: expect.stringMatching(/apply: 1 defined/) });
    const again = await runCliAsync("plan", spec, "--connect", URI, "--detailed-exitcode");
    expect({ status: again.status, out: again.stdout }).toMatchObject({
      status: 0,
      out: expect.stringMatching(/0 to create, 0 to update, 1 unchanged/),
    });
    // the machine libvirt canonicalised q35 to is the one the host facts name
    const version = /Running hypervisor: QEMU (\d+)\.(\d+)/.exec(virshOn(URI, "version").stdout)!;
    const xml = virshOn(URI, "dumpxml", "--inactive", "--domain", domainUuids(URI).get(NAME)!).stdout;
    expect(xml).toContain(`machine='pc-q35-${version[1]}.${version[2]}'`);
  }, 180_000);

  test("an unchanged running (paused) domain re-applied with --restart if-needed is not restarted: same ID, nothing pending", async () => {
    const name = RUNNING;
    const running = path.join(dir, "running.yaml");
    fs.writeFileSync(running, `domains:\n  - { name: ${name}, accel: tcg, vcpus: 2, memoryMiB: 64, runState: paused }\n`);
    let uuid: string | undefined;
    try {
      const first = await runCliAsync("apply", running, "--connect", URI);
      expect({ status: first.status, out: first.stdout }).toMatchObject({ status: 0, out: expect.stringMatching(/apply: 1 defined/) });
      uuid = domainUuids(URI).get(name);
      expect(virshOn(URI, "domstate", "--domain", uuid!).stdout.trim()).toBe("paused");
      const id = virshOn(URI, "domid", "--domain", uuid!).stdout.trim();
      expect(id).toMatch(/^\d+$/);
      // plan reads the running vCPU over QMP: it agrees with the definition, nothing waits for a restart
      const plan = await runCliAsync("plan", running, "--connect", URI, "--json", "--detailed-exitcode");
      expect(plan.status).toBe(0);
      // only its own domain (others on the host may show as delete candidates)
      const planned = JSON.parse(plan.stdout).hosts[0].domains.filter((d: { domain: string }) => d.domain === name);
      expect(planned).toEqual([
        expect.objectContaining({ domain: name, action: "unchanged", state: "paused", restartNeeded: false, pendingRestart: [] }),
      ]);
      const again = await runCliAsync("apply", running, "--connect", URI, "--restart", "if-needed", "--json");
      expect(again.status).toBe(0);
      expect(JSON.parse(again.stdout).results).toEqual([
        expect.objectContaining({ domain: name, outcome: "unchanged", restarted: false, restartPending: false }),
      ]);
      expect(virshOn(URI, "domid", "--domain", uuid!).stdout.trim()).toBe(id);
      expect(virshOn(URI, "domstate", "--domain", uuid!).stdout.trim()).toBe("paused");
    } finally {
      uuid ??= domainUuids(URI).get(name);
      if (uuid) {
        virshOn(URI, "destroy", "--domain", uuid);
        virshOn(URI, "undefine", "--domain", uuid);
      }
    }
  }, 180_000);
});
