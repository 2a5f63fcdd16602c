import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { runs } from "../helpers/runs";
import { XMLBuilder } from "fast-xml-parser";
import {
  DOCUMENT_OPTIONS,
  attrOf,
  buildDocument,
  buildIndented,
  decodeXml,
  domainElement,
  el,
  escapeXml,
  isElement,
  newElement,
  notWellFormed,
  parseDocument,
  textOf,
  withoutIndentation,
} from "../../src/libvirt/document";
import { kids } from "../../src/util/ordered-xml";
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

describe("the document form's edges", () => {
  const build = (xml: string) => buildDocument(parseDocument(xml));

  test.each([
    [
      "an XML declaration and a processing instruction",
      `<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet href="a.xsl"?><domain><name>x</name></domain>`,
    ],
    ["CDATA holding ]]>", "<a><![CDATA[x]]]]><![CDATA[>y]]></a>"],
    ["CDATA after an element", "<a><b/><![CDATA[t]]></a>"],
    ["mixed content ending in text", "<a>x<b>y</b>z</a>"],
    ["text holding markup-like characters", "<a>a &gt; b &amp;&amp; c</a>"],
    ["a comment next to elements", "<a><!-- note --><b/></a>"],
  ])("%s: as fast-xml-parser's builder writes it, flat and indented", (_what, xml) => {
    const doc = parseDocument(xml);
    expect(buildDocument(doc)).toBe(flat.build(doc));
    const bare = withoutIndentation(doc);
    expect(buildIndented(bare)).toBe((indented.build(bare) as string).trim());
  });

  test.each([
    ["empty text after an element", [{ a: [{ b: [] }, { "#text": "" }] }]],
    ["empty text after CDATA", [{ a: [{ "#cdata": [{ "#text": "x" }] }, { "#text": "" }] }]],
    ["empty text after text", [{ a: [{ "#text": "x" }, { "#text": "" }] }]],
    ["empty text after a comment", [{ a: [{ "#comment": [{ "#text": "c" }] }, { "#text": "" }] }]],
    ["empty text first, then an element", [{ a: [{ "#text": "" }, { b: [] }] }]],
  ])("%s (as a program may build it): as fast-xml-parser's builder writes it, flat and indented", (_what, doc) => {
    expect(buildDocument(doc)).toBe(flat.build(doc));
    expect(buildIndented(doc)).toBe((indented.build(doc) as string).trim());
  });

  test("a comment holding -- or ending in - is written well-formed (the builder would not), its text kept but for a space", () => {
    const doc = [{ a: [{ "#comment": [{ "#text": "a--b---c-" }] }] }];
    const xml = buildDocument(doc);
    expect(xml).toBe("<a><!--a- -b- - -c- --></a>");
    expect(notWellFormed(xml)).toBeNull();
    expect(buildIndented(doc)).toBe("<a>\n  <!--a- -b- - -c- -->\n</a>");
  });

  test("attribute values holding both quotes (as a parsed document holds them) are written well-formed and read back the same", () => {
    const xml = build(`<a x='say "hi"' y="it's" z='both "&apos;'/>`);
    expect(xml).toBe('<a x="say &quot;hi&quot;" y="it&apos;s" z="both &quot;&apos;"/>');
    const a = parseDocument(xml)[0];
    expect([attrOf(a, "x"), attrOf(a, "y"), attrOf(a, "z"), attrOf(a, "none")]).toEqual(['say "hi"', "it's", `both "'`, undefined]);
  });

  test("decodeXml: the five entities and character references, in decimal and hex; anything else left as written", () => {
    expect(decodeXml("&amp;&lt;&gt;&apos;&quot;")).toBe(`&<>'"`);
    expect(decodeXml("&#65;&#x42;&#x1F600;&#10;")).toBe("AB\u{1F600}\n");
    expect(decodeXml("&nbsp; &X41; &#X41; &#; & x")).toBe("&nbsp; &X41; &#X41; &#; & x");
    expect(decodeXml("&amp;lt;")).toBe("&lt;");
    expect(decodeXml("plain")).toBe("plain");
  });

  test("textOf: text and CDATA, decoded and trimmed; undefined without any", () => {
    const [a] = parseDocument("<a>\n  x &amp; <![CDATA[<y>]]> z <b>no</b>\n</a>");
    expect(textOf(a)).toBe("x & <y> z");
    expect(textOf(parseDocument("<a><b/></a>")[0])).toBeUndefined();
    expect(textOf(parseDocument("<a><![CDATA[]]></a>")[0])).toBe("");
    expect(textOf(undefined)).toBeUndefined();
  });

  test("isElement: elements only (not text, comments, CDATA or processing instructions)", () => {
    const doc = parseDocument(`<?xml version="1.0"?><a>t<!--c--><![CDATA[d]]><b/><?pi x?></a>`);
    expect(doc.map(isElement)).toEqual([false, true]);
    expect(kids(doc[1]).map(isElement)).toEqual([false, false, false, true, false]);
  });

  test("withoutIndentation drops whitespace-only text at every level and keeps comments, CDATA and other text", () => {
    const doc = parseDocument("<a>\n  <b>\n    <c> x </c>\n  </b>\n  <!-- k -->\n  <![CDATA[ ]]>\n</a>");
    expect(buildDocument(withoutIndentation(doc))).toBe("<a><b><c> x </c></b><!-- k --><![CDATA[ ]]></a>");
  });

  test("domainElement: the <domain> after a declaration or comment; a clear error when there is none", () => {
    expect(Object.keys(domainElement(parseDocument(`<?xml version="1.0"?><!-- c --><domain type="kvm"/>`)))).toContain("domain");
    expect(() => domainElement(parseDocument("<network/>"))).toThrow("not a libvirt domain definition (no <domain> element)");
  });
});

