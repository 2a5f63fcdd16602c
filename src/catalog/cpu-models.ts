/**
 * Facts about QEMU's named x86 CPU models that decide what a vCPU gets when QEMU's KVM
 * defaults do not (see KVM_DEFAULT_COMPAT in machines.ts).
 */

/**
 * The model families whose own definition has x2apic (CPUID.01H:ECX bit 21,
 * CPUID_EXT_X2APIC in builtin_x86_defs, target/i386/cpu.c), with every version and variant
 * (`-v2`, `-IBRS`, `-noTSX`). Measured on QEMU 7.2 under KVM for all 129 named models it
 * lists: on pc-i440fx-1.7, where the KVM default is gone, exactly these realize x2apic
 * (test/oracle/cpu-models.test.ts asks the host's QEMU again).
 */
const X2APIC_MODEL_FAMILIES: readonly string[] = [
  "SandyBridge",
  "IvyBridge",
  "Haswell",
  "Broadwell",
  "Skylake-Client",
  "Skylake-Server",
  "Cascadelake-Server",
  "Cooperlake",
  "Icelake-Server",
  "Snowridge",
  "KnightsMill",
  "Denverton",
];

/** Whether QEMU's definition of a named model has x2apic itself (a family member: the name, or the name and a dash). */
export function modelDefinesX2apic(model: string): boolean {
  return X2APIC_MODEL_FAMILIES.some((f) => model === f || model.startsWith(`${f}-`));
}
