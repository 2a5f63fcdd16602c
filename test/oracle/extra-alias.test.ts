import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { aliasDropped, ALIAS_DROPPED, parseExtraDevice } from "../../src/libvirt/devices";
import { buildDocument } from "../../src/libvirt/document";
import { runCliAsync } from "../helpers/cli";
import { describeWith } from "../helpers/env";
import { domainUuids, removeDomains, virshOn } from "../helpers/virsh";
import { RUN_TAG } from "../helpers/run-tag";

/**
 * Which extra devices keep the user alias the tool names them by, on the real libvirtd: every
 * row of ALIAS_DROPPED (the table extra-device-alias-dropped refuses by) is defined with the
 * alias the tool would give it, and libvirt keeps the device but not the alias, in the
 * inactive definition and in the live one of the domain started paused; their neighbours (the
 * same elements of another model or target, which the rule lets through) keep it. Then the
 * bug the table stops: `<memballoon model='none'>` in extraDevices is refused by validate and
 * apply with nothing defined, and the way around the rule names (a balloon set outside
 * kvm-paravirt) survives plan and apply.
 *
 * Each domain is defined by itself (a define error of one hides no other), named with this
 * run's tag (kpv-alias-<run>-…), and removed by exact name afterwards. TCG domains.
 */
const URI = "qemu:///system";
const virsh = (...args: string[]) => virshOn(URI, ...args);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-alias-"));
const defined: string[] = [];

/** The device as the tool writes it: the element with <alias name='ua-kpv-extra-I'/>. */
function toolNode(sample: string, i: number) {
  const x = parseExtraDevice(sample, i);
  if (!("node" in x)) throw new Error(`${sample}: ${x.problem}`);
  return x.node;
}
const withAlias = (sample: string, i: number) => buildDocument([toolNode(sample, i)]);

/** Defines a small domain around the devices; its name. */
function define(n: string, devices: string): string {
  const name = `kpv-alias-${RUN_TAG}-${n}`;
  const f = path.join(dir, `${n}.xml`);
  fs.writeFileSync(
    f,
    `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>` +
      `<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>${devices}</devices></domain>`,
  );
  defined.push(name);
  const r = virsh("define", "--file", f);
  if (r.status !== 0) throw new Error(`define ${name}: ${r.stderr}`);
  return name;
}

/** The alias names in the inactive and the live definition (started paused, then destroyed). */
function aliases(name: string): { inactive: string; live: string } {
  const u = domainUuids(URI).get(name)!;
  const inactive = virsh("dumpxml", "--inactive", "--domain", u).stdout;
  const start = virsh("start", "--paused", "--domain", u);
  if (start.status !== 0) throw new Error(`start ${name}: ${start.stderr}`);
  const live = virsh("dumpxml", "--domain", u).stdout;
  virsh("destroy", "--domain", u);
  return { inactive, live };
}

/** Devices the rule lets through, next to the rows: libvirt keeps their alias. */
const KEPT: [what: string, sample: string, before?: string][] = [
  ["a virtio balloon", "<memballoon model='virtio'/>"],
  ["video of model none", "<video><model type='none'/></video>"],
  ["a usb controller of a model", "<controller type='usb' index='0' model='qemu-xhci'/>"],
  [
    "a console on a virtio target, after a serial",
    "<console type='pty'><target type='virtio' port='0'/></console>",
    "<serial type='pty'/>",
  ],
  ["a serial", "<serial type='pty'><target port='0'/></serial>"],
  ["an input", "<input type='tablet' bus='usb'/>"],
];