/** xmllint's verdict on a text (libxml2, what libvirt parses with): true when well-formed. */
function xmllintAccepts(xml: string): boolean {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-wf-"));
  try {
    fs.writeFileSync(path.join(dir, "x.xml"), xml);
    return spawnSync("xmllint", ["--noout", path.join(dir, "x.xml")]).status === 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const haveXmllint = spawnSync("xmllint", ["--version"]).error === undefined;

describe("notWellFormed refuses what libxml2 refuses (entities, characters XML cannot hold)", () => {
  const CASES: [string, boolean][] = [
    ["<rng model='virtio'>&xxe;</rng>", false],
    ["<rng model='virtio'>&#0;</rng>", false],
    ["<rng model='virtio'>&#xFFFE;</rng>", false],
    ["<rng model='virtio'>\uFFFE</rng>", false],
    ["<rng model='&#xFFFF;'/>", false],
    ["<rng>\u0001</rng>", false],
    ["<rng>&#xD800;</rng>", false],
    ["<rng>a & b</rng>", false],
    ["<rng>&#x110000;</rng>", false],
    ["<!DOCTYPE rng [<!ENTITY x 'y'>]><rng>&x;</rng>", false], // xmllint takes it; libvirt's device never needs one: refused
    ["<rng><![CDATA[&xxe; \u0009]]></rng>", true],
    ["<rng><!-- &xxe; <!DOCTYPE --></rng>", true],
    ["<rng a='&#x9;'>&amp;&lt;&gt;&apos;&quot;&#65;&#x10FFFF;&#x0000000041;</rng>", true],
    ["<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>", true],
  ];

  test.each(CASES)("%j: well-formed %s", (xml, ok) => {
    expect(notWellFormed(xml) === null).toBe(ok);
  });

  (haveXmllint ? test : test.skip)("each case as xmllint judges it (but the DOCTYPE, refused on purpose)", () => {
    for (const [xml, ok] of CASES) if (!xml.startsWith("<!DOCTYPE")) expect([xml, xmllintAccepts(xml)]).toEqual([xml, ok]);
  });

  (haveXmllint ? test : test.skip)("generated device text: the same verdict as xmllint", () => {
    const piece = fc.constantFrom(
      "a",
      " ",
      "&amp;",
      "&xxe;",
      "&#0;",
      "&#65;",
      "&#xFFFE;",
      "\uFFFE",
      "\uFFFF",
      "&",
      "\u0001",
      "\t",
      "&#x10FFFF;",
      "&#xD800;",
      "&#x1F600;",
      "\u00e9",
      "<![CDATA[&x;]]>",
      "<!-- & -->",
      "&lt;",
    );
    const attrPiece = fc.constantFrom("a", "&amp;", "&xxe;", "&#0;", "&#x41;", "\uFFFE", "&", "\u0001", "&quot;", "\u00e9");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 5 }), fc.array(attrPiece, { maxLength: 3 }), (text, attr) => {
        const xml = `<rng model='${attr.join("")}'>${text.join("")}</rng>`;
        expect(notWellFormed(xml) === null).toBe(xmllintAccepts(xml));
      }),
      { numRuns: runs(150) },
    );
  });

  test("a lone surrogate (a file would hold U+FFFD instead) is refused", () => {
    expect(notWellFormed("<rng>\uD800</rng>")).toMatch(/U\+D800 is not allowed/);
  });

  test("the reason names what and where", () => {
    expect(notWellFormed("<rng>\n&xxe;</rng>")).toBe(
      "an undefined entity (line 2): only &amp; &lt; &gt; &apos; &quot; and character references",
    );
    expect(notWellFormed("<rng>&#0;</rng>")).toBe("a character reference to U+0000, which XML cannot hold (line 1)");
  });
});

