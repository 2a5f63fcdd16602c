import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Resolution } from "../../src/analyze";
import { HYPERV_FEATURES, HYPERV_VALUES } from "../../src/catalog/hyperv";
import { HYPERV_RULES } from "../../src/checks/hyperv";
import type { HostProfile } from "../../src/host/profile";
import { validateSpecObject } from "../../src/input/load";
import { renderDomain } from "../../src/render-spec";
import { probeHost } from "../../src/system/probe";
import type { HypervFailure } from "../../src/resolve/hyperv";
import { describeWith } from "../helpers/env";
import { runTraced } from "../helpers/guest-cpuid";
import { hostProfile, withHostQuirk } from "../helpers/oracle";
import { RUN_TAG } from "../helpers/run-tag";
import { ROOT } from "../helpers/specs";

/**
 * Hyper-V against the real programs, at the guest's CPUID (what QEMU hands KVM with
 * KVM_SET_CPUID2, read with strace): QMP reads a flag on whether or not the guest gets it.
 *  1. This host's QEMU and KVM: each configuration's predicted outcome (starts, refused with
 *     QEMU's words, aborts) and, when it starts, whether the guest has Hyper-V leaves and which
 *     flags' bits they carry.
 *  2. QEMU's own dependency checks, run by making QEMU believe KVM has Hyper-V (an LD_PRELOAD
 *     shim, test/fixtures/hyperv-shim): every dependency rule's quoted message is what the real
 *     QEMU prints. That exercises QEMU's validation only; no guest gets anything from it.
 *  3. libvirt: the rendered XML passes its schema and libvirt turns it into the same hv-* -cpu
 *     properties as the rendered QEMU arguments (virsh domxml-to-native); started paused, a
 *     domain refuses or starts as predicted.
 */

const spec = (name: string, domain: Record<string, unknown>) => {
  const d = validateSpecObject({ domains: [{ name, ...domain }] }).domains[0];
  if (!d.spec) throw new Error(`not a valid spec: ${JSON.stringify(d.diagnostics)}`);
  return d.spec;
};
const flagsOn = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, true]));

/** What QEMU does first: VP_INDEX is refused when the vCPU is plugged, before any MSR is written. */
function expectedOutcome(r: Resolution): { outcome: "started" | "refused" | "aborted"; messages: string[] } {
  const failures: HypervFailure[] = [...r.hyperv.flags.values()].flatMap((x) => x.failures);
  const refused = failures.filter((f) => f.kind === "refused");
  if (refused.length) return { outcome: "refused", messages: refused.map((f) => f.message) };
  const aborts = failures.filter((f) => f.kind === "aborts");
  if (aborts.length) return { outcome: "aborted", messages: aborts.map((f) => f.message) };
  return { outcome: "started", messages: [] };
}

const CONFIGS: [string, Record<string, unknown>][] = [
  ...HYPERV_FEATURES.map((r): [string, Record<string, unknown>] => [`${r.qemu} alone`, { hyperv: { [r.key]: true } }]),
  [
    "the QEMU docs' Windows set",
    {
      hyperv: {
        ...flagsOn([
          "relaxed",
          "vapic",
          "time",
          "vpindex",
          "runtime",
          "synic",
          "stimer",
          "stimerDirect",
          "frequencies",
          "tlbflush",
          "ipi",
          "reset",
        ]),
        spinlocks: 8191,
      },
    },
  ],
  [
    "what starts on a KVM without Hyper-V",
    { hyperv: flagsOn(["relaxed", "crash", "reset", "runtime", "frequencies", "tlbflush", "ipi", "avic"]) },
  ],
  ["explicit offs only", { hyperv: { relaxed: false, vapic: false, vpindex: false } }],
  ["spinlocks alone", { hyperv: { spinlocks: 8191 } }],
  ["hv-no-nonarch-coresharing on, with relaxed", { hyperv: { relaxed: true, noNonarchCoresharing: "on" } }],
  ["hv-no-nonarch-coresharing auto", { hyperv: { relaxed: true, noNonarchCoresharing: "auto" } }],
  ["hidden with a vendor id (GPU passthrough)", { paravirt: { hidden: true }, hyperv: { relaxed: true, vendorId: "NV43FIX" } }],
  ["passthrough with host-passthrough", withHostQuirk({ cpu: { mode: "host-passthrough" }, hyperv: { mode: "passthrough" } })],
  ["passthrough with a named model", { hyperv: { mode: "passthrough" } }],
  ["a Windows 11 guest (the profile: nothing on a KVM without Hyper-V)", { guest: { os: "windows", version: "11" } }],
  [
    "a Windows guest with a GPU: hidden and a vendor id",
    { guest: { os: "windows" }, paravirt: { hidden: true }, hyperv: { vendorId: "NV43FIX" } },
  ],
  ["TCG: the Windows flags that start", { accel: "tcg", hyperv: flagsOn(["relaxed", "vapic", "time", "synic", "stimer"]) }],
  ["TCG: hv-vpindex", { accel: "tcg", hyperv: { vpindex: true } }],
];

