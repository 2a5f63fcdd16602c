import { FEATURES, specValue, type FeatureRow } from "../catalog/features";
import { resolveMachine, type ResolvedMachine } from "../catalog/machines";
import { ASSUMED_HOST, hostHasEnforceCpuid, kvmSupportedSet, type HostProfile } from "../host/profile";
import { DEFAULT_MODEL, type DomainSpec } from "../input/schema";
import { fixupAgainst, supportedUnder } from "./fixups";
import { resolveHyperv, type HypervResolution } from "./hyperv";
import { resolvePlacement, type Placement, type PlacementContext } from "./placement";
import { modelDefinesX2apic } from "../catalog/cpu-models";
import { atLeast } from "../util/version";

/**
 * The resolver: for one domain on one host, the value every PV property of the
 * realized vCPU will have, where it comes from and why. Mirrors QEMU's
 * kvm_cpu_instance_init (named-model defaults), x86_cpu_expand_features
 * (host/max passthrough, TCG and kvm=off zeroing), kvm_arch_get_supported_cpuid
 * (irqchip fix-ups) and x86_cpu_filter_features (dropping unsupported bits).
 */

/** os-profile: set by the guest OS profile (the Windows Hyper-V profile) */
export type FeatureSource = "default" | "explicit" | "host-passthrough" | "implied" | "dropped" | "os-profile";

/** Why a requested or default-on bit did not survive. */
export type DropCause = "tcg" | "hidden" | "host-kvm" | "never-supported" | "needs-kernel-irqchip" | "needs-split-irqchip";

export interface FeatureResolution {
  feature: FeatureRow;
  /** the QOM property value of the realized vCPU (for `kvm`: false = signature hidden) */
  enabled: boolean;
  source: FeatureSource;
  reason: string;
  /** the property value the spec asked for, undefined when inherited */
  requested?: boolean;
  /** what the property would be with nothing requested (decides whether a libvirt no-op element suffices) */
  inherited: boolean;
  /** the guest can see and use the bit (KVM accelerator, signature shown) */
  guestVisible: boolean;
  dropCause?: DropCause;
}

/** One domain resolved on one host: pure QEMU semantics, nothing of libvirt (src/analyze.ts adds the libvirt plan and the checks). */
export interface Resolved {
  domain: DomainSpec;
  host: HostProfile;
  machine: ResolvedMachine;
  /** model given to QEMU's -cpu */
  qemuModel: string;
  /** named model (kvm_default_props apply) vs host/max passthrough */
  cpuClass: "named" | "passthrough";
  /** by QEMU property name, in catalog order; only properties the host's QEMU has */
  features: Map<string, FeatureResolution>;
  /** properties the spec set that the host's QEMU does not have */
  missingInQemu: FeatureRow[];
  x2apic: { enabled: boolean; requested?: boolean; dropped: boolean };
  /** the host's KVM honours kvm-pv-enforce-cpuid (KVM_CAP_ENFORCE_PV_FEATURE_CPUID) */
  enforceCpuid: boolean;
  /** the Hyper-V enlightenments (src/resolve/hyperv.ts) */
  hyperv: HypervResolution;
  /** vCPU and emulator pinning, and whether the vCPUs are dedicated (src/resolve/placement.ts) */
  placement: Placement;
}

interface Ctx {
  tcg: boolean;
  passthrough: boolean;
  irqchip: DomainSpec["irqchip"];
  /** the machine type's compat property defaults */
  compat: ResolvedMachine["compat"];
  /** FEAT_KVM bits QEMU may keep under KVM for this machine/irqchip */
  supported: ReadonlySet<string>;
}

interface Outcome {
  enabled: boolean;
  source: FeatureSource;
  reason: string;
  dropCause?: DropCause;
}

const MSI = "kvm-msi-ext-dest-id";
const FEATURE_INDEX: ReadonlyMap<string, number> = new Map(FEATURES.map((f, i) => [f.specKey, i]));
const SIGNATURE_INDEX = FEATURES.findIndex((f) => f.kind === "signature");

