import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { runCliAsync } from "../helpers/cli";
import { describeWith } from "../helpers/env";
import { domainUuids, removeDomains, virshOn } from "../helpers/virsh";
import { escapeRegExp, RUN_TAG } from "../helpers/run-tag";

/**
 * A VM you can boot, on the real libvirtd: a qcow2 disk made with qemu-img, a cdrom, a NIC,
 * a serial console and VNC, defined and started paused by `apply`; libvirt (domblklist,
 * domiflist) and QEMU (QMP query-block, query-pci) show exactly what the spec asked. Then an
 * update that adds a disk keeps the MAC and the UUID, foreign devices stay, and bad input is
 * a coded diagnostic with nothing defined. TCG domains: no KVM needed.
 *
 * Domain and image names carry this run's tag (kpv-dev-<run>-…): another run at the same time
 * (another checkout on this host) never redefines, starts or removes them.
 */
const URI = "qemu:///system";
const IMAGES = "/var/lib/libvirt/images";
const NAME = `kpv-dev-${RUN_TAG}-vm`;
const BAD = `kpv-dev-${RUN_TAG}-bad`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-dev-"));
const file = (n: string) => path.join(IMAGES, `${NAME}-${n}`);
const virsh = (...args: string[]) => virshOn(URI, ...args);
const uuid = () => domainUuids(URI).get(NAME)!;
const qmp = (command: string, args?: Record<string, unknown>) => {
  const r = virsh(
    "qemu-monitor-command",
    "--domain",
    uuid(),
    "--cmd",
    JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) }),
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { return: unknown }).return;
};

function specFile(name: string, domain: Record<string, unknown>): string {
  const f = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(f, YAML.stringify({ domains: [domain] }));
  return f;
}

const vm = (extra: Record<string, unknown> = {}) => ({
  name: NAME,
  accel: "tcg",
  memoryMiB: 64,
  disks: [
    { target: "vda", file: file("root.qcow2"), boot: 1 },
    { target: "sda", device: "cdrom", file: file("seed.iso") },
  ],
  nics: [{ user: true }],
  serialConsole: true,
  graphics: { type: "vnc" },
  runState: "paused",
  extraDevices: ["<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"],
  ...extra,
});

