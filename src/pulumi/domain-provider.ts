import type * as provider from "@pulumi/pulumi/provider";
import type { HostProfile } from "../host/profile";
import { validateSpecObject } from "../input/load";
import { DOMAIN_FIELD_NAMES, type DomainSpec } from "../input/schema";
import { canon, compareLive, type LiveComparison } from "../live/compare";
import { hostPlacement } from "../live/plan";
import { DeployError, deployDomain, findDomain, readLive, undefineDomain, type Deployed } from "../live/deploy";
import type { RestartPolicy } from "../live/model";
import { readDomainXml } from "../libvirt/read-domain";
import { domainElement, parseDocument } from "../libvirt/document";
import type { XNode } from "../util/ordered-xml";
import { hostAccess } from "../system/host-access";
import { hostFor } from "../system/host-for";
import { withVirshSession, type VirshSession } from "../system/virsh-session";
import { redactSecrets, uriHasCredentials } from "../util/secrets";
import type { DomainOutputName } from "./domain-outputs";
import { DOMAIN_TYPE, evaluateArgs, type Evaluation, type PlainArgs } from "./evaluate";

/**
 * The `kvm-paravirt:index:Domain` custom resource: check, diff, create, read, update and
 * delete as the provider plugin serves them. Values arrive as the engine sends them
 * (plain JSON with Pulumi's unknown and secret sentinels); the domain is resolved by the
 * core and deployed by the CLI apply's engine (src/live/deploy.ts).
 */

export { DOMAIN_TYPE };

/** What the engine sends for a value not known during a preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270";

type Json = Record<string, unknown>;

const isSecret = (v: unknown): v is { value: unknown } => typeof v === "object" && v !== null && (v as Json)[SECRET_SIG] === SECRET_MARK;
const secret = (value: unknown) => ({ [SECRET_SIG]: SECRET_MARK, value });

/** The value with every secret wrapper taken off. */
function reveal(v: unknown): unknown {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
  return v;
}

function hasUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(hasUnknown);
  if (v && typeof v === "object") return Object.values(v).some(hasUnknown);
  return false;
}

/** The inputs a Domain takes (as its schema lists them): the spec's domain fields and where and how to deploy; `effectiveFeatures` is added by check. */
const DOMAIN_INPUT_KEYS: readonly string[] = ["name", ...DOMAIN_FIELD_NAMES, "hostProfile", "connection", "restart"];
/** Changing one of these is another domain: delete, then create. */
const REPLACE_KEYS = ["name", "connection"];
const RESTARTS = ["never", "if-needed"];

const DEFAULT_URI = "qemu:///system";
const uriOf = (inputs: Json): string => (reveal(inputs.connection) as string | undefined) ?? DEFAULT_URI;
const nameFromUrn = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

/** Where the host facts come from: the hostProfile argument, else the connection (read once per process). */
export type HostFacts = (uri: string) => Promise<HostProfile>;
export const factsOverConnection: HostFacts = (uri) => hostFor(uri, undefined);

async function evaluate(plain: Json, facts: HostFacts): Promise<Evaluation> {
  const overConnection = plain.hostProfile === undefined || plain.hostProfile === null;
  const host = overConnection ? await facts(uriOf(plain)) : undefined;
  // pins and huge pages against the host's other domains, read as plan reads them: a preview refuses what up would
  const placed = plain.cpuPinning !== undefined || plain.hugepages !== undefined;
  const live = overConnection && placed ? await withSession(uriOf(plain), hostPlacement) : undefined;
  // what plan checks on the host side too (a local disk file, libvirt's schema for extra devices): a preview says what an up would
  return evaluateArgs(String(plain.name), plain as PlainArgs, host, hostAccess(uriOf(plain)), live);
}

const effectiveFeatures = (ev: Evaluation): Record<string, boolean> =>
  Object.fromEntries(Object.entries(ev.features).map(([k, f]) => [k, f.enabled]));

