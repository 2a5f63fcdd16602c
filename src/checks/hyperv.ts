import { HYPERV_FEATURES, HYPERV_VALUES, hypervRow, type HypervKey, type HypervRow } from "../catalog/hyperv";
import type { Planned } from "../libvirt/plan";
import type { HypervFailure, HypervFlagResolution } from "../resolve/hyperv";
import { atLeast } from "../util/version";
import type { Finding, Rule } from "./rule";

/**
 * The Hyper-V rules: QEMU's dependency table (one rule per dependency, the message QEMU prints),
 * what the host's KVM offers, what QEMU does on a KVM without Hyper-V and under TCG (measured:
 * test/fixtures/hyperv-observed), passthrough mode, and the vendor id.
 */

const hpath = (r: HypervRow) => `hyperv.${r.key}`;
const flags = (r: Planned): HypervFlagResolution[] => [...r.hyperv.flags.values()];
const failuresOf = (r: Planned, cause: HypervFailure["cause"]) =>
  flags(r).flatMap((x) => x.failures.filter((f) => f.cause === cause).map((f) => ({ x, f })));
const hostHas = (r: Planned) =>
  r.hyperv.support.how === "measured" ? "the host profile's measured kvm.hyperv" : `host kernel ${r.host.kernel ?? "(unknown)"}`;

/** One rule per dependency QEMU enforces (kvm_hyperv_properties[].dependencies, and SynIC on VP_INDEX from machine 3.1). */
function dependencyRule(row: HypervRow, needs: HypervKey): Rule {
  const dep = hypervRow(needs);
  const synic = row.key === "synic";
  return {
    code: `${row.qemu}-needs-${dep.qemu}`,
    severity: "error",
    summary: `${row.qemu} without ${dep.qemu}: QEMU refuses to start ("Hyper-V ${row.desc} requires Hyper-V ${dep.desc}")${synic ? " on machine types from 3.1" : ""}.`,
    check: (r) => {
      const x = r.hyperv.flags.get(row.key);
      // QEMU checks explicit flags (custom mode); hv-passthrough takes KVM's consistent set
      if (r.hyperv.mode !== "custom" || x?.enabled !== true || r.hyperv.flags.get(needs)?.enabled === true) return [];
      if (synic && !atLeast(r.machine.version, "3.1")) return [];
      const where = r.hyperv.support.available
        ? "QEMU refuses to start"
        : r.domain.accel === "tcg"
          ? "under TCG QEMU checks nothing and the guest gets no Hyper-V, but on KVM with Hyper-V QEMU refuses to start"
          : "this host's KVM has no Hyper-V, so QEMU checks nothing and the guest gets none of it, but any host with Hyper-V refuses to start";
      return [
        {
          path: hpath(row),
          message: `${row.qemu} needs ${dep.qemu}: ${where} ("Hyper-V ${row.desc} requires Hyper-V ${dep.desc}"). Set hyperv.${dep.key}: true or remove hyperv.${row.key}`,
        },
      ];
    },
  };
}

const DEPENDENCY_RULES: Rule[] = HYPERV_FEATURES.flatMap((row) => [
  ...row.requires.map((d) => dependencyRule(row, d)),
  ...(row.key === "synic" ? [dependencyRule(row, "vpindex")] : []),
]);

const notFoundOf = (r: Planned, prop: string) => `Property '${r.qemuModel}-x86_64-cpu.${prop}' not found`;
const list = (xs: HypervFlagResolution[]) => xs.map((x) => x.row.qemu).join(", ");

