import * as pulumi from "@pulumi/pulumi";
import { settle, valueOf } from "../helpers/pulumi-mocks";
import { DOMAIN_TYPE, evaluateArgs, type PlainArgs } from "../../src/pulumi/evaluate";

/**
 * Where each ParavirtDomain output comes from, under the SDK's mocks (the only mock: no Pulumi
 * engine runs here). The Domain child answers with what its provider resolved on the host,
 * marked here so that it can be told from the component's own evaluation: what the guest gets
 * (features, diagnostics) is the Domain's; the rendering is the component's.
 */

const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      if (args.type !== DOMAIN_TYPE) return { id: `${args.name}-id`, state: args.inputs };
      const ev = evaluateArgs(String(args.inputs.name ?? args.name), args.inputs as PlainArgs);
      // the host's answer: one feature resolved differently, one diagnostic of its own
      const features = { ...ev.features, kvmclock: { enabled: false, source: "host", reason: "the host said so" } };
      const diagnostics = [{ severity: "info", code: "from-the-host", message: "resolved on the host", path: "" }];
      return { id: "uuid-1", state: { ...args.inputs, uuid: "uuid-1", state: "running", restartRequired: true, features, diagnostics } };
    },
    call: (args) => args.inputs,
  },
  "kvm-paravirt-test",
  "test",
  false,
);

import { ParavirtDomain, PARAVIRT_DOMAIN_TYPE } from "../../src/pulumi/paravirt-domain";

/** What the component registered as its outputs (registerOutputs), resolved. */
const registeredOutputs = jest.spyOn(
  pulumi.ComponentResource.prototype as unknown as { registerOutputs: (o: unknown) => void },
  "registerOutputs",
);
async function outputsOf(c: ParavirtDomain): Promise<Record<string, unknown>> {
  const call = registeredOutputs.mock.calls.find((_args, i) => registeredOutputs.mock.contexts[i] === c)!;
  const outs = call[0] as Record<string, pulumi.Input<unknown>>;
  return Object.fromEntries(await Promise.all(Object.entries(outs).map(async ([k, v]) => [k, await valueOf(pulumi.output(v))])));
}

