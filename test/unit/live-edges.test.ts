import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyDomain, applyFleet } from "../../src/live/apply";
import { DeployError, deployDomain, findDomain, readLive, undefineDomain } from "../../src/live/deploy";
import type { DomainPlan } from "../../src/live/model";
import { planDomain, planFleet } from "../../src/live/plan";
import { importDomain, importDomains } from "../../src/live/import";
import { targets } from "../../src/live/targets";
import { parseSpecText } from "../../src/input/load";
import * as hostForModule from "../../src/system/host-for";
import type { VirshResult } from "../../src/system/virsh";
import { VirshSession } from "../../src/system/virsh-session";
import * as xmlValidate from "../../src/system/xml-validate";
import { schemaValidatorInstalled } from "../../src/system/xml-validate";
import { DEBIAN12, domainSpec } from "../helpers/specs";

/**
 * The edges of src/live that live-deploy.test.ts leaves open: what apply does when libvirt
 * refuses (virsh's error text, a failed restart, a failed run-state step), the run state and
 * autostart steps one by one, readLive/findDomain/undefineDomain, the plan's error paths, the
 * fleet. Against libvirt's test driver (one VirshSession per test: fresh state each time), with
 * a ScriptedSession where libvirt would have to fail at one exact step or answer what the test
 * driver cannot (QMP).
 */

const URI = "test:///default";

/** A session on the test driver whose replies to some commands are scripted (undefined: the real reply). */
class ScriptedSession extends VirshSession {
  constructor(
    uri: string,
    private readonly script: (args: readonly string[]) => VirshResult | undefined,
  ) {
    super(uri);
  }
  override run(args: readonly string[]): Promise<VirshResult> {
    const r = this.script(args);
    return r ? Promise.resolve(r) : super.run(args);
  }
}

async function using<T, S extends VirshSession>(session: S, fn: (s: S) => Promise<T>): Promise<T> {
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}
const withTestDriver = <T>(fn: (s: VirshSession) => Promise<T>) => using(new VirshSession(URI), fn);
const withScript = <T>(script: (args: readonly string[]) => VirshResult | undefined, fn: (s: ScriptedSession) => Promise<T>) =>
  using(new ScriptedSession(URI, script), fn);

const fails = (stderr: string): VirshResult => ({ code: 1, stdout: "", stderr });

async function uuidOf(s: VirshSession, name: string): Promise<string | undefined> {
  const list = await s.domains();
  if ("error" in list) throw new Error(list.error);
  return list.byName.get(name);
}

const plan = async (s: VirshSession, domain: Record<string, unknown>) => {
  const spec = domainSpec(domain);
  return { spec, plan: await planDomain(s, URI, spec, await uuidOf(s, spec.name), DEBIAN12) };
};

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
const state = (s: VirshSession, uuid: string) => run(s, "domstate", "--domain", uuid);
const autostartOf = async (s: VirshSession, uuid: string) => /^Autostart:\s+(\S+)/m.exec(await run(s, "dominfo", "--domain", uuid))![1];

/** applyDomain's result with nothing restarted, nothing pending, no warnings, plus `more`. */
const applied = (domain: string, action: DomainPlan["action"], outcome: string, more: Record<string, unknown> = {}) => ({
  uri: URI,
  domain,
  action,
  outcome,
  restarted: false,
  restartPending: false,
  warnings: [],
  ...more,
});

describe("applyDomain when libvirt refuses the define", () => {
  test("the error is virsh's text on one line: no 'error: ' prefixes, no temporary file name, each line trimmed", () =>
    withTestDriver(async (s) => {
      const { spec, plan: p } = await plan(s, { name: "kpv-refused", runState: "running" });
      // a definition libvirt's parser refuses; the line it quotes contains the words the cleanup looks for
      const xml = p.desiredXml!.replace("<devices/>", "<devices></devices error: Failed to define domain from here>");
      expect(await applyDomain(s, { ...p, desiredXml: xml }, spec, "never", DEBIAN12)).toEqual(
        applied("kpv-refused", "create", "failed", {
          error:
            "(domain_definition):25: expected '>'; <devices></devices error: Failed to define domain from here>; ---------------------^",
        }),
      );
      expect(await uuidOf(s, "kpv-refused")).toBeUndefined();
    }));
});

describe("applyDomain: races with what changed since the plan", () => {
  test("an update whose domain was replaced out of band (same name, new UUID) fails with libvirt's refusal and touches neither", () =>
    withTestDriver(async (s) => {
      const old = await deploy(s, { name: "kpv-swap" });
      const { spec, plan: p } = await plan(s, { name: "kpv-swap", vcpus: 2 });
      const xml = await run(s, "dumpxml", "--inactive", "--domain", old);
      await run(s, "undefine", "--domain", old);
      const other = "00000000-0000-4000-8000-00000000abcd";
      expect((await s.define(xml.replace(old, other))).code).toBe(0);
      expect(await applyDomain(s, p, spec, "never", DEBIAN12)).toEqual(
        applied("kpv-swap", "update", "failed", { error: `operation failed: domain 'kpv-swap' already exists with uuid ${other}` }),
      );
      expect(await uuidOf(s, "kpv-swap")).toBe(other);
      expect(await run(s, "dumpxml", "--inactive", "--domain", other)).toMatch(/<vcpu placement='static'>1<\/vcpu>/);
    }));

  test("a create that lost the race to a different definition is planned again and applied as that update, on the winner's UUID", () =>
    withTestDriver(async (s) => {
      const first = await plan(s, { name: "kpv-race2" });
      const second = await plan(s, { name: "kpv-race2", vcpus: 3 });
      expect((await applyDomain(s, first.plan, first.spec, "never", DEBIAN12)).outcome).toBe("defined");
      const winner = await uuidOf(s, "kpv-race2");
      expect(await applyDomain(s, second.plan, second.spec, "never", DEBIAN12)).toEqual(applied("kpv-race2", "create", "defined"));
      expect(await uuidOf(s, "kpv-race2")).toBe(winner);
      expect(await run(s, "dumpxml", "--inactive", "--domain", winner!)).toMatch(/<vcpu placement='static'>3<\/vcpu>/);
    }));
});

