import { HYPERV_FEATURES, HYPERV_VALUES, hypervRow, WINDOWS_PROFILE, type HypervKey, type HypervRow } from "../catalog/hyperv";
import { hypervSupport, type HostProfile, type HypervSupport } from "../host/profile";
import type { DomainSpec } from "../input/schema";
import { atLeast } from "../util/version";

/**
 * What a domain's guest gets of Hyper-V, flag by flag, and what QEMU does at start. Mirrors
 * QEMU's hyperv_enabled and kvm_hyperv_expand_features (target/i386/kvm/kvm.c): the flags are
 * checked against what KVM offers and against each other only when KVM has Hyper-V at all;
 * on a KVM without it QEMU starts (or refuses, or aborts on an MSR write, per flag) and the
 * guest gets no Hyper-V leaf; under TCG the flags are ignored. The guest's CPUID, not the QOM
 * property, says what the guest gets (test/fixtures/hyperv-observed).
 */

export type HypervSource = "explicit" | "default" | "passthrough" | "os-profile";

/** Why QEMU does not start with a flag. */
export interface HypervFailure {
  /** refused: QEMU exits 1 with the message; aborts: SIGABRT after a failed MSR write */
  kind: "refused" | "aborts";
  cause: "missing-in-qemu" | "unsupported-by-kernel" | "dependency" | "no-host-hyperv" | "tcg" | "enforce-cpuid";
  /** the flag it needs, for a dependency */
  needs?: HypervKey;
  /** what QEMU prints (without the program name) */
  message: string;
}

export interface HypervFlagResolution {
  row: HypervRow;
  /** the spec's value, undefined when inherited */
  requested?: boolean;
  /** what is written for QEMU (XML, args): the spec's value, else the OS profile's; undefined: nothing */
  set?: boolean;
  /** the QOM property value of the realized vCPU */
  enabled: boolean;
  /** the guest's CPUID has it (hv-enforce-cpuid, which has no bit: KVM enforces it for the guest) */
  guestVisible: boolean;
  source: HypervSource;
  reason: string;
  /** what makes QEMU refuse to start or abort, in QEMU's order (the first one is what it prints) */
  failures: HypervFailure[];
}

export interface HypervResolution {
  mode: "custom" | "passthrough";
  /** the spec has a hyperv map */
  declared: boolean;
  /** QEMU builds the Hyper-V CPUID leaves (0x40000000 "Hv#1" interface; the KVM leaves move to 0x40000100) */
  leaves: boolean;
  support: HypervSupport;
  /** every flag the host's QEMU has, in catalog order */
  flags: Map<HypervKey, HypervFlagResolution>;
  /** the spinlock retries the guest sees (0xFFFFFFFF: never notify), when it has leaves */
  spinlocks?: number;
  /** the vendor the guest sees in 0x40000000, when it has leaves */
  vendor?: string;
  /** hv-passthrough asked of a QEMU older than 4.1 */
  passthroughMissing: boolean;
  /** the spinlock count and vendor id written for QEMU (the spec's, else the OS profile's) */
  setSpinlocks?: number;
  setVendorId?: string;
  /** hv-no-nonarch-coresharing as written, and what the guest's CPUID says (auto: what KVM reports) */
  noNonarchCoresharing?: { set: "on" | "off" | "auto"; guest: boolean | "as-kvm-reports"; missingInQemu: boolean };
  /** the Windows profile (guest.os windows): what it set and what it left out, with why */
  profile?: { set: { key: HypervKey; why: string }[]; left: { key: HypervKey; why: string }[]; spinlocks?: number; nothing?: string };
}

const NEVER_NOTIFY = 0xffffffff;
const notFound = (qemuModel: string, prop: string) => `Property '${qemuModel}-x86_64-cpu.${prop}' not found`;

