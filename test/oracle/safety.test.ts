import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { createDomain, deleteDomain, readDomain } from "../../src/pulumi/domain-provider";
import { runCli, runCliAsync } from "../helpers/cli";
import { describeWith } from "../helpers/env";
import { domainUuids, removeDomains, virshOn } from "../helpers/virsh";
import { renderFile, ROOT } from "../helpers/specs";
import { RUN_TAG } from "../helpers/run-tag";

/**
 * Safety against the real libvirtd (issue "Safety"): never the wrong VM, no password in
 * any output, no hang, two applies at once. TCG domains started paused: no KVM needed.
 * The names carry this run's tag (kpv-safety-<run>-…); the domains named like the victim's ID
 * and UUID are this run's too (IDs and UUIDs are unique on the host).
 */
const URI = "qemu:///system";
const PROFILE = path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-safety-"));
const kpv = runCli;
const virsh = (...args: string[]) => virshOn(URI, ...args);
const uuids = () => domainUuids(URI);
const remove = (...names: string[]) => removeDomains(URI, ...names);
function writeSpec(name: string, spec: unknown): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, YAML.stringify(spec));
  return f;
}
const own = (n: string) => `kpv-safety-${RUN_TAG}-${n}`;
const RACE = Array.from({ length: 12 }, (_, i) => own(`race-${i + 1}`));
const tcg = (name: string, extra: Record<string, unknown> = {}) => ({ name, accel: "tcg", memoryMiB: 64, ...extra });

