import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, settle } from "../helpers/pulumi-mocks";

const registered = installMocks({ preview: true });

import { ParavirtDomain } from "../../src/pulumi/paravirt-domain";

/** A preview where some inputs are not known yet: no crash, validation deferred, outputs unknown. */
const isKnown = (o: pulumi.Output<unknown>) => (o as unknown as { isKnown: Promise<boolean> }).isKnown;

describe("ParavirtDomain in a preview", () => {
  test("unknown inputs defer validation; the define command is still planned", async () => {
    const upstream = new command.local.Command("upstream", { create: "echo 4" });
    const vcpus = upstream.stdout.apply((s) => Number(s));
    expect(await isKnown(vcpus)).toBe(false);
    const d = new ParavirtDomain("p", { vcpus, paravirt: { pvIpi: true } });
    await settle();
    expect(await isKnown(d.domainXml)).toBe(false);
    expect(await isKnown(d.features)).toBe(false);
    const define = registered.find((r) => r.name === "p-define");
    expect(define?.type).toBe("command:local:Command");
  });

  test("known invalid inputs still fail the preview", () => {
    expect(() => new ParavirtDomain("q", { paravirt: { hidden: true, pvIpi: true } })).toThrow(/\[pv-features-while-hidden\]/);
  });
});
