import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { resolveDomain } from "../../src/analyze";
import { HostProfileSchema, type HostProfile } from "../../src/host/profile";
import { validateSpecObject } from "../../src/input/load";
import { renderDomainXml } from "../../src/libvirt/domain-xml";
import { HostFactsError, hostFactsFor, measurePvFeatures, probeConnection } from "../../src/system/host-facts";
import { probeHost } from "../../src/system/probe";
import { VirshSession } from "../../src/system/virsh-session";
import { runCli } from "../helpers/cli";
import { describeWith } from "../helpers/env";
import { domainUuids, virshOn } from "../helpers/virsh";
import { RUN_TAG } from "../helpers/run-tag";

import { SECOND_URI } from "../helpers/second-host";

/** A profile without the free huge page counts (they change as the host runs). */
function steady<T extends HostProfile>(p: T): T {
  return {
    ...p,
    ...(p.numaNodes
      ? { numaNodes: p.numaNodes.map((n) => ({ ...n, ...(n.pages ? { pages: n.pages.map(({ free: _f, ...g }) => g) } : {}) })) }
      : {}),
  };
}
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

interface StartCase {
  model: string;
  check: string;
}
/**
 * Predicts and really starts (paused, transient, by UUID) one domain per case on qemu:///system,
 * named `<prefix>-<run>-<i>`: this run's, so that another run starting its own at the same time
 * (another checkout) never makes a start fail with "already exists".
 */
