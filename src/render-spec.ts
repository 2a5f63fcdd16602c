import { bySeverity, hasErrors, type Diagnostic } from "./diagnostics";
import { ASSUMED_HOST, type HostProfile } from "./host/profile";
import { placeOnHost, type PlacementContext } from "./resolve/placement";
import { renderDomainXml } from "./libvirt/domain-xml";
import { renderQemuArgs } from "./render/qemu-args";
import { type FeatureSource } from "./resolve/resolve";
import { hypervStates } from "./resolve/hyperv";
import { resolveDomain, type HostAccess, type Resolution } from "./analyze";
import type { LoadedSpec } from "./input/load";
import type { DomainSpec } from "./input/schema";

/** parse -> resolve -> render for a whole spec: the pure core every front end calls. */

export interface FeatureReport {
  enabled: boolean;
  source: FeatureSource;
  reason: string;
}

/** What the features depend on, as resolved for the host: what a diff of two outputs needs to explain a change. */
export interface ResolvedContext {
  /** the versioned machine type QEMU uses (an alias resolved against the host's QEMU) */
  machine: string;
  /** as the spec wrote it (q35, pc, or the versioned type) */
  machineRequested: string;
  accel: "kvm" | "tcg";
  /** the spec's CPU mode, and the model given to QEMU's -cpu (host, max, or a named model; host-model's from the host) */
  cpu: { mode: string; model: string };
  x2apic: boolean;
}

export interface RenderedDomain {
  name: string;
  domainXml: string;
  qemuArgs: string[];
  /** by QEMU property name, every PV property the host's QEMU has */
  features: Record<string, FeatureReport>;
  /** absent for a domain that did not validate */
  resolved?: ResolvedContext;
  diagnostics: Diagnostic[];
}

export interface RenderedSpec {
  domains: RenderedDomain[];
  /** file-level problems (syntax, shape); empty for a readable spec */
  diagnostics: Diagnostic[];
}

/**
 * Every PV property by QEMU name, then (for a domain with a hyperv map) every hv-* flag. A
 * Hyper-V flag is on when the guest gets it (its CPUID), which QMP does not tell: on a KVM
 * without Hyper-V QEMU reports a flag on that the guest never sees, here "dropped".
 */
export function featureReport(r: Resolution): Record<string, FeatureReport> {
  const out: Record<string, FeatureReport> = {};
  for (const [name, x] of r.features) out[name] = { enabled: x.enabled, source: x.source, reason: x.reason };
  for (const [name, x] of hypervStates(r.hyperv)) out[name] = x;
  return out;
}

const prefixed = (ds: readonly Diagnostic[], prefix: string): Diagnostic[] =>
  ds.map((d) => ({ ...d, path: d.path ? `${prefix}.${d.path}` : prefix }));

const resolvedContext = (r: Resolution): ResolvedContext => ({
  machine: r.machine.resolved,
  machineRequested: r.machine.requested,
  accel: r.domain.accel,
  cpu: { mode: r.domain.cpu.mode, model: r.qemuModel },
  x2apic: r.x2apic.enabled,
});

/** Resolves and renders one valid domain (`placement`: its neighbours on the host, src/resolve/placement.ts). */
export function renderDomain(
  spec: DomainSpec,
  host?: HostProfile,
  pathPrefix = "",
  access: HostAccess = {},
  placement?: PlacementContext,
): { resolution: Resolution; rendered: RenderedDomain } {
  const resolution = resolveDomain(spec, host, access, placement);
  const rendered: RenderedDomain = {
    name: spec.name,
    domainXml: renderDomainXml(resolution),
    qemuArgs: renderQemuArgs(resolution),
    features: featureReport(resolution),
    resolved: resolvedContext(resolution),
    diagnostics: (pathPrefix ? prefixed(resolution.diagnostics, pathPrefix) : resolution.diagnostics).sort(bySeverity),
  };
  return { resolution, rendered };
}

/**
 * The placement context of each valid domain: the spec's domains with the same `hosts:` URIs
 * (or, without a `hosts:` entry, all such domains) share a host; live domains are not read here.
 */
export function specPlacements(loaded: LoadedSpec, host?: HostProfile): Map<number, PlacementContext> {
  const groups = new Map<string, { index: number; spec: DomainSpec }[]>();
  for (const d of loaded.domains) {
    if (!d.spec) continue;
    const key = [...new Set(loaded.hosts.get(d.name) ?? [])].sort().join(" ");
    groups.set(key, [...(groups.get(key) ?? []), { index: d.index, spec: d.spec }]);
  }
  const out = new Map<number, PlacementContext>();
  for (const members of groups.values()) {
    const contexts = placeOnHost(
      members.map((m) => m.spec),
      host ?? ASSUMED_HOST,
    );
    members.forEach((m, i) => out.set(m.index, contexts[i]));
  }
  return out;
}

export function renderSpec(loaded: LoadedSpec, host?: HostProfile, access: HostAccess = {}): RenderedSpec {
  const placements = specPlacements(loaded, host);
  const domains = loaded.domains.map((d): RenderedDomain => {
    if (!d.spec) return { name: d.name, domainXml: "", qemuArgs: [], features: {}, diagnostics: d.diagnostics };
    const { rendered } = renderDomain(d.spec, host, `domains[${d.index}]`, access, placements.get(d.index));
    rendered.diagnostics = [...d.diagnostics, ...rendered.diagnostics];
    return rendered;
  });
  return { domains, diagnostics: loaded.diagnostics };
}

export function specHasErrors(r: RenderedSpec): boolean {
  return hasErrors(r.diagnostics) || r.domains.some((d) => hasErrors(d.diagnostics));
}
