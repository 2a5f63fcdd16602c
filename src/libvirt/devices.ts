import {
  DISK_BUSES,
  DISK_CACHES,
  DISK_DEVICES,
  DISK_FORMATS,
  DISK_IOS,
  DISK_TARGET_RE,
  LISTEN_RE,
  NIC_MODELS,
  type DiskSpec,
  type DomainSpec,
  type NicSpec,
} from "../input/schema";
import { attrs, kids, tagOf, type XNode } from "../util/ordered-xml";
import { attrOf, child, childrenNamed, decodeXml, isElement, newElement, notWellFormed, parseDocument } from "./document";

/**
 * The devices a spec declares, as libvirt <devices> children, and how a device is
 * identified in a live document: a disk by its target, an interface by its MAC (or, when
 * the spec gives none, by its source and its order among interfaces of that source), the
 * serial console by its port, graphics by type. The spec owns exactly the devices it
 * declares (recorded in our metadata, so that one it drops goes too); every other device
 * of the live domain stays. Each kind is described once (DEVICE_KINDS): the writer, the
 * reader, the merge and the XSLT all go through that table.
 */

export interface DesiredDevice {
  /** e.g. disk:vda, interface:mac:52:54:00:00:00:01, interface:network:default#0, serial:0, console:0, graphics:vnc */
  id: string;
  node: XNode;
  /** can libvirt attach/detach it to/from a running domain (virsh attach-device --live) */
  hotplug: boolean;
}

const E = newElement;

function diskNode(d: DiskSpec): XNode {
  const source =
    d.file !== undefined
      ? E("source", { file: d.file })
      : d.pool !== undefined
        ? E("source", { pool: d.pool, volume: d.volume })
        : undefined;
  return E("disk", { type: d.file !== undefined ? "file" : d.pool !== undefined ? "volume" : "file", device: d.device }, [
    E("driver", {
      name: "qemu",
      type: d.format,
      cache: d.cache,
      io: d.io,
      iothread: d.iothread === undefined ? undefined : String(d.iothread),
    }),
    ...(source ? [source] : []),
    E("target", { dev: d.target, bus: d.bus }),
    ...(d.readonly ? [E("readonly")] : []),
    ...(d.boot !== undefined ? [E("boot", { order: String(d.boot) })] : []),
  ]);
}

function nicNode(n: NicSpec): XNode {
  const source =
    n.type === "network" ? E("source", { network: n.source }) : n.type === "bridge" ? E("source", { bridge: n.source }) : undefined;
  return E("interface", { type: n.type }, [
    ...(n.mac ? [E("mac", { address: n.mac })] : []),
    ...(source ? [source] : []),
    E("model", { type: n.model }),
    ...(n.boot !== undefined ? [E("boot", { order: String(n.boot) })] : []),
  ]);
}

/** The identity of an interface: its MAC when the spec gives one, else its source and order. */
const nicKey = (type: string, source: string | undefined) => `interface:${type}:${source ?? ""}`;

/** The device elements libvirt's <devices> holds that extraDevices may add (libvirt's domain schema). */
export const EXTRA_DEVICE_TAGS = [
  "disk",
  "interface",
  "controller",
  "hostdev",
  "input",
  "sound",
  "video",
  "watchdog",
  "rng",
  "memballoon",
  "channel",
  "filesystem",
  "tpm",
  "redirdev",
  "smartcard",
  "hub",
  "panic",
  "shmem",
  "iommu",
  "vsock",
  "serial",
  "console",
  "parallel",
  "graphics",
  "memory",
  "audio",
  "crypto",
  "pstore",
] as const;

