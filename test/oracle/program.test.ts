import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { createDomain, deleteDomain } from "../../src/pulumi/domain-provider";
import { DOMAIN_TYPE } from "../../src/pulumi/evaluate";
import { describeWith } from "../helpers/env";
import { SECOND_URI } from "../helpers/second-host";
import { settle, valueOf } from "../helpers/pulumi-mocks";
import { domainUuids, removeDomains } from "../helpers/virsh";
import { RUN_TAG } from "../helpers/run-tag";

/**
 * The root Pulumi program deploys a two-host spec to two real libvirtds. The Pulumi engine
 * cannot run here: the SDK's mocks stand in for it, and each Domain the program registers is
 * created by the provider's real Create (src/pulumi/domain-provider.ts) on the connection the
 * program routed it to: qemu:///system and the second libvirtd (an unprivileged user's session
 * daemon). TCG domains; each host's facts read over its connection. The names carry this run's
 * tag (kpv-prog-<run>-…): another run at the same time (another checkout) never touches them.
 */
const SYSTEM = "qemu:///system";
const [A, B, C] = ["a", "b", "c"].map((n) => `kpv-prog-${RUN_TAG}-${n}`);
const NAMES = [A, B, C];
const created: { id: string; outs: Record<string, unknown> }[] = [];

pulumi.runtime.setMocks(
  {
    async newResource(args) {
      if (args.type !== DOMAIN_TYPE) return { id: `${args.name}-id`, state: args.inputs };
      const r = await createDomain(args.inputs as Record<string, unknown>);
      created.push({ id: r.id, outs: r.outs! });
      return { id: r.id, state: r.outs! };
    },
    call: (args) => args.inputs,
  },
  "kvm-paravirt-program",
  "test",
  false,
);

// the program module loads after setMocks, as a Pulumi program does
import { deployFleet } from "../../program/fleet";

describeWith(["libvirt", "second-host"], "the root program deploys a two-host spec to two libvirtds", () => {
  const clean = () => {
    removeDomains(SYSTEM, ...NAMES);
    removeDomains(SECOND_URI, ...NAMES);
  };
  // this run's names are new: nothing to remove first
  afterAll(async () => {
    for (const c of created) await deleteDomain(c.outs).catch(() => undefined);
    clean();
  });

  test("hosts: routes each domain to its libvirtd (one domain to both), the rest to the stack's connection", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-prog-"));
    const spec = path.join(dir, "two-hosts.yaml");
    fs.writeFileSync(
      spec,
      [
        "defaults: { accel: tcg, memoryMiB: 64 }",
        "hosts:",
        `  ${B}: "${SECOND_URI}"`,
        `  ${C}: ["${SYSTEM}", "${SECOND_URI}"]`,
        `domains: [{ name: ${A} }, { name: ${B} }, { name: ${C} }]`,
      ].join("\n"),
    );
    const domains = deployFleet({ specFile: spec, connection: SYSTEM });
    for (const d of Object.values(domains)) await valueOf(d.features);
    await settle();
    const onSystem = domainUuids(SYSTEM);
    const onSecond = domainUuids(SECOND_URI);
    const placed = (m: Map<string, string>) => NAMES.filter((n) => m.has(n));
    expect({ system: placed(onSystem), second: placed(onSecond) }).toEqual({
      system: [A, C],
      second: [B, C],
    });
    // each resource is the domain libvirt reports on its host
    const ids = new Set(created.map((c) => c.id));
    for (const n of [A, C]) expect(ids.has(onSystem.get(n)!)).toBe(true);
    for (const n of [B, C]) expect(ids.has(onSecond.get(n)!)).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