const errorsOf = (ev: Evaluation) => ev.diagnostics.filter((d) => d.severity === "error");

function invalid(ev: Evaluation): DeployError {
  return new DeployError(
    `invalid Domain arguments:\n${errorsOf(ev)
      // Stryker disable next-line StringLiteral: equivalent (every diagnostic of a Domain's arguments names its field: the fallback never shows)
      .map((e) => `  ${e.path || "(args)"}: [${e.code}] ${e.message}`)
      .join("\n")}`,
  );
}

/** The checked inputs: defaults filled in, the effective features added (so the engine's input diff is the per-feature diff). */
export async function checkDomain(urn: string, news: Json, facts: HostFacts = factsOverConnection): Promise<provider.CheckResult> {
  const inputs: Json = {};
  for (const [k, v] of Object.entries(news)) if (k !== "effectiveFeatures") inputs[k] = v;
  inputs.name ??= nameFromUrn(urn);
  const failures: provider.CheckFailure[] = [];
  for (const k of Object.keys(inputs))
    if (!DOMAIN_INPUT_KEYS.includes(k))
      failures.push({ property: k, reason: `unknown property ${k}; a Domain takes ${DOMAIN_INPUT_KEYS.join(", ")}` });
  if (inputs.restart !== undefined && inputs.restart !== UNKNOWN && !RESTARTS.includes(reveal(inputs.restart) as string))
    failures.push({ property: "restart", reason: `restart must be one of ${RESTARTS.join(", ")}` });
  if (failures.length) return { inputs, failures };
  // during a preview an input may be unknown: the features are then unknown too
  if (hasUnknown(inputs)) return { inputs: { ...inputs, effectiveFeatures: UNKNOWN } };
  const plain = reveal(inputs) as Json;
  let ev: Evaluation;
  try {
    ev = await evaluate(plain, facts);
  } catch (e) {
    return {
      inputs,
      failures: [
        {
          property: "connection",
          reason: `${redactSecrets((e as Error).message)}; give hostProfile (kvm-paravirt probe --json) to preview without the host`,
        },
      ],
    };
  }
  const errors = errorsOf(ev);
  // Stryker disable next-line StringLiteral: equivalent (every diagnostic of a Domain's arguments names its field: the fallback never shows)
  if (errors.length) return { inputs, failures: errors.map((d) => ({ property: d.path || "name", reason: `[${d.code}] ${d.message}` })) };
  return { inputs: { ...inputs, effectiveFeatures: effectiveFeatures(ev) } };
}

/**
 * No change unless an input (or an effective feature) changed, or the last refresh found the
 * live definition out of sync with the inputs (liveChanges, the comparison plan makes);
 * another name or connection is another domain.
 */
export function diffDomain(olds: Json, news: Json): provider.DiffResult {
  const changed = [...DOMAIN_INPUT_KEYS, "effectiveFeatures"].filter((k) => {
    const [o, n] = [reveal(olds[k]) ?? null, reveal(news[k]) ?? null];
    // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent (hasUnknown(n) is true whenever n is UNKNOWN)
    return n === UNKNOWN || hasUnknown(n) || canon(o) !== canon(n);
  });
  const live = reveal(olds.liveChanges);
  // Stryker disable next-line StringLiteral: equivalent (the result says whether and what is replaced, not which keys changed)
  if (Array.isArray(live) && live.length > 0) changed.push("liveChanges");
  const replaces = changed.filter((k) => REPLACE_KEYS.includes(k));
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
}

/** The resource's outputs: its checked inputs (a password-bearing URI as a secret) and what the deploy produced. */
function outputs(inputs: Json, ev: Evaluation, uuid: string, state: string, restartRequired: boolean, liveChanges: string[] = []): Json {
  const uri = uriOf(inputs);
  const connection = isSecret(inputs.connection) || uriHasCredentials(uri) ? secret(uri) : uri;
  return {
    ...inputs,
    connection,
    effectiveFeatures: effectiveFeatures(ev),
    uuid,
    state,
    restartRequired,
    domainXml: ev.domainXml,
    qemuArgs: ev.qemuArgs,
    features: ev.features,
    diagnostics: ev.diagnostics,
    liveChanges,
  } satisfies Record<DomainOutputName, unknown> & Json;
}

