import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { resolveDomain } from "../../src/analyze";
import { HostProfileSchema, type HostProfile } from "../../src/host/profile";
import { validateSpecObject } from "../../src/input/load";
import { renderDomainXml } from "../../src/render/domain-xml";
import { HostFactsError, hostFactsFor, measurePvFeatures, probeConnection } from "../../src/system/host-facts";
import { probeHost } from "../../src/system/probe";
import { VirshSession } from "../../src/system/virsh-session";
import { runCli } from "../helpers/cli";
import { describeWith } from "../helpers/env";
import { virshOn } from "../helpers/virsh";

import { SECOND_URI } from "../helpers/second-host";

/**
 * Host facts read over a libvirt connection, against the real libvirtd: they must agree with
 * what the local probe reads from QEMU itself (QMP), for this host and for a second,
 * independent libvirtd. The CLI tests run the built dist/ (npx tsc -p tsconfig.json first).
 */
const SYSTEM = "qemu:///system";
const UNREACHABLE = "qemu+unix:///system?socket=/nonexistent/kpv-sock";

/** Points virsh at a wrapper that counts its starts; returns the counter and a restore. */
function countVirshStarts(): { starts(): number; restore(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-virsh-count-"));
  const log = path.join(dir, "starts");
  const wrapper = path.join(dir, "virsh");
  fs.writeFileSync(log, "");
  fs.writeFileSync(wrapper, `#!/bin/sh\necho start >> '${log}'\nexec virsh "$@"\n`, { mode: 0o755 });
  const before = process.env.KVM_PARAVIRT_VIRSH;
  process.env.KVM_PARAVIRT_VIRSH = wrapper;
  return {
    starts: () => fs.readFileSync(log, "utf8").split("\n").filter(Boolean).length,
    restore: () => {
      if (before === undefined) delete process.env.KVM_PARAVIRT_VIRSH;
      else process.env.KVM_PARAVIRT_VIRSH = before;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeWith(["qemu", "libvirt"], "host facts over qemu:///system agree with the local probe", () => {
  let remote: HostProfile;
  let local: HostProfile;
  const lines: string[] = [];

  beforeAll(async () => {
    [remote, local] = await Promise.all([probeConnection(SYSTEM, { progress: (l) => lines.push(l) }), probeHost({ connect: SYSTEM })]);
  });

  test("QEMU version, libvirt version and machine types equal the local probe's (QMP, libvirtd)", () => {
    expect(remote.qemu).toBe(local.qemu);
    expect(remote.libvirt).toBeDefined();
    expect(remote.libvirt).toBe(local.libvirt);
    expect(remote.machines!.length).toBeGreaterThan(10);
    expect(remote.machines).toEqual(local.machines);
  });

  test("KVM as the local probe finds it; no kernel; CPU models; a probe profile naming the URI; a valid --host file", () => {
    expect(remote.kvm!.available).toBe(local.kvm!.available);
    expect(remote.kernel).toBeUndefined();
    expect(remote.cpuModels!.length).toBeGreaterThan(10);
    expect(remote.cpuModels).toContainEqual({ name: "qemu64", usable: true });
    expect(remote.source).toBe("probe");
    expect(remote.description).toMatch(/^probed over qemu:\/\/\/system at \d{4}-\d\d-\d\dT/);
    expect(HostProfileSchema.safeParse(remote).success).toBe(true);
    if (!remote.kvm!.available) expect(remote.kvm).toEqual({ available: false });
    expect(lines.some((l) => l.includes("virsh capabilities"))).toBe(true);
  });

  test("an unreachable URI is a HostFactsError naming it", async () => {
    const e = await probeConnection(UNREACHABLE).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostFactsError);
    expect((e as Error).message).toContain(UNREACHABLE);
    expect((e as Error).message).toMatch(/virsh version failed: .*nonexistent\/kpv-sock/);
  });

  test("a URI's password never reaches the error", async () => {
    const e = await probeConnection("qemu+tcp://admin:s3cret@127.0.0.1:1/system", { timeoutMs: 20_000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostFactsError);
    expect((e as Error).message).toContain("qemu+tcp://admin:***@127.0.0.1:1/system");
    expect((e as Error).message).not.toContain("s3cret");
  });

  test("no virsh: a HostFactsError that says so", async () => {
    const before = process.env.KVM_PARAVIRT_VIRSH;
    process.env.KVM_PARAVIRT_VIRSH = "/nonexistent/virsh";
    try {
      const e = await probeConnection(SYSTEM).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HostFactsError);
      expect((e as Error).message).toMatch(/qemu:\/\/\/system: .*virsh could not start.*libvirt-clients/);
    } finally {
      if (before === undefined) delete process.env.KVM_PARAVIRT_VIRSH;
      else process.env.KVM_PARAVIRT_VIRSH = before;
    }
  });

  test("hostFactsFor: the same object for every caller, virsh started once; a failure is not cached", async () => {
    const count = countVirshStarts();
    try {
      const a = await hostFactsFor(SYSTEM);
      expect(count.starts()).toBe(1);
      const b = await hostFactsFor(SYSTEM);
      expect(b).toBe(a);
      expect(count.starts()).toBe(1);
      expect(a.machines).toEqual(remote.machines);
      expect(Object.isFrozen(a.machines)).toBe(true);
      await expect(hostFactsFor(UNREACHABLE)).rejects.toBeInstanceOf(HostFactsError);
      await expect(hostFactsFor(UNREACHABLE)).rejects.toBeInstanceOf(HostFactsError);
      expect(count.starts()).toBe(3);
    } finally {
      count.restore();
    }
  });

  test("the PV-feature measurement's domain lifecycle (TCG stand-in for KVM): created paused, asked, destroyed, by UUID", async () => {
    const session = new VirshSession(SYSTEM);
    const steps: string[] = [];
    try {
      // under TCG `max` has every KVM bit off; what is checked here is the create / monitor / destroy path
      expect(await measurePvFeatures(session, "tcg", (l) => steps.push(l))).toEqual([]);
    } finally {
      session.close();
    }
    const uuid = /probe domain kpv-probe-[0-9a-f]+ \(([0-9a-f-]{36})\)/.exec(steps.join("\n"))?.[1];
    expect(uuid).toBeDefined();
    expect(steps.some((l) => l.includes(`query-cpu-model-expansion of max in ${uuid}`))).toBe(true);
    expect(steps.some((l) => l.includes(`probe domain ${uuid} destroyed`))).toBe(true);
    expect(virshOn(SYSTEM, "domstate", "--domain", uuid!).status).not.toBe(0);
    expect(virshOn(SYSTEM, "list", "--all", "--name").stdout).not.toMatch(/kpv-probe-/);
  });

  test("cpu-model-unusable-on-host says exactly when libvirt refuses the rendered domain (its cpuModels, started paused)", () => {
    const accel = remote.kvm!.available ? "kvm" : "tcg";
    const unusable = remote.cpuModels!.find((m) => !m.usable)!.name;
    const cases = [
      { model: unusable, check: "none" },
      { model: unusable, check: "partial" },
      { model: "Kpv-No-Such-Model", check: "none" },
      { model: "qemu64", check: "partial" },
    ];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-hostfacts-"));
    const seen: string[] = [];
    try {
      cases.forEach(({ model, check }, i) => {
        const l = validateSpecObject({ domains: [{ name: `kpv-hostfacts-${i}`, accel, memoryMiB: 64, cpu: { model, check } }] });
        const r = resolveDomain(l.domains[0].spec!, remote);
        const predicted = r.diagnostics.some((d) => d.code === "cpu-model-unusable-on-host") ? "refused" : "starts";
        const uuid = randomUUID();
        const file = path.join(dir, `${i}.xml`);
        fs.writeFileSync(file, renderDomainXml(r, { uuid }));
        const c = virshOn(SYSTEM, "create", "--paused", "--file", file);
        virshOn(SYSTEM, "destroy", "--domain", uuid);
        seen.push(`${model} check=${check}: ${c.status === 0 ? "starts" : "refused"}`);
        expect(`${model} check=${check}: ${predicted}`).toBe(seen[i]);
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // both verdicts occur, so the comparison means something
    expect(seen.filter((x) => x.endsWith("refused"))).toHaveLength(2);
  });

  test("CLI: probe --connect qemu:///system --json prints the connection's profile", () => {
    const r = runCli("probe", "--connect", SYSTEM, "--json");
    expect(r.stderr).toContain("probe: qemu:///system: machine types and KVM (virsh capabilities)");
    expect(r.status).toBe(0);
    const p = JSON.parse(r.stdout) as HostProfile & { formatVersion?: string };
    expect(p.formatVersion).toBeDefined();
    expect(p.kernel).toBeUndefined();
    expect({ ...p, formatVersion: undefined, description: undefined }).toEqual({
      ...remote,
      formatVersion: undefined,
      description: undefined,
    });
    expect(p.description).toMatch(/^probed over qemu:\/\/\/system at /);
  });

  test("CLI: probe without --connect still probes this machine (kernel from uname); an unreachable --connect exits 1 naming it", () => {
    const here = runCli("probe", "--json", "--no-libvirt");
    expect(here.status).toBe(0);
    const p = JSON.parse(here.stdout) as HostProfile;
    expect(p.kernel).toBe(os.release());
    expect(p.description).toMatch(/^probed on /);
    const bad = runCli("probe", "--connect", UNREACHABLE, "--json");
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain(`cannot read host facts over ${UNREACHABLE}`);
  });
});

describeWith(["qemu", "libvirt", "second-host"], "host facts over the second libvirtd", () => {
  test("its URI gives the same QEMU (the same binary) and the same machine types as qemu:///system", async () => {
    const [second, system] = await Promise.all([probeConnection(SECOND_URI), probeConnection(SYSTEM)]);
    expect(second.qemu).toBe(system.qemu);
    expect(second.machines).toEqual(system.machines);
    expect(second.description).toContain(SECOND_URI);
  });
});
