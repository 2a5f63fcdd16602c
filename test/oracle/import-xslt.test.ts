import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { readVcpuProperties } from "../../src/system/qmp";
import { monitorExec } from "../helpers/libvirt";
import { renderDomain } from "../../src/render-spec";
import { validateSpecObject, mergeDefaults } from "../../src/input/load";
import { runCli } from "../helpers/cli";
import { removeTestImages, withTestImages } from "../helpers/host-ready";
import { describeWith } from "../helpers/env";
import { virshOn } from "../helpers/virsh";
import { predicted, withHostQuirk } from "../helpers/oracle";
import { DEBIAN12, exampleSpecs, ROOT } from "../helpers/specs";

/**
 * import: live domains back to a spec (round trip over every example), and the
 * XSLT bridge: the stylesheet applied by xsltproc to XML libvirt itself wrote
 * must realize the predicted features.
 */
const URI = "qemu:///system";
/** this run's own names: another run of the suite at the same time (another checkout, a developer's) never touches them */
const RUN = randomUUID().slice(0, 8);
const XSLT_TARGET = `kpv-xslt-${RUN}`;
const IMAGE_PREFIX = `kpv-xslt-img-${RUN}`;
const PROFILE = path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-imp-"));
const kpv = runCli;
const virsh = (...args: string[]) => virshOn(URI, ...args);
const drop = (n: string) => {
  virsh("destroy", "--domain", n);
  virsh("undefine", "--domain", n);
};

const exampleDomains = exampleSpecs().flatMap((file) => {
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) as { defaults?: Record<string, unknown>; domains: Record<string, unknown>[] };
  return doc.domains.map((d) => {
    const merged = mergeDefaults(doc.defaults ?? {}, d);
    return [`${path.basename(file)}: ${String(merged.name)}`, { ...merged, name: `kpv-imp-${RUN}-${String(merged.name)}` }] as const;
  });
});

function defineFrom(domain: Record<string, unknown>): void {
  const d = validateSpecObject({ domains: [domain] }).domains[0];
  if (!d.spec) throw new Error(JSON.stringify(d.diagnostics));
  const f = path.join(dir, `${String(domain.name)}.xml`);
  fs.writeFileSync(f, renderDomain(d.spec, DEBIAN12).rendered.domainXml);
  drop(String(domain.name));
  const r = virsh("define", "--file", f);
  if (r.status !== 0) throw new Error(r.stderr);
}
const importOne = (name: string) => {
  const r = kpv("import", name, "--connect", URI, "--host", PROFILE);
  if (r.status !== 0) throw new Error(r.stderr);
  return (YAML.parse(r.stdout) as { domains: Record<string, unknown>[] }).domains[0];
};
const effective = (domain: Record<string, unknown>) => {
  const d = validateSpecObject({ domains: [domain] }).domains[0];
  return predicted(renderDomain(d.spec!, DEBIAN12).resolution);
};

describeWith(["kvm", "libvirt", "xsltproc"], "import and the XSLT bridge against the real libvirtd", () => {
  afterAll(() => {
    for (const [, d] of exampleDomains) drop(String(d.name));
    drop(XSLT_TARGET);
    removeTestImages(IMAGE_PREFIX);
  });

  test.each(exampleDomains)("import round trip: %s", (_n, domain) => {
    defineFrom(domain);
    const s1 = importOne(String(domain.name));
    expect(effective(s1)).toEqual(effective(domain)); // the imported spec means the same
    defineFrom(s1);
    const s2 = importOne(String(domain.name));
    expect(s2).toEqual(s1);
    drop(String(domain.name));
  });

  test("import writes explicit values only where they differ from the defaults", () => {
    const minimal = `kpv-imp-${RUN}-minimal`;
    defineFrom({ name: minimal, paravirt: { kvmclock: true, pvEoi: true, pvIpi: false, pvUnhalt: true } });
    expect(importOne(minimal)).toEqual({ name: minimal, paravirt: { pvUnhalt: true } });
    drop(minimal);
  });

  test.each(exampleDomains)("xslt: libvirt-written XML transformed by xsltproc realizes the prediction: %s", async (_n, domain) => {
    const target = XSLT_TARGET;
    drop(target);
    // a plain domain as libvirt writes it (what terraform-provider-libvirt would define)
    const plain = path.join(dir, "plain.xml");
    fs.writeFileSync(
      plain,
      `<domain type='kvm'><name>${target}</name><memory unit='MiB'>128</memory><vcpu>2</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/><apic/></features><devices><memballoon model='none'/></devices></domain>`,
    );
    expect(virsh("define", "--file", plain).status).toBe(0);
    const written = path.join(dir, "written.xml");
    fs.writeFileSync(written, virsh("dumpxml", "--inactive", "--domain", target).stdout);
    drop(target);
    // the stylesheet for the example domain (host quirk applied, see oracle-configs.ts)
    const specFile = path.join(dir, "one.yaml");
    // the disk files it names are the suite's own images (its NIC's network is started by the global setup)
    fs.writeFileSync(specFile, YAML.stringify({ domains: [withTestImages(withHostQuirk({ ...domain, name: target }), IMAGE_PREFIX)] }));
    const xsl = kpv("xslt", specFile, "--domain", target, "--host", PROFILE);
    expect(xsl.status).toBe(0);
    const xslFile = path.join(dir, "pv.xsl");
    fs.writeFileSync(xslFile, xsl.stdout);
    const out = spawnSync("xsltproc", [xslFile, written], { encoding: "utf8" });
    expect(out.stderr).toBe("");
    const transformed = path.join(dir, "transformed.xml");
    fs.writeFileSync(transformed, out.stdout);
    expect(virsh("define", "--file", transformed).status).toBe(0);
    expect(virsh("start", "--paused", "--domain", target).status).toBe(0);
    try {
      const want = effective(withHostQuirk({ ...domain, name: target }));
      expect(await readVcpuProperties(monitorExec(URI, target), Object.keys(want))).toEqual(want);
    } finally {
      drop(target);
    }
  });
});
