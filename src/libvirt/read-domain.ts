import { FEATURES, FEATURE_BY_QEMU_NAME, specValue } from "../catalog/features";
import { HYPERV_BY_QEMU_NAME, HYPERV_FEATURES, HYPERV_VALUES } from "../catalog/hyperv";
import { VENDOR_ID_RE } from "../input/schema";
import type { Diagnostic } from "../diagnostics";
import { at, attrOf, child, childrenNamed, domainElement, parseDocument, textOf } from "./document";
import { readDevices } from "./devices";
import { recordedFeatures } from "./metadata";
import { pvGlobal } from "./owned";
import type { XNode } from "../util/ordered-xml";

/**
 * A libvirt domain definition (virsh dumpxml) read back into a spec domain: the
 * libvirt elements, `-global` entries in the QEMU namespace (ours or
 * hand-written), CPU mode and model, machine type, ioapic driver, hidden
 * signature. Elements libvirt keeps but does not emit (e.g. <pv-ipi state='on'/>)
 * set nothing, exactly as for QEMU.
 */

export interface ReadDomain {
  /** a spec domain (validate it with validateSpecObject) */
  domain: Record<string, unknown>;
  /** what could not be carried over */
  notes: Diagnostic[];
  /** the effective PV features recorded in our <metadata> when the domain was defined, if it was ours */
  recorded: Record<string, boolean> | null;
  /** the domain's UUID */
  uuid?: string;
}

export interface ReadOptions {
  /**
   * Read libvirt elements as written, including values libvirt keeps but does not
   * emit (for comparing two definitions). Default: as QEMU sees them (no-ops ignored).
   */
  asWritten?: boolean;
  /** Also read the devices the spec can declare (disks, NICs, serial console, graphics): for import and refresh. */
  devices?: boolean;
}

const ON = (s: string | undefined) => s === "on" || s === "yes";

const MIB_PER: Record<string, number> = {
  b: 1 / 1048576,
  bytes: 1 / 1048576,
  k: 1 / 1024,
  kib: 1 / 1024,
  kb: 1000 / 1048576,
  m: 1,
  mib: 1,
  mb: 1e6 / 1048576,
  g: 1024,
  gib: 1024,
  gb: 1e9 / 1048576,
  t: 1048576,
  tib: 1048576,
};

/** Reads a definition: its text, or its <domain> element in the document form (src/libvirt/document.ts). */
export function readDomainXml(xml: string | XNode, opts: ReadOptions = {}): ReadDomain {
  const notes: Diagnostic[] = [];
  const note = (message: string, path = "") => notes.push({ severity: "info", code: "import-not-carried", message, path });
  const root = typeof xml === "string" ? domainElement(parseDocument(xml)) : xml;
  const domain: Record<string, unknown> = { name: textOf(child(root, "name")) };
  const paravirt: Record<string, boolean> = {};
  const hyperv: Record<string, unknown> = {};
  const vcpu = Number(textOf(child(root, "vcpu")));
  if (Number.isInteger(vcpu) && vcpu > 0) domain.vcpus = vcpu;
  const mem = child(root, "memory");
  if (mem !== undefined) {
    const unit = (attrOf(mem, "unit") ?? "KiB").toLowerCase();
    const mib = Number(textOf(mem)) * (MIB_PER[unit] ?? 1 / 1024);
    if (Number.isFinite(mib)) domain.memoryMiB = Math.round(mib);
  }
  if (attrOf(root, "type") === "qemu") domain.accel = "tcg";
  const machine = attrOf(at(root, ["os", "type"]), "machine");
  if (machine) domain.machine = machine;

  // -global entries first: a libvirt element emits on -cpu, which QEMU applies after -global
  const values = childrenNamed(child(root, "qemu:commandline"), "qemu:arg").map((a) => attrOf(a, "value") ?? "");
  for (let i = 0; i < values.length; i++) {
    const [flag, value] = [values[i], values[i + 1] ?? ""];
    if (flag === "-global") {
      const g = pvGlobal(value);
      if (g && readHypervGlobal(hyperv, g.property, g.value)) {
        i++;
        continue;
      }
      const f = g && /^(on|off|true|false|yes|no)$/.test(g.value) ? FEATURE_BY_QEMU_NAME.get(g.property) : undefined;
      if (f) {
        paravirt[f.specKey] = specValue(f, ON(g!.value) || g!.value === "true");
        i++;
        continue;
      }
    }
    if (flag === "-machine" && /^kernel[-_]irqchip=off$/.test(value)) {
      domain.irqchip = "off";
      i++;
      continue;
    }
    if (flag.startsWith("-")) note(`<qemu:commandline> ${flag} ${value} is not a PV setting and is not carried over`, "qemu:commandline");
  }

  for (const f of FEATURES) {
    const lc = f.libvirt;
    if (!lc) continue;
    const parent = at(root, lc.parent);
    const el = childrenNamed(parent, lc.element).find((e) => Object.entries(lc.match ?? {}).every(([k, v]) => attrOf(e, k) === v));
    const v = attrOf(el, lc.attr);
    if (v === undefined) continue;
    const property = v === lc.values.true ? true : v === lc.values.false ? false : undefined;
    if (property === undefined) continue;
    // a value libvirt keeps but does not emit changes nothing
    if (lc.effect[`${property}`] === "emits" || opts.asWritten) paravirt[f.specKey] = specValue(f, property);
    else if (paravirt[f.specKey] === undefined)
      note(`<${lc.element} ${lc.attr}='${v}'/> is kept by libvirt but emits nothing: ignored`, `features.${lc.element}`);
  }
  if (attrOf(at(root, ["features", "ioapic"]), "driver") === "qemu") domain.irqchip = "split";
  readHypervElements(root, hyperv, note);

  const cpu = child(root, "cpu");
  if (cpu) {
    const mode = attrOf(cpu, "mode") ?? "custom";
    const c: Record<string, unknown> = { mode };
    const model = textOf(child(cpu, "model"));
    if (mode === "custom" && model) c.model = model;
    const check = attrOf(cpu, "check");
    if (check && ["none", "partial", "full"].includes(check)) c.check = check;
    const features: Record<string, boolean> = {};
    for (const fe of childrenNamed(cpu, "feature")) {
      const name = attrOf(fe, "name");
      const policy = attrOf(fe, "policy") ?? "require";
      if (!name || policy === "optional") continue;
      const on = policy === "require" || policy === "force";
      if (name === "x2apic") domain.x2apic = on;
      else features[name] = on;
    }
    if (Object.keys(features).length) c.features = features;
    domain.cpu = c;
  }
  if (Object.keys(paravirt).length) domain.paravirt = paravirt;
  if (Object.keys(hyperv).length) domain.hyperv = hyperv;
  const recorded = recordedFeatures(root);
  if (opts.devices) Object.assign(domain, readDevices(child(root, "devices"), note));
  const uuid = textOf(child(root, "uuid"));
  return { domain, notes, recorded, ...(uuid ? { uuid } : {}) };
}