describe("applyDomain: restarts", () => {
  test("a changed paused domain is restarted paused: start --paused (which the test driver refuses, naming the flag)", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-paused" });
      await run(s, "start", "--domain", uuid);
      await run(s, "suspend", "--domain", uuid);
      const { spec, plan: p } = await plan(s, { name: "kpv-paused", vcpus: 2 });
      expect(p).toMatchObject({ action: "update", state: "paused", restartNeeded: true });
      expect(await applyDomain(s, p, spec, "if-needed", DEBIAN12)).toEqual(
        applied("kpv-paused", "update", "failed", {
          restartPending: true,
          error: `defined, but the restart failed: Failed to start domain 'kpv-paused'; unsupported flags (0x1) in function testDomainCreateWithFlags`,
        }),
      );
    }));

  test("the domain stopped since the plan: defined, but the restart failed (destroy refused), still pending", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-stopped" });
      await run(s, "start", "--domain", uuid);
      const { spec, plan: p } = await plan(s, { name: "kpv-stopped", vcpus: 2 });
      await run(s, "destroy", "--domain", uuid);
      expect(await applyDomain(s, p, spec, "if-needed", DEBIAN12)).toEqual(
        applied("kpv-stopped", "update", "failed", {
          restartPending: true,
          error: `defined, but the restart failed: Failed to destroy domain '${uuid}'; Requested operation is not valid: domain is not running`,
        }),
      );
    }));

  test("the start after the destroy refused: defined, but the restart failed, naming the start's error", () => {
    let uuid = "";
    let started = false;
    return withScript(
      (args) =>
        args[0] === "start" && started
          ? fails("error: Failed to start domain 'kpv-nostart'\nerror: internal error: no more room\n")
          : undefined,
      async (s) => {
        uuid = await deploy(s, { name: "kpv-nostart" });
        await run(s, "start", "--domain", uuid);
        started = true;
        const { spec, plan: p } = await plan(s, { name: "kpv-nostart", vcpus: 2 });
        expect(await applyDomain(s, p, spec, "if-needed", DEBIAN12)).toEqual(
          applied("kpv-nostart", "update", "failed", {
            restartPending: true,
            error: "defined, but the restart failed: Failed to start domain 'kpv-nostart'; internal error: no more room",
          }),
        );
        expect(await state(s, uuid)).toBe("shut off");
      },
    );
  });

  /** A plan that is unchanged but runs with a feature its definition no longer has (an earlier apply without restart). */
  const pending = (p: DomainPlan): DomainPlan => ({ ...p, pendingRestart: [{ feature: "kvm-pv-eoi", running: false, defined: true }] });

  test("unchanged with a restart pending: restart never reports it pending; if-needed restarts (new ID)", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-pending" });
      await run(s, "start", "--domain", uuid);
      const id = await run(s, "domid", "--domain", uuid);
      const { spec, plan: p } = await plan(s, { name: "kpv-pending" });
      expect(p.action).toBe("unchanged");
      expect(await applyDomain(s, pending(p), spec, "never", DEBIAN12)).toEqual(
        applied("kpv-pending", "unchanged", "unchanged", { restartPending: true }),
      );
      expect(await run(s, "domid", "--domain", uuid)).toBe(id);
      expect(await applyDomain(s, pending(p), spec, "if-needed", DEBIAN12)).toEqual(
        applied("kpv-pending", "unchanged", "unchanged", { restarted: true }),
      );
      expect(await run(s, "domid", "--domain", uuid)).not.toBe(id);
      expect(await state(s, uuid)).toBe("running");
    }));

  test("a restart without a known UUID is refused, never attempted by name", () =>
    withTestDriver(async (s) => {
      const { spec, plan: p } = await plan(s, { name: "kpv-nouuid" });
      expect(await applyDomain(s, pending({ ...p, action: "unchanged" }), spec, "if-needed", DEBIAN12)).toEqual(
        applied("kpv-nouuid", "unchanged", "failed", { restartPending: true, error: "the restart failed: kpv-nouuid has no known UUID" }),
      );
    }));

  test("a plan with an error: failed, restart pending exactly when the plan has one", () =>
    withTestDriver(async (s) => {
      const { spec, plan: p } = await plan(s, { name: "kpv-err" });
      expect(await applyDomain(s, { ...p, error: "planted" }, spec, "if-needed", DEBIAN12)).toEqual(
        applied("kpv-err", "create", "failed", { error: "planted" }),
      );
      expect(await applyDomain(s, pending({ ...p, error: "planted" }), spec, "if-needed", DEBIAN12)).toEqual(
        applied("kpv-err", "create", "failed", { restartPending: true, error: "planted" }),
      );
    }));
});

