import { FEATURES, FEATURE_BY_QEMU_NAME, specValue } from "../catalog/features";
import { HYPERV_BY_QEMU_NAME, HYPERV_FEATURES, HYPERV_VALUES } from "../catalog/hyperv";
import { VENDOR_ID_RE } from "../input/schema";
import type { Diagnostic } from "../diagnostics";
import { at, attrOf, child, childrenNamed, domainElement, parseDocument, textOf } from "./document";
import { readDevices } from "./devices";
import { recordedDedicated, recordedFeatures } from "./metadata";
import { pvGlobal } from "./owned";
import type { PinnedNeighbour } from "../resolve/placement";
import { formatCpuset, parseCpuset } from "../util/cpuset";
import type { XNode } from "../util/ordered-xml";

/**
 * A libvirt domain definition (virsh dumpxml) read back into a spec domain: the
 * libvirt elements, `-global` entries in the QEMU namespace (ours or
 * hand-written), CPU mode and model, machine type, ioapic driver, hidden
 * signature. Elements libvirt keeps but does not emit (e.g. <pv-ipi state='on'/>)
 * set nothing, exactly as for QEMU.
 */

export interface ReadDomain {
  /** a spec domain (validate it with validateSpecObject) */
  domain: Record<string, unknown>;
  /** what could not be carried over */
  notes: Diagnostic[];
  /** the effective PV features recorded in our <metadata> when the domain was defined, if it was ours */
  recorded: Record<string, boolean> | null;
  /** the domain's UUID */
  uuid?: string;
}

export interface ReadOptions {
  /**
   * Read libvirt elements as written, including values libvirt keeps but does not
   * emit (for comparing two definitions). Default: as QEMU sees them (no-ops ignored).
   */
  asWritten?: boolean;
  /** Also read the devices the spec can declare (disks, NICs, serial console, graphics): for import and refresh. */
  devices?: boolean;
}

const ON = (s: string | undefined) => s === "on" || s === "yes";

const MIB_PER: Record<string, number> = {
  b: 1 / 1048576,
  bytes: 1 / 1048576,
  k: 1 / 1024,
  kib: 1 / 1024,
  kb: 1000 / 1048576,
  m: 1,
  mib: 1,
  mb: 1e6 / 1048576,
  g: 1024,
  gib: 1024,
  gb: 1e9 / 1048576,
  t: 1048576,
  tib: 1048576,
};

