import { resolveDomain } from "../../src/analyze";
import { validateSpecObject } from "../../src/input/load";
import { checkPolicy, POLICY_BY_NAME } from "../../src/policy/policies";
import { DEBIAN12 } from "../helpers/specs";

/**
 * Each policy against expectations written for it (issue "Tests that catch the next bug"):
 * a table of domain -> the violations that policy must report, by feature and a message
 * fragment, including the cases where it must report nothing. Not the engine run twice.
 */
type Want = { feature?: string; message: RegExp };
type Case = [string, Record<string, unknown>, Record<string, unknown>, Want[]];

function violations(policy: string, domain: Record<string, unknown>, config: Record<string, unknown>) {
  const d = validateSpecObject({ domains: [{ name: "vm", ...domain }] }).domains[0];
  if (!d.spec) throw new Error(`test domain invalid: ${JSON.stringify(d.diagnostics)}`);
  return checkPolicy(POLICY_BY_NAME.get(policy)!, resolveDomain(d.spec, DEBIAN12), { enforcementLevel: "mandatory", config });
}

const TABLE: Record<string, Case[]> = {
  "required-features": [
    ["on by default for qemu64", {}, { features: ["kvmclock", "kvm-pv-eoi"] }, []],
    [
      "off by default",
      {},
      { features: ["kvm-pv-ipi"] },
      [{ feature: "kvm-pv-ipi", message: /kvm-pv-ipi is required but effectively off \(default/ }],
    ],
    ["set on", { paravirt: { pvIpi: true } }, { features: ["kvm-pv-ipi"] }, []],
    [
      "dropped by irqchip off",
      { irqchip: "off", paravirt: { pvUnhalt: true } },
      { features: ["kvm-pv-unhalt"] },
      [{ feature: "kvm-pv-unhalt", message: /effectively off \(dropped/ }],
    ],
    [
      "hidden signature",
      { paravirt: { hidden: true } },
      { features: ["kvm"] },
      [{ feature: "kvm", message: /kvm \(the KVM signature\) is required but effectively off/ }],
    ],
  ],
  "forbidden-features": [
    [
      "default-on kvmclock",
      {},
      { features: ["kvmclock"] },
      [{ feature: "kvmclock", message: /kvmclock is forbidden but effectively on \(default/ }],
    ],
    ["turned off", { paravirt: { kvmclock: false } }, { features: ["kvmclock"] }, []],
    [
      "host passthrough turns it on",
      { cpu: { mode: "host-passthrough" } },
      { features: ["kvm-pv-ipi"] },
      [{ feature: "kvm-pv-ipi", message: /forbidden but effectively on \(host-passthrough/ }],
    ],
  ],
  "no-deprecated": [
    ["kvm-mmu requested", { paravirt: { mmu: true } }, {}, [{ feature: "kvm-mmu", message: /kvm-mmu/ }]],
    [
      "asyncpf relied on without asyncpf-int",
      { paravirt: { asyncpf: true } },
      {},
      [{ feature: "kvm-asyncpf", message: /kvm-asyncpf is deprecated/ }],
    ],
    ["asyncpf with asyncpf-int", { paravirt: { asyncpf: true, asyncpfInt: true } }, {}, []],
    ["nothing deprecated", { paravirt: { pvIpi: true } }, {}, []],
  ],
  dependencies: [
    [
      "msi-ext-dest-id without split irqchip",
      { paravirt: { msiExtDestId: true } },
      {},
      [{ message: /^\[msi-ext-dest-id-needs-split-irqchip\] paravirt\.msiExtDestId: / }],
    ],
    ["PV features while hidden", { paravirt: { hidden: true, pvIpi: true } }, {}, [{ message: /^\[pv-features-while-hidden\] / }]],
    ["a warning is not enforced unless listed", { paravirt: { kvmclock: false, kvmclockStableBit: true } }, {}, []],
    [
      "a listed warning is enforced",
      { paravirt: { kvmclock: false, kvmclockStableBit: true } },
      { warnings: ["kvmclock-stable-bit-without-kvmclock"] },
      [{ message: /^\[kvmclock-stable-bit-without-kvmclock\] / }],
    ],
    ["a clean domain", { irqchip: "split", paravirt: { msiExtDestId: true } }, {}, []],
  ],
  "hidden-signature": [
    ["hidden", { paravirt: { hidden: true } }, {}, [{ feature: "kvm", message: /the KVM signature is hidden/ }]],
    ["hidden but allowed", { paravirt: { hidden: true } }, { allow: true }, []],
    ["shown", {}, {}, []],
  ],
  "dedicated-vcpus": [
    [
      "hint without dedicated vCPUs",
      { paravirt: { hintDedicated: true } },
      {},
      [{ feature: "kvm-hint-dedicated", message: /not declared dedicated/ }],
    ],
    [
      "dedicated vCPUs without the hint",
      { dedicatedVcpus: true },
      {},
      [{ feature: "kvm-hint-dedicated", message: /dedicated but kvm-hint-dedicated is off/ }],
    ],
    ["both", { dedicatedVcpus: true, paravirt: { hintDedicated: true } }, {}, []],
    ["neither", {}, {}, []],
  ],
  "no-custom-argv": [
    [
      "pv-ipi on (libvirt's element is a no-op for on)",
      { paravirt: { pvIpi: true } },
      {},
      [{ message: /needs <qemu:commandline> for kvm-pv-ipi=on/ }],
    ],
    ["a feature without an element", { paravirt: { pvTlbFlush: true } }, {}, [{ message: /kvm-pv-tlb-flush=on/ }]],
    ["irqchip off (libvirt cannot express it)", { irqchip: "off" }, {}, [{ message: /-machine kernel-irqchip=off/ }]],
    ["only libvirt elements", { irqchip: "split", paravirt: { pvUnhalt: true, pvIpi: false } }, {}, []],
  ],
  "guest-kernel-minimum": [
    [
      "pv-ipi for a 4.18 guest",
      { paravirt: { pvIpi: true }, guest: { kernel: "4.18" } },
      {},
      [{ feature: "kvm-pv-ipi", message: /4\.19/ }],
    ],
    ["pv-ipi for a 6.1 guest", { paravirt: { pvIpi: true }, guest: { kernel: "6.1" } }, {}, []],
    ["no guest kernel given", { paravirt: { pvIpi: true } }, {}, []],
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
      [{ feature: "kvm", message: /kvm \(the KVM signature\) is inherited/ }],
    ],
  ],
};

describe("policies against expectations written per policy", () => {
  test("every policy has a table", () => {
    expect(Object.keys(TABLE).sort()).toEqual([...POLICY_BY_NAME.keys()].sort());
  });

  for (const [policy, cases] of Object.entries(TABLE))
    describe(policy, () => {
      test.each(cases)("%s", (_what, domain, config, want) => {
        const got = violations(policy, domain, config);
        expect(got).toHaveLength(want.length);
        want.forEach((w, i) => {
          expect(got[i].message).toMatch(w.message);
          if (w.feature) expect(got[i].feature).toBe(w.feature);
          expect(got[i].fix.length).toBeGreaterThan(5);
        });
      });
    });
});