describe("applyDomain: the run state and autostart after the define", () => {
  test("runState running on a create: defined, then started by its UUID", () =>
    withTestDriver(async (s) => {
      const { spec, plan: p } = await plan(s, { name: "kpv-start", runState: "running" });
      expect(p.runChange).toBe("start");
      expect(await applyDomain(s, p, spec, "never", DEBIAN12)).toEqual(applied("kpv-start", "create", "defined"));
      const uuid = (await uuidOf(s, "kpv-start"))!;
      expect(await state(s, uuid)).toBe("running");
      expect(await autostartOf(s, uuid)).toBe("disable");
    }));

  test("runState paused on a create: start --paused (the test driver refuses the flag: defined, but start failed)", () =>
    withTestDriver(async (s) => {
      const { spec, plan: p } = await plan(s, { name: "kpv-startp", runState: "paused" });
      expect(p.runChange).toBe("start-paused");
      expect(await applyDomain(s, p, spec, "never", DEBIAN12)).toEqual(
        applied("kpv-startp", "create", "failed", {
          error:
            "defined, but start failed: Failed to start domain 'kpv-startp'; unsupported flags (0x1) in function testDomainCreateWithFlags",
        }),
      );
    }));

  test("a paused domain with runState running is resumed; a running one with runState paused is suspended", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-rs" });
      await run(s, "start", "--domain", uuid);
      await run(s, "suspend", "--domain", uuid);
      const resume = await plan(s, { name: "kpv-rs", runState: "running" });
      expect(resume.plan).toMatchObject({ action: "unchanged", state: "paused", runChange: "resume" });
      expect(await applyDomain(s, resume.plan, resume.spec, "never", DEBIAN12)).toEqual(applied("kpv-rs", "unchanged", "unchanged"));
      expect(await state(s, uuid)).toBe("running");
      const pause = await plan(s, { name: "kpv-rs", runState: "paused" });
      expect(pause.plan).toMatchObject({ action: "unchanged", state: "running", runChange: "pause" });
      expect(await applyDomain(s, pause.plan, pause.spec, "never", DEBIAN12)).toEqual(applied("kpv-rs", "unchanged", "unchanged"));
      expect(await state(s, uuid)).toBe("paused");
      // already as asked: nothing to do
      expect((await plan(s, { name: "kpv-rs", runState: "paused" })).plan).not.toHaveProperty("runChange");
    }));

  test("autostart: enabled on a create that asks for it, disabled when the spec says false, left alone when the spec is silent", () =>
    withTestDriver(async (s) => {
      const { spec, plan: p } = await plan(s, { name: "kpv-auto", autostart: true });
      expect(p).toMatchObject({ autostart: true });
      expect(p).not.toHaveProperty("runChange");
      expect(await applyDomain(s, p, spec, "never", DEBIAN12)).toEqual(applied("kpv-auto", "create", "defined"));
      const uuid = (await uuidOf(s, "kpv-auto"))!;
      expect(await autostartOf(s, uuid)).toBe("enable");
      expect(await state(s, uuid)).toBe("shut off");
      // as asked already: nothing planned (dominfo's "Autostart:      enable" is read)
      expect(Object.keys((await plan(s, { name: "kpv-auto", autostart: true })).plan)).not.toContain("autostart");
      // silent about autostart, starting it: autostart stays on
      const start = await plan(s, { name: "kpv-auto", runState: "running" });
      expect(Object.keys(start.plan)).not.toContain("autostart");
      expect(await applyDomain(s, start.plan, start.spec, "never", DEBIAN12)).toEqual(applied("kpv-auto", "unchanged", "unchanged"));
      expect(await autostartOf(s, uuid)).toBe("enable");
      expect(await state(s, uuid)).toBe("running");
      const off = await plan(s, { name: "kpv-auto", autostart: false });
      expect(off.plan).toMatchObject({ action: "unchanged", autostart: false });
      expect(await applyDomain(s, off.plan, off.spec, "never", DEBIAN12)).toEqual(applied("kpv-auto", "unchanged", "unchanged"));
      expect(await autostartOf(s, uuid)).toBe("disable");
      expect(Object.keys((await plan(s, { name: "kpv-auto", autostart: false })).plan)).not.toContain("autostart");
    }));

  test("a run-state step libvirt refuses (the domain stopped since the plan): failed, naming the step; without 'defined, but' when nothing was defined", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-gone-run" });
      await run(s, "start", "--domain", uuid);
      const pause = await plan(s, { name: "kpv-gone-run", runState: "paused" });
      const changed = await plan(s, { name: "kpv-gone-run", vcpus: 2, runState: "paused" });
      await run(s, "destroy", "--domain", uuid);
      expect(await applyDomain(s, pause.plan, pause.spec, "never", DEBIAN12)).toEqual(
        applied("kpv-gone-run", "unchanged", "failed", {
          error: `suspend failed: Failed to suspend domain '${uuid}'; internal error: domain 'kpv-gone-run' not running`,
        }),
      );
      expect(await applyDomain(s, changed.plan, changed.spec, "never", DEBIAN12)).toEqual(
        applied("kpv-gone-run", "update", "failed", {
          restartPending: true,
          error: `defined, but suspend failed: Failed to suspend domain '${uuid}'; internal error: domain 'kpv-gone-run' not running`,
        }),
      );
    }));

  test("a created domain that is not listed after its define: failed, naming it (only looked up when there is a step to take)", () => {
    let hide = false;
    return withScript(
      (args) => (hide && args[0] === "list" ? { code: 0, stdout: "", stderr: "" } : undefined),
      async (s) => {
        const quiet = await plan(s, { name: "kpv-hidden" });
        const started = await plan(s, { name: "kpv-hidden2", runState: "running" });
        hide = true;
        expect(await applyDomain(s, quiet.plan, quiet.spec, "never", DEBIAN12)).toEqual(applied("kpv-hidden", "create", "defined"));
        expect(await applyDomain(s, started.plan, started.spec, "never", DEBIAN12)).toEqual(
          applied("kpv-hidden2", "create", "failed", { error: "defined, but kpv-hidden2 is not listed after its define" }),
        );
      },
    );
  });
});

describe("deployDomain, readLive, findDomain, undefineDomain (test:///default)", () => {
  test("a host whose domains cannot be listed: DeployError naming the host and libvirt's reason", () =>
    using(new VirshSession("test:///nonexistent/kpv-node.xml"), async (s) => {
      const why =
        "I/O warning : failed to load external entity \"/nonexistent/kpv-node.xml\"; failed to connect to the hypervisor; XML error: failed to parse xml document '/nonexistent/kpv-node.xml'; virsh exited (1) on test:///nonexistent/kpv-node.xml";
      await expect(deployDomain(s, domainSpec({ name: "kpv-x" }), { absent: true }, "never", DEBIAN12)).rejects.toThrow(
        new DeployError(`cannot list the domains of test:///nonexistent/kpv-node.xml: ${why}`),
      );
    }));

  test("a spec the plan refuses: DeployError with the plan's error, nothing defined", () =>
    withTestDriver(async (s) => {
      const spec = domainSpec({ name: "kpv-tcg", accel: "tcg", cpu: { mode: "host-passthrough" } });
      await expect(deployDomain(s, spec, { absent: true }, "never", DEBIAN12)).rejects.toThrow(
        new DeployError(
          "kpv-tcg: cpu.mode: [host-passthrough-needs-kvm] host-passthrough (-cpu host) needs the KVM accelerator; use mode maximum or a named model with accel tcg",
        ),
      );
      expect(await uuidOf(s, "kpv-tcg")).toBeUndefined();
    }));

  test("a define libvirt refuses: DeployError with virsh's error", () =>
    withScript(
      (args) =>
        args[0] === "define" ? fails("error: Failed to define domain from /tmp/x.xml\nerror: internal error: planted\n") : undefined,
      async (s) => {
        await expect(deployDomain(s, domainSpec({ name: "kpv-nodef" }), { absent: true }, "never", DEBIAN12)).rejects.toThrow(
          new DeployError(`kpv-nodef on ${URI}: internal error: planted`),
        );
      },
    ));

  test("defined but not listed afterwards: DeployError; a state libvirt cannot tell is 'unknown'", async () => {
    let hide = false;
    await withScript(
      (args) => (hide && args[0] === "list" ? { code: 0, stdout: "", stderr: "" } : undefined),
      async (s) => {
        hide = true;
        await expect(deployDomain(s, domainSpec({ name: "kpv-unlisted" }), { absent: true }, "never", DEBIAN12)).rejects.toThrow(
          new DeployError(`kpv-unlisted was defined on ${URI} but is not listed afterwards`),
        );
      },
    );
    await withScript(
      (args) => (args[0] === "domstate" ? fails("error: planted\n") : undefined),
      async (s) => {
        const d = await deployDomain(s, domainSpec({ name: "kpv-nostate" }), { absent: true }, "never", DEBIAN12);
        expect(d.state).toBe("unknown");
        expect(d.uuid).toBe(await uuidOf(s, "kpv-nostate"));
      },
    );
  });

  test("readLive: the inactive definition with its secrets and the state, by UUID; null for a UUID the host does not have", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-read" });
      const xml = await run(s, "dumpxml", "--inactive", "--domain", uuid);
      expect((await s.define(xml.replace("<devices>", "<devices><graphics type='vnc' port='-1' passwd='s3cret'/>"))).code).toBe(0);
      await run(s, "start", "--domain", uuid);
      const live = await readLive(s, uuid);
      expect(live!.state).toBe("running");
      expect(live!.xml).toMatch(/^<domain type='kvm'>\n/); // inactive: no id='N'
      expect(live!.xml).toMatch(/passwd='s3cret'/);
      expect(live!.xml).toBe((await s.run(["dumpxml", "--inactive", "--security-info", "--domain", uuid])).stdout);
      expect(await readLive(s, "00000000-0000-4000-8000-0000000000ff")).toBeNull();
    }));

  test("readLive: a dump libvirt refuses is a DeployError with its trimmed text", () => {
    let uuid = "";
    return withScript(
      (args) => (args[0] === "dumpxml" && uuid ? fails("error: planted failure\n") : undefined),
      async (s) => {
        uuid = (await uuidOf(s, "test"))!;
        await expect(readLive(s, uuid)).rejects.toThrow(
          new DeployError(`cannot read the definition of ${uuid} on ${URI}: error: planted failure`),
        );
      },
    );
  });

  test("findDomain: by exact name, by UUID in any case, never by ID; undefined otherwise", () =>
    withTestDriver(async (s) => {
      const test = (await uuidOf(s, "test"))!;
      expect(await findDomain(s, "test")).toBe(test);
      expect(await findDomain(s, test)).toBe(test);
      expect(await findDomain(s, test.toUpperCase())).toBe(test);
      expect(await findDomain(s, "1")).toBeUndefined();
      expect(await findDomain(s, "kpv-none")).toBeUndefined();
    }));

  test("undefineDomain: ours is undefined; a gone one is 'gone'; one without our metadata is left alone", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-undef" });
      expect(await undefineDomain(s, uuid)).toBe("undefined");
      expect(await uuidOf(s, "kpv-undef")).toBeUndefined();
      expect(await undefineDomain(s, uuid)).toBe("gone");
      const test = (await uuidOf(s, "test"))!;
      await expect(undefineDomain(s, test)).rejects.toThrow(
        new DeployError(`the domain ${test} on ${URI} was not defined by kvm-paravirt (no kpv:paravirt metadata): left alone`),
      );
      expect(await uuidOf(s, "test")).toBe(test);
    }));

  test.each([
    ["error: failed to get domain 'x'\n", "gone"],
    ["error: Failed to undefine domain\nerror: Domain not found: no domain with matching uuid\n", "gone"],
  ])("undefineDomain: a domain gone between the read and the undefine (%j) is 'gone'", (stderr, outcome) => {
    let armed = false;
    return withScript(
      (args) => (armed && args[0] === "undefine" ? fails(stderr) : undefined),
      async (s) => {
        const uuid = await deploy(s, { name: "kpv-race-undef" });
        armed = true;
        expect(await undefineDomain(s, uuid)).toBe(outcome);
      },
    );
  });

  test("undefineDomain: any other refusal is a DeployError with libvirt's lines, 'error: ' prefixes dropped", () => {
    let armed = false;
    return withScript(
      (args) => (armed && args[0] === "undefine" ? fails("error: Failed to undefine domain\nerror: internal error: busy\n") : undefined),
      async (s) => {
        const uuid = await deploy(s, { name: "kpv-busy" });
        armed = true;
        await expect(undefineDomain(s, uuid)).rejects.toThrow(
          new DeployError(`cannot undefine ${uuid} on ${URI}: Failed to undefine domain\ninternal error: busy`),
        );
      },
    );
  });
});

