import type { HostProfile } from "../host/profile";
import { atLeast, compareVersions, majorMinor, parseVersion } from "../util/version";

/**
 * x86 PC machine types: the unversioned aliases `q35` and `pc` (QEMU points them at
 * its newest versioned type) and versioned ones such as `pc-q35-5.1`.
 */
export type MachineFamily = "q35" | "i440fx";

// a Map: the machine name is user input, and a plain object would answer for "constructor"
const ALIASES: ReadonlyMap<string, MachineFamily> = new Map([
  ["q35", "q35"],
  ["pc", "i440fx"],
]);
const VERSIONED_RE = /^pc-(q35|i440fx)-(\d{1,3}\.\d{1,3}(?:\.\d{1,3})?)$/;

/**
 * Oldest versioned types a QEMU release still has: 7.2 probed (query-machines),
 * 10.2 from its sources. Releases in between get the older (lenient) floor.
 */
const OLDEST: readonly { qemu: string; q35: string; i440fx: string }[] = [
  { qemu: "10.2", q35: "2.6", i440fx: "2.6" },
  { qemu: "0", q35: "2.4", i440fx: "1.4" },
];
const oldestFor = (qemu: string, family: MachineFamily) => OLDEST.find((o) => atLeast(qemu, o.qemu))![family];

export const MACHINE_PATTERN_HELP = "q35, pc, or a versioned type such as pc-q35-7.2 or pc-i440fx-5.1";

export function isMachineSyntax(text: string): boolean {
  return ALIASES.has(text) || VERSIONED_RE.test(text);
}

/**
 * Machine compat as data (QEMU's hw_compat/pc_compat arrays): the property defaults an older
 * machine type sets on every vCPU. A spec's explicit value wins over them.
 */
export interface MachineCompat {
  /** the newest machine version the row applies to (it applies to this one and older) */
  upTo: string;
  property: string;
  value: boolean;
  reason: string;
  /** where QEMU says so */
  source: string;
}

export const MACHINE_COMPAT: readonly MachineCompat[] = [
  {
    upTo: "5.1",
    property: "kvm-msi-ext-dest-id",
    value: false,
    reason: "machine types 5.1 and older force it off (pc_compat_5_1)",
    source: 'hw/i386/pc.c pc_compat_5_1[]: { TYPE_X86_CPU, "kvm-msi-ext-dest-id", "off" }',
  },
];

/**
 * Machine compat that edits QEMU's KVM defaults for named models (x86_cpu_change_kvm_default)
 * instead of setting a vCPU property: with the default gone, a named model has the
 * property only if its own definition does (src/catalog/cpu-models.ts). Passthrough CPUs
 * take it from the host's KVM, so these rows do not touch them.
 */
export interface KvmDefaultCompat {
  family: MachineFamily;
  /** the newest machine version of that family the row applies to (it applies to this one and older) */
  upTo: string;
  property: "x2apic";
  reason: string;
  source: string;
}

const KVM_DEFAULT_COMPAT: readonly KvmDefaultCompat[] = [
  {
    family: "i440fx",
    upTo: "1.7",
    property: "x2apic",
    reason:
      "machine types pc-i440fx-1.7 and older remove x2apic from QEMU's KVM defaults (pc_compat_1_7): a named model has it only if its own definition does",
    source:
      'hw/i386/pc_piix.c pc_compat_1_7_fn: x86_cpu_change_kvm_default("x2apic", NULL), reached from pc_compat_1_4_fn to 1_6 (QEMU 7.2; observed: test/fixtures/kvm-observed)',
  },
];

export interface ResolvedMachine {
  requested: string;
  /** the versioned type QEMU will use */
  resolved: string;
  /** what the XML and the QEMU args name: the versioned type for a known host, the alias as written for an assumed one */
  rendered: string;
  family: MachineFamily;
  /** "7.2" */
  version: string;
  /** the compat property defaults of this machine type, by QEMU property name */
  compat: ReadonlyMap<string, MachineCompat>;
  /** the KVM defaults of named models this machine type removes, by property */
  kvmDefaultsRemoved: ReadonlyMap<string, KvmDefaultCompat>;
  /** null when fine, else why the host's QEMU lacks this type */
  problem: string | null;
}

function familyPrefix(family: MachineFamily): string {
  return family === "q35" ? "pc-q35-" : "pc-i440fx-";
}

export function resolveMachine(requested: string, host: HostProfile): ResolvedMachine {
  let family: MachineFamily;
  let resolved: string;
  const alias = ALIASES.get(requested);
  if (alias) {
    family = alias;
    const known = host.machines?.find((m) => m.alias === requested);
    resolved = known ? known.name : `${familyPrefix(family)}${majorMinor(host.qemu) ?? host.qemu}`;
  } else {
    const m = VERSIONED_RE.exec(requested);
    if (!m) throw new Error(`not a machine type: ${requested}`); // the spec schema rejects these first
    family = m[1] as MachineFamily;
    resolved = requested;
  }
  const version = resolved.slice(familyPrefix(family).length);
  let problem: string | null = null;
  if (host.machines && !host.machines.some((m) => m.name === resolved)) {
    problem = `the host's QEMU ${host.qemu} has no machine type ${resolved}`;
  } else if (!host.machines) {
    if (!atLeast(host.qemu, version)) problem = `${resolved} is newer than the host's QEMU ${host.qemu}`;
    else if (!atLeast(version, oldestFor(host.qemu, family)))
      problem = `${resolved} is older than the oldest ${family} type QEMU ${host.qemu} keeps (${oldestFor(host.qemu, family)})`;
  }
  // a distribution's own type (Ubuntu points q35 at pc-q35-jammy) has no version to compare: no compat assumed
  const v = parseVersion(version);
  const upTo = (row: { upTo: string }) => v !== null && compareVersions(v, parseVersion(row.upTo)!) <= 0;
  return {
    requested,
    resolved,
    rendered: host.source === "assumed" ? requested : resolved,
    family,
    version,
    compat: new Map(MACHINE_COMPAT.filter(upTo).map((c) => [c.property, c])),
    kvmDefaultsRemoved: new Map(KVM_DEFAULT_COMPAT.filter((c) => c.family === family && upTo(c)).map((c) => [c.property, c])),
    problem,
  };
}
