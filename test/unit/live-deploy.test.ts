import fs from "node:fs";
import path from "node:path";
import { applyDomain } from "../../src/live/apply";
import { DeployError, deployDomain } from "../../src/live/deploy";
import { importDomain } from "../../src/live/import";
import type { DomainPlan } from "../../src/live/model";
import { planDomain } from "../../src/live/plan";
import { createDomain } from "../../src/pulumi/domain-provider";
import { VirshSession } from "../../src/system/virsh-session";
import { DEBIAN12, domainSpec, ROOT } from "../helpers/specs";

/**
 * The deploy engine (planDomain, applyDomain, deployDomain, importDomain) against libvirt's
 * test driver: test:///default needs no daemon and keeps its state for the life of one virsh
 * process, so each test opens its own VirshSession, starts from the driver's fresh state (one
 * running domain "test", ID 1) and sees only what it defined. "Why does plan say update?" is
 * answered here, fast, without libvirtd.
 */

const URI = "test:///default";
const PROFILE_JSON = fs.readFileSync(path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json"), "utf8");

async function withTestDriver<T>(fn: (s: VirshSession) => Promise<T>): Promise<T> {
  const session = new VirshSession(URI);
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}

async function uuidOf(s: VirshSession, name: string): Promise<string | undefined> {
  const list = await s.domains();
  if ("error" in list) throw new Error(list.error);
  return list.byName.get(name);
}

const plan = async (s: VirshSession, domain: Record<string, unknown>) => {
  const spec = domainSpec(domain);
  return { spec, plan: await planDomain(s, URI, spec, await uuidOf(s, spec.name), DEBIAN12) };
};

/** Plans and applies a domain (restart never); returns its UUID. */
async function deploy(s: VirshSession, domain: Record<string, unknown>): Promise<string> {
  const p = await plan(s, domain);
  const r = await applyDomain(s, p.plan, p.spec, "never", DEBIAN12);
  if (r.outcome === "failed") throw new Error(r.error);
  return (await uuidOf(s, p.spec.name))!;
}

const run = async (s: VirshSession, ...args: string[]) => {
  const r = await s.run(args);
  if (r.code !== 0) throw new Error(`virsh ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
};

/** The plan without what only apply reads (desiredXml), for whole-object comparisons. */
const shown = ({ desiredXml: _x, ...p }: DomainPlan) => p;

describe("planDomain (test:///default)", () => {
  test("no domain of that name: create, every feature from nothing, a UUID of our own in the definition", () =>
    withTestDriver(async (s) => {
      const { plan: p } = await plan(s, { name: "kpv-new", paravirt: { pvIpi: true } });
      expect(p).toMatchObject({ action: "create", state: "absent", fieldChanges: [], drift: [], restartNeeded: false });
      expect(p.uuid).toBeUndefined();
      expect(p.featureChanges.find((c) => c.feature === "kvm-pv-ipi")).toEqual({
        feature: "kvm-pv-ipi",
        current: null,
        desired: { enabled: true, source: "explicit" },
      });
      expect(p.featureChanges.every((c) => c.current === null)).toBe(true);
      expect(p.desiredXml).toMatch(/<uuid>[0-9a-f-]{36}<\/uuid>/);
    }));

  test("the same spec again after its apply: unchanged, nothing to show, no restart", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-same", vcpus: 2, paravirt: { pvEoi: false, pvUnhalt: true } });
      const { plan: p } = await plan(s, { name: "kpv-same", vcpus: 2, paravirt: { pvEoi: false, pvUnhalt: true } });
      expect(shown(p)).toEqual({
        uri: URI,
        domain: "kpv-same",
        uuid,
        action: "unchanged",
        state: "shut off",
        fieldChanges: [],
        featureChanges: [],
        drift: [],
        pendingRestart: [],
        warnings: [],
        restartNeeded: false,
        deviceChanges: [],
      });
    }));

  test("update because a setting changed: the field current -> desired, and the PV feature it changes", () =>
    withTestDriver(async (s) => {
      await deploy(s, { name: "kpv-upd", vcpus: 2 });
      const vcpus = (await plan(s, { name: "kpv-upd", vcpus: 4 })).plan;
      expect(vcpus).toMatchObject({ action: "update", fieldChanges: [{ field: "vcpus", current: 2, desired: 4 }], featureChanges: [] });
      const pv = (await plan(s, { name: "kpv-upd", vcpus: 2, paravirt: { pvIpi: true } })).plan;
      expect(pv).toMatchObject({
        action: "update",
        fieldChanges: [{ field: "paravirt", current: null, desired: { pvIpi: true } }],
        featureChanges: [
          { feature: "kvm-pv-ipi", current: { enabled: false, source: "default" }, desired: { enabled: true, source: "explicit" } },
        ],
        restartNeeded: false,
      });
    }));

  test("on the test driver a feature set through <qemu:commandline> (pv-ipi on) reads as drift: the driver drops QEMU's namespace", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-argv", paravirt: { pvIpi: true } });
      expect(await run(s, "dumpxml", "--inactive", "--domain", uuid)).not.toMatch(/qemu:commandline/);
      const { plan: p } = await plan(s, { name: "kpv-argv", paravirt: { pvIpi: true } });
      expect(p).toMatchObject({ action: "update", drift: [{ feature: "kvm-pv-ipi", recorded: true, current: false }] });
    }));

  test("update because of drift: a PV element edited by hand since our define, recorded -> current", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-drift" });
      const xml = await run(s, "dumpxml", "--inactive", "--domain", uuid);
      expect(xml).toMatch(/<apic\/>/);
      expect((await s.define(xml.replace("<apic/>", "<apic eoi='off'/>"))).code).toBe(0);
      const { plan: p } = await plan(s, { name: "kpv-drift" });
      expect(p).toMatchObject({
        action: "update",
        drift: [{ feature: "kvm-pv-eoi", recorded: true, current: false }],
        fieldChanges: [{ field: "paravirt", current: { pvEoi: false }, desired: null }],
        featureChanges: [
          { feature: "kvm-pv-eoi", current: { enabled: false, source: "explicit" }, desired: { enabled: true, source: "default" } },
        ],
      });
    }));

  test("update because the domain has no kvm-paravirt metadata (defined by something else), even when every setting agrees", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-foreign" });
      const xml = await run(s, "dumpxml", "--inactive", "--domain", uuid);
      expect((await s.define(xml.replace(/<metadata>[\s\S]*<\/metadata>\s*/, ""))).code).toBe(0);
      const { plan: p } = await plan(s, { name: "kpv-foreign" });
      expect(p).toMatchObject({ action: "update", fieldChanges: [], drift: [], uuid });
      expect(p.desiredXml).toMatch(/<kpv:paravirt /);
    }));

  test("a running domain: a change needs a restart, the run state and autostart the spec asks for are planned", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-run" });
      await run(s, "start", "--domain", uuid);
      const p = (await plan(s, { name: "kpv-run", vcpus: 2, runState: "paused", autostart: true })).plan;
      expect(p).toMatchObject({ action: "update", state: "running", restartNeeded: true, runChange: "pause", autostart: true });
      // qemu-monitor-command is not there on the test driver: no realized features, no pending restart claimed
      expect(p.pendingRestart).toEqual([]);
      await run(s, "destroy", "--domain", uuid);
      expect((await plan(s, { name: "kpv-run", runState: "running" })).plan).toMatchObject({ action: "unchanged", runChange: "start" });
    }));
});

describe("applyDomain (test:///default)", () => {
  test("a create defines the planned definition under its planned UUID", () =>
    withTestDriver(async (s) => {
      const { spec, plan: p } = await plan(s, { name: "kpv-create", vcpus: 2 });
      const planned = /<uuid>([0-9a-f-]{36})<\/uuid>/.exec(p.desiredXml!)![1];
      expect(await applyDomain(s, p, spec, "never", DEBIAN12)).toEqual({
        uri: URI,
        domain: "kpv-create",
        action: "create",
        outcome: "defined",
        restarted: false,
        restartPending: false,
        warnings: [],
      });
      expect(await uuidOf(s, "kpv-create")).toBe(planned);
      expect(await run(s, "domstate", "--domain", planned)).toBe("shut off");
    }));

  test("--restart if-needed on an unchanged running domain: unchanged, not restarted (same domain ID)", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-idle", vcpus: 2 });
      await run(s, "start", "--domain", uuid);
      const id = await run(s, "domid", "--domain", uuid);
      const { spec, plan: p } = await plan(s, { name: "kpv-idle", vcpus: 2 });
      expect(p).toMatchObject({ action: "unchanged", state: "running", restartNeeded: false, pendingRestart: [] });
      expect(await applyDomain(s, p, spec, "if-needed", DEBIAN12)).toMatchObject({
        outcome: "unchanged",
        restarted: false,
        restartPending: false,
      });
      expect(await run(s, "domid", "--domain", uuid)).toBe(id);
    }));

  test("a changed running domain: restart never keeps it running with a restart pending; if-needed restarts it (new ID)", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-restart" });
      await run(s, "start", "--domain", uuid);
      const id = await run(s, "domid", "--domain", uuid);
      const never = await plan(s, { name: "kpv-restart", vcpus: 2 });
      expect(await applyDomain(s, never.plan, never.spec, "never", DEBIAN12)).toMatchObject({
        outcome: "defined",
        restarted: false,
        restartPending: true,
      });
      expect(await run(s, "domid", "--domain", uuid)).toBe(id);
      expect(await run(s, "dumpxml", "--inactive", "--domain", uuid)).toMatch(/<vcpu placement='static'>2<\/vcpu>/);
      const ifNeeded = await plan(s, { name: "kpv-restart", vcpus: 3 });
      expect(await applyDomain(s, ifNeeded.plan, ifNeeded.spec, "if-needed", DEBIAN12)).toMatchObject({
        outcome: "defined",
        restarted: true,
        restartPending: false,
      });
      expect(await run(s, "domstate", "--domain", uuid)).toBe("running");
      expect(await run(s, "domid", "--domain", uuid)).not.toBe(id);
      expect(await run(s, "dumpxml", "--domain", uuid)).toMatch(/<vcpu placement='static'>3<\/vcpu>/);
    }));

  test("a create that lost the race for its name is planned again against what is there: unchanged when that is the same", () =>
    withTestDriver(async (s) => {
      const first = await plan(s, { name: "kpv-race" });
      const second = await plan(s, { name: "kpv-race" });
      expect(await applyDomain(s, first.plan, first.spec, "never", DEBIAN12)).toMatchObject({ outcome: "defined" });
      const uuid = await uuidOf(s, "kpv-race");
      expect(await applyDomain(s, second.plan, second.spec, "never", DEBIAN12)).toMatchObject({
        action: "unchanged",
        outcome: "unchanged",
      });
      expect(await uuidOf(s, "kpv-race")).toBe(uuid);
    }));

  test("a plan with an error is not applied: failed, nothing defined", () =>
    withTestDriver(async (s) => {
      const { spec, plan: p } = await plan(s, { name: "kpv-bad", memoryMiB: 64 });
      const r = await applyDomain(s, { ...p, error: "planted" }, spec, "never", DEBIAN12);
      expect(r).toMatchObject({ outcome: "failed", error: "planted" });
      expect(await uuidOf(s, "kpv-bad")).toBeUndefined();
    }));
});

describe("deployDomain (test:///default): the Pulumi Domain's create and update", () => {
  test("create on the condition that no domain has the name; update on the condition that it is still the same UUID", () =>
    withTestDriver(async (s) => {
      const spec = domainSpec({ name: "kpv-deploy" });
      const created = await deployDomain(s, spec, { absent: true }, "never", DEBIAN12);
      expect(created).toMatchObject({ uuid: await uuidOf(s, "kpv-deploy"), state: "shut off", result: { outcome: "defined" } });
      await expect(deployDomain(s, spec, { absent: true }, "never", DEBIAN12)).rejects.toThrow(
        new DeployError(
          `a domain named "kpv-deploy" already exists on ${URI} (UUID ${created.uuid}); it is not changed. To manage it, import it: pulumi import kvm-paravirt:index:Domain <resource name> 'kpv-deploy@<connection URI>'`,
        ),
      );
      const other = "00000000-0000-4000-8000-000000000001";
      await expect(deployDomain(s, spec, { uuid: other }, "never", DEBIAN12)).rejects.toThrow(
        /now has UUID .* not 0+-0000-4000-8000-0+1 .*replaced out of band/,
      );
      const updated = await deployDomain(s, domainSpec({ name: "kpv-deploy", vcpus: 2 }), { uuid: created.uuid }, "never", DEBIAN12);
      expect(updated).toMatchObject({ uuid: created.uuid, plan: { action: "update" }, result: { outcome: "defined" } });
      await run(s, "undefine", "--domain", created.uuid);
      await expect(deployDomain(s, spec, { uuid: created.uuid }, "never", DEBIAN12)).rejects.toThrow(/is gone from test:\/\/\/default/);
    }));

  test("a domain named like another domain's ID reports its own state, not that domain's", () =>
    withTestDriver(async (s) => {
      // the test driver's own domain "test" runs with ID 1
      const victim = (await uuidOf(s, "test"))!;
      expect(await run(s, "domid", "--domain", victim)).toBe("1");
      const d = await deployDomain(s, domainSpec({ name: "1" }), { absent: true }, "never", DEBIAN12);
      expect(d.uuid).not.toBe(victim);
      expect(d.state).toBe("shut off");
      expect(await run(s, "domstate", "--domain", victim)).toBe("running");
    }));
});

describe("the Domain resource's outputs (test:///default)", () => {
  test("createDomain of a Domain named like a running domain's ID: its state output is its own (shut off)", async () => {
    const r = await createDomain({ name: "1", connection: URI, hostProfile: PROFILE_JSON });
    expect(r.outs).toMatchObject({ uuid: r.id, state: "shut off" });
    expect(r.id).not.toBe("6695eb01-f6a4-8304-79aa-97f2502e193f"); // the test driver's running domain "test"
  });
});

describe("importDomain", () => {
  /** A KVM domain with a custom CPU as libvirt writes it (libvirt adds check='partial' for KVM). */
  const libvirtWritten = (check: string) => `<domain type='kvm'>
  <name>kpv-imported</name>
  <uuid>2f0cbbd8-5c3b-4c3a-9a0e-6f4b1d2a7e01</uuid>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode='custom' match='exact' check='${check}'>
    <model fallback='allow'>Skylake-Server</model>
  </cpu>
  <clock offset='utc'/>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
  </devices>
</domain>
`;

  test("check='partial', which libvirt writes for KVM custom CPUs, is kept: applying the import keeps CPU checking on", () =>
    withTestDriver(async (s) => {
      const { domain } = importDomain(libvirtWritten("partial"), DEBIAN12);
      expect(domain).toEqual({
        name: "kpv-imported",
        vcpus: 2,
        memoryMiB: 2048,
        cpu: { mode: "custom", model: "Skylake-Server", check: "partial" },
      });
      // the imported spec against the live domain: nothing to change, CPU checking included
      expect((await s.define(libvirtWritten("partial"))).code).toBe(0);
      const { plan: p } = await plan(s, domain);
      expect(p.fieldChanges).toEqual([]);
      expect(p.desiredXml).toMatch(/<cpu mode=["']custom["'] match=["']exact["'] check=["']partial["']>/);
    }));

  test("only what differs from the defaults is explicit: check none, one vCPU, 1 GiB, qemu64, the q35 alias", () => {
    const xml = libvirtWritten("none")
      .replace("<vcpu placement='static'>2</vcpu>", "<vcpu placement='static'>1</vcpu>")
      .replace(/2097152/g, "1048576")
      .replace("Skylake-Server", "qemu64");
    expect(importDomain(xml, DEBIAN12).domain).toEqual({ name: "kpv-imported" });
  });

  test("explicit PV settings stay only where QEMU's default would differ", () => {
    const xml = libvirtWritten("none").replace("<apic/>", "<apic eoi='on'/><pvspinlock state='on'/>");
    expect(importDomain(xml, DEBIAN12).domain).toMatchObject({ paravirt: { pvUnhalt: true } });
    expect(importDomain(xml, DEBIAN12).domain.paravirt).not.toHaveProperty("pvEoi");
  });

  test("a definition that does not read as a spec domain is an error naming the field", () => {
    expect(() => importDomain(libvirtWritten("none").replace("<name>kpv-imported</name>", "<name>a b</name>"), DEBIAN12)).toThrow(
      /the definition does not read as a spec domain: .*name/,
    );
  });
});
