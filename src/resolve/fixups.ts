import type { DomainSpec } from "../input/schema";

/**
 * QEMU's context fix-ups in one place: what the irqchip changes in the features a vCPU can
 * get under KVM. QEMU keeps them together in kvm_arch_get_supported_cpuid (target/i386/kvm/
 * kvm.c): GET_SUPPORTED_CPUID reports them, but they cannot work in this context (or, for the
 * extended MSI destination ID, only QEMU's userspace IOAPIC implements them). Machine-type
 * compat defaults are data too: MACHINE_COMPAT in src/catalog/machines.ts.
 */

export type Irqchip = DomainSpec["irqchip"];
export type FixupCause = "needs-kernel-irqchip" | "needs-split-irqchip";

export interface SupportedFixup {
  /** the QEMU property (CPU flag or FEAT_KVM bit) */
  feature: string;
  /** added to or removed from what the host offers, in the contexts `when` is true */
  effect: "add" | "remove";
  when: (irqchip: Irqchip) => boolean;
  /** why a feature is missing where this fix-up takes it away (or does not add it) */
  cause: FixupCause;
  source: string;
}

export const SUPPORTED_FIXUPS: readonly SupportedFixup[] = [
  {
    feature: "kvm-pv-unhalt",
    effect: "remove",
    when: (irqchip) => irqchip === "off",
    cause: "needs-kernel-irqchip",
    source: "kvm_arch_get_supported_cpuid: if (!kvm_irqchip_in_kernel()) ret &= ~CPUID_KVM_PV_UNHALT",
  },
  {
    feature: "kvm-msi-ext-dest-id",
    effect: "add",
    when: (irqchip) => irqchip === "split",
    cause: "needs-split-irqchip",
    source: "kvm_arch_get_supported_cpuid: if (kvm_irqchip_is_split()) ret |= CPUID_KVM_MSI_EXT_DEST_ID",
  },
  {
    feature: "x2apic",
    effect: "remove",
    when: (irqchip) => irqchip === "off",
    cause: "needs-kernel-irqchip",
    source: "kvm_arch_get_supported_cpuid (function 1, ECX): if (!kvm_irqchip_in_kernel()) ret &= ~CPUID_EXT_X2APIC",
  },
];

const BY_FEATURE: ReadonlyMap<string, SupportedFixup> = new Map(SUPPORTED_FIXUPS.map((f) => [f.feature, f]));

/** What the host's KVM offers once QEMU has fixed it up for this irqchip. */
export function supportedUnder(offered: ReadonlySet<string>, irqchip: Irqchip): Set<string> {
  const out = new Set(offered);
  for (const f of SUPPORTED_FIXUPS)
    if (f.when(irqchip)) {
      if (f.effect === "add") out.add(f.feature);
      else out.delete(f.feature);
    }
  return out;
}

/** The fix-up that makes `feature` unavailable under this irqchip, if one does. */
export function fixupAgainst(feature: string, irqchip: Irqchip): SupportedFixup | undefined {
  const f = BY_FEATURE.get(feature);
  if (!f) return undefined;
  return (f.effect === "remove") === f.when(irqchip) ? f : undefined;
}
