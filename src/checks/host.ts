import type { Planned } from "../libvirt/plan";
import { closest } from "../util/suggest";
import { droppedBy, explicitOn, fpath, type Rule } from "./rule";

/**
 * The domain's custom CPU model against the host profile's cpuModels (virsh domcapabilities),
 * when the list was measured for the domain's accelerator: kvm when the profile's KVM is
 * available, TCG when it is not. null when there is nothing to compare.
 */
function cpuModelOnHost(r: Planned): {
  model: string;
  accel: string;
  usable: boolean | undefined;
  hostCompatible: boolean | undefined;
  /** the models that would do instead, the nearest first: usable ones, or (hostCompatible) those libvirt's start check passes */
  hint: (hostCompatible?: boolean) => string;
} | null {
  const models = r.host.cpuModels;
  const model = r.domain.cpu.mode === "custom" ? r.domain.cpu.model : undefined;
  if (!models || !model) return null;
  const measuredFor = r.host.kvm?.available === false ? "tcg" : "kvm";
  if (r.domain.accel !== measuredFor) return null;
  const hint = (hostCompatible = false) => {
    const fit = models.filter((m) => (hostCompatible ? startsWithPartialCheck(m) : m.usable)).map((m) => m.name);
    const what = hostCompatible ? "passing libvirt's check there" : "usable there";
    const near = closest(model, fit);
    const few = [...new Set([...(near && near !== model ? [near] : []), ...fit])].slice(0, 6);
    if (!fit.length) return hostCompatible ? "; the host lists no model passing libvirt's check" : "; the host lists no usable model";
    return `; ${what}: ${few.join(", ")}${fit.length > few.length ? ` (${fit.length} in all)` : ""}`;
  };
  const known = models.find((m) => m.name === model);
  return { model, accel: measuredFor === "kvm" ? "kvm" : "qemu", usable: known?.usable, hostCompatible: known?.hostCompatible, hint };
}

/**
 * Whether libvirt starts a known custom model with check partial (qemuProcessUpdateGuestCPU
 * compares it with the host CPU): under KVM the host's `virsh cpu-compare` verdict; where
 * the profile has none (TCG, whose host CPU is the emulated one, or an older profile), the
 * usable verdict, which is what libvirt compares against under TCG.
 */
const startsWithPartialCheck = (c: { usable?: boolean; hostCompatible?: boolean }) => c.hostCompatible ?? c.usable;

