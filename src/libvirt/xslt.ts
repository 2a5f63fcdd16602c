import { at, buildIndented, child, el, isElement } from "./document";
import { carriedOverXPath, desiredDevices, deviceTestXPath, RECORDED_XPATH } from "./devices";
import { OWNED_ATTRS, ownedArgPairXPath, SIZING, SLOTS, WHOLE_SPEC_SLOTS, topologyFitsXPath, type ChildSlot } from "./owned";
import { attrs, kids, tagOf, type XNode } from "../util/ordered-xml";
import { KPV_NS, RECORDED_DEVICES_XPATH } from "./metadata";
import { QEMU_NS, domainNode, type WriterInput } from "./domain-xml";

/**
 * An XSLT 1.0 stylesheet that applies one domain's settings to any libvirt domain XML:
 * the in-process merge (src/libvirt/merge.ts) as a stylesheet, derived from the same
 * ownership declaration (src/libvirt/owned.ts), for xsltproc, terraform-provider-libvirt
 * <= 0.8 and pulumi-libvirt (`xml { xslt }`), and for the component's update of an existing
 * domain. The fixture set in test/fixtures/domains proves both give the same definition.
 */

const XSL = "http://www.w3.org/1999/XSL/Transform";
const apply = (select: string) => el("xsl:apply-templates", { select });
const template = (match: string, children: XNode[], priority?: number) =>
  el("xsl:template", { match, ...(priority !== undefined ? { priority: String(priority) } : {}) }, children);
const copy = (children: XNode[]) => el("xsl:copy", {}, children);
const ifNot = (test: string, children: XNode[]) => (children.length ? [el("xsl:if", { test: `not(${test})` }, children)] : []);
const text = (s: string) => el("xsl:text", {}, [{ "#text": s }]);

/** A qemu:arg that is one of ours: the flag of an owned pair, or its value. */
const OWNED_ARG =
  `self::qemu:arg and (${ownedArgPairXPath("@value", "following-sibling::qemu:arg[1]/@value")}` +
  ` or ${ownedArgPairXPath("preceding-sibling::qemu:arg[1]/@value", "@value")})`;

export interface XsltOptions {
  /**
   * Also own the vCPU count, memory and placement (the whole spec, as ParavirtDomain's redefinition
   * of an existing domain needs); default: PV settings only, for another provider's domains.
   */
  sizing?: boolean;
}

