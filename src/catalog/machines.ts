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

export interface ResolvedMachine {
  requested: string;
  /** the versioned type QEMU will use */
  resolved: string;
  /** what the XML and the QEMU args name: the versioned type for a known host, the alias as written for an assumed one */
  rendered: string;
  family: MachineFamily;
  /** "7.2" */
  version: string;
  /** pc_compat_5_1: kvm-msi-ext-dest-id forced off, kvmclock device only with the CPUID bit */
  compat51: boolean;
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
  const v = parseVersion(version) ?? [0];
  return {
    requested,
    resolved,
    rendered: host.source === "assumed" ? requested : resolved,
    family,
    version,
    compat51: compareVersions(v, [5, 1]) <= 0,
    problem,
  };
}
