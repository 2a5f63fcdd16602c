/**
 * Diagnostic codes whose prediction is "QEMU (or libvirt) refuses to start", and the text
 * each refusal shows. The live oracles check a predicted refusal against QEMU's stderr or
 * libvirt's start error; the KVM replay against the last line QEMU printed.
 */

/** Codes whose prediction is "QEMU refuses to start". */
export const QEMU_ABORTS = new Set(["asyncpf-int-needs-kernel-irqchip", "pv-enforce-cpuid-unsupported", "host-qemu-too-old"]);
/** Codes whose prediction is "libvirt refuses to start the domain" (QEMU's refusals reach libvirt too). */
export const LIBVIRT_REFUSES = new Set([...QEMU_ABORTS, "libvirt-refuses-pvspinlock"]);

/**
 * The error text a predicted refusal must show (QEMU's stderr, or libvirt's start error, which
 * carries QEMU's): a refusal for another reason is not the predicted one. Texts as observed on
 * QEMU 7.2 / libvirt 9.0; a code without a known text is checked as a refusal only.
 */
export const REFUSAL_TEXT: ReadonlyMap<string, RegExp> = new Map([
  ["asyncpf-int-needs-kernel-irqchip", /failed to set MSR 0x4b564d06/],
  ["host-qemu-too-old", /not found/],
  ["libvirt-refuses-pvspinlock", /host doesn't support paravirtual spinlocks/],
]);

/**
 * The last line QEMU prints for each refusal (what test/fixtures/kvm-observed records): for
 * the MSR QEMU fails to set, the assertion that follows "failed to set MSR ...".
 */
export const QEMU_LAST_LINE: ReadonlyMap<string, RegExp> = new Map([
  ["asyncpf-int-needs-kernel-irqchip", /kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed|failed to set MSR 0x4b564d06/],
  ["pv-enforce-cpuid-unsupported", /failed to enable KVM_CAP_ENFORCE_PV_FEATURE_CPUID/],
  ["host-qemu-too-old", /property '[a-z0-9-]+' not found/],
]);
