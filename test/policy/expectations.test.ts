import { resolveDomain } from "../../src/analyze";
import { checkPolicy, POLICY_BY_NAME } from "../../src/policy/policies";
import { FEATURES } from "../../src/catalog/features";
import type { HostProfile } from "../../src/host/profile";
import { DEBIAN12, domainSpec } from "../helpers/specs";

const EVERY_FEATURE = FEATURES.map((f) => f.qemu);

/**
 * Each policy against expectations written for it (issue "Tests that catch the next bug"):
 * a table of domain -> the violations that policy must report, by feature, a message
 * fragment and the fix it suggests, including the cases where it must report nothing. Not the engine run twice.
 */
type Want = { feature?: string; message: RegExp; fix: RegExp };
/** the host: DEBIAN12 (this machine: KVM without Hyper-V) unless a case names another */
type Case = [string, Record<string, unknown>, Record<string, unknown>, Want[], HostProfile?];

/** a stock Debian 12 kernel, whose KVM has Hyper-V (derived from the kernel) */
const HV: HostProfile = { ...DEBIAN12, kernel: "6.1.0-18-amd64", kvm: { available: true, supported: DEBIAN12.kvm!.supported } };

function violations(policy: string, domain: Record<string, unknown>, config: Record<string, unknown>, host: HostProfile = DEBIAN12) {
  return checkPolicy(POLICY_BY_NAME.get(policy)!, resolveDomain(domainSpec({ name: "vm", ...domain }), host), {
    enforcementLevel: "mandatory",
    config,
  });
}

