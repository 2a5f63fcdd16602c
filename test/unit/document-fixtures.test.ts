import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { XMLParser } from "fast-xml-parser";
import { mergeDefinition } from "../../src/libvirt/merge";
import { renderDomain } from "../../src/render-spec";
import { renderXslt } from "../../src/libvirt/xslt";
import { parseSpecText } from "../../src/input/load";
import { describeWith } from "../helpers/env";
import { DEBIAN12, ROOT } from "../helpers/specs";

/**
 * The libvirt document model's fixture set (as virt-manager's tests/data/xmlparse pairs):
 * test/fixtures/domains/<case>/live.xml (a definition as libvirt keeps it), spec.yaml (one
 * domain) and want.xml (the definition apply must write). Both ways of applying a spec to a
 * live domain must give want.xml: the in-process merge (CLI apply) and the exported XSLT run
 * by xsltproc (the component's update, other providers). want.xml passes libvirt's schema.
 */
const DIR = path.join(ROOT, "test/fixtures/domains");
const CASES = fs
  .readdirSync(DIR)
  .filter((c) => fs.existsSync(path.join(DIR, c, "want.xml")) || fs.existsSync(path.join(DIR, c, "live.xml")));

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  preserveOrder: true,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  htmlEntities: true,
});

type Node = Record<string, unknown>;
/** Document order, attributes sorted, namespace declarations and indentation-only text dropped. */
function canon(nodes: Node[]): unknown[] {
  const out: unknown[] = [];
  for (const n of nodes) {
    const tag = Object.keys(n).find((k) => k !== ":@")!;
    if (tag === "#text") {
      const t = String(n[tag]);
      if (t.trim() !== "") out.push(t);
      continue;
    }
    if (tag === "?xml") continue;
    const a = Object.entries((n[":@"] as Record<string, string>) ?? {})
      .filter(([k]) => !k.startsWith("xmlns"))
      .sort(([x], [y]) => x.localeCompare(y));
    out.push({ [tag]: canon(n[tag] as Node[]), ...(a.length ? { attrs: Object.fromEntries(a) } : {}) });
  }
  return out;
}
const canonical = (xml: string) => canon(parser.parse(xml) as Node[]);

function load(c: string) {
  const read = (f: string) => fs.readFileSync(path.join(DIR, c, f), "utf8");
  const spec = parseSpecText(read("spec.yaml")).domains[0].spec;
  if (!spec) throw new Error(`${c}/spec.yaml does not validate`);
  const { resolution, rendered } = renderDomain(spec, DEBIAN12);
  return { live: read("live.xml"), want: fs.existsSync(path.join(DIR, c, "want.xml")) ? read("want.xml") : null, resolution, rendered };
}

describe("libvirt document fixtures: the in-process merge", () => {
  test.each(CASES)("%s", (c) => {
    const { live, want, rendered } = load(c);
    const merged = mergeDefinition(live, rendered.domainXml);
    if (want === null) fs.writeFileSync(path.join(DIR, c, "merged.got.xml"), merged);
    expect(want).not.toBeNull();
    expect(canonical(merged)).toEqual(canonical(want!));
    // and byte for byte: the live document's whitespace, the namespace declarations, no blank lines before the first node
    expect(merged).toBe(want);
  });
});

describeWith(["xsltproc"], "libvirt document fixtures: the exported XSLT through xsltproc", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-fixtures-"));
  test.each(CASES)("%s", (c) => {
    const { live, want, resolution } = load(c);
    const xsl = path.join(tmp, `${c}.xsl`);
    const input = path.join(tmp, `${c}.xml`);
    fs.writeFileSync(xsl, renderXslt(resolution, { sizing: true }));
    fs.writeFileSync(input, live);
    const r = spawnSync("xsltproc", ["--nonet", xsl, input], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    if (want === null) fs.writeFileSync(path.join(DIR, c, "xslt.got.xml"), r.stdout);
    expect(want).not.toBeNull();
    expect(canonical(r.stdout)).toEqual(canonical(want!));
  });
});

describeWith(["virt-xml-validate"], "libvirt document fixtures: every want.xml passes libvirt's schema", () => {
  test.each(CASES)("%s", (c) => {
    const r = spawnSync("virt-xml-validate", [path.join(DIR, c, "want.xml"), "domain"], { encoding: "utf8" });
    expect({ status: r.status, out: r.stdout + r.stderr }).toMatchObject({ status: 0 });
  });
});

describeWith(["xsltproc"], "libvirt document fixtures: the PV-only XSLT (kvm-paravirt xslt) leaves sizing and placement alone", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-fixtures-pv-"));
  const SIZING_TAGS = ["memory", "currentMemory", "vcpu", "memoryBacking", "cputune", "numatune"];
  type El = Record<string, unknown>;
  const top = (xml: string) => ((canonical(xml)[0] as El).domain as El[]).filter((n) => typeof n === "object");
  const tag = (n: El) => Object.keys(n).find((k) => k !== "attrs")!;
  // the CPU topology and the guest's NUMA cells (placement) are the live domain's too
  const LIVE_CPU_TAGS = ["topology", "numa"];
  const withoutTopology = (n: El) =>
    tag(n) === "cpu" ? { ...n, cpu: (n.cpu as El[]).filter((c) => typeof c !== "object" || !LIVE_CPU_TAGS.includes(tag(c))) } : n;
  const topology = (nodes: El[]) =>
    ((nodes.find((n) => tag(n) === "cpu")?.cpu as El[] | undefined) ?? []).filter(
      (c) => typeof c === "object" && LIVE_CPU_TAGS.includes(tag(c)),
    );

  test.each(CASES)("%s", (c) => {
    const { live, want, resolution } = load(c);
    const xsl = path.join(tmp, `${c}.xsl`);
    const input = path.join(tmp, `${c}.xml`);
    fs.writeFileSync(xsl, renderXslt(resolution));
    fs.writeFileSync(input, live);
    const r = spawnSync("xsltproc", ["--nonet", xsl, input], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    const got = top(r.stdout);
    // memory, currentMemory, vCPUs, pinning, memory policy, huge pages and the CPU topology as the live domain has them
    expect(got.filter((n) => SIZING_TAGS.includes(tag(n)))).toEqual(top(live).filter((n) => SIZING_TAGS.includes(tag(n))));
    expect(topology(got)).toEqual(topology(top(live)));
    // everything else as apply writes it
    const rest = (nodes: El[]) => nodes.filter((n) => !SIZING_TAGS.includes(tag(n))).map(withoutTopology);
    expect(rest(got)).toEqual(rest(top(want!)));
  });
});

describe("libvirt document fixtures: the stylesheets, pinned", () => {
  // the text of three of the stylesheets xsltproc runs above (whole spec, devices, QEMU arguments): a change to
  // a template that the fixtures do not exercise (a priority, an unused branch) shows up here as a diff to review
  test.each(["base", "devices-owned", "qemu-commandline-foreign"])("%s", (c) => {
    expect(renderXslt(load(c).resolution, { sizing: true })).toMatchSnapshot();
  });
});
