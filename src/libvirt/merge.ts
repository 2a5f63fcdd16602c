import { QEMU_NS } from "./domain-xml";
import { at, buildDocument, child, domainElement, el, isElement, parseDocument, setAttr } from "./document";
import { carriedOver, deviceIds } from "./devices";
import { recordedDevices } from "./metadata";
import { OWNED_ATTRS, ownedArgIndexes, SIZING, WHOLE_SPEC_SLOTS, topologyFits, type ChildSlot } from "./owned";
import { attrs, kids, tagOf, type XNode } from "../util/ordered-xml";

/**
 * Applying a rendered definition to an existing domain, the way virt-xml edits one: the
 * live document is edited in place, and only what src/libvirt/owned.ts declares is
 * replaced. UUID, devices, other features, CPU topology, other timers, other metadata,
 * other QEMU arguments and <qemu:env> stay exactly as they were written.
 * The exported XSLT (src/libvirt/xslt.ts) is derived from the same declaration.
 */

const setKids = (n: XNode, children: XNode[]) => {
  n[tagOf(n)] = children;
};

/** Applies one slot: the owned children go, the desired ones join what stays. */
function applySlot(live: XNode, want: XNode, slot: ChildSlot): void {
  const desiredParent = at(want, slot.parent);
  const desired = kids(desiredParent).filter((c) => isElement(c) && slot.owns(c));
  const parentOfParent = at(live, slot.parent.slice(0, -1));
  const parent = at(live, slot.parent);
  if (!parent) {
    if (!parentOfParent || desired.length === 0) return;
    const name = slot.parent[slot.parent.length - 1];
    kids(parentOfParent).push(slot.createWhole ? desiredParent! : el(name, {}, desired));
    return;
  }
  if (slot.ownsAttributes && desiredParent) {
    for (const k of Object.keys(attrs(parent))) setAttr(parent, k.slice(2), undefined);
    for (const [k, v] of Object.entries(attrs(desiredParent))) setAttr(parent, k.slice(2), v);
  }
  const kept = kids(parent).filter((c) => !(isElement(c) && slot.owns(c)));
  const emptied = kept.length < kids(parent).length && !kept.some(isElement) && desired.length === 0;
  setKids(parent, slot.first ? [...desired, ...kept] : [...kept, ...desired]);
  // a parent this slot emptied goes (an empty <kvm/> is noise)
  if (emptied && !slot.createWhole)
    setKids(
      parentOfParent!,
      kids(parentOfParent!).filter((c) => c !== parent),
    );
}

function applyCommandline(live: XNode, want: XNode): void {
  const desired = kids(child(want, "qemu:commandline")).filter((c) => tagOf(c) === "qemu:arg");
  const cmd = child(live, "qemu:commandline");
  if (!cmd) {
    if (desired.length) kids(live).push(el("qemu:commandline", {}, desired));
    return;
  }
  const owned = ownedArgIndexes(cmd);
  const kept = [...kids(cmd).filter((_c, i) => !owned.has(i)), ...desired];
  if (kept.some(isElement)) setKids(cmd, kept);
  else
    setKids(
      live,
      kids(live).filter((c) => c !== cmd),
    );
}

/**
 * The devices: each desired one replaces the live device with its identity (keeping libvirt's
 * address, and the MAC of an interface the spec gives none), or joins at the end; a live
 * device the spec owned before (recorded in our metadata) and no longer declares goes;
 * every other device stays. `recorded` is read before the metadata is replaced. A spec
 * that declares no devices leaves them alone.
 */
function applyDevices(live: XNode, want: XNode, recorded: readonly string[]): void {
  const desired = kids(child(want, "devices")).filter(isElement);
  // a spec that declares no devices does not manage them (its record is dropped with the metadata)
  if (!desired.length) return;
  let devices = child(live, "devices");
  if (!devices) kids(live).push((devices = el("devices")));
  const wantIds = deviceIds(desired);
  const owned = new Set([...recorded, ...wantIds.flat()]);
  const placed = new Set<number>();
  const liveKids = kids(devices);
  const liveIds = deviceIds(liveKids);
  const out: XNode[] = [];
  liveKids.forEach((c, i) => {
    const ids = liveIds[i];
    if (!ids.some((id) => owned.has(id))) return void out.push(c);
    const j = desired.findIndex((_d, k) => !placed.has(k) && wantIds[k].some((id) => ids.includes(id)));
    if (j < 0) return; // owned before, not declared now: it goes
    placed.add(j);
    const d = desired[j];
    out.push({ ...d, [tagOf(d)]: [...carriedOver(c, d), ...kids(d)] });
  });
  const added = desired.filter((_d, k) => !placed.has(k));
  // new devices go after the last element (before the closing indentation)
  let end = out.length;
  while (end > 0 && !isElement(out[end - 1])) end--;
  out.splice(end, 0, ...added);
  setKids(devices, out);
  // libvirt refuses <os><boot dev> next to per-device boot orders
  if (desired.some((d) => child(d, "boot"))) {
    const os = child(live, "os");
    if (os)
      setKids(
        os,
        kids(os).filter((c) => tagOf(c) !== "boot"),
      );
  }
}

function applySizing(live: XNode, want: XNode): void {
  const list = kids(live);
  const memory = child(want, SIZING.memory);
  const i = list.findIndex((c) => tagOf(c) === SIZING.memory);
  if (memory && i >= 0) list[i] = memory;
  const vcpu = child(live, SIZING.vcpu);
  const wantVcpu = child(want, SIZING.vcpu);
  if (vcpu && wantVcpu) setKids(vcpu, kids(wantVcpu));
  setKids(
    live,
    kids(live).filter((c) => tagOf(c) !== SIZING.dropped),
  );
  // the IOThread count, when the spec pins IOThreads: replaced, or added after <vcpu>
  const iothreads = child(want, SIZING.iothreads);
  if (iothreads) {
    const at = kids(live).findIndex((c) => tagOf(c) === SIZING.iothreads);
    if (at >= 0) kids(live)[at] = iothreads;
    else kids(live).splice(kids(live).findIndex((c) => tagOf(c) === SIZING.vcpu) + 1, 0, iothreads);
  }
  const count = Number((kids(wantVcpu)[0]?.["#text"] as string | undefined) ?? NaN);
  const cpu = child(live, "cpu");
  if (cpu && Number.isFinite(count))
    setKids(
      cpu,
      kids(cpu).filter((c) => tagOf(c) !== "topology" || topologyFits(c, count)),
    );
}

/**
 * The live definition with the spec-owned parts taken from the rendered one. Either may be
 * given parsed (the document form); a parsed live document is edited in place.
 */
export function mergeDefinition(liveXml: string | XNode[], desiredXml: string | XNode): string {
  const doc = typeof liveXml === "string" ? parseDocument(liveXml) : liveXml;
  const live = domainElement(doc);
  const want = typeof desiredXml === "string" ? domainElement(parseDocument(desiredXml)) : desiredXml;
  for (const { path, attr } of OWNED_ATTRS) {
    const target = path.length ? at(live, path) : live;
    const source = path.length ? at(want, path) : want;
    if (target && source) setAttr(target, attr, attrs(source)[`@_${attr}`]);
  }
  applySizing(live, want);
  const recorded = recordedDevices(live);
  for (const slot of WHOLE_SPEC_SLOTS) applySlot(live, want, slot);
  applyDevices(live, want, recorded);
  applyCommandline(live, want);
  if (child(live, "qemu:commandline")) setAttr(live, "xmlns:qemu", QEMU_NS);
  return buildDocument(doc).trimStart();
}
