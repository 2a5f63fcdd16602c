import { FEATURES } from "../../src/catalog/features";
import { checkAll, checkPolicy, POLICIES, POLICY_BY_NAME, violationText, type Enforcement } from "../../src/policy/policies";
import { parsePolicyText } from "../../src/policy/config";
import { resolveDomain } from "../../src/analyze";
import { DEBIAN12, domainSpec } from "../helpers/specs";

/** Each policy with a passing and a violating domain; policies see effective features, not what was typed. */

function resolve(domain: Record<string, unknown>) {
  return resolveDomain(domainSpec({ name: "vm", ...domain }), DEBIAN12);
}
function run(policy: string, domain: Record<string, unknown>, config: Record<string, unknown> = {}, level: Enforcement = "mandatory") {
  return checkPolicy(POLICY_BY_NAME.get(policy)!, resolve(domain), { enforcementLevel: level, config });
}

describe("policies", () => {
  test.each([
    // policy, config, passing domain, violating domain, expected feature of the violation
    [
      "required-features",
      { features: ["kvm-pv-ipi", "kvmclock"] },
      { paravirt: { pvIpi: true } },
      { paravirt: { pvIpi: false } },
      "kvm-pv-ipi",
    ],
    [
      "required-features",
      { features: ["kvm-pv-unhalt"] },
      { cpu: { mode: "host-passthrough" } },
      { cpu: { mode: "host-passthrough" }, paravirt: { hidden: true } },
      "kvm-pv-unhalt",
    ],
    [
      "forbidden-features",
      { features: ["kvmclock", "kvm-asyncpf"] },
      { paravirt: { kvmclock: false, asyncpf: false } },
      { paravirt: { kvmclock: false } },
      "kvm-asyncpf",
    ],
    ["no-deprecated", {}, { paravirt: { asyncpf: true, asyncpfInt: true } }, { paravirt: { mmu: true } }, "kvm-mmu"],
    ["no-deprecated", {}, {}, { paravirt: { asyncpf: true } }, "kvm-asyncpf"],
    ["dependencies", {}, { irqchip: "split", paravirt: { msiExtDestId: true } }, { paravirt: { msiExtDestId: true } }, undefined],
    ["hidden-signature", {}, { paravirt: { hidden: false } }, { paravirt: { hidden: true } }, "kvm"],
    [
      "dedicated-vcpus",
      {},
      { dedicatedVcpus: true, paravirt: { hintDedicated: true } },
      { paravirt: { hintDedicated: true } },
      "kvm-hint-dedicated",
    ],
    ["dedicated-vcpus", {}, {}, { dedicatedVcpus: true }, "kvm-hint-dedicated"],
    ["no-custom-argv", {}, { paravirt: { pvIpi: false, pvUnhalt: true } }, { paravirt: { pvTlbFlush: true } }, undefined],
    [
      "guest-kernel-minimum",
      {},
      { guest: { kernel: "6.1" }, paravirt: { pvIpi: true } },
      { guest: { kernel: "4.14" }, paravirt: { pvIpi: true } },
      "kvm-pv-ipi",
    ],
  ])("%s %j", (policy, config, passing, violating, feature) => {
    expect(run(policy as string, passing as Record<string, unknown>, config as Record<string, unknown>)).toEqual([]);
    const v = run(policy as string, violating as Record<string, unknown>, config as Record<string, unknown>);
    expect(v.length).toBeGreaterThan(0);
    expect(v[0]).toMatchObject({ policy, enforcementLevel: "mandatory", domain: "vm", ...(feature ? { feature } : {}) });
    expect(v[0].fix.length).toBeGreaterThan(5);
  });

  test("dependencies enforces chosen warnings with the resolver's codes", () => {
    const d = { paravirt: { kvmclock: false } };
    expect(run("dependencies", d)).toEqual([]);
    expect(run("dependencies", d, { warnings: ["kvmclock-stable-bit-without-kvmclock"] })[0].message).toMatch(
      /^\[kvmclock-stable-bit-without-kvmclock\] paravirt.kvmclockStableBit/,
    );
  });

  test("hidden-signature can be allowed", () => {
    expect(run("hidden-signature", { paravirt: { hidden: true } }, { allow: true })).toEqual([]);
  });

  test("explicit-pinning wants every PV property the host's QEMU has stated, except the listed ones", () => {
    const v = run("explicit-pinning", { paravirt: { pvIpi: true } });
    expect(v).toHaveLength(16); // 17 properties on QEMU 7.2, one stated
    const all = Object.fromEntries(
      [
        "kvmclock",
        "nopiodelay",
        "mmu",
        "asyncpf",
        "stealTime",
        "pvEoi",
        "pvUnhalt",
        "pvTlbFlush",
        "pvIpi",
        "pollControl",
        "pvSchedYield",
        "asyncpfInt",
        "msiExtDestId",
        "kvmclockStableBit",
        "hintDedicated",
        "pvEnforceCpuid",
      ].map((k) => [k, false]),
    );
    expect(run("explicit-pinning", { paravirt: all }, { except: ["kvm"] })).toEqual([]);
  });

  test("disabled policies report nothing; checkAll applies the file's levels", () => {
    expect(run("hidden-signature", { paravirt: { hidden: true } }, {}, "disabled")).toEqual([]);
    const settings = parsePolicyText(JSON.stringify({ all: "advisory", "hidden-signature": "mandatory" }));
    const v = checkAll(resolve({ paravirt: { hidden: true } }), settings);
    expect(v.find((x) => x.policy === "hidden-signature")?.enforcementLevel).toBe("mandatory");
    expect(v.filter((x) => x.policy !== "hidden-signature").every((x) => x.enforcementLevel === "advisory")).toBe(true);
  });

  test("every policy has a description, a default level and a config schema", () => {
    for (const p of POLICIES)
      expect({
        n: p.name,
        d: p.description.length > 10,
        l: ["advisory", "mandatory", "disabled"].includes(p.enforcementLevel),
        s: typeof p.configSchema.properties,
      }).toEqual({ n: p.name, d: true, l: true, s: "object" });
  });

  test.each([
    ["unknown policy", '{"hidden-signatur": "mandatory"}', /unknown policy "hidden-signatur"; did you mean hidden-signature\?/],
    [
      "bad level",
      '{"no-deprecated": "sometimes"}',
      /no-deprecated.enforcementLevel: must be equal to one of the allowed values \(advisory, mandatory, disabled\)/,
    ],
    [
      "unknown feature",
      '{"required-features": {"features": ["kvm-pv-ipii"]}}',
      /required-features\.features\.0: must be equal to one of the allowed values/,
    ],
    [
      "unknown config key",
      '{"hidden-signature": {"allowed": true}}',
      /p\.json: hidden-signature: unknown property "allowed"; did you mean allow\? Allowed: enforcementLevel, allow$/,
    ],
    [
      "config for a policy without any",
      '{"no-deprecated": {"features": []}}',
      /p\.json: no-deprecated: unknown property "features" Allowed: enforcementLevel$/,
    ],
    [
      "a prototype key in a config",
      '{"hidden-signature": {"__proto__": {"allow": true}}}',
      /p\.json: hidden-signature: unknown property "__proto__" Allowed: enforcementLevel, allow/,
    ],
    ["bad level with a hint", '{"no-deprecated": "mandatroy"}', /got "mandatroy"; did you mean mandatory\?/],
    [
      "unknown feature with a hint",
      '{"required-features": {"features": ["kvmclock", "kvm-pv-ipii"]}}',
      /p\.json: required-features\.features\.1: must be equal to one of the allowed values \(kvmclock, .*kvm-pv-ipi,.*\), got "kvm-pv-ipii"; did you mean kvm-pv-ipi\?/,
    ],
    [
      "unknown warning code",
      '{"dependencies": {"warnings": ["msi-ext-dest-id-needs-split-irqchip"]}}',
      /p\.json: dependencies\.warnings\.0: must be equal to one of the allowed values \(.*pv-needs-steal-time.*\)/,
    ],
    [
      "a duplicate feature",
      '{"explicit-pinning": {"except": ["kvm-mmu", "kvm-mmu"]}}',
      /p\.json: explicit-pinning\.except: must not contain duplicates \("kvm-mmu" is listed twice\)/,
    ],
    [
      "a feature that is not a list",
      '{"required-features": {"features": "kvmclock"}}',
      /p\.json: required-features\.features: must be a list, got "kvmclock"/,
    ],
    ["a flag that is not a boolean", "hidden-signature:\n  allow: yes\n", /p\.json: hidden-signature\.allow: must be a boolean, got "yes"/],
    [
      "an empty setting",
      "no-deprecated:\n",
      /p\.json: no-deprecated: must be an enforcement level \(advisory, mandatory, disabled\) or a mapping of enforcementLevel, got null/,
    ],
    ["bad all", '{"all": "strict"}', /p\.json: all: must be one of advisory, mandatory, disabled, got "strict"/],
    ["not a mapping", "[1, 2]", /must be a mapping/],
  ])("policy files: %s is rejected with a clear message", (_w, text, message) => {
    expect(() => parsePolicyText(text, "p.json")).toThrow(message);
  });

  test("every wrong key is reported, one line each", () => {
    expect(() => parsePolicyText('{"hidden-signature": {"allowed": true, "level": "mandatory"}}', "p.json")).toThrow(
      /unknown property "allowed".*\np\.json: hidden-signature: unknown property "level"/,
    );
  });

  test.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"])(
    "policy files: a policy named %s is an unknown policy",
    (name) => {
      const text = `{${JSON.stringify(name)}: "mandatory"}`;
      expect(() => parsePolicyText(text, "p.json")).toThrow(new RegExp(`p\\.json: unknown policy "${name}" Policies: required-features,`));
      expect(() => parsePolicyText(`${name}: {all: mandatory}\n`, "p.yaml")).toThrow(`p.yaml: unknown policy "${name}"`);
    },
  );

  test("a __proto__ entry cannot smuggle in an all: level", () => {
    expect(() => parsePolicyText('{"__proto__": {"all": "disabled"}}', "p.json")).toThrow(/unknown policy "__proto__"/);
    const settings = parsePolicyText('{"hidden-signature": "advisory"}');
    expect([...settings.keys()]).toEqual(POLICIES.map((p) => p.name));
    expect(settings.get("no-deprecated")?.enforcementLevel).toBe("advisory");
    expect(settings.get("hidden-signature")).toEqual({ enforcementLevel: "advisory", config: {} });
  });

  test("a policy given as a config without enforcementLevel takes the file's all: level, not its own default", () => {
    const settings = parsePolicyText("all: advisory\nrequired-features: {features: [kvm-pv-ipi]}\n", "p.yaml");
    expect(settings.get("required-features")).toEqual({ enforcementLevel: "advisory", config: { features: ["kvm-pv-ipi"] } });
    // required-features is mandatory by default: the violation is advisory only because of all:
    expect(POLICY_BY_NAME.get("required-features")!.enforcementLevel).toBe("mandatory");
    const v = checkAll(resolve({ paravirt: { pvIpi: false } }), settings).filter((x) => x.policy === "required-features");
    expect(v.map((x) => [x.feature, x.enforcementLevel])).toEqual([["kvm-pv-ipi", "advisory"]]);
    // its own enforcementLevel still wins over all:
    const own = parsePolicyText("all: advisory\nrequired-features: {enforcementLevel: disabled, features: [kvm-pv-ipi]}\n");
    expect(own.get("required-features")?.enforcementLevel).toBe("disabled");
  });

  test("a valid setting keeps its config and level", () => {
    const settings = parsePolicyText(
      "required-features:\n  enforcementLevel: advisory\n  features: [kvmclock, kvm-pv-ipi]\nexplicit-pinning: {except: [kvm-mmu]}\n",
    );
    expect(settings.get("required-features")).toEqual({ enforcementLevel: "advisory", config: { features: ["kvmclock", "kvm-pv-ipi"] } });
    expect(settings.get("explicit-pinning")).toEqual({ enforcementLevel: "advisory", config: { except: ["kvm-mmu"] } });
  });

  test("each policy's configSchema is derived from its zod config: same properties, plain JSON schema", () => {
    for (const p of POLICIES) {
      expect({ n: p.name, keys: Object.keys(p.configSchema.properties) }).toEqual({ n: p.name, keys: Object.keys(p.config.shape) });
      const text = JSON.stringify(p.configSchema);
      expect({ n: p.name, schema: /"\$schema"|"additionalProperties"|"\$ref"|"\$defs"/.test(text) }).toEqual({ n: p.name, schema: false });
    }
    expect(POLICY_BY_NAME.get("required-features")!.configSchema.properties.features).toEqual({
      type: "array",
      items: { type: "string", enum: FEATURES.map((f) => f.qemu) },
      uniqueItems: true,
      description: "QEMU names of the features that must be on",
    });
    expect(POLICY_BY_NAME.get("hidden-signature")!.configSchema.properties).toEqual({
      allow: { type: "boolean", description: "allow hidden: true" },
    });
  });
});