const withSession = <T>(uri: string, fn: (s: VirshSession) => Promise<T>): Promise<T> => withVirshSession(uri, undefined, fn);

async function deploy(
  inputs: Json,
  expect: { absent: true } | { uuid: string },
  facts: HostFacts,
): Promise<{ ev: Evaluation; d: Deployed }> {
  const plain = reveal(inputs) as Json;
  const ev = await evaluate(plain, facts);
  if (!ev.resolution || errorsOf(ev).length) throw invalid(ev);
  const spec = ev.resolution.domain as DomainSpec;
  const restart = ((plain.restart as string | undefined) ?? "never") as RestartPolicy;
  const d = await withSession(uriOf(plain), (s) => deployDomain(s, spec, expect, restart, ev.resolution!.host));
  return { ev, d };
}

export async function createDomain(inputs: Json, facts: HostFacts = factsOverConnection): Promise<provider.CreateResult> {
  const { ev, d } = await deploy(inputs, { absent: true }, facts);
  return { id: d.uuid, outs: outputs(inputs, ev, d.uuid, d.state, d.result.restartPending) };
}

export async function updateDomain(olds: Json, news: Json, facts: HostFacts = factsOverConnection): Promise<provider.UpdateResult> {
  const uuid = reveal(olds.uuid) as string | undefined;
  if (!uuid) throw new DeployError("the resource's state has no domain UUID: refresh it (or import the domain) first");
  const { ev, d } = await deploy(news, { uuid }, facts);
  return { outs: outputs(news, ev, d.uuid, d.state, d.result.restartPending) };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An import ID: the domain's name or UUID, `@`, the connection URI (`web1@qemu:///system`,
 * `web1@qemu+ssh://root@kvm1/system`; the URI starts at the first `@` followed by a scheme);
 * or the ID Pulumi shows in the state, the domain's UUID alone, on `defaultUri` (the
 * resource's connection, else qemu:///system).
 */
function parseImportId(id: string, defaultUri = DEFAULT_URI): { domain: string; uri: string } | null {
  // Stryker disable next-line Regex: equivalent (a lazy group from the start and a greedy tail match the same without the anchors)
  const m = /^(.+?)@([A-Za-z][A-Za-z0-9+.-]*:\/\/.*)$/.exec(id);
  if (m) return { domain: m[1], uri: m[2] };
  // Stryker disable next-line MethodExpression: equivalent (findDomain matches a UUID in any case and returns libvirt's)
  return UUID_RE.test(id) ? { domain: id.toLowerCase(), uri: defaultUri } : null;
}

/** The spec fields a live definition reads back as (what `kvm-paravirt import` writes). */
function liveInputs(root: XNode, devices: boolean, asWritten = false): Json {
  const read = readDomainXml(root, { devices, asWritten });
  const loaded = validateSpecObject({ domains: [read.domain] });
  const spec = loaded.domains[0].spec;
  if (!spec)
    throw new DeployError(
      `the live definition does not read as a Domain: ${loaded.domains[0].diagnostics.map((d) => d.message).join("; ")}`,
    );
  return { ...(read.domain as Json) };
}

/**
 * refresh (props from the state) and import (the ID alone). A refresh compares the live
 * definition with what the recorded inputs deploy (src/live/compare.ts, as plan does): in
 * sync, the recorded inputs stay as written; out of sync, the live definition's inputs (as
 * written) are returned and liveChanges says what differs, so the next Diff is a change.
 */