/** Reads a definition: its text, or its <domain> element in the document form (src/libvirt/document.ts). */
export function readDomainXml(xml: string | XNode, opts: ReadOptions = {}): ReadDomain {
  const notes: Diagnostic[] = [];
  const note = (message: string, path = "") => notes.push({ severity: "info", code: "import-not-carried", message, path });
  const root = typeof xml === "string" ? domainElement(parseDocument(xml)) : xml;
  const domain: Record<string, unknown> = { name: textOf(child(root, "name")) };
  const paravirt: Record<string, boolean> = {};
  const hyperv: Record<string, unknown> = {};
  const vcpu = Number(textOf(child(root, "vcpu")));
  if (Number.isInteger(vcpu) && vcpu > 0) domain.vcpus = vcpu;
  const mem = child(root, "memory");
  if (mem !== undefined) {
    const unit = (attrOf(mem, "unit") ?? "KiB").toLowerCase();
    const mib = Number(textOf(mem)) * (MIB_PER[unit] ?? 1 / 1024);
    if (Number.isFinite(mib)) domain.memoryMiB = Math.round(mib);
  }
  if (attrOf(root, "type") === "qemu") domain.accel = "tcg";
  const machine = attrOf(at(root, ["os", "type"]), "machine");
  if (machine) domain.machine = machine;

  // -global entries first: a libvirt element emits on -cpu, which QEMU applies after -global
  const values = childrenNamed(child(root, "qemu:commandline"), "qemu:arg").map((a) => attrOf(a, "value") ?? "");
  for (let i = 0; i < values.length; i++) {
    const [flag, value] = [values[i], values[i + 1] ?? ""];
    if (flag === "-global") {
      const g = pvGlobal(value);
      if (g && readHypervGlobal(hyperv, g.property, g.value)) {
        i++;
        continue;
      }
      const f = g && /^(on|off|true|false|yes|no)$/.test(g.value) ? FEATURE_BY_QEMU_NAME.get(g.property) : undefined;
      if (f) {
        paravirt[f.specKey] = specValue(f, ON(g!.value) || g!.value === "true");
        i++;
        continue;
      }
    }
    if (flag === "-machine" && /^kernel[-_]irqchip=off$/.test(value)) {
      domain.irqchip = "off";
      i++;
      continue;
    }
    if (flag.startsWith("-")) note(`<qemu:commandline> ${flag} ${value} is not a PV setting and is not carried over`, "qemu:commandline");
  }

  for (const f of FEATURES) {
    const lc = f.libvirt;
    if (!lc) continue;
    const parent = at(root, lc.parent);
    const el = childrenNamed(parent, lc.element).find((e) => Object.entries(lc.match ?? {}).every(([k, v]) => attrOf(e, k) === v));
    const v = attrOf(el, lc.attr);
    if (v === undefined) continue;
    const property = v === lc.values.true ? true : v === lc.values.false ? false : undefined;
    if (property === undefined) continue;
    // a value libvirt keeps but does not emit changes nothing
    if (lc.effect[`${property}`] === "emits" || opts.asWritten) paravirt[f.specKey] = specValue(f, property);
    else if (paravirt[f.specKey] === undefined)
      note(`<${lc.element} ${lc.attr}='${v}'/> is kept by libvirt but emits nothing: ignored`, `features.${lc.element}`);
  }
  if (attrOf(at(root, ["features", "ioapic"]), "driver") === "qemu") domain.irqchip = "split";
  readHypervElements(root, hyperv, note);

  const cpu = child(root, "cpu");
  if (cpu) {
    const mode = attrOf(cpu, "mode") ?? "custom";
    const c: Record<string, unknown> = { mode };
    const model = textOf(child(cpu, "model"));
    if (mode === "custom" && model) c.model = model;
    const check = attrOf(cpu, "check");
    if (check && ["none", "partial", "full"].includes(check)) c.check = check;
    const features: Record<string, boolean> = {};
    for (const fe of childrenNamed(cpu, "feature")) {
      const name = attrOf(fe, "name");
      const policy = attrOf(fe, "policy") ?? "require";
      if (!name || policy === "optional") continue;
      const on = policy === "require" || policy === "force";
      if (name === "x2apic") domain.x2apic = on;
      else features[name] = on;
    }
    if (Object.keys(features).length) c.features = features;
    domain.cpu = c;
  }
  if (Object.keys(paravirt).length) domain.paravirt = paravirt;
  if (Object.keys(hyperv).length) domain.hyperv = hyperv;
  Object.assign(domain, readPlacement(root, typeof domain.vcpus === "number" ? domain.vcpus : 1, note));
  // cpuPinning.dedicated as our metadata recorded it; the hint it implied is its again
  const dedicated = recordedDedicated(root);
  if (dedicated && domain.cpuPinning) {
    domain.cpuPinning = { dedicated: true, ...(domain.cpuPinning as object) };
    if (dedicated === "implies-hint" && paravirt.hintDedicated === true) {
      delete paravirt.hintDedicated;
      if (!Object.keys(paravirt).length) delete domain.paravirt;
    }
  }
  const recorded = recordedFeatures(root);
  if (opts.devices) Object.assign(domain, readDevices(child(root, "devices"), note));
  const uuid = textOf(child(root, "uuid"));
  return { domain, notes, recorded, ...(uuid ? { uuid } : {}) };
}

const ON_OFF = /^(on|off|true|false|yes|no)$/;

/** A cpuset as libvirt wrote it, in the one spelling (src/util/cpuset.ts); undefined when it does not parse. */
function canonicalSet(text: string | undefined): string | undefined {
  const p = text === undefined ? undefined : parseCpuset(text);
  return Array.isArray(p) ? formatCpuset(p) : undefined;
}

const PAGE_KIB: Record<string, number> = { kib: 1, k: 1, mib: 1024, m: 1024, gib: 1048576, g: 1048576 };

