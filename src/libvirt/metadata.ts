import { attrs, type XNode } from "../util/ordered-xml";
import { at, attrOf, child, newElement } from "./document";

/**
 * Our `<metadata>` in a domain definition, in one place: its namespace and path, how it is
 * written and how it is read. It marks a domain as defined by kvm-paravirt and records the
 * effective PV features it was defined with (drift is measured against them) and the devices
 * its spec owned (a device dropped from the spec later is removed, and no other):
 *
 *   <metadata><kpv:paravirt xmlns:kpv="…/paravirt/1">
 *     <kpv:effective on="kvmclock kvm-pv-eoi …" off="kvm-pv-ipi …"/>
 *     <kpv:devices owned="disk:vda serial:0 …"/>
 *     <kpv:placement dedicated="yes"/>
 *   </kpv:paravirt></metadata>
 *
 * `dedicated` records cpuPinning.dedicated, which the pins alone do not say (and with it that
 * kvm-hint-dedicated came from it, unless the spec set the hint).
 */
export const KPV_NS = "https://github.com/kvm-paravirt/kvm-paravirt/xmlns/paravirt/1";
/** The element under `<metadata>` (the merge owns it whole). */
export const METADATA_TAG = "kpv:paravirt";
const PATH = ["metadata", METADATA_TAG];
/** The owned-device record in XPath 1.0, for the exported XSLT. */
export const RECORDED_DEVICES_XPATH = `/domain/metadata/${METADATA_TAG}/kpv:devices/@owned`;

/** Our `<metadata>` element: the effective features (true on, false off) and the devices the spec owns, by identity. */
export function metadataNode(
  effective: Iterable<[string, boolean]>,
  ownedDevices: readonly string[],
  placement: { dedicated: boolean; hintSet: boolean } = { dedicated: false, hintSet: false },
): XNode {
  const on: string[] = [];
  const off: string[] = [];
  for (const [name, enabled] of effective) (enabled ? on : off).push(name);
  const owned = ownedDevices.length ? [newElement("kpv:devices", { owned: ownedDevices.join(" ") })] : [];
  if (placement.dedicated) owned.push(newElement("kpv:placement", { dedicated: placement.hintSet ? "yes" : "implies-hint" }));
  return newElement("metadata", {}, [
    newElement(METADATA_TAG, { "xmlns:kpv": KPV_NS }, [newElement("kpv:effective", { on: on.join(" "), off: off.join(" ") }), ...owned]),
  ]);
}

const words = (s: string | undefined): string[] =>
  // Stryker disable next-line Regex: equivalent (/\s/ leaves empty strings between runs of spaces, which filter(Boolean) drops)
  (s ?? "").split(/\s+/).filter(Boolean);

/** The effective features our metadata recorded, or null when the domain has none (not defined by kvm-paravirt). */
export function recordedFeatures(domain: XNode): Record<string, boolean> | null {
  const eff = at(domain, [...PATH, "kpv:effective"]);
  if (eff === undefined) return null;
  const out: Record<string, boolean> = {};
  for (const n of words(attrOf(eff, "on"))) out[n] = true;
  for (const n of words(attrOf(eff, "off"))) out[n] = false;
  return out;
}

/** The devices our metadata recorded as owned, by identity (none when there is no record). */
export const recordedDevices = (domain: XNode): string[] => words(attrs(child(at(domain, PATH), "kpv:devices") ?? {})["@_owned"]);

/** What our metadata recorded of cpuPinning.dedicated: undefined (not dedicated), "yes", or "implies-hint" (the hint came from it). */
export const recordedDedicated = (domain: XNode): "yes" | "implies-hint" | undefined => {
  const v = attrs(child(at(domain, PATH), "kpv:placement") ?? {})["@_dedicated"];
  return v === "yes" || v === "implies-hint" ? v : undefined;
};
