import { XMLBuilder } from "fast-xml-parser";
import type { Resolution } from "../analyze";
import type { LibvirtPlan } from "../libvirt/plan";

/**
 * A complete libvirt domain definition built as a tree and serialised by a real
 * XML builder (which escapes every text and attribute value).
 */

export const QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0";
/** Our <metadata> namespace: marks a domain as managed and records the effective PV features it was defined with. */
export const KPV_NS = "https://github.com/kvm-paravirt/kvm-paravirt/xmlns/paravirt/1";

/** The effective PV features as recorded in the metadata: { "<QEMU property>": true|false }. */
export function effectiveFeatureMap(r: Resolution): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [name, x] of r.features) out[name] = x.enabled;
  return out;
}

type Node = Record<string, unknown>;

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  format: true,
  indentBy: "  ",
  suppressEmptyNode: true,
  processEntities: true,
  // no path strings for callbacks we do not use: a third faster (an option the typings lack)
  ...({ jPath: false } as object),
});

function child(parent: Node, name: string): Node {
  const existing = parent[name];
  if (existing && typeof existing === "object" && !Array.isArray(existing)) return existing as Node;
  const created: Node = {};
  parent[name] = created;
  return created;
}

/** Writes one catalog-described libvirt setting into the tree. */
function applyElement(domain: Node, plan: LibvirtPlan["elements"][number]): void {
  const lc = plan.feature.libvirt!;
  let node = domain;
  for (const p of lc.parent) node = child(node, p);
  const attrs: Node = {};
  for (const [k, v] of Object.entries(lc.match ?? {})) attrs[`@_${k}`] = v;
  attrs[`@_${lc.attr}`] = lc.values[`${plan.value}`];
  if (lc.match) {
    const list = (node[lc.element] as Node[] | undefined) ?? [];
    list.push(attrs);
    node[lc.element] = list;
  } else {
    node[lc.element] = { ...((node[lc.element] as Node) ?? {}), ...attrs };
  }
}

function cpuNode(r: Resolution): Node {
  const d = r.domain;
  const cpu: Node = { "@_mode": d.cpu.mode };
  if (d.cpu.mode === "custom") cpu["@_match"] = "exact";
  cpu["@_check"] = d.cpu.check;
  if (d.cpu.mode === "custom") cpu.model = { "@_fallback": "forbid", "#text": d.cpu.model };
  const feats: Node[] = [];
  if (d.x2apic !== undefined) feats.push({ "@_policy": d.x2apic ? "require" : "disable", "@_name": "x2apic" });
  for (const [name, v] of Object.entries(d.cpu.features)) feats.push({ "@_policy": v ? "require" : "disable", "@_name": name });
  if (feats.length) cpu.feature = feats;
  return cpu;
}

export function buildDomainTree(r: Resolution, opts: { uuid?: string } = {}): Node {
  const plan = r.libvirt;
  const d = r.domain;
  const domain: Node = { "@_type": d.accel === "kvm" ? "kvm" : "qemu" };
  const customArgs: string[] = [
    ...plan.globals.flatMap((g) => ["-global", `x86_64-cpu.${g.feature.qemu}=${g.value ? "on" : "off"}`]),
    ...plan.machineOptions.flatMap((m) => ["-machine", m]),
  ];
  if (customArgs.length) domain["@_xmlns:qemu"] = QEMU_NS;
  domain.name = d.name;
  // a new domain gets its UUID from us, so that it is addressed by UUID from the start
  if (opts.uuid) domain.uuid = opts.uuid;
  let on = "";
  let off = "";
  for (const [name, x] of r.features) {
    if (x.enabled) on = on ? `${on} ${name}` : name;
    else off = off ? `${off} ${name}` : name;
  }
  domain.metadata = { "kpv:paravirt": { "@_xmlns:kpv": KPV_NS, "kpv:effective": { "@_on": on, "@_off": off } } };
  domain.memory = { "@_unit": "MiB", "#text": String(d.memoryMiB) };
  domain.vcpu = { "@_placement": "static", "#text": String(d.vcpus) };
  domain.os = {
    type: { "@_arch": "x86_64", "@_machine": r.machine.rendered, "#text": "hvm" },
  };
  domain.features = { acpi: "", apic: {} };
  domain.cpu = cpuNode(r);
  domain.clock = { "@_offset": "utc" };
  for (const e of plan.elements) applyElement(domain, e);
  if (plan.ioapic) child(domain, "features").ioapic = { "@_driver": plan.ioapic };
  domain.on_poweroff = "destroy";
  domain.on_reboot = "restart";
  domain.on_crash = "destroy";
  domain.devices = "";
  if (customArgs.length) domain["qemu:commandline"] = { "qemu:arg": customArgs.map((v) => ({ "@_value": v })) };
  return { domain };
}

export function renderDomainXml(r: Resolution, opts: { uuid?: string } = {}): string {
  return builder.build(buildDomainTree(r, opts)) as string;
}