/**
 * The extra devices libvirt defines but keeps WITHOUT the user alias the tool names them by,
 * so that they are never found again (plan would add them on every run): refused by the rule
 * extra-device-alias-dropped. Measured on libvirt 9.0.0 / QEMU 7.2 (qemu:///system, 2026-12-07):
 * each defined with <alias name='ua-...'/>; neither `virsh dumpxml --inactive` nor the live XML
 * of the domain started (paused) has the alias. Every other kind and variant tried kept it
 * (disk, interface, controller usb/sata/scsi/virtio-serial/ccid/pci, hostdev, input, sound,
 * video including model none, watchdog, rng, memballoon virtio, channel, filesystem, tpm,
 * redirdev, smartcard, hub, panic, shmem, iommu, vsock, serial, parallel, console on a virtio
 * target; hostdev, vsock and a passthrough tpm in the inactive XML only: they cannot start here). Why: in the live XML of a running domain libvirt gives graphics, audio and a balloon or
 * controller of model none no alias of its own either (no <alias>, no <address>: there is no
 * QEMU device to name), so there is none to keep; a console on a serial target is libvirt's
 * mirror of the first serial and shows that serial's alias (libvirt's source,
 * virDomainDeviceDefValidateAliasesIterator in src/conf/domain_conf.c: "Some crazy backcompat for
 * consoles"). test/oracle/extra-alias.test.ts defines every row (`sample`, after `before`) with
 * an alias on the real libvirtd and checks the alias is gone, and that the neighbours kept.
 * (<crypto> and <pstore> libvirt 9.0 does not know at all: it drops the whole element, and
 * its schema refuses them: extra-device-schema.)
 */
export const ALIAS_DROPPED: readonly {
  /** the device element */
  element: (typeof EXTRA_DEVICE_TAGS)[number];
  /** only when this attribute (of `child`, when given) is one of these values (null: absent); always without */
  when?: { child?: string; attr: string; is: readonly (string | null)[] };
  /** how the rule names the device */
  what: string;
  /** what to do instead */
  instead: string;
  /** for the oracle: a device of the row, and what the domain needs before it */
  sample: string;
  before?: string;
}[] = [
  {
    element: "graphics",
    what: "<graphics>",
    instead: "use the domain's graphics (vnc or spice)",
    sample: "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>",
  },
  {
    element: "audio",
    what: "<audio>",
    instead: "leave it out: libvirt adds the audio backend a graphics needs",
    sample: "<audio id='1' type='none'/>",
  },
  {
    element: "memballoon",
    when: { attr: "model", is: ["none"] },
    what: "<memballoon model='none'>",
    instead: "set it outside kvm-paravirt (virsh edit): a device the spec does not declare stays",
    sample: "<memballoon model='none'/>",
  },
  {
    element: "controller",
    when: { attr: "model", is: ["none"] },
    what: "a <controller> of model 'none'",
    instead: "set it outside kvm-paravirt (virsh edit): a device the spec does not declare stays",
    sample: "<controller type='usb' index='0' model='none'/>",
  },
  {
    element: "console",
    when: { child: "target", attr: "type", is: ["serial", null] },
    what: "a <console> on a serial target (or without a target type: serial on x86)",
    instead: "use serialConsole: true, or a console on a virtio target (<target type='virtio'/>)",
    sample: "<console type='pty'><target type='serial' port='0'/></console>",
    before: "<serial type='pty'><target port='0'/></serial>",
  },
];

/** The row of ALIAS_DROPPED a device element is, if any. */
export function aliasDropped(node: XNode): (typeof ALIAS_DROPPED)[number] | undefined {
  return ALIAS_DROPPED.find((r) => {
    if (tagOf(node) !== r.element) return false;
    if (!r.when) return true;
    const v = attrOf(r.when.child ? child(node, r.when.child) : node, r.when.attr);
    return r.when.is.includes(v ?? null);
  });
}

/** The user alias an extra device gets, so that an update finds it again (libvirt keeps ua- aliases). */
const EXTRA_PREFIX = "ua-kpv-extra-";
const extraAlias = (i: number) => `${EXTRA_PREFIX}${i}`;

/**
 * An extraDevices entry: one element of a device kind, without an <alias> (the tool names
 * it), with the alias added; or why not.
 */
export function parseExtraDevice(xml: string, i: number): { node: XNode } | { problem: string } {
  const bad = notWellFormed(xml);
  if (bad) return { problem: `not well-formed XML: ${bad}` };
  const doc = parseDocument(xml);
  const elements = doc.filter(isElement);
  if (elements.length !== 1 || doc.some((n) => tagOf(n) === "#text" && String(n["#text"]).trim() !== ""))
    return { problem: "not exactly one element" };
  const root = elements[0];
  const tag = tagOf(root);
  if (!(EXTRA_DEVICE_TAGS as readonly string[]).includes(tag)) return { problem: `<${tag}> is not a libvirt device element` };
  if (child(root, "alias")) return { problem: "it has an <alias> (kvm-paravirt names it, to find it again)" };
  return { node: { ...root, [tag]: [...kids(root), E("alias", { name: extraAlias(i) })] } };
}

