import type { Resolution } from "../analyze";
import { HYPERV_VALUES } from "../catalog/hyperv";

/**
 * The QEMU command-line equivalent of a domain's CPU configuration:
 * -accel, -machine, -cpu, -smp, -m. Every explicit PV setting goes on -cpu.
 */

/** QEMU option-string escaping: a literal comma is written as two. */
export const qemuOptValue = (s: string): string => s.replace(/,/g, ",,");

const onOff = (v: boolean) => (v ? "on" : "off");

/** The `-cpu` properties for explicit settings, in catalog order, then x2apic, then other CPU features. */
export function cpuProperties(r: Resolution): [string, boolean][] {
  const props: [string, boolean][] = [];
  for (const res of r.features.values()) if (res.requested !== undefined) props.push([res.feature.qemu, res.requested]);
  if (r.domain.x2apic !== undefined) props.push(["x2apic", r.domain.x2apic]);
  for (const [name, v] of Object.entries(r.domain.cpu.features)) props.push([name, v]);
  return props;
}

/**
 * The Hyper-V `-cpu` properties, as libvirt emits them for the same spec: hv-passthrough=on alone
 * in passthrough mode; else each explicit flag, hv-spinlocks in hex, hv-vendor-id.
 */
function hypervProperties(r: Resolution): string[] {
  const h = r.hyperv;
  if (!h.declared) return [];
  const nonarch = h.noNonarchCoresharing ? [`${HYPERV_VALUES.noNonarchCoresharing.qemu}=${h.noNonarchCoresharing.set}`] : [];
  if (h.mode === "passthrough") return [`${HYPERV_VALUES.passthrough.qemu}=on`, ...nonarch];
  const out: string[] = [];
  for (const x of h.flags.values()) if (x.set !== undefined) out.push(`${x.row.qemu}=${onOff(x.set)}`);
  if (h.setSpinlocks !== undefined) out.push(`${HYPERV_VALUES.spinlocks.qemu}=0x${h.setSpinlocks.toString(16)}`);
  out.push(...nonarch);
  if (h.setVendorId !== undefined) out.push(`${HYPERV_VALUES.vendorId.qemu}=${qemuOptValue(h.setVendorId)}`);
  return out;
}

export function renderQemuArgs(r: Resolution): string[] {
  const d = r.domain;
  const accel: string[] = [d.accel];
  if (d.accel === "kvm" && d.irqchip !== "kernel") accel.push(`kernel-irqchip=${d.irqchip}`);
  const cpu = [qemuOptValue(r.qemuModel), ...cpuProperties(r).map(([k, v]) => `${qemuOptValue(k)}=${onOff(v)}`), ...hypervProperties(r)];
  return [
    "-accel",
    accel.join(","),
    "-machine",
    qemuOptValue(r.machine.rendered),
    "-cpu",
    cpu.join(","),
    "-smp",
    String(d.vcpus),
    "-m",
    `${d.memoryMiB}M`,
  ];
}
