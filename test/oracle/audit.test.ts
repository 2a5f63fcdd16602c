import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../helpers/cli";
import { describeWith } from "../helpers/env";
import { renderFile, ROOT } from "../helpers/specs";
import { runVirsh } from "../../src/system/virsh";
import { defineXml } from "../helpers/libvirt";
import { escapeRegExp, RUN_TAG } from "../helpers/run-tag";

/**
 * `kvm-paravirt check --connect`: a fleet audit of the domains defined on the real
 * libvirtd, read back from their live definitions, must find exactly what
 * `check FILE` finds for the spec they were rendered from.
 *
 * The domains carry this run's tag (kpv-audit-<run>-…): the audit reads every domain on the
 * host, and only these exact names are looked at in its report, defined and removed here.
 */
const URI = "qemu:///system";
const PROFILE = path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json");
const POLICY = path.join(ROOT, "examples/policy/baseline.json");
const PREFIX = `kpv-audit-${RUN_TAG}-`;
const [WEB, HIDDEN, DB] = ["web", "hidden", "db"].map((n) => `${PREFIX}${n}`);
const SPEC = `
domains:
  - name: ${WEB}
    vcpus: 4
    paravirt: { pvUnhalt: true, pvIpi: true, pvTlbFlush: true }
  - name: ${HIDDEN}
    paravirt: { hidden: true, kvmclock: false }
  - name: ${DB}
    dedicatedVcpus: false
    cpu: { mode: host-passthrough }
    paravirt: { hintDedicated: true, pollControl: true }
    irqchip: split
`;

const cli = runCli;
type Report = {
  violations: { domain: string; policy: string; enforcementLevel: string; message: string }[];
  unchecked: { domain: string }[];
};

describeWith(["kvm", "libvirt"], "fleet audit of a live libvirt host", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-audit-"));
  const spec = path.join(dir, "fleet.yaml");
  fs.writeFileSync(spec, SPEC);
  const names = [WEB, HIDDEN, DB];

  // this run's names are new: nothing to undefine first
  beforeAll(async () => {
    for (const d of renderFile(spec).domains) await defineXml(URI, d.domainXml);
  });
  afterAll(async () => {
    for (const n of names) await runVirsh(URI, ["undefine", "--domain", n]);
  });

  test("check --connect finds on the host what check FILE finds in the spec", () => {
    const live = cli("check", "--connect", URI, "--policy", POLICY, "--host", PROFILE, "--json");
    const fromFile = cli("check", spec, "--policy", POLICY, "--host", PROFILE, "--json");
    const ours = (r: Report) =>
      r.violations
        .filter((v) => names.includes(v.domain))
        .map((v) => `${v.enforcementLevel} [${v.policy}] ${v.domain}: ${v.message}`)
        .sort();
    const liveReport = JSON.parse(live.stdout) as Report;
    const fileReport = JSON.parse(fromFile.stdout) as Report;
    expect(ours(fileReport).length).toBeGreaterThan(3);
    expect(ours(liveReport)).toEqual(ours(fileReport));
    expect(liveReport.unchecked.filter((u) => names.includes(u.domain))).toEqual([]);
    expect(live.status).toBe(1); // mandatory violations (hidden signature, required kvmclock)
    expect(live.stderr).toMatch(new RegExp(`check: reading \\d+/\\d+: ${escapeRegExp(PREFIX)}`));
  });

  test("the human report is a table of who violates what", () => {
    const live = cli("check", "--connect", URI, "--policy", POLICY, "--host", PROFILE);
    expect(live.stdout).toMatch(/DOMAIN\s+POLICY\s+LEVEL\s+FEATURE\s+VIOLATION/);
    expect(live.stdout).toMatch(
      new RegExp(`${escapeRegExp(HIDDEN)}\\s+hidden-signature\\s+mandatory\\s+kvm\\s+the KVM signature is hidden`),
    );
    expect(live.stdout).toMatch(new RegExp(`${escapeRegExp(DB)}\\s+dedicated-vcpus\\s+advisory\\s+kvm-hint-dedicated`));
  });

  test("an unreachable host is a clear error, exit 1 (not a usage error)", () => {
    const r = cli("check", "--connect", "qemu+tcp://127.0.0.1:1/system", "--policy", POLICY);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^kvm-paravirt: virsh list failed: .*(connect|Connection refused)/);
  });
});