describeWith(["kvm", "qemu", "strace"], "Hyper-V oracle: this host's QEMU and KVM, at the guest's CPUID", () => {
  let host: HostProfile;
  beforeAll(async () => {
    host = await hostProfile();
  });

  test("the host profile says whether KVM has Hyper-V (kvm.hyperv measured)", () => {
    expect(Array.isArray(host.kvm?.hyperv)).toBe(true);
  });

  test.each(CONFIGS)("%s", async (what, domain) => {
    const { resolution, rendered } = renderDomain(spec("kpv-hv", domain), host);
    const want = expectedOutcome(resolution);
    const run = await runTraced(rendered.qemuArgs);
    expect({ what, outcome: run.outcome }).toEqual({ what, outcome: want.outcome });
    if (want.outcome !== "started") {
      // the first line QEMU prints about it is one of the predicted ones
      const said = want.messages.filter((m) => run.stderr.includes(`qemu-system-x86_64: ${m}`));
      expect({ what, said: said.length > 0, stderr: run.stderr }).toEqual({ what, said: true, stderr: run.stderr });
      return;
    }
    if (resolution.domain.accel === "tcg") return; // no KVM_SET_CPUID2 under TCG: the recorded firmware runs showed no leaf
    const cpuid = run.cpuid!;
    expect(cpuid.hypervInterface).toBe(resolution.hyperv.leaves);
    const visible = [...resolution.hyperv.flags.values()].filter((x) => x.guestVisible && x.row.cpuid.length).map((x) => x.row.qemu);
    expect(cpuid.hypervFeatures.filter((f) => f !== "hv-no-nonarch-coresharing").sort()).toEqual(visible.sort());
    // the KVM leaves: at the base without Hyper-V leaves, gone when hidden
    const hidden = resolution.features.get("kvm")?.enabled === false;
    expect(cpuid.kvmLeavesAt).toBe(hidden ? null : resolution.hyperv.leaves ? "0x40000100" : "0x40000000");
    if (resolution.hyperv.leaves) expect(cpuid.hypervVendor).toBe(resolution.hyperv.vendor);
    // what the CLI and the provider report as the flag's state is the guest's
    for (const r of HYPERV_FEATURES.filter((x) => x.cpuid.length && rendered.features[x.qemu]))
      expect({ flag: r.qemu, on: rendered.features[r.qemu].enabled }).toEqual({ flag: r.qemu, on: visible.includes(r.qemu) });
  });
});

