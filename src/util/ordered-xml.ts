/**
 * Helpers for fast-xml-parser's document-order form (`preserveOrder: true`), where an
 * element is `{ tag: children[], ":@": { "@_attr": value } }` and text is `{ "#text": s }`.
 */
export type XNode = Record<string, unknown>;

export function tagOf(n: XNode): string {
  for (const k in n) if (k !== ":@") return k;
  throw new Error("a document node without a tag");
}
export const kids = (n: XNode | undefined): XNode[] => (n ? ((n[tagOf(n)] as XNode[]) ?? []) : []);
export const attrs = (n: XNode): Record<string, string> => (n[":@"] as Record<string, string>) ?? {};