describe("planDomain: errors and what the host tells", () => {
  test("every error diagnostic of the spec, '; '-joined as path: [code] message; the create's devices are adds", () =>
    withTestDriver(async (s) => {
      const { plan: p } = await plan(s, {
        name: "kpv-errs",
        accel: "tcg",
        cpu: { mode: "host-passthrough" },
        disks: [
          { target: "vdb", file: "/tmp/kpv-a.img" },
          { target: "vdb", file: "/tmp/kpv-b.img" },
        ],
      });
      expect(p.error).toBe(
        "cpu.mode: [host-passthrough-needs-kvm] host-passthrough (-cpu host) needs the KVM accelerator; use mode maximum or a named model with accel tcg; " +
          "disks: [device-target-twice] two disks have target vdb: libvirt refuses the definition (\"target 'vdb' duplicated for disk sources\")",
      );
    }));

  test("a create's device changes: each declared device added, with whether it can be hot-plugged", () =>
    withTestDriver(async (s) => {
      const { plan: p } = await plan(s, {
        name: "kpv-dev",
        disks: [{ target: "vdb", file: "/tmp/kpv-a.img" }],
        graphics: { type: "vnc" },
        serialConsole: true,
      });
      expect(p.deviceChanges).toEqual([
        { device: "disk:vdb", change: "add", hotplug: true },
        { device: "serial:0", change: "add", hotplug: false },
        { device: "console:0", change: "add", hotplug: false },
        { device: "graphics:vnc", change: "add", hotplug: false },
      ]);
      expect(p.error).toBeUndefined();
    }));

  const balloon = "<memballoon model='virtio'/>";
  const watchdog = "<watchdog model='i6300esb' action='reset'/>";
  const schemaRefusal = expect.stringMatching(/^extraDevices: \[extra-device-schema\] libvirt's schema refuses the definition: .+/);

  /** libvirt's schema check needs virt-xml-validate (libvirt-clients): without it these skip themselves */
  const withValidator = schemaValidatorInstalled() ? test : test.skip;

  withValidator(
    "extra devices each valid alone but not together (two memballoons): the whole definition's schema check stops create and update",
    () =>
      withTestDriver(async (s) => {
        const create = (await plan(s, { name: "kpv-xd", extraDevices: [balloon, balloon] })).plan;
        expect(create).toMatchObject({ action: "create", error: schemaRefusal });
        await deploy(s, { name: "kpv-xd" });
        const update = (await plan(s, { name: "kpv-xd", extraDevices: [balloon, balloon] })).plan;
        expect(update).toMatchObject({ action: "update", error: schemaRefusal });
        // one is fine
        expect((await plan(s, { name: "kpv-xd", extraDevices: [balloon] })).plan).toMatchObject({ action: "update" });
        expect((await plan(s, { name: "kpv-xd", extraDevices: [balloon] })).plan.error).toBeUndefined();
        expect((await plan(s, { name: "kpv-xd2", extraDevices: [balloon] })).plan.error).toBeUndefined();
      }),
  );

  withValidator("the whole definition goes to libvirt's schema only when it has extra devices and changes", () =>
    withTestDriver(async (s) => {
      await deploy(s, { name: "kpv-val", extraDevices: [watchdog] });
      const validate = jest.spyOn(xmlValidate, "schemaProblem");
      const wholeDomain = () => validate.mock.calls.filter(([xml]) => xml.includes("<name>kpv-val</name>")).length;
      expect((await plan(s, { name: "kpv-val", extraDevices: [watchdog] })).plan.action).toBe("unchanged");
      expect(wholeDomain()).toBe(0);
      expect((await plan(s, { name: "kpv-val", vcpus: 2 })).plan.action).toBe("update");
      expect(wholeDomain()).toBe(0);
      expect((await plan(s, { name: "kpv-val", vcpus: 2, extraDevices: [watchdog] })).plan).toMatchObject({ action: "update" });
      expect(wholeDomain()).toBe(1);
    }),
  );

  withValidator("the spec's own error comes first: the schema check does not replace it, a valid extra device does not clear it", () =>
    withTestDriver(async (s) => {
      const tcg =
        "cpu.mode: [host-passthrough-needs-kvm] host-passthrough (-cpu host) needs the KVM accelerator; use mode maximum or a named model with accel tcg";
      const bad = { name: "kpv-xde", accel: "tcg", cpu: { mode: "host-passthrough" } };
      expect((await plan(s, { ...bad, extraDevices: [balloon, balloon] })).plan.error).toBe(tcg);
      expect((await plan(s, { ...bad, extraDevices: [balloon] })).plan.error).toBe(tcg);
    }),
  );

  test("a dump libvirt refuses: the domain is left as it is (unchanged) with libvirt's trimmed error", () =>
    withScript(
      (args) => (args[0] === "dumpxml" ? fails("error: planted dump failure\n") : undefined),
      async (s) => {
        const uuid = (await uuidOf(s, "test"))!;
        const p = await planDomain(s, URI, domainSpec({ name: "test" }), uuid, DEBIAN12);
        expect(p).toMatchObject({ action: "unchanged", state: "absent", uuid, error: "error: planted dump failure" });
      },
    ));

  test("a state libvirt does not tell is 'unknown'; a crashed domain is started for runState running", async () => {
    await withScript(
      (args) => (args[0] === "domstate" ? fails("error: planted\n") : undefined),
      async (s) => {
        const uuid = await deploy(s, { name: "kpv-st" });
        expect((await planDomain(s, URI, domainSpec({ name: "kpv-st" }), uuid, DEBIAN12)).state).toBe("unknown");
      },
    );
    await withScript(
      (args) => (args[0] === "domstate" ? { code: 0, stdout: "crashed\n", stderr: "" } : undefined),
      async (s) => {
        const uuid = await deploy(s, { name: "kpv-crashed" });
        const p = await planDomain(s, URI, domainSpec({ name: "kpv-crashed", runState: "running" }), uuid, DEBIAN12);
        expect(p).toMatchObject({ action: "unchanged", state: "crashed", restartNeeded: false, runChange: "start" });
      },
    );
  });

  test("a running domain whose vCPU (QMP) differs from its definition: the restart is pending, and needed even when unchanged", () => {
    const qmp = (args: readonly string[]): VirshResult | undefined => {
      if (args[0] !== "qemu-monitor-command") return undefined;
      const cmd = JSON.parse(args[args.indexOf("--cmd") + 1]) as { execute: string; arguments?: { property: string } };
      if (cmd.execute === "query-cpus-fast")
        return { code: 0, stdout: JSON.stringify({ return: [{ "qom-path": "/machine/cpu0", "cpu-index": 0 }] }), stderr: "" };
      // running without kvm-pv-eoi, which the definition has on; everything else as defined
      const p = cmd.arguments!.property;
      const off = [
        "kvm-pv-eoi",
        "kvm-mmu",
        "kvm-pv-unhalt",
        "kvm-pv-tlb-flush",
        "kvm-pv-ipi",
        "kvm-poll-control",
        "kvm-pv-sched-yield",
        "kvm-asyncpf-int",
        "kvm-msi-ext-dest-id",
        "kvm-hint-dedicated",
        "kvm-pv-enforce-cpuid",
      ];
      return { code: 0, stdout: JSON.stringify({ return: !off.includes(p) }), stderr: "" };
    };
    return withScript(qmp, async (s) => {
      const uuid = await deploy(s, { name: "kpv-qmp" });
      await run(s, "start", "--domain", uuid);
      const p = (await plan(s, { name: "kpv-qmp" })).plan;
      expect(p).toMatchObject({
        action: "unchanged",
        state: "running",
        restartNeeded: true,
        pendingRestart: [{ feature: "kvm-pv-eoi", running: false, defined: true }],
      });
      expect(await applyDomain(s, p, domainSpec({ name: "kpv-qmp" }), "if-needed", DEBIAN12)).toEqual(
        applied("kpv-qmp", "unchanged", "unchanged", { restarted: true }),
      );
    });
  });
});

describe("compareLive through planDomain: what is and is not a change", () => {
  /** Redefines the domain from its own dump, edited. */
  async function edit(s: VirshSession, uuid: string, f: (xml: string) => string): Promise<void> {
    const xml = await run(s, "dumpxml", "--inactive", "--domain", uuid);
    const edited = f(xml);
    expect(edited).not.toBe(xml);
    const r = await s.define(edited);
    if (r.code !== 0) throw new Error(r.stderr);
  }

  test("a machine alias in the live definition that is the desired machine on this host: no change", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-alias" });
      await edit(s, uuid, (x) => x.replace("machine='pc-q35-7.2'", "machine='q35'"));
      expect((await plan(s, { name: "kpv-alias" })).plan).toMatchObject({ action: "unchanged", fieldChanges: [] });
    }));

  test("CPU flags in another order: no change (settings compare whatever their order)", () =>
    withTestDriver(async (s) => {
      const domain = { name: "kpv-order", cpu: { mode: "custom", model: "Skylake-Server", features: { aes: true, vmx: false } } };
      const uuid = await deploy(s, domain);
      await edit(s, uuid, (x) =>
        x.replace(
          /(<feature policy='require' name='aes'\/>)(\s*)(<feature policy='disable' name='vmx'\/>)/,
          (_m, a: string, sp: string, b: string) => `${b}${sp}${a}`,
        ),
      );
      expect((await plan(s, domain)).plan).toMatchObject({ action: "unchanged", fieldChanges: [] });
    }));

  test("an element we own that libvirt keeps but never emits (<pv-ipi state='on'/>) is a change: apply writes what it owns", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-noop" });
      await edit(s, uuid, (x) => x.replace("<apic/>", "<apic/>\n    <kvm>\n      <pv-ipi state='on'/>\n    </kvm>"));
      expect((await plan(s, { name: "kpv-noop" })).plan).toMatchObject({
        action: "update",
        fieldChanges: [{ field: "paravirt", current: { pvIpi: true }, desired: null }],
        drift: [],
        featureChanges: [],
      });
    }));

  test("the same value from another source (explicit on where on is the default) is a feature change", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-src" });
      await edit(s, uuid, (x) => x.replace("<apic/>", "<apic eoi='on'/>"));
      expect((await plan(s, { name: "kpv-src" })).plan).toMatchObject({
        action: "update",
        fieldChanges: [{ field: "paravirt", current: { pvEoi: true }, desired: null }],
        featureChanges: [
          { feature: "kvm-pv-eoi", current: { enabled: true, source: "explicit" }, desired: { enabled: true, source: "default" } },
        ],
      });
    }));

  test("drift alone (our metadata no longer matches the definition) is a change", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-md" });
      await edit(s, uuid, (x) => x.replace(/(on="[^"]*?) kvm-pv-eoi/, "$1").replace(/off="/, 'off="kvm-pv-eoi '));
      expect((await plan(s, { name: "kpv-md" })).plan).toMatchObject({
        action: "update",
        fieldChanges: [],
        drift: [{ feature: "kvm-pv-eoi", recorded: false, current: true }],
        deviceChanges: [],
      });
    }));

  test("a declared device: unchanged once defined; removed by hand, its add alone is a change", () =>
    withTestDriver(async (s) => {
      const domain = { name: "kpv-disk", disks: [{ target: "vdb", file: "/tmp/kpv-disk.img" }] };
      const uuid = await deploy(s, domain);
      expect((await plan(s, domain)).plan).toMatchObject({ action: "unchanged", deviceChanges: [] });
      await edit(s, uuid, (x) => x.replace(/<disk [\s\S]*?<\/disk>\s*/, ""));
      const p = (await plan(s, domain)).plan;
      expect(p).toMatchObject({
        action: "update",
        fieldChanges: [],
        drift: [],
        deviceChanges: [expect.objectContaining({ device: "disk:vdb", change: "add" })],
      });
    }));

  test("a live definition that does not read as a spec (8 MiB): an error naming why; every desired feature from nothing", () =>
    withTestDriver(async (s) => {
      const uuid = await deploy(s, { name: "kpv-tiny" });
      await edit(s, uuid, (x) =>
        x
          .replace(/<memory unit='KiB'>\d+<\/memory>/, "<memory unit='KiB'>8192</memory>")
          .replace(/<currentMemory unit='KiB'>\d+<\/currentMemory>/, "<currentMemory unit='KiB'>8192</currentMemory>"),
      );
      const p = (await plan(s, { name: "kpv-tiny" })).plan;
      expect(p.error).toBe("the live definition does not read as a spec: domains[0].memoryMiB: Too small: expected number to be >=16");
      expect(p.featureChanges.length).toBeGreaterThan(0);
      expect(p.featureChanges.filter((c) => c.current !== null)).toEqual([]);
      expect(p.drift).toEqual([]);
    }));
});