/** Host profile for one domain: the given profile, overridden by the domain's own `host:` versions. */
export function effectiveHost(profile: HostProfile | undefined, domain: DomainSpec): HostProfile {
  const base: HostProfile = profile ?? ASSUMED_HOST;
  const o = domain.host;
  if (!o) return base;
  const out: HostProfile = { ...base, source: profile ? base.source : "spec" };
  if (o.qemu && o.qemu !== base.qemu) {
    out.qemu = o.qemu;
    delete out.machines; // probed for another QEMU
    delete out.hostModel;
    delete out.cpuModels;
  }
  if (o.libvirt) out.libvirt = o.libvirt;
  if (o.kernel && o.kernel !== base.kernel) {
    out.kernel = o.kernel;
    if (out.kvm) out.kvm = { available: out.kvm.available }; // probed for another kernel
    delete out.cpuModels; // whether KVM can run a model depends on the kernel too
  }
  if (!profile) delete out.description;
  return out;
}

function dropReason(f: FeatureRow, cause: DropCause, host: HostProfile): string {
  switch (cause) {
    case "never-supported":
      return `KVM never offers ${f.qemu}: QEMU drops it with "host doesn't support requested feature"`;
    case "needs-kernel-irqchip":
      return `QEMU offers ${f.qemu} only with the in-kernel irqchip (irqchip is off): dropped with a warning`;
    case "needs-split-irqchip":
      return `QEMU offers ${f.qemu} only with irqchip: split: dropped with a warning`;
    case "host-kvm":
      return f.hostKernelMin && !atLeast(host.kernel, f.hostKernelMin)
        ? `the host kernel ${host.kernel} is older than ${f.hostKernelMin}, whose KVM first offers it: dropped with a warning`
        : `the host's KVM does not offer it: dropped with a warning`;
    case "tcg":
      return "requested, but TCG has no KVM PV features: QEMU clears it";
    case "hidden":
      return "requested, but the KVM signature is hidden (hidden: true), which clears every KVM PV bit";
  }
}

function unsupportedCause(f: FeatureRow, ctx: Ctx): DropCause {
  if (f.qemu === "kvm-mmu") return "never-supported";
  return fixupAgainst(f.qemu, ctx.irqchip)?.cause ?? "host-kvm";
}

function resolveKvmBit(f: FeatureRow, req: boolean | undefined, ctx: Ctx, hidden: boolean, host: HostProfile): Outcome {
  if (ctx.tcg || hidden) {
    const cause: DropCause = ctx.tcg ? "tcg" : "hidden";
    if (req === true) return { enabled: false, source: "dropped", reason: dropReason(f, cause, host), dropCause: cause };
    if (req === false) return { enabled: false, source: "explicit", reason: "set off" };
    return {
      enabled: false,
      source: "implied",
      reason: ctx.tcg ? "accel tcg: QEMU clears every KVM PV bit" : "hidden: true clears every KVM PV bit",
    };
  }
  let value: boolean;
  let source: FeatureSource;
  let reason: string;
  if (req !== undefined) {
    value = req;
    source = "explicit";
    reason = req ? "set on" : "set off";
  } else if (ctx.compat.has(f.qemu)) {
    const c = ctx.compat.get(f.qemu)!;
    value = c.value;
    source = "default";
    reason = c.reason;
  } else if (ctx.passthrough) {
    value = f.passthrough && ctx.supported.has(f.qemu);
    source = "host-passthrough";
    const fix = fixupAgainst(f.qemu, ctx.irqchip);
    reason = value
      ? "host passthrough turns on every PV feature the host offers"
      : fix
        ? `host passthrough: QEMU offers it only with ${fix.cause === "needs-split-irqchip" ? "irqchip: split" : "the in-kernel irqchip"}`
        : "host passthrough: the host's KVM does not offer it";
  } else if (f.qemu === MSI) {
    value = ctx.irqchip === "split";
    source = value ? "implied" : "default";
    reason = value ? "irqchip: split turns it on for named CPU models" : "off for named CPU models unless irqchip is split";
  } else {
    value = f.namedModelDefault;
    source = "default";
    reason = value ? "QEMU turns it on for named CPU models under KVM" : "off by default for named CPU models";
  }
  if (value && !ctx.supported.has(f.qemu)) {
    const cause = unsupportedCause(f, ctx);
    return { enabled: false, source: "dropped", reason: dropReason(f, cause, host), dropCause: cause };
  }
  return { enabled: value, source, reason };
}