function runStarts(
  accel: string,
  cases: StartCase[],
  prefix: string,
  rewrite: (xml: string, model: string) => string = (x) => x,
): { domain: string; predicted: string; real: string; why: string }[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-hostfacts-"));
  try {
    return cases.map(({ model, check }, i) => {
      // machine pc: on q35 libvirt adds PCIe root ports, which a model without an APIC (486) cannot start with, whatever the check
      const l = validateSpecObject({
        domains: [{ name: `${prefix}-${RUN_TAG}-${i}`, accel, machine: "pc", memoryMiB: 64, cpu: { model, check } }],
      });
      const r = resolveDomain(l.domains[0].spec!, remoteProfile);
      const refusals = r.diagnostics.filter((d) => CPU_REFUSALS.has(d.code)).map((d) => d.code);
      const uuid = randomUUID();
      const file = path.join(dir, `${i}.xml`);
      fs.writeFileSync(file, rewrite(renderDomainXml(r, { uuid }), model));
      const c = virshOn(SYSTEM, "create", "--paused", "--file", file);
      virshOn(SYSTEM, "destroy", "--domain", uuid);
      return {
        domain: `${model} check=${check}`,
        predicted: refusals.length ? "refused" : "starts",
        real: c.status === 0 ? "starts" : "refused",
        why: `${refusals.join(",")} ${c.stderr.trim().split("\n").pop() ?? ""}`,
      };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
/** The codes whose prediction is "libvirt refuses to start the domain" for its CPU. */
const CPU_REFUSALS = new Set(["cpu-model-unusable-on-host", "cpu-check-full-extra-features"]);
let remoteProfile: HostProfile;

describeWith(["qemu", "libvirt"], "host facts over qemu:///system agree with the local probe", () => {
  let remote: HostProfile;
  let local: HostProfile;
  const lines: string[] = [];

  beforeAll(async () => {
    [remote, local] = await Promise.all([probeConnection(SYSTEM, { progress: (l) => lines.push(l) }), probeHost({ connect: SYSTEM })]);
    remoteProfile = remote;
  });

  test("QEMU version, libvirt version and machine types equal the local probe's (QMP, libvirtd)", () => {
    expect(remote.qemu).toBe(local.qemu);
    expect(remote.libvirt).toBeDefined();
    expect(remote.libvirt).toBe(local.libvirt);
    expect(remote.machines!.length).toBeGreaterThan(10);
    expect(remote.machines).toEqual(local.machines);
    // both read the NUMA nodes, CPUs and page pools through libvirt (the free pages aside: they move)
    expect(remote.numaNodes!.length).toBeGreaterThan(0);
    expect(steady(remote).numaNodes).toEqual(steady(local).numaNodes);
  });

  test("KVM as the local probe finds it; no kernel; CPU models; a probe profile naming the URI; a valid --host file", () => {
    expect(remote.kvm!.available).toBe(local.kvm!.available);
    expect(remote.kernel).toBeUndefined();
    expect(remote.cpuModels!.length).toBeGreaterThan(10);
    // which models are usable is the host's own answer (under KVM on some hosts only pentium..486 are):
    // at least one is, and under KVM every model carries libvirt's start-time comparison with the host CPU
    expect(remote.cpuModels!.some((m) => m.usable)).toBe(true);
    if (remote.kvm!.available) expect(remote.cpuModels!.filter((m) => m.hostCompatible === undefined)).toEqual([]);
    else expect(remote.cpuModels!.some((m) => "hostCompatible" in m)).toBe(false);
    expect(lines.some((l) => l.includes("virsh cpu-compare"))).toBe(remote.kvm!.available);
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
      expect(await measurePvFeatures(session, "tcg", (l) => steps.push(l))).toEqual({ supported: [] });
    } finally {
      session.close();
    }
    const uuid = /probe domain kpv-probe-[0-9a-f]+ \(([0-9a-f-]{36})\)/.exec(steps.join("\n"))?.[1];
    expect(uuid).toBeDefined();
    expect(steps.some((l) => l.includes(`query-cpu-model-expansion of max in ${uuid}`))).toBe(true);
    expect(steps.some((l) => l.includes(`probe domain ${uuid} destroyed`))).toBe(true);
    // its own domain only: other suites probe at the same time
    expect(virshOn(SYSTEM, "domstate", "--domain", uuid!).status).not.toBe(0);
    expect([...domainUuids(SYSTEM).values()]).not.toContain(uuid);
  });

  /**
   * libvirt's CPU verdict as libvirt makes it, for each cpu.check, on the host at hand: models
   * chosen from the host's own list, one for each verdict pair (usable, host CPU comparison)
   * that occurs here, plus one the host does not know. Every predicted refusal
   * (cpu-model-unusable-on-host, cpu-check-full-extra-features) must be one libvirt makes, and
   * every predicted start must start.
   */
  test("libvirt's CPU verdict per cpu.check: every predicted refusal is real, every predicted start starts", () => {
    const accel = remote.kvm!.available ? "kvm" : "tcg";
    const kinds = new Map<string, string>();
    for (const m of [...remote.cpuModels!].sort((a, b) => a.name.localeCompare(b.name)))
      if (!kinds.has(`${m.usable}/${m.hostCompatible}`)) kinds.set(`${m.usable}/${m.hostCompatible}`, m.name);
    const cases = [...kinds.values()].flatMap((model) => ["none", "partial", "full"].map((check) => ({ model, check })));
    cases.push({ model: "Kpv-No-Such-Model", check: "none" });
    const seen = runStarts(accel, cases, "kpv-hostfacts-verdict");
    expect(seen.filter((x) => x.predicted !== x.real)).toEqual([]);
    // both verdicts occur, so the comparison means something
    expect(new Set(seen.map((x) => x.real))).toEqual(new Set(["starts", "refused"]));
  });

  /**
   * libvirt's own CPU test domains (tests/qemuxml2argvdata): their <cpu> as written there (no
   * check: libvirt's default, partial under KVM; fallback allow), started on this host, against
   * the prediction for the same model with cpu.check partial.
   */
  test("libvirt's own CPU test domains (cpu-kvmclock: core2duo; cpu-exact1's model qemu64): started as libvirt writes them, as predicted", () => {
    const accel = remote.kvm!.available ? "kvm" : "tcg";
    const models = ["core2duo", "qemu64"].filter((m) => remote.cpuModels!.some((x) => x.name === m));
    expect(models.length).toBe(2);
    const seen = runStarts(
      accel,
      models.map((model) => ({ model, check: "partial" })),
      "kpv-hostfacts-libvirt",
      (xml, model) =>
        xml.replace(/<cpu [^>]*>[\s\S]*?<\/cpu>/, `<cpu mode='custom' match='exact'><model fallback='allow'>${model}</model></cpu>`),
    );
    expect(seen.filter((x) => x.predicted !== x.real)).toEqual([]);
  });

  test("CLI: probe --connect qemu:///system --json prints the connection's profile", () => {
    const r = runCli("probe", "--connect", SYSTEM, "--json");
    expect(r.stderr).toContain("probe: qemu:///system: machine types and KVM (virsh capabilities)");
    expect(r.status).toBe(0);
    const p = JSON.parse(r.stdout) as HostProfile & { formatVersion?: string };
    expect(p.formatVersion).toBeDefined();
    expect(p.kernel).toBeUndefined();
    // free pages change from moment to moment: each read has them, within the pool
    for (const n of p.numaNodes ?? []) for (const g of n.pages ?? []) expect(g.free).toBeLessThanOrEqual(g.total);
    expect({ ...steady(p), formatVersion: undefined, description: undefined }).toEqual({
      ...steady(remote),
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

/**
 * A libvirt network of the test's own (its own UUID, a name no other run uses), defined and not
 * started: the facts read over the connection must say inactive, so a NIC on it is warned about
 * (network-inactive-on-host: the domain would not start). libvirt's `default` network is not touched.
 */
describeWith(["qemu", "libvirt"], "a libvirt network defined but not started, read over qemu:///system", () => {
  const netUuid = randomUUID();
  const NET = `kpv-edge-net-${netUuid.slice(0, 8)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-edge-net-"));
  beforeAll(() => {
    const file = path.join(dir, "net.xml");
    fs.writeFileSync(file, `<network><name>${NET}</name><uuid>${netUuid}</uuid></network>\n`);
    const r = virshOn(SYSTEM, "net-define", "--file", file);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
  });
  afterAll(() => {
    virshOn(SYSTEM, "net-destroy", "--network", netUuid);
    virshOn(SYSTEM, "net-undefine", "--network", netUuid);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("it reads as inactive, and a NIC on it gets network-inactive-on-host from those facts (probe --json, then validate --host)", async () => {
    expect(virshOn(SYSTEM, "net-info", "--network", netUuid).stdout).toMatch(/^Active:\s+no$/m);
    const facts = await probeConnection(SYSTEM);
    expect(facts.networks?.filter((n) => n.name === NET)).toEqual([{ name: NET, active: false }]);
    const profile = path.join(dir, "host.json");
    fs.writeFileSync(profile, JSON.stringify(facts));
    const spec = path.join(dir, "spec.yaml");
    fs.writeFileSync(spec, `domains:\n  - { name: kpv-edge-nic, accel: tcg, memoryMiB: 64, nics: [{ network: ${NET} }] }\n`);
    const r = runCli("validate", spec, "--host", profile, "--json");
    expect(r.status).toBe(0);
    const found = JSON.parse(r.stdout).domains[0].diagnostics.filter((d: { code: string }) => d.code.startsWith("network-"));
    expect(found).toEqual([
      {
        severity: "warning",
        code: "network-inactive-on-host",
        path: "domains[0].nics[0].network",
        message: expect.stringContaining(`network ${NET} is defined but not active on the host`),
      },
    ]);
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