const TABLE: Record<string, Case[]> = {
  "required-features": [
    ["on by default for qemu64", {}, { features: ["kvmclock", "kvm-pv-eoi"] }, []],
    [
      "off by default",
      {},
      { features: ["kvm-pv-ipi"] },
      [{ feature: "kvm-pv-ipi", message: /kvm-pv-ipi is required but effectively off \(default/, fix: /^set paravirt\.pvIpi: true$/ }],
    ],
    ["set on", { paravirt: { pvIpi: true } }, { features: ["kvm-pv-ipi"] }, []],
    [
      "dropped by irqchip off",
      { irqchip: "off", paravirt: { pvUnhalt: true } },
      { features: ["kvm-pv-unhalt"] },
      [{ feature: "kvm-pv-unhalt", message: /effectively off \(dropped/, fix: /^remove the cause: .*irqchip/ }],
    ],
    [
      "hidden signature",
      { paravirt: { hidden: true } },
      { features: ["kvm"] },
      // the signature's key is inverted: on means hidden: false
      [{ feature: "kvm", message: /kvm \(the KVM signature\) is required but effectively off/, fix: /^set paravirt\.hidden: false$/ }],
    ],
    [
      "a property the host's QEMU lacks (kvm-asyncpf-vmexit is QEMU 9.0, the host 7.2)",
      {},
      { features: ["kvm-asyncpf-vmexit"] },
      [
        {
          feature: "kvm-asyncpf-vmexit",
          message: /^kvm-asyncpf-vmexit is required but the host's QEMU 7\.2\.22 has no such property$/,
          fix: /^set paravirt\.asyncpfVmexit: true$/,
        },
      ],
    ],
  ],
  "forbidden-features": [
    [
      "default-on kvmclock",
      {},
      { features: ["kvmclock"] },
      [{ feature: "kvmclock", message: /kvmclock is forbidden but effectively on \(default/, fix: /^set paravirt\.kvmclock: false$/ }],
    ],
    ["turned off", { paravirt: { kvmclock: false } }, { features: ["kvmclock"] }, []],
    [
      "host passthrough turns it on",
      { cpu: { mode: "host-passthrough" } },
      { features: ["kvm-pv-ipi"] },
      [{ feature: "kvm-pv-ipi", message: /forbidden but effectively on \(host-passthrough/, fix: /^set paravirt\.pvIpi: false$/ }],
    ],
  ],
  "no-deprecated": [
    ["kvm-mmu requested", { paravirt: { mmu: true } }, {}, [{ feature: "kvm-mmu", message: /kvm-mmu/, fix: /^remove paravirt\.mmu$/ }]],
    [
      "asyncpf relied on without asyncpf-int",
      { paravirt: { asyncpf: true } },
      {},
      [{ feature: "kvm-asyncpf", message: /kvm-asyncpf is deprecated/, fix: /^set paravirt\.asyncpfInt: true .* or drop asyncpf$/ }],
    ],
    ["asyncpf with asyncpf-int", { paravirt: { asyncpf: true, asyncpfInt: true } }, {}, []],
    ["nothing deprecated", { paravirt: { pvIpi: true } }, {}, []],
  ],
  dependencies: [
    [
      "msi-ext-dest-id without split irqchip",
      { paravirt: { msiExtDestId: true } },
      {},
      [
        {
          message: /^\[msi-ext-dest-id-needs-split-irqchip\] paravirt\.msiExtDestId: /,
          fix: /^see `kvm-paravirt rules`: kvm-msi-ext-dest-id requested without irqchip: split: QEMU drops it\.$/,
        },
      ],
    ],
    [
      "PV features while hidden",
      { paravirt: { hidden: true, pvIpi: true } },
      {},
      [{ message: /^\[pv-features-while-hidden\] /, fix: /: PV features requested while the KVM signature is hidden/ }],
    ],
    ["a warning is not enforced unless listed", { paravirt: { kvmclock: false, kvmclockStableBit: true } }, {}, []],
    [
      "a listed warning is enforced",
      { paravirt: { kvmclock: false, kvmclockStableBit: true } },
      { warnings: ["kvmclock-stable-bit-without-kvmclock"] },
      [{ message: /^\[kvmclock-stable-bit-without-kvmclock\] /, fix: /^see `kvm-paravirt rules`: kvmclock-stable-bit/ }],
    ],
    ["a clean domain", { irqchip: "split", paravirt: { msiExtDestId: true } }, {}, []],
  ],
  "hidden-signature": [
    [
      "hidden",
      { paravirt: { hidden: true } },
      {},
      [{ feature: "kvm", message: /the KVM signature is hidden/, fix: /^remove paravirt\.hidden, or allow it/ }],
    ],
    ["hidden but allowed", { paravirt: { hidden: true } }, { allow: true }, []],
    ["shown", {}, {}, []],
  ],
  "dedicated-vcpus": [
    [
      "hint without dedicated vCPUs",
      { paravirt: { hintDedicated: true } },
      {},
      [
        {
          feature: "kvm-hint-dedicated",
          message: /the vCPUs are not dedicated \(the vCPUs are not pinned: they float over the host's CPUs\)/,
          fix: /^pin them \(cpuPinning\.dedicated: true\), set dedicatedVcpus: true if .* else paravirt\.hintDedicated: false$/,
        },
      ],
    ],
    [
      "dedicated vCPUs without the hint",
      { dedicatedVcpus: true },
      {},
      [{ feature: "kvm-hint-dedicated", message: /dedicated but kvm-hint-dedicated is off/, fix: /^set paravirt\.hintDedicated: true$/ }],
    ],
    ["both", { dedicatedVcpus: true, paravirt: { hintDedicated: true } }, {}, []],
    ["pinned one to one (the hint implied)", { cpuPinning: { dedicated: true, vcpus: ["3"], emulator: "0" } }, {}, []],
    [
      "pinned one to one, the hint set off",
      { cpuPinning: { vcpus: ["3"], emulator: "0" }, paravirt: { hintDedicated: false } },
      {},
      [{ feature: "kvm-hint-dedicated", message: /dedicated but kvm-hint-dedicated is off/, fix: /^set paravirt\.hintDedicated: true$/ }],
    ],
    ["neither", {}, {}, []],
  ],
  "no-custom-argv": [
    [
      "pv-ipi on (libvirt's element is a no-op for on)",
      { paravirt: { pvIpi: true } },
      {},
      [
        {
          message: /needs <qemu:commandline> for kvm-pv-ipi=on, so libvirt marks the domain tainted \(custom-argv\)$/,
          fix: /^drop those explicit settings/,
        },
      ],
    ],
    [
      "a feature without an element",
      { paravirt: { pvTlbFlush: true } },
      {},
      [{ message: /for kvm-pv-tlb-flush=on,/, fix: /^drop those explicit settings/ }],
    ],
    [
      "irqchip off (libvirt cannot express it)",
      { irqchip: "off" },
      {},
      [{ message: /for -machine kernel-irqchip=off,/, fix: /^drop those explicit settings/ }],
    ],
    [
      "two settings, one of them off: each with its value",
      { paravirt: { pvTlbFlush: false, pvIpi: true } },
      {},
      [
        {
          message:
            /^needs <qemu:commandline> for kvm-pv-tlb-flush=off, kvm-pv-ipi=on, so libvirt marks the domain tainted \(custom-argv\)$/,
          fix: /^drop those explicit settings/,
        },
      ],
    ],
    ["only libvirt elements", { irqchip: "split", paravirt: { pvUnhalt: true, pvIpi: false } }, {}, []],
  ],
  "guest-kernel-minimum": [
    [
      "pv-ipi for a 4.18 guest",
      { paravirt: { pvIpi: true }, guest: { kernel: "4.18" } },
      {},
      [{ feature: "kvm-pv-ipi", message: /4\.19/, fix: /^set paravirt\.pvIpi: false or upgrade the guest kernel$/ }],
    ],
    ["pv-ipi for a 6.1 guest", { paravirt: { pvIpi: true }, guest: { kernel: "6.1" } }, {}, []],
    ["no guest kernel given", { paravirt: { pvIpi: true } }, {}, []],
  ],
  "windows-hyperv-baseline": [
    ["a Windows guest on a Hyper-V host: the profile gives the baseline", { guest: { os: "windows" } }, {}, [], HV],
    [
      "a Windows guest on this kind of host (no Hyper-V in KVM): the baseline by default, each with why",
      { guest: { os: "windows" } },
      {},
      ["hv-relaxed", "hv-vapic", "hv-time"].map((f) => ({
        feature: f,
        message: new RegExp(
          `^a Windows guest must get ${f}, and does not \\(default: off: the Windows profile sets nothing here \\(the host's KVM has no Hyper-V`,
        ),
        fix: new RegExp(`^set hyperv\\.${f === "hv-relaxed" ? "relaxed" : f === "hv-vapic" ? "vapic" : "time"}: true`),
      })),
    ],
    [
      "a flag set on that the guest does not get here (dropped)",
      { guest: { os: "windows" }, hyperv: { relaxed: true } },
      { flags: ["hv-relaxed"] },
      [
        {
          feature: "hv-relaxed",
          message: /^a Windows guest must get hv-relaxed, and does not \(dropped: set on, but the host's KVM has no Hyper-V/,
          fix: /^remove the cause: /,
        },
      ],
    ],
    [
      "a configured list, one flag set off on a Hyper-V host",
      { guest: { os: "windows" }, hyperv: { ipi: false } },
      { flags: ["hv-ipi", "hv-relaxed"] },
      [
        {
          feature: "hv-ipi",
          message: /^a Windows guest must get hv-ipi, and does not \(explicit: set off\)$/,
          fix: /^set hyperv\.ipi: true/,
        },
      ],
      HV,
    ],
    ["a Linux guest: nothing", { guest: { os: "linux" } }, {}, []],
    ["no guest OS: nothing", {}, {}, []],
  ],
  "no-hyperv-passthrough": [
    [
      "passthrough",
      { hyperv: { mode: "passthrough" } },
      {},
      [{ feature: "hv-passthrough", message: /^hyperv\.mode is passthrough: the domain cannot migrate/, fix: /^set hyperv\.mode: custom/ }],
      HV,
    ],
    ["custom: nothing", { hyperv: { mode: "custom", relaxed: true } }, {}, [], HV],
  ],
  "explicit-pinning": [
    [
      "every feature stated except the listed ones",
      {
        paravirt: {
          kvmclock: true,
          nopiodelay: true,
          mmu: false,
          asyncpf: true,
          stealTime: true,
          pvEoi: true,
          pvUnhalt: false,
          pvTlbFlush: false,
          pvIpi: false,
          pollControl: false,
          pvSchedYield: false,
          asyncpfInt: false,
          msiExtDestId: false,
          kvmclockStableBit: true,
          hintDedicated: false,
          pvEnforceCpuid: false,
        },
      },
      { except: ["kvm"] },
      [],
    ],
    [
      "one inherited",
      { paravirt: { kvmclock: true } },
      {
        except: [
          "kvm-nopiodelay",
          "kvm-mmu",
          "kvm-asyncpf",
          "kvm-steal-time",
          "kvm-pv-eoi",
          "kvm-pv-unhalt",
          "kvm-pv-tlb-flush",
          "kvm-pv-ipi",
          "kvm-poll-control",
          "kvm-pv-sched-yield",
          "kvm-asyncpf-int",
          "kvm-msi-ext-dest-id",
          "kvmclock-stable-bit",
          "kvm-hint-dedicated",
          "kvm-pv-enforce-cpuid",
        ],
      },
      [
        {
          feature: "kvm",
          message: /^kvm \(the KVM signature\) is inherited \(default: on\); a QEMU upgrade could change it$/,
          fix: /^set paravirt\.hidden: false$/,
        },
      ],
    ],
    [
      "one inherited that is off",
      { paravirt: { pvIpi: true } },
      { except: EVERY_FEATURE.filter((f) => f !== "kvm-pv-tlb-flush") },
      [
        {
          feature: "kvm-pv-tlb-flush",
          message: /^kvm-pv-tlb-flush is inherited \(default: off\); a QEMU upgrade could change it$/,
          fix: /^set paravirt\.pvTlbFlush: false$/,
        },
      ],
    ],
  ],
};

describe("policies against expectations written per policy", () => {
  test("every policy has a table", () => {
    expect(Object.keys(TABLE).sort()).toEqual([...POLICY_BY_NAME.keys()].sort());
  });

  for (const [policy, cases] of Object.entries(TABLE))
    describe(policy, () => {
      // one rest parameter: with a fifth named one, jest would pass `done` to the four-element rows
      test.each(cases)("%s", (...[, domain, config, want, host]: Case) => {
        const got = violations(policy, domain, config, host);
        expect(got).toHaveLength(want.length);
        want.forEach((w, i) => {
          expect(got[i].message).toMatch(w.message);
          expect(got[i].fix).toMatch(w.fix);
          // a violation names its feature exactly when the policy is about one
          expect(got[i].feature).toBe(w.feature);
        });
      });
    });
});
