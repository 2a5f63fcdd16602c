import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDomain, deleteDomain, updateDomain } from "../../src/pulumi/domain-provider";
import { describeWith } from "../helpers/env";
import { domainUuids, virshOn } from "../helpers/virsh";
import { DEBIAN12 } from "../helpers/specs";
import { escapeRegExp, RUN_TAG, runUuid } from "../helpers/run-tag";

/**
 * The Domain resource's deploy path with KVM domains (PV features on): create, update and
 * delete as its provider runs them, against the real libvirtd. The same path under TCG,
 * over the plugin protocol, is test/oracle/provider.test.ts.
 */
const URI = "qemu:///system";
const virsh = (...args: string[]) => virshOn(URI, ...args);
type Json = Record<string, unknown>;
/** this run's names and UUID: another run at the same time (another checkout) has its own */
const WEB = `kpv-deploy-${RUN_TAG}-web`;
const ADOPT = `kpv-deploy-${RUN_TAG}-adopt`;
const ADOPT_UUID = runUuid("5a1c0000-0000-4000-8000-0000000ad001");
const inputs = (name: string, args: Json): Json => ({ name, connection: URI, hostProfile: JSON.stringify(DEBIAN12), ...args });

describeWith(["kvm", "libvirt"], "deploy path against the real libvirtd", () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-deploy-"));
  const cleanup = (name: string) => {
    const uuid = domainUuids(URI).get(name);
    if (!uuid) return;
    virsh("destroy", "--domain", uuid);
    virsh("undefine", "--domain", uuid);
  };
  // exactly what this run may have defined, also when a test failed half-way
  afterAll(() => [WEB, ADOPT].forEach(cleanup));

  test("create defines the domain, update redefines it under the same UUID, delete undefines it and tolerates a missing domain", async () => {
    const name = WEB;
    const created = await createDomain(inputs(name, { vcpus: 2, paravirt: { pvUnhalt: true, pvTlbFlush: true } }));
    const uuid = created.id;
    const xml1 = virsh("dumpxml", "--domain", uuid).stdout;
    expect(xml1).toMatch(/<pvspinlock state='on'\/>/);
    expect(xml1).toMatch(/<qemu:arg value='x86_64-cpu.kvm-pv-tlb-flush=on'\/>/);

    const v2 = inputs(name, { vcpus: 4, paravirt: { pvUnhalt: false, pvIpi: false } });
    const updated = await updateDomain(created.outs as Json, v2);
    const xml2 = virsh("dumpxml", "--domain", uuid).stdout;
    expect(xml2).toMatch(/<pvspinlock state='off'\/>/);
    expect(xml2).toMatch(/<pv-ipi state='off'\/>/);
    expect(xml2).not.toMatch(/x86_64-cpu\.kvm-pv-tlb-flush/);
    expect(xml2).toMatch(/<vcpu placement='static'>4<\/vcpu>/);
    expect(domainUuids(URI).get(name)).toBe(uuid);

    // a running (here: paused) domain keeps its CPU until restarted, and the resource says so
    expect(virsh("start", "--paused", "--domain", uuid).status).toBe(0);
    const live = await updateDomain(updated.outs as Json, inputs(name, { vcpus: 4, paravirt: { pvUnhalt: true } }));
    expect((live.outs as Json).restartRequired).toBe(true);
    virsh("destroy", "--domain", uuid);

    await deleteDomain(live.outs as Json);
    expect(domainUuids(URI).has(name)).toBe(false);
    await deleteDomain(live.outs as Json); // already gone: success
  });

  test("updating a domain defined outside keeps its UUID, disk, NIC and other metadata", async () => {
    const name = ADOPT;
    const outside = path.join(cwd, "..", `${path.basename(cwd)}-outside.xml`);
    fs.writeFileSync(
      outside,
      `<domain type='kvm'><name>${name}</name><uuid>${ADOPT_UUID}</uuid><memory unit='MiB'>64</memory><vcpu placement='static'>2</vcpu>
      <os><type arch='x86_64' machine='q35'>hvm</type></os><cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model><topology sockets='1' dies='1' cores='2' threads='1'/></cpu>
      <metadata><app:owner xmlns:app='https://example.com/app'>team-db</app:owner></metadata>
      <devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/var/lib/libvirt/images/${name}.img'/><target dev='vda' bus='virtio'/></disk>
      <interface type='user'><mac address='52:54:00:aa:bb:01'/><model type='virtio'/></interface></devices></domain>`,
    );
    expect(virsh("define", "--file", outside).status).toBe(0);
    const uuid = domainUuids(URI).get(name)!;
    await updateDomain(
      { uuid, connection: URI, name },
      inputs(name, { vcpus: 4, memoryMiB: 256, paravirt: { pvUnhalt: true, pvTlbFlush: true } }),
    );
    const xml = virsh("dumpxml", "--inactive", "--domain", name).stdout;
    expect(xml).toMatch(new RegExp(`<uuid>${escapeRegExp(ADOPT_UUID)}</uuid>`));
    expect(xml).toMatch(new RegExp(`<source file='${escapeRegExp(`/var/lib/libvirt/images/${ADOPT}.img`)}'/>`));
    expect(xml).toMatch(/<mac address='52:54:00:aa:bb:01'\/>/);
    expect(xml).toMatch(/team-db<\/app:owner>/);
    expect(xml).toMatch(/<vcpu placement='static'>4<\/vcpu>/);
    expect(xml).toMatch(/<memory unit='KiB'>262144<\/memory>/);
    expect(xml).not.toMatch(/<topology/); // written for 2 vCPUs
    expect(xml).toMatch(/<pvspinlock state='on'\/>/);
    expect(xml).toMatch(/x86_64-cpu.kvm-pv-tlb-flush=on/);
    expect(xml).toMatch(/kpv:effective on="[^"]*kvm-pv-tlb-flush/);
    cleanup(name);
  });
});
