import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { HostProfile } from "../../src/host/profile";
import { KvmParavirtProvider } from "../../src/pulumi/provider";
import { VirshSession } from "../../src/system/virsh-session";
import { DEBIAN12, ROOT } from "../helpers/specs";

/**
 * The Domain resource as the engine calls it (check, diff, create, read, update, delete on
 * KvmParavirtProvider), in process, against libvirt's test driver: test:///default for a
 * create, and a node file (test:///FILE) holding what a create defined for refresh, import,
 * update and delete. test/oracle/provider.test.ts plays the same calls over the plugin's
 * gRPC protocol against the real libvirtd; this suite is what mutation testing runs.
 */

const URN = (name: string) => `urn:pulumi:dev::proj::kvm-paravirt:index:Domain::${name}`;
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const secret = (value: unknown) => ({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", value });
const PROFILE = JSON.stringify(DEBIAN12);

type Json = Record<string, unknown>;

/** A provider whose host facts are the recorded Debian 12 profile, counting the reads. */
function providerWithFacts(facts: (uri: string) => Promise<HostProfile> = async () => DEBIAN12) {
  const asked: string[] = [];
  const provider = new KvmParavirtProvider(ROOT, (uri) => {
    asked.push(uri);
    return facts(uri);
  });
  return { provider, asked };
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-resource-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Creates the domain on a fresh test:///default and writes the driver's state (its domains) to a node file: test:///FILE. */
async function hostWith(inputs: Json, edit: (xml: string) => string = (x) => x): Promise<{ uri: string; outs: Json; uuid: string }> {
  const { provider } = providerWithFacts();
  // createDomain opens its own session: define again in one session to dump what libvirt keeps
  const s = new VirshSession("test:///default");
  try {
    const created = await provider.create(URN(String(inputs.name)), { ...inputs, connection: "test:///default" });
    expect((await s.define(created.outs!.domainXml as string)).code).toBe(0);
    const list = await s.domains();
    if ("error" in list) throw new Error(list.error);
    const uuid = list.byName.get(String(inputs.name))!;
    const dumped = await s.run(["dumpxml", "--inactive", "--security-info", "--domain", uuid]);
    const file = path.join(dir, `${inputs.name}-${Math.random().toString(36).slice(2)}.xml`);
    fs.writeFileSync(file, `<node>\n${edit(dumped.stdout)}\n</node>\n`);
    const uri = `test://${file}`;
    return { uri, uuid, outs: { ...created.outs, uuid, connection: uri } };
  } finally {
    s.close();
  }
}

describe("check", () => {
  test("the name comes from the URN; effectiveFeatures are computed from the host, whatever the inputs say", async () => {
    const { provider, asked } = providerWithFacts();
    const r = await provider.check(URN("web1"), {}, { vcpus: 2, connection: "test:///default", effectiveFeatures: { bogus: true } });
    expect(r.failures).toBeUndefined();
    expect(r.inputs).toMatchObject({ name: "web1", vcpus: 2, connection: "test:///default" });
    const eff = r.inputs!.effectiveFeatures as Record<string, boolean>;
    expect(eff).not.toHaveProperty("bogus");
    expect(eff["kvmclock"]).toBe(true);
    expect(asked).toEqual(["test:///default"]);
  });

  test("an explicit name wins over the URN's; a hostProfile means the host is not asked", async () => {
    const { provider, asked } = providerWithFacts();
    const r = await provider.check(URN("res"), {}, { name: "vm-a", hostProfile: PROFILE, paravirt: { pvIpi: false } });
    expect(r.inputs).toMatchObject({ name: "vm-a" });
    expect((r.inputs!.effectiveFeatures as Record<string, boolean>)["kvm-pv-ipi"]).toBe(false);
    expect(asked).toEqual([]);
  });

  test("effectiveFeatures carry the Hyper-V flags as the guest gets them: on with Hyper-V, off on this kind of host (no Hyper-V in KVM)", async () => {
    // a stock Debian 12 kernel's KVM has Hyper-V (derived from the kernel); this machine's (PROFILE) has none
    const { provider } = providerWithFacts(async () => ({ ...DEBIAN12, kernel: "6.1.0-18-amd64", kvm: { available: true } }));
    const hyperv = { relaxed: true, time: false, spinlocks: 8191 };
    const withHv = await provider.check(URN("win"), {}, { connection: "qemu+ssh://kvm1/system", hyperv });
    const eff = withHv.inputs!.effectiveFeatures as Record<string, boolean>;
    expect(eff).toMatchObject({ "hv-relaxed": true, "hv-time": false, "hv-vapic": false });
    const here = await provider.check(URN("win"), {}, { hostProfile: PROFILE, hyperv });
    expect(here.failures).toBeUndefined();
    expect((here.inputs!.effectiveFeatures as Record<string, boolean>)["hv-relaxed"]).toBe(false);
    const plainEff = (await provider.check(URN("web1"), {}, { connection: "qemu+ssh://kvm1/system" })).inputs!.effectiveFeatures as object;
    expect(Object.keys(plainEff).filter((k) => k.startsWith("hv-"))).toEqual([]);
  });

  test("a Hyper-V flag QEMU refuses fails the check with the rule's code (hv-vpindex where KVM has no Hyper-V)", async () => {
    const { provider } = providerWithFacts();
    const r = await provider.check(URN("win"), {}, { hostProfile: PROFILE, hyperv: { vpindex: true } });
    expect(r.failures).toEqual([
      {
        property: "hyperv.vpindex",
        reason:
          "[hyperv-refused-without-host-hyperv] the host's KVM has no Hyper-V (the host profile's measured kvm.hyperv): QEMU refuses hv-vpindex at start (\"kernel doesn't allow setting HyperV VP_INDEX\")",
      },
    ]);
  });

  test("without a connection the host asked is qemu:///system", async () => {
    const { provider, asked } = providerWithFacts();
    await provider.check(URN("web1"), {}, {});
    expect(asked).toEqual(["qemu:///system"]);
  });

  test("an unknown property is a failure naming it and every property a Domain takes", async () => {
    const { provider } = providerWithFacts();
    const r = await provider.check(URN("web1"), {}, { vcpu: 2, deploy: true });
    expect(r.failures).toEqual([
      {
        property: "vcpu",
        reason: expect.stringMatching(/^unknown property vcpu; a Domain takes name, .*vcpus.*, hostProfile, connection, restart$/),
      },
      { property: "deploy", reason: expect.stringMatching(/^unknown property deploy;/) },
    ]);
  });

  test("restart: never and if-needed (also as a secret); anything else fails; unknown during a preview is left to later", async () => {
    const { provider } = providerWithFacts();
    for (const restart of ["never", "if-needed", secret("if-needed")])
      expect((await provider.check(URN("w"), {}, { hostProfile: PROFILE, restart })).failures).toBeUndefined();
    expect((await provider.check(URN("w"), {}, { hostProfile: PROFILE, restart: "always" })).failures).toEqual([
      { property: "restart", reason: "restart must be one of never, if-needed" },
    ]);
    const preview = await provider.check(URN("w"), {}, { hostProfile: PROFILE, restart: UNKNOWN });
    expect(preview.failures).toBeUndefined();
    expect(preview.inputs!.effectiveFeatures).toBe(UNKNOWN);
  });

  test("an input unknown anywhere (nested too) makes the features unknown and asks no host", async () => {
    const { provider, asked } = providerWithFacts();
    for (const news of [{ vcpus: UNKNOWN }, { paravirt: { pvIpi: UNKNOWN } }, { nics: [{ network: UNKNOWN }] }]) {
      const r = await provider.check(URN("w"), {}, news);
      expect(r).toEqual({ inputs: { ...news, name: "w", effectiveFeatures: UNKNOWN } });
    }
    expect(asked).toEqual([]);
  });

  test("secrets are revealed for the evaluation and kept as secrets in the inputs", async () => {
    const { provider } = providerWithFacts();
    const r = await provider.check(URN("w"), {}, { hostProfile: PROFILE, vcpus: secret(3) });
    expect(r.failures).toBeUndefined();
    expect(r.inputs!.vcpus).toEqual(secret(3));
  });

  test("the host cannot be read: a failure on connection, password redacted, with the hint to give hostProfile", async () => {
    const { provider } = providerWithFacts(async (uri) => {
      throw new Error(`cannot connect to ${uri}`);
    });
    const r = await provider.check(URN("w"), {}, { connection: "qemu+tcp://admin:hunter2@kvm1/system" });
    expect(r.failures).toEqual([
      {
        property: "connection",
        reason:
          "cannot connect to qemu+tcp://admin:***@kvm1/system; give hostProfile (kvm-paravirt probe --json) to preview without the host",
      },
    ]);
  });

  test("the spec's errors fail the check at their path, with their code", async () => {
    const { provider } = providerWithFacts();
    const r = await provider.check(URN("w"), {}, { hostProfile: PROFILE, paravirt: { hidden: true, pvIpi: true } });
    expect(r.failures!.length).toBeGreaterThan(0);
    expect(r.failures![0].property).not.toBe("");
    expect(r.failures!.map((f) => f.reason).join("\n")).toMatch(/^\[pv-features-while-hidden\] /m);
    const bad = await provider.check(URN("w"), {}, { hostProfile: PROFILE, vcpus: 0 });
    expect(bad.failures).toEqual([{ property: "vcpus", reason: expect.stringMatching(/^\[[a-z-]+\] /) }]);
  });

  test("a URN of another type is refused by every method, naming the type this provider manages", async () => {
    const { provider } = providerWithFacts();
    const urn = "urn:pulumi:dev::proj::kvm-paravirt:index:Other::x";
    const refusal = /^unknown resource type kvm-paravirt:index:Other: this provider manages kvm-paravirt:index:Domain$/;
    expect(() => provider.check(urn, {}, {})).toThrow(refusal);
    expect(() => provider.diff("id", urn, {}, {})).toThrow(refusal);
    expect(() => provider.create(urn, {})).toThrow(refusal);
    expect(() => provider.read("id", urn, {})).toThrow(refusal);
    expect(() => provider.update("id", urn, {}, {})).toThrow(refusal);
    expect(() => provider.delete("id", urn, {})).toThrow(refusal);
    // a parent's type in the URN ($-joined) does not matter: the last one is the resource's
    const nested = "urn:pulumi:dev::proj::kvm-paravirt:index:ParavirtDomain$kvm-paravirt:index:Domain::x";
    await expect(provider.diff("id", nested, {}, {})).resolves.toMatchObject({ changes: false });
  });
});

describe("diff", () => {
  const { provider } = providerWithFacts();
  const olds = { name: "w", vcpus: 2, connection: "test:///default", effectiveFeatures: { kvmclock: true } };
  const diff = (news: Json, old: Json = olds) => provider.diff("id", URN("w"), old, news);

  test("the same inputs: no change, whatever the order of keys or secret wrapping", async () => {
    expect(await diff({ ...olds })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await diff({ effectiveFeatures: { kvmclock: true }, connection: "test:///default", vcpus: secret(2), name: "w" })).toMatchObject(
      {
        changes: false,
      },
    );
    // an input missing on one side and null on the other is no change
    expect(await diff({ ...olds, restart: null })).toMatchObject({ changes: false });
  });

  test("a setting or an effective feature changed: an update in place", async () => {
    expect(await diff({ ...olds, vcpus: 4 })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(await diff({ ...olds, effectiveFeatures: { kvmclock: false } })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(await diff({ ...olds, restart: "if-needed" })).toMatchObject({ changes: true, replaces: [] });
  });

  test("another name or connection is another domain: replaced, the old one deleted first", async () => {
    expect(await diff({ ...olds, name: "w2" })).toEqual({ changes: true, replaces: ["name"], deleteBeforeReplace: true });
    expect(await diff({ ...olds, connection: "qemu:///system" })).toEqual({
      changes: true,
      replaces: ["connection"],
      deleteBeforeReplace: true,
    });
  });

  test("an unknown input (top level or nested) is a change", async () => {
    expect(await diff({ ...olds, vcpus: UNKNOWN })).toMatchObject({ changes: true, replaces: [] });
    expect(await diff({ ...olds, paravirt: { pvIpi: UNKNOWN } })).toMatchObject({ changes: true });
    expect(await diff({ ...olds, name: UNKNOWN })).toMatchObject({ changes: true, replaces: ["name"] });
  });

  test("the last refresh found the live definition out of sync (liveChanges): a change even with the same inputs", async () => {
    expect(await diff({ ...olds }, { ...olds, liveChanges: ["vcpus: 1 -> 2"] })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(await diff({ ...olds }, { ...olds, liveChanges: [] })).toMatchObject({ changes: false });
    expect(await diff({ ...olds }, { ...olds, liveChanges: "x" })).toMatchObject({ changes: false });
  });
});

describe("create, read, update, delete (test driver)", () => {
  test("create: the UUID is the ID; outputs are the inputs, what was deployed and an empty liveChanges", async () => {
    const { provider } = providerWithFacts();
    const r = await provider.create(URN("kpv-c"), { name: "kpv-c", vcpus: 2, connection: "test:///default" });
    expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.outs).toMatchObject({
      name: "kpv-c",
      vcpus: 2,
      connection: "test:///default",
      uuid: r.id,
      state: "shut off",
      restartRequired: false,
      liveChanges: [],
    });
    expect(r.outs!.domainXml).toContain("<name>kpv-c</name>");
    expect((r.outs!.qemuArgs as string[]).length).toBeGreaterThan(0);
    expect((r.outs!.effectiveFeatures as Record<string, boolean>)["kvmclock"]).toBe(true);
    expect(r.outs!.features).toHaveProperty("kvmclock");
    expect(Array.isArray(r.outs!.diagnostics)).toBe(true);
  });

  test("create with runState running: its state is running; a connection given as a secret stays one", async () => {
    const { provider } = providerWithFacts();
    const r = await provider.create(URN("kpv-r"), { name: "kpv-r", runState: "running", connection: secret("test:///default") });
    expect(r.outs).toMatchObject({ state: "running", connection: secret("test:///default") });
  });

  test("create of a spec with errors: refused naming each error; of a name the host has: refused, nothing changed", async () => {
    const { provider } = providerWithFacts();
    await expect(provider.create(URN("w"), { name: "w", vcpus: 0, connection: "test:///default" })).rejects.toThrow(
      /^invalid Domain arguments:\n {2}vcpus: \[[a-z-]+\] /,
    );
    await expect(provider.create(URN("test"), { name: "test", connection: "test:///default" })).rejects.toThrow(
      /a domain named "test" already exists on test:\/\/\/default/,
    );
  });

  test("refresh of a domain in sync: the recorded inputs stay as written, no liveChanges, the live state", async () => {
    const { uri, uuid, outs } = await hostWith({ name: "kpv-sync", vcpus: 2 });
    const { provider } = providerWithFacts();
    const r = await provider.read(uuid, URN("kpv-sync"), outs);
    expect(r.id).toBe(uuid);
    // the test driver runs the domains of a node file
    expect(r.props).toMatchObject({ uuid, state: "running", liveChanges: [], vcpus: 2, connection: uri });
    expect(r.inputs).toMatchObject({ name: "kpv-sync", vcpus: 2, connection: uri });
    expect(r.inputs!.effectiveFeatures).toEqual(outs.effectiveFeatures);
    // outputs that are no inputs are not in the refreshed inputs
    expect(r.inputs).not.toHaveProperty("uuid");
    expect(r.inputs).not.toHaveProperty("liveChanges");
  });

  test("refresh of a domain changed by hand: the live settings in the inputs, what differs in liveChanges; the next diff is a change", async () => {
    const { uri, uuid, outs } = await hostWith({ name: "kpv-drift", vcpus: 2 }, (xml) =>
      xml.replace(/<vcpu placement='static'>2<\/vcpu>/, "<vcpu placement='static'>3</vcpu>"),
    );
    const { provider } = providerWithFacts();
    const r = await provider.read(uuid, URN("kpv-drift"), outs);
    expect(r.props!.liveChanges).toEqual(["vcpus: 3 -> 2"]);
    expect(r.inputs).toMatchObject({ vcpus: 3, connection: uri });
    const d = await provider.diff(uuid, URN("kpv-drift"), r.props!, outs);
    expect(d.changes).toBe(true);
  });

  test("refresh keeps restartRequired from the state; a domain gone from the host is forgotten", async () => {
    const { uuid, outs, uri } = await hostWith({ name: "kpv-rr" });
    const { provider } = providerWithFacts();
    expect((await provider.read(uuid, URN("kpv-rr"), { ...outs, restartRequired: true })).props).toMatchObject({ restartRequired: true });
    expect((await provider.read(uuid, URN("kpv-rr"), { ...outs, restartRequired: secret(true) })).props).toMatchObject({
      restartRequired: true,
    });
    const gone = "00000000-0000-4000-8000-000000000001";
    expect(await provider.read(gone, URN("kpv-rr"), { ...outs, uuid: gone, connection: uri })).toEqual({ id: "", props: {} });
  });

  test("refresh of a resource that declares devices reads them back; one that declares none does not", async () => {
    const disk = { target: "vdb", file: "/var/lib/libvirt/images/a.qcow2" };
    const more = (xml: string) => xml.replace(/<vcpu placement='static'>1<\/vcpu>/, "<vcpu placement='static'>2</vcpu>");
    const declared = await hostWith({ name: "kpv-dev1", disks: [disk] }, more);
    const { provider } = providerWithFacts();
    const r1 = await provider.read(declared.uuid, URN("kpv-dev1"), declared.outs);
    expect(r1.inputs).toMatchObject({ vcpus: 2, disks: [disk] });
    // the same live disk, added by hand to a resource that declares no devices: not the resource's
    const handAdded = await hostWith({ name: "kpv-dev2" }, (xml) =>
      more(xml).replace(
        "</devices>",
        "<disk type='file' device='disk'><source file='/var/lib/libvirt/images/b.qcow2'/><target dev='vdc' bus='virtio'/></disk></devices>",
      ),
    );
    const r2 = await provider.read(handAdded.uuid, URN("kpv-dev2"), handAdded.outs);
    expect(r2.inputs).toMatchObject({ vcpus: 2 });
    expect(r2.inputs).not.toHaveProperty("disks");
    expect(r2.props!.liveChanges).toEqual(["vcpus: 2 -> 1"]);
  });

  test("refresh out of sync keeps where and how the resource deploys (hostProfile, connection, restart) from the state", async () => {
    const { uuid, outs, uri } = await hostWith({ name: "kpv-keep", restart: "if-needed" }, (xml) =>
      xml.replace(/<vcpu placement='static'>1<\/vcpu>/, "<vcpu placement='static'>2</vcpu>"),
    );
    const { provider, asked } = providerWithFacts();
    const r = await provider.read(uuid, URN("kpv-keep"), { ...outs, hostProfile: PROFILE });
    expect(r.inputs).toMatchObject({ vcpus: 2, restart: "if-needed", hostProfile: PROFILE, connection: uri });
    expect(asked).toEqual([]);
  });

  test("liveChanges name each kind of difference: a setting, our metadata missing, drift, a declared device", async () => {
    const disk = { target: "vdb", file: "/var/lib/libvirt/images/a.qcow2" };
    const { provider } = providerWithFacts();
    const noMeta = await hostWith({ name: "kpv-lc1" }, (xml) => xml.replace(/<metadata>[\s\S]*<\/metadata>/, ""));
    expect((await provider.read(noMeta.uuid, URN("kpv-lc1"), noMeta.outs)).props!.liveChanges).toEqual(["no kvm-paravirt metadata"]);
    // the metadata records kvm-pv-eoi on; the definition now turns it off
    const drift = await hostWith({ name: "kpv-lc2" }, (xml) => xml.replace("<apic/>", "<apic eoi='off'/>"));
    expect((await provider.read(drift.uuid, URN("kpv-lc2"), drift.outs)).props!.liveChanges).toEqual([
      'paravirt: {"pvEoi":false} -> null',
      "drift: kvm-pv-eoi recorded true, now false",
    ]);
    const gone = await hostWith({ name: "kpv-lc3", disks: [disk] }, (xml) => xml.replace(/<disk [\s\S]*?<\/disk>/, ""));
    expect((await provider.read(gone.uuid, URN("kpv-lc3"), gone.outs)).props!.liveChanges).toEqual(["device disk:vdb: add"]);
  });

  test("refresh when the recorded inputs no longer evaluate (an error): the live definition's inputs, no comparison", async () => {
    const { uuid, outs } = await hostWith({ name: "kpv-bad", vcpus: 2 });
    const { provider } = providerWithFacts();
    const r = await provider.read(uuid, URN("kpv-bad"), { ...outs, vcpus: 0 });
    expect(r.inputs).toMatchObject({ vcpus: 2 });
    expect(r.props!.liveChanges).toEqual([]);
  });

  test("check: a hostProfile given as null asks the host", async () => {
    const { provider, asked } = providerWithFacts();
    await provider.check(URN("w"), {}, { hostProfile: null, connection: "test:///default" });
    expect(asked).toEqual(["test:///default"]);
  });

  test("check: one unknown element among known ones is enough to make the features unknown", async () => {
    const { provider } = providerWithFacts();
    const r = await provider.check(URN("w"), {}, { hostProfile: PROFILE, nics: [{ network: "default" }, { network: UNKNOWN }] });
    expect(r.inputs!.effectiveFeatures).toBe(UNKNOWN);
  });

  test("import by name@URI and by the UUID alone on the resource's connection: the live definition as inputs, devices included", async () => {
    const { uri, uuid } = await hostWith({
      name: "kpv-imp",
      vcpus: 2,
      disks: [{ target: "vdb", file: "/var/lib/libvirt/images/a.qcow2" }],
    });
    const { provider } = providerWithFacts();
    const byName = await provider.read(`kpv-imp@${uri}`, URN("kpv-imp"), {});
    expect(byName.id).toBe(`kpv-imp@${uri}`);
    expect(byName.props).toMatchObject({ uuid, name: "kpv-imp", vcpus: 2, connection: uri, liveChanges: [] });
    expect(byName.inputs).toMatchObject({
      name: "kpv-imp",
      connection: uri,
      disks: [{ target: "vdb", file: "/var/lib/libvirt/images/a.qcow2" }],
    });
    const byUuid = await provider.read(uuid.toUpperCase(), URN("kpv-imp"), { connection: uri });
    expect(byUuid.props).toMatchObject({ uuid, name: "kpv-imp" });
  });

  test("import: an ID of neither form, a name the host lacks: errors naming them", async () => {
    const { uri } = await hostWith({ name: "kpv-imp2" });
    const { provider } = providerWithFacts();
    await expect(provider.read("kpv-imp2", URN("x"), {})).rejects.toThrow(
      /^cannot import "kpv-imp2": the ID is the domain's UUID .* or <domain name or UUID>@<libvirt URI>, e.g. web1@qemu:\/\/\/system$/,
    );
    await expect(provider.read(`nope@${uri}`, URN("x"), {})).rejects.toThrow(`domain "nope" not found on ${uri}`);
    await expect(provider.read("00000000-0000-4000-8000-000000000009", URN("x"), { connection: uri })).rejects.toThrow(
      `domain "00000000-0000-4000-8000-000000000009" not found on ${uri}`,
    );
  });

  test("update: the domain with the state's UUID is redefined (running: restarted only with if-needed); without a UUID in the state it is refused", async () => {
    const { uri, uuid, outs } = await hostWith({ name: "kpv-up", vcpus: 2 });
    const { provider } = providerWithFacts();
    const r = await provider.update(uuid, URN("kpv-up"), outs, { name: "kpv-up", vcpus: 4, connection: uri });
    expect(r.outs).toMatchObject({ uuid, vcpus: 4, state: "running", restartRequired: true, liveChanges: [] });
    expect(r.outs!.domainXml).toMatch(/<vcpu[^>]*>4<\/vcpu>/);
    const restarted = await provider.update(uuid, URN("kpv-up"), outs, { name: "kpv-up", vcpus: 4, connection: uri, restart: "if-needed" });
    expect(restarted.outs).toMatchObject({ uuid, state: "running", restartRequired: false, restart: "if-needed" });
    await expect(provider.update(uuid, URN("kpv-up"), { ...outs, uuid: undefined }, { name: "kpv-up", connection: uri })).rejects.toThrow(
      "the resource's state has no domain UUID: refresh it (or import the domain) first",
    );
    // another UUID under that name: not touched
    await expect(
      provider.update(uuid, URN("kpv-up"), { ...outs, uuid: "00000000-0000-4000-8000-000000000002" }, { name: "kpv-up", connection: uri }),
    ).rejects.toThrow(/now has UUID .*, not 00000000-0000-4000-8000-000000000002/);
  });

  test("delete: ours is undefined by its UUID; a state without a UUID asks libvirt nothing", async () => {
    const { uri, uuid, outs } = await hostWith({ name: "kpv-del" });
    const { provider } = providerWithFacts();
    const run = jest.spyOn(VirshSession.prototype, "run");
    await expect(provider.delete(uuid, URN("kpv-del"), outs)).resolves.toBeUndefined();
    expect(run.mock.calls.map(([a]) => a.join(" "))).toContain(`undefine --domain ${uuid}`);
    run.mockClear();
    await expect(provider.delete(uuid, URN("kpv-del"), { connection: uri })).resolves.toBeUndefined();
    expect(run).not.toHaveBeenCalled();
    run.mockRestore();
  });

  test("an error from the host never shows a password (redacted before the engine stores it)", async () => {
    const { provider } = providerWithFacts();
    const id = "web@qemu+tcp://admin:hunter2@127.0.0.1:1/system";
    const e = await provider.read(id, URN("web"), {}).catch((x: Error) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).not.toContain("hunter2");
    expect((e as Error).message).toContain("admin:***@");
  });
});
