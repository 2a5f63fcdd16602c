import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FEATURES } from "../catalog/features";
import { HYPERV_FEATURES, HYPERV_VALUES } from "../catalog/hyperv";
import { HostProfileSchema, type HostNumaNode, type HostProfile } from "../host/profile";
import { at, attrOf, child, childrenNamed, parseDocument, textOf } from "../libvirt/document";
import { tagOf, type XNode } from "../util/ordered-xml";
import { parseCpuset } from "../util/cpuset";
import { redactSecrets } from "../util/secrets";
import { atLeast } from "../util/version";
import { qmpReturn } from "./qmp";
import { runVirsh, type VirshResult } from "./virsh";
import { defaultTimeoutMs, withVirshSession, type VirshSession } from "./virsh-session";

/**
 * A host profile read through a libvirt connection alone (virsh on that URI), so it
 * works for a remote host (qemu+ssh://) as well as for this one:
 * - libvirt and QEMU versions: `virsh version --daemon`
 * - machine types with their aliases, and whether KVM is there: `virsh capabilities`
 * - host-model CPU and the custom-mode CPU models with libvirt's usable verdict:
 *   `virsh domcapabilities` for the virt type the host offers (kvm, else qemu)
 * - under KVM, each custom model against the host CPU, the check libvirt makes at start for
 *   check partial: `virsh cpu-compare` of the bare model
 * - the FEAT_KVM bits the host's KVM offers: a transient domain started paused on that
 *   host, asked `query-cpu-model-expansion` of `host` through `virsh qemu-monitor-command`
 * The kernel release is not readable over libvirt and stays unset; with kvm.supported
 * measured the resolver does not need it, and an unknown kernel never counts as too old.
 * Nor is KVM_CAP_ENFORCE_PV_FEATURE_CPUID measured (kvm.enforceCpuid stays unset).
 */

export interface HostFactsOptions {
  /** one virsh command's limit (default: KVM_PARAVIRT_TIMEOUT or 60 s) */
  timeoutMs?: number;
  progress?: (line: string) => void;
}

/** The host could not be asked; the message names the (redacted) URI and what failed. */
export class HostFactsError extends Error {}

type Machine = NonNullable<HostProfile["machines"]>[number];
type CpuModel = NonNullable<HostProfile["cpuModels"]>[number];

// functions, not module constants: evaluated per call, where mutation testing reaches them
const kvmBits = () => FEATURES.filter((f) => f.kind === "kvm-bit").map((f) => f.qemu);
/** A name the host reports that may reach a profile, an XML document or a virsh argument. */
const isIdent = (s: string) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s);
const MAX_CPU_MODELS = 4096;

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name, "en", { numeric: true });

/** `virsh version --daemon`: the daemon's libvirt (else the client library's) and the hypervisor's QEMU version. */
export function parseVirshVersion(stdout: string): { libvirt?: string; qemu?: string } {
  const daemon = /^Running against daemon: (\d+\.\d+\.\d+)/m.exec(stdout);
  const library = /^Using library: libvirt (\d+\.\d+\.\d+)/m.exec(stdout);
  const qemu = /^Running hypervisor: QEMU (\d+\.\d+\.\d+)/m.exec(stdout);
  return { ...((daemon ?? library) ? { libvirt: (daemon ?? library)![1] } : {}), ...(qemu ? { qemu: qemu[1] } : {}) };
}

export interface CapabilityFacts {
  /** an x86_64 hvm guest exists at all */
  x86_64: boolean;
  /** its machine types, pc-q35-* and pc-i440fx-* only, an alias next to its canonical name */
  machines: Machine[];
  /** a `<domain type='kvm'>` for x86_64: KVM is usable */
  kvm: boolean;
  /** <host><topology>: each NUMA cell's CPUs, memory and page pools (totals); undefined when the driver gives none */
  numaNodes?: HostNumaNode[];
}

const count = (s: string | undefined): number | undefined => (s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : undefined);