const ON_OFF = /^(on|off|true|false|yes|no)$/;

/** A `-global x86_64-cpu.hv-*=...` into the hyperv map; false when it is no Hyper-V setting. */
function readHypervGlobal(hyperv: Record<string, unknown>, property: string, value: string): boolean {
  const row = HYPERV_BY_QEMU_NAME.get(property);
  if (row && ON_OFF.test(value)) hyperv[row.key] = ON(value) || value === "true";
  else if (property === HYPERV_VALUES.passthrough.qemu && ON_OFF.test(value)) {
    if (ON(value) || value === "true") hyperv.mode = "passthrough";
  } else if (property === HYPERV_VALUES.spinlocks.qemu && /^(0x[0-9a-f]+|\d+)$/i.test(value)) hyperv.spinlocks = Number(value);
  else if (property === HYPERV_VALUES.vendorId.qemu && VENDOR_ID_RE.test(value)) hyperv.vendorId = value;
  else if (property === HYPERV_VALUES.noNonarchCoresharing.qemu && /^(on|off|auto)$/.test(value)) hyperv.noNonarchCoresharing = value;
  else return false;
  return true;
}

/** <features><hyperv>, <timer name='hypervclock'> and <panic model='hyperv'> into the hyperv map (elements win over -global, as on -cpu). */
function readHypervElements(root: XNode, hyperv: Record<string, unknown>, note: (message: string, path?: string) => void): void {
  const hv = at(root, ["features", "hyperv"]);
  if (hv) {
    if (attrOf(hv, "mode") === "passthrough") hyperv.mode = "passthrough";
    else {
      for (const row of HYPERV_FEATURES) {
        const lc = row.libvirt;
        if (lc?.kind !== "hyperv") continue;
        const el = at(hv, [...lc.path]);
        const state = attrOf(el, "state");
        // a nested element says something only under its parent switched on (libvirt emits nothing else)
        if (lc.path.length > 1 && attrOf(child(hv, lc.path[0]), "state") !== "on") continue;
        if (state === "on" || state === "off") hyperv[row.key] = state === "on";
      }
      const sl = child(hv, "spinlocks");
      const retries = Number(attrOf(sl, "retries"));
      if (attrOf(sl, "state") === "on" && Number.isInteger(retries)) hyperv.spinlocks = retries;
      const vendor = child(hv, "vendor_id");
      const id = attrOf(vendor, "value");
      if (attrOf(vendor, "state") === "on" && id !== undefined) {
        if (VENDOR_ID_RE.test(id)) hyperv.vendorId = id;
        else
          note(
            `<vendor_id value='${id}'/> is not a vendor id the spec takes (1-12 of letters, digits, . _ - and inner spaces): not carried over`,
            "features.hyperv.vendor_id",
          );
      }
    }
  }
  const clock = childrenNamed(child(root, "clock"), "timer").find((t) => attrOf(t, "name") === "hypervclock");
  const present = attrOf(clock, "present");
  if (present === "yes" || present === "no") hyperv.time = present === "yes";
  // under passthrough the panic device is just a device (hv-passthrough turns hv-crash on by itself)
  if (hyperv.mode !== "passthrough" && childrenNamed(child(root, "devices"), "panic").some((p) => attrOf(p, "model") === "hyperv"))
    hyperv.crash = true;
}
