import { needsCustomArgv } from "../libvirt/plan";
import { res, type Rule } from "./rule";

/** What libvirt does with the definition: refusals, the custom-argv taint, names it resolves. */
export const LIBVIRT_RULES: readonly Rule[] = [
  {
    code: "libvirt-refuses-pvspinlock",
    severity: "error",
    // libvirt checks the started vCPU for the bit whatever the accelerator: the TCG libvirt oracle found it under TCG too
    summary: "kvm-pv-unhalt requested but dropped (under KVM or TCG): libvirt refuses to start the domain.",
    check: (r) => {
      const x = res(r, "pvUnhalt");
      return x?.requested === true && !x.enabled
        ? [
            {
              path: "paravirt.pvUnhalt",
              // Stryker disable next-line Regex: equivalent (without the anchor: the phrase occurs only at the start of a reason)
              message: `libvirt refuses to start the domain ("host doesn't support paravirtual spinlocks"): <pvspinlock state='on'/> is set but ${x.reason.replace(/^requested, but /, "")}`,
            },
          ]
        : [];
    },
  },
  {
    code: "libvirt-custom-argv",
    severity: "warning",
    summary:
      "Some settings have no working libvirt element and go through <qemu:commandline>: libvirt marks the domain tainted (custom-argv).",
    check: (r) => {
      const plan = r.libvirt;
      if (!needsCustomArgv(plan)) return [];
      const parts = [
        ...plan.globals.map(
          (g) =>
            `${g.feature.qemu}=${g.value ? "on" : "off"} (${g.why === "no-element" ? "libvirt has no element" : g.why === "element-is-noop" ? `libvirt's <${g.feature.libvirt?.element}> emits nothing for this value` : `libvirt ${r.host.libvirt} predates <${g.feature.libvirt?.element}> (${g.feature.libvirt?.since})`})`,
        ),
        ...plan.machineOptions.map((m) => `-machine ${m} (libvirt cannot express it)`),
        ...plan.hyperv.globals.map(
          (g) =>
            `${g.property}=${g.value} (${g.why === "no-element" ? "libvirt has no element" : g.why === "needs-parent-element" ? "libvirt writes it only inside its parent element switched on" : `libvirt ${r.host.libvirt} predates its element`})`,
        ),
      ];
      return [
        {
          path: "paravirt",
          message: `set through <qemu:commandline>, so libvirt marks the domain tainted (custom-argv): ${parts.join("; ")}`,
        },
      ];
    },
  },
  {
    code: "machine-alias-resolved",
    severity: "info",
    summary: "An unversioned machine type is resolved to the host QEMU's versioned type.",
    check: (r) =>
      r.machine.requested !== r.machine.resolved
        ? [
            {
              path: "machine",
              message: `${r.machine.requested} is ${r.machine.resolved} on QEMU ${r.host.qemu}${r.host.source === "assumed" ? " (assumed host)" : ""}`,
            },
          ]
        : [],
  },
  {
    code: "host-model-qemu-args",
    severity: "info",
    summary: "host-model is expanded by libvirt at start; the QEMU args use a named model with the same PV defaults.",
    check: (r) => {
      if (r.domain.cpu.mode !== "host-model") return [];
      const from = r.host.hostModel
        ? "from the host profile"
        : r.host.source === "assumed"
          ? "no host profile"
          : "the host profile names no host model";
      return [
        {
          path: "cpu.mode",
          message: `libvirt turns host-model into the host's named model at start; the QEMU args use ${r.qemuModel} (${from}), which has the same PV defaults`,
        },
      ];
    },
  },
];