/** `<host><topology><cells>`: per cell its id, CPUs, memory and `<pages>` pools. */
function parseTopology(root: XNode | undefined): HostNumaNode[] | undefined {
  const cells = childrenNamed(child(at(root, ["host", "topology"]), "cells"), "cell");
  const nodes: HostNumaNode[] = [];
  for (const c of cells.slice(0, 1024)) {
    const id = count(attrOf(c, "id"));
    if (id === undefined || id > 4095) continue;
    const cpus = childrenNamed(child(c, "cpus"), "cpu")
      .map((x) => count(attrOf(x, "id")))
      .filter((n): n is number => n !== undefined && n <= 4095)
      .slice(0, 4096);
    // <cpu siblings='0,4'>: the host CPUs sharing its core (hyperthreads), each group once
    const groups = new Map<string, number[]>();
    for (const x of childrenNamed(child(c, "cpus"), "cpu")) {
      const set = parseCpuset(attrOf(x, "siblings") ?? "");
      if (Array.isArray(set) && set.length > 1 && set.length <= 64) groups.set(set.join(","), set);
    }
    const siblings = [...groups.values()].slice(0, 4096);
    const memory = child(c, "memory");
    const memoryKiB = attrOf(memory, "unit") === "KiB" ? count(textOf(memory)) : undefined;
    const pages = childrenNamed(c, "pages")
      .filter((p) => attrOf(p, "unit") === "KiB")
      .flatMap((p) => {
        const sizeKiB = count(attrOf(p, "size"));
        const total = count(textOf(p));
        return sizeKiB && total !== undefined ? [{ sizeKiB, total }] : [];
      })
      .slice(0, 16);
    nodes.push({
      id,
      cpus,
      ...(siblings.length ? { siblings } : {}),
      ...(memoryKiB !== undefined ? { memoryKiB } : {}),
      ...(pages.length ? { pages } : {}),
    });
  }
  return nodes.length ? nodes : undefined;
}

/**
 * `virsh freepages --all`: the free pages per node and size, e.g.
 *   Node 0:\n4KiB: 5346571\n2048KiB: 0
 * as a map from node to (size in KiB -> free pages).
 */
export function parseFreePages(stdout: string): Map<number, Map<number, number>> {
  const out = new Map<number, Map<number, number>>();
  let node: Map<number, number> | undefined;
  for (const line of stdout.split("\n")) {
    const head = /^Node (\d{1,4}):\s*$/.exec(line.trim());
    if (head) out.set(Number(head[1]), (node = new Map()));
    const row = /^(\d{1,10})KiB:\s+(\d{1,15})$/.exec(line.trim());
    if (row && node) node.set(Number(row[1]), Number(row[2]));
  }
  return out;
}

/** The cells' pools with the free counts of `virsh freepages --all` where it answers. */
export async function withFreePages(session: VirshSession, nodes: HostNumaNode[]): Promise<HostNumaNode[]> {
  const r = await session.run(["freepages", "--all"]);
  if (r.code !== 0) return nodes;
  const free = parseFreePages(r.stdout);
  return nodes.map((n) =>
    n.pages
      ? {
          ...n,
          pages: n.pages.map((p) => {
            const f = free.get(n.id)?.get(p.sizeKiB);
            return f === undefined ? p : { ...p, free: f };
          }),
        }
      : n,
  );
}

/**
 * `virsh capabilities`: the x86_64 hvm guest's machine types and domain types.
 * `<machine canonical='pc-q35-7.2'>q35</machine>` is the alias q35 of pc-q35-7.2
 * (what QMP query-machines reports as {name: "pc-q35-7.2", alias: "q35"}).
 */
export function parseCapabilities(xml: string): CapabilityFacts {
  const root = parseDocument(xml).find((n) => tagOf(n) === "capabilities");
  const guests = childrenNamed(root, "guest").filter(
    (g) => textOf(child(g, "os_type")) === "hvm" && attrOf(child(g, "arch"), "name") === "x86_64",
  );
  const aliases = new Map<string, string>();
  const names = new Set<string>();
  let kvm = false;
  for (const g of guests) {
    const arch = child(g, "arch");
    if (childrenNamed(arch, "domain").some((d) => attrOf(d, "type") === "kvm")) kvm = true;
    // machines listed under a <domain> apply to that domain type only (another emulator); the arch's own are QEMU's
    for (const m of childrenNamed(arch, "machine")) {
      const name = textOf(m);
      if (!name) continue;
      const canonical = attrOf(m, "canonical");
      if (canonical) {
        names.add(canonical);
        if (!aliases.has(canonical)) aliases.set(canonical, name);
      } else names.add(name);
    }
  }
  const machines = [...names]
    .filter((n) => /^pc-(q35|i440fx)-/.test(n) && isIdent(n))
    .map((name) => {
      const alias = aliases.get(name);
      return { name, ...(alias && isIdent(alias) ? { alias } : {}) };
    })
    .sort(byName);
  const numaNodes = parseTopology(root);
  return { x86_64: guests.length > 0, machines, kvm, ...(numaNodes ? { numaNodes } : {}) };
}