/** Flags hv-passthrough turns on: what KVM offers; from QEMU 10.2 without hv-syndbg (skip_passthrough). */
function passthroughSet(support: HypervSupport, qemu: string): Set<HypervKey> {
  const out = new Set(support.supported);
  // a measured set is QEMU's own expansion; a derived one follows QEMU's source
  if (support.how !== "measured" && atLeast(qemu, "10.2")) out.delete("syndbg");
  out.delete("enforceCpuid");
  return out;
}

const TCG_SUPPORT: HypervSupport = { supported: new Set(), available: false, how: "no-kvm" };
/** per host profile object (fleets share one): what its KVM offers of Hyper-V */
const supportCache = new WeakMap<HostProfile, HypervSupport>();
const NO_FLAGS: ReadonlyMap<HypervKey, HypervFlagResolution> = new Map();

export function resolveHyperv(domain: DomainSpec, host: HostProfile, machineVersion: string, qemuModel: string): HypervResolution {
  const tcg = domain.accel === "tcg";
  let support = tcg ? TCG_SUPPORT : supportCache.get(host);
  if (!support) supportCache.set(host, (support = hypervSupport(host)));
  // no hyperv map and no Windows guest: nothing of Hyper-V is written or reported (the common case, kept cheap)
  if (domain.hyperv === undefined && domain.guest?.os !== "windows")
    return {
      mode: "custom",
      declared: false,
      leaves: false,
      support,
      flags: NO_FLAGS as Map<HypervKey, HypervFlagResolution>,
      passthroughMissing: false,
    };
  const spec = domain.hyperv ?? {};
  const mode = spec.mode ?? "custom";
  const passthroughMissing = mode === "passthrough" && !atLeast(host.qemu, HYPERV_VALUES.passthrough.qemuSince);
  const viaPassthrough =
    mode === "passthrough" && !passthroughMissing && support.available ? passthroughSet(support, host.qemu) : new Set();

  const profile = windowsProfile(domain, host, support, mode, tcg);
  const fromProfile = new Map(profile?.set.map((x) => [x.key, x.why]) ?? []);

  const value = (r: HypervRow): { v: boolean; source: HypervSource; reason: string } => {
    const req = spec[r.key];
    if (req !== undefined) return { v: req, source: "explicit", reason: req ? "set on" : "set off" };
    if (fromProfile.has(r.key)) return { v: true, source: "os-profile", reason: `Windows profile: ${fromProfile.get(r.key)}` };
    if (viaPassthrough.has(r.key)) return { v: true, source: "passthrough", reason: "hv-passthrough turns on what the host's KVM offers" };
    if (mode === "passthrough")
      return {
        v: false,
        source: "passthrough",
        reason: support.available ? "hv-passthrough: the host's KVM does not offer it" : "hv-passthrough: the host's KVM has no Hyper-V",
      };
    const left = profile?.left.find((x) => x.key === r.key);
    if (profile?.nothing) return { v: false, source: "default", reason: `off: the Windows profile sets nothing here (${profile.nothing})` };
    if (left) return { v: false, source: "default", reason: `off: the Windows profile leaves it out (${left.why})` };
    return { v: false, source: "default", reason: "off by default" };
  };

  const rows = HYPERV_FEATURES.filter((r) => atLeast(host.qemu, r.qemuSince) || spec[r.key] !== undefined);
  const values = new Map(rows.map((r) => [r.key, value(r)]));
  const on = (k: HypervKey) => values.get(k)?.v === true;
  const anyFlag = rows.some((r) => r.desc !== null && on(r.key));
  // QEMU's hyperv_enabled(): KVM has Hyper-V and a flag, a spinlock count or passthrough asks for it
  const setSpinlocks = spec.spinlocks ?? profile?.spinlocks;
  const asked = anyFlag || (setSpinlocks !== undefined && setSpinlocks !== NEVER_NOTIFY) || (mode === "passthrough" && !passthroughMissing);
  const leaves = !tcg && support.available && asked;
  // from machine types 3.1 on, SynIC needs VP_INDEX (x-hv-synic-kvm-only before)
  const synicNeedsVpindex = atLeast(machineVersion, "3.1");

  const flags = new Map<HypervKey, HypervFlagResolution>();
  for (const r of rows) {
    const { v, source, reason } = values.get(r.key)!;
    const failures: HypervFailure[] = [];
    if (v) {
      if (!atLeast(host.qemu, r.qemuSince))
        failures.push({ kind: "refused", cause: "missing-in-qemu", message: notFound(qemuModel, r.qemu) });
      else if (tcg) {
        // hv-vpindex is refused under TCG up to 8.1 (its kvm stub says the kernel cannot set it)
        if (r.underTcg.outcome !== "starts" && !atLeast(host.qemu, "8.2"))
          failures.push({ kind: "refused", cause: "tcg", message: r.underTcg.message! });
      } else if (!support.available) {
        if (r.withoutHostHyperv.outcome !== "starts")
          failures.push({ kind: r.withoutHostHyperv.outcome, cause: "no-host-hyperv", message: r.withoutHostHyperv.message! });
      } else if (mode === "custom" && r.desc !== null) {
        if (!support.supported.has(r.key))
          failures.push({ kind: "refused", cause: "unsupported-by-kernel", message: `Hyper-V ${r.desc} is not supported by kernel` });
        const needs = [...r.requires, ...(r.key === "synic" && synicNeedsVpindex ? (["vpindex"] as const) : [])];
        for (const d of needs)
          if (!on(d))
            failures.push({
              kind: "refused",
              cause: "dependency",
              needs: d,
              message: `Hyper-V ${r.desc} requires Hyper-V ${hypervRow(d).desc}`,
            });
      } else if (r.key === "enforceCpuid" && leaves && !atLeast(host.kernel, r.hostKernelMin)) {
        failures.push({
          kind: "refused",
          cause: "enforce-cpuid",
          message: "failed to enable KVM_CAP_HYPERV_ENFORCE_CPUID: Invalid argument",
        });
      }
    }
    const x: HypervFlagResolution = {
      row: r,
      enabled: v,
      guestVisible: v && leaves,
      source,
      reason: v && !leaves && r.desc !== null ? `${reason}, but ${noLeavesWhy(tcg, support, asked)}` : reason,
      failures,
    };
    if (spec[r.key] !== undefined) x.requested = spec[r.key];
    if (source === "explicit" || source === "os-profile") x.set = v;
    flags.set(r.key, x);
  }

  const out: HypervResolution = {
    mode,
    declared: domain.hyperv !== undefined || profile !== undefined,
    leaves,
    support,
    flags,
    passthroughMissing,
    ...(setSpinlocks !== undefined && mode === "custom" ? { setSpinlocks } : {}),
    ...(spec.vendorId !== undefined && mode === "custom" ? { setVendorId: spec.vendorId } : {}),
    ...(profile ? { profile } : {}),
    // QEMU honours it in passthrough mode too (it is no hyperv_features bit)
    ...(spec.noNonarchCoresharing !== undefined
      ? {
          noNonarchCoresharing: {
            set: spec.noNonarchCoresharing,
            guest: !leaves || spec.noNonarchCoresharing === "off" ? false : spec.noNonarchCoresharing === "on" ? true : "as-kvm-reports",
            missingInQemu: !atLeast(host.qemu, HYPERV_VALUES.noNonarchCoresharing.qemuSince),
          },
        }
      : {}),
  };
  if (leaves) {
    // passthrough copies KVM's own answers ("Linux KVM Hv", 0xFFF) over the spec's
    out.spinlocks = mode === "passthrough" ? 0xfff : (setSpinlocks ?? NEVER_NOTIFY);
    out.vendor = mode === "passthrough" ? "Linux KVM Hv" : (spec.vendorId ?? "Microsoft Hv");
  }
  return out;
}

