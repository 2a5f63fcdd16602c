import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { runCli } from "../helpers/cli";
import { describeWith } from "../helpers/env";
import { removeDomains, virshOn } from "../helpers/virsh";
import { ROOT } from "../helpers/specs";
import { escapeRegExp, RUN_TAG, runUuid } from "../helpers/run-tag";
import { PrivateHost, SECOND_URI } from "../helpers/second-host";

/**
 * plan / apply / drift against two real libvirt hosts: qemu:///system and a second,
 * independent libvirtd (an unprivileged user's session daemon). Everything goes
 * through the real CLI.
 *
 * Every domain carries this run's tag (kpv-fleet-<run>-NN, the outside domain's UUID made
 * this run's), and only those exact names are looked at and removed: another run of this suite
 * at the same time (another checkout on this host) is never touched, nor are the other suites'
 * domains on the two hosts. The test that stops libvirtd stops a libvirtd of its own.
 */
const SYSTEM = "qemu:///system";
const PROFILE = path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-fleet-"));
const kpv = runCli;
const virsh = virshOn;
type Plan = {
  hosts: {
    uri: string;
    error?: string;
    domains: {
      domain: string;
      action: string;
      drift: { feature: string; recorded: boolean; current: boolean }[];
      pendingRestart: unknown[];
      restartNeeded: boolean;
      fieldChanges: { field: string }[];
      featureChanges: { feature: string }[];
    }[];
  }[];
};
const planJson = (spec: string, ...extra: string[]) => {
  // --detailed-exitcode: 0 no changes, 2 changes, 1 error (as terraform plan)
  const r = kpv("plan", spec, "--host", PROFILE, "--json", "--detailed-exitcode", ...extra);
  return { status: r.status, stderr: r.stderr, plan: JSON.parse(r.stdout || "{}") as Plan };
};
const PREFIX = `kpv-fleet-${RUN_TAG}-`;
const NAMES = Array.from({ length: 12 }, (_, i) => `${PREFIX}${String(i).padStart(2, "0")}`);
const REJECT = `${PREFIX}reject`;
/** the outside domain's UUID, this run's */
const OUTSIDE_UUID = runUuid("5a1c0000-0000-4000-8000-00000000f100");
/** everything this run may define on the two hosts: the only names looked at, and removed afterwards */
const OURS = new Set([...NAMES, REJECT]);
const actions = (p: Plan) =>
  p.hosts
    .flatMap((h) =>
      h.domains.filter((d) => OURS.has(d.domain)).map((d) => `${h.uri === SYSTEM ? "system" : "second"} ${d.domain} ${d.action}`),
    )
    .sort();

function fleetSpec(overrides: Record<string, Record<string, unknown>> = {}) {
  const variants = [
    { paravirt: { pvUnhalt: true, pvIpi: true } },
    { irqchip: "split", paravirt: { pvTlbFlush: true } },
    { cpu: { mode: "host-passthrough" }, dedicatedVcpus: true, paravirt: { hintDedicated: true } },
    { machine: "pc-q35-5.1", paravirt: { pvEoi: false } },
    { paravirt: { hidden: true } },
    { vcpus: 4, paravirt: { kvmclock: false, kvmclockStableBit: false } },
  ];
  return {
    domains: NAMES.map((name, i) => ({ name, memoryMiB: 128, ...variants[i % variants.length], ...(overrides[name] ?? {}) })),
    hosts: Object.fromEntries(NAMES.map((n, i) => [n, i < 6 ? SYSTEM : SECOND_URI])),
  };
}
function writeSpec(spec: unknown, name = "fleet.yaml") {
  const f = path.join(dir, name);
  fs.writeFileSync(f, YAML.stringify(spec));
  return f;
}
/** the libvirtd the fault test stops: its own, never the shared second host */
const faultHost = new PrivateHost(`/tmp/kpvfleet-${RUN_TAG}`);