/** `virsh domcapabilities`: the model libvirt uses for host-model, and the custom-mode models with their usable verdict. */
export function parseDomCapabilities(xml: string): { hostModel?: string; cpuModels?: CpuModel[] } {
  const root = parseDocument(xml).find((n) => tagOf(n) === "domainCapabilities");
  const modes = childrenNamed(child(root, "cpu"), "mode");
  const out: { hostModel?: string; cpuModels?: CpuModel[] } = {};
  const hm = modes.find((m) => attrOf(m, "name") === "host-model" && attrOf(m, "supported") !== "no");
  const hostModel = textOf(child(hm, "model"));
  if (hostModel && isIdent(hostModel)) out.hostModel = hostModel;
  const custom = modes.find((m) => attrOf(m, "name") === "custom");
  if (custom && attrOf(custom, "supported") !== "no") {
    const seen = new Set<string>();
    const models: CpuModel[] = [];
    for (const m of childrenNamed(custom, "model")) {
      const name = textOf(m);
      if (!name || !isIdent(name) || seen.has(name)) continue;
      seen.add(name);
      // usable='unknown' (libvirt could not tell) counts as usable: only a 'no' is a verdict
      models.push({ name, usable: attrOf(m, "usable") !== "no" });
    }
    out.cpuModels = models.slice(0, MAX_CPU_MODELS);
  }
  return out;
}

/**
 * The reply of `virsh qemu-monitor-command ... query-cpu-model-expansion` (full):
 * the FEAT_KVM properties (catalog names) that are on. Throws on a QMP error reply.
 */
export function parseCpuModelExpansion(stdout: string): string[] {
  const props = expansionProps(stdout);
  return kvmBits().filter((n) => props[n] === true);
}

function expansionProps(stdout: string): Record<string, unknown> {
  const props = qmpReturn<{ model?: { props?: Record<string, unknown> } }>("query-cpu-model-expansion", stdout)?.model?.props;
  if (!props || typeof props !== "object") throw new Error("query-cpu-model-expansion: the reply has no model properties");
  return props;
}

/**
 * The same reply, asked with hv-passthrough on (as libvirt builds domcapabilities' <hyperv>): the
 * Hyper-V flags KVM offers (QEMU names). Empty when KVM has no Hyper-V, and also when the kernel
 * predates KVM_CAP_SYS_HYPERV_CPUID (5.11), where QEMU cannot expand them before a vCPU exists.
 */
export function parseHypervExpansion(stdout: string): string[] {
  const props = expansionProps(stdout);
  return HYPERV_FEATURES.filter((r) => props[r.qemu] === true).map((r) => r.qemu);
}

/** What QEMU says when KVM cannot set VP_INDEX: a KVM without Hyper-V (or older than Linux 4.13). */
export const VPINDEX_REFUSED = /kernel doesn't allow setting HyperV VP_INDEX/;

/** What the probe domain measured: the FEAT_KVM bits, and the Hyper-V flags when asked (undefined: the host could not say). */
export interface KvmMeasurement {
  supported: string[];
  hyperv?: string[];
}

/**
 * The transient domain that asks a host's KVM what it offers: no disks, no devices to
 * speak of, started paused and destroyed right after. `tcg` (a `qemu` domain) exercises the
 * same path on a host without KVM; its KVM bits are all off. Its own vCPU has no `<cpu>`
 * (QEMU's default model, as libvirt fits it to the host): query-cpu-model-expansion expands
 * `host` or `max` whatever the running vCPU is, and a passthrough vCPU does not start on
 * every host (QEMU 7.2 aborts setting MSR 0x10a, arch-capabilities, on some nested ones).
 */