const oneOf = <T extends string>(v: string | undefined, allowed: readonly T[]): T | undefined =>
  v !== undefined && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;

/** Says what a reader could not carry over into the spec. */
export type Note = (message: string, path?: string) => void;

function readDisks(devices: XNode | undefined, note: Note): Record<string, unknown> {
  const disks: Record<string, unknown>[] = [];
  for (const d of childrenNamed(devices, "disk")) {
    const target = attrOf(child(d, "target"), "dev");
    const src = child(d, "source");
    const type = attrOf(d, "type");
    const device = oneOf(attrOf(d, "device") ?? "disk", DISK_DEVICES);
    const bus = oneOf(attrOf(child(d, "target"), "bus"), DISK_BUSES);
    const format = oneOf(attrOf(child(d, "driver"), "type") ?? "raw", DISK_FORMATS);
    const file = type === "file" ? attrOf(src, "file") : undefined;
    const volume = type === "volume" ? { pool: attrOf(src, "pool"), volume: attrOf(src, "volume") } : undefined;
    if (!target || !DISK_TARGET_RE.test(target) || !device || !bus || !format || (type !== "file" && type !== "volume")) {
      note(
        `disk ${target ?? "(no target)"} is not carried over (only file or volume disks and cdroms on virtio, sata, scsi or ide, qcow2 or raw)`,
        "devices",
      );
      continue;
    }
    const boot = Number(attrOf(child(d, "boot"), "order"));
    disks.push({
      target,
      ...(file !== undefined ? { file } : {}),
      ...(volume?.pool && volume.volume ? volume : {}),
      device,
      bus,
      format,
      ...(child(d, "readonly") ? { readonly: true } : {}),
      ...(Number.isInteger(boot) && boot > 0 ? { boot } : {}),
      ...(oneOf(attrOf(child(d, "driver"), "cache"), DISK_CACHES) ? { cache: attrOf(child(d, "driver"), "cache") } : {}),
      ...(oneOf(attrOf(child(d, "driver"), "io"), DISK_IOS) ? { io: attrOf(child(d, "driver"), "io") } : {}),
      ...(/^[1-9]\d?$/.test(attrOf(child(d, "driver"), "iothread") ?? "")
        ? { iothread: Number(attrOf(child(d, "driver"), "iothread")) }
        : {}),
    });
  }
  return disks.length ? { disks } : {};
}

function readNics(devices: XNode | undefined, note: Note): Record<string, unknown> {
  const nics: Record<string, unknown>[] = [];
  for (const n of childrenNamed(devices, "interface")) {
    const type = attrOf(n, "type");
    const src = child(n, "source");
    const model = oneOf(attrOf(child(n, "model"), "type") ?? "virtio", NIC_MODELS);
    const kind =
      type === "network"
        ? { network: attrOf(src, "network") }
        : type === "bridge"
          ? { bridge: attrOf(src, "bridge") }
          : type === "user"
            ? { user: true }
            : null;
    if (!kind || !model || Object.values(kind).some((v) => v === undefined)) {
      note(
        `interface ${type ?? ""} is not carried over (only network, bridge or user ones with a virtio, e1000e, e1000 or rtl8139 model)`,
        "devices",
      );
      continue;
    }
    const mac = attrOf(child(n, "mac"), "address");
    const boot = Number(attrOf(child(n, "boot"), "order"));
    nics.push({ ...kind, model, ...(mac ? { mac: mac.toLowerCase() } : {}), ...(Number.isInteger(boot) && boot > 0 ? { boot } : {}) });
  }
  return nics.length ? { nics } : {};
}

// ---- identities in XPath 1.0, for the exported XSLT ----

const LOWER = "translate(mac/@address, 'ABCDEF', 'abcdef')";
/** The source part of an interface's identity (network or bridge name; empty for user). */
const NIC_SOURCE = "concat(@type, ':', source/@network, source/@bridge)";
/** A port that defaults to 0 when absent. */
const PORT = "concat(substring('0', 1, 1 - count(target/@port)), target/@port)";

/** A child a replaced live element keeps when the desired one has none of that name (carriedOver, carriedOverXPath). */
interface Carried {
  tag: string;
  keep(live: XNode, desired: XNode): boolean;
  /** the same as an XPath select relative to the live element */
  xpath(desired: XNode): string;
}

/** libvirt's address, which a replaced device keeps. */
const ADDRESS: Carried = { tag: "address", keep: () => true, xpath: () => "address" };