describeWith(["qemu", "libvirt"], "a bootable VM: disks, NIC, console, graphics and run state on the real libvirtd", () => {
  // this run's names are new: nothing to remove first
  beforeAll(() => {
    fs.mkdirSync(IMAGES, { recursive: true });
    for (const [n, size] of [
      ["root.qcow2", "64M"],
      ["data.qcow2", "16M"],
    ]) {
      const r = spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", file(n), size], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`qemu-img: ${r.stderr}`);
    }
    fs.writeFileSync(file("seed.iso"), Buffer.alloc(1024 * 1024));
  });
  afterAll(() => {
    removeDomains(URI, NAME, BAD);
    for (const n of ["root.qcow2", "data.qcow2", "seed.iso"]) fs.rmSync(file(n), { force: true });
  });

  test("apply defines and starts (paused) exactly what the spec asks: libvirt and QEMU agree", async () => {
    const spec = specFile("vm", vm());
    const plan = await runCliAsync("plan", spec, "--connect", URI, "--json");
    expect(plan.status).toBe(0);
    const planned = (JSON.parse(plan.stdout) as { hosts: { domains: { deviceChanges: unknown[]; runChange?: string }[] }[] }).hosts[0]
      .domains[0];
    expect(planned.deviceChanges).toEqual(
      ["disk:vda", "disk:sda", "interface:user:#0", "serial:0", "console:0", "graphics:vnc", "extra:0"].map((device) =>
        expect.objectContaining({ device, change: "add" }),
      ),
    );
    expect(planned.runChange).toBe("start-paused");
    const apply = await runCliAsync("apply", spec, "--connect", URI);
    expect({ status: apply.status, out: apply.stdout }).toMatchObject({ status: 0, out: expect.stringMatching(/apply: 1 defined/) });
    expect(virsh("domstate", "--domain", uuid()).stdout.trim()).toBe("paused");

    // libvirt's view
    const blk = virsh("domblklist", "--domain", uuid(), "--details").stdout;
    expect(blk).toMatch(new RegExp(`file\\s+disk\\s+vda\\s+${escapeRegExp(file("root.qcow2"))}`));
    expect(blk).toMatch(new RegExp(`file\\s+cdrom\\s+sda\\s+${escapeRegExp(file("seed.iso"))}`));
    const ifl = virsh("domiflist", "--domain", uuid()).stdout;
    expect(ifl).toMatch(/\buser\b.*\bvirtio\b\s+52:54:00(:[0-9a-f]{2}){3}/);
    // QEMU's view
    const block = qmp("query-block") as { device: string; qdev?: string; inserted?: { file: string; drv: string; ro: boolean } }[];
    const root = block.find((b) => b.inserted?.file === file("root.qcow2"));
    expect(root?.inserted).toMatchObject({ drv: "qcow2", ro: false });
    expect(block.find((b) => b.inserted?.file === file("seed.iso"))?.inserted).toMatchObject({ drv: "raw", ro: true });
    // the devices QEMU created, by id and type (query-pci cannot see behind the root ports before the firmware ran)
    const peripherals = Object.fromEntries(
      (qmp("qom-list", { path: "/machine/peripheral" }) as { name: string; type: string }[]).map((p) => [p.name, p.type]),
    );
    expect(peripherals).toMatchObject({
      "virtio-disk0": "child<virtio-blk-pci>",
      "sata0-0-0": "child<ide-cd>",
      net0: "child<virtio-net-pci>",
      serial0: "child<isa-serial>",
      // the passed-through device, under the alias the tool gave it
      "ua-kpv-extra-0": "child<virtio-rng-pci>",
    });
    const chardevs = JSON.stringify(qmp("query-chardev"));
    expect(chardevs).toMatch(/"label":"charserial0"/);
    expect(JSON.stringify(qmp("query-vnc"))).toMatch(/"enabled":true/);
  });

  test("an update that adds a disk keeps the UUID and the MAC; a foreign device stays", async () => {
    const before = uuid();
    const mac = /52:54:00(:[0-9a-f]{2}){3}/.exec(virsh("domiflist", "--domain", before).stdout)![0];
    virsh("destroy", "--domain", before);
    // a device added by hand (not in the spec) is not ours
    const xml = virsh("dumpxml", "--inactive", "--domain", before).stdout.replace(
      "</devices>",
      `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${file("seed.iso")}'/><target dev='vdz' bus='virtio'/><readonly/></disk></devices>`,
    );
    const f = path.join(dir, "hand.xml");
    fs.writeFileSync(f, xml);
    expect(virsh("define", "--file", f).status).toBe(0);

    const spec = specFile("vm2", vm({ disks: [...vm().disks, { target: "vdb", file: file("data.qcow2") }], runState: "defined" }));
    const plan = await runCliAsync("plan", spec, "--connect", URI, "--json");
    const changes = (JSON.parse(plan.stdout) as { hosts: { domains: { deviceChanges: unknown[] }[] }[] }).hosts[0].domains[0].deviceChanges;
    expect(changes).toEqual([{ device: "disk:vdb", change: "add", hotplug: true }]);
    const apply = await runCliAsync("apply", spec, "--connect", URI);
    expect(apply.status).toBe(0);
    expect(uuid()).toBe(before);
    const blk = virsh("domblklist", "--domain", before, "--details").stdout;
    expect(blk).toMatch(/\bvdb\s+\S*data\.qcow2/);
    expect(blk).toMatch(/\bvdz\s+\S*seed\.iso/);
    expect(virsh("domiflist", "--domain", before).stdout).toContain(mac);
    const again = await runCliAsync("plan", spec, "--connect", URI, "--detailed-exitcode");
    expect({ status: again.status, out: again.stdout }).toMatchObject({ status: 0, out: expect.stringMatching(/1 unchanged/) });
  });

  test.each([
    ["a relative path", { disks: [{ target: "vda", file: "images/x.qcow2" }] }, /disks\[0\]\.file\s+path is not absolute/],
    ["a path with a quote", { disks: [{ target: "vda", file: "/tmp/a'b.qcow2" }] }, /disks\[0\]\.file\s+path contains "'"/],
    ["a path with a newline", { disks: [{ target: "vda", file: "/tmp/a\nb.qcow2" }] }, /disks\[0\]\.file\s+path contains "\\n"/],
    ["a multicast MAC", { nics: [{ user: true, mac: "53:54:00:00:00:01" }] }, /nics\[0\]\.mac\s+a unicast MAC/],
    [
      "two disks on one target",
      {
        disks: [
          { target: "vda", file: "/tmp/a" },
          { target: "vda", file: "/tmp/b" },
        ],
      },
      /error\s+device-target-twice\s+domains\[0\]\.disks/,
    ],
    ["IDE on q35", { disks: [{ target: "hda", file: "/tmp/a" }] }, /error\s+device-bus-missing-on-machine\s+domains\[0\]\.disks\[0\]\.bus/],
  ])("bad input, %s: a coded diagnostic from validate, nothing defined by apply", async (_what, extra, message) => {
    const spec = specFile("bad", { name: BAD, accel: "tcg", ...extra });
    const v = await runCliAsync("validate", spec);
    expect(v.status).not.toBe(0);
    expect(v.stdout + v.stderr).toMatch(message);
    const a = await runCliAsync("apply", spec, "--connect", URI);
    expect(a.status).not.toBe(0);
    expect(domainUuids(URI).has(BAD)).toBe(false);
  });

  test.each([
    ["a network the host does not define", { nics: [{ network: "kpv-no-such-net" }] }, /\[network-unknown-on-host\] .*kpv-no-such-net/, 0],
    // libvirt's schema is this machine's (virt-xml-validate): validate asks it too
    [
      "an extra device libvirt's schema refuses",
      { extraDevices: ["<rng model='no-such-model'/>"] },
      /\[extra-device-schema\] libvirt's schema refuses/,
      1,
    ],
    ["a disk file that does not exist", { disks: [{ target: "vda", file: `${IMAGES}/kpv-no-such.qcow2` }] }, /\[disk-path-missing\]/, 0],
  ])(
    "what only the host can tell, %s: plan and apply stop with a coded error, nothing defined",
    async (_what, extra, message, validateExit) => {
      const spec = specFile("bad-host", { name: BAD, accel: "tcg", ...extra });
      // a spec alone cannot know the host's networks and files
      const v = await runCliAsync("validate", spec);
      expect(v.status).toBe(validateExit);
      if (validateExit) expect(v.stdout).toMatch(/extra-device-schema/);
      const p = await runCliAsync("plan", spec, "--connect", URI);
      expect(p.status).toBe(1);
      expect(p.stdout).toMatch(message);
      const a = await runCliAsync("apply", spec, "--connect", URI);
      expect(a.status).toBe(1);
      expect(a.stdout).toMatch(message);
      expect(domainUuids(URI).has(BAD)).toBe(false);
    },
  );
});

