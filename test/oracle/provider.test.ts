import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describeWith } from "../helpers/env";
import { runCliAsync } from "../helpers/cli";
import { PluginEngine, urnOf } from "../helpers/plugin-engine";
import { ROOT } from "../helpers/specs";
import { domainUuids, removeDomains, virshOn } from "../helpers/virsh";
import { escapeRegExp, RUN_TAG, runUuid } from "../helpers/run-tag";

/**
 * The provider plugin over the real plugin protocol, against the real libvirtd: this test
 * plays the Pulumi engine (the CLI cannot run here) and calls what `pulumi preview --diff`,
 * `up`, `refresh`, `import` and `destroy` call. Domains run under TCG (type='qemu'): this
 * machine may have no KVM, and the deploy path does not depend on the accelerator.
 *
 * Every domain name (kpv-prov-<run>-…), the parity domain's UUID and the disk image carry this
 * run's tag: another run of this suite at the same time (another checkout on this host) never
 * sees, redefines or removes them, and this suite looks only at the names in NAMES.
 */

const URI = "qemu:///system";
const DOMAIN = "kvm-paravirt:index:Domain";
const COMPONENT = "kvm-paravirt:index:ParavirtDomain";
/** a domain name of this run's */
const own = (n: string) => `kpv-prov-${RUN_TAG}-${n}`;
/** a name full of shell metacharacters; its first word (up to the `;`) is own("meta") */
const META_NAME = `${own("meta")};$(touch\${IFS}kpv-pwned)|\`touch\${IFS}kpv-pwned2\`*?!#~{}`;
/** every domain this suite may define: the only ones it looks at, and removes afterwards */
const NAMES = [...["meta", "devs", "secret", "run", "fault", "life", "exists", "parity", "cli"].map(own), META_NAME];
const PROFILE = fs.readFileSync(path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json"), "utf8");
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SLOW = 240_000;

type Json = Record<string, unknown>;
const dumpxml = (uuid: string) => virshOn(URI, "dumpxml", "--inactive", "--security-info", "--domain", uuid).stdout;
/** A hand edit with virsh: the live definition through `fn`, defined again. */
function handEdit(uuid: string, fn: (xml: string) => string): void {
  const file = path.join(os.tmpdir(), `kpv-edit-${process.pid}.xml`);
  fs.writeFileSync(file, fn(dumpxml(uuid)));
  const r = virshOn(URI, "define", "--file", file);
  fs.rmSync(file);
  if (r.status !== 0) throw new Error(`virsh define: ${r.stderr}`);
}
const IMG = `/var/lib/libvirt/images/kpv-prov-${RUN_TAG}.img`;
const DEVICES = `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${IMG}'/><target dev='vda' bus='virtio'/></disk><interface type='user'><mac address='52:54:00:6b:70:76'/><model type='virtio'/></interface>`;
const FOREIGN_META = `<metadata><app:owner xmlns:app="https://example.org/app">Jos&#xE9;</app:owner>`;

describeWith(["libvirt"], "the provider plugin over gRPC (a test plays the engine) against the real libvirtd", () => {
  const engine = new PluginEngine();
  // this run's names are new: nothing to remove first
  beforeAll(async () => {
    fs.mkdirSync(path.dirname(IMG), { recursive: true });
    fs.writeFileSync(IMG, Buffer.alloc(1 << 20));
    await engine.start(ROOT);
  }, SLOW);
  afterAll(() => {
    engine.stop();
    removeDomains(URI, ...NAMES);
    fs.rmSync(IMG, { force: true });
  });

  test("GetSchema: the component and the Domain resource, whose inputs are the component's without deploy, plus restart", async () => {
    const schema = (await engine.getSchema()) as {
      resources: Record<string, { isComponent?: boolean; inputProperties: Json; properties: Json }>;
    };
    expect(Object.keys(schema.resources).sort()).toEqual([DOMAIN, COMPONENT]);
    const [domain, component] = [schema.resources[DOMAIN], schema.resources[COMPONENT]];
    expect(domain.isComponent).toBeUndefined();
    expect(Object.keys(domain.inputProperties).sort()).toEqual(
      Object.keys(component.inputProperties)
        .filter((k) => k !== "deploy")
        .sort(),
    );
    expect(domain.inputProperties.restart).toEqual(expect.objectContaining({ $ref: "#/types/kvm-paravirt:index:Restart" }));
    expect(Object.keys(domain.properties)).toEqual(expect.arrayContaining(["uuid", "effectiveFeatures", "restartRequired", "features"]));
    expect(schema).toEqual(JSON.parse(fs.readFileSync(path.join(ROOT, "schema.json"), "utf8")));
  });

  describe("Check and Diff (preview)", () => {
    const urn = urnOf(DOMAIN, "web");
    const base = { name: own("web"), vcpus: 2, hostProfile: PROFILE, connection: URI, paravirt: { pvIpi: false } };

    test("Check returns the effective features by QEMU property name; hidden: true flips each of them, old => new", async () => {
      const before = await engine.check(urn, {}, base);
      const after = await engine.check(urn, before.inputs, { ...base, paravirt: { pvIpi: false, hidden: true } });
      expect(before.failures).toEqual([]);
      expect(after.failures).toEqual([]);
      const [b, a] = [
        before.inputs.effectiveFeatures as Record<string, boolean>,
        after.inputs.effectiveFeatures as Record<string, boolean>,
      ];
      expect(b["kvm-pv-ipi"]).toBe(false);
      expect(b.kvmclock).toBe(true);
      const flipped = Object.keys(b).filter((k) => a[k] !== b[k]);
      // kvm=off hides every FEAT_KVM bit that was on (kvm-hint-dedicated is not one)
      const wasOn = Object.keys(b).filter((k) => b[k] && k !== "kvm-hint-dedicated");
      expect(wasOn.length).toBeGreaterThan(3);
      expect(flipped.sort()).toEqual(wasOn.sort());
      for (const k of flipped) expect([k, b[k], a[k]]).toEqual([k, true, false]);
      const diff = await engine.diff("id", urn, before.inputs, after.inputs);
      expect(diff).toEqual({ changes: "some", replaces: [], deleteBeforeReplace: false });
    });

    test("Diff: nothing changed = no change; another name or connection = replace, delete first", async () => {
      const { inputs } = await engine.check(urn, {}, base);
      expect((await engine.diff("id", urn, inputs, inputs)).changes).toBe("none");
      const renamed = (await engine.check(urn, inputs, { ...base, name: own("web2") })).inputs;
      expect(await engine.diff("id", urn, inputs, renamed)).toEqual({ changes: "some", replaces: ["name"], deleteBeforeReplace: true });
      const moved = (await engine.check(urn, inputs, { ...base, connection: "qemu+ssh://root@kvm2/system" })).inputs;
      expect((await engine.diff("id", urn, inputs, moved)).replaces).toEqual(["connection"]);
    });

    test("Check failures name the property and what is allowed; nothing is deployed", async () => {
      const { failures } = await engine.check(urn, {}, { ...base, vcpus: 0, restart: "always", paravirt: { pvIpi: "yes" } });
      expect(failures).toEqual(expect.arrayContaining([{ property: "restart", reason: "restart must be one of never, if-needed" }]));
      const tcg = await engine.check(urn, {}, { name: own("tcg"), accel: "tcg", connection: URI, paravirt: { pvIpi: true } });
      expect(tcg.failures).toEqual([
        { property: "paravirt.pvIpi", reason: expect.stringMatching(/^\[pv-features-under-tcg\] kvm-pv-ipi/) },
      ]);
      const bad = await engine.check(urn, {}, { ...base, vcpus: 0 });
      expect(bad.failures.map((f) => f.property)).toEqual(["vcpus"]);
      expect(bad.failures[0].reason).toMatch(/>=\s*1/);
      expect(domainUuids(URI).has(own("tcg"))).toBe(false);
    });

    test("Check runs what plan and validate run without a live domain: a missing local disk, a schema-invalid and an ill-formed extra device, with the same codes", async () => {
      const cases: [string, Json, string[]][] = [
        ["missing disk", { disks: [{ target: "vda", file: "/var/lib/libvirt/images/kpv-prov-nowhere.qcow2" }] }, ["disk-path-missing"]],
        ["schema-invalid device", { extraDevices: ["<watchdog model='kpv-no-such'/>"] }, ["extra-device-schema"]],
        [
          "ill-formed device",
          { extraDevices: ["<rng model='virtio'><backend model='random'>&xxe;</backend></rng>"] },
          ["extra-device-invalid"],
        ],
        [
          "a literal U+FFFE",
          { extraDevices: ["<rng model='virtio'><backend model='random'>/dev/\uFFFE</backend></rng>"] },
          ["extra-device-invalid"],
        ],
      ];
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-prov-check-"));
      try {
        for (const [label, extra, codes] of cases) {
          const domain = { name: own("checked"), accel: "tcg", ...extra };
          const { failures } = await engine.check(urn, {}, { ...domain, connection: URI });
          const checkCodes = failures.map((f) => /^\[([a-z0-9-]+)\]/.exec(f.reason)?.[1]);
          const spec = path.join(dir, "spec.json");
          fs.writeFileSync(spec, JSON.stringify({ domains: [domain] }));
          const plan = await runCliAsync("plan", spec, "--connect", URI, "--json");
          const planCodes = [...plan.stdout.matchAll(/\[([a-z][a-z0-9-]+)\]/g)].map((m) => m[1]);
          const validate = await runCliAsync("validate", spec, "--json");
          const validateCodes = (
            JSON.parse(validate.stdout) as { domains: { diagnostics: { code: string; severity: string }[] }[] }
          ).domains[0].diagnostics
            .filter((d) => d.severity === "error")
            .map((d) => d.code);
          // a disk path is checked where the host is known: plan and Check (validate has no host)
          const wantValidate = codes.filter((c) => c !== "disk-path-missing");
          expect({ label, check: checkCodes, plan: [...new Set(planCodes)], planExit: plan.status, validate: validateCodes }).toEqual({
            label,
            check: codes,
            plan: codes,
            planExit: 1,
            validate: wantValidate,
          });
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      expect(domainUuids(URI).has(own("checked"))).toBe(false);
    });

    test("Check with unknown inputs (a preview): no failure, the effective features unknown", async () => {
      const r = await engine.check(urn, {}, { ...base, vcpus: UNKNOWN });
      expect(r.failures).toEqual([]);
      expect(r.inputs.effectiveFeatures).toBe(UNKNOWN);
      expect((await engine.diff("id", urn, (await engine.check(urn, {}, base)).inputs, r.inputs)).changes).toBe("some");
    });

    test("without hostProfile the facts come over the connection; an unreachable host is a failure naming its URI", async () => {
      const facts = await engine.check(urn, {}, { name: own("facts"), accel: "tcg", connection: URI });
      expect(facts.failures).toEqual([]);
      const dead = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";
      const r = await engine.check(urn, {}, { name: own("dead"), accel: "tcg", connection: dead });
      expect(r.failures).toHaveLength(1);
      expect(r.failures[0].property).toBe("connection");
      expect(r.failures[0].reason).toContain(dead);
      expect(r.failures[0].reason).toMatch(/hostProfile/);
    });
  });

  describe("Create, Read (refresh, import), Update, Delete on the real libvirtd", () => {
    const urn = urnOf(DOMAIN, "life");
    const news = { name: own("life"), accel: "tcg", vcpus: 2, memoryMiB: 128, connection: URI };
    let created: { id: string; properties: Json };

    test(
      "Create defines the domain; its ID is the UUID libvirt reports",
      async () => {
        const { inputs } = await engine.check(urn, {}, news);
        created = await engine.create(urn, inputs);
        expect(created.id).toBe(domainUuids(URI).get(own("life")));
        expect(created.properties).toEqual(
          expect.objectContaining({ uuid: created.id, state: "shut off", restartRequired: false, vcpus: 2 }),
        );
        expect(dumpxml(created.id)).toMatch(/<vcpu placement='static'>2<\/vcpu>/);
      },
      SLOW,
    );

    test(
      "Read (refresh) without a change keeps the inputs as written; after a hand edit it reports the live values",
      async () => {
        const same = await engine.read(created.id, urn, created.properties);
        expect(same.id).toBe(created.id);
        expect(same.inputs).toEqual(expect.objectContaining({ name: own("life"), vcpus: 2, accel: "tcg", connection: URI }));
        expect(same.inputs.machine).toBeUndefined();
        const { inputs } = await engine.check(urn, same.inputs, news);
        expect((await engine.diff(created.id, urn, same.properties, inputs)).changes).toBe("none");

        handEdit(created.id, (x) => x.replace(/<vcpu placement='static'>2<\/vcpu>/, "<vcpu placement='static'>3</vcpu>"));
        const drift = await engine.read(created.id, urn, created.properties);
        expect(drift.inputs.vcpus).toBe(3);
        expect(drift.properties.vcpus).toBe(3);
        // the program still says 2: the next update puts it back
        expect((await engine.diff(created.id, urn, drift.properties, inputs)).changes).toBe("some");
      },
      SLOW,
    );

    test(
      "Update keeps the UUID, the devices and foreign metadata; only the spec's part changes",
      async () => {
        handEdit(created.id, (x) => x.replace("</devices>", `${DEVICES}</devices>`).replace("<metadata>", FOREIGN_META));
        const { inputs } = await engine.check(urn, created.properties, { ...news, vcpus: 4 });
        const updated = await engine.update(created.id, urn, created.properties, inputs);
        expect(updated.properties).toEqual(expect.objectContaining({ uuid: created.id, vcpus: 4 }));
        const live = dumpxml(created.id);
        expect(live).toMatch(/<vcpu placement='static'>4<\/vcpu>/);
        expect(live).toContain(`<source file='${IMG}'/>`);
        expect(live).toContain("<mac address='52:54:00:6b:70:76'/>");
        expect(live).toMatch(/<app:owner xmlns:app="https:\/\/example.org\/app">Jos(é|&#xE9;)<\/app:owner>/);
        expect(domainUuids(URI).get(own("life"))).toBe(created.id);
        created = { id: created.id, properties: updated.properties };
      },
      SLOW,
    );

    test(
      "Read with the ID alone (import), then Diff against the imported inputs: no change; an unknown domain is an error",
      async () => {
        const imported = await engine.read(`${own("life")}@${URI}`, urn, {});
        expect(imported.properties.uuid).toBe(created.id);
        expect(imported.inputs).toEqual(expect.objectContaining({ name: own("life"), vcpus: 4, accel: "tcg", connection: URI }));
        const { inputs, failures } = await engine.check(urn, {}, imported.inputs);
        expect(failures).toEqual([]);
        expect((await engine.diff(imported.id, urn, imported.properties, inputs)).changes).toBe("none");
        const byUuid = await engine.read(`${created.id}@${URI}`, urn, {});
        expect(byUuid.properties.uuid).toBe(created.id);
        // the ID the state shows (Create's): the UUID alone, on the default connection
        const byStateId = await engine.read(created.id, urn, {});
        expect(byStateId.properties.uuid).toBe(created.id);
        expect(byStateId.inputs).toEqual(imported.inputs);
        await expect(engine.read("00000000-0000-4000-8000-00000000dead", urn, {})).rejects.toThrow(
          /domain "00000000-0000-4000-8000-00000000dead" not found on qemu:\/\/\/system/,
        );
        await expect(engine.read(`${own("nope")}@${URI}`, urn, {})).rejects.toThrow(
          new RegExp(`domain "${escapeRegExp(own("nope"))}" not found on qemu:///system`),
        );
        await expect(engine.read(own("life"), urn, {})).rejects.toThrow(/<domain name or UUID>@<libvirt URI>/);
      },
      SLOW,
    );

    test(
      "Delete undefines; a second Delete (already gone) succeeds; refresh of a gone domain forgets it",
      async () => {
        await engine.delete(created.id, urn, created.properties);
        expect(domainUuids(URI).has(own("life"))).toBe(false);
        await engine.delete(created.id, urn, created.properties);
        expect((await engine.read(created.id, urn, created.properties)).id).toBe("");
      },
      SLOW,
    );
  });

  test(
    "Create never adopts an existing domain of that name, and Delete leaves a domain it did not define alone",
    async () => {
      const urn = urnOf(DOMAIN, "exists");
      const xml = `<domain type='qemu'><name>${own("exists")}</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='q35'>hvm</type></os></domain>`;
      const file = path.join(os.tmpdir(), `kpv-exists-${process.pid}.xml`);
      fs.writeFileSync(file, xml);
      expect(virshOn(URI, "define", "--file", file).status).toBe(0);
      fs.rmSync(file);
      const uuid = domainUuids(URI).get(own("exists"))!;
      const before = dumpxml(uuid);
      const { inputs } = await engine.check(urn, {}, { name: own("exists"), accel: "tcg", vcpus: 4, connection: URI });
      await expect(engine.create(urn, inputs)).rejects.toThrow(/already exists on qemu:\/\/\/system .*import it/);
      expect(dumpxml(uuid)).toBe(before);
      await expect(engine.delete(uuid, urn, { uuid, connection: URI })).rejects.toThrow(/not defined by kvm-paravirt/);
      expect(domainUuids(URI).get(own("exists"))).toBe(uuid);
    },
    SLOW,
  );

  test(
    "the CLI's apply and the provider's Update turn the same live domain into byte-identical definitions",
    async () => {
      const urn = urnOf(DOMAIN, "parity");
      const spec = {
        name: own("parity"),
        accel: "tcg",
        vcpus: 3,
        memoryMiB: 256,
        irqchip: "split",
        connection: URI,
        // devices too: vda replaced in place, the user NIC keeps its MAC, a serial console and VNC join
        disks: [{ target: "vda", file: IMG, format: "raw", cache: "none" }],
        nics: [{ user: true }],
        serialConsole: true,
        graphics: { type: "vnc" },
      };
      const live = `<domain type='qemu'><name>${own("parity")}</name><uuid>${runUuid("6b707600-0000-4000-8000-000000000001")}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os>${FOREIGN_META}</metadata><features><apic eoi='off'/></features><devices>${DEVICES}</devices></domain>`;
      const file = path.join(os.tmpdir(), `kpv-parity-${process.pid}.xml`);
      const define = () => {
        fs.writeFileSync(file, live);
        const r = virshOn(URI, "define", "--file", file);
        if (r.status !== 0) throw new Error(r.stderr);
      };
      define();
      const uuid = domainUuids(URI).get(own("parity"))!;
      const { inputs, failures } = await engine.check(urn, {}, spec);
      expect(failures).toEqual([]);
      await engine.update(uuid, urn, { uuid, connection: URI, name: spec.name }, inputs);
      const byProvider = dumpxml(uuid);
      removeDomains(URI, own("parity"));
      define();
      const specFile = path.join(os.tmpdir(), `kpv-parity-${process.pid}.yaml`);
      const { connection: _c, ...domain } = spec;
      fs.writeFileSync(specFile, JSON.stringify({ domains: [domain] }));
      const cli = await runCliAsync("apply", specFile, "--connect", URI);
      fs.rmSync(specFile);
      fs.rmSync(file);
      expect(cli.status).toBe(0);
      expect(dumpxml(uuid)).toBe(byProvider);
      expect(byProvider).toContain("<vcpu placement='static'>3</vcpu>");
      expect(byProvider).toContain("<mac address='52:54:00:6b:70:76'/>");
      expect(byProvider).toMatch(/<driver name='qemu' type='raw' cache='none'\/>/);
      expect(byProvider).toMatch(/<graphics type='vnc'/);
      expect(byProvider).toMatch(/<serial type='pty'>/);
    },
    SLOW,
  );

  test(
    "a name full of shell metacharacters touches nothing but its own domain; an unreachable host fails Create with its URI",
    async () => {
      const name = META_NAME;
      const urn = urnOf(DOMAIN, "meta");
      // a canary of our own named like the name's first word (what a lookup cut at the `;` would reach),
      // and this suite's other domains, by their exact names: other suites, and other runs of this one,
      // create and remove theirs meanwhile, so they are not looked at
      const canary = own("meta");
      const canaryFile = path.join(os.tmpdir(), `kpv-canary-${process.pid}.xml`);
      fs.writeFileSync(
        canaryFile,
        `<domain type='qemu'><name>${canary}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`,
      );
      expect(virshOn(URI, "define", "--file", canaryFile).status).toBe(0);
      fs.rmSync(canaryFile);
      const others = () =>
        [...domainUuids(URI)]
          .filter(([n]) => NAMES.includes(n) && n !== name)
          .map(([n, u]) => [n, u, dumpxml(u)])
          .sort();
      const before = others();
      expect(before.map(([n]) => n)).toContain(canary);
      const { inputs, failures } = await engine.check(urn, {}, { name, accel: "tcg", connection: URI });
      expect(failures).toEqual([]);
      const created = await engine.create(urn, inputs);
      expect(domainUuids(URI).get(name)).toBe(created.id);
      await engine.delete(created.id, urn, created.properties);
      expect(domainUuids(URI).has(name)).toBe(false);
      expect(others()).toEqual(before);
      removeDomains(URI, canary);
      expect(fs.readdirSync(ROOT).filter((f) => f.startsWith("kpv-pwned"))).toEqual([]);
      const dead = "qemu+tcp://127.0.0.1:1/system";
      const offline = await engine.check(urn, {}, { name: own("dead"), accel: "tcg", connection: dead, hostProfile: PROFILE });
      expect(offline.failures).toEqual([]); // a hostProfile previews without the host
      await expect(engine.create(urn, offline.inputs)).rejects.toThrow(/cannot list the domains of qemu\+tcp:\/\/127\.0\.0\.1:1\/system/);
      await expect(engine.delete("x", urn, { uuid: created.id, connection: dead })).rejects.toThrow(/cannot list the domains/);
      // a password in the URI never reaches the engine, not even in an error
      const withPassword = "qemu+tcp://admin:s3cret-pw@127.0.0.1:1/system";
      const pw = await engine.check(urn, {}, { name: own("dead"), accel: "tcg", connection: withPassword, hostProfile: PROFILE });
      const err = await engine.create(urn, pw.inputs).then(
        () => "",
        (e: Error) => e.message,
      );
      expect(err).toContain("admin:***@127.0.0.1:1");
      expect(err).not.toContain("s3cret-pw");
    },
    SLOW,
  );

  test(
    "devices: refresh finds a disk removed by hand, the update puts it back, import reads the devices back",
    async () => {
      const urn = urnOf(DOMAIN, "devs");
      const news = {
        name: own("devs"),
        accel: "tcg",
        memoryMiB: 64,
        connection: URI,
        disks: [{ target: "vda", file: IMG, format: "raw" }],
        nics: [{ user: true }],
        serialConsole: true,
      };
      const checked = (await engine.check(urn, {}, news)).inputs;
      const created = await engine.create(urn, checked);
      const clean = await engine.read(created.id, urn, created.properties);
      expect(clean.inputs.disks).toEqual(news.disks); // as written: no drift
      expect((await engine.diff(created.id, urn, clean.properties, checked)).changes).toBe("none");

      handEdit(created.id, (x) => x.replace(/<disk type='file' device='disk'>[\s\S]*?<\/disk>/, ""));
      const drift = await engine.read(created.id, urn, created.properties);
      expect(drift.inputs.disks).toBeUndefined();
      expect(drift.inputs.nics).toEqual([
        expect.objectContaining({ user: true, model: "virtio", mac: expect.stringMatching(/^52:54:00/) }),
      ]);
      expect((await engine.diff(created.id, urn, drift.properties, checked)).changes).toBe("some");
      await engine.update(created.id, urn, drift.properties, checked);
      expect(dumpxml(created.id)).toContain(`<source file='${IMG}'/>`);

      const imported = await engine.read(`${own("devs")}@${URI}`, urn, {});
      expect(imported.inputs).toEqual(
        expect.objectContaining({ disks: [expect.objectContaining({ target: "vda", file: IMG })], serialConsole: true }),
      );
      const again = (await engine.check(urn, {}, imported.inputs)).inputs;
      expect((await engine.diff(imported.id, urn, imported.properties, again)).changes).toBe("none");
      await engine.delete(created.id, urn, created.properties);
    },
    SLOW,
  );

  test(
    "a connection URI with a password is a secret in the resource's outputs (the engine encrypts it in the state)",
    async () => {
      const urn = urnOf(DOMAIN, "secret");
      // libvirt ignores an unknown URI parameter: a password= one reaches the real host
      const uri = `${URI}?password=s3cret-pw`;
      const { inputs } = await engine.check(urn, {}, { name: own("secret"), accel: "tcg", memoryMiB: 64, connection: uri });
      const created = await engine.create(urn, inputs);
      expect(created.properties.connection).toEqual({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: uri });
      const { connection: _c, ...rest } = created.properties;
      expect(JSON.stringify(rest)).not.toContain("s3cret-pw");
      const read = await engine.read(created.id, urn, created.properties);
      expect(read.properties.connection).toEqual(created.properties.connection);
      await engine.delete(created.id, urn, created.properties);
      expect(domainUuids(URI).has(own("secret"))).toBe(false);
    },
    SLOW,
  );

  test(
    "restart: never leaves a running domain on its old definition (restartRequired); if-needed restarts it, paused as it was",
    async () => {
      const urn = urnOf(DOMAIN, "run");
      const news = { name: own("run"), accel: "tcg", vcpus: 1, memoryMiB: 64, connection: URI };
      const created = await engine.create(urn, (await engine.check(urn, {}, news)).inputs);
      expect(virshOn(URI, "start", "--paused", "--domain", created.id).status).toBe(0);
      const liveVcpus = () => virshOn(URI, "vcpucount", "--domain", created.id, "--live", "--current").stdout.trim();
      expect(liveVcpus()).toBe("1");
      const v2 = (await engine.check(urn, created.properties, { ...news, vcpus: 2 })).inputs;
      const waiting = await engine.update(created.id, urn, created.properties, v2);
      expect(waiting.properties).toEqual(expect.objectContaining({ restartRequired: true, state: "paused" }));
      expect(liveVcpus()).toBe("1");
      const v3 = (await engine.check(urn, waiting.properties, { ...news, vcpus: 3, restart: "if-needed" })).inputs;
      const restarted = await engine.update(created.id, urn, waiting.properties, v3);
      expect(restarted.properties).toEqual(expect.objectContaining({ restartRequired: false, state: "paused", uuid: created.id }));
      expect(liveVcpus()).toBe("3");
      virshOn(URI, "destroy", "--domain", created.id);
      await engine.delete(created.id, urn, restarted.properties);
    },
    SLOW,
  );

  test(
    "libvirt dying during an update: a clear failure naming the host, the domain as it was, a rerun converges",
    async () => {
      const urn = urnOf(DOMAIN, "fault");
      const news = { name: own("fault"), accel: "tcg", vcpus: 2, memoryMiB: 64, connection: URI, hostProfile: PROFILE };
      const created = await engine.create(urn, (await engine.check(urn, {}, news)).inputs);
      const before = dumpxml(created.id);
      const dying = new PluginEngine();
      await dying.start(ROOT, { ...process.env, KVM_PARAVIRT_VIRSH: path.join(ROOT, "test/fixtures/bin/dying-virsh.js") });
      try {
        const v2 = (await dying.check(urn, created.properties, { ...news, vcpus: 4 })).inputs;
        await expect(dying.update(created.id, urn, created.properties, v2)).rejects.toThrow(
          new RegExp(`${escapeRegExp(own("fault"))} on qemu:///system: .*(End of file|virsh exited)`),
        );
        expect(dumpxml(created.id)).toBe(before);
        const again = await engine.update(created.id, urn, created.properties, v2);
        expect(again.properties.vcpus).toBe(4);
        expect(dumpxml(created.id)).toContain("<vcpu placement='static'>4</vcpu>");
        await engine.delete(created.id, urn, again.properties);
      } finally {
        dying.stop();
      }
    },
    SLOW,
  );

  test(
    "Construct of ParavirtDomain: the monitor records the component and its Domain child",
    async () => {
      const { urn, state } = await engine.construct(COMPONENT, "from-yaml", {
        name: own("cli"),
        accel: "tcg",
        vcpus: 2,
        connection: URI,
        restart: "if-needed",
      });
      expect(urn).toBe(urnOf(COMPONENT, "from-yaml"));
      const component = engine.registered.find((r) => r.type === COMPONENT && r.name === "from-yaml")!;
      const child = engine.registered.find((r) => r.type === DOMAIN && r.name === "from-yaml")!;
      expect(component.custom).toBe(false);
      expect(child).toEqual(
        expect.objectContaining({
          custom: true,
          parent: urn,
          object: expect.objectContaining({ name: own("cli"), accel: "tcg", vcpus: 2, connection: URI, restart: "if-needed" }),
        }),
      );
      expect(child.object.deploy).toBeUndefined();
      expect(state.domainName).toBe(own("cli"));
      expect(engine.running).toBe(true);
    },
    SLOW,
  );
});
