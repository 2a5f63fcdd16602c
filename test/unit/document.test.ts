import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { runs } from "../helpers/runs";
import { XMLBuilder } from "fast-xml-parser";
import {
  DOCUMENT_OPTIONS,
  buildDocument,
  buildIndented,
  el,
  escapeXml,
  newElement,
  parseDocument,
  withoutIndentation,
} from "../../src/libvirt/document";
import { renderDomain } from "../../src/render-spec";
import { validateSpecObject } from "../../src/input/load";
import { DEBIAN12, ROOT } from "../helpers/specs";

/**
 * The document form's own serializer against fast-xml-parser's builder (the real one, with
 * the options the document form used before): the same text for every fixture, for every
 * rendered domain, and for generated documents; and a built document builds back to itself.
 */
const OPTIONS = { ...DOCUMENT_OPTIONS, suppressEmptyNode: true } as const;
const flat = new XMLBuilder({ ...OPTIONS, format: false });
const indented = new XMLBuilder({ ...OPTIONS, format: true, indentBy: "  " });

const DIR = path.join(ROOT, "test/fixtures/domains");
const fixtureFiles = fs
  .readdirSync(DIR)
  .flatMap((c) => ["live.xml", "want.xml"].map((f) => path.join(DIR, c, f)))
  .filter((f) => fs.existsSync(f));

describe("the document serializer", () => {
  test.each(fixtureFiles.map((f) => [path.relative(DIR, f), f]))("%s: as fast-xml-parser's builder writes it, and stable", (_n, f) => {
    const xml = fs.readFileSync(f, "utf8");
    const doc = parseDocument(xml);
    expect(buildDocument(doc)).toBe(flat.build(doc));
    // attributes come out double-quoted; after that a document builds back to itself
    expect(buildDocument(parseDocument(buildDocument(doc)))).toBe(buildDocument(doc));
    const bare = withoutIndentation(doc);
    expect(buildIndented(bare)).toBe((indented.build(bare) as string).trim());
  });

  test("generated documents: flat and indented, the same text as fast-xml-parser's builder", () => {
    const name = fc.constantFrom("a", "b", "kvm", "qemu:arg", "x-y");
    const value = fc.string({ maxLength: 8 }).map(escapeXml);
    const leaf = fc.oneof(
      value.map((t) => ({ "#text": t })),
      // text as a parsed document may hold it: empty, or ending in a raw ">" (legal in text)
      fc.constantFrom("", " ", "a>", "x/>", "</", "\n  ").map((t) => ({ "#text": t })),
      value.map((t) => ({ "#comment": [{ "#text": t.replace(/--/g, "") }] })),
      value.map((t) => ({ "#cdata": [{ "#text": t }] })),
    );
    const { node } = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        leaf,
        fc
          .tuple(
            name,
            fc.dictionary(fc.constantFrom("@_x", "@_state", "@_on"), value, { maxKeys: 2 }),
            fc.array(tie("node"), { maxLength: 4 }),
          )
          .map(([n, a, kids]) => (Object.keys(a).length ? { [n]: kids, ":@": a } : { [n]: kids })),
      ),
    }));
    fc.assert(
      fc.property(fc.array(node, { maxLength: 4 }), (nodes) => {
        const doc = nodes as Record<string, unknown>[];
        expect(buildDocument(doc)).toBe(flat.build(doc));
        expect(buildIndented(doc)).toBe((indented.build(doc) as string).trim());
      }),
      { numRuns: runs(1000) },
    );
  });

  test("a rendered domain: what fast-xml-parser's builder writes for its nodes", () => {
    const spec = validateSpecObject({ domains: [{ name: "d-1.x_y", irqchip: "split", paravirt: { pvIpi: true, pvTlbFlush: true } }] });
    const xml = renderDomain(spec.domains[0].spec!, DEBIAN12).rendered.domainXml;
    const bare = withoutIndentation(parseDocument(xml));
    expect(xml).toBe(`${(indented.build(bare) as string).trim()}\n`);
    expect(xml).toContain("<name>d-1.x_y</name>");
  });

  test("new elements have the parser's shape: no attributes, no `:@` key; values escaped, undefined ones left out", () => {
    // the shape parseDocument gives, so that a built and a parsed node compare equal key for key
    expect(Object.keys(el("a"))).toEqual(["a"]);
    expect(Object.keys(newElement("a", { x: undefined }))).toEqual(["a"]);
    expect(newElement("a", { x: "1<2", y: undefined }, [{ "#text": "t" }])).toStrictEqual({
      a: [{ "#text": "t" }],
      ":@": { "@_x": "1&lt;2" },
    });
    expect(el("a", { x: "&amp;" })).toStrictEqual({ a: [], ":@": { "@_x": "&amp;" } });
    expect(parseDocument("<a/>")).toStrictEqual([{ a: [] }]);
  });

  test("escapeXml writes the five XML characters as entities, & first", () => {
    expect(escapeXml(`a&b<c>d'e"f`)).toBe("a&amp;b&lt;c&gt;d&apos;e&quot;f");
    expect(escapeXml("&amp;")).toBe("&amp;amp;");
    expect(escapeXml("plain")).toBe("plain");
  });
});