export async function readDomain(id: string, props: Json, facts: HostFacts = factsOverConnection): Promise<provider.ReadResult> {
  const importing = props.uuid === undefined;
  const parsed = importing ? parseImportId(id, uriOf(props)) : null;
  if (importing && !parsed)
    throw new DeployError(
      `cannot import ${JSON.stringify(id)}: the ID is the domain's UUID (on qemu:///system, as the state shows it) or <domain name or UUID>@<libvirt URI>, e.g. web1@qemu:///system`,
    );
  const uri = parsed ? parsed.uri : uriOf(props);
  return withSession(uri, async (session) => {
    const uuid = parsed ? await findDomain(session, parsed.domain) : (reveal(props.uuid) as string);
    if (!uuid) throw new DeployError(`domain ${JSON.stringify(parsed!.domain)} not found on ${redactSecrets(uri)}`);
    const live = await readLive(session, uuid);
    if (!live) {
      if (importing) throw new DeployError(`domain ${uuid} not found on ${redactSecrets(uri)}`);
      return { id: "", props: {} }; // gone: the engine forgets it
    }
    const base: Json = importing ? { connection: uri } : {};
    if (!importing) for (const k of DOMAIN_INPUT_KEYS) if (props[k] !== undefined) base[k] = props[k];
    // devices are read back when the resource manages them (it declared some) or is being imported
    const declaresDevices = ["disks", "nics", "serialConsole", "graphics", "extraDevices"].some((k) => base[k] !== undefined);
    const liveRoot = domainElement(parseDocument(live.xml));
    // what the live definition reads as, with where and how it is deployed kept from the state
    const fromLive = (asWritten: boolean): Json => {
      const out = liveInputs(liveRoot, importing || declaresDevices, asWritten);
      for (const k of ["hostProfile", "connection", "restart"]) if (base[k] !== undefined) out[k] = base[k];
      if (importing) out.connection = uri;
      return out;
    };
    // the inputs returned, and what they are evaluated as (the effective features: the live definition as QEMU sees it)
    let inputs: Json;
    let effective: Json;
    let liveChanges: string[] = [];
    const evRecorded = importing ? null : await evaluate(reveal(base) as Json, facts);
    if (!evRecorded?.resolution) inputs = effective = fromLive(false);
    else {
      // in sync when the live definition is what the recorded inputs deploy: the comparison plan makes
      const desired = domainElement(parseDocument(evRecorded.domainXml));
      const cmp = compareLive(liveRoot, desired, evRecorded.resolution, evRecorded.resolution.host);
      liveChanges = describeChanges(cmp);
      if (!cmp.changed) inputs = effective = base;
      else {
        // out of sync: what differs shows in the refreshed inputs as written (a no-op element we own included)
        inputs = fromLive(true);
        effective = fromLive(false);
      }
    }
    const ev = await evaluate(reveal(effective) as Json, facts);
    if (!ev.resolution) throw invalid(ev);
    const restartRequired = reveal(props.restartRequired) === true;
    const outs = outputs(inputs, ev, uuid, live.state, restartRequired, liveChanges);
    const { effectiveFeatures: eff } = outs;
    return { id, props: outs, inputs: { ...inputs, effectiveFeatures: eff } };
  });
}

/** The comparison's findings, one line each, for the liveChanges output. */
function describeChanges(c: LiveComparison): string[] {
  return [
    ...c.fieldChanges.map((f) => `${f.field}: ${canon(f.current)} -> ${canon(f.desired)}`),
    ...(c.recorded === null ? ["no kvm-paravirt metadata"] : []),
    ...c.drift.map((d) => `drift: ${d.feature} recorded ${d.recorded}, now ${d.current}`),
    ...c.deviceChanges.map((d) => `device ${d.device}: ${d.change}`),
  ];
}

export async function deleteDomain(props: Json): Promise<void> {
  const uuid = reveal(props.uuid) as string | undefined;
  if (!uuid) return;
  await withSession(uriOf(props), (s) => undefineDomain(s, uuid));
}