/** A test:///FILE host holding two domains this tool defined: t1 (spec'd below) and orphan (no longer spec'd). */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-live-edges-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const NODE = `test://${path.join(dir, "node.xml")}`;
const NODE2 = `test://${path.join(dir, "node2.xml")}`;
const MISSING = "test:///nonexistent/kpv-node.xml";
const T1 = { name: "t1", memoryMiB: 128 };

beforeAll(() =>
  withTestDriver(async (s) => {
    const dumps: string[] = [];
    for (const d of [T1, { name: "orphan" }]) {
      const uuid = await deploy(s, d);
      dumps.push(await run(s, "dumpxml", "--inactive", "--domain", uuid));
    }
    // node.xml: a note on import for t1 (<pv-ipi state='on'/> is kept by libvirt but emits nothing), and orphan
    // node2.xml: t1 as defined (unchanged for its spec) and u1
    const u1 = await deploy(s, { name: "u1" });
    const plain = [dumps[0], await run(s, "dumpxml", "--inactive", "--domain", u1)];
    fs.writeFileSync(path.join(dir, "node2.xml"), `<node>\n${plain.join("\n")}\n</node>\n`);
    dumps[0] = dumps[0].replace("<apic/>", "<apic/>\n    <kvm>\n      <pv-ipi state='on'/>\n    </kvm>");
    fs.writeFileSync(path.join(dir, "node.xml"), `<node>\n${dumps.join("\n")}\n</node>\n`);
  }),
);

