import * as pulumi from "@pulumi/pulumi";
import { installMocks, settle } from "../helpers/pulumi-mocks";

const registered = installMocks({ preview: true });

import { ParavirtDomain } from "../../src/pulumi/paravirt-domain";

/** A preview where some inputs are not known yet: no crash, validation deferred, outputs unknown. */
const isKnown = (o: pulumi.Output<unknown>) => (o as unknown as { isKnown: Promise<boolean> }).isKnown;

describe("ParavirtDomain in a preview", () => {
  test("unknown inputs defer validation; the Domain is still planned", async () => {
    const vcpus = pulumi.output(pulumi.unknown as unknown as number);
    expect(await isKnown(vcpus)).toBe(false);
    const d = new ParavirtDomain("p", { vcpus, paravirt: { pvIpi: true } });
    await settle();
    expect(await isKnown(d.domainXml)).toBe(false);
    expect(await isKnown(d.features)).toBe(false);
    expect(registered.find((r) => r.name === "p" && r.type === "kvm-paravirt:index:Domain")).toBeDefined();
  });

  test("known invalid inputs still fail the preview", () => {
    expect(() => new ParavirtDomain("q", { paravirt: { hidden: true, pvIpi: true } })).toThrow(/\[pv-features-while-hidden\]/);
  });
});
