import type { Diagnostic } from "../diagnostics";
import { ASSUMED_HOST, parseHostProfileJson, type HostProfile } from "../host/profile";
import { placeOnHost, type PinnedNeighbour } from "../resolve/placement";
import { renderDomain, type FeatureReport } from "../render-spec";
import type { HostAccess, Resolution } from "../analyze";
import { DOMAIN_FIELD_NAMES, libvirtUri } from "../input/schema";
import { validateSpecObject } from "../input/load";
import { renderXslt } from "../libvirt/xslt";
import { redactSecrets } from "../util/secrets";

/** The component's type token (here, not in paravirt-domain.ts, so that the core does not load the Pulumi SDK). */
export const PARAVIRT_DOMAIN_TYPE = "kvm-paravirt:index:ParavirtDomain";
/** The custom resource's type token (its provider is this package's plugin). */
export const DOMAIN_TYPE = "kvm-paravirt:index:Domain";

/** The arguments of a ParavirtDomain as plain values (after apply, or as a policy pack sees them). */
export interface PlainArgs {
  name?: string | null;
  hostProfile?: string | null;
  [field: string]: unknown;
}

export interface Evaluation {
  name: string;
  /** null when the arguments did not validate */
  resolution: Resolution | null;
  domainXml: string;
  /** XSLT 1.0 stylesheet applying the PV settings to any libvirt domain XML (pulumi-libvirt's xml.xslt) */
  xslt: string;
  qemuArgs: string[];
  features: Record<string, FeatureReport>;
  diagnostics: Diagnostic[];
}

/** The domain fields a ParavirtDomain takes as arguments (its name comes from `name` or the resource name). */
const ARG_KEYS = DOMAIN_FIELD_NAMES;

export { uriHasCredentials } from "../util/secrets";

/** The last profiles parsed: a provider checks every domain with the same hostProfile text. */
const parsedProfiles = new Map<string, ReturnType<typeof parseHostProfileJson>>();

function parseHostProfile(json: string | undefined): HostProfile | undefined | Diagnostic {
  if (json === undefined) return undefined;
  let r = parsedProfiles.get(json);
  // Stryker disable next-line ConditionalExpression: equivalent (parsing again gives the same answer; the memo only saves time)
  if (!r) {
    r = parseHostProfileJson(json);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (the bound only caps the memo's memory)
    if (parsedProfiles.size >= 8) parsedProfiles.delete(parsedProfiles.keys().next().value!);
    parsedProfiles.set(json, r);
  }
  if ("profile" in r) return r.profile;
  if (r.error === "json")
    return {
      severity: "error",
      code: "host-profile-invalid",
      message: `hostProfile is not valid JSON (${r.message}); pass the output of kvm-paravirt probe --json`,
      path: "hostProfile",
    };
  return { severity: "error", code: "host-profile-invalid", message: `hostProfile.${r.path}: ${r.message}`, path: `hostProfile.${r.path}` };
}

/**
 * The pure evaluation behind the component (exported for tests and the policy pack):
 * args -> the spec's domain -> resolve -> render, with diagnostic paths relative to the args.
 */
export function evaluateArgs(
  resourceName: string,
  args: PlainArgs,
  connectionHost?: HostProfile,
  access: HostAccess = {},
  /** the host's domains as far as placement goes, read over the connection (src/live/plan.ts) */
  live?: readonly PinnedNeighbour[],
): Evaluation {
  const domain: Record<string, unknown> = { name: args.name ?? resourceName };
  for (const k of ARG_KEYS) if (args[k] !== undefined && args[k] !== null) domain[k] = args[k];
  // a hostProfile argument overrides the facts read over the connection
  const host = parseHostProfile(args.hostProfile ?? undefined) ?? connectionHost;
  const loaded = validateSpecObject({ domains: [domain] });
  const d = loaded.domains[0];
  // Stryker disable next-line Regex: equivalent (each path of the one domain starts with domains[0].)
  const strip = (x: Diagnostic): Diagnostic => ({ ...x, path: x.path.replace(/^domains\[0\]\.?/, "") });
  const pre: Diagnostic[] = [...loaded.diagnostics, ...d.diagnostics].map(strip);
  if (host && "severity" in host) pre.push(host);
  // an empty URI would make virsh use its default connection: the wrong host
  if (args.connection !== undefined && args.connection !== null && !libvirtUri.safeParse(args.connection).success)
    pre.push({
      severity: "error",
      code: "spec-invalid-value",
      message: `connection must be ${libvirtUri.safeParse("").error!.issues[0].message}, not ${typeof args.connection === "string" ? JSON.stringify(redactSecrets(args.connection)) : typeof args.connection}`,
      path: "connection",
    });
  if (args.deploy !== undefined && args.deploy !== null && typeof args.deploy !== "boolean")
    pre.push({
      severity: "error",
      code: "spec-invalid-value",
      message: "deploy must be a plain true or false (it decides whether the domain is defined at all, so it cannot wait for an Output)",
      path: "deploy",
    });
  if (!d.spec || pre.some((x) => x.severity === "error"))
    return {
      name: String(domain.name),
      resolution: null,
      domainXml: "",
      xslt: "",
      qemuArgs: [],
      features: {},
      diagnostics: pre,
    };
  const profile = host as HostProfile | undefined;
  const placement = live ? placeOnHost([d.spec], profile ?? ASSUMED_HOST, live)[0] : undefined;
  const { resolution, rendered } = renderDomain(d.spec, profile, "", access, placement);
  const ev = {
    name: d.spec.name,
    resolution,
    domainXml: rendered.domainXml,
    qemuArgs: rendered.qemuArgs,
    features: rendered.features,
    diagnostics: [...pre, ...rendered.diagnostics],
  } as Evaluation;
  // the stylesheets are rendered only when asked for (each costs as much as the domain XML)
  lazy(ev, "xslt", () => renderXslt(resolution));
  return ev;
}

function lazy<T extends object, K extends keyof T>(obj: T, key: K, compute: () => T[K]): void {
  let value: T[K] | undefined;
  Object.defineProperty(obj, key, { enumerable: true, get: () => (value ??= compute()) });
}