/**
 * The Windows profile for a Windows guest (guest.os windows) in custom mode under KVM: the
 * recommended flags the spec leaves unset, less what the host's KVM or QEMU does not offer (and
 * what needs those), so that the profile never makes QEMU refuse to start. On a KVM without
 * Hyper-V it sets nothing.
 */
function windowsProfile(
  domain: DomainSpec,
  host: HostProfile,
  support: HypervSupport,
  mode: "custom" | "passthrough",
  tcg: boolean,
): HypervResolution["profile"] {
  if (domain.guest?.os !== "windows" || mode !== "custom" || tcg) return undefined;
  const spec = domain.hyperv ?? {};
  const left: { key: HypervKey; why: string }[] = WINDOWS_PROFILE.off.map((x) => ({ ...x }));
  if (!support.available)
    return {
      set: [],
      left,
      nothing: "the host's KVM has no Hyper-V (QEMU would refuse or abort on some of its flags, and the guest would get none)",
    };
  const offered = (k: HypervKey) => support.supported.has(k) && atLeast(host.qemu, hypervRow(k).qemuSince);
  const set = new Map<HypervKey, string>();
  for (const x of WINDOWS_PROFILE.on) {
    if (spec[x.key] !== undefined) continue;
    if (!offered(x.key))
      left.push({
        key: x.key,
        why: `recommended, but ${support.supported.has(x.key) ? `QEMU ${host.qemu} lacks it` : "the host's KVM does not offer it"}`,
      });
    else set.set(x.key, x.why);
  }
  // a flag whose requirement is off (left out, or set off by the spec) is left out too, until nothing changes
  const on = (k: HypervKey) => spec[k] ?? set.has(k);
  for (let changed = true; changed;) {
    changed = false;
    for (const k of [...set.keys()]) {
      const needs = [...hypervRow(k).requires, ...(k === "synic" ? (["vpindex"] as const) : [])];
      const missing = needs.find((d) => !on(d));
      if (missing) {
        set.delete(k);
        left.push({ key: k, why: `recommended, but it needs ${hypervRow(missing).qemu}, which is off` });
        changed = true;
      }
    }
  }
  return {
    set: WINDOWS_PROFILE.on.filter((x) => set.has(x.key)).map((x) => ({ key: x.key, why: x.why })),
    left,
    ...(spec.spinlocks === undefined ? { spinlocks: WINDOWS_PROFILE.spinlocks.value } : {}),
  };
}

