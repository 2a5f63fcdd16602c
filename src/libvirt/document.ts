import { XMLBuilder, XMLParser } from "fast-xml-parser";
import { attrs, kids, tagOf, type XNode } from "../util/ordered-xml";

/**
 * The one document form for editing libvirt XML: fast-xml-parser in document order,
 * with text, whitespace, entities, comments and CDATA kept exactly as written (nothing is
 * decoded or trimmed), so a document parsed and built again is the same document and
 * what an edit does not touch survives byte for byte.
 */
const OPTIONS = {
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

const parser = new XMLParser(OPTIONS);
const builder = new XMLBuilder({ ...OPTIONS, format: false, suppressEmptyNode: true });
const indenting = new XMLBuilder({ ...OPTIONS, format: true, indentBy: "  ", suppressEmptyNode: true });

export function parseDocument(xml: string): XNode[] {
  return parser.parse(xml) as XNode[];
}

export function buildDocument(nodes: XNode[]): string {
  return builder.build(nodes) as string;
}

/** An indented document (for what people read, e.g. a stylesheet): build it from nodes without indentation text. */
export function buildIndented(nodes: XNode[]): string {
  return (indenting.build(nodes) as string).trim();
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

export function el(name: string, a: Record<string, string> = {}, children: XNode[] = []): XNode {
  const n: XNode = { [name]: children };
  if (Object.keys(a).length) n[":@"] = Object.fromEntries(Object.entries(a).map(([k, v]) => [`@_${k}`, v]));
  return n;
}