describeWith(["kvm", "qemu", "gcc"], "Hyper-V oracle: QEMU's own checks, with KVM made to claim Hyper-V (LD_PRELOAD shim)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-hvshim-"));
  const shim = path.join(dir, "simulated-kvm-hyperv.so");
  /** a Hyper-V host offering every flag (the shim's answers), as a measured profile says it */
  let offering: HostProfile;
  beforeAll(async () => {
    const cc = spawnSync(
      "gcc",
      ["-shared", "-fPIC", "-O2", "-o", shim, path.join(ROOT, "test/fixtures/hyperv-shim/simulated-kvm-hyperv.c"), "-ldl"],
      { encoding: "utf8" },
    );
    expect(cc.stderr).toBe("");
    expect(cc.status).toBe(0);
    const real = await hostProfile();
    offering = { ...real, kvm: { ...real.kvm!, hyperv: HYPERV_FEATURES.filter((r) => r.desc).map((r) => r.qemu) } };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const deps = HYPERV_RULES.filter((r) => /^hv-.*-needs-hv-/.test(r.code));

  test("every dependency QEMU enforces has a rule (11: kvm_hyperv_properties[].dependencies and SynIC on VP_INDEX)", () => {
    expect(deps.map((r) => r.code).sort()).toEqual(
      [
        "hv-evmcs-needs-hv-vapic",
        "hv-ipi-needs-hv-vpindex",
        "hv-stimer-direct-needs-hv-stimer",
        "hv-stimer-needs-hv-synic",
        "hv-stimer-needs-hv-time",
        "hv-syndbg-needs-hv-relaxed",
        "hv-syndbg-needs-hv-synic",
        "hv-synic-needs-hv-vpindex",
        "hv-tlbflush-direct-needs-hv-vapic",
        "hv-tlbflush-ext-needs-hv-tlbflush",
        "hv-tlbflush-needs-hv-vpindex",
      ].sort(),
    );
  });

  /** the flag, everything it needs except `missing`, and what those need in turn */
  function violating(flagQemu: string, missingQemu: string): Record<string, boolean> {
    const byQemu = new Map(HYPERV_FEATURES.map((r) => [r.qemu, r]));
    const on = new Set<string>();
    const add = (key: string) => {
      const row = HYPERV_FEATURES.find((r) => r.key === key)!;
      if (row.qemu === missingQemu || on.has(key)) return;
      on.add(key);
      for (const d of [...row.requires, ...(key === "synic" ? ["vpindex"] : [])]) add(d);
    };
    add(byQemu.get(flagQemu)!.key);
    return flagsOn([...on]);
  }

  test.each(deps.map((r) => [r.code, r] as const))("%s: the real QEMU refuses with the rule's words", async (code) => {
    const [, flag, missing] = /^(hv-.+)-needs-(hv-.+)$/.exec(code)!;
    const { resolution, rendered } = renderDomain(spec("kpv-hvdep", { hyperv: violating(flag, missing) }), offering);
    const finding = rendered.diagnostics.find((d) => d.code === code);
    expect(finding).toBeDefined();
    const quoted = /\("(Hyper-V [^"]+)"\)/.exec(finding!.message)![1];
    // QEMU prints the first failure in its own order; the resolver lists them in that order
    const first = [...resolution.hyperv.flags.values()].flatMap((x) => x.failures)[0];
    expect(first.message).toBe(quoted);
    const run = await runTraced(rendered.qemuArgs, { LD_PRELOAD: shim });
    expect(run.outcome).toBe("refused");
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`qemu-system-x86_64: ${quoted}\n`);
  });

  test("with every dependency met, no dependency message (QEMU gets past its checks; the real KVM then fails at vCPU setup)", async () => {
    const { rendered } = renderDomain(
      spec("kpv-hvdep", {
        hyperv: flagsOn(["relaxed", "vapic", "time", "vpindex", "synic", "stimer", "stimerDirect", "tlbflush", "tlbflushExt", "ipi"]),
      }),
      offering,
    );
    expect(rendered.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const run = await runTraced(rendered.qemuArgs, { LD_PRELOAD: shim });
    expect(run.stderr).not.toMatch(/requires Hyper-V|is not supported by kernel/);
  });

  test("the Windows profile on a host offering everything: QEMU takes its set (no dependency or support message)", async () => {
    const { resolution, rendered } = renderDomain(spec("kpv-hvwin", { guest: { os: "windows", version: "11" } }), offering);
    expect(resolution.hyperv.profile!.set.length).toBeGreaterThan(10);
    expect(rendered.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const run = await runTraced(rendered.qemuArgs, { LD_PRELOAD: shim });
    expect(run.stderr).not.toMatch(/requires Hyper-V|is not supported by kernel|not found/);
  });

  test("hyperv-enforce-cpuid-unsupported: QEMU cannot enable KVM_CAP_HYPERV_ENFORCE_CPUID (the real KVM refuses it) and says what the rule quotes", async () => {
    const old: HostProfile = { ...offering, kernel: "5.10.0" };
    const { rendered } = renderDomain(spec("kpv-hvdep", { hyperv: { relaxed: true, enforceCpuid: true } }), old);
    const finding = rendered.diagnostics.find((d) => d.code === "hyperv-enforce-cpuid-unsupported")!;
    const quoted = /\("([^"]+)"\)$/.exec(finding.message)![1];
    const run = await runTraced(rendered.qemuArgs, { LD_PRELOAD: shim });
    expect(run.outcome).toBe("refused");
    expect(run.stderr).toContain(`qemu-system-x86_64: ${quoted}\n`);
  });

  test("hyperv-unsupported-by-host: a flag KVM does not offer (eVMCS on a KVM without it) is refused with the rule's words", async () => {
    const noEvmcs: HostProfile = { ...offering, kvm: { ...offering.kvm!, hyperv: offering.kvm!.hyperv!.filter((f) => f !== "hv-evmcs") } };
    const { rendered } = renderDomain(spec("kpv-hvdep", { hyperv: { evmcs: true, vapic: true } }), noEvmcs);
    const finding = rendered.diagnostics.find((d) => d.code === "hyperv-unsupported-by-host")!;
    const quoted = /\("(Hyper-V [^"]+)"\)/.exec(finding.message)![1];
    expect(quoted).toBe("Hyper-V enlightened VMCS (hv-evmcs) is not supported by kernel");
    const run = await runTraced(rendered.qemuArgs, { LD_PRELOAD: shim, KPV_HV_SHIM_NO_EVMCS: "1" });
    expect(run.outcome).toBe("refused");
    expect(run.stderr).toContain(`qemu-system-x86_64: ${quoted}\n`);
  });
});

