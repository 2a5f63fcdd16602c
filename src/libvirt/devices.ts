import type { DiskSpec, DomainSpec, NicSpec } from "../input/schema";
import { attrs, kids, tagOf, type XNode } from "../util/ordered-xml";
import { attrOf, child, decodeXml, isElement, newElement, notWellFormed, parseDocument } from "./document";

/**
 * The devices a spec declares, as libvirt <devices> children, and how a device is
 * identified in a live document: a disk by its target, an interface by its MAC (or, when
 * the spec gives none, by its source and its order among interfaces of that source), the
 * serial console by its port, graphics by type. The spec owns exactly the devices it
 * declares (recorded in our metadata, so that one it drops goes too); every other device
 * of the live domain stays.
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
    E("driver", { name: "qemu", type: d.format, cache: d.cache, io: d.io }),
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

/** The user alias an extra device gets, so that an update finds it again (libvirt keeps ua- aliases). */
const extraAlias = (i: number) => `ua-kpv-extra-${i}`;

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

export function desiredDevices(d: DomainSpec): DesiredDevice[] {
  const out: DesiredDevice[] = [];
  for (const disk of d.disks ?? [])
    out.push({ id: `disk:${disk.target}`, node: diskNode(disk), hotplug: disk.bus !== "ide" && disk.bus !== "sata" });
  const seen = new Map<string, number>();
  for (const nic of d.nics ?? []) {
    const key = nicKey(nic.type, nic.source);
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    out.push({ id: nic.mac ? `interface:mac:${nic.mac}` : `${key}#${n}`, node: nicNode(nic), hotplug: true });
  }
  if (d.serialConsole) {
    out.push({ id: "serial:0", node: E("serial", { type: "pty" }, [E("target", { port: "0" })]), hotplug: false });
    out.push({ id: "console:0", node: E("console", { type: "pty" }, [E("target", { type: "serial", port: "0" })]), hotplug: false });
  }
  if (d.graphics && d.graphics.type !== "none")
    out.push({
      id: `graphics:${d.graphics.type}`,
      node: E("graphics", { type: d.graphics.type, autoport: "yes", listen: d.graphics.listen ?? "127.0.0.1" }),
      hotplug: false,
    });
  (d.extraDevices ?? []).forEach((xml, i) => {
    const x = parseExtraDevice(xml, i);
    if ("node" in x) out.push({ id: `extra:${i}`, node: x.node, hotplug: false });
  });
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
    const tag = tagOf(c);
    // an extra device is known by the alias the tool gave it, whatever its kind
    const ua = attrOf(child(c, "alias"), "name");
    if (ua?.startsWith("ua-kpv-extra-")) return [`extra:${ua.slice("ua-kpv-extra-".length)}`];
    if (tag === "disk") {
      const dev = attrOf(child(c, "target"), "dev");
      return dev ? [`disk:${dev}`] : [];
    }
    if (tag === "interface") {
      const type = attrOf(c, "type") ?? "";
      const src = child(c, "source");
      const key = nicKey(type, type === "network" ? attrOf(src, "network") : type === "bridge" ? attrOf(src, "bridge") : undefined);
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      const mac = attrOf(child(c, "mac"), "address");
      return [`${key}#${n}`, ...(mac ? [`interface:mac:${mac.toLowerCase()}`] : [])];
    }
    if (tag === "serial" || tag === "console") return [`${tag}:${attrOf(child(c, "target"), "port") ?? "0"}`];
    if (tag === "graphics") return [`graphics:${attrOf(c, "type") ?? ""}`];
    return [];
  });
}

/** Children of a replaced live device that the desired one keeps: libvirt's address (and, for an interface without a MAC, its MAC). */
export function carriedOver(live: XNode, desired: XNode): XNode[] {
  const keep: XNode[] = [];
  const has = (tag: string) => kids(desired).some((c) => tagOf(c) === tag);
  // a disk moved to another bus cannot keep its address (a PCI slot is no SATA drive)
  const sameBus = tagOf(live) !== "disk" || attrOf(child(live, "target"), "bus") === attrOf(child(desired, "target"), "bus");
  for (const c of kids(live)) {
    const t = tagOf(c);
    if (((t === "address" && sameBus) || (t === "mac" && tagOf(live) === "interface")) && !has(t)) keep.push(c);
  }
  return keep;
}

// ---- the same identities in XPath 1.0, for the exported XSLT ----

const LOWER = "translate(mac/@address, 'ABCDEF', 'abcdef')";
/** The source part of an interface's identity (network or bridge name; empty for user). */
const NIC_SOURCE = "concat(@type, ':', source/@network, source/@bridge)";
/** A port that defaults to 0 when absent. */
const PORT = "concat(substring('0', 1, 1 - count(target/@port)), target/@port)";

/** A test that the context node (a child of <devices>) has this identity. */
export function deviceTestXPath(id: string): string {
  const [kind, ...rest] = id.split(":");
  const value = rest.join(":");
  if (kind === "disk") return `self::disk[target/@dev='${value}']`;
  if (kind === "serial" || kind === "console") return `self::${kind}[${PORT}='${value}']`;
  if (kind === "graphics") return `self::graphics[@type='${value}']`;
  if (kind === "extra") return `self::*[alias/@name='${extraAlias(Number(value))}']`;
  if (value.startsWith("mac:")) return `self::interface[${LOWER}='${value.slice(4)}']`;
  const [source, n] = value.split("#");
  return `self::interface[${NIC_SOURCE}='${source}' and count(preceding-sibling::interface[${NIC_SOURCE}='${source}'])=${n}]`;
}

/**
 * A test that the context node (a child of <devices>, inside xsl:for-each) is a device the
 * live document's record says the spec owned: `$recorded` is " id id ... ".
 */
export const RECORDED_XPATH = [
  "(self::disk and contains($recorded, concat(' disk:', target/@dev, ' ')))",
  `(self::interface and (contains($recorded, concat(' interface:mac:', ${LOWER}, ' ')) or contains($recorded, concat(' interface:', ${NIC_SOURCE}, '#', count(preceding-sibling::interface[${NIC_SOURCE}=concat(current()/@type, ':', current()/source/@network, current()/source/@bridge)]), ' '))))`,
  `((self::serial or self::console) and contains($recorded, concat(' ', local-name(), ':', ${PORT}, ' ')))`,
  "(self::graphics and contains($recorded, concat(' graphics:', @type, ' ')))",
  "(starts-with(alias/@name, 'ua-kpv-extra-') and contains($recorded, concat(' extra:', substring-after(alias/@name, 'ua-kpv-extra-'), ' ')))",
].join(" or ");

/** What a replaced live device keeps, as an xsl:copy-of select (the same as carriedOver). */
export function carriedOverXPath(desired: XNode): string | null {
  const tag = tagOf(desired);
  const has = (t: string) => kids(desired).some((c) => tagOf(c) === t);
  const parts: string[] = [];
  if (!has("address"))
    parts.push(tag === "disk" ? `address[../target/@bus='${attrOf(child(desired, "target"), "bus") ?? ""}']` : "address");
  if (tag === "interface" && !has("mac")) parts.push("mac");
  return parts.length ? parts.join(" | ") : null;
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

const HOTPLUG_TAGS = new Set(["disk", "interface"]);

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
      out.push({ device: id, change: "remove", hotplug: HOTPLUG_TAGS.has(tagOf(live)) });
    }
  }
  return out;
}
