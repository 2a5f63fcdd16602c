import * as pulumi from "@pulumi/pulumi";
import { installMocks, settle, valueOf } from "../helpers/pulumi-mocks";

const registered = installMocks();

import { ParavirtDomain, PARAVIRT_DOMAIN_TYPE } from "../../src/pulumi/paravirt-domain";
import { DOMAIN_TYPE } from "../../src/pulumi/evaluate";
import { diffDomain } from "../../src/pulumi/domain-provider";
import { renderSpec } from "../../src/render-spec";
import { validateSpecObject } from "../../src/input/load";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { DEBIAN12, ROOT } from "../helpers/specs";

/** ParavirtDomain under the SDK's mocks: the child graph, exact commands, secrets, validation. */

const children = (parentName: string) => registered.filter((r) => r.name === parentName && r.type === DOMAIN_TYPE);
const PROFILE = JSON.stringify(DEBIAN12);

describe("ParavirtDomain", () => {
  test("registers one Domain child with its arguments (without deploy), the domain name and the connection", async () => {
    const args = { vcpus: 4, irqchip: "split" as const, paravirt: { pvIpi: true, pvUnhalt: true }, hostProfile: PROFILE };
    const d = new ParavirtDomain("web-1", args);
    await settle();
    expect(registered.find((r) => r.name === "web-1")?.type).toBe(PARAVIRT_DOMAIN_TYPE);
    const kids = children("web-1");
    expect(kids.map((k) => [k.type, k.name])).toEqual([[DOMAIN_TYPE, "web-1"]]);
    const cli = renderSpec(
      validateSpecObject({ domains: [{ name: "web-1", vcpus: 4, irqchip: "split", paravirt: { pvIpi: true, pvUnhalt: true } }] }),
      DEBIAN12,
    ).domains[0];
    expect(kids[0].inputs).toEqual({ ...args, name: "web-1", connection: "qemu:///system" });
    expect(await valueOf(d.domainXml)).toBe(cli.domainXml);
    expect(await valueOf(d.qemuArgs)).toEqual(cli.qemuArgs);
    expect(await valueOf(d.features)).toEqual(cli.features);
    expect((await valueOf(d.diagnostics))!.map((x) => x.code)).toEqual(cli.diagnostics.map((x) => x.code));
    expect((await valueOf(d.diagnostics))![0].path).toBe("paravirt"); // relative to the args, not domains[0]
    expect(await valueOf(d.restartRequired)).toBe(false);
  });

  test("a connection that carries a password stays secret", async () => {
    const captured: pulumi.ResourceTransformationArgs[] = [];
    new ParavirtDomain(
      "sec",
      { connection: "qemu+tcp://admin:hunter2@host/system" },
      { transformations: [(a) => (captured.push(a), undefined)] },
    );
    await settle();
    const child = captured.find((a) => a.type === DOMAIN_TYPE)!;
    expect(await pulumi.isSecret(pulumi.output((child.props as { connection: pulumi.Input<string> }).connection))).toBe(true);
    const plain: pulumi.ResourceTransformationArgs[] = [];
    new ParavirtDomain("plain", { connection: "qemu+ssh://admin@host/system" }, { transformations: [(a) => (plain.push(a), undefined)] });
    await settle();
    const child2 = plain.find((a) => a.type === DOMAIN_TYPE)!;
    expect(await pulumi.isSecret(pulumi.output((child2.props as { connection: pulumi.Input<string> }).connection))).toBe(false);
  });

  test.each([
    ["a plain string with user:password@", "qemu+tcp://admin:hunter2@host/system", false],
    ["a plain string with ?password=", "qemu+tcp://host/system?password=hunter2", false],
    ["an Output", "qemu+tcp://admin:hunter2@host/system", true],
  ])("the component's own recorded input is secret too: %s", async (_what, uri, asOutput) => {
    const captured: pulumi.ResourceTransformationArgs[] = [];
    new ParavirtDomain(
      `own-${captured.length}-${asOutput}-${uri.length}`,
      { connection: asOutput ? pulumi.output(uri) : uri },
      { transformations: [(a) => (captured.push(a), undefined)] },
    );
    await settle();
    const own = captured.find((a) => a.type === "kvm-paravirt:index:ParavirtDomain")!;
    const connection = (own.props as { connection: pulumi.Input<string> }).connection;
    expect(await pulumi.isSecret(pulumi.output(connection))).toBe(true);
  });

  test.each([
    [
      "an empty connection (virsh would use its default host)",
      { connection: "" },
      /connection: \[spec-invalid-value\] connection must be a libvirt URI/,
    ],
    [
      "a connection that is a number",
      { connection: 7 as never },
      /connection: \[spec-invalid-value\] connection must be a libvirt URI .*not number/,
    ],
    [
      "deploy as an Output",
      { deploy: pulumi.output(false) as never },
      /deploy: \[spec-invalid-value\] deploy must be a plain true or false/,
    ],
  ])("%s is refused before any child exists", async (_what, args, message) => {
    const before = registered.length;
    expect(() => new ParavirtDomain(`refused-${registered.length}`, args)).toThrow(message);
    await settle();
    expect(registered.slice(before).filter((r) => r.type === DOMAIN_TYPE)).toEqual([]);
  });

  test("invalid plain arguments: a ResourceError naming the field, and no child", async () => {
    const before = registered.length;
    let err: unknown;
    try {
      new ParavirtDomain("bad", { irqchip: "kernel", paravirt: { msiExtDestId: true, pvIPI: true } as never });
    } catch (e) {
      err = e;
    }
    expect(pulumi.ResourceError.isInstance(err)).toBe(true);
    expect((err as Error).message).toMatch(/paravirt\.pvIPI: \[spec-unknown-feature\] unknown field "pvIPI"; did you mean pvIpi\?/);
    await settle();
    expect(registered.slice(before).filter((r) => r.type === DOMAIN_TYPE)).toEqual([]);
    expect(children("bad")).toEqual([]);
  });

  test("resolver errors are ResourceErrors too", () => {
    expect(() => new ParavirtDomain("bad2", { paravirt: { msiExtDestId: true } })).toThrow(
      /paravirt\.msiExtDestId: \[msi-ext-dest-id-needs-split-irqchip\]/,
    );
    expect(() => new ParavirtDomain("bad3", { hostProfile: "{not json" })).toThrow(/hostProfile: \[host-profile-invalid\]/);
    expect(() => new ParavirtDomain("bad4", { hostProfile: PROFILE, paravirt: { asyncpfVmexit: true } })).toThrow(
      /\[host-qemu-too-old\] kvm-asyncpf-vmexit needs QEMU 9.0/,
    );
  });

  test("Output arguments are checked when they resolve: the deployment fails and the Domain never gets them", () => {
    // in its own process: the failed check rejects inside Pulumi's registration, which the runtime reports
    const r = spawnSync(process.execPath, [path.join(__dirname, "fixtures/output-args.js")], { encoding: "utf8", cwd: ROOT });
    const out = JSON.parse(r.stdout) as { registered: { type: string; paravirt: unknown }[]; rejected: string[] };
    expect(out.rejected.length).toBeGreaterThan(0);
    for (const msg of out.rejected) expect(msg).toMatch(/paravirt\.msiExtDestId: \[msi-ext-dest-id-needs-split-irqchip\]/);
    expect(out.registered.map((x) => x.type)).toContain(PARAVIRT_DOMAIN_TYPE);
    expect(out.registered.filter((x) => x.type === DOMAIN_TYPE && x.paravirt !== null)).toEqual([]);
  });

  test("warnings go to pulumi.log.warn on the component", async () => {
    const warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const d = new ParavirtDomain("warny", { paravirt: { pvTlbFlush: true } });
    await valueOf(d.domainXml);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^paravirt: \[libvirt-custom-argv\]/), d);
    warn.mockRestore();
  });

  test("deploy: false renders only", async () => {
    const d = new ParavirtDomain("render-only", { deploy: false, paravirt: { pvIpi: false } });
    await settle();
    expect(children("render-only")).toEqual([]);
    expect(await valueOf(d.domainXml)).toMatch(/<pv-ipi state="off"\/>/);
  });

  test("the domain name defaults to the resource name and can be set", async () => {
    expect(await valueOf(new ParavirtDomain("res-name", { deploy: false }).domainName)).toBe("res-name");
    expect(await valueOf(new ParavirtDomain("res2", { name: "vm;$(x)", deploy: false }).domainName)).toBe("vm;$(x)");
  });
});

