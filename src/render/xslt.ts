import { XMLBuilder } from "fast-xml-parser";
import type { Resolution } from "../resolve/resolve";
import { buildDomainTree, KPV_NS, QEMU_NS } from "./domain-xml";
import { attrs, kids, tagOf, type XNode } from "../util/ordered-xml";

/**
 * An XSLT 1.0 stylesheet that applies one domain's PV settings to any libvirt
 * domain XML (for terraform-provider-libvirt <= 0.8 and pulumi-libvirt users:
 * their `xml { xslt }` input). It owns what decides the PV features: the domain
 * type, the machine type, the PV feature elements and ioapic, the CPU mode,
 * model and flags, the kvmclock timer, our QEMU-namespace arguments and our
 * metadata; it copies everything else (name, memory, vCPUs, devices, CPU
 * topology) unchanged. The stylesheet is itself built with the XML builder.
 */

const XSL = "http://www.w3.org/1999/XSL/Transform";
const xmlOpts = { ignoreAttributes: false, attributeNamePrefix: "@_", preserveOrder: true } as const;
const builder = new XMLBuilder({
  ...xmlOpts,
  format: true,
  indentBy: "  ",
  suppressEmptyNode: true,
  processEntities: true,
  commentPropName: "#comment",
});

function el(name: string, a: Record<string, string> = {}, children: XNode[] = []): XNode {
  const n: XNode = { [name]: children };
  if (Object.keys(a).length) n[":@"] = Object.fromEntries(Object.entries(a).map(([k, v]) => [`@_${k}`, v]));
  return n;
}
const applyTemplates = (select: string) => el("xsl:apply-templates", { select });
const template = (match: string, children: XNode[]) => el("xsl:template", { match }, children);
const copyWith = (children: XNode[]) => el("xsl:copy", {}, children);

/** Owned args: -global x86_64-cpu.kvm* and -machine kernel-irqchip=..., each with its flag. */
const OWNED_ARG =
  "starts-with(@value,'x86_64-cpu.kvm') or starts-with(@value,'kernel-irqchip=') or starts-with(@value,'kernel_irqchip=')" +
  " or (@value='-global' and starts-with(following-sibling::qemu:arg[1]/@value,'x86_64-cpu.kvm'))" +
  " or (@value='-machine' and starts-with(following-sibling::qemu:arg[1]/@value,'kernel'))";
const OWNED_FEATURES = "self::apic or self::pvspinlock or self::kvm or self::ioapic";

/** The domain tree the renderer builds, in the builder's document-order form (no parsing needed). */
function ordered(name: string, value: unknown): XNode[] {
  if (Array.isArray(value)) return value.flatMap((v) => ordered(name, v));
  if (value === null || typeof value !== "object")
    return [el(name, {}, value === "" || value === undefined ? [] : [{ "#text": String(value) }])];
  const a: Record<string, string> = {};
  const children: XNode[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k.startsWith("@_")) a[k.slice(2)] = String(v);
    else if (k === "#text") children.push({ "#text": String(v) });
    else children.push(...ordered(k, v));
  }
  return [el(name, a, children)];
}

export interface XsltOptions {
  /**
   * Also own the vCPU count and memory (the whole spec, as ParavirtDomain's redefinition
   * of an existing domain needs); default: PV settings only, for another provider's domains.
   */
  sizing?: boolean;
}

