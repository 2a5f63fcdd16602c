import type { DomainSpec } from "../input/schema";
import { desiredDevices } from "./devices";
import { buildIndented, child, escapeXml, newElement, newText, setAttr } from "./document";
import { metadataNode } from "./metadata";
import type { HypervPlan, LibvirtPlan } from "./plan";
import { kids, tagOf, type XNode } from "../util/ordered-xml";
import { formatCpuset } from "../util/cpuset";

/**
 * A complete libvirt domain definition built in the one document form (src/libvirt/document.ts)
 * and serialised by its builder; every text and attribute value is escaped as it enters the tree.
 */

export const QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0";

/**
 * What the writer reads of a resolved domain (src/analyze.ts's Resolution is one): declared
 * here, so that the libvirt layer needs nothing of the layers after it.
 */
export interface WriterInput {
  domain: DomainSpec;
  /** each PV property's effective value, by QEMU property name (recorded in our metadata) */
  features: ReadonlyMap<string, { enabled: boolean }>;
  machine: { rendered: string };
  libvirt: LibvirtPlan;
  /** the host CPUs of each vCPU and of the emulator threads (src/resolve/placement.ts) */
  placement: { vcpus?: number[][]; emulator?: number[]; iothreads?: number[][] };
}

// elements and text of the document form, escaped as they enter it (the values come from the spec)
const E = newElement;
const T = newText;

/** The child element `name` of `parent`, created (last) when missing. */
function childOf(parent: XNode, name: string): XNode {
  return child(parent, name) ?? (kids(parent).push(E(name)), kids(parent)[kids(parent).length - 1]);
}

/** Writes one catalog-described libvirt setting into the tree. */
function applyElement(domain: XNode, plan: LibvirtPlan["elements"][number]): void {
  const lc = plan.feature.libvirt!;
  let node = domain;
  for (const p of lc.parent) node = childOf(node, p);
  const value = lc.values[`${plan.value}`];
  if (lc.match) {
    kids(node).push(E(lc.element, { ...lc.match, [lc.attr]: value }));
    return;
  }
  const existing = child(node, lc.element);
  if (existing) setAttr(existing, lc.attr, escapeXml(value));
  else kids(node).push(E(lc.element, { [lc.attr]: value }));
}

function cpuNode(r: WriterInput): XNode {
  const d = r.domain;
  const a: Record<string, string> = { mode: d.cpu.mode };
  if (d.cpu.mode === "custom") a.match = "exact";
  a.check = d.cpu.check;
  const children: XNode[] = [];
  if (d.cpu.mode === "custom") children.push(E("model", { fallback: "forbid" }, T(d.cpu.model!)));
  if (d.x2apic !== undefined) children.push(E("feature", { policy: d.x2apic ? "require" : "disable", name: "x2apic" }));
  for (const [name, v] of Object.entries(d.cpu.features)) children.push(E("feature", { policy: v ? "require" : "disable", name }));
  // the guest's NUMA cells, last (libvirt writes <numa> after the features)
  const cells = d.numa?.cells;
  if (cells)
    children.push(
      E(
        "numa",
        {},
        cells.map((c, i) => E("cell", { id: String(i), cpus: formatCpuset(c.cpus), memory: String(c.memoryMiB), unit: "MiB" })),
      ),
    );
  return E("cpu", a, children);
}

/** libvirt's order of the <hyperv> children (virDomainHyperv), the order it writes them back in. */
const LIBVIRT_HYPERV_ORDER = [
  "relaxed",
  "vapic",
  "spinlocks",
  "vpindex",
  "runtime",
  "synic",
  "stimer",
  "reset",
  "vendor_id",
  "frequencies",
  "reenlightenment",
  "tlbflush",
  "ipi",
  "evmcs",
  "avic",
  "emsr_bitmap",
  "xmm_input",
];

/** <features><hyperv> (before <kvm>, where libvirt writes it) and <clock><timer name='hypervclock'>. */
function writeHyperv(domain: XNode, p: HypervPlan): void {
  const top = new Map<string, XNode>();
  const state = (v: boolean) => (v ? "on" : "off");
  for (const { row, value } of p.elements) {
    const lc = row.libvirt!;
    if (lc.kind === "timer") {
      kids(childOf(domain, "clock")).push(E("timer", { name: lc.name, present: value ? "yes" : "no" }));
    } else if (lc.kind === "hyperv") {
      const [name, sub] = lc.path;
      if (!top.has(name)) top.set(name, E(name, { state: sub === undefined ? state(value) : "on" }));
      if (sub !== undefined) kids(top.get(name)!).push(E(sub, { state: state(value) }));
      else setAttr(top.get(name)!, "state", state(value));
    }
  }
  // inside <stimer> and <tlbflush> libvirt writes direct, then extended
  for (const n of top.values()) kids(n).sort((a, b) => tagOf(a).localeCompare(tagOf(b)));
  if (p.spinlocks !== undefined) top.set("spinlocks", E("spinlocks", { state: "on", retries: String(p.spinlocks) }));
  if (p.vendorId !== undefined) top.set("vendor_id", E("vendor_id", { state: "on", value: p.vendorId }));
  if (p.mode === undefined || (p.mode === "custom" && top.size === 0)) return;
  const children = LIBVIRT_HYPERV_ORDER.flatMap((n) => (top.has(n) ? [top.get(n)!] : []));
  const node = E("hyperv", p.modeAttr ? { mode: p.mode } : {}, children);
  const features = childOf(domain, "features");
  const at = kids(features).findIndex((c) => tagOf(c) === "kvm" || tagOf(c) === "ioapic");
  if (at < 0) kids(features).push(node);
  else kids(features).splice(at, 0, node);
}