function resolveOne(f: FeatureRow, req: boolean | undefined, ctx: Ctx, hidden: boolean, host: HostProfile): Outcome {
  switch (f.kind) {
    case "signature":
      if (req !== undefined)
        return req
          ? { enabled: true, source: "explicit", reason: "KVM signature shown (hidden: false)" }
          : { enabled: false, source: "explicit", reason: "hidden: true: QEMU emits no KVM CPUID leaves (kvm=off)" };
      return { enabled: true, source: "default", reason: "QEMU shows the KVM signature by default" };
    case "cpu-property":
      if (req !== undefined) return { enabled: req, source: "explicit", reason: req ? "set on" : "set off" };
      return { enabled: false, source: "default", reason: "off by default" };
    case "hint-bit":
      if (req === true && ctx.tcg)
        return {
          enabled: false,
          source: "dropped",
          reason: "TCG does not support KVM hints: QEMU drops it with a warning",
          dropCause: "tcg",
        };
      if (req !== undefined)
        return {
          enabled: req,
          source: "explicit",
          reason: req && hidden ? "set on, but invisible to the guest: the KVM leaves are hidden" : req ? "set on" : "set off",
        };
      return { enabled: false, source: "default", reason: "KVM hints are never on by default, not even with host passthrough" };
    case "kvm-bit":
      return resolveKvmBit(f, req, ctx, hidden, host);
  }
}

function qemuModelFor(domain: DomainSpec, host: HostProfile): string {
  switch (domain.cpu.mode) {
    case "host-passthrough":
      return "host";
    case "maximum":
      return "max";
    case "host-model":
      return host.hostModel ?? DEFAULT_MODEL;
    case "custom":
      return domain.cpu.model ?? DEFAULT_MODEL;
  }
}

/** What depends on the host alone, computed once per host profile object (fleets share one). */
interface HostFacts {
  qemuHas: ReadonlySet<FeatureRow>;
  /** supported FEAT_KVM bits by irqchip mode */
  supported: Record<DomainSpec["irqchip"], ReadonlySet<string>>;
  machines: Map<string, ResolvedMachine>;
  enforceCpuid: boolean;
}
const hostFactsCache = new WeakMap<HostProfile, HostFacts>();

function hostFacts(host: HostProfile): HostFacts {
  let facts = hostFactsCache.get(host);
  if (!facts) {
    const base = kvmSupportedSet(host);
    facts = {
      qemuHas: new Set(FEATURES.filter((f) => atLeast(host.qemu, f.qemuSince))),
      supported: { kernel: supportedUnder(base, "kernel"), split: supportedUnder(base, "split"), off: supportedUnder(base, "off") },
      machines: new Map(),
      enforceCpuid: hostHasEnforceCpuid(host),
    };
    hostFactsCache.set(host, facts);
  }
  return facts;
}

const HINT_INDEX = FEATURES.findIndex((f) => f.kind === "hint-bit");