/** <cputune> pins, <numatune><memory> and <memoryBacking><hugepages> into cpuPinning, numa and hugepages. */
function readPlacement(root: XNode, vcpus: number, note: (message: string, path?: string) => void): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const tune = child(root, "cputune");
  const pins = new Map<number, string | undefined>();
  for (const p of childrenNamed(tune, "vcpupin")) pins.set(Number(attrOf(p, "vcpu")), canonicalSet(attrOf(p, "cpuset")));
  const emulator = canonicalSet(attrOf(child(tune, "emulatorpin"), "cpuset"));
  const pinning: Record<string, unknown> = {};
  if (pins.size) {
    // a vCPU without its own <vcpupin> runs where <vcpu cpuset> says
    const fallback = canonicalSet(attrOf(child(root, "vcpu"), "cpuset"));
    const sets = Array.from({ length: vcpus }, (_x, i) => pins.get(i) ?? fallback);
    if (sets.every((x) => x !== undefined)) pinning.vcpus = sets;
    else note("<cputune> pins some vCPUs only (the others float): the vCPU pinning is not carried over", "cputune");
  }
  if (emulator) pinning.emulator = emulator;
  // IOThreads: the spec has them as their pins, so every one of them must be pinned
  const iothreads = Number(textOf(child(root, "iothreads")));
  const ioPins = new Map(childrenNamed(tune, "iothreadpin").map((p) => [Number(attrOf(p, "iothread")), canonicalSet(attrOf(p, "cpuset"))]));
  if (Number.isInteger(iothreads) && iothreads > 0) {
    const sets = Array.from({ length: Math.min(iothreads, 64) }, (_x, i) => ioPins.get(i + 1));
    if (sets.every((x) => x !== undefined)) pinning.iothreads = sets;
    else
      note(
        `<iothreads>${iothreads}</iothreads> with IOThreads not pinned: not carried over (the spec gives each IOThread its host CPUs)`,
        "iothreads",
      );
  }
  if (Object.keys(pinning).length) out.cpuPinning = pinning;
  const memory = child(child(root, "numatune"), "memory");
  const nodeset = canonicalSet(attrOf(memory, "nodeset"));
  const numa: Record<string, unknown> = {};
  if (nodeset) Object.assign(numa, { mode: attrOf(memory, "mode") ?? "strict", nodeset });
  else if (memory) note("<numatune><memory> without a nodeset (placement auto) is not carried over", "numatune");
  // the guest's cells, as the spec writes them (vCPU sets, MiB)
  const cells = childrenNamed(at(root, ["cpu", "numa"]), "cell").map((c) => ({
    cpus: canonicalSet(attrOf(c, "cpus")),
    memoryMiB: Math.round(Number(attrOf(c, "memory")) * (MIB_PER[(attrOf(c, "unit") ?? "KiB").toLowerCase()] ?? NaN)),
  }));
  if (cells.length && cells.every((c) => c.cpus !== undefined && Number.isFinite(c.memoryMiB))) numa.cells = cells;
  else if (cells.length) note("<cpu><numa> cells without vCPUs or memory are not carried over", "cpu.numa");
  if (Object.keys(numa).length) out.numa = numa;
  const huge = child(child(root, "memoryBacking"), "hugepages");
  if (huge) {
    const page = child(huge, "page");
    const size = Number(attrOf(page, "size"));
    const kib = size * (PAGE_KIB[(attrOf(page, "unit") ?? "KiB").toLowerCase()] ?? NaN);
    if (page && Number.isFinite(kib)) out.hugepages = { sizeKiB: kib };
    else note("<hugepages> without a page size (the host's default) is not carried over", "memoryBacking");
  }
  return out;
}

/** A `-global x86_64-cpu.hv-*=...` into the hyperv map; false when it is no Hyper-V setting. */
function readHypervGlobal(hyperv: Record<string, unknown>, property: string, value: string): boolean {
  const row = HYPERV_BY_QEMU_NAME.get(property);
  if (row && ON_OFF.test(value)) hyperv[row.key] = ON(value) || value === "true";
  else if (property === HYPERV_VALUES.passthrough.qemu && ON_OFF.test(value)) {
    if (ON(value) || value === "true") hyperv.mode = "passthrough";
  } else if (property === HYPERV_VALUES.spinlocks.qemu && /^(0x[0-9a-f]+|\d+)$/i.test(value)) hyperv.spinlocks = Number(value);
  else if (property === HYPERV_VALUES.vendorId.qemu && VENDOR_ID_RE.test(value)) hyperv.vendorId = value;
  else if (property === HYPERV_VALUES.noNonarchCoresharing.qemu && /^(on|off|auto)$/.test(value)) hyperv.noNonarchCoresharing = value;
  else return false;
  return true;
}

