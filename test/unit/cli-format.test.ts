import { formatPlan } from "../../src/cli/commands/plan";
import type { DomainPlan } from "../../src/live/model";
import { formatDiagnostics, formatDomain, formatProfile } from "../../src/cli/format";
import type { HostProfile } from "../../src/host/profile";
import type { RenderedDomain } from "../../src/render-spec";

/** The CLI's human views, line by line: the plan (every kind of finding a domain plan can carry), diagnostics, a rendered domain, a host profile. */

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

describe("formatDiagnostics and formatDomain", () => {
  test("no diagnostics says so; each diagnostic is two lines: severity, code and path, then the message", () => {
    expect(formatDiagnostics([])).toBe("  no diagnostics");
    expect(formatDiagnostics([], "    ")).toBe("    no diagnostics");
    expect(formatDiagnostics([{ severity: "warning", code: "c1", path: "paravirt.pvIpi", message: "m1" }], "")).toBe(
      "warning c1  paravirt.pvIpi\n        m1",
    );
  });

  test("a domain: its features as a table, its diagnostics, QEMU args and XML only when asked and present", () => {
    const d = {
      name: "web1",
      features: { kvmclock: { enabled: true, source: "default", reason: "QEMU's default" } },
      diagnostics: [],
      qemuArgs: ["-accel", "kvm"],
      domainXml: "<domain>\n</domain>\n",
    } as unknown as RenderedDomain;
    expect(formatDomain(d, { xml: false, args: false }).split("\n")).toEqual([
      "domain web1",
      "  FEATURE   VALUE  SOURCE   REASON",
      "  kvmclock  on     default  QEMU's default",
      "  diagnostics:",
      "    no diagnostics",
    ]);
    expect(formatDomain(d, { xml: true, args: true }).split("\n").slice(5)).toEqual([
      "  qemu args:",
      "    -accel kvm",
      "  domain XML:",
      "    <domain>",
      "    </domain>",
    ]);
    const bare = { ...d, features: {}, qemuArgs: [], domainXml: "" } as unknown as RenderedDomain;
    expect(formatDomain(bare, { xml: true, args: true })).toBe("domain web1\n  diagnostics:\n    no diagnostics");
  });
});

describe("formatProfile", () => {
  test("a profile that knows nothing but QEMU's version: every other row unknown", () => {
    const lines = formatProfile({ qemu: "7.2.22" } as HostProfile).split("\n");
    expect(lines.slice(0, 10)).toEqual([
      "QEMU                      7.2.22",
      "libvirt                   unknown",
      "kernel                    unknown",
      "/dev/kvm                  unknown",
      "enforce-cpuid capability  unknown",
      "host-model CPU            unknown",
      "CPU models                unknown",
      "machine aliases           unknown",
      "",
      "KVM PV features (query-cpu-model-expansion of host):",
    ]);
    expect(lines.slice(10).every((l) => / unknown$/.test(l))).toBe(true);
  });

  test("KVM missing, no enforce capability, usable models counted, aliases listed, features offered or not", () => {
    const p = {
      qemu: "7.2.22",
      kvm: { available: false, enforceCpuid: false, supported: ["kvmclock"] },
      cpuModels: [
        { name: "a", usable: true },
        { name: "b", usable: false },
      ],
      machines: [{ name: "pc-q35-7.2", alias: "q35" }, { name: "pc-i440fx-7.2", alias: "pc" }, { name: "pc-q35-7.1" }],
    } as HostProfile;
    const lines = formatProfile(p).split("\n");
    expect(lines.slice(3, 8)).toEqual([
      "/dev/kvm                  missing or not accessible",
      "enforce-cpuid capability  no",
      "host-model CPU            unknown",
      "CPU models                1 of 2 usable (virsh domcapabilities)",
      "machine aliases           q35=pc-q35-7.2, pc=pc-i440fx-7.2",
    ]);
    expect(lines).toContain("  kvmclock             offered by KVM");
    expect(lines).toContain("  kvm-pv-ipi           not offered");
    expect(
      formatProfile({ ...p, kvm: { available: true, enforceCpuid: true } })
        .split("\n")
        .slice(3, 5),
    ).toEqual(["/dev/kvm                  usable", "enforce-cpuid capability  yes"]);
  });
});