describeWith(["kvm", "libvirt", "second-host"], "fleet: plan, apply, drift on two libvirt hosts", () => {
  // this run's names are new: nothing of an earlier run can be in the way, nothing to remove first
  afterAll(() => {
    for (const uri of [SYSTEM, SECOND_URI]) removeDomains(uri, ...OURS);
    faultHost.remove();
  });

  test("a domain with disks and a NIC defined outside the tool keeps them through apply", () => {
    const outside = `<domain type='kvm'><name>${NAMES[0]}</name><uuid>${OUTSIDE_UUID}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu>
      <os><type arch='x86_64' machine='q35'>hvm</type></os>
      <metadata><app:owner xmlns:app='https://example.com/app'>team-web</app:owner></metadata>
      <devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/var/lib/libvirt/images/${NAMES[0]}.img'/><target dev='vda' bus='virtio'/></disk>
      <interface type='user'><mac address='52:54:00:aa:bb:cc'/><model type='virtio'/></interface></devices></domain>`;
    const f = path.join(dir, "outside.xml");
    fs.writeFileSync(f, outside);
    expect(virsh(SYSTEM, "define", "--file", f).status).toBe(0);
  });

  test("apply defines 12 domains over two hosts, then plan says no changes (exit 0)", () => {
    const spec = writeSpec(fleetSpec());
    const first = planJson(spec);
    expect(first.status).toBe(2);
    expect(actions(first.plan).filter((a) => a.endsWith("create"))).toHaveLength(11);
    expect(actions(first.plan)).toContain(`system ${NAMES[0]} update`); // exists, not yet managed
    const applied = kpv("apply", spec, "--host", PROFILE);
    expect({ status: applied.status, out: applied.stdout.split("\n").slice(-2)[0] }).toEqual({
      status: 0,
      out: "apply: 12 defined, 0 unchanged, 0 failed",
    });
    const again = planJson(spec);
    expect(actions(again.plan)).toEqual(NAMES.map((n, i) => `${i < 6 ? "system" : "second"} ${n} unchanged`).sort());
    expect(again.status).toBe(0);
    // apply is idempotent
    expect(kpv("apply", spec, "--host", PROFILE).stdout).toMatch(/apply: 0 defined, 12 unchanged, 0 failed/);
    // the outside domain kept its UUID, disk, NIC and metadata
    const xml = virsh(SYSTEM, "dumpxml", "--domain", OUTSIDE_UUID).stdout;
    expect(xml).toMatch(new RegExp(`<uuid>${escapeRegExp(OUTSIDE_UUID)}</uuid>`));
    expect(xml).toMatch(new RegExp(`<source file='${escapeRegExp(`/var/lib/libvirt/images/${NAMES[0]}.img`)}'/>`));
    expect(xml).toMatch(/<mac address='52:54:00:aa:bb:cc'\/>/);
    expect(xml).toMatch(/<app:owner xmlns:app="https:\/\/example.com\/app">team-web<\/app:owner>/);
    expect(xml).toMatch(/<pvspinlock state='on'\/>/);
  });

  test("a hand edit is drift: plan shows exactly that feature, apply repairs it", () => {
    const spec = writeSpec(fleetSpec());
    const name = NAMES[7]; // second host, split irqchip + pv-tlb-flush
    const xml = virsh(SECOND_URI, "dumpxml", "--inactive", "--domain", name).stdout.replace(
      "x86_64-cpu.kvm-pv-tlb-flush=on",
      "x86_64-cpu.kvm-pv-tlb-flush=off",
    );
    const f = path.join(dir, "edited.xml");
    fs.writeFileSync(f, xml);
    expect(virsh(SECOND_URI, "define", "--file", f).status).toBe(0);
    const p = planJson(spec);
    expect(p.status).toBe(2);
    expect(actions(p.plan).filter((a) => !a.endsWith("unchanged"))).toEqual([`second ${name} update`]);
    const d = p.plan.hosts.flatMap((h) => h.domains).find((x) => x.domain === name)!;
    expect(d.drift).toEqual([{ feature: "kvm-pv-tlb-flush", recorded: true, current: false }]);
    expect(d.featureChanges.map((c) => c.feature)).toEqual(["kvm-pv-tlb-flush"]);
    expect(kpv("apply", spec, "--host", PROFILE).status).toBe(0);
    expect(planJson(spec).status).toBe(0);
  });

  test("a feature left to inherit that changes out of band is drift too", () => {
    const spec = writeSpec(fleetSpec());
    const name = NAMES[0]; // inherits kvm-pv-tlb-flush (off for qemu64)
    const xml = virsh(SYSTEM, "dumpxml", "--inactive", "--security-info", "--domain", name).stdout.replace(
      "</domain>",
      "<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-global'/><qemu:arg value='x86_64-cpu.kvm-pv-tlb-flush=on'/></qemu:commandline></domain>",
    );
    const f = path.join(dir, "edited2.xml");
    fs.writeFileSync(f, xml);
    expect(virsh(SYSTEM, "define", "--file", f).status).toBe(0);
    const d = planJson(spec)
      .plan.hosts.flatMap((h) => h.domains)
      .find((x) => x.domain === name)!;
    expect(d.action).toBe("update");
    expect(d.drift).toEqual([{ feature: "kvm-pv-tlb-flush", recorded: false, current: true }]);
    expect(kpv("apply", spec, "--host", PROFILE).status).toBe(0);
    expect(planJson(spec).status).toBe(0);
  });

  test("a running domain with --restart=never: definition updated, plan reports the restart pending; if-needed restarts it", () => {
    const name = NAMES[1];
    const started = virsh(SYSTEM, "start", "--paused", "--domain", name);
    expect({ status: started.status, stderr: started.stderr }).toEqual({ status: 0, stderr: "" });
    const spec = writeSpec(fleetSpec({ [name]: { paravirt: { pvTlbFlush: false, pvIpi: true } } }), "changed.yaml");
    const applied = kpv("apply", spec, "--host", PROFILE, "--restart", "never");
    expect({ status: applied.status, stderr: applied.stderr }).toEqual({ status: 0, stderr: "" });
    expect(applied.stdout).toMatch(new RegExp(`defined\\s+qemu:///system ${escapeRegExp(name)} \\(restart pending`));
    expect(virsh(SYSTEM, "dumpxml", "--inactive", "--domain", name).stdout).toMatch(/<pv-ipi state='on'\/>|kvm-pv-ipi=on/);
    const p = planJson(spec);
    const d = p.plan.hosts.flatMap((h) => h.domains).find((x) => x.domain === name)!;
    expect(d.action).toBe("unchanged");
    expect(d.pendingRestart).toEqual(expect.arrayContaining([{ feature: "kvm-pv-ipi", running: false, defined: true }]));
    expect(p.status).toBe(2);
    const restarted = kpv("apply", spec, "--host", PROFILE, "--restart", "if-needed");
    expect(restarted.stdout).toMatch(new RegExp(`${escapeRegExp(name)} \\(restarted\\)`));
    const after = planJson(spec);
    expect(after.plan.hosts.flatMap((h) => h.domains).find((x) => x.domain === name)!.pendingRestart).toEqual([]);
    expect(virsh(SYSTEM, "domstate", "--domain", name).stdout.trim()).toBe("paused");
    virsh(SYSTEM, "destroy", "--domain", name);
  });

  test("a domain whose define libvirt rejects fails alone; the others are applied", () => {
    const spec = fleetSpec({ [NAMES[2]]: { paravirt: { pvIpi: false } } });
    spec.domains.push({ name: REJECT, memoryMiB: 128, vcpus: 300 } as never);
    (spec.hosts as Record<string, string>)[REJECT] = SYSTEM;
    const r = kpv("apply", writeSpec(spec, "reject.yaml"), "--host", PROFILE);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `failed\\s+qemu:///system ${escapeRegExp(REJECT)}: unsupported configuration: Maximum CPUs greater than specified machine type limit 288\n`,
      ),
    );
    expect(r.stdout).toMatch(new RegExp(`defined\\s+qemu:///system ${escapeRegExp(NAMES[2])}(?=\\s|$)`, "m"));
    expect(virsh(SYSTEM, "domuuid", "--domain", REJECT).status).not.toBe(0);
  });

  test("an unreachable URI is a clear error (exit 1)", () => {
    const r = kpv("plan", writeSpec({ domains: [{ name: `${PREFIX}x` }] }, "unreach.yaml"), "--connect", "qemu+tcp://127.0.0.1:1/system");
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/host qemu\+tcp:\/\/127.0.0.1:1\/system: ERROR .*(connect|Connection refused)/);
  });

  test("libvirtd stopped in the middle of an apply: a clear error, and a rerun converges", async () => {
    // a libvirtd of this test's own: stopping the shared second host would fail whoever uses it meanwhile
    expect(faultHost.start()).toBeNull();
    const HOST = faultHost.uri;
    const many = { domains: Array.from({ length: 40 }, (_, i) => ({ name: `${PREFIX}m${i}`, memoryMiB: 64 })) };
    const spec = writeSpec(many, "many.yaml");
    const child = spawn(process.execPath, [path.join(ROOT, "bin/kvm-paravirt.js"), "apply", spec, "--connect", HOST, "--host", PROFILE], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    // stop the daemon as soon as the apply reports progress (25 of 40 done): surely in the middle
    let err = "";
    let stopped = false;
    child.stderr.on("data", (d) => {
      err += d;
      if (!stopped && /apply: .*: 25\/40 done/.test(err)) {
        stopped = true;
        faultHost.stop();
      }
    });
    const code = await new Promise((r) => child.on("exit", r));
    expect(stopped).toBe(true);
    expect(code).toBe(1);
    expect(out).toMatch(new RegExp(`failed\\s+${escapeRegExp(HOST)} ${escapeRegExp(PREFIX)}m\\d+: `));
    expect(faultHost.start()).toBeNull();
    const rerun = kpv("apply", spec, "--connect", HOST, "--host", PROFILE);
    expect(rerun.status).toBe(0);
    expect(kpv("plan", spec, "--connect", HOST, "--host", PROFILE).status).toBe(0);
    // its domains go with the host (afterAll)
  });
});
