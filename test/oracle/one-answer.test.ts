import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCliAsync } from "../helpers/cli";
import { describeWith } from "../helpers/env";
import { PluginEngine, urnOf } from "../helpers/plugin-engine";
import { ROOT } from "../helpers/specs";
import { domainUuids, removeDomains, virshOn } from "../helpers/virsh";
import { RUN_TAG } from "../helpers/run-tag";

/**
 * One answer to "is this VM in sync?": a table of hand edits to a live domain of ours, each
 * judged by `kvm-paravirt plan` (the CLI on the real libvirtd) and by the provider over the
 * plugin protocol (Read as a refresh, then Diff against the program's checked inputs). Both
 * must give the verdict the table says, and the same per-feature detail. What counts as a
 * change is decided once, in src/live/compare.ts.
 *
 * The domains and the disk image carry this run's tag (kpv-one-<run>-…): another run at the
 * same time (another checkout on this host) never touches them.
 */
const URI = "qemu:///system";
const DOMAIN = "kvm-paravirt:index:Domain";
const IMG = `/var/lib/libvirt/images/kpv-one-${RUN_TAG}-disk.img`;
type Json = Record<string, unknown>;

const dumpxml = (uuid: string) => virshOn(URI, "dumpxml", "--inactive", "--security-info", "--domain", uuid).stdout;
function handEdit(uuid: string, fn: (xml: string) => string): void {
  const file = path.join(os.tmpdir(), `kpv-one-${process.pid}.xml`);
  const before = dumpxml(uuid);
  const after = fn(before);
  if (after === before) throw new Error("the hand edit changed nothing: the case is wrong");
  fs.writeFileSync(file, after);
  const r = virshOn(URI, "define", "--file", file);
  fs.rmSync(file);
  if (r.status !== 0) throw new Error(`virsh define: ${r.stderr}`);
}

interface Case {
  name: string;
  edit: ((xml: string) => string) | null;
  verdict: "update" | "unchanged";
}
const CASES: Case[] = [
  { name: "nothing", edit: null, verdict: "unchanged" },
  {
    // libvirt keeps it and emits nothing for it (a no-op for QEMU): still an element we own, rewritten by apply
    name: "noop-pv-ipi",
    edit: (x) =>
      x.includes("<kvm>")
        ? x.replace("<kvm>", "<kvm>\n      <pv-ipi state='on'/>")
        : x.replace("<features>", "<features>\n    <kvm>\n      <pv-ipi state='on'/>\n    </kvm>"),
    verdict: "update",
  },
  {
    name: "foreign-description",
    edit: (x) => x.replace("</uuid>", "</uuid>\n  <description>a note by hand</description>"),
    verdict: "unchanged",
  },
  {
    name: "foreign-metadata",
    edit: (x) => x.replace("<metadata>", "<metadata>\n    <app:owner xmlns:app='https://example.org/app'>ops</app:owner>"),
    verdict: "unchanged",
  },
  { name: "metadata-removed", edit: (x) => x.replace(/<metadata>[\s\S]*<\/metadata>\s*/, ""), verdict: "update" },
  {
    name: "vcpus-edited",
    edit: (x) => x.replace(/<vcpu placement='static'>2<\/vcpu>/, "<vcpu placement='static'>3</vcpu>"),
    verdict: "update",
  },
  {
    name: "memory-edited",
    edit: (x) => x.replace(/<memory unit='KiB'>\d+<\/memory>/, "<memory unit='KiB'>131072</memory>"),
    verdict: "update",
  },
  { name: "declared-disk-removed", edit: (x) => x.replace(/\s*<disk type='file' device='disk'>[\s\S]*?<\/disk>/, ""), verdict: "update" },
  {
    // PV EOI off by hand (on by default): under KVM the per-feature detail names kvm-pv-eoi
    name: "pv-eoi-off-by-hand",
    edit: (x) =>
      /<apic\/>/.test(x) ? x.replace("<apic/>", "<apic eoi='off'/>") : x.replace("<features>", "<features>\n    <apic eoi='off'/>"),
    verdict: "update",
  },
];