/** Scripts VirshSession.run for every session the code under test opens itself (undefined: the real reply). */
function scriptAllSessions(script: (args: readonly string[]) => VirshResult | undefined): jest.SpyInstance {
  const real = VirshSession.prototype.run;
  return jest.spyOn(VirshSession.prototype, "run").mockImplementation(function (this: VirshSession, args: readonly string[]) {
    return Promise.resolve(script(args) ?? real.call(this, args));
  });
}
afterEach(() => jest.restoreAllMocks());

describe("importDomain and importDomains", () => {
  test("a definition that does not read as a spec domain: the error lists each problem as path: message", () => {
    const xml = `<domain type='kvm'><name>kpv-imp</name><memory unit='KiB'>8192</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os></domain>`;
    expect(() => importDomain(xml, DEBIAN12)).toThrow(
      new Error('the definition does not read as a spec domain: ["domains[0].memoryMiB: Too small: expected number to be >=16"]'),
    );
  });

  test("a passthrough CPU is kept (only a custom mode alone is the default); without a host profile the machine stays as written", () => {
    const xml = `<domain type='kvm'><name>kpv-imp</name><memory unit='KiB'>1048576</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os><cpu mode='host-passthrough' check='none'/></domain>`;
    expect(importDomain(xml, DEBIAN12).domain).toEqual({ name: "kpv-imp", cpu: { mode: "host-passthrough" } });
    expect(importDomain(xml).domain).toEqual({ name: "kpv-imp", machine: "pc-q35-7.2", cpu: { mode: "host-passthrough" } });
  });

  test("without a host profile the q35 alias is never taken for the machine a host would resolve it to", () => {
    const xml = `<domain type='kvm'><name>kpv-imp</name><memory unit='KiB'>1048576</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc-q35-10.2'>hvm</type></os></domain>`;
    expect(importDomain(xml).domain).toEqual({ name: "kpv-imp", machine: "pc-q35-10.2" });
  });

  test("importDomains: by name or by UUID in any case, notes prefixed with the name asked for", async () => {
    const r = await importDomains(NODE, ["t1"], DEBIAN12);
    expect(r).toEqual({
      domains: [{ name: "t1", memoryMiB: 128 }],
      notes: [
        {
          severity: "info",
          code: "import-not-carried",
          path: "t1: features.pv-ipi",
          message: "<pv-ipi state='on'/> is kept by libvirt but emits nothing: ignored",
        },
      ],
    });
    const uuid = /<uuid>([0-9a-f-]{36})<\/uuid>/.exec(fs.readFileSync(path.join(dir, "node.xml"), "utf8"))![1];
    const byUuid = await importDomains(NODE, [uuid.toUpperCase()], DEBIAN12);
    expect(byUuid.domains).toEqual([{ name: "t1", memoryMiB: 128 }]);
    expect(byUuid.notes.map((n) => n.path)).toEqual([`${uuid.toUpperCase()}: features.pv-ipi`]);
  });

  test("importDomains: a host that cannot list, a name it does not have, a dump it refuses: errors naming the host", async () => {
    await expect(importDomains(MISSING, ["t1"], DEBIAN12)).rejects.toThrow(
      new Error(
        `${MISSING}: I/O warning : failed to load external entity "/nonexistent/kpv-node.xml"; failed to connect to the hypervisor; XML error: failed to parse xml document '/nonexistent/kpv-node.xml'; virsh exited (1) on ${MISSING}`,
      ),
    );
    await expect(importDomains(NODE, ["t1", "nope"], DEBIAN12)).rejects.toThrow(new Error(`${NODE} has no domain named "nope"`));
    scriptAllSessions((args) => (args[0] === "dumpxml" ? fails("error: Failed to get xml\nerror: internal error: planted\n") : undefined));
    await expect(importDomains(NODE, ["t1"], DEBIAN12)).rejects.toThrow(new Error(`${NODE}: Failed to get xml\ninternal error: planted`));
  });
});

