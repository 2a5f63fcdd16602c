import { FEATURES } from "../catalog/features";
import { HYPERV_FEATURES, HYPERV_VALUES } from "../catalog/hyperv";
import { attrs, kids, tagOf, type XNode } from "../util/ordered-xml";
import { METADATA_TAG } from "./metadata";

/**
 * What the spec owns in a libvirt domain document: ONE declaration, from which the
 * in-process merge (CLI apply) and the exported XSLT (the component's update, other
 * providers) are both derived. Everything not declared here is the live document's and
 * survives by construction. The PV elements come from the catalog's libvirt addresses.
 *
 * A slot owns some children of one parent element. Applying a slot to a live document
 * drops the owned children and adds the desired ones after (or before) what stays,
 * creates the parent when it is missing and the desired document has owned children
 * there, and removes a parent the slot emptied.
 */
export interface ChildSlot {
  /** element path below <domain> */
  parent: readonly string[];
  /** the owned children, as a JavaScript predicate and as the equivalent XPath 1.0 step predicate */
  owns: (child: XNode) => boolean;
  xpath: string;
  /** when the parent is missing: insert the desired parent element whole (true) or only its owned children */
  createWhole: boolean;
  /** where the desired children go in the parent: after what it keeps (default), or before (the CPU model comes first) */
  first?: boolean;
  /** the parent's own attributes are the spec's too (replaced by the desired ones) */
  ownsAttributes?: boolean;
}

const catalogChildren = (parent: string) =>
  FEATURES.flatMap((f) => (f.libvirt && f.libvirt.parent.join("/") === parent ? [f.libvirt] : []));

const byTag = (tags: readonly string[]) => ({
  owns: (c: XNode) => tags.includes(tagOf(c)),
  xpath: tags.map((t) => `self::${t}`).join(" or "),
});

/** <features>: the PV elements with a catalog address directly under it, <ioapic> (the irqchip) and <hyperv> whole (the spec's hyperv map). */
const FEATURE_TAGS = [...catalogChildren("features").map((l) => l.element), "ioapic", "hyperv"];
/** <features><kvm>: the catalog's children only (<dirty-ring> and others are not ours). */
const KVM_TAGS = catalogChildren("features/kvm").map((l) => l.element);
/** <clock>: the timers with a catalog address (kvmclock, and hypervclock for hyperv.time). */
const TIMER_NAMES = [
  ...catalogChildren("clock").map((l) => l.match!.name),
  ...HYPERV_FEATURES.flatMap((r) => (r.libvirt?.kind === "timer" ? [r.libvirt.name] : [])),
];
/** <cpu>: the model, vendor and flags (topology, NUMA, cache stay; see `topologyFits`). */
const CPU_TAGS = ["model", "vendor", "feature"];

export const SLOTS: readonly ChildSlot[] = [
  { parent: ["features"], ...byTag(FEATURE_TAGS), createWhole: true },
  { parent: ["features", "kvm"], ...byTag(KVM_TAGS), createWhole: false },
  {
    parent: ["clock"],
    owns: (c) => tagOf(c) === "timer" && TIMER_NAMES.includes(attrs(c)["@_name"]),
    xpath: `self::timer[${TIMER_NAMES.map((n) => `@name='${n}'`).join(" or ")}]`,
    createWhole: true,
  },
  // <cpu>'s attributes (mode, match, check) are the spec's as well
  { parent: ["cpu"], ...byTag(CPU_TAGS), createWhole: true, first: true, ownsAttributes: true },
  { parent: ["metadata"], ...byTag([METADATA_TAG]), createWhole: true },
];

/**
 * Placement, owned when the whole spec is applied (apply, the component), like sizing, not
 * by the PV-only XSLT: the pins of <cputune> (shares, quotas and schedulers stay), the
 * memory policy of <numatune> (per-cell <memnode>s stay), the huge pages of <memoryBacking>
 * (its other settings stay) and the guest's NUMA cells (<cpu><numa>). A spec without them
 * takes them away.
 */
const PLACEMENT_SLOTS: readonly ChildSlot[] = [
  { parent: ["cputune"], ...byTag(["vcpupin", "emulatorpin", "iothreadpin"]), createWhole: false },
  { parent: ["numatune"], ...byTag(["memory"]), createWhole: false },
  { parent: ["memoryBacking"], ...byTag(["hugepages"]), createWhole: false },
];

/** The slots a whole-spec application owns: SLOTS with the guest's NUMA cells in <cpu>, and the placement slots. */
export const WHOLE_SPEC_SLOTS: readonly ChildSlot[] = [
  ...SLOTS.map((slot) => (slot.parent.join("/") === "cpu" ? { ...slot, ...byTag([...CPU_TAGS, "numa"]) } : slot)),
  ...PLACEMENT_SLOTS,
];