export function probeDomainXml(name: string, uuid: string, accel: "kvm" | "tcg", hypervProbe = false): string {
  if (!/^kpv-probe-[0-9a-f]+$/.test(name)) throw new Error(`not a probe domain name: ${name}`);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) throw new Error(`not a UUID: ${uuid}`);
  return [
    `<domain type='${accel === "kvm" ? "kvm" : "qemu"}'>`,
    `  <name>${name}</name>`,
    `  <uuid>${uuid}</uuid>`,
    `  <description>kvm-paravirt probe: transient, destroyed after one query-cpu-model-expansion</description>`,
    `  <memory unit='MiB'>64</memory>`,
    `  <vcpu>1</vcpu>`,
    `  <os><type arch='x86_64'>hvm</type></os>`,
    // hv-vpindex alone: QEMU refuses it at start on a KVM without Hyper-V, and starts on one with it
    ...(hypervProbe ? [`  <features><hyperv><vpindex state='on'/></hyperv></features>`] : []),
    `  <on_poweroff>destroy</on_poweroff>`,
    `  <on_reboot>destroy</on_reboot>`,
    `  <on_crash>destroy</on_crash>`,
    `  <devices><memballoon model='none'/></devices>`,
    `</domain>`,
    "",
  ].join("\n");
}

/** `virsh cpu-compare`: true when the host CPU is identical to or a superset of the CPU, false when incompatible, else unknown. */
export function parseCpuCompare(stdout: string): boolean | undefined {
  if (/ is incompatible with host CPU/.test(stdout)) return false;
  if (/is identical to|Host CPU is a superset of/.test(stdout)) return true;
  return undefined;
}

/**
 * What libvirt decides when it starts a KVM domain whose custom CPU has check partial
 * (qemuProcessUpdateGuestCPU: virCPUCompare with the host CPU, not the usable verdict):
 * `virsh cpu-compare` of each bare model, `match='exact'` as libvirt's default is.
 */
