import { formatPlan } from "../../src/cli/commands/plan";
import type { DomainPlan } from "../../src/live/model";

/** The plan's human view, line by line, for every kind of finding a domain plan can carry. */

const base: DomainPlan = {
  uri: "qemu:///system",
  domain: "web1",
  action: "unchanged",
  state: "shut off",
  fieldChanges: [],
  featureChanges: [],
  drift: [],
  pendingRestart: [],
  restartNeeded: false,
  deviceChanges: [],
  warnings: [],
};

describe("formatPlan", () => {
  test("an unchanged domain: its line and the totals", () => {
    expect(formatPlan([{ uri: "qemu:///system", domains: [base] }])).toBe(
      ["host qemu:///system", "  unchanged        web1", "plan: 0 to create, 0 to update, 1 unchanged, 0 delete candidate(s)"].join("\n"),
    );
  });

  test("an update with everything: flags, warnings, fields, the feature table, drift, pending restarts, devices, run state, autostart", () => {
    const d: DomainPlan = {
      ...base,
      action: "update",
      state: "running",
      restartNeeded: true,
      warnings: [
        { code: "libvirt-custom-argv", path: "paravirt", message: "set through <qemu:commandline>" },
        { code: "no-path", path: "", message: "a domain-wide note" },
      ],
      fieldChanges: [{ field: "vcpus", current: 2, desired: 4 }],
      featureChanges: [
        { feature: "kvm-pv-ipi", current: { enabled: false, source: "default" }, desired: { enabled: true, source: "explicit" } },
        { feature: "kvm-pv-eoi", current: null, desired: { enabled: false, source: "explicit" } },
        { feature: "kvm-mmu", current: { enabled: true, source: "absent" }, desired: null },
      ],
      drift: [
        { feature: "kvm-pv-eoi", recorded: true, current: false },
        { feature: "kvm-pv-unhalt", recorded: false, current: true },
        { feature: "kvmclock", recorded: true, current: null },
      ],
      pendingRestart: [
        { feature: "kvm-pv-ipi", running: true, defined: false },
        { feature: "kvm-pv-eoi", running: false, defined: true },
      ],
      deviceChanges: [
        { device: "disk:vdb", change: "add", hotplug: true },
        { device: "interface:52:54:00:00:00:01", change: "remove", hotplug: false },
      ] as DomainPlan["deviceChanges"],
      runChange: "start-paused",
      autostart: false,
    };
    expect(formatPlan([{ uri: "qemu:///system", domains: [d] }]).split("\n")).toEqual([
      "host qemu:///system",
      "  update           web1  [restart needed, DRIFT]",
      "      warning [libvirt-custom-argv] paravirt: set through <qemu:commandline>",
      "      warning [no-path] a domain-wide note",
      "      vcpus: 2 -> 4",
      "      FEATURE     CURRENT        DESIRED",
      "      kvm-pv-ipi  off (default)  on (explicit)",
      "      kvm-pv-eoi  -              off (explicit)",
      "      kvm-mmu     on (absent)    -",
      "      drift: kvm-pv-eoi was on when defined, is off now",
      "      drift: kvm-pv-unhalt was off when defined, is on now",
      "      drift: kvmclock was on when defined, is absent now",
      "      restart pending: kvm-pv-ipi runs on, defined off",
      "      restart pending: kvm-pv-eoi runs off, defined on",
      "      DEVICE                       CHANGE  ON A RUNNING DOMAIN",
      "      disk:vdb                     add     hot-pluggable (applied at the next start)",
      "      interface:52:54:00:00:00:01  remove  needs a restart",
      "      then: start paused",
      "      autostart: off",
      "plan: 0 to create, 1 to update, 0 unchanged, 0 delete candidate(s)",
    ]);
  });

  test("a create shows no feature table; autostart on; a resume", () => {
    const d: DomainPlan = {
      ...base,
      action: "create",
      state: "absent",
      featureChanges: [{ feature: "kvm-pv-ipi", current: null, desired: { enabled: true, source: "explicit" } }],
      runChange: "resume",
      autostart: true,
    };
    expect(formatPlan([{ uri: "qemu:///system", domains: [d] }]).split("\n")).toEqual([
      "host qemu:///system",
      "  create           web1",
      "      then: resume",
      "      autostart: on",
      "plan: 1 to create, 0 to update, 0 unchanged, 0 delete candidate(s)",
    ]);
  });

  test("errors: a host's and a domain's; a delete candidate; totals over every host", () => {
    const plan = formatPlan([
      { uri: "qemu+ssh://kvm1/system", error: "cannot connect", domains: [] },
      {
        uri: "qemu+ssh://kvm2/system",
        domains: [
          { ...base, domain: "a", error: "libvirt refused the dump" },
          { ...base, domain: "b", action: "delete-candidate" },
          { ...base, domain: "c", action: "create" },
        ],
      },
    ]);
    expect(plan.split("\n")).toEqual([
      "host qemu+ssh://kvm1/system: ERROR cannot connect",
      "host qemu+ssh://kvm2/system",
      "  unchanged        a  [ERROR libvirt refused the dump]",
      "  delete-candidate b",
      "  create           c",
      "plan: 1 to create, 0 to update, 1 unchanged, 1 delete candidate(s)",
    ]);
  });
});