export const HYPERV_RULES: readonly Rule[] = [
  ...DEPENDENCY_RULES,
  {
    code: "hyperv-missing-in-qemu",
    severity: "error",
    summary: "A Hyper-V flag (or passthrough) the host's QEMU does not have: QEMU refuses the -cpu option.",
    check: (r) => [
      ...failuresOf(r, "missing-in-qemu").map(({ x, f }) => ({
        path: hpath(x.row),
        message: `${x.row.qemu} needs QEMU ${x.row.qemuSince} or later; QEMU ${r.host.qemu} refuses it ("${f.message}")`,
      })),
      ...(r.hyperv.noNonarchCoresharing?.missingInQemu
        ? [
            {
              path: "hyperv.noNonarchCoresharing",
              message: `hv-no-nonarch-coresharing needs QEMU ${HYPERV_VALUES.noNonarchCoresharing.qemuSince} or later; QEMU ${r.host.qemu} refuses it ("${notFoundOf(r, HYPERV_VALUES.noNonarchCoresharing.qemu)}")`,
            },
          ]
        : []),
      ...(r.hyperv.passthroughMissing
        ? [
            {
              path: "hyperv.mode",
              message: `hv-passthrough needs QEMU ${HYPERV_VALUES.passthrough.qemuSince} or later; QEMU ${r.host.qemu} does not have it`,
            },
          ]
        : []),
    ],
  },
  {
    code: "hyperv-unsupported-by-host",
    severity: "error",
    summary: 'A Hyper-V flag the host\'s KVM does not offer: QEMU refuses to start ("Hyper-V ... is not supported by kernel").',
    check: (r) =>
      failuresOf(r, "unsupported-by-kernel").map(({ x, f }) => ({
        path: hpath(x.row),
        message: `the host's KVM does not offer ${x.row.qemu} (${hostHas(r)}${x.row.hostKernelMin ? `; KVM first offers it in Linux ${x.row.hostKernelMin}` : ""}${x.row.intelOnly ? "; Intel VMX hosts with kvm_intel nested=1 only" : ""}): QEMU refuses to start ("${f.message}")`,
      })),
  },
  {
    code: "hyperv-refused-without-host-hyperv",
    severity: "error",
    summary: 'hv-vpindex on a host whose KVM has no Hyper-V: QEMU refuses to start ("kernel doesn\'t allow setting HyperV VP_INDEX").',
    check: (r) =>
      failuresOf(r, "no-host-hyperv")
        .filter(({ f }) => f.kind === "refused")
        .map(({ x, f }) => ({
          path: hpath(x.row),
          message: `the host's KVM has no Hyper-V (${hostHas(r)}): QEMU refuses ${x.row.qemu} at start ("${f.message}")`,
        })),
  },
  {
    code: "hyperv-aborts-without-host-hyperv",
    severity: "error",
    summary:
      "hv-vapic, hv-time, hv-synic or hv-reenlightenment on a host whose KVM has no Hyper-V: QEMU aborts at start (a failed MSR write).",
    check: (r) =>
      failuresOf(r, "no-host-hyperv")
        .filter(({ f }) => f.kind === "aborts")
        .map(({ x, f }) => ({
          path: hpath(x.row),
          message: `the host's KVM has no Hyper-V (${hostHas(r)}): KVM rejects ${x.row.qemu}'s MSR and QEMU aborts at start ("${f.message}", then an assertion)`,
        })),
  },
  {
    code: "hyperv-absent-without-host-hyperv",
    severity: "warning",
    summary: "Hyper-V flags on a host whose KVM has no Hyper-V: QEMU starts and reports them on, but the guest gets none of them.",
    check: (r): Finding[] => {
      if (r.domain.accel !== "kvm" || r.hyperv.support.available || r.hyperv.mode !== "custom") return [];
      const silent = flags(r).filter((x) => x.enabled && x.row.desc !== null && x.failures.length === 0);
      return silent.length
        ? [
            {
              path: "hyperv",
              message: `the host's KVM has no Hyper-V (${hostHas(r)}): QEMU starts with ${list(silent)} and QMP reads ${silent.length > 1 ? "them" : "it"} on, but the guest's CPUID has no Hyper-V leaf, so the guest gets ${silent.length > 1 ? "none of them" : "nothing of it"}`,
            },
          ]
        : [];
    },
  },
  {
    code: "hyperv-ignored-under-tcg",
    severity: "warning",
    summary: "Hyper-V flags under TCG: QEMU builds no Hyper-V leaves, the guest gets none of them.",
    check: (r): Finding[] => {
      if (r.domain.accel !== "tcg") return [];
      const on = flags(r).filter((x) => x.enabled && x.row.desc !== null && x.failures.length === 0);
      const passthrough = r.hyperv.mode === "passthrough";
      return on.length || passthrough
        ? [
            {
              path: "hyperv",
              message: `accel tcg: QEMU builds no Hyper-V leaves, so the guest gets none of ${passthrough ? "hv-passthrough's flags" : list(on)}`,
            },
          ]
        : [];
    },
  },
  {
    code: "hyperv-vpindex-refused-under-tcg",
    severity: "error",
    summary: 'hv-vpindex under TCG: QEMU up to 8.1 refuses to start ("kernel doesn\'t allow setting HyperV VP_INDEX").',
    check: (r) =>
      failuresOf(r, "tcg").map(({ x, f }) => ({
        path: hpath(x.row),
        message: `accel tcg: QEMU ${r.host.qemu} refuses ${x.row.qemu} ("${f.message}"; QEMU 8.2 accepts it and ignores it)`,
      })),
  },
  {
    code: "hyperv-enforce-cpuid-unsupported",
    severity: "error",
    summary:
      "hv-enforce-cpuid on a host kernel older than 5.14: QEMU cannot enable KVM_CAP_HYPERV_ENFORCE_CPUID and the vCPU does not start.",
    check: (r) =>
      failuresOf(r, "enforce-cpuid").map(({ x, f }) => ({
        path: hpath(x.row),
        message: `host kernel ${r.host.kernel} predates KVM_CAP_HYPERV_ENFORCE_CPUID (Linux ${x.row.hostKernelMin}): QEMU fails ("${f.message}")`,
      })),
  },
  {
    code: "hyperv-settings-in-passthrough",
    severity: "error",
    summary: "Hyper-V flags, spinlocks or a vendor id with mode passthrough: hv-passthrough takes the host's, these have no effect.",
    check: (r) => {
      const spec = r.domain.hyperv;
      if (!spec || r.hyperv.mode !== "passthrough") return [];
      const set = [
        ...HYPERV_FEATURES.filter((row) => spec[row.key] !== undefined).map((row) => `hyperv.${row.key}`),
        ...(spec.spinlocks !== undefined ? ["hyperv.spinlocks"] : []),
        ...(spec.vendorId !== undefined ? ["hyperv.vendorId"] : []),
      ];
      return set.length
        ? [
            {
              path: "hyperv.mode",
              message: `mode passthrough turns on every flag the host's KVM offers with its vendor id and spinlock count; ${set.join(", ")} would have no effect (libvirt 11 does not even read them): remove them or use mode custom`,
            },
          ]
        : [];
    },
  },
  {
    code: "hyperv-passthrough-not-migratable",
    severity: "warning",
    summary: "Hyper-V passthrough: QEMU blocks migration of the domain, and what the guest gets depends on the host's kernel.",
    check: (r) =>
      r.hyperv.mode === "passthrough" && r.domain.accel === "kvm"
        ? [
            {
              path: "hyperv.mode",
              message:
                "hv-passthrough blocks migration (\"'hv-passthrough' CPU flag prevents migration, use explicit set of hv-* flags instead\") and gives the guest whatever the host's kernel offers: name the flags (mode custom) for a domain that must move",
            },
          ]
        : [],
  },
  {
    code: "hyperv-vendor-id-unseen",
    severity: "warning",
    summary:
      "A Hyper-V vendor id the guest never sees: no Hyper-V leaves (no flag or spinlock count asks for them, or the host's KVM or TCG has none).",
    check: (r) => {
      if (r.domain.hyperv?.vendorId === undefined || r.hyperv.mode !== "custom" || r.hyperv.leaves) return [];
      const why =
        r.domain.accel === "tcg"
          ? "TCG builds no Hyper-V leaves"
          : !r.hyperv.support.available
            ? `the host's KVM has no Hyper-V (${hostHas(r)}), so QEMU builds no Hyper-V leaves`
            : "a vendor id alone builds no Hyper-V leaves (QEMU needs a flag or a spinlock count for that)";
      return [{ path: "hyperv.vendorId", message: `${why}: the guest never sees the vendor id` }];
    },
  },
  {
    code: "hyperv-no-nonarch-coresharing-auto",
    severity: "warning",
    summary:
      "hv-no-nonarch-coresharing=auto: the guest is told what the host's KVM reports (SMT off), and QEMU blocks the domain's migration.",
    check: (r) =>
      r.hyperv.noNonarchCoresharing?.set === "auto" && r.domain.accel === "kvm"
        ? [
            {
              path: "hyperv.noNonarchCoresharing",
              message:
                "auto blocks migration (\"'hv-no-nonarch-coresharing=auto' CPU flag prevents migration\") and passes on what the host's KVM reports (set when the host runs with SMT off); use on with pinned, SMT-aware vCPUs, or off",
            },
          ]
        : [],
  },
  {
    code: "hyperv-no-nonarch-coresharing-shared-vcpus",
    severity: "warning",
    summary:
      "hv-no-nonarch-coresharing=on without dedicated vCPUs: the guest is told no other guest shares its cores, which only pinning makes true.",
    check: (r) =>
      r.hyperv.noNonarchCoresharing?.set === "on" && !r.placement.dedicated.value && r.domain.dedicatedVcpus !== true
        ? [
            {
              path: "hyperv.noNonarchCoresharing",
              message:
                "on tells Windows that no other guest's code runs on its cores' siblings, so it may skip its own core-scheduling mitigations; that holds only with vCPUs pinned to dedicated cores (cpuPinning.dedicated, or dedicatedVcpus: true when they are dedicated by other means), as QEMU's docs say",
            },
          ]
        : [],
  },
  {
    code: "hyperv-windows-profile",
    severity: "info",
    summary:
      "A Windows guest (guest.os windows): the Hyper-V flags the spec leaves unset get the Windows profile's; what it set and left out, and why.",
    check: (r) => {
      const p = r.hyperv.profile;
      if (!p) return [];
      if (p.nothing) return [{ path: "guest.os", message: `the Windows profile sets nothing: ${p.nothing}` }];
      const set = p.set.map((x) => hypervRow(x.key).qemu);
      const left = p.left.map((x) => `${hypervRow(x.key).qemu} (${x.why})`);
      return [
        {
          path: "guest.os",
          message: `the Windows profile sets ${set.length ? set.join(", ") : "no flag"}${p.spinlocks !== undefined && set.length ? ` and spinlocks ${p.spinlocks}` : ""}; it leaves out ${left.join("; ")}. A flag set in hyperv wins over the profile`,
        },
      ];
    },
  },
  {
    code: "windows-guest-without-hyperv",
    severity: "warning",
    summary:
      "A Windows guest under KVM that gets no Hyper-V enlightenment: it runs noticeably slower (timers, APIC, TLB flushes all emulated).",
    check: (r) => {
      if (r.domain.guest?.os !== "windows" || r.domain.accel !== "kvm" || r.hyperv.leaves) return [];
      const why = !r.hyperv.support.available
        ? `the host's KVM has no Hyper-V (${hostHas(r)})`
        : r.hyperv.mode === "custom"
          ? "no Hyper-V flag is on (the spec sets them off)"
          : "hv-passthrough found nothing to pass";
      return [
        { path: "guest.os", message: `this Windows guest gets no Hyper-V enlightenment: ${why}; expect it to run noticeably slower` },
      ];
    },
  },
  {
    code: "hyperv-hidden-without-vendor-id",
    severity: "info",
    summary:
      "The KVM signature hidden (hidden: true, as for GPU passthrough) while the Hyper-V leaves show QEMU's vendor: give a vendor id.",
    check: (r) =>
      r.features.get("kvm")?.enabled === false && r.hyperv.leaves && r.hyperv.mode === "custom" && r.hyperv.setVendorId === undefined
        ? [
            {
              path: "hyperv.vendorId",
              message:
                'hidden: true removes the KVM leaves but the Hyper-V leaves still say "Microsoft Hv": GPU drivers that look for a hypervisor (NVIDIA\'s, before R465: error code 43) check that vendor too; set hyperv.vendorId (QEMU 2.5 added it for this)',
            },
          ]
        : [],
  },
];