describe("ParavirtDomain: replacement and the XSLT output", () => {
  test("a renamed or moved domain is another Domain: its provider replaces it, delete before create", async () => {
    const captured: pulumi.ResourceTransformationArgs[] = [];
    new ParavirtDomain("ren", { name: "new-name" }, { transformations: [(a) => (captured.push(a), undefined)] });
    await settle();
    const child = captured.find((a) => a.type === DOMAIN_TYPE)!;
    const name = await valueOf(pulumi.output((child.props as { name: pulumi.Input<string> }).name));
    expect(name).toBe("new-name");
    const olds = { name: "ren", connection: "qemu:///system" };
    expect(diffDomain(olds, { ...olds, name })).toEqual({ changes: true, replaces: ["name"], deleteBeforeReplace: true });
  });

  test("Diff: the same inputs are no change, unless the last refresh found the live domain out of sync (liveChanges)", () => {
    const olds = { name: "vm", connection: "qemu:///system", vcpus: 2, effectiveFeatures: { kvmclock: true } };
    expect(diffDomain({ ...olds, liveChanges: [] }, olds)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(diffDomain({ ...olds, liveChanges: ["no kvm-paravirt metadata"] }, olds)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  test("the xslt output is the stylesheet `kvm-paravirt xslt` prints", async () => {
    const d = new ParavirtDomain("xs", { deploy: false, hostProfile: PROFILE, paravirt: { pvIpi: true, pvUnhalt: true } });
    const fs = await import("node:fs");
    const os = await import("node:os");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-xs-"));
    fs.writeFileSync(path.join(dir, "s.yaml"), "domains: [{name: xs, paravirt: {pvIpi: true, pvUnhalt: true}}]");
    fs.writeFileSync(path.join(dir, "h.json"), PROFILE);
    const cli = spawnSync(
      process.execPath,
      [path.join(ROOT, "bin/kvm-paravirt.js"), "xslt", path.join(dir, "s.yaml"), "--domain", "xs", "--host", path.join(dir, "h.json")],
      { encoding: "utf8" },
    );
    expect(cli.status).toBe(0);
    expect(`${await valueOf(d.xslt)}\n`).toBe(cli.stdout);
    expect(cli.stdout).toMatch(/^<xsl:stylesheet version="1.0"/);
  });
});