describeWith(
  ["kvm", "qemu", "libvirt", "virt-xml-validate"],
  "Hyper-V oracle: libvirt takes the XML and gives QEMU the same hv-* flags",
  () => {
    let host: HostProfile;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-hvxml-"));
    beforeAll(async () => {
      // with the libvirt version: an element newer than this libvirt goes through -global instead
      host = await probeHost({ connect: "qemu:///system" });
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** the hv-* properties of a -cpu value, as a set of "name=value" */
    const hvProps = (cpu: string) =>
      cpu
        .split(/(?<!,),(?!,)/)
        .map((p) => p.replace(/,,/g, ","))
        .filter((p) => p.startsWith("hv-"))
        .map((p) => (p.includes("=") ? p : `${p}=on`))
        .filter((p) => !p.endsWith("=off"))
        .sort();

    test.each(CONFIGS.filter(([, d]) => (d as { accel?: string }).accel !== "tcg"))("%s", (what, domain) => {
      const { rendered } = renderDomain(spec(`kpv-hvxml-${RUN_TAG}`, domain), host);
      const file = path.join(dir, "d.xml");
      fs.writeFileSync(file, rendered.domainXml);
      const valid = spawnSync("virt-xml-validate", [file, "domain"], { encoding: "utf8" });
      expect({ what, valid: valid.status, err: valid.stderr }).toEqual({ what, valid: 0, err: valid.stderr });
      const native = spawnSync("virsh", ["-c", "qemu:///system", "domxml-to-native", "qemu-argv", "--xml", file], { encoding: "utf8" });
      expect({ what, status: native.status, err: native.stderr }).toEqual({ what, status: 0, err: "" });
      // libvirt's -cpu, plus what it passes through <qemu:commandline> as -global
      const libvirtCpu = /-cpu '?([^' ]+(?: [^-][^' ]*)*)'?/.exec(native.stdout)?.[1] ?? "";
      const globals = [...native.stdout.matchAll(/-global '?x86_64-cpu\.(hv-[^' ]+)'?/g)].map((m) => m[1]);
      const ours = rendered.qemuArgs[rendered.qemuArgs.indexOf("-cpu") + 1];
      const theirs = [...hvProps(libvirtCpu), ...globals.filter((g) => !g.endsWith("=off"))].sort();
      expect({ what, hv: theirs }).toEqual({ what, hv: hvProps(ours) });
    });

    test.each([
      ["hv-relaxed alone starts (the guest gets no Hyper-V here)", { hyperv: { relaxed: true } }],
      ["hv-vpindex", { hyperv: { vpindex: true } }],
      ["hv-vapic", { hyperv: { vapic: true } }],
    ])("started paused by libvirt: %s, as predicted", (what, domain) => {
      const uuid = randomUUID();
      const { resolution, rendered } = renderDomain(spec(`kpv-hvstart-${RUN_TAG}`, domain), host);
      const want = expectedOutcome(resolution);
      const file = path.join(dir, "s.xml");
      fs.writeFileSync(file, rendered.domainXml.replace("<name>", `<uuid>${uuid}</uuid>\n  <name>`));
      const v = (...a: string[]) => spawnSync("virsh", ["-c", "qemu:///system", ...a], { encoding: "utf8", timeout: 60000 });
      try {
        expect(v("define", file).status).toBe(0);
        const start = v("start", "--paused", uuid);
        if (want.outcome === "started") expect({ what, status: start.status, err: start.stderr }).toEqual({ what, status: 0, err: "" });
        else {
          expect(start.status).not.toBe(0);
          // libvirt relays QEMU's last words (an abort: the failed MSR write before the assertion)
          expect(want.messages.some((m) => start.stderr.includes(m))).toBe(true);
        }
      } finally {
        v("destroy", uuid);
        v("undefine", uuid);
      }
      expect(v("dominfo", uuid).status).not.toBe(0);
    });

    test("the passthrough element and the mode", () => {
      const { rendered } = renderDomain(spec("kpv-hvxml", { hyperv: { mode: "passthrough" } }), host);
      expect(rendered.domainXml).toContain(`<hyperv mode="passthrough"/>`);
      expect(rendered.qemuArgs.join(" ")).toContain(`${HYPERV_VALUES.passthrough.qemu}=on`);
    });
  },
);