export function renderXslt(r: Resolution, opts: XsltOptions = {}): string {
  const desired = ordered("domain", buildDomainTree(r).domain)[0];
  const d = (tag: string) => kids(desired).find((c) => tagOf(c) === tag);
  const ownedFeatures = kids(d("features")).filter(
    (f) => ["apic", "pvspinlock", "kvm", "ioapic"].includes(tagOf(f)) && !(tagOf(f) === "apic" && !attrs(f)["@_eoi"]),
  );
  const cpu = d("cpu")!;
  const kvmclock = kids(d("clock")).filter((t) => tagOf(t) === "timer");
  const metadata = kids(d("metadata"));
  const args = kids(d("qemu:commandline"));
  const machine = attrs(kids(d("os")).find((t) => tagOf(t) === "type")!)["@_machine"];

  const cpuElement = el("cpu", Object.fromEntries(Object.entries(attrs(cpu)).map(([k, v]) => [k.slice(2), v])), [
    ...kids(cpu),
    applyTemplates("topology|numa|cache|maxphysaddr"),
  ]);
  const domainTemplate = template("/domain", [
    copyWith([
      applyTemplates("@*"),
      el("xsl:attribute", { name: "type" }, [{ "#text": attrs(desired)["@_type"] }]),
      applyTemplates("node()"),
      el("xsl:if", { test: "not(metadata)" }, [el("metadata", {}, metadata)]),
      el("xsl:if", { test: "not(features)" }, [
        el("features", {}, [el("acpi"), el("apic"), ...ownedFeatures.filter((f) => tagOf(f) !== "apic")]),
      ]),
      el("xsl:if", { test: "not(cpu)" }, [
        el("cpu", Object.fromEntries(Object.entries(attrs(cpu)).map(([k, v]) => [k.slice(2), v])), kids(cpu)),
      ]),
      ...(kvmclock.length ? [el("xsl:if", { test: "not(clock)" }, [el("clock", { offset: "utc" }, kvmclock)])] : []),
      ...(args.length ? [el("xsl:if", { test: "not(qemu:commandline)" }, [el("qemu:commandline", {}, args)])] : []),
    ]),
  ]);
  const stylesheet = el(
    "xsl:stylesheet",
    { version: "1.0", "xmlns:xsl": XSL, "xmlns:qemu": QEMU_NS, "xmlns:kpv": KPV_NS, "exclude-result-prefixes": "kpv" },
    [
      {
        "#comment": [
          {
            "#text": ` kvm-paravirt: PV settings of domain ${r.domain.name}; effective: ${[...r.features]
              .filter(([, x]) => x.enabled)
              .map(([k]) => k)
              .join(" ")} `.replace(/--/g, "- -"),
          },
        ],
      },
      el("xsl:output", { method: "xml", indent: "yes" }),
      template("@*|node()", [copyWith([applyTemplates("@*|node()")])]),
      domainTemplate,
      template("/domain/os/type/@machine", [el("xsl:attribute", { name: "machine" }, [{ "#text": machine }])]),
      ...(opts.sizing
        ? [
            // the vCPU count (placement and cpuset stay), memory as rendered; libvirt derives currentMemory
            template("/domain/vcpu", [copyWith([applyTemplates("@*"), el("xsl:text", {}, [{ "#text": String(r.domain.vcpus) }])])]),
            template("/domain/memory", [d("memory")!]),
            template("/domain/currentMemory", []),
            // a topology written for another vCPU count would make libvirt refuse the definition
            template(`/domain/cpu/topology[not(@sockets * @cores * @threads * (sum(@dies) + 1 - count(@dies)) = ${r.domain.vcpus})]`, []),
          ]
        : []),
      template("/domain/features", [
        copyWith([
          applyTemplates(`@*|node()[not(${OWNED_FEATURES})]`),
          ...(ownedFeatures.some((f) => tagOf(f) === "apic") ? [] : [applyTemplates("apic")]),
          ...ownedFeatures,
        ]),
      ]),
      template("/domain/cpu", [cpuElement]),
      template("/domain/clock", [copyWith([applyTemplates("@*|node()[not(self::timer[@name='kvmclock'])]"), ...kvmclock])]),
      template("/domain/metadata", [copyWith([applyTemplates("@*|node()[not(self::kpv:paravirt)]"), ...metadata])]),
      template("/domain/qemu:commandline", [copyWith([applyTemplates(`@*|qemu:arg[not(${OWNED_ARG})]`), ...args])]),
    ],
  );
  return (builder.build([stylesheet]) as string).trimStart();
}
