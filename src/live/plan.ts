import { randomUUID } from "node:crypto";
import type { HostProfile } from "../host/profile";
import { renderDomain } from "../render-spec";
import { hypervStates } from "../resolve/hyperv";
import { renderDomainXml } from "../libvirt/domain-xml";
import type { DomainSpec } from "../input/schema";
import { readVcpuProperties } from "../system/qmp";
import { hostFor } from "../system/host-for";
import { schemaProblem } from "../system/xml-validate";
import { VirshSession, sessionQmp, withVirshSession } from "../system/virsh-session";
import { compareLive, type LiveComparison } from "./compare";
import type { Resolution } from "../analyze";
import { hostCpus } from "../host/profile";
import { placeOnHost, type PinnedNeighbour, type PlacementContext } from "../resolve/placement";
import { formatCpuset } from "../util/cpuset";
import { mergeDefinition } from "../libvirt/merge";
import { isActive, isStartable, type DomainPlan, type FleetOptions, type HostPlan, type Target } from "./model";
import { readDomainXml, readNeighbour } from "../libvirt/read-domain";
import { domainElement, parseDocument } from "../libvirt/document";
import { desiredDevices } from "../libvirt/devices";
import { hostAccess } from "../system/host-access";

/**
 * plan against live libvirt hosts. Each host gets one
 * long-lived virsh session; hosts are worked on in parallel (bounded).
 */

/** What the running vCPU realized, or null when QEMU cannot tell (a QMP error is not a value). */
async function realizedFeatures(session: VirshSession, uuid: string, props: string[]): Promise<Record<string, boolean> | null> {
  try {
    return await readVcpuProperties(sessionQmp(session, uuid), props);
  } catch {
    return null;
  }
}

/** The spec asks for placement the host's other domains bear on (pins, huge pages). */
const needsNeighbours = (spec: DomainSpec) => spec.cpuPinning !== undefined || spec.hugepages !== undefined;

/** Every domain on the host as far as placement goes: its live definition's pins and huge pages, and whether it runs. */
async function readHostPlacement(session: VirshSession, byName: ReadonlyMap<string, string>): Promise<PinnedNeighbour[]> {
  const active = await session.run(["list", "--name"]);
  const running = new Set(active.code === 0 ? active.stdout.split("\n").map((l) => l.trim()) : []);
  const out: PinnedNeighbour[] = [];
  for (const [name, uuid] of byName) {
    const dump = await session.run(["dumpxml", "--domain", uuid]);
    if (dump.code === 0) out.push(readNeighbour(dump.stdout, name, running.has(name)));
  }
  return out;
}

/** The same for a session that has not listed the host's domains yet; undefined when it cannot list them. */
export async function hostPlacement(session: VirshSession): Promise<PinnedNeighbour[] | undefined> {
  const list = await session.domains();
  return "error" in list ? undefined : readHostPlacement(session, list.byName);
}

/**
 * What a running domain's pinning change does without a restart: `virsh vcpupin --live`,
 * `iothreadpin --live` and `emulatorpin --live` for each vCPU, IOThread and the emulator whose
 * host CPUs change, when nothing else changes; unpinning pins to every host CPU. Undefined
 * when it needs a restart.
 */
function livePinning(cmp: LiveComparison, want: Resolution, uuid: string): DomainPlan["liveChanges"] | undefined {
  if (cmp.recorded === null || cmp.drift.length || cmp.deviceChanges.length || cmp.fieldChanges.some((f) => f.field !== "cpuPinning"))
    return undefined;
  const field = cmp.fieldChanges[0];
  if (!field) return undefined;
  const current = (field.current ?? {}) as { vcpus?: string[]; emulator?: string; iothreads?: string[] };
  const all = hostCpus(want.host);
  const desired = want.placement;
  const changes: NonNullable<DomainPlan["liveChanges"]> = [];
  for (let i = 0; i < want.domain.vcpus; i++) {
    const to = desired.vcpus?.[i] ?? all;
    const from = current.vcpus?.[i] ?? null;
    if (!to) return undefined;
    if (formatCpuset(to) !== from)
      changes.push({
        setting: `vCPU ${i}`,
        from,
        to: formatCpuset(to),
        args: ["vcpupin", "--domain", uuid, "--vcpu", String(i), "--cpulist", formatCpuset(to), "--live"],
      });
  }
  // IOThreads re-pinned live; adding or removing one is a change of the definition's <iothreads>: a restart
  const ioNow = current.iothreads ?? [];
  const ioWant = desired.iothreads ?? [];
  if (ioNow.length !== ioWant.length) return undefined;
  ioWant.forEach((set, i) => {
    const to = formatCpuset(set);
    if (to !== ioNow[i])
      changes.push({
        setting: `IOThread ${i + 1}`,
        from: ioNow[i],
        to,
        args: ["iothreadpin", "--domain", uuid, "--iothread", String(i + 1), "--cpulist", to, "--live"],
      });
  });
  const emu = desired.emulator ?? all;
  if (!emu) return undefined;
  if (formatCpuset(emu) !== (current.emulator ?? null))
    changes.push({
      setting: "emulator",
      from: current.emulator ?? null,
      to: formatCpuset(emu),
      args: ["emulatorpin", "--domain", uuid, "--cpulist", formatCpuset(emu), "--live"],
    });
  return changes;
}