describe("notWellFormed at XML's character boundaries, and where it says the problem is", () => {
  const ch = (cp: number) => String.fromCodePoint(cp);
  test.each([
    [0x9, true],
    [0xa, true],
    [0xd, true],
    [0x8, false],
    [0xb, false],
    [0x1f, false],
    [0x20, true],
    [0xd7ff, true],
    [0xe000, true],
    [0xfffd, true],
    [0xfffe, false],
    [0xffff, false],
    [0x10000, true],
    [0x10ffff, true],
  ])("U+%s literally and as a character reference: allowed %s", (cp, ok) => {
    expect(notWellFormed(`<rng>a${ch(cp)}b</rng>`) === null).toBe(ok);
    expect(notWellFormed(`<rng>&#x${cp.toString(16)};</rng>`) === null).toBe(ok);
    expect(notWellFormed(`<rng>&#${cp};</rng>`) === null).toBe(ok);
  });

  test("the line of a literal character, and of a reference after CDATA and comments spanning lines", () => {
    expect(notWellFormed("<rng>\n\n\u0001</rng>")).toBe("character U+0001 is not allowed in XML (line 3)");
    expect(notWellFormed("<rng><![CDATA[\n&x;\n]]><!--\n--> &bad;</rng>")).toBe(
      "an undefined entity (line 4): only &amp; &lt; &gt; &apos; &quot; and character references",
    );
    expect(notWellFormed("<rng>&amp; &#65;\n&#xFFFE;</rng>")).toBe("a character reference to U+FFFE, which XML cannot hold (line 2)");
  });

  test("a bare &, a DOCTYPE even without entities, the second of two references", () => {
    expect(notWellFormed("<rng>a & b</rng>")).toBe("a bare & (line 1): only &amp; &lt; &gt; &apos; &quot; and character references");
    expect(notWellFormed("<!DOCTYPE rng><rng/>")).toBe("a DOCTYPE is not allowed (no entities beyond the five XML predefines)");
    expect(notWellFormed("<rng><!-- <!DOCTYPE x> --></rng>")).toBeNull();
    expect(notWellFormed("<rng>&amp;&bad;</rng>")).toMatch(/^an undefined entity/);
  });
});
