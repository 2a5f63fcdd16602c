import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, valueOf } from "../helpers/pulumi-mocks";

installMocks();

import { ParavirtDomain, type ParavirtDomainArgs } from "../../index";
import { describeWith } from "../helpers/env";
import { virshOn } from "../helpers/virsh";
import { DEBIAN12 } from "../helpers/specs";

/**
 * The real deploy path: the create, update and delete commands and the stdin the
 * component gives its Command child are run the way the Command provider runs
 * them (`/bin/sh -c` with that stdin and environment) against the real libvirtd.
 */
const URI = "qemu:///system";
const virsh = (...args: string[]) => virshOn(URI, ...args);

interface Planned {
  create: string;
  update: string;
  delete: string;
  stdin: string;
  environment: Record<string, string>;
}

async function plan(name: string, args: ParavirtDomainArgs): Promise<Planned> {
  const captured: pulumi.ResourceTransformationArgs[] = [];
  new ParavirtDomain(
    name,
    { connection: URI, hostProfile: JSON.stringify(DEBIAN12), ...args },
    { transformations: [(a) => (captured.push(a), undefined)] },
  );
  const props = captured.find((a) => a.type === "command:local:Command")!.props as Record<string, pulumi.Input<unknown>>;
  const v = async (k: string) => valueOf(pulumi.output(props[k]));
  return {
    create: (await v("create")) as string,
    update: (await v("update")) as string,
    delete: (await v("delete")) as string,
    stdin: (await v("stdin")) as string,
    environment: (await v("environment")) as Record<string, string>,
  };
}

function runAsCommandProvider(script: string, p: Planned, cwd: string) {
  return spawnSync("/bin/sh", ["-c", script], { input: p.stdin, env: { ...process.env, ...p.environment }, cwd, encoding: "utf8" });
}

