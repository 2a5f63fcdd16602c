import { FEATURES } from "../catalog/features";
import { resolveMachine } from "../catalog/machines";
import { ASSUMED_HOST, type HostProfile } from "../host/profile";
import { resolveDomain, type Resolution } from "../analyze";
import { validateSpecObject } from "../input/load";
import { child } from "../libvirt/document";
import { deviceChanges, desiredDevices, type DeviceChange } from "../libvirt/devices";
import { recordedDevices } from "../libvirt/metadata";
import { kids, type XNode } from "../util/ordered-xml";
import type { DomainPlan, FeatureChange } from "./model";
import { readDomainXml } from "../libvirt/read-domain";
import { hypervStates, type HypervFlagState } from "../resolve/hyperv";

/**
 * The one comparison of a live definition with its desired one: `plan`, `apply` and the
 * Pulumi provider's Read and Diff all decide "is this domain in sync?" here.
 *
 * A change (apply redefines the domain):
 * - a setting the spec owns that reads differently as written: vCPUs, memory, the machine
 *   type (aliases resolved for the host), CPU mode, model, check and flags, irqchip, x2apic,
 *   every PV element and our `-global`s, including an element we own that libvirt keeps but
 *   never emits (`<kvm><pv-ipi state='on'/>`, a no-op for QEMU): apply writes what it owns
 *   exactly as it renders it;
 * - our metadata missing (a domain defined by hand or by another tool) or drifted: the
 *   effective features it records are not those the live definition gives;
 * - a device the spec declares missing or different, or one it declared before and no longer does.
 * Not a change: what the spec does not own (foreign elements, other `<kvm>` children, other
 * QEMU arguments, foreign metadata), devices it never declared, libvirt's own additions
 * (addresses, aliases, defaults). Effective features are compared for the report (a change
 * moves them, or not); on their own they are never a change.
 */
export interface LiveComparison {
  /** spec-owned settings that differ as written */
  fieldChanges: DomainPlan["fieldChanges"];
  /** effective PV features that differ, live -> desired (value or source) */
  featureChanges: FeatureChange[];
  /** effective features changed since our metadata recorded them */
  drift: DomainPlan["drift"];
  deviceChanges: DeviceChange[];
  /** what our metadata recorded, or null when the domain has none */
  recorded: Record<string, boolean> | null;
  /** the live definition as the resolver sees it (null when it does not read as a spec) */
  live: Resolution | null;
  /** why the live definition does not read as a spec */
  unreadable?: string;
  /** the verdict */
  changed: boolean;
}

export const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  );

/** The spec-owned settings of a definition as written, normalised for comparison. */
function written(xml: XNode, host: HostProfile): Record<string, unknown> {
  const d = { ...readDomainXml(xml, { asWritten: true }).domain };
  delete d.name;
  if (typeof d.machine === "string") {
    try {
      d.machine = resolveMachine(d.machine, host).resolved;
    } catch {
      // a machine type we do not model stays as written
    }
  }
  return d;
}

/** The live definition as QEMU will realize it. */
function liveResolution(
  xml: XNode,
  host?: HostProfile,
): { resolution: Resolution | null; reason?: string; recorded: Record<string, boolean> | null } {
  const read = readDomainXml(xml);
  const d = validateSpecObject({ domains: [read.domain] }).domains[0];
  if (!d.spec) return { resolution: null, reason: d.diagnostics.map((x) => `${x.path}: ${x.message}`).join("; "), recorded: read.recorded };
  return { resolution: resolveDomain(d.spec, host), recorded: read.recorded };
}

/**
 * `liveXml` (the live `<domain>`, as dumpxml --inactive gives it) against `desiredXml` (the
 * `<domain>` the spec renders) and `want` (the spec's resolution), for `host`.
 */
export function compareLive(liveXml: XNode, desiredXml: XNode, want: Resolution, host?: HostProfile): LiveComparison {
  const names = want.host ?? ASSUMED_HOST;
  const cur = written(liveXml, names);
  const des = written(desiredXml, names);
  const fieldChanges = [...new Set([...Object.keys(cur), ...Object.keys(des)])]
    .filter((f) => canon(cur[f]) !== canon(des[f]))
    .map((f) => ({ field: f, current: cur[f] ?? null, desired: des[f] ?? null }));

  const live = liveResolution(liveXml, host);
  const featureChanges: FeatureChange[] = [];
  for (const f of FEATURES) {
    const d = want.features.get(f.qemu);
    const c = live.resolution?.features.get(f.qemu);
    if (!d && !c) continue;
    if (d && c && d.enabled === c.enabled && d.source === c.source) continue;
    featureChanges.push({
      feature: f.qemu,
      current: c ? { enabled: c.enabled, source: c.source } : null,
      desired: d ? { enabled: d.enabled, source: d.source } : null,
    });
  }
  // the Hyper-V flags, as the guest gets them, when either side has a hyperv map
  const hvWant = hypervStates(want.hyperv);
  const hvLive = live.resolution ? hypervStates(live.resolution.hyperv) : new Map<string, HypervFlagState>();
  for (const name of new Set([...hvLive.keys(), ...hvWant.keys()])) {
    const d = hvWant.get(name);
    const c = hvLive.get(name);
    if (d && c && d.enabled === c.enabled && d.source === c.source) continue;
    featureChanges.push({
      feature: name,
      current: c ? { enabled: c.enabled, source: c.source } : null,
      desired: d ? { enabled: d.enabled, source: d.source } : null,
    });
  }
  const drift: DomainPlan["drift"] = [];
  if (live.recorded && live.resolution)
    for (const [feature, was] of Object.entries(live.recorded)) {
      const now = live.resolution.features.get(feature)?.enabled ?? null;
      if (now !== was) drift.push({ feature, recorded: was, current: now });
    }
  const devices = deviceChanges(kids(child(liveXml, "devices")), desiredDevices(want.domain), recordedDevices(liveXml));
  return {
    fieldChanges,
    featureChanges,
    drift,
    deviceChanges: devices,
    recorded: live.recorded,
    live: live.resolution,
    ...(live.reason ? { unreadable: live.reason } : {}),
    changed: fieldChanges.length > 0 || drift.length > 0 || live.recorded === null || devices.length > 0,
  };
}