/**
 * One kind of device the spec can declare, described once: how the spec writes it, which
 * identities an element of it answers to (and the same in XPath, for the XSLT), what a
 * replaced element keeps, and how it is read back into the spec (import, refresh).
 */
interface DeviceKind {
  /** the first part of its identities: the element names it is identified by (the extra kind: by alias, any element) */
  names: readonly string[];
  /** the spec's devices of this kind, in the spec's order */
  write(d: DomainSpec): DesiredDevice[];
  /** the identities an element answers to; `seen` counts per key over one <devices> */
  ids(node: XNode, seen: Map<string, number>): string[];
  /** a test that the context node has the identity `name:value` */
  testXPath(name: string, value: string): string;
  /** a test that the context node is one the record (`$recorded`, " id id ... ") says the spec owned */
  recordedXPath: string;
  /** libvirt can detach a live element of it from a running domain */
  hotplug: boolean;
  /** what a replaced element of it keeps from the live one, by the live element's name (default: libvirt's address) */
  carried?: readonly Carried[];
  /** its spec fields, read from a live <devices> */
  read?(devices: XNode | undefined, note: Note): Record<string, unknown>;
}

const busOf = (n: XNode) => attrOf(child(n, "target"), "bus");

const DISK: DeviceKind = {
  names: ["disk"],
  // libvirt cannot hot-plug IDE or SATA disks
  write: (d) =>
    (d.disks ?? []).map((disk) => ({
      id: `disk:${disk.target}`,
      node: diskNode(disk),
      hotplug: disk.bus !== "ide" && disk.bus !== "sata",
    })),
  ids: (c) => {
    const dev = attrOf(child(c, "target"), "dev");
    return dev ? [`disk:${dev}`] : [];
  },
  testXPath: (_name, value) => `self::disk[target/@dev='${value}']`,
  recordedXPath: "(self::disk and contains($recorded, concat(' disk:', target/@dev, ' ')))",
  hotplug: true,
  // a disk moved to another bus cannot keep its address (a PCI slot is no SATA drive)
  carried: [
    {
      tag: "address",
      keep: (live, desired) => busOf(live) === busOf(desired),
      xpath: (desired) => `address[../target/@bus='${busOf(desired) ?? ""}']`,
    },
  ],
  read: readDisks,
};

const NIC: DeviceKind = {
  names: ["interface"],
  write: (d) => {
    const seen = new Map<string, number>();
    return (d.nics ?? []).map((nic) => {
      const key = nicKey(nic.type, nic.source);
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      return { id: nic.mac ? `interface:mac:${nic.mac}` : `${key}#${n}`, node: nicNode(nic), hotplug: true };
    });
  },
  ids: (c, seen) => {
    const type = attrOf(c, "type") ?? "";
    const src = child(c, "source");
    const key = nicKey(type, type === "network" ? attrOf(src, "network") : type === "bridge" ? attrOf(src, "bridge") : undefined);
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    const mac = attrOf(child(c, "mac"), "address");
    return [`${key}#${n}`, ...(mac ? [`interface:mac:${mac.toLowerCase()}`] : [])];
  },
  testXPath: (_name, value) => {
    if (value.startsWith("mac:")) return `self::interface[${LOWER}='${value.slice(4)}']`;
    const [source, n] = value.split("#");
    return `self::interface[${NIC_SOURCE}='${source}' and count(preceding-sibling::interface[${NIC_SOURCE}='${source}'])=${n}]`;
  },
  recordedXPath: `(self::interface and (contains($recorded, concat(' interface:mac:', ${LOWER}, ' ')) or contains($recorded, concat(' interface:', ${NIC_SOURCE}, '#', count(preceding-sibling::interface[${NIC_SOURCE}=concat(current()/@type, ':', current()/source/@network, current()/source/@bridge)]), ' '))))`,
  hotplug: true,
  // an interface the spec gives no MAC keeps the one libvirt chose
  carried: [ADDRESS, { tag: "mac", keep: () => true, xpath: () => "mac" }],
  read: readNics,
};

