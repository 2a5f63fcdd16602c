import { XMLParser, XMLValidator } from "fast-xml-parser";
import { attrs, kids, tagOf, type XNode } from "../util/ordered-xml";

/**
 * The one document form for editing libvirt XML: fast-xml-parser in document order,
 * with text, whitespace, entities, comments and CDATA kept exactly as written (nothing is
 * decoded or trimmed), so a document parsed and built again is the same document and
 * what an edit does not touch survives byte for byte.
 */
export const DOCUMENT_OPTIONS = {
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  preserveOrder: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  commentPropName: "#comment",
  cdataPropName: "#cdata",
} as const;

const parser = new XMLParser(DOCUMENT_OPTIONS);

export function parseDocument(xml: string): XNode[] {
  return parser.parse(xml) as XNode[];
}

/** XML 1.0's Char production: what a document may hold, literally or as a character reference. */
const isXmlChar = (cp: number): boolean =>
  cp === 0x9 ||
  cp === 0xa ||
  cp === 0xd ||
  (cp >= 0x20 && cp <= 0xd7ff) ||
  (cp >= 0xe000 && cp <= 0xfffd) ||
  (cp >= 0x10000 && cp <= 0x10ffff);
const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
/** Comments, CDATA sections and processing instructions: their `&` is literal text. */
const LITERAL_SECTIONS = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>/g;
const REFERENCE = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|apos|quot));/y;
const ENTITY_REF = /&[A-Za-z_:][\w.:-]*;/y;

/**
 * Why the text is not well-formed XML that libvirt can hold, or null. The parser's own
 * validator is lenient, so first what it lets through and xmllint refuses: characters XML
 * cannot hold (literal or as a character reference) and entity references other than the
 * five XML predefines; a DOCTYPE (whose entities would be the only way to declare more) is refused too.
 */
export function notWellFormed(xml: string): string | null {
  let line = 1;
  for (const ch of xml) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0xa) line++;
    else if (!isXmlChar(cp)) return `character ${hex(cp)} is not allowed in XML (line ${line})`;
  }
  // what is markup, not text: comments, CDATA and processing instructions blanked (their newlines kept)
  const text = xml.replace(LITERAL_SECTIONS, (m) => m.replace(/[^\n]/g, " "));
  if (/<!DOCTYPE/i.test(text)) return "a DOCTYPE is not allowed (no entities beyond the five XML predefines)";
  for (let i = text.indexOf("&"); i !== -1; i = text.indexOf("&", i + 1)) {
    const at = () => `(line ${text.slice(0, i).split("\n").length})`;
    REFERENCE.lastIndex = i;
    const ref = REFERENCE.exec(text);
    if (!ref) {
      ENTITY_REF.lastIndex = i;
      return `${ENTITY_REF.test(text) ? "an undefined entity" : "a bare &"} ${at()}: only &amp; &lt; &gt; &apos; &quot; and character references`;
    }
    const code = ref[1] !== undefined ? parseInt(ref[1], 16) : ref[2] !== undefined ? parseInt(ref[2], 10) : undefined;
    if (code !== undefined && !isXmlChar(code)) return `a character reference to ${hex(code)}, which XML cannot hold ${at()}`;
  }
  const r = XMLValidator.validate(xml);
  return r === true ? null : `${r.err.msg} (line ${r.err.line})`;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", apos: "'", quot: '"' };

/** Text or an attribute value as written (the form nodes hold) to what it means: entities decoded. */
export function decodeXml(s: string): string {
  return s.includes("&")
    ? s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) =>
        e[0] === "#" ? String.fromCodePoint(parseInt(e.slice(e[1] === "x" ? 2 : 1), e[1] === "x" ? 16 : 10)) : (ENTITIES[e] ?? m),
      )
    : s;
}

/** An attribute's value, decoded; undefined when absent. */
export function attrOf(n: XNode | undefined, name: string): string | undefined {
  const v = n ? (n[":@"] as Record<string, string> | undefined)?.[`@_${name}`] : undefined;
  return v === undefined ? undefined : decodeXml(String(v));
}

