import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import YAML from "yaml";
import type { ResourceValidationArgs } from "@pulumi/policy";
import { policies } from "../../policy/policies";
import { parsePolicyText } from "../../src/policy/config";
import { POLICY_BY_NAME } from "../../src/policy/policies";
import { PARAVIRT_DOMAIN_TYPE } from "../../src/pulumi/paravirt-domain";
import { mergeDefaults } from "../../src/input/load";
import { exampleSpecs, ROOT } from "../helpers/specs";

/**
 * The CrossGuard pack, tested the way pulumi-policy-aws does: hand-built
 * ResourceValidationArgs, each policy's validateResource called directly (a
 * PolicyPack is never constructed here: its constructor starts a server).
 */
const PROFILE = path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json");
const POLICY_FILES = fs.readdirSync(path.join(ROOT, "examples/policy")).map((f) => path.join(ROOT, "examples/policy", f));

function validationArgs(
  type: string,
  name: string,
  props: Record<string, unknown>,
  config: Record<string, unknown>,
): ResourceValidationArgs {
  return {
    type,
    name,
    urn: `urn:pulumi:test::kvm-paravirt::${type}::${name}`,
    props,
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    } as never,
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string) => {
      throw new Error(`not applicable: ${reason}`);
    },
  } as ResourceValidationArgs;
}

function runPack(type: string, name: string, props: Record<string, unknown>, settings: ReturnType<typeof parsePolicyText>): string[] {
  const out: string[] = [];
  for (const p of policies) {
    const s = settings.get(p.name)!;
    if (s.enforcementLevel === "disabled") continue; // Pulumi does not run disabled policies
    const r = (p.validateResource as (a: ResourceValidationArgs, report: (m: string) => void) => void)(
      validationArgs(type, name, props, { enforcementLevel: s.enforcementLevel, ...s.config }),
      (m) => out.push(`${s.enforcementLevel} ${m}`),
    );
    expect(r).toBeUndefined();
  }
  return out;
}

describe("policy pack", () => {
  test("one CrossGuard policy per engine policy, each with a configSchema Ajv accepts", () => {
    expect(policies.map((p) => p.name)).toEqual([
      "required-features",
      "forbidden-features",
      "no-deprecated",
      "dependencies",
      "hidden-signature",
      "dedicated-vcpus",
      "no-custom-argv",
      "guest-kernel-minimum",
      "explicit-pinning",
      "windows-hyperv-baseline",
      "no-hyperv-passthrough",
    ]);
    const ajv = new Ajv({ strict: false });
    for (const p of policies) expect(() => ajv.compile({ type: "object", ...p.configSchema })).not.toThrow();
  });

  test.each([
    ["required-features", { features: ["kvmclock", "kvm-pv-ipi"] }, true],
    ["required-features", { features: ["kvm-pv-ipii"] }, false],
    ["required-features", { features: "kvmclock" }, false],
    ["forbidden-features", { features: ["kvm-asyncpf"] }, true],
    ["windows-hyperv-baseline", { flags: ["hv-relaxed", "hv-stimer"] }, true],
    ["windows-hyperv-baseline", { flags: ["kvmclock"] }, false],
    ["windows-hyperv-baseline", { flags: ["hv-relaxed", "hv-relaxed"] }, false],
    ["dependencies", { warnings: ["pv-needs-steal-time"] }, true],
    ["dependencies", { warnings: ["msi-ext-dest-id-needs-split-irqchip"] }, false], // an error code: always enforced, not a choice
    ["hidden-signature", { allow: true }, true],
    ["hidden-signature", { allow: "yes" }, false],
    ["explicit-pinning", { except: ["kvm-mmu"] }, true],
    ["explicit-pinning", { except: ["kvm-mmu", "kvm-mmu"] }, false], // uniqueItems survives the derivation from zod
    ["hidden-signature", {}, true],
  ])("configSchema of %s: %j valid=%s, as the zod config it is derived from says", (name, config, valid) => {
    const p = policies.find((x) => x.name === name)!;
    const validate = new Ajv({ strict: false }).compile({ type: "object", ...p.configSchema });
    expect(validate(config)).toBe(valid);
    expect(POLICY_BY_NAME.get(name)!.config.safeParse(config).success).toBe(valid);
  });

  test("the pack's configSchema is the engine's derived one", () => {
    for (const p of policies)
      expect({ n: p.name, s: p.configSchema }).toEqual({
        n: p.name,
        s: { properties: POLICY_BY_NAME.get(p.name)!.configSchema.properties },
      });
  });

  test("only ParavirtDomain is checked", () => {
    const settings = parsePolicyText(JSON.stringify({ all: "mandatory", "hidden-signature": { allow: false } }));
    expect(runPack("command:local:Command", "x", { paravirt: { hidden: true } }, settings)).toEqual([]);
    expect(
      runPack(PARAVIRT_DOMAIN_TYPE, "x", { paravirt: { hidden: true } }, settings).some((m) =>
        /\[hidden-signature\] x: the KVM signature is hidden/.test(m),
      ),
    ).toBe(true);
  });

  const cases = exampleSpecs().flatMap((spec) =>
    POLICY_FILES.map((pol) => [`${path.basename(spec)} with ${path.basename(pol)}`, spec, pol] as const),
  );
  // how many violations each case had: a well-configured example has none, but the examples together must have some
  const seen: number[] = [];
  afterAll(() => expect(seen.filter((n) => n > 0).length).toBeGreaterThan(cases.length / 2));

  test.each(cases)("parity: %s gives the same violations in the pack and in `kvm-paravirt check`", (_n, spec, pol) => {
    const cli = spawnSync(
      process.execPath,
      [path.join(ROOT, "bin/kvm-paravirt.js"), "check", spec, "--policy", pol, "--host", PROFILE, "--json"],
      { encoding: "utf8" },
    );
    const report = JSON.parse(cli.stdout) as {
      violations: { enforcementLevel: string; policy: string; domain: string; message: string; fix: string }[];
    };
    const fromCli = report.violations.map((v) => `${v.enforcementLevel} [${v.policy}] ${v.domain}: ${v.message}. Fix: ${v.fix}`).sort();
    const settings = parsePolicyText(fs.readFileSync(pol, "utf8"), pol);
    const doc = YAML.parse(fs.readFileSync(spec, "utf8")) as { defaults?: Record<string, unknown>; domains: Record<string, unknown>[] };
    const hostProfile = fs.readFileSync(PROFILE, "utf8");
    const fromPack = doc.domains
      .flatMap((raw) => {
        const d = mergeDefaults(doc.defaults ?? {}, raw);
        return runPack(PARAVIRT_DOMAIN_TYPE, String(d.name), { ...d, hostProfile }, settings);
      })
      .sort();
    seen.push(fromCli.length);
    expect(report.violations).toBeInstanceOf(Array);
    expect(fromPack).toEqual(fromCli);
    expect(cli.status).toBe(report.violations.some((v) => v.enforcementLevel === "mandatory") ? 1 : 0);
  });
});
