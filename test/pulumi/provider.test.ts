import * as pulumi from "@pulumi/pulumi";
import { installMocks, settle, valueOf } from "../helpers/pulumi-mocks";

const registered = installMocks();

import { KvmParavirtProvider } from "../../src/pulumi/provider";
import { renderSpec } from "../../src/render-spec";
import { validateSpecObject } from "../../src/input/load";
import { ROOT } from "../helpers/specs";

/**
 * The source-based plugin as another language calls it: the in-process
 * ComponentProvider (what `pulumi package add` runs) constructs the component
 * from plain, JSON-shaped inputs and returns its URN and outputs.
 */
describe("ComponentProvider (multi-language)", () => {
  test("construct() builds a ParavirtDomain from plain inputs, as a Python or YAML program would send them", async () => {
    const provider = new KvmParavirtProvider(ROOT); // the plugin's provider, whose construct is its component provider's
    const inputs = {
      vcpus: 2,
      irqchip: "split",
      cpu: { mode: "custom", model: "qemu64" },
      paravirt: { pvIpi: true },
      connection: "test:///default",
    };
    const result = await provider.construct("from-yaml", "kvm-paravirt:index:ParavirtDomain", inputs, {});
    await settle();
    expect(await valueOf(result.urn as pulumi.Output<string>)).toMatch(/::kvm-paravirt:index:ParavirtDomain::from-yaml$/);
    const state = result.state as Record<string, pulumi.Output<unknown>>;
    expect(Object.keys(state).sort()).toEqual([
      "diagnostics",
      "domainName",
      "domainXml",
      "features",
      "qemuArgs",
      "restartRequired",
      "xslt",
    ]);
    const cli = renderSpec(
      validateSpecObject({
        domains: [{ name: "from-yaml", vcpus: 2, irqchip: "split", cpu: { mode: "custom", model: "qemu64" }, paravirt: { pvIpi: true } }],
      }),
    ).domains[0];
    expect(await valueOf(state.domainXml)).toBe(cli.domainXml);
    expect(await valueOf(state.qemuArgs)).toEqual(cli.qemuArgs);
    const child = registered.find((r) => r.name === "from-yaml" && r.type === "kvm-paravirt:index:Domain")!;
    expect(child.inputs).toMatchObject({ name: "from-yaml", connection: "test:///default", paravirt: { pvIpi: true } });
  });

  test("construct() rejects an unknown type and reports invalid inputs", async () => {
    const provider = new KvmParavirtProvider(ROOT); // the plugin's provider, whose construct is its component provider's
    await expect(provider.construct("x", "kvm-paravirt:index:Nope", {}, {})).rejects.toThrow(/Component class not found for 'Nope'/);
    await expect(provider.construct("y", "kvm-paravirt:index:ParavirtDomain", { paravirt: { mmu: true } }, {})).rejects.toThrow(
      /\[kvm-mmu-deprecated\]/,
    );
  });
});