/** Attributes owned outright: the domain type and the machine type. */
export const OWNED_ATTRS: readonly { path: readonly string[]; attr: string }[] = [
  { path: [], attr: "type" },
  { path: ["os", "type"], attr: "machine" },
];

/** Sizing, owned when the whole spec is applied (apply, the component), not by the PV-only XSLT. */
export const SIZING = {
  /** the IOThread count, when the spec pins IOThreads (a live domain's own stay: its disks may use them); the PV-only XSLT sets it too (the spec's disks may name one) */
  iothreads: "iothreads",
  /** replaced whole (the unit as rendered) */
  memory: "memory",
  /** its text (placement and cpuset stay) */
  vcpu: "vcpu",
  /** libvirt derives it from memory */
  dropped: "currentMemory",
} as const;

/** A CPU topology that does not multiply to the vCPU count would make libvirt refuse the definition. */
export function topologyFits(topology: XNode, vcpus: number): boolean {
  const a = attrs(topology);
  const n = (k: string, dflt: number) => (a[`@_${k}`] === undefined ? dflt : Number(a[`@_${k}`]));
  return n("sockets", 1) * n("dies", 1) * n("cores", 1) * n("threads", 1) === vcpus;
}
export const topologyFitsXPath = (vcpus: number) =>
  `(sum(@sockets) + 1 - count(@sockets)) * (sum(@dies) + 1 - count(@dies)) * (sum(@cores) + 1 - count(@cores)) * (sum(@threads) + 1 - count(@threads)) = ${vcpus}`;

/**
 * Our QEMU-namespace arguments: `-global x86_64-cpu.<catalog property>=...` and
 * `-machine kernel-irqchip=...`, each owned together with its flag.
 */
const PV_PROPERTIES = [
  ...FEATURES.flatMap((f) => [f.qemu, ...f.aliases]),
  ...HYPERV_FEATURES.flatMap((r) => [r.qemu, ...r.aliases]),
  ...Object.values(HYPERV_VALUES).map((v) => v.qemu),
];
/** The driver a PV -global names: x86_64-cpu, or a model's own (qemu64-x86_64-cpu, ...). */
const GLOBAL_RE = /^([\w.-]*x86_64-cpu)\.([\w-]+)=(.*)$/;

/** A `-global` value that sets a PV property: the one reading of it, for the reader and the merge alike. */
export function pvGlobal(value: string): { property: string; value: string } | null {
  const m = GLOBAL_RE.exec(value);
  return m && PV_PROPERTIES.includes(m[2]) ? { property: m[2], value: m[3] } : null;
}

export function ownedArgPair(flag: string, value: string): boolean {
  if (flag === "-global") return pvGlobal(value) !== null;
  return flag === "-machine" && /^kernel[-_]irqchip=/.test(value);
}
/** The same test in XPath 1.0, for a value attribute node `v` whose flag is `flag`. */
export function ownedArgPairXPath(flag: string, v: string): string {
  const prop = `substring-before(substring-after(${v}, 'x86_64-cpu.'), '=')`;
  const names = ` ${PV_PROPERTIES.join(" ")} `;
  // the driver prefix may hold only [A-Za-z0-9_.-], as GLOBAL_RE's [\w.-]*
  const word = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
  const prefixOk = `translate(substring-before(${v}, 'x86_64-cpu.'), '${word}', '') = ''`;
  return (
    `((${flag} = '-global' and contains(${v}, 'x86_64-cpu.') and ${prefixOk} and contains('${names}', concat(' ', ${prop}, ' ')))` +
    ` or (${flag} = '-machine' and (starts-with(${v}, 'kernel-irqchip=') or starts-with(${v}, 'kernel_irqchip='))))`
  );
}

/** Indexes of the owned <qemu:arg> children (flag and value) of a <qemu:commandline>. */
export function ownedArgIndexes(commandline: XNode): Set<number> {
  const list = kids(commandline);
  const args = list
    .map((c, i) => ({ i, value: tagOf(c) === "qemu:arg" ? attrs(c)["@_value"] : undefined }))
    .filter((x) => x.value !== undefined);
  const owned = new Set<number>();
  for (let j = 0; j + 1 < args.length; j++)
    if (ownedArgPair(args[j].value!, args[j + 1].value!)) {
      owned.add(args[j].i);
      owned.add(args[j + 1].i);
      j++;
    }
  return owned;
}
