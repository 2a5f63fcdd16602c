import type { FeatureRow } from "../catalog/features";
import { HYPERV_VALUES, type HypervKey, type HypervRow } from "../catalog/hyperv";
import type { Resolved } from "../resolve/resolve";
import { atLeast } from "../util/version";

/**
 * How each explicit setting reaches QEMU through libvirt: the dedicated element
 * where libvirt really emits the value, otherwise a `-global` in the QEMU
 * namespace (which libvirt reports as the custom-argv taint).
 */
export type FallbackWhy = "no-element" | "element-is-noop" | "libvirt-too-old" | "needs-parent-element";

/** How the Hyper-V settings reach QEMU: libvirt's <hyperv> children, <timer name='hypervclock'>, <panic model='hyperv'> (a device), else -global. */
export interface HypervPlan {
  /** <hyperv mode='custom|passthrough'>, or nothing */
  mode?: "custom" | "passthrough";
  /** write the mode attribute (libvirt 8.0 and later write it back themselves) */
  modeAttr: boolean;
  /** flags written as libvirt elements (the <hyperv> children and the hypervclock timer; the panic device is a device) */
  elements: { row: HypervRow; value: boolean }[];
  spinlocks?: number;
  vendorId?: string;
  /** settings libvirt cannot express (or not in this release): -global x86_64-cpu.<property>=<value> */
  globals: { property: string; value: string; why: FallbackWhy }[];
}

export interface LibvirtPlan {
  /** settings written as libvirt's own element; value = QEMU property value */
  elements: { feature: FeatureRow; value: boolean }[];
  /** settings written as -global x86_64-cpu.<prop>=on|off */
  globals: { feature: FeatureRow; value: boolean; why: FallbackWhy }[];
  /** extra -machine options libvirt cannot express */
  machineOptions: string[];
  /** <ioapic driver=...> */
  ioapic?: "qemu";
  hyperv: HypervPlan;
}

export function planLibvirt(r: Resolved): LibvirtPlan {
  const plan: LibvirtPlan = { elements: [], globals: [], machineOptions: [], hyperv: planHyperv(r) };
  for (const res of r.features.values()) {
    if (res.requested === undefined) continue;
    const f = res.feature;
    const value = res.requested;
    const lc = f.libvirt;
    if (!lc) {
      plan.globals.push({ feature: f, value, why: "no-element" });
    } else if (!atLeast(r.host.libvirt, lc.since)) {
      plan.globals.push({ feature: f, value, why: "libvirt-too-old" });
    } else if (lc.effect[`${value}`] === "emits" || res.enabled === res.inherited) {
      // a no-op element is enough when QEMU would arrive at the same value on its own
      plan.elements.push({ feature: f, value });
    } else {
      plan.globals.push({ feature: f, value, why: "element-is-noop" });
    }
  }
  if (r.domain.accel === "kvm") {
    if (r.domain.irqchip === "split") plan.ioapic = "qemu";
    if (r.domain.irqchip === "off") plan.machineOptions.push("kernel-irqchip=off");
  }
  return plan;
}

const hex = (n: number) => `0x${n.toString(16)}`;

function planHyperv(r: Resolved): HypervPlan {
  const lv = r.host.libvirt;
  const plan: HypervPlan = { modeAttr: atLeast(lv, HYPERV_VALUES.passthrough.libvirtSince), elements: [], globals: [] };
  if (!r.hyperv.declared) return plan;
  const global = (property: string, value: string, why: FallbackWhy) => plan.globals.push({ property, value, why });
  if (r.hyperv.mode === "passthrough") {
    // the flags, spinlocks and vendor id are the host's then (hyperv-settings-in-passthrough says so)
    if (plan.modeAttr) plan.mode = "passthrough";
    else global(HYPERV_VALUES.passthrough.qemu, "on", "libvirt-too-old");
    if (r.hyperv.noNonarchCoresharing) global(HYPERV_VALUES.noNonarchCoresharing.qemu, r.hyperv.noNonarchCoresharing.set, "no-element");
    return plan;
  }
  plan.mode = "custom";
  // what is written: the spec's flags and values, else the guest OS profile's
  const h = r.hyperv;
  for (const x of h.flags.values()) {
    if (x.set === undefined) continue;
    const row = x.row;
    const lc = row.libvirt;
    const onOff = x.set ? "on" : "off";
    if (!lc) global(row.qemu, onOff, "no-element");
    else if (!atLeast(lv, lc.since)) global(row.qemu, onOff, "libvirt-too-old");
    // a nested element (stimer/direct, tlbflush/direct) says nothing unless its parent flag is on
    else if (lc.kind === "hyperv" && lc.path.length > 1 && h.flags.get(lc.path[0] as HypervKey)?.set !== true)
      global(row.qemu, onOff, "needs-parent-element");
    // the panic device is written with the devices (on) or left out (off: QEMU's default)
    else if (lc.kind !== "panic") plan.elements.push({ row, value: x.set });
  }
  if (h.setSpinlocks !== undefined) {
    if (atLeast(lv, HYPERV_VALUES.spinlocks.libvirtSince)) plan.spinlocks = h.setSpinlocks;
    else global(HYPERV_VALUES.spinlocks.qemu, hex(h.setSpinlocks), "libvirt-too-old");
  }
  // no libvirt element: always through -global
  if (h.noNonarchCoresharing) global(HYPERV_VALUES.noNonarchCoresharing.qemu, h.noNonarchCoresharing.set, "no-element");
  if (h.setVendorId !== undefined) {
    if (atLeast(lv, HYPERV_VALUES.vendorId.libvirtSince)) plan.vendorId = h.setVendorId;
    else global(HYPERV_VALUES.vendorId.qemu, h.setVendorId, "libvirt-too-old");
  }
  return plan;
}

/** A resolved domain with its libvirt plan: what the checks and the renderers work on. */
export interface Planned extends Resolved {
  /** how the explicit settings reach QEMU through libvirt */
  libvirt: LibvirtPlan;
}

export const needsCustomArgv = (p: LibvirtPlan): boolean =>
  p.globals.length > 0 || p.machineOptions.length > 0 || p.hyperv.globals.length > 0;