/** A plan of one domain with nothing to change yet. */
const noChanges = (uri: string, domain: string, action: DomainPlan["action"], state: string): DomainPlan => ({
  uri,
  domain,
  action,
  state,
  fieldChanges: [],
  featureChanges: [],
  drift: [],
  pendingRestart: [],
  restartNeeded: false,
  deviceChanges: [],
  warnings: [],
});

/** The plan for one spec domain; `uuid` is the existing domain's (by exact name), undefined when there is none. */
export async function planDomain(
  session: VirshSession,
  uri: string,
  spec: DomainSpec,
  uuid: string | undefined,
  host?: HostProfile,
  placement?: PlacementContext,
): Promise<DomainPlan> {
  // a domain planned alone (the Pulumi resource, a replan) reads its neighbours itself
  let around = placement;
  if (!around && host && needsNeighbours(spec)) {
    const live = await hostPlacement(session);
    if (live) around = placeOnHost([spec], host, live)[0];
  }
  const { resolution: want, rendered } = renderDomain(spec, host, "", hostAccess(uri), around);
  const base: DomainPlan = { ...noChanges(uri, spec.name, "create", "absent"), desiredXml: rendered.domainXml };
  const p = want.placement;
  if (p.vcpus || p.emulator || spec.cpuPinning)
    base.pinning = {
      ...(p.vcpus ? { vcpus: p.vcpus.map((s) => formatCpuset(s)) } : {}),
      ...(p.emulator ? { emulator: formatCpuset(p.emulator) } : {}),
      picked: p.picked.vcpus,
      dedicated: p.dedicated.value,
      reason: p.dedicated.reason,
    };
  // what the host's facts (or a local file system) say cannot work stops this domain here, before any define
  const errors = want.diagnostics.filter((x) => x.severity === "error");
  if (errors.length) base.error = errors.map((x) => `${x.path ? `${x.path}: ` : ""}[${x.code}] ${x.message}`).join("; ");
  base.warnings = want.diagnostics.filter((x) => x.severity === "warning").map(({ code, path, message }) => ({ code, path, message }));
  const devices = desiredDevices(want.domain);
  if (!uuid) {
    base.deviceChanges = devices.map((d) => ({ device: d.id, change: "add", hotplug: d.hotplug }));
    Object.assign(base, runStateChange(spec, "absent", false));
    const schema = spec.extraDevices?.length ? schemaError(rendered.domainXml) : undefined;
    if (schema && !base.error) base.error = schema;
    // a UUID of our own: a define that races another one for the name fails instead of replacing it
    base.desiredXml = renderDomainXml(want, { uuid: randomUUID() });
    base.featureChanges = [
      ...[...want.features.values()].map((x) => ({ feature: x.feature.qemu, enabled: x.enabled, source: x.source })),
      ...[...hypervStates(want.hyperv)].map(([feature, x]) => ({ feature, enabled: x.enabled, source: x.source })),
    ].map(({ feature, enabled, source }) => ({ feature, current: null, desired: { enabled, source } }));
    return base;
  }
  base.uuid = uuid;
  const dump = await session.run(["dumpxml", "--inactive", "--security-info", "--domain", uuid]);
  if (dump.code !== 0) return { ...base, action: "unchanged", error: dump.stderr.trim() };
  const state = (await session.run(["domstate", "--domain", uuid])).stdout.trim() || "unknown";
  const autostart = /^Autostart:\s+enable/m.test((await session.run(["dominfo", "--domain", uuid])).stdout);
  // each definition is parsed once: read as written, read as QEMU sees it, then merged into (last: it edits the tree)
  const liveDoc = parseDocument(dump.stdout);
  const liveXml = domainElement(liveDoc);
  const desiredXml = domainElement(parseDocument(rendered.domainXml));
  const cmp = compareLive(liveXml, desiredXml, want, host);
  const running = isActive(state);
  const pendingRestart: DomainPlan["pendingRestart"] = [];
  if (running && cmp.live) {
    const props = [...cmp.live.features.keys()];
    const realized = await realizedFeatures(session, uuid, props);
    if (realized)
      for (const p of props)
        if (realized[p] !== cmp.live.features.get(p)!.enabled)
          pendingRestart.push({ feature: p, running: realized[p], defined: cmp.live.features.get(p)!.enabled });
  }
  const changed = cmp.changed;
  // a spec written without Hyper-V would take a Windows domain's enlightenments away: say so before apply does
  const hvDropped = cmp.fieldChanges.find((f) => f.field === "hyperv" && f.desired === null);
  if (hvDropped)
    base.warnings.push({
      code: "hyperv-removed-by-apply",
      path: "hyperv",
      message: `the live domain has Hyper-V settings (${JSON.stringify(hvDropped.current)}) and the spec has no hyperv map: apply removes them; put them in the spec to keep them (kvm-paravirt import reads them)`,
    });
  const finalXml = changed ? mergeDefinition(liveDoc, desiredXml) : rendered.domainXml;
  // a pinning change reaches a running domain without a restart
  const liveChanges = running && changed ? livePinning(cmp, want, uuid) : undefined;
  const schema = spec.extraDevices?.length && changed ? schemaError(finalXml) : undefined;
  return {
    ...base,
    deviceChanges: cmp.deviceChanges,
    ...runStateChange(spec, state, autostart),
    action: changed ? "update" : "unchanged",
    state,
    fieldChanges: cmp.fieldChanges,
    featureChanges: changed ? cmp.featureChanges : [],
    drift: cmp.drift,
    pendingRestart,
    restartNeeded: running && ((changed && !liveChanges) || pendingRestart.length > 0),
    ...(liveChanges ? { liveChanges } : {}),
    ...(cmp.unreadable ? { error: `the live definition does not read as a spec: ${cmp.unreadable}` } : {}),
    ...(schema ? { error: schema } : {}),
    desiredXml: finalXml,
  };
}