function noLeavesWhy(tcg: boolean, support: HypervSupport, asked: boolean): string {
  if (tcg) return "TCG builds no Hyper-V leaves: the guest does not get it";
  if (!support.available) return "the host's KVM has no Hyper-V: the guest does not get it";
  return asked ? "" : "nothing else asks for Hyper-V";
}

/** One Hyper-V flag as reported (CLI, provider, plan): on when the guest gets it; a flag QEMU reports on that the guest does not get is "dropped". */
export interface HypervFlagState {
  enabled: boolean;
  source: "explicit" | "default" | "host-passthrough" | "os-profile" | "dropped";
  reason: string;
}

/** Every hv-* flag of a domain that has a hyperv map, by QEMU name (none otherwise). */
export function hypervStates(h: HypervResolution): Map<string, HypervFlagState> {
  const out = new Map<string, HypervFlagState>();
  if (!h.declared) return out;
  for (const x of h.flags.values()) {
    const failed = x.failures[0];
    out.set(x.row.qemu, {
      enabled: x.guestVisible && !failed,
      source: failed || (x.enabled && !x.guestVisible) ? "dropped" : x.source === "passthrough" ? "host-passthrough" : x.source,
      reason: failed ? `${x.reason}: QEMU ${failed.kind === "aborts" ? "aborts" : "refuses to start"} ("${failed.message}")` : x.reason,
    });
  }
  return out;
}