describeWith(["qemu", "libvirt"], "safety against the real libvirtd", () => {
  const VICTIM = own("victim");
  let victimId = "";
  let victimUuid = "";
  let victimXml = "";
  const state = () => ({ xml: virsh("dumpxml", "--domain", victimUuid).stdout, id: virsh("domid", "--domain", victimUuid).stdout.trim() });

  // this run's names are new: nothing to remove first
  beforeAll(() => {
    // a foreign domain (no kvm-paravirt metadata), running (paused): what a mistaken lookup would hit
    const xml = renderFile(writeSpec("victim.yaml", { domains: [tcg(VICTIM)] })).domains[0].domainXml.replace(
      /<metadata>[\s\S]*<\/metadata>\s*/,
      "",
    );
    fs.writeFileSync(path.join(dir, "victim.xml"), xml);
    expect(virsh("define", "--file", path.join(dir, "victim.xml")).status).toBe(0);
    expect(virsh("start", "--paused", "--domain", VICTIM).stderr).toBe("");
    victimUuid = uuids().get(VICTIM)!;
    victimId = virsh("domid", "--domain", victimUuid).stdout.trim();
    expect(victimId).toMatch(/^\d+$/);
    victimXml = state().xml;
  });
  // exactly what this run may have defined (victimId and victimUuid empty when the victim never started: no such name)
  afterAll(() => remove(...[VICTIM, victimId, victimUuid, ...RACE].filter(Boolean)));

  test("apply of spec domains named like the victim's ID and UUID, with --restart if-needed, leaves the victim alone", () => {
    remove(victimId, victimUuid);
    const spec = writeSpec("ids.yaml", { domains: [tcg(victimId), tcg(victimUuid, { paravirt: { pvIpi: false } })] });
    const r = kpv("apply", spec, "--connect", URI, "--host", PROFILE, "--restart", "if-needed");
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stdout).toMatch(/apply: 2 defined, 0 unchanged, 0 failed/);
    expect(state()).toEqual({ xml: victimXml, id: victimId });
    // the two new domains are separate ones, with their own UUIDs
    const all = uuids();
    expect(all.get(victimId)).toBeDefined();
    expect(all.get(victimUuid)).toBeDefined();
    expect(new Set([all.get(victimId), all.get(victimUuid), victimUuid]).size).toBe(3);
    // a second run plans them as what they are: unchanged
    const p = kpv("plan", spec, "--connect", URI, "--host", PROFILE, "--detailed-exitcode");
    expect(p.status).toBe(0);
    expect(p.stdout).toMatch(new RegExp(`unchanged\\s+${victimId}\\n`));
    // an update with a restart touches only the domain named "<id>", itself running (paused) now
    expect(virsh("start", "--paused", "--domain", uuids().get(victimId)!).status).toBe(0);
    const changed = writeSpec("ids2.yaml", { domains: [tcg(victimId, { vcpus: 2 }), tcg(victimUuid, { paravirt: { pvIpi: false } })] });
    const restarted = kpv("apply", changed, "--connect", URI, "--host", PROFILE, "--restart", "if-needed");
    expect(restarted.stdout).toMatch(new RegExp(`defined\\s+${URI} ${victimId} \\(restarted\\)`));
    expect(restarted.status).toBe(0);
    expect(state()).toEqual({ xml: victimXml, id: victimId });
    expect(virsh("domstate", "--domain", uuids().get(victimId)!).stdout.trim()).toBe("paused");
    expect(virsh("dumpxml", "--domain", uuids().get(victimId)!).stdout).toMatch(/<vcpu placement='static'>2<\/vcpu>/);
    remove(victimId, victimUuid);
  });

  test("import takes names as names: the victim's ID is not the victim", () => {
    remove(victimId);
    const r = kpv("import", victimId, "--connect", URI);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`has no domain named "${victimId}"`));
    expect(r.stdout).toBe("");
  });

  test("the Domain resource's create, import and delete address the domain by its exact name's UUID; delete leaves foreign domains alone", async () => {
    remove(victimId);
    const created = await createDomain({ ...tcg(victimId), connection: URI });
    expect(uuids().get(victimId)).toBe(created.id);
    expect(state()).toEqual({ xml: victimXml, id: victimId });
    await deleteDomain(created.outs as Record<string, unknown>);
    expect(uuids().has(victimId)).toBe(false);
    expect(state()).toEqual({ xml: victimXml, id: victimId });
    // gone already: success, and still not the victim
    await deleteDomain(created.outs as Record<string, unknown>);
    expect(state()).toEqual({ xml: victimXml, id: victimId });
    // an import ID that is the victim's numeric ID names no domain: never the victim
    await expect(readDomain(`${victimId}@${URI}`, {})).rejects.toThrow(`domain "${victimId}" not found on ${URI}`);
    // a domain this tool did not define is never undefined by it
    await expect(deleteDomain({ uuid: victimUuid, connection: URI })).rejects.toThrow(
      /was not defined by kvm-paravirt \(no kpv:paravirt metadata\): left alone/,
    );
    expect(state()).toEqual({ xml: victimXml, id: victimId });
    // a connection that cannot list its domains fails: nothing is reported gone on a guess
    await expect(deleteDomain({ uuid: victimUuid, connection: "qemu+tcp://127.0.0.1:1/system" })).rejects.toThrow(
      /cannot list the domains of qemu\+tcp:\/\/127.0.0.1:1\/system: .*(Connection refused|unable to connect)/,
    );
  });

  test("the Domain resource named like the victim's ID reports its own state (shut off), not the victim's (paused), on create and refresh", async () => {
    remove(victimId);
    const created = await createDomain({ ...tcg(victimId), connection: URI });
    try {
      expect(uuids().get(victimId)).toBe(created.id);
      expect(virsh("domstate", "--domain", victimUuid).stdout.trim()).toBe("paused");
      expect(created.outs).toMatchObject({ uuid: created.id, state: "shut off" });
      const refreshed = await readDomain(created.id, created.outs as Record<string, unknown>);
      expect(refreshed.props).toMatchObject({ uuid: created.id, state: "shut off" });
      expect(state()).toEqual({ xml: victimXml, id: victimId });
    } finally {
      await deleteDomain(created.outs as Record<string, unknown>);
    }
    expect(uuids().has(victimId)).toBe(false);
  });

  test("four applies of the same new spec at once all succeed and agree", async () => {
    const names = RACE;
    const spec = writeSpec("race.yaml", { domains: names.map((n, i) => tcg(n, { vcpus: (i % 4) + 1, paravirt: { pvIpi: false } })) });
    const runs = await Promise.all(
      [1, 2, 3, 4].map(() =>
        runCliAsync("apply", spec, "--connect", URI, "--host", PROFILE).then((r) => ({ code: r.status, out: r.stdout, err: r.stderr })),
      ),
    );
    // stderr holds progress lines only
    const notProgress = (err: string) => err.split("\n").filter((l) => l && !/^apply: \S+: \d+\/\d+ done$/.test(l));
    for (const r of runs) expect({ code: r.code, err: notProgress(r.err), out: r.out }).toMatchObject({ code: 0, err: [] });
    const defined = runs.reduce((n, r) => n + Number(/apply: (\d+) defined/.exec(r.out)![1]), 0);
    expect(defined).toBeGreaterThanOrEqual(names.length);
    const p = kpv("plan", spec, "--connect", URI, "--host", PROFILE, "--detailed-exitcode");
    expect({ status: p.status, out: p.stdout }).toMatchObject({ status: 0 });
    expect(p.stdout).toMatch(/plan: 0 to create, 0 to update, 12 unchanged/);
    remove(...names);
  });

  test("a libvirtd that never answers: a clear error naming the host within --timeout, exit 1", async () => {
    // a TCP listener that accepts and never speaks: a stopped (SIGSTOPped) daemon as virsh sees it
    const server = net.createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const uri = `qemu+tcp://127.0.0.1:${port}/system`;
    const spec = writeSpec("silent.yaml", { domains: [tcg(own("silent"))] });
    const run = (...args: string[]) => runCliAsync(...args).then((r) => ({ code: r.status, out: r.stdout, err: r.stderr }));
    try {
      const plan = await run("plan", spec, "--connect", uri, "--timeout", "1", "--host", PROFILE);
      expect(plan.code).toBe(1);
      expect(plan.out).toContain(`host ${uri}: ERROR libvirt on ${uri} did not answer within 1 s`);
      const check = await run("check", "--connect", uri, "--timeout", "1", "--policy", path.join(ROOT, "examples/policy/baseline.json"));
      expect(check.code).toBe(1);
      expect(check.err).toContain(`did not answer within 1 s`);
      const imp = await run("import", "x", "--connect", uri, "--timeout", "1");
      expect(imp.code).toBe(1);
    } finally {
      server.close();
    }
  });

  test("no password from a connection URI is ever printed (human and JSON, stdout and stderr)", () => {
    const secretUri = "qemu+tcp://admin:s3cret-pw@127.0.0.1:1/system?password=p4ss&mode=x";
    const spec = writeSpec("secret.yaml", { domains: [tcg(own("secret"))], hosts: { [own("secret")]: secretUri } });
    for (const argv of [
      ["plan", spec],
      ["plan", spec, "--json"],
      ["apply", spec],
      ["apply", spec, "--json"],
      ["check", "--connect", secretUri, "--policy", path.join(ROOT, "examples/policy/baseline.json")],
      ["import", "x", "--connect", secretUri],
      ["plan", spec, "--connect", "qemu+tcp://admin:s3cret-pw@ bad"],
    ]) {
      const r = kpv(...argv);
      expect(r.status).not.toBe(0);
      expect(r.stdout + r.stderr).not.toMatch(/s3cret-pw|p4ss/);
      expect(r.stdout + r.stderr).toMatch(/admin:\*\*\*@|password=\*\*\*/);
    }
  });
});