describe("targets", () => {
  test("a domain with no hosts: entry and no --connect: an error naming it at its index", () => {
    const loaded = parseSpecText("domains:\n  - { name: a }\n  - { name: b }\n");
    expect(targets(loaded, [])).toEqual({
      targets: [],
      diagnostics: [0, 1].map((i) => ({
        severity: "error",
        code: "no-connection",
        message: `no host for domain ${["a", "b"][i]}: give --connect URI or a hosts: entry`,
        path: `domains[${i}]`,
      })),
    });
  });
});

describe("planFleet and applyFleet", () => {
  const many = (n: number) => Array.from({ length: n }, (_x, i) => ({ uri: URI, spec: domainSpec({ name: `kpv-f${i}` }) }));
  const byHostAndName = (a: { uri: string; domain: string }, b: { uri: string; domain: string }) =>
    `${a.uri} ${a.domain}`.localeCompare(`${b.uri} ${b.domain}`);

  test.each([
    [10, []],
    [20, ["apply: test:///default: 20/20 done"]],
    [
      26,
      [
        "plan: test:///default: 0/26",
        "plan: test:///default: 20/26",
        "apply: test:///default: 25/26 done",
        "apply: test:///default: 26/26 done",
      ],
    ],
  ])("progress for %i new domains on one host", async (n, lines) => {
    const progress: string[] = [];
    const r = await applyFleet(many(n), "never", { host: DEBIAN12, progress: (l) => progress.push(l) });
    expect(progress).toEqual(lines);
    expect(r.results.map((x) => x.outcome)).toEqual(Array(n).fill("defined"));
  });

  test("apply's progress counts the creates and updates only: an unchanged domain first, an update, 23 creates: 24/24 once", async () => {
    const ts = [
      { uri: NODE2, spec: domainSpec(T1) },
      { uri: NODE2, spec: domainSpec({ name: "u1", vcpus: 2 }) },
      ...Array.from({ length: 23 }, (_x, i) => ({ uri: NODE2, spec: domainSpec({ name: `kpv-g${i}` }) })),
    ];
    const progress: string[] = [];
    const r = await applyFleet(ts, "never", { host: DEBIAN12, progress: (l) => progress.push(l) });
    expect(progress).toEqual(["plan: " + NODE2 + ": 0/25", "plan: " + NODE2 + ": 20/25", `apply: ${NODE2}: 24/24 done`]);
    expect(r.results.slice(0, 2).map((x) => [x.domain, x.action, x.outcome])).toEqual([
      ["t1", "unchanged", "unchanged"],
      ["u1", "update", "defined"],
    ]);
  });

  test("several hosts: each applies its own plan (t1 has <pv-ipi state='on'/> to drop); a delete candidate is not applied; a host that fails fails its domains", async () => {
    const ts = [
      { uri: NODE, spec: domainSpec(T1) },
      { uri: NODE, spec: domainSpec({ name: "n1" }) },
      { uri: URI, spec: domainSpec({ name: "d1" }) },
      { uri: MISSING, spec: domainSpec({ name: "m1" }) },
      { uri: MISSING, spec: domainSpec({ name: "m2" }) },
    ];
    const plans = await planFleet(ts, { host: DEBIAN12 });
    expect(plans.map((h) => [h.uri, h.error === undefined, h.domains.map((d) => [d.domain, d.action, d.state])])).toEqual([
      [
        NODE,
        true,
        [
          ["t1", "update", "running"],
          ["n1", "create", "absent"],
          ["orphan", "delete-candidate", "defined"],
        ],
      ],
      [URI, true, [["d1", "create", "absent"]]],
      [MISSING, false, []],
    ]);
    const { results } = await applyFleet(ts, "never", { host: DEBIAN12, parallel: 3 });
    const missing = plans[2].error!;
    expect(results.sort(byHostAndName)).toEqual(
      [
        { uri: NODE, domain: "t1", action: "update", outcome: "defined", restartPending: true },
        { uri: NODE, domain: "n1", action: "create", outcome: "defined" },
        { uri: URI, domain: "d1", action: "create", outcome: "defined" },
        { uri: MISSING, domain: "m1", action: "create", outcome: "failed", error: missing },
        { uri: MISSING, domain: "m2", action: "create", outcome: "failed", error: missing },
      ]
        .map((x) => ({ restarted: false, restartPending: false, warnings: [], ...x }))
        .sort(byHostAndName),
    );
  });

  test("the host's facts are read with the fleet's time limit (and progress, for the plan); import's with its own", async () => {
    const facts = jest.spyOn(hostForModule, "hostFor");
    const progress = () => undefined;
    await applyFleet([{ uri: URI, spec: domainSpec({ name: "kpv-limit" }) }], "never", { timeoutMs: 30_000, progress });
    expect(facts.mock.calls).toEqual([
      [URI, undefined, { timeoutMs: 30_000, progress }],
      [URI, undefined, { timeoutMs: 30_000 }],
    ]);
    facts.mockClear();
    await importDomains(NODE, ["t1"], undefined, 30_000);
    expect(facts.mock.calls).toEqual([[NODE, undefined, { timeoutMs: 30_000 }]]);
  });

  test("the host's facts cannot be read: the host's plan is that error, with the hint to give a profile", async () => {
    jest.spyOn(hostForModule, "hostFor").mockRejectedValue(new Error("planted: no facts"));
    expect(await planFleet([{ uri: URI, spec: domainSpec({ name: "kpv-nofacts" }) }])).toEqual([
      { uri: URI, error: "planted: no facts; give --host <profile> to plan against a profile instead", domains: [] },
    ]);
  });

  test("a domain of ours whose dump fails is not a delete candidate; the test driver's own domain never is", async () => {
    expect(
      (await planFleet([{ uri: URI, spec: domainSpec({ name: "kpv-one" }) }], { host: DEBIAN12 }))[0].domains.map((d) => d.domain),
    ).toEqual(["kpv-one"]);
    scriptAllSessions((args) => (args[0] === "dumpxml" && args.includes("--inactive") ? fails("error: planted\n") : undefined));
    expect((await planFleet([{ uri: NODE, spec: domainSpec(T1) }], { host: DEBIAN12 }))[0].domains.map((d) => [d.domain, d.error])).toEqual(
      [["t1", "error: planted"]],
    );
  });
});