/** <features><hyperv>, <timer name='hypervclock'> and <panic model='hyperv'> into the hyperv map (elements win over -global, as on -cpu). */
function readHypervElements(root: XNode, hyperv: Record<string, unknown>, note: (message: string, path?: string) => void): void {
  const hv = at(root, ["features", "hyperv"]);
  if (hv) {
    if (attrOf(hv, "mode") === "passthrough") hyperv.mode = "passthrough";
    else {
      for (const row of HYPERV_FEATURES) {
        const lc = row.libvirt;
        if (lc?.kind !== "hyperv") continue;
        const el = at(hv, [...lc.path]);
        const state = attrOf(el, "state");
        // a nested element says something only under its parent switched on (libvirt emits nothing else)
        if (lc.path.length > 1 && attrOf(child(hv, lc.path[0]), "state") !== "on") continue;
        if (state === "on" || state === "off") hyperv[row.key] = state === "on";
      }
      const sl = child(hv, "spinlocks");
      const retries = Number(attrOf(sl, "retries"));
      if (attrOf(sl, "state") === "on" && Number.isInteger(retries)) hyperv.spinlocks = retries;
      const vendor = child(hv, "vendor_id");
      const id = attrOf(vendor, "value");
      if (attrOf(vendor, "state") === "on" && id !== undefined) {
        if (VENDOR_ID_RE.test(id)) hyperv.vendorId = id;
        else
          note(
            `<vendor_id value='${id}'/> is not a vendor id the spec takes (1-12 of letters, digits, . _ - and inner spaces): not carried over`,
            "features.hyperv.vendor_id",
          );
      }
    }
  }
  const clock = childrenNamed(child(root, "clock"), "timer").find((t) => attrOf(t, "name") === "hypervclock");
  const present = attrOf(clock, "present");
  if (present === "yes" || present === "no") hyperv.time = present === "yes";
  // under passthrough the panic device is just a device (hv-passthrough turns hv-crash on by itself)
  if (hyperv.mode !== "passthrough" && childrenNamed(child(root, "devices"), "panic").some((p) => attrOf(p, "model") === "hyperv"))
    hyperv.crash = true;
}

/**
 * Another domain on the host as far as placement goes (its live definition, virsh dumpxml):
 * the host CPUs of each vCPU (<vcpupin>, else <vcpu cpuset>), of its emulator threads
 * (<emulatorpin>, else <vcpu cpuset> too, as libvirt does), and its huge pages and memory.
 */
export function readNeighbour(xml: string | XNode, name: string, active: boolean): PinnedNeighbour {
  const root = typeof xml === "string" ? domainElement(parseDocument(xml)) : xml;
  const vcpu = child(root, "vcpu");
  const count = Number(textOf(vcpu));
  const set = (text: string | undefined) => {
    const p = text === undefined ? undefined : parseCpuset(text);
    return Array.isArray(p) ? p : null;
  };
  const fallback = attrOf(vcpu, "placement") === "auto" ? null : set(attrOf(vcpu, "cpuset"));
  const tune = child(root, "cputune");
  const pins = new Map(childrenNamed(tune, "vcpupin").map((p) => [Number(attrOf(p, "vcpu")), set(attrOf(p, "cpuset"))]));
  const perVcpu = Array.from(
    { length: Number.isInteger(count) && count > 0 ? Math.min(count, 4096) : 1 },
    (_x, i) => pins.get(i) ?? fallback,
  );
  const vcpus = perVcpu.every((s) => s !== null) ? (perVcpu as number[][]) : null;
  const emulator = set(attrOf(child(tune, "emulatorpin"), "cpuset")) ?? fallback;
  const iothreads = childrenNamed(tune, "iothreadpin")
    .map((p) => set(attrOf(p, "cpuset")))
    .filter((x): x is number[] => x !== null);
  const page = child(child(child(root, "memoryBacking"), "hugepages"), "page");
  const size = Number(attrOf(page, "size")) * (PAGE_KIB[(attrOf(page, "unit") ?? "KiB").toLowerCase()] ?? NaN);
  const mem = child(root, "memory");
  const mib = Number(textOf(mem)) * (MIB_PER[(attrOf(mem, "unit") ?? "KiB").toLowerCase()] ?? 1 / 1024);
  return {
    name,
    vcpus,
    emulator,
    ...(iothreads.length ? { iothreads } : {}),
    from: "live",
    active,
    ...(Number.isFinite(size) && size > 0 ? { hugepageKiB: size } : {}),
    ...(Number.isFinite(mib) ? { memoryMiB: Math.round(mib) } : {}),
  };
}