const nameOf = (c: Case) => `kpv-one-${RUN_TAG}-${c.name}`;
const NAMES = CASES.map(nameOf);
/** Under KVM where this machine has it (the per-feature detail then means something), else TCG, which has no PV features. */
const KVM = (() => {
  try {
    fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
})();

describeWith(["libvirt"], "one answer: plan and the provider's Read and Diff agree on every hand edit", () => {
  const engine = new PluginEngine();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-one-"));
  // this run's names are new: nothing to remove first
  beforeAll(async () => {
    fs.mkdirSync(path.dirname(IMG), { recursive: true });
    fs.writeFileSync(IMG, Buffer.alloc(1 << 20));
    await engine.start(ROOT);
  }, 240_000);
  afterAll(() => {
    engine.stop();
    removeDomains(URI, ...NAMES);
    fs.rmSync(IMG, { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each(CASES.map((c) => [c.name, c] as const))(
    "%s",
    async (_n, c) => {
      const name = nameOf(c);
      const domain: Json = {
        name,
        accel: KVM ? "kvm" : "tcg",
        vcpus: 2,
        memoryMiB: 64,
        disks: [{ target: "vda", file: IMG, format: "raw" }],
      };
      const urn = urnOf(DOMAIN, c.name);
      const { inputs, failures } = await engine.check(urn, {}, { ...domain, connection: URI });
      expect(failures).toEqual([]);
      const created = await engine.create(urn, inputs);
      try {
        expect(domainUuids(URI).get(name)).toBe(created.id);
        if (c.edit) handEdit(created.id, c.edit);
        // the CLI
        const spec = path.join(dir, `${c.name}.json`);
        fs.writeFileSync(spec, JSON.stringify({ domains: [domain] }));
        const plan = await runCliAsync("plan", spec, "--connect", URI, "--json");
        const planned = (JSON.parse(plan.stdout) as { hosts: { domains: Json[] }[] }).hosts[0].domains.find((d) => d.domain === name)!;
        const planFeatures = (
          planned.featureChanges as { feature: string; current: { enabled: boolean } | null; desired: { enabled: boolean } | null }[]
        )
          .filter((f) => f.current?.enabled !== f.desired?.enabled)
          .map((f) => f.feature)
          .sort();
        // the provider: refresh, then the program's inputs checked and diffed against the refreshed state
        const refreshed = await engine.read(created.id, urn, created.properties);
        const checked = await engine.check(urn, refreshed.inputs, { ...domain, connection: URI });
        const diff = await engine.diff(created.id, urn, refreshed.properties, checked.inputs);
        const was = refreshed.properties.effectiveFeatures as Record<string, boolean>;
        const will = checked.inputs.effectiveFeatures as Record<string, boolean>;
        const providerFeatures = Object.keys(will)
          .filter((k) => was[k] !== will[k])
          .sort();
        expect({
          plan: planned.action,
          provider: diff.changes === "some" ? "update" : "unchanged",
          liveChanges: (refreshed.properties.liveChanges as string[]).length > 0,
          features: planFeatures,
        }).toEqual({ plan: c.verdict, provider: c.verdict, liveChanges: c.verdict === "update", features: providerFeatures });
        // and after the update the two agree that it is in sync
        if (c.verdict === "update") {
          await engine.update(created.id, urn, refreshed.properties, checked.inputs);
          const again = await runCliAsync("plan", spec, "--connect", URI, "--json");
          const after = (JSON.parse(again.stdout) as { hosts: { domains: Json[] }[] }).hosts[0].domains.find((d) => d.domain === name)!;
          const reread = await engine.read(created.id, urn, created.properties);
          expect({ plan: after.action, liveChanges: reread.properties.liveChanges }).toEqual({ plan: "unchanged", liveChanges: [] });
        }
      } finally {
        await engine.delete(created.id, urn, created.properties);
      }
    },
    240_000,
  );
});