/** An element's text (its text and CDATA children), decoded and trimmed; undefined when it has none. */
export function textOf(n: XNode | undefined): string | undefined {
  let out: string | undefined;
  for (const c of kids(n)) {
    const t = tagOf(c);
    if (t === "#text") out = (out ?? "") + decodeXml(String(c[t]));
    else if (t === "#cdata") out = (out ?? "") + String(((c[t] as XNode[])[0] ?? {})["#text"] ?? "");
  }
  return out?.trim();
}

/** The child elements with this tag. */
export const childrenNamed = (n: XNode | undefined, tag: string): XNode[] => kids(n).filter((c) => tagOf(c) === tag);

/** Text or an attribute value as it is written in a document (the form nodes hold). */
export function escapeXml(s: string): string {
  return /[&<>"']/.test(s)
    ? s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, "&apos;").replace(/"/g, "&quot;")
    : s;
}

const safeComment = (s: string) => s.replace(/--/g, "- -").replace(/--/g, "- -").replace(/-$/, "- ");
const quoteAttr = (v: string) => (/["']/.test(v) ? v.replace(/"/g, "&quot;").replace(/'/g, "&apos;") : v);

function attrText(n: XNode): string {
  const a = n[":@"] as Record<string, string> | undefined;
  let out = "";
  if (a) for (const k in a) out += ` ${k.slice(2)}="${quoteAttr(String(a[k]))}"`;
  return out;
}

/**
 * Whether `serialize(nodes, indentation)` ends with ">" when indented (the builder's test for
 * "the content ends with markup"), from the nodes: asking the string would flatten each
 * level's rope again. Flat, either answer writes the same.
 */
function endsWithMarkup(nodes: readonly XNode[]): boolean {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const tag = tagOf(nodes[i]);
    if (tag !== "#text") return true;
    const text = String(nodes[i][tag]);
    if (text !== "") return text.endsWith(">");
    // empty text writes the indentation when it follows markup
    // Stryker disable next-line EqualityOperator: equivalent (`i >= 0`: at the first node the loop's answer is false as well)
    if (i > 0 && !["#text", "#cdata"].includes(tagOf(nodes[i - 1]))) return false;
  }
  return false;
}

/**
 * The serializer of this document form (what fast-xml-parser's builder writes for it, with
 * empty elements as `<x/>`, for 3-4x less time): text and attribute values are written
 * as the nodes hold them (already escaped). `indentation` "" writes the nodes as they are;
 * "\n" plus `indentBy` per level lays out a document without indentation text.
 */
function serialize(nodes: readonly XNode[], indentation: string, indentBy: string): string {
  const out = { s: "" };
  serializeInto(out, nodes, indentation, indentBy);
  return out.s;
}

/** Whether `nodes` write nothing at all (none, or only empty text): the element is written `<x/>`. */
const writesNothing = (nodes: readonly XNode[]): boolean => nodes.every((c) => tagOf(c) === "#text" && String(c["#text"]) === "");

/** Appends in document order to one string (building each level's string and nesting it was 2x slower). */
function serializeInto(out: { s: string }, nodes: readonly XNode[], indentation: string, indentBy: string): void {
  let afterTag = false;
  const inner = indentation === "" ? "" : indentation + indentBy;
  for (const n of nodes) {
    const tag = tagOf(n);
    if (tag === "#text") {
      if (afterTag) out.s += indentation;
      out.s += String(n[tag]);
      afterTag = false;
      continue;
    }
    if (tag === "#cdata" || tag === "#comment") {
      const v = String(((n[tag] as XNode[])[0] ?? {})["#text"] ?? "");
      if (tag === "#cdata") out.s += `${afterTag ? indentation : ""}<![CDATA[${v.replace(/\]\]>/g, "]]]]><![CDATA[>")}]]>`;
      else out.s += `${indentation}<!--${safeComment(v)}-->`;
      afterTag = tag === "#comment";
      continue;
    }
    if (tag[0] === "?") {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (the declaration comes first, where buildIndented trims)
      out.s += `${tag === "?xml" ? "" : indentation}<${tag}${attrText(n)}?>`;
      afterTag = true;
      continue;
    }
    out.s += `${indentation}<${tag}${attrText(n)}`;
    const children = (n[tag] as XNode[]) ?? [];
    if (writesNothing(children)) out.s += "/>";
    else if (endsWithMarkup(children)) {
      out.s += ">";
      serializeInto(out, children, inner, indentBy);
      out.s += `${indentation}</${tag}>`;
    } else if (indentation === "") {
      out.s += ">";
      serializeInto(out, children, "", "");
      out.s += `</${tag}>`;
    } else {
      // mixed content ending in text: the builder puts it on a new line only when it holds markup
      const text = serialize(children, inner, indentBy);
      out.s +=
        text.includes("/>") || text.includes("</") ? `>${indentation}${indentBy}${text}${indentation}</${tag}>` : `>${text}</${tag}>`;
    }
    afterTag = true;
  }
}

export function buildDocument(nodes: readonly XNode[]): string {
  return serialize(nodes, "", "");
}

/** An indented document (for what people read, e.g. a stylesheet): build it from nodes without indentation text. */
export function buildIndented(nodes: readonly XNode[]): string {
  return serialize(nodes, "\n", "  ").trim();
}

/** The nodes without whitespace-only text (the indentation of a parsed document). */
export function withoutIndentation(nodes: XNode[]): XNode[] {
  return nodes
    .filter((n) => !(tagOf(n) === "#text" && String(n["#text"]).trim() === ""))
    .map((n) => {
      const t = tagOf(n);
      return t === "#text" || t === "#comment" || t === "#cdata" ? n : { ...n, [t]: withoutIndentation(kids(n)) };
    });
}

/** The <domain> element of a parsed document. */
export function domainElement(doc: XNode[]): XNode {
  const d = doc.find((n) => tagOf(n) === "domain");
  if (!d) throw new Error("not a libvirt domain definition (no <domain> element)");
  return d;
}

export const isElement = (n: XNode): boolean => {
  const t = tagOf(n);
  return t !== "#text" && t !== "#comment" && t !== "#cdata" && !t.startsWith("?");
};

/** The first child element with this tag. */
export const child = (n: XNode | undefined, tag: string): XNode | undefined => kids(n).find((c) => tagOf(c) === tag);

/** The element at a path of tags below `n`, or undefined. */
export function at(n: XNode | undefined, path: readonly string[]): XNode | undefined {
  let cur = n;
  for (const t of path) cur = child(cur, t);
  return cur;
}

export function setAttr(n: XNode, name: string, value: string | undefined): void {
  const a = { ...attrs(n) };
  if (value === undefined) delete a[`@_${name}`];
  else a[`@_${name}`] = value;
  if (Object.keys(a).length) n[":@"] = a;
  else delete n[":@"];
}

/** "@_name", the attribute's key in the document form; one interned string per name (keys built anew each time cost 3x). */
const ATTR_KEYS = new Map<string, string>();
function attrKey(name: string): string {
  let k = ATTR_KEYS.get(name);
  if (k === undefined) ATTR_KEYS.set(name, (k = `@_${name}`));
  return k;
}

/** An element with attributes already keyed "@_name" (none: no ":@"). */
function element(name: string, attributes: Record<string, string> | undefined, children: XNode[]): XNode {
  const n: XNode = {};
  n[name] = children; // not `{ [name]: children }`: a computed key in a literal takes V8's slow path (3x)
  if (attributes) n[":@"] = attributes;
  return n;
}

/** A new element from values as they mean (not as written): attribute values are escaped, undefined ones left out. */
export function newElement(name: string, a: Record<string, string | undefined> = {}, children: XNode[] = []): XNode {
  let prefixed: Record<string, string> | undefined;
  for (const k in a) {
    const v = a[k];
    if (v !== undefined) (prefixed ??= {})[attrKey(k)] = escapeXml(v);
  }
  return element(name, prefixed, children);
}

/** Text content from a value as it means (escaped). */
export const newText = (text: string): XNode[] => [{ "#text": escapeXml(text) }];

/** A new element from attribute values as they are written (already escaped). */
export function el(name: string, a: Record<string, string> = {}, children: XNode[] = []): XNode {
  let prefixed: Record<string, string> | undefined;
  for (const k in a) (prefixed ??= {})[attrKey(k)] = a[k];
  return element(name, prefixed, children);
}