/** The definition as a <domain> element of the document form (src/libvirt/document.ts). */
export function domainNode(r: WriterInput, opts: { uuid?: string } = {}): XNode {
  const plan = r.libvirt;
  const d = r.domain;
  // (plain loops: flatMap with spreads was a third of this function's time)
  const customArgs: string[] = [];
  for (const g of plan.globals) customArgs.push("-global", `x86_64-cpu.${g.feature.qemu}=${g.value ? "on" : "off"}`);
  for (const m of plan.machineOptions) customArgs.push("-machine", m);
  for (const g of plan.hyperv.globals) customArgs.push("-global", `x86_64-cpu.${g.property}=${g.value}`);
  const domain = E("domain", { type: d.accel === "kvm" ? "kvm" : "qemu", ...(customArgs.length ? { "xmlns:qemu": QEMU_NS } : {}) });
  const add = (n: XNode) => kids(domain).push(n);
  add(E("name", {}, T(d.name)));
  // a new domain gets its UUID from us, so that it is addressed by UUID from the start
  if (opts.uuid) add(E("uuid", {}, T(opts.uuid)));
  const devices = desiredDevices(d);
  // the devices the spec owns are recorded, so that one it drops later is removed (and no other)
  add(
    metadataNode(
      [...r.features].map(([name, x]) => [name, x.enabled]),
      devices.map((x) => x.id),
      { dedicated: d.cpuPinning?.dedicated === true, hintSet: d.paravirt.hintDedicated !== undefined },
    ),
  );
  add(E("memory", { unit: "MiB" }, T(String(d.memoryMiB))));
  // in libvirt's order (virDomainDefFormat): memoryBacking, vcpu, cputune, numatune
  if (d.hugepages) add(E("memoryBacking", {}, [E("hugepages", {}, [E("page", { size: String(d.hugepages.sizeKiB), unit: "KiB" })])]));
  add(E("vcpu", { placement: "static" }, T(String(d.vcpus))));
  const { vcpus, emulator, iothreads } = r.placement;
  if (iothreads) add(E("iothreads", {}, T(String(iothreads.length))));
  if (vcpus || emulator || iothreads)
    add(
      E("cputune", {}, [
        ...(vcpus ?? []).map((set, i) => E("vcpupin", { vcpu: String(i), cpuset: formatCpuset(set) })),
        ...(emulator ? [E("emulatorpin", { cpuset: formatCpuset(emulator) })] : []),
        ...(iothreads ?? []).map((set, i) => E("iothreadpin", { iothread: String(i + 1), cpuset: formatCpuset(set) })),
      ]),
    );
  if (d.numa?.nodeset) add(E("numatune", {}, [E("memory", { mode: d.numa.mode, nodeset: formatCpuset(d.numa.nodeset) })]));
  add(E("os", {}, [E("type", { arch: "x86_64", machine: r.machine.rendered }, T("hvm"))]));
  add(E("features", {}, [E("acpi"), E("apic")]));
  add(cpuNode(r));
  add(E("clock", { offset: "utc" }));
  for (const e of plan.elements) applyElement(domain, e);
  writeHyperv(domain, plan.hyperv);
  if (plan.ioapic) kids(childOf(domain, "features")).push(E("ioapic", { driver: plan.ioapic }));
  add(E("on_poweroff", {}, T("destroy")));
  add(E("on_reboot", {}, T("restart")));
  add(E("on_crash", {}, T("destroy")));
  add(
    E(
      "devices",
      {},
      devices.map((x) => x.node),
    ),
  );
  if (customArgs.length)
    add(
      E(
        "qemu:commandline",
        {},
        customArgs.map((v) => E("qemu:arg", { value: v })),
      ),
    );
  return domain;
}

export function renderDomainXml(r: WriterInput, opts: { uuid?: string } = {}): string {
  return `${buildIndented([domainNode(r, opts)])}\n`;
}