describe("policy files: what a bad one is told", () => {
  const bad = (text: string) => {
    try {
      parsePolicyText(text, "p.yaml");
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error("accepted");
  };

  test("not YAML, not a mapping, a bad `all`", () => {
    expect(bad("a: [")).toMatch(/^p\.yaml is not valid YAML or JSON: \S/);
    expect(bad("- a\n- b\n")).toBe("p.yaml must be a mapping of policy names to settings");
    expect(bad("42\n")).toBe("p.yaml must be a mapping of policy names to settings");
    expect(bad("all: sometimes\n")).toBe('p.yaml: all: must be one of advisory, mandatory, disabled, got "sometimes"');
    expect(bad("all: [mandatory]\n")).toBe("p.yaml: all: must be one of advisory, mandatory, disabled, got a list");
    expect(bad("all: {x: 1}\n")).toBe("p.yaml: all: must be one of advisory, mandatory, disabled, got a mapping");
    expect(bad("all:\n")).toBe("p.yaml: all: must be one of advisory, mandatory, disabled, got null");
  });

  test("a file without a name is called `policy`; a key given twice is refused, not last-wins", () => {
    expect(() => parsePolicyText("a: [")).toThrow(/^policy is not valid YAML or JSON: /);
    expect(() => parsePolicyText("hidden-signature: advisory\nhidden-signature: disabled\n", "p.yaml")).toThrow(
      /^p\.yaml is not valid YAML or JSON: Map keys must be unique/,
    );
  });

  test("an empty file or an empty document is every policy at its default level", () => {
    for (const text of ["", "# nothing\n", "~\n"]) {
      const settings = parsePolicyText(text, "p.yaml");
      expect([...settings.values()].every((s) => Object.keys(s.config).length === 0)).toBe(true);
      expect(settings.size).toBeGreaterThan(3);
    }
  });

  test("a policy's setting of the wrong type or value, with a hint", () => {
    expect(bad("hidden-signature: 3\n")).toMatch(
      /^p\.yaml: hidden-signature: must be an enforcement level \(advisory, mandatory, disabled\) or a mapping of enforcementLevel, allow, got 3$/,
    );
    expect(bad("hidden-signature: [1]\n")).toMatch(/^p\.yaml: hidden-signature: must be an enforcement level .*, got a list$/);
    expect(bad("hidden-signature: mandatroy\n")).toBe(
      'p.yaml: hidden-signature.enforcementLevel: must be equal to one of the allowed values (advisory, mandatory, disabled), got "mandatroy"; did you mean mandatory?',
    );
    expect(bad("hidden-signature: {enforcementLevel: 7}\n")).toMatch(
      /^p\.yaml: hidden-signature\.enforcementLevel: must be equal to one of the allowed values \(.*\), got 7$/,
    );
    expect(bad("hidden-signature: {allow: 1}\n")).toBe("p.yaml: hidden-signature.allow: must be a boolean, got 1");
    expect(bad("hidden-signature: {allow: {}}\n")).toBe("p.yaml: hidden-signature.allow: must be a boolean, got a mapping");
  });
});

test("a violation's text, as the pack and `check` both print it", () => {
  expect(
    violationText({ policy: "hidden-signature", domain: "web-1", message: "the KVM signature is hidden", fix: "remove paravirt.hidden" }),
  ).toBe("[hidden-signature] web-1: the KVM signature is hidden. Fix: remove paravirt.hidden");
});