describe("ParavirtDomain outputs", () => {
  test("a Windows guest: the hyperv map reaches the Domain child, and its features carry the hv-* flags as resolved there", async () => {
    registered.length = 0;
    const c = new ParavirtDomain("win", { guest: { os: "windows", version: "11" }, hyperv: { vendorId: "KVMKVMKVM" } });
    const features = (await valueOf(c.features))!;
    expect(features["hv-relaxed"]).toMatchObject({ source: "os-profile" });
    await settle();
    const child = registered.find((r) => r.type === DOMAIN_TYPE)!;
    expect(child.inputs).toMatchObject({ guest: { os: "windows", version: "11" }, hyperv: { vendorId: "KVMKVMKVM" } });
    expect(await valueOf(c.qemuArgs)).toEqual(expect.arrayContaining([expect.stringMatching(/hv-relaxed=on.*hv-vendor-id=KVMKVMKVM/)]));
  });

  test("deployed: features, diagnostics and restartRequired are the Domain's; the name, XML and QEMU args the component's", async () => {
    const c = new ParavirtDomain("dep", { paravirt: { pvIpi: false } });
    const local = evaluateArgs("dep", { paravirt: { pvIpi: false } });
    expect((await valueOf(c.features))!.kvmclock).toEqual({ enabled: false, source: "host", reason: "the host said so" });
    expect(await valueOf(c.diagnostics)).toEqual([{ severity: "info", code: "from-the-host", message: "resolved on the host", path: "" }]);
    expect(await valueOf(c.restartRequired)).toBe(true);
    expect(await valueOf(c.domainName)).toBe("dep");
    expect(await valueOf(c.domainXml)).toBe(local.domainXml);
    expect(await valueOf(c.qemuArgs)).toEqual(local.qemuArgs);
    expect(await valueOf(c.xslt)).toBe(local.xslt);
    // the registered outputs say the same, without the stylesheet (rendered on first use only)
    const outs = await outputsOf(c);
    expect(Object.keys(outs).sort()).toEqual(["diagnostics", "domainName", "domainXml", "features", "qemuArgs", "restartRequired"]);
    expect((outs.features as Record<string, { source: string }>).kvmclock.source).toBe("host");
    expect(outs.diagnostics).toEqual([expect.objectContaining({ code: "from-the-host" })]);
    expect(outs.domainName).toBe("dep");
    expect(outs.domainXml).toBe(local.domainXml);
    expect(outs.qemuArgs).toEqual(local.qemuArgs);
    expect(outs.restartRequired).toBe(true);
  });

  test("deploy: false: every output is the component's own evaluation; nothing needs a restart", async () => {
    const c = new ParavirtDomain("local", { deploy: false, paravirt: { pvIpi: false } });
    const local = evaluateArgs("local", { paravirt: { pvIpi: false } });
    expect(await valueOf(c.features)).toEqual(local.features);
    expect(await valueOf(c.diagnostics)).toEqual(local.diagnostics);
    expect(await valueOf(c.restartRequired)).toBe(false);
    const outs = await outputsOf(c);
    expect(outs.features).toEqual(local.features);
    expect(outs.diagnostics).toEqual(local.diagnostics);
    expect(outs.restartRequired).toBe(false);
  });

  test("the output properties are enumerable, and each is one Output however often it is read", () => {
    const c = new ParavirtDomain("enum", { deploy: false });
    expect(Object.keys(c)).toEqual(expect.arrayContaining(["domainName", "domainXml", "xslt", "qemuArgs", "features", "diagnostics"]));
    expect(c.domainXml).toBe(c.domainXml);
  });

  test("without a connection the component records none (its Domain gets qemu:///system)", async () => {
    new ParavirtDomain("noconn", {});
    await settle();
    const comp = registered.find((r) => r.type === PARAVIRT_DOMAIN_TYPE && r.name === "noconn")!;
    expect(comp.inputs).not.toHaveProperty("connection");
    expect(registered.find((r) => r.type === DOMAIN_TYPE && r.name === "noconn")!.inputs.connection).toBe("qemu:///system");
  });

  test("a null argument is a plain one (checked now); a Promise is not (checked when it resolves)", async () => {
    expect(() => new ParavirtDomain("nul", { vcpus: null, paravirt: { pvIpi: true, hidden: true } } as never)).toThrow(
      /pv-features-while-hidden/,
    );
    const later = new ParavirtDomain("prom", { deploy: false, vcpus: Promise.resolve(3) });
    expect(await valueOf(later.domainXml)).toMatch(/<vcpu[^>]*>3<\/vcpu>/);
  });

  test("errors: a ResourceError without a stack, every error on its own line as path: [code] message", () => {
    let err: unknown;
    try {
      new ParavirtDomain("errs", { vcpus: 0, memoryMiB: 1 });
    } catch (e) {
      err = e;
    }
    expect(pulumi.ResourceError.isInstance(err)).toBe(true);
    expect((err as pulumi.ResourceError).hideStack).toBe(true);
    expect((err as Error).message).toMatch(
      /^invalid ParavirtDomain arguments:\n {2}vcpus: \[spec-invalid-value\] .+\n {2}memoryMiB: \[spec-invalid-value\] .+$/,
    );
    let deployErr: unknown;
    try {
      new ParavirtDomain("dep-out", { deploy: pulumi.output(true) as never });
    } catch (e) {
      deployErr = e;
    }
    expect((deployErr as pulumi.ResourceError).hideStack).toBe(true);
    expect((deployErr as Error).message).toBe(
      "invalid ParavirtDomain arguments:\n  deploy: [spec-invalid-value] deploy must be a plain true or false (it decides whether the domain is defined at all, so it cannot wait for an Output)",
    );
  });

  test("only warnings are logged (not notes), each as path: [code] message on the component", async () => {
    const warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const c = new ParavirtDomain("warns", { deploy: false, paravirt: { pvTlbFlush: true } });
    const local = evaluateArgs("warns", { paravirt: { pvTlbFlush: true } });
    const warnings = local.diagnostics.filter((d) => d.severity === "warning");
    expect(local.diagnostics.some((d) => d.severity === "info")).toBe(true);
    expect(warn.mock.calls).toEqual(warnings.map((w) => [`${w.path}: [${w.code}] ${w.message}`, c]));
    warn.mockRestore();
  });
});