export function resolveFeatures(domain: DomainSpec, profile?: HostProfile, placementCtx?: PlacementContext): Resolved {
  const host = effectiveHost(profile, domain);
  const placement = resolvePlacement(domain, host, placementCtx);
  const facts = hostFacts(host);
  let machine = facts.machines.get(domain.machine);
  if (!machine) facts.machines.set(domain.machine, (machine = resolveMachine(domain.machine, host)));
  const tcg = domain.accel === "tcg";
  const passthrough = domain.cpu.mode === "host-passthrough" || domain.cpu.mode === "maximum";
  const ctx: Ctx = { tcg, passthrough, irqchip: domain.irqchip, compat: machine.compat, supported: facts.supported[domain.irqchip] };

  // the requested QEMU property values, by catalog index (the spec map has few keys: walk it once)
  // Stryker disable next-line ArrayDeclaration: equivalent (the size is a hint; an array grows as written)
  const requested: (boolean | undefined)[] = new Array(FEATURES.length);
  for (const key in domain.paravirt) {
    const v = domain.paravirt[key];
    const i = FEATURE_INDEX.get(key);
    if (v !== undefined && i !== undefined) requested[i] = specValue(FEATURES[i], v);
  }
  const hidden = requested[SIGNATURE_INDEX] === false;
  // dedicated vCPUs asked for turn the hint on, unless the spec sets it (KubeVirt does the same)
  const hintImplied = domain.cpuPinning?.dedicated === true && requested[HINT_INDEX] === undefined;
  if (hintImplied) requested[HINT_INDEX] = true;

  const features = new Map<string, FeatureResolution>();
  const missingInQemu: FeatureRow[] = [];
  // Stryker disable next-line EqualityOperator: equivalent (one step past the end finds no feature, which the host's QEMU "lacks")
  for (let i = 0; i < FEATURES.length; i++) {
    const f = FEATURES[i];
    const req = requested[i];
    if (!facts.qemuHas.has(f)) {
      if (req !== undefined) missingInQemu.push(f);
      continue;
    }
    const out = resolveOne(f, req, ctx, hidden, host);
    const x: FeatureResolution = {
      feature: f,
      enabled: out.enabled,
      source: out.source,
      reason: out.reason,
      inherited: req === undefined ? out.enabled : resolveOne(f, undefined, ctx, hidden, host).enabled,
      guestVisible: out.enabled && !tcg && (f.kind === "signature" || f.kind === "cpu-property" || !hidden),
    };
    if (req !== undefined) x.requested = req;
    if (out.dropCause) x.dropCause = out.dropCause;
    if (i === HINT_INDEX && hintImplied && x.enabled) {
      x.source = "implied";
      x.reason = `cpuPinning.dedicated turns it on: ${placement.dedicated.reason}`;
    } else if (i === HINT_INDEX && x.enabled && placement.dedicated.value) x.reason = `${x.reason}; ${placement.dedicated.reason}`;
    features.set(f.qemu, x);
  }

  // x2apic: named models under KVM default it on (kvm_default_props) unless the machine type
  // removes that default (then only a model that defines it has it); passthrough takes it from
  // KVM; without an in-kernel irqchip QEMU's fix-up takes it away, also when requested (observed on QEMU 7.2)
  const qemuModel = qemuModelFor(domain, host);
  const x2apicSupported = !tcg && !fixupAgainst("x2apic", domain.irqchip);
  const x2apicDefault = x2apicSupported && (passthrough || !machine.kvmDefaultsRemoved.has("x2apic") || modelDefinesX2apic(qemuModel));
  const x2apicReq = domain.x2apic;
  const x2apic =
    x2apicReq === undefined
      ? { enabled: x2apicDefault, dropped: false }
      : { enabled: x2apicReq && x2apicSupported, requested: x2apicReq, dropped: x2apicReq && !x2apicSupported };

  return {
    domain,
    host,
    machine,
    qemuModel,
    cpuClass: passthrough ? "passthrough" : "named",
    features,
    missingInQemu,
    x2apic,
    enforceCpuid: facts.enforceCpuid,
    hyperv: resolveHyperv(domain, host, machine.version, qemuModel),
    placement,
  };
}