/** Passed-through devices meet libvirt's schema before any define. */
function schemaError(xml: string): string | undefined {
  const p = schemaProblem(xml);
  return p ? `extraDevices: [extra-device-schema] libvirt's schema refuses the definition: ${p}` : undefined;
}

/** What apply does after the define to reach the spec's runState and autostart, from libvirt's state now. */
function runStateChange(spec: DomainSpec, state: string, autostart: boolean): Pick<DomainPlan, "runChange" | "autostart"> {
  const out: Pick<DomainPlan, "runChange" | "autostart"> = {};
  const off = isStartable(state);
  if (spec.runState === "running") {
    if (off) out.runChange = "start";
    else if (state === "paused") out.runChange = "resume";
  } else if (spec.runState === "paused") {
    if (off) out.runChange = "start-paused";
    else if (state === "running") out.runChange = "pause";
  }
  if (spec.autostart !== undefined && spec.autostart !== autostart) out.autostart = spec.autostart;
  return out;
}

/** Runs `fn` for every host with at most `limit` hosts at a time. */
export async function eachHost<T>(uris: string[], limit: number, fn: (uri: string) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(uris.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, uris.length) }, async () => {
      while (next < uris.length) {
        const i = next++;
        out[i] = await fn(uris[i]);
      }
    }),
  );
  return out;
}

async function withSession<T>(
  uri: string,
  opts: FleetOptions,
  fn: (s: VirshSession, byName: Map<string, string>) => Promise<T>,
  onError: (e: string) => T,
): Promise<T> {
  return withVirshSession(uri, opts.timeoutMs, async (session) => {
    const list = await session.domains();
    return "error" in list ? onError(list.error) : fn(session, list.byName);
  });
}

const deleteCandidate = (uri: string, domain: string, uuid: string): DomainPlan => ({
  ...noChanges(uri, domain, "delete-candidate", "defined"),
  uuid,
});

export async function planFleet(ts: readonly Target[], opts: FleetOptions = {}): Promise<HostPlan[]> {
  const uris = [...new Set(ts.map((t) => t.uri))];
  return eachHost(uris, opts.parallel ?? 4, (uri) =>
    withSession(
      uri,
      opts,
      async (session, byName) => {
        let host: HostProfile;
        try {
          host = await hostFor(uri, opts.host, { timeoutMs: opts.timeoutMs, progress: opts.progress });
        } catch (e) {
          return { uri, error: `${(e as Error).message}; give --host <profile> to plan against a profile instead`, domains: [] };
        }
        const mine = ts.filter((t) => t.uri === uri);
        // the host's other domains' pins and huge pages, read once, where the spec's placement needs them
        const live = mine.some((t) => needsNeighbours(t.spec)) ? await readHostPlacement(session, byName) : undefined;
        const placements = placeOnHost(
          mine.map((t) => t.spec),
          host,
          live,
        );
        const domains: DomainPlan[] = [];
        for (const [i, t] of mine.entries()) {
          if (mine.length > 20 && i % 20 === 0) opts.progress?.(`plan: ${uri}: ${i}/${mine.length}`);
          domains.push(await planDomain(session, uri, t.spec, byName.get(t.spec.name), host, placements[i]));
        }
        // domains we manage on this host that the spec no longer has
        const wanted = new Set(mine.map((t) => t.spec.name));
        for (const [name, uuid] of byName) {
          if (wanted.has(name)) continue;
          const dump = await session.run(["dumpxml", "--inactive", "--domain", uuid]);
          if (dump.code === 0 && readDomainXml(dump.stdout).recorded !== null) domains.push(deleteCandidate(uri, name, uuid));
        }
        return { uri, domains };
      },
      (error) => ({ uri, error, domains: [] }),
    ),
  );
}