describeWith(["qemu", "libvirt"], "examples/vm/vm.yaml, the complete VM, on the real libvirtd", () => {
  const EX = `kpv-dev-${RUN_TAG}-example`;
  const img = (n: string) => path.join(IMAGES, `${EX}-${n}`);
  afterAll(() => {
    removeDomains(URI, EX);
    for (const n of ["root.qcow2", "seed.iso"]) fs.rmSync(img(n), { force: true });
  });

  test("defines and starts it with apply (under TCG: the KVM-only parts and the host network swapped, as listed)", async () => {
    const example = YAML.parse(fs.readFileSync(path.join(__dirname, "../../examples/vm/vm.yaml"), "utf8")) as {
      domains: Record<string, unknown>[];
    };
    const d = example.domains[0] as { disks: { file: string }[]; [k: string]: unknown };
    // what this machine cannot give: KVM (host-passthrough, PV features) and an active libvirt network;
    // the example's images are created here under test names
    const domain = {
      ...d,
      name: EX,
      accel: "tcg",
      memoryMiB: 64,
      cpu: undefined,
      paravirt: undefined,
      nics: [{ user: true }],
      runState: "paused",
      autostart: false,
      disks: d.disks.map((x, i) => ({ ...x, file: img(i === 0 ? "root.qcow2" : "seed.iso"), ...(i === 0 ? { io: undefined } : {}) })),
    };
    expect(spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", img("root.qcow2"), "32M"]).status).toBe(0);
    fs.writeFileSync(img("seed.iso"), Buffer.alloc(65536));
    const spec = specFile("example", JSON.parse(JSON.stringify(domain)) as Record<string, unknown>);
    const a = await runCliAsync("apply", spec, "--connect", URI);
    expect({ status: a.status, out: a.stdout }).toMatchObject({ status: 0, out: expect.stringMatching(/1 defined/) });
    const u = domainUuids(URI).get(EX)!;
    expect(virshOn(URI, "domstate", "--domain", u).stdout.trim()).toBe("paused");
    expect(virshOn(URI, "domblklist", "--domain", u).stdout).toMatch(/vda\s+\S*root\.qcow2[\s\S]*sda\s+\S*seed\.iso/);
    expect(virshOn(URI, "ttyconsole", "--domain", u).stdout.trim()).toMatch(/^\/dev\/pts\/\d+$/);
    expect(virshOn(URI, "vncdisplay", "--domain", u).stdout.trim()).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});