const SERIAL_CONSOLE: DeviceKind = {
  names: ["serial", "console"],
  write: (d) =>
    d.serialConsole
      ? [
          { id: "serial:0", node: E("serial", { type: "pty" }, [E("target", { port: "0" })]), hotplug: false },
          { id: "console:0", node: E("console", { type: "pty" }, [E("target", { type: "serial", port: "0" })]), hotplug: false },
        ]
      : [],
  ids: (c) => [`${tagOf(c)}:${attrOf(child(c, "target"), "port") ?? "0"}`],
  testXPath: (name, value) => `self::${name}[${PORT}='${value}']`,
  recordedXPath: `((self::serial or self::console) and contains($recorded, concat(' ', local-name(), ':', ${PORT}, ' ')))`,
  hotplug: false,
  read: (devices) => (childrenNamed(devices, "serial").some((x) => attrOf(x, "type") === "pty") ? { serialConsole: true } : {}),
};

const GRAPHICS: DeviceKind = {
  names: ["graphics"],
  write: (d) =>
    d.graphics && d.graphics.type !== "none"
      ? [
          {
            id: `graphics:${d.graphics.type}`,
            node: E("graphics", { type: d.graphics.type, autoport: "yes", listen: d.graphics.listen ?? "127.0.0.1" }),
            hotplug: false,
          },
        ]
      : [],
  ids: (c) => [`graphics:${attrOf(c, "type") ?? ""}`],
  testXPath: (_name, value) => `self::graphics[@type='${value}']`,
  recordedXPath: "(self::graphics and contains($recorded, concat(' graphics:', @type, ' ')))",
  hotplug: false,
  read: (devices) => {
    const g = childrenNamed(devices, "graphics").find((x) => ["vnc", "spice"].includes(attrOf(x, "type") ?? ""));
    if (!g) return {};
    const listen = attrOf(g, "listen");
    return { graphics: { type: attrOf(g, "type"), ...(listen && LISTEN_RE.test(listen) ? { listen } : {}) } };
  },
};

/** hyperv.crash: libvirt's <panic model='hyperv'/> is how it says hv-crash (custom mode; passthrough turns it on by itself). */
const HYPERV_PANIC: DeviceKind = {
  names: ["panic"],
  write: (d) =>
    d.hyperv?.crash === true && (d.hyperv.mode ?? "custom") === "custom"
      ? [{ id: "panic:hyperv", node: E("panic", { model: "hyperv" }), hotplug: false }]
      : [],
  ids: (c) => [`panic:${attrOf(c, "model") ?? ""}`],
  testXPath: (_name, value) => `self::panic[@model='${value}']`,
  recordedXPath: "(self::panic and contains($recorded, concat(' panic:', @model, ' ')))",
  hotplug: false,
};

/** extraDevices: any device element, known by the alias the tool gave it; not read back (import leaves them out); a replaced one keeps what its element's kind keeps. */
const EXTRA: DeviceKind = {
  names: ["extra"],
  write: (d) =>
    (d.extraDevices ?? []).flatMap((xml, i) => {
      const x = parseExtraDevice(xml, i);
      return "node" in x ? [{ id: `extra:${i}`, node: x.node, hotplug: false }] : [];
    }),
  ids: (c) => [`extra:${attrOf(child(c, "alias"), "name")!.slice(EXTRA_PREFIX.length)}`],
  testXPath: (_name, value) => `self::*[alias/@name='${extraAlias(Number(value))}']`,
  recordedXPath: `(starts-with(alias/@name, '${EXTRA_PREFIX}') and contains($recorded, concat(' extra:', substring-after(alias/@name, '${EXTRA_PREFIX}'), ' ')))`,
  hotplug: false,
};

/** Every device kind, in the order the writer writes them and the record's XPath tests them. */
const DEVICE_KINDS: readonly DeviceKind[] = [DISK, NIC, SERIAL_CONSOLE, GRAPHICS, HYPERV_PANIC, EXTRA];
const BY_NAME = new Map(DEVICE_KINDS.flatMap((k) => k.names.map((n) => [n, k] as const)));
/** The kinds an element is identified by its name (the extra kind goes by alias). */
const BY_ELEMENT = new Map(DEVICE_KINDS.filter((k) => k !== EXTRA).flatMap((k) => k.names.map((n) => [n, k] as const)));
const isExtra = (c: XNode) => attrOf(child(c, "alias"), "name")?.startsWith(EXTRA_PREFIX) === true;

export function desiredDevices(d: DomainSpec): DesiredDevice[] {
  // (a plain loop: it runs once per rendered domain)
  const out: DesiredDevice[] = [];
  for (const k of DEVICE_KINDS) for (const x of k.write(d)) out.push(x);
  return out;
}