describe("planDomain and applyDomain: a running domain's pinning changed live", () => {
  /** A host with eight CPUs on one node (the test driver reports its own two cells; the plan reads the profile). */
  const PIN_HOST = { ...DEBIAN12, numaNodes: [{ id: 0, cpus: [0, 1, 2, 3, 4, 5, 6, 7] }] };
  const pinned = (vcpus: string[], emulator: string, more: Record<string, unknown> = {}) => ({
    name: "kpv-pins",
    vcpus: vcpus.length,
    cpuPinning: { vcpus, emulator },
    ...more,
  });
  const planOn = async (s: VirshSession, domain: Record<string, unknown>) => {
    const spec = domainSpec(domain);
    return { spec, plan: await planDomain(s, URI, spec, await uuidOf(s, spec.name), PIN_HOST) };
  };
  async function running(s: VirshSession, domain: Record<string, unknown>): Promise<string> {
    const p = await planOn(s, domain);
    const r = await applyDomain(s, p.plan, p.spec, "never", PIN_HOST);
    if (r.outcome === "failed") throw new Error(r.error);
    const uuid = (await uuidOf(s, p.spec.name))!;
    await run(s, "start", "--domain", uuid);
    return uuid;
  }
  /** The test driver's own domain "test" floats: plan reads it from the host and warns (the pins are dedicated). */
  const floating = {
    code: "dedicated-cpus-floating-neighbours",
    message: "1 other domain on the host (test) has unpinned vCPUs, which may run on this domain's host CPUs; pin them to the other CPUs",
    path: "cpuPinning",
  };
  /** The test driver refuses --live pinning: the calls are recorded and answered here. */
  const pinCalls = (calls: string[][], fail?: string) => (args: readonly string[]) => {
    if (!["vcpupin", "emulatorpin", "iothreadpin"].includes(args[0])) return undefined;
    calls.push([...args]);
    return fail ? fails(fail) : { code: 0, stdout: "", stderr: "" };
  };

  test("only the pins changed: no restart; each vCPU and the emulator whose CPUs change, by UUID, --live", () => {
    const calls: string[][] = [];
    return withScript(pinCalls(calls), async (s) => {
      const uuid = await running(s, pinned(["1", "2"], "0"));
      const { spec, plan: p } = await planOn(s, pinned(["3", "2"], "0-1"));
      expect(p).toMatchObject({ action: "update", restartNeeded: false });
      expect(p.liveChanges).toEqual([
        { setting: "vCPU 0", from: "1", to: "3", args: ["vcpupin", "--domain", uuid, "--vcpu", "0", "--cpulist", "3", "--live"] },
        { setting: "emulator", from: "0", to: "0-1", args: ["emulatorpin", "--domain", uuid, "--cpulist", "0-1", "--live"] },
      ]);
      expect(await applyDomain(s, p, spec, "if-needed", PIN_HOST)).toEqual(
        applied("kpv-pins", "update", "defined", { warnings: [floating] }),
      );
      expect(calls).toEqual(p.liveChanges!.map((c) => c.args));
      expect(await run(s, "dumpxml", "--inactive", "--domain", uuid)).toMatch(/<vcpupin vcpu='0' cpuset='3'\/>/);
    });
  });

  test("a pin refused: failed, the definition written, the restart pending, naming what failed", () => {
    const calls: string[][] = [];
    return withScript(pinCalls(calls, "error: Requested operation is not valid: cpu affinity is not supported\n"), async (s) => {
      await running(s, pinned(["1"], "0"));
      const { spec, plan: p } = await planOn(s, pinned(["2"], "0"));
      expect(await applyDomain(s, p, spec, "never", PIN_HOST)).toEqual(
        applied("kpv-pins", "update", "failed", {
          restartPending: true,
          warnings: [floating],
          error: "defined, but vcpupin --live of vCPU 0 failed: Requested operation is not valid: cpu affinity is not supported",
        }),
      );
      expect(calls).toHaveLength(1);
    });
  });

  test("the pins taken away: each vCPU and the emulator back on every host CPU", () =>
    withScript(pinCalls([]), async (s) => {
      await running(s, pinned(["1"], "0"));
      const { plan: p } = await planOn(s, { name: "kpv-pins", vcpus: 1 });
      expect(p.restartNeeded).toBe(false);
      expect(p.liveChanges!.map(({ setting, from, to }) => ({ setting, from, to }))).toEqual([
        { setting: "vCPU 0", from: "1", to: "0-7" },
        { setting: "emulator", from: "0", to: "0-7" },
      ]);
    }));

  test("a pinning change with any other change: a restart, nothing live; a stopped domain: neither", () =>
    withScript(pinCalls([]), async (s) => {
      await running(s, pinned(["1"], "0"));
      const both = (await planOn(s, pinned(["2"], "0", { memoryMiB: 2048 }))).plan;
      expect([both.restartNeeded, both.liveChanges]).toEqual([true, undefined]);
      await run(s, "destroy", "--domain", (await uuidOf(s, "kpv-pins"))!);
      const stopped = (await planOn(s, pinned(["2"], "0"))).plan;
      expect([stopped.action, stopped.restartNeeded, stopped.liveChanges]).toEqual(["update", false, undefined]);
    }));

  test("IOThreads re-pinned live; one added: a restart", () =>
    withScript(pinCalls([]), async (s) => {
      const uuid = await running(s, pinned(["1"], "0", { cpuPinning: { vcpus: ["1"], emulator: "0", iothreads: ["0", "2"] } }));
      const { plan: p } = await planOn(s, pinned(["1"], "0", { cpuPinning: { vcpus: ["1"], emulator: "0", iothreads: ["0", "3-4"] } }));
      expect([p.restartNeeded, p.liveChanges]).toEqual([
        false,
        [
          {
            setting: "IOThread 2",
            from: "2",
            to: "3-4",
            args: ["iothreadpin", "--domain", uuid, "--iothread", "2", "--cpulist", "3-4", "--live"],
          },
        ],
      ]);
      const more = (await planOn(s, pinned(["1"], "0", { cpuPinning: { vcpus: ["1"], emulator: "0", iothreads: ["0", "2", "3"] } }))).plan;
      expect([more.restartNeeded, more.liveChanges]).toEqual([true, undefined]);
    }));

  test("unchanged pins: nothing to do", () =>
    withScript(pinCalls([]), async (s) => {
      await running(s, pinned(["1"], "0"));
      const { plan: p } = await planOn(s, pinned(["1"], "0"));
      expect([p.action, p.restartNeeded, p.liveChanges]).toEqual(["unchanged", false, undefined]);
    }));
});