describeWith(["kvm", "libvirt"], "deploy path against the real libvirtd", () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-deploy-"));
  const cleanup = (name: string) => {
    virsh("destroy", "--domain", name);
    virsh("undefine", "--domain", name);
  };

  test("create defines the domain, update redefines it under the same UUID, delete undefines it and tolerates a missing domain", async () => {
    const name = "kpv-deploy-web";
    cleanup(name);
    const v1 = await plan(name, { vcpus: 2, paravirt: { pvUnhalt: true, pvTlbFlush: true } });
    const created = runAsCommandProvider(v1.create, v1, cwd);
    expect({ status: created.status, stderr: created.stderr, stdout: created.stdout }).toEqual({
      status: 0,
      stderr: "",
      stdout: `defined ${name}\n`,
    });
    const xml1 = virsh("dumpxml", "--domain", name).stdout;
    expect(xml1).toMatch(/<pvspinlock state='on'\/>/);
    expect(xml1).toMatch(/<qemu:arg value='x86_64-cpu.kvm-pv-tlb-flush=on'\/>/);
    const uuid = virsh("domuuid", "--domain", name).stdout.trim();

    const v2 = await plan(name, { vcpus: 4, paravirt: { pvUnhalt: false, pvIpi: false } });
    const updated = runAsCommandProvider(v2.update, v2, cwd);
    expect({ status: updated.status, stderr: updated.stderr }).toEqual({ status: 0, stderr: "" });
    const xml2 = virsh("dumpxml", "--domain", name).stdout;
    expect(xml2).toMatch(/<pvspinlock state='off'\/>/);
    expect(xml2).toMatch(/<pv-ipi state='off'\/>/);
    expect(xml2).not.toMatch(/x86_64-cpu\.kvm-pv-tlb-flush/);
    expect(xml2).toMatch(/<vcpu placement='static'>4<\/vcpu>/);
    expect(virsh("domuuid", "--domain", name).stdout.trim()).toBe(uuid);

    // a running (here: paused) domain keeps its CPU until restarted, and the command says so
    expect(virsh("start", "--paused", "--domain", name).status).toBe(0);
    const v3 = await plan(name, { vcpus: 4, paravirt: { pvUnhalt: true } });
    const live = runAsCommandProvider(v3.update, v3, cwd);
    expect(live.status).toBe(0);
    expect(live.stdout).toMatch(/restart-required/);
    virsh("destroy", "--domain", name);

    const deleted = runAsCommandProvider(v3.delete, v3, cwd);
    expect({ status: deleted.status, stdout: deleted.stdout }).toEqual({ status: 0, stdout: `undefined ${name}\n` });
    expect(virsh("domuuid", "--domain", name).status).not.toBe(0);
    const again = runAsCommandProvider(v3.delete, v3, cwd);
    expect({ status: again.status, stdout: again.stdout }).toEqual({ status: 0, stdout: `already gone: ${name}\n` });
  });

  test("updating a domain defined outside keeps its UUID, disk, NIC and other metadata", async () => {
    const name = "kpv-deploy-adopt";
    cleanup(name);
    const outside = path.join(cwd, "..", `${path.basename(cwd)}-outside.xml`);
    fs.writeFileSync(
      outside,
      `<domain type='kvm'><name>${name}</name><uuid>5a1c0000-0000-4000-8000-0000000ad001</uuid><memory unit='MiB'>64</memory><vcpu placement='static'>2</vcpu>
      <os><type arch='x86_64' machine='q35'>hvm</type></os><cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model><topology sockets='1' dies='1' cores='2' threads='1'/></cpu>
      <metadata><app:owner xmlns:app='https://example.com/app'>team-db</app:owner></metadata>
      <devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/var/lib/libvirt/images/${name}.img'/><target dev='vda' bus='virtio'/></disk>
      <interface type='user'><mac address='52:54:00:aa:bb:01'/><model type='virtio'/></interface></devices></domain>`,
    );
    expect(virsh("define", "--file", outside).status).toBe(0);
    const p = await plan(name, { vcpus: 4, memoryMiB: 256, paravirt: { pvUnhalt: true, pvTlbFlush: true } });
    const r = runAsCommandProvider(p.update, p, cwd);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    const xml = virsh("dumpxml", "--inactive", "--domain", name).stdout;
    expect(xml).toMatch(/<uuid>5a1c0000-0000-4000-8000-0000000ad001<\/uuid>/);
    expect(xml).toMatch(/<source file='\/var\/lib\/libvirt\/images\/kpv-deploy-adopt.img'\/>/);
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

  test("a name full of shell metacharacters touches nothing but its own domain", async () => {
    const name = "kpv-meta;$(touch${IFS}kpv-pwned)|`touch${IFS}kpv-pwned2`*?!#~{}";
    cleanup(name);
    // other suites define kpv-* domains concurrently: compare everything else
    const listed = () =>
      virsh("list", "--all", "--name")
        .stdout.split("\n")
        .filter((n) => n && !/^kpv-(oracle|example|audit|fleet|imp|xslt|bench)/.test(n));
    const others = listed();
    const p = await plan(name, { paravirt: { pvIpi: true } });
    const created = runAsCommandProvider(p.create, p, cwd);
    expect({ status: created.status, stderr: created.stderr }).toEqual({ status: 0, stderr: "" });
    expect(virsh("domuuid", "--domain", name).status).toBe(0);
    const deleted = runAsCommandProvider(p.delete, p, cwd);
    expect(deleted.status).toBe(0);
    expect(fs.readdirSync(cwd)).toEqual([]);
    expect(listed()).toEqual(others);
  });

  test("a connection that cannot be reached fails the command (nothing is reported as deleted)", async () => {
    const p = await plan("kpv-unreachable", { deploy: true, connection: "qemu+tcp://127.0.0.1:1/system" });
    const del = runAsCommandProvider(p.delete, p, cwd);
    expect(del.status).toBe(1);
    expect(del.stderr).toMatch(/failed to connect|Connection refused|unable to connect/i);
  });
});