export function renderXslt(r: WriterInput, opts: XsltOptions = {}): string {
  const want = domainNode(r);
  const path = (p: readonly string[]) => `/domain${p.map((t) => `/${t}`).join("")}`;
  const ownedKids = (slot: ChildSlot) => kids(at(want, slot.parent)).filter((c) => isElement(c) && slot.owns(c));

  /** A missing parent: the desired element whole, or a new element with the owned children. */
  const created = (slot: ChildSlot): XNode[] => {
    const desired = ownedKids(slot);
    if (!desired.length) return [];
    return [slot.createWhole ? at(want, slot.parent)! : el(slot.parent[slot.parent.length - 1], {}, desired)];
  };
  // placement is the whole spec's, like sizing
  const slots = opts.sizing ? WHOLE_SPEC_SLOTS : SLOTS;
  const topLevel = slots.filter((s) => s.parent.length === 1);
  const nestedIn = (slot: ChildSlot) =>
    slots.filter((s) => s.parent.length === slot.parent.length + 1 && s.parent.join("/").startsWith(`${slot.parent.join("/")}/`));

  const templates: XNode[] = [template("@*|node()", [copy([apply("@*|node()")])])];

  // <domain>: its type, then the sections it lacks, in slot order
  const wantArgs = kids(child(want, "qemu:commandline")).filter((c) => tagOf(c) === "qemu:arg");
  templates.push(
    template("/domain", [
      copy([
        apply("@*"),
        el("xsl:attribute", { name: "type" }, [{ "#text": attrs(want)["@_type"] }]),
        apply("node()"),
        ...topLevel.flatMap((s) => ifNot(s.parent[0], created(s))),
        ...(child(want, SIZING.iothreads) ? ifNot(SIZING.iothreads, [child(want, SIZING.iothreads)!]) : []),
        ...ifNot("devices", kids(child(want, "devices")).length ? [el("devices", {}, kids(child(want, "devices")))] : []),
        ...ifNot("qemu:commandline", wantArgs.length ? [el("qemu:commandline", {}, wantArgs)] : []),
      ]),
    ]),
  );
  for (const { path: p, attr } of OWNED_ATTRS.filter((x) => x.path.length > 0))
    templates.push(template(`${path(p)}/@${attr}`, [el("xsl:attribute", { name: attr }, [{ "#text": attrs(at(want, p)!)[`@_${attr}`] }])]));

  // the IOThread count when the spec pins IOThreads (added where the domain has none), in both
  // stylesheets: the spec's disks may name an IOThread
  const iothreads = child(want, SIZING.iothreads);
  if (iothreads) templates.push(template(`/domain/${SIZING.iothreads}`, [iothreads]));
  if (opts.sizing) {
    const vcpus = String(r.domain.vcpus);
    templates.push(
      // the vCPU count (placement and cpuset stay), memory as rendered; libvirt derives currentMemory
      template(`/domain/${SIZING.vcpu}`, [copy([apply("@*"), text(vcpus)])]),
      template(`/domain/${SIZING.memory}`, [child(want, SIZING.memory)!]),
      template(`/domain/${SIZING.dropped}`, []),
      template(`/domain/cpu/topology[not(${topologyFitsXPath(r.domain.vcpus)})]`, [], 2),
    );
  }

  for (const slot of slots) {
    const owned = `*[${slot.xpath}]`;
    const desired = ownedKids(slot);
    const base = path(slot.parent);
    // a slot that owns its parent's attributes writes the desired ones instead of copying the live ones
    const ownAttrs = slot.ownsAttributes
      ? Object.entries(attrs(at(want, slot.parent)!)).map(([k, v]) => el("xsl:attribute", { name: k.slice(2) }, [{ "#text": v }]))
      : [apply("@*")];
    templates.push(
      template(base, [
        copy([
          ...ownAttrs,
          ...(slot.first ? desired : []),
          apply("node()"),
          ...(slot.first ? [] : desired),
          ...nestedIn(slot).flatMap((n) => ifNot(n.parent[n.parent.length - 1], created(n))),
        ]),
      ]),
      template(`${base}/${owned}`, [], 1),
    );
    // a parent this slot empties goes (an empty <kvm/> is noise)
    if (!slot.createWhole && desired.length === 0) templates.push(template(`${base}[${owned} and not(*[not(${slot.xpath})])]`, [], 3));
  }

  // devices: each declared one replaces the live one with its identity (keeping libvirt's address
  // and an interface's MAC) or joins at the end; one the record says we owned goes; others stay
  const devices = desiredDevices(r.domain);
  if (devices.length) {
    const replace = devices.map((d) => {
      const keep = carriedOverXPath(d.node);
      const t = tagOf(d.node);
      return el("xsl:when", { test: deviceTestXPath(d.id) }, [
        { [t]: [...(keep ? [el("xsl:copy-of", { select: keep })] : []), ...kids(d.node)], ...(d.node[":@"] ? { ":@": d.node[":@"] } : {}) },
      ]);
    });
    const add = devices.flatMap((d) => [el("xsl:if", { test: `not(*[${deviceTestXPath(d.id)}])` }, [d.node])]);
    templates.push(
      template("/domain/devices", [
        copy([
          apply("@*"),
          el("xsl:variable", { name: "recorded", select: `concat(' ', ${RECORDED_DEVICES_XPATH}, ' ')` }),
          el("xsl:for-each", { select: "node()" }, [
            el("xsl:choose", {}, [...replace, el("xsl:when", { test: RECORDED_XPATH }), el("xsl:otherwise", {}, [apply(".")])]),
          ]),
          ...add,
        ]),
      ]),
    );
    // libvirt refuses <os><boot dev> next to per-device boot orders
    if (devices.some((d) => child(d.node, "boot"))) templates.push(template("/domain/os/boot", [], 1));
  }

  // our QEMU-namespace arguments are replaced (appended); <qemu:env> and other arguments stay
  const cmd = "/domain/qemu:commandline";
  templates.push(template(cmd, [copy([apply("@*|node()"), ...wantArgs])]), template(`${cmd}/qemu:arg[${OWNED_ARG}]`, [], 1));
  if (!wantArgs.length) templates.push(template(`${cmd}[qemu:arg[${OWNED_ARG}] and not(*[not(${OWNED_ARG})])]`, [], 3));

  const effective = [...r.features]
    .filter(([, x]) => x.enabled)
    .map(([k]) => k)
    .join(" ");
  const stylesheet = el(
    "xsl:stylesheet",
    { version: "1.0", "xmlns:xsl": XSL, "xmlns:qemu": QEMU_NS, "xmlns:kpv": KPV_NS, "exclude-result-prefixes": "kpv qemu" },
    [
      { "#comment": [{ "#text": ` kvm-paravirt: settings of domain ${r.domain.name}; effective: ${effective} `.replace(/--/g, "- -") }] },
      el("xsl:output", { method: "xml", indent: "yes" }),
      ...templates,
    ],
  );
  return buildIndented([stylesheet]);
}
