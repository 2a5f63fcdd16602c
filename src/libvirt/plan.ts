import type { FeatureRow } from "../catalog/features";
import type { Resolved } from "../resolve/resolve";
import { atLeast } from "../util/version";

/**
 * How each explicit setting reaches QEMU through libvirt: the dedicated element
 * where libvirt really emits the value, otherwise a `-global` in the QEMU
 * namespace (which libvirt reports as the custom-argv taint).
 */
export type FallbackWhy = "no-element" | "element-is-noop" | "libvirt-too-old";

export interface LibvirtPlan {
  /** settings written as libvirt's own element; value = QEMU property value */
  elements: { feature: FeatureRow; value: boolean }[];
  /** settings written as -global x86_64-cpu.<prop>=on|off */
  globals: { feature: FeatureRow; value: boolean; why: FallbackWhy }[];
  /** extra -machine options libvirt cannot express */
  machineOptions: string[];
  /** <ioapic driver=...> */
  ioapic?: "qemu";
}

export function planLibvirt(r: Resolved): LibvirtPlan {
  const plan: LibvirtPlan = { elements: [], globals: [], machineOptions: [] };
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

/** A resolved domain with its libvirt plan: what the checks and the renderers work on. */
export interface Planned extends Resolved {
  /** how the explicit settings reach QEMU through libvirt */
  libvirt: LibvirtPlan;
}

export const needsCustomArgv = (p: LibvirtPlan): boolean => p.globals.length > 0 || p.machineOptions.length > 0;