async function compareModelsWithHostCpu(session: VirshSession, models: CpuModel[]): Promise<CpuModel[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvm-paravirt-cpu-compare-"));
  try {
    const out: CpuModel[] = [];
    for (const [i, m] of models.entries()) {
      const file = path.join(dir, `${i}.xml`);
      // isIdent-checked names only reach this document (parseDomCapabilities)
      fs.writeFileSync(file, `<cpu mode='custom' match='exact'><model fallback='forbid'>${m.name}</model></cpu>\n`);
      const verdict = parseCpuCompare((await session.run(["cpu-compare", "--file", file])).stdout);
      out.push(verdict === undefined ? m : { ...m, hostCompatible: verdict });
    }
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The error lines of a failed virsh call, without the `error: ` prefixes, on one line. A line
 * after an error line that is no error line of its own continues it (libvirt puts QEMU's words
 * there: "qemu unexpectedly closed the monitor: " and then QEMU's log).
 */
function why(r: VirshResult): string {
  const lines = r.stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const joined: string[] = [];
  let inError = false;
  for (const l of lines) {
    if (l.startsWith("error: ")) joined.push(l);
    else if (inError) joined[joined.length - 1] += ` ${l}`;
    else joined.push(l);
    inError = l.startsWith("error: ") || inError;
  }
  const errors = [...new Set(joined.filter((l) => l.startsWith("error: ")).map((l) => l.slice(7)))];
  let s = (errors.length ? errors : lines.slice(-1)).join("; ") || `exit ${r.code}`;
  if (/virsh could not start/.test(s)) s += " (is virsh installed? Debian package libvirt-clients)";
  return s;
}

/**
 * Measures the FEAT_KVM bits through a transient domain on the session's host:
 * `virsh create --paused`, `query-cpu-model-expansion` (full) of `host` (`max` for tcg),
 * then `virsh destroy`, always. The domain is addressed by its UUID only. With `hyperv` (KVM,
 * QEMU 4.1 or later) it also measures Hyper-V: the probe domain first starts with hv-vpindex
 * (refused on a KVM without Hyper-V: then `hyperv` is [] and the probe starts without it), and
 * the expansion is asked with hv-passthrough on.
 */
export async function measurePvFeatures(
  session: VirshSession,
  accel: "kvm" | "tcg",
  progress: (line: string) => void = () => undefined,
  opts: { hyperv?: boolean } = {},
): Promise<KvmMeasurement> {
  const uuid = randomUUID();
  const name = `kpv-probe-${randomBytes(6).toString("hex")}`;
  const where = redactSecrets(session.uri);
  const hv = accel === "kvm" && opts.hyperv === true;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvm-paravirt-probe-"));
  const file = path.join(dir, `${name}.xml`);
  fs.writeFileSync(file, probeDomainXml(name, uuid, accel, hv), { mode: 0o600 });
  let created = false;
  let noHyperv = false;
  try {
    progress(`${where}: starting the paused probe domain ${name} (${uuid})`);
    const create = ["create", "--paused", "--file", file];
    let c = await session.run(create);
    // libvirt does not always pass on QEMU's words: when it reads QEMU's log too early it says
    // only "qemu unexpectedly closed the monitor"; a second start tells a refusal from a mishap
    if (c.code !== 0 && hv && !VPINDEX_REFUSED.test(c.stderr)) c = await session.run(create);
    if (c.code !== 0 && hv) {
      noHyperv = true;
      const said = VPINDEX_REFUSED.test(c.stderr)
        ? "QEMU refused hv-vpindex"
        : `it did not start with hv-vpindex, twice: ${redactSecrets(why(c))}`;
      progress(`${where}: the host's KVM has no Hyper-V (${said}); starting the probe domain without it`);
      fs.writeFileSync(file, probeDomainXml(name, uuid, accel), { mode: 0o600 });
      c = await session.run(create);
    }
    if (c.code !== 0) throw new HostFactsError(`could not start the probe domain on ${where}: ${redactSecrets(why(c))}`);
    created = true;
    progress(`${where}: query-cpu-model-expansion of ${accel === "kvm" ? "host" : "max"} in ${uuid}`);
    const model = { name: accel === "kvm" ? "host" : "max", ...(hv ? { props: { [HYPERV_VALUES.passthrough.qemu]: true } } : {}) };
    const q = await session.run([
      "qemu-monitor-command",
      "--domain",
      uuid,
      "--cmd",
      JSON.stringify({ execute: "query-cpu-model-expansion", arguments: { type: "full", model } }),
    ]);
    if (q.code !== 0) throw new HostFactsError(`query-cpu-model-expansion failed on ${where}: ${redactSecrets(why(q))}`);
    try {
      const supported = parseCpuModelExpansion(q.stdout);
      if (!hv) return { supported };
      const offered = parseHypervExpansion(q.stdout);
      // nothing expanded on a KVM that has Hyper-V: a kernel before 5.11 cannot say (left to the kernel version)
      return noHyperv ? { supported, hyperv: [] } : offered.length ? { supported, hyperv: offered } : { supported };
    } catch (e) {
      throw new HostFactsError(`${(e as Error).message} (${where})`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    // always, even when create reported failure: a timed-out create may still have started it
    let d = await session.run(["destroy", "--domain", uuid]);
    // the session is gone (a timeout): one virsh of its own, so the domain does not outlive the probe
    if (d.code === null) d = await runVirsh(session.uri, ["destroy", "--domain", uuid], undefined, session.timeoutMs);
    if (d.code === 0) progress(`${where}: probe domain ${uuid} destroyed`);
    else if (created) progress(`${where}: WARNING: could not destroy the probe domain ${uuid}: ${redactSecrets(why(d))}`);
  }
}

/** `virsh net-list --name` output: one network name per line. */
const parseNetworkNames = (stdout: string): string[] =>
  stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => isIdent(l));

/** The networks the host defines and whether each is active; undefined when the driver has none to list. */
async function readNetworks(session: VirshSession): Promise<NonNullable<HostProfile["networks"]> | undefined> {
  const all = await session.run(["net-list", "--all", "--name"]);
  if (all.code !== 0) return undefined;
  const active = await session.run(["net-list", "--name"]);
  const on = new Set(active.code === 0 ? parseNetworkNames(active.stdout) : []);
  return parseNetworkNames(all.stdout)
    .slice(0, 4096)
    .map((name) => ({ name, active: on.has(name) }));
}

/** A HostProfile read through the libvirt connection alone. Throws HostFactsError (message names the URI and what failed) when the host cannot be asked. */
export async function probeConnection(uri: string, opts: HostFactsOptions = {}): Promise<HostProfile> {
  const progress = opts.progress ?? (() => undefined);
  const where = redactSecrets(uri);
  const fail = (what: string, r?: VirshResult) =>
    new HostFactsError(`cannot read host facts over ${where}: ${what}${r ? `: ${redactSecrets(why(r))}` : ""}`);
  return withVirshSession(uri, opts.timeoutMs ?? defaultTimeoutMs(), async (session) => {
    try {
      progress(`${where}: libvirt and QEMU versions (virsh version)`);
      let ver = await session.run(["version", "--daemon"]);
      // a driver without a daemon version: the client library's
      if (ver.code === 1) ver = await session.run(["version"]);
      if (ver.code !== 0) throw fail("virsh version failed", ver);
      const versions = parseVirshVersion(ver.stdout);
      if (!versions.qemu) throw fail(`not a QEMU host (virsh version says: ${ver.stdout.trim().split("\n").join("; ")})`);

      progress(`${where}: machine types and KVM (virsh capabilities)`);
      const capsR = await session.run(["capabilities"]);
      if (capsR.code !== 0) throw fail("virsh capabilities failed", capsR);
      const caps = parseCapabilities(capsR.stdout);
      if (!caps.x86_64) throw fail("the host offers no x86_64 hvm guest (virsh capabilities)");

      const virtType = caps.kvm ? "kvm" : "qemu";
      progress(`${where}: host-model CPU and CPU models (virsh domcapabilities --virttype ${virtType})`);
      const domR = await session.run(["domcapabilities", "--virttype", virtType, "--arch", "x86_64"]);
      if (domR.code !== 0) throw fail(`virsh domcapabilities --virttype ${virtType} failed`, domR);
      const dom = parseDomCapabilities(domR.stdout);

      if (caps.kvm && dom.cpuModels) {
        progress(`${where}: each CPU model against the host CPU, as libvirt checks it at start (virsh cpu-compare)`);
        dom.cpuModels = await compareModelsWithHostCpu(session, dom.cpuModels);
      }

      let kvm: NonNullable<HostProfile["kvm"]>;
      if (caps.kvm) {
        progress(`${where}: KVM is there: measuring the PV features it offers`);
        const m = await measurePvFeatures(session, "kvm", progress, {
          hyperv: atLeast(versions.qemu, HYPERV_VALUES.passthrough.qemuSince),
        });
        kvm = { available: true, supported: m.supported, ...(m.hyperv ? { hyperv: m.hyperv } : {}) };
      } else {
        // no KVM: nothing to measure; the resolver's kvm-unavailable check takes it from here
        progress(`${where}: no KVM guest type for x86_64: kvm.available false, PV features not measured`);
        kvm = { available: false };
      }

      progress(`${where}: libvirt networks (virsh net-list)`);
      const networks = await readNetworks(session);
      if (caps.numaNodes?.some((n) => n.pages)) {
        progress(`${where}: free huge pages per NUMA node (virsh freepages)`);
        caps.numaNodes = await withFreePages(session, caps.numaNodes);
      }

      const profile: HostProfile = {
        qemu: versions.qemu,
        ...(versions.libvirt ? { libvirt: versions.libvirt } : {}),
        kvm,
        machines: caps.machines,
        ...(dom.hostModel ? { hostModel: dom.hostModel } : {}),
        ...(dom.cpuModels ? { cpuModels: dom.cpuModels } : {}),
        ...(networks ? { networks } : {}),
        ...(caps.numaNodes ? { numaNodes: caps.numaNodes } : {}),
        source: "probe",
        description: `probed over ${where} at ${new Date().toISOString()}`,
      };
      const checked = HostProfileSchema.safeParse(profile);
      if (!checked.success) {
        const i = checked.error.issues[0];
        // Stryker disable next-line StringLiteral: equivalent: every issue this can reach has a one-element path (the parsers enforce each element's form; a list's length or a version remain)
        throw fail(`the host's answers do not make a valid profile (${i.path.join(".")}: ${i.message})`);
      }
      return profile;
    } catch (e) {
      if (e instanceof HostFactsError) throw e;
      throw new HostFactsError(`cannot read host facts over ${where}: ${redactSecrets((e as Error).message)}`);
    }
  });
}

const cache = new Map<string, Promise<HostProfile>>();

function deepFreeze<T>(o: T): T {
  if (typeof o === "object" && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * Same as probeConnection, cached per URI for the life of the process (a failed probe is not
 * cached). Every caller gets the same profile object, frozen: copy it to change it.
 */
export function hostFactsFor(uri: string, opts: HostFactsOptions = {}): Promise<HostProfile> {
  const hit = cache.get(uri);
  if (hit) return hit;
  const p = probeConnection(uri, opts).then(deepFreeze);
  cache.set(uri, p);
  p.catch(() => {
    // Stryker disable next-line ConditionalExpression: equivalent: while p is pending nothing replaces it in the cache, so the entry is p
    if (cache.get(uri) === p) cache.delete(uri);
  });
  return p;
}