/** What the host (its QEMU, kernel, KVM, machine types) can give, and what the profile says. */
export const HOST_RULES: readonly Rule[] = [
  {
    code: "host-qemu-too-old",
    severity: "error",
    summary: "A feature is set that the host's QEMU does not have: QEMU refuses to start (property not found).",
    check: (r) =>
      r.missingInQemu.map((f) => ({
        path: fpath(f),
        message: `${f.qemu} needs QEMU ${f.qemuSince} or newer; the host has QEMU ${r.host.qemu}, which refuses to start with "property '${f.qemu}' not found"`,
      })),
  },
  {
    code: "host-kernel-too-old",
    severity: "error",
    summary: "A feature is requested on that the host kernel's KVM does not offer: QEMU drops it.",
    check: (r) =>
      droppedBy(r, "host-kvm").map((x) => ({
        path: fpath(x.feature),
        // Stryker disable next-line Regex: equivalent (without the anchor: the phrase occurs only at the end of a reason)
        message: `${x.feature.qemu} is requested on, but ${x.reason.replace(/: dropped with a warning$/, "")}; QEMU would drop it with "host doesn't support requested feature"`,
      })),
  },
  {
    code: "default-dropped-by-host",
    severity: "warning",
    summary: "A feature QEMU turns on by default is not offered by the host: QEMU drops it with a warning.",
    check: (r) =>
      [...r.features.values()]
        .filter((x) => x.requested === undefined && x.dropCause === "host-kvm")
        .map((x) => ({ path: fpath(x.feature), message: `${x.feature.qemu} is on by default but ${x.reason}` })),
  },
  {
    code: "pv-enforce-cpuid-unsupported",
    severity: "error",
    summary: "kvm-pv-enforce-cpuid on a host without KVM_CAP_ENFORCE_PV_FEATURE_CPUID: QEMU aborts.",
    check: (r, env) =>
      r.domain.accel === "kvm" && explicitOn(r, "pvEnforceCpuid") && !env.enforceCpuid
        ? [
            {
              path: "paravirt.pvEnforceCpuid",
              message: `the host${r.host.kernel ? ` (kernel ${r.host.kernel})` : ""} lacks KVM_CAP_ENFORCE_PV_FEATURE_CPUID (Linux 5.10+): QEMU aborts with "failed to enable KVM_CAP_ENFORCE_PV_FEATURE_CPUID"`,
            },
          ]
        : [],
  },
  {
    code: "host-passthrough-needs-kvm",
    severity: "error",
    summary: "cpu.mode host-passthrough needs accel kvm.",
    check: (r) =>
      r.domain.accel === "tcg" && r.domain.cpu.mode === "host-passthrough"
        ? [
            {
              path: "cpu.mode",
              message: "host-passthrough (-cpu host) needs the KVM accelerator; use mode maximum or a named model with accel tcg",
            },
          ]
        : [],
  },
  {
    code: "cpu-model-unusable-on-host",
    severity: "error",
    summary:
      "The custom CPU model is unknown to the host, or, with cpu.check partial, incompatible with the host CPU as libvirt compares it at start (host profile cpuModels: virsh cpu-compare under KVM, the usable verdict under TCG): libvirt refuses to start the domain.",
    check: (r) => {
      const c = cpuModelOnHost(r);
      if (!c) return [];
      if (c.usable === undefined)
        return [
          {
            path: "cpu.model",
            message: `CPU model ${c.model} is not among the host's CPU models (virsh domcapabilities --virttype ${c.accel}): libvirt refuses to start the domain ("Unknown CPU model ${c.model}")${c.hint()}`,
          },
        ];
      if (r.domain.cpu.check !== "partial" || startsWithPartialCheck(c) !== false) return [];
      const verdict =
        c.hostCompatible === false
          ? "libvirt compares it with the host CPU (virsh cpu-compare: incompatible)"
          : `it is not usable on this host (virsh domcapabilities --virttype ${c.accel}: usable='no')`;
      return [
        {
          path: "cpu.model",
          message: `CPU model ${c.model}: ${verdict}, so with cpu.check partial libvirt refuses to start the domain ("the CPU is incompatible with host CPU"); cpu.check none starts it with what the host can give${c.hint(true)}`,
        },
      ];
    },
  },
  {
    code: "cpu-check-full-extra-features",
    severity: "error",
    summary:
      "cpu.check full on a custom model without the hypervisor flag stated: QEMU always adds it, no libvirt CPU model lists it, and libvirt refuses the started vCPU for the extra feature.",
    check: (r) =>
      r.domain.cpu.mode === "custom" && r.domain.cpu.check === "full" && r.domain.cpu.features.hypervisor === undefined
        ? [
            {
              path: "cpu.check",
              message: `with cpu.check full libvirt compares the vCPU QEMU realized with ${r.domain.cpu.model} feature by feature and refuses to start it ("guest CPU doesn't match specification: extra features: ...hypervisor"): QEMU always sets the hypervisor flag, which no libvirt CPU model lists; use cpu.check partial or none, or state every realized feature in cpu.features (hypervisor included)`,
            },
          ]
        : [],
  },
  {
    code: "cpu-model-degraded-on-host",
    severity: "warning",
    summary:
      "The custom CPU model is unusable on the host (host profile cpuModels) and libvirt starts it (cpu.check none, or partial where the host CPU passes libvirt's comparison): QEMU drops the CPU features the hypervisor cannot give.",
    check: (r) => {
      const c = cpuModelOnHost(r);
      if (!c || c.usable !== false) return [];
      const starts = r.domain.cpu.check === "none" || (r.domain.cpu.check === "partial" && startsWithPartialCheck(c) === true);
      return starts
        ? [
            {
              path: "cpu.model",
              message: `CPU model ${c.model} is not usable on this host (virsh domcapabilities --virttype ${c.accel}: usable='no'): with cpu.check ${r.domain.cpu.check} libvirt starts it anyway and QEMU drops the CPU features the host lacks, so the guest gets less than ${c.model}${c.hint()}`,
            },
          ]
        : [];
    },
  },
  {
    code: "machine-unknown-to-host",
    severity: "error",
    summary: "The machine type does not exist in the host's QEMU.",
    check: (r) => (r.machine.problem ? [{ path: "machine", message: r.machine.problem }] : []),
  },
  {
    code: "kvm-unavailable",
    severity: "error",
    summary: "accel kvm on a host profile without usable /dev/kvm.",
    check: (r) =>
      r.domain.accel === "kvm" && r.host.kvm?.available === false
        ? [{ path: "accel", message: "the host profile says /dev/kvm is not usable: accel kvm cannot start there" }]
        : [],
  },
  {
    code: "host-profile-assumed",
    severity: "info",
    summary: "No host profile was given: a current host is assumed.",
    check: (r, env) =>
      !env.hadProfile && r.host.source === "assumed"
        ? [{ path: "host", message: `${r.host.description}; pass --host with the JSON of \`kvm-paravirt probe\` for the real host` }]
        : [],
  },
];
