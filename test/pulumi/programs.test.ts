import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, settle, valueOf } from "../helpers/pulumi-mocks";

const registered = installMocks();

import { deployFleet } from "../../program/fleet";
import { exampleSpecs, ROOT } from "../helpers/specs";

/** The programs a user runs with the Pulumi CLI, run here under the SDK's mocks. */

function cliRender(file: string, host?: string) {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, "bin/kvm-paravirt.js"), "render", file, "--json", ...(host ? ["--host", host] : [])],
    { encoding: "utf8" },
  );
  return JSON.parse(r.stdout) as { domains: { name: string; domainXml: string; qemuArgs: string[] }[] };
}

describe("programs", () => {
  test.each(exampleSpecs().map((f) => [path.basename(f), f]))(
    "root program: one ParavirtDomain per domain of %s, equal to `kvm-paravirt render --json`",
    async (_n, file) => {
      const profile = path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json");
      const domains = deployFleet({ specFile: file, connection: "test:///default", hostProfileFile: profile });
      const cli = cliRender(file, profile);
      expect(Object.keys(domains)).toEqual(cli.domains.map((d) => d.name));
      for (const d of cli.domains) {
        expect(await valueOf(domains[d.name].domainXml)).toBe(d.domainXml);
        expect(await valueOf(domains[d.name].qemuArgs)).toEqual(d.qemuArgs);
      }
      await settle();
      for (const d of cli.domains)
        expect(registered.find((r) => r.type === "kvm-paravirt:index:Domain" && r.name === d.name)?.inputs).toMatchObject({
          name: d.name,
          connection: "test:///default",
        });
    },
  );

  test("root program: each domain on the hosts its hosts: entry names, else the stack's connection (as apply routes it)", async () => {
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kpv-")), "hosts.yaml");
    fs.writeFileSync(
      tmp,
      [
        "hosts:",
        "  a: qemu+ssh://root@kvm-1/system",
        "  b: [qemu+ssh://root@kvm-1/system, qemu+tcp://admin:pw@kvm-2/system]",
        "domains: [{ name: a, accel: tcg }, { name: b, accel: tcg }, { name: c, accel: tcg }]",
      ].join("\n"),
    );
    const domains = deployFleet({ specFile: tmp, connection: "test:///default" });
    expect(Object.keys(domains)).toEqual(["a", "b@qemu+ssh://root@kvm-1/system", "b@qemu+tcp://admin:***@kvm-2/system", "c"]);
    await settle();
    const domainOf = (resource: string) => registered.find((r) => r.type === "kvm-paravirt:index:Domain" && r.name === resource)?.inputs;
    expect(domainOf("a")).toMatchObject({ name: "a", connection: "qemu+ssh://root@kvm-1/system" });
    expect(domainOf("b@qemu+ssh://root@kvm-1/system")).toMatchObject({ name: "b", connection: "qemu+ssh://root@kvm-1/system" });
    // the password-bearing URI reaches the Domain (as a secret), never a resource name
    expect(domainOf("b@qemu+tcp://admin:***@kvm-2/system")).toMatchObject({ name: "b" });
    expect(domainOf("c")).toMatchObject({ name: "c", connection: "test:///default" });
    expect(registered.map((r) => r.name).join(" ")).not.toContain("admin:pw");
  });

  test("root program: a broken spec stops before any resource", () => {
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kpv-")), "bad.yaml");
    fs.writeFileSync(tmp, "domains: [{name: a, paravirt: {pvIPI: true}}]");
    const before = registered.length;
    expect(() => deployFleet({ specFile: tmp, connection: "test:///default" })).toThrow(pulumi.RunError);
    expect(() => deployFleet({ specFile: tmp, connection: "test:///default" })).toThrow(
      /domains\[0\]\.paravirt\.pvIPI: \[spec-unknown-feature\]/,
    );
    expect(registered.length).toBe(before);
  });

  test("examples/typescript runs and its outputs are the resolved features", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require("../../examples/typescript/index.ts") as {
      webFeatures: pulumi.Output<Record<string, { enabled: boolean; source: string }>>;
      batchMsiExtDestId: pulumi.Output<{ enabled: boolean; source: string }>;
    };
    expect((await valueOf(program.webFeatures))!["kvm-pv-ipi"]).toMatchObject({ enabled: true, source: "explicit" });
    expect(await valueOf(program.batchMsiExtDestId)).toMatchObject({ enabled: true, source: "implied" });
    await settle();
    expect(registered.filter((r) => r.type === "kvm-paravirt:index:Domain" && /^(web|batch)-ts$/.test(r.name))).toHaveLength(2);
  });
});