describeWith(["qemu", "libvirt"], "extra devices whose alias libvirt drops (ALIAS_DROPPED) on the real libvirtd", () => {
  afterAll(() => {
    removeDomains(URI, ...defined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each(ALIAS_DROPPED.map((r, i) => [r.what, r, i] as const))(
    "%s: defined, but without the alias, inactive and live",
    (_what, row, i) => {
      const alias = `ua-kpv-extra-${i}`;
      const device = withAlias(row.sample, i);
      expect(device).toContain(`<alias name="${alias}"/>`);
      expect(aliasDropped(toolNode(row.sample, i))).toBe(row);
      const name = define(`d${i}`, `${row.before ?? ""}${device}`);
      const { inactive, live } = aliases(name);
      // the device is there; its alias is not
      expect(inactive).toMatch(new RegExp(`<${row.element}[ >/]`));
      expect(live).toMatch(new RegExp(`<${row.element}[ >/]`));
      expect(inactive).not.toContain(alias);
      expect(live).not.toContain(alias);
    },
  );

  test.each(KEPT.map(([what, sample, before], i) => [what, sample, before, i] as const))(
    "%s: not in the table, and libvirt keeps its alias, inactive and live",
    (_what, sample, before, i) => {
      const alias = `ua-kpv-extra-${i}`;
      expect(aliasDropped(toolNode(sample, i))).toBeUndefined();
      const name = define(`k${i}`, `${before ?? ""}${withAlias(sample, i)}`);
      const { inactive, live } = aliases(name);
      expect(inactive).toContain(`<alias name='${alias}'/>`);
      expect(live).toContain(`<alias name='${alias}'/>`);
    },
  );

  describe("the bug: <memballoon model='none'> in extraDevices", () => {
    const NAME = `kpv-alias-${RUN_TAG}-balloon`;
    let specs = 0;
    const spec = (domain: Record<string, unknown>) => {
      const f = path.join(dir, `spec-${specs++}.yaml`);
      fs.writeFileSync(f, YAML.stringify({ domains: [{ name: NAME, accel: "tcg", memoryMiB: 64, ...domain }] }));
      return f;
    };
    beforeAll(() => defined.push(NAME));

    test("validate and apply refuse it with extra-device-alias-dropped; nothing is defined", async () => {
      const f = spec({ extraDevices: ["<memballoon model='none'/>"] });
      const v = await runCliAsync("validate", f);
      expect({ status: v.status, out: v.stdout }).toMatchObject({
        status: 1,
        out: expect.stringMatching(/error\s+extra-device-alias-dropped\s+domains\[0\]\.extraDevices\[0\]/),
      });
      const a = await runCliAsync("apply", f, "--connect", URI);
      expect(a.status).toBe(1);
      expect(a.stdout).toMatch(/\[extra-device-alias-dropped\] <memballoon model='none'>/);
      expect(domainUuids(URI).has(NAME)).toBe(false);
    });

    test("set outside kvm-paravirt instead (virsh define), it stays through plan and an update", async () => {
      const a = await runCliAsync("apply", spec({}), "--connect", URI);
      expect(a.status).toBe(0);
      const u = domainUuids(URI).get(NAME)!;
      const xml = virsh("dumpxml", "--inactive", "--domain", u).stdout.replace(
        /<memballoon model='virtio'>[\s\S]*?<\/memballoon>/,
        "<memballoon model='none'/>",
      );
      expect(xml).toContain("<memballoon model='none'/>");
      const f = path.join(dir, "balloon.xml");
      fs.writeFileSync(f, xml);
      expect(virsh("define", "--file", f).status).toBe(0);

      const same = await runCliAsync("plan", spec({}), "--connect", URI, "--detailed-exitcode");
      expect({ status: same.status, out: same.stdout }).toMatchObject({ status: 0, out: expect.stringMatching(/1 unchanged/) });
      // an update (more memory) keeps the balloon the spec does not declare
      const up = await runCliAsync("apply", spec({ memoryMiB: 96 }), "--connect", URI);
      expect(up.status).toBe(0);
      const after = virsh("dumpxml", "--inactive", "--domain", u).stdout;
      expect(after).toMatch(/<memory unit='KiB'>98304<\/memory>/);
      expect(after).toContain("<memballoon model='none'/>");
      const again = await runCliAsync("plan", spec({ memoryMiB: 96 }), "--connect", URI, "--detailed-exitcode");
      expect(again.status).toBe(0);
    });
  });
});
