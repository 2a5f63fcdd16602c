import { evaluateArgs } from "../../src/pulumi/evaluate";
import { DEBIAN12 } from "../helpers/specs";

/**
 * evaluateArgs: the pure evaluation behind the ParavirtDomain component, the Domain
 * resource's check and the policy pack (arguments -> spec domain -> resolve -> render).
 */

const PROFILE = JSON.stringify(DEBIAN12);
const errors = (ev: ReturnType<typeof evaluateArgs>) => ev.diagnostics.filter((d) => d.severity === "error");

describe("evaluateArgs", () => {
  test("a valid domain: named by the resource unless args.name says; resolved, rendered, features for every PV property", () => {
    const ev = evaluateArgs("res", { vcpus: 2, hostProfile: PROFILE });
    expect(ev.name).toBe("res");
    expect(ev.resolution).not.toBeNull();
    expect(ev.domainXml).toContain("<name>res</name>");
    expect(ev.qemuArgs).toContain("-smp");
    expect(ev.features.kvmclock.enabled).toBe(true);
    expect(evaluateArgs("res", { name: "vm-a" }).name).toBe("vm-a");
  });

  test("null arguments count as not given (Pulumi sends null for an unset optional input)", () => {
    const ev = evaluateArgs("res", { vcpus: null, cpu: null, paravirt: null, connection: null, deploy: null, hostProfile: null } as never);
    expect(errors(ev)).toEqual([]);
    expect(ev.domainXml).toMatch(/<vcpu[^>]*>1<\/vcpu>/);
  });

  test("diagnostic paths are relative to the arguments (no domains[0] prefix)", () => {
    const ev = evaluateArgs("res", { vcpus: 0, paravirt: { hidden: true, pvIpi: true } });
    expect(ev.diagnostics.map((d) => d.path)).toContain("vcpus");
    expect(ev.diagnostics.every((d) => !d.path.startsWith("domains"))).toBe(true);
  });

  test("the error shape: nothing rendered, every diagnostic kept", () => {
    const ev = evaluateArgs("res", { name: "vm-b", vcpus: 0 });
    expect(ev).toEqual({
      name: "vm-b",
      resolution: null,
      domainXml: "",
      xslt: "",
      qemuArgs: [],
      features: {},
      diagnostics: [expect.objectContaining({ severity: "error", code: "spec-invalid-value", path: "vcpus" })],
    });
  });

  test("a resolver error also renders nothing", () => {
    const ev = evaluateArgs("res", { accel: "tcg", paravirt: { pvIpi: true } });
    expect(errors(ev).map((d) => d.code)).toEqual(["pv-features-under-tcg"]);
    // the rendering still ran: the resolver's errors are diagnostics of a rendered domain
    expect(ev.resolution).not.toBeNull();
  });

  test.each([
    ["not JSON", "{", /^hostProfile is not valid JSON \(.+\); pass the output of kvm-paravirt probe --json$/, "hostProfile"],
    ["a field out of the schema", JSON.stringify({ ...DEBIAN12, qemu: "seven" }), /^hostProfile\.qemu: /, "hostProfile.qemu"],
  ])("hostProfile %s: an error host-profile-invalid at its path; nothing rendered", (_what, text, message, path) => {
    for (let i = 0; i < 2; i++) {
      // the second time from the parsed-profile memo: the same answer
      const ev = evaluateArgs("res", { hostProfile: text });
      expect(errors(ev)).toEqual([{ severity: "error", code: "host-profile-invalid", message: expect.stringMatching(message), path }]);
      expect(ev.resolution).toBeNull();
    }
  });

  test("hostProfile wins over the facts read over the connection", () => {
    const onConnection = { ...DEBIAN12, qemu: "6.2.0", machines: DEBIAN12.machines };
    expect(evaluateArgs("res", {}, onConnection).resolution!.host.qemu).toBe("6.2.0");
    expect(evaluateArgs("res", { hostProfile: PROFILE }, onConnection).resolution!.host.qemu).toBe(DEBIAN12.qemu);
    // more profiles than the memo keeps: each still parsed right
    for (let i = 0; i < 10; i++) {
      const p = JSON.stringify({ ...DEBIAN12, description: `profile ${i}` });
      expect(evaluateArgs("res", { hostProfile: p }).resolution!.host.description).toBe(`profile ${i}`);
    }
  });

  test.each([
    ["", '""'],
    ["qemu+tcp://admin:hunter2@kvm1/system\n", '"qemu+tcp://admin:***@kvm1/system\\n"'],
    [5, "number"],
  ])("connection %j: an error naming what a URI must be and what was given", (connection, shown) => {
    const ev = evaluateArgs("res", { connection } as never);
    const [e] = errors(ev);
    expect(e).toMatchObject({ code: "spec-invalid-value", path: "connection" });
    expect(e.message).toMatch(/^connection must be .+, not /);
    expect(e.message.endsWith(`, not ${shown}`)).toBe(true);
    expect(e.message).not.toContain("hunter2");
    expect(ev.resolution).toBeNull();
  });

  test("a valid connection is no error", () => {
    expect(errors(evaluateArgs("res", { connection: "qemu+ssh://root@kvm1/system" }))).toEqual([]);
  });

  test.each([["yes"], [1], [{}]])("deploy %j: an error (it must be a plain boolean)", (deploy) => {
    const ev = evaluateArgs("res", { deploy } as never);
    expect(errors(ev)).toEqual([
      {
        severity: "error",
        code: "spec-invalid-value",
        message: "deploy must be a plain true or false (it decides whether the domain is defined at all, so it cannot wait for an Output)",
        path: "deploy",
      },
    ]);
  });

  test.each([[true], [false]])("deploy %j is no error", (deploy) => {
    expect(errors(evaluateArgs("res", { deploy }))).toEqual([]);
  });

  test("xslt: an enumerable property, rendered on first read, the same afterwards", () => {
    const ev = evaluateArgs("res", { paravirt: { pvIpi: false } });
    expect(Object.keys(ev)).toContain("xslt");
    const first = ev.xslt;
    expect(first).toMatch(/^<\?xml|<xsl:stylesheet/);
    expect(ev.xslt).toBe(first);
    expect({ ...ev }.xslt).toBe(first);
  });
});