/**
 * The identities each of `children` (a live or desired <devices>) answers to, by index:
 * none for what the spec cannot own; an interface answers to its MAC and to its source
 * and order alike.
 */
export function deviceIds(children: readonly XNode[]): string[][] {
  const seen = new Map<string, number>();
  return children.map((c) => {
    if (!isElement(c)) return [];
    // an extra device is known by the alias the tool gave it, whatever its kind
    const kind = isExtra(c) ? EXTRA : BY_ELEMENT.get(tagOf(c));
    return kind ? kind.ids(c, seen) : [];
  });
}

const carriedBy = (n: XNode) => BY_ELEMENT.get(tagOf(n))?.carried ?? [ADDRESS];

/** Children of a replaced live device that the desired one keeps: libvirt's address (and, for an interface without a MAC, its MAC). */
export function carriedOver(live: XNode, desired: XNode): XNode[] {
  const keep: XNode[] = [];
  const has = (tag: string) => kids(desired).some((c) => tagOf(c) === tag);
  const rules = carriedBy(live);
  for (const c of kids(live)) {
    const t = tagOf(c);
    if (rules.some((r) => r.tag === t && r.keep(live, desired)) && !has(t)) keep.push(c);
  }
  return keep;
}

/** A test that the context node (a child of <devices>) has this identity. */
export function deviceTestXPath(id: string): string {
  const [name, ...rest] = id.split(":");
  return (BY_NAME.get(name) ?? NIC).testXPath(name, rest.join(":"));
}

/**
 * A test that the context node (a child of <devices>, inside xsl:for-each) is a device the
 * live document's record says the spec owned: `$recorded` is " id id ... ".
 */
export const RECORDED_XPATH = DEVICE_KINDS.map((k) => k.recordedXPath).join(" or ");

/** What a replaced live device keeps, as an xsl:copy-of select (the same as carriedOver). */
export function carriedOverXPath(desired: XNode): string | null {
  const has = (t: string) => kids(desired).some((c) => tagOf(c) === t);
  const parts = carriedBy(desired)
    .filter((r) => !has(r.tag))
    .map((r) => r.xpath(desired));
  return parts.length ? parts.join(" | ") : null;
}

/** The devices of a live <devices> the spec can declare, as spec fields; what it cannot express is noted and left out. */
export function readDevices(devices: XNode | undefined, note: Note): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of DEVICE_KINDS) Object.assign(out, k.read?.(devices, note));
  return out;
}

export interface DeviceChange {
  /** the device's identity, e.g. disk:vda */
  device: string;
  change: "add" | "remove" | "change";
  /** libvirt can attach/detach/update it on a running domain; otherwise it takes effect at the next start */
  hotplug: boolean;
}

/** The live element says at least what the desired one says (attributes, child elements, text; libvirt adds defaults). */
function covers(live: XNode, want: XNode): boolean {
  for (const [k, v] of Object.entries(attrs(want))) if (attrOf(live, k.slice(2)) !== decodeXml(v)) return false;
  const liveKids = kids(live).filter(isElement);
  for (const w of kids(want)) {
    if (!isElement(w)) continue;
    if (!liveKids.some((l) => tagOf(l) === tagOf(w) && covers(l, w))) return false;
  }
  return true;
}

/** What applying the desired devices does to the live ones (by identity): added, removed (owned before), changed. */
export function deviceChanges(
  liveDevices: readonly XNode[],
  desired: readonly DesiredDevice[],
  recorded: readonly string[],
): DeviceChange[] {
  if (!desired.length) return [];
  const liveIds = deviceIds(liveDevices);
  const byId = (id: string) => liveDevices.find((_c, i) => liveIds[i].includes(id));
  const out: DeviceChange[] = [];
  const matched = new Set<XNode>();
  for (const d of desired) {
    const live = byId(d.id);
    if (live) matched.add(live);
    if (!live) out.push({ device: d.id, change: "add", hotplug: d.hotplug });
    else if (!covers(live, d.node)) out.push({ device: d.id, change: "change", hotplug: d.hotplug });
  }
  for (const id of recorded) {
    const live = byId(id);
    if (live && !matched.has(live)) {
      matched.add(live);
      out.push({ device: id, change: "remove", hotplug: BY_ELEMENT.get(tagOf(live))?.hotplug ?? false });
    }
  }
  return out;
}
