import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { main, type Io } from "../../src/cli/main";
import { parseSpecText } from "../../src/input/load";
import { applyDomain } from "../../src/live/apply";
import { planDomain } from "../../src/live/plan";
import { withVirshSession } from "../../src/system/virsh-session";

/**
 * A Windows domain with Hyper-V flags through the CLI's host commands on libvirt's test driver
 * (the assumed host: a KVM with Hyper-V): plan shows each hv-* flag that changes as the guest
 * gets it, and import reads the flags back as the spec's hyperv map.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-cli-hv-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const DEFAULT = "test:///default";
const NODE = path.join(dir, "node.xml");
const HOST = `test://${NODE}`;

const W1 = "domains:\n  - { name: w1, memoryMiB: 256, hyperv: { relaxed: true, vapic: true, time: true, spinlocks: 8191 } }\n";
const W1_CHANGED = "domains:\n  - { name: w1, memoryMiB: 256, hyperv: { relaxed: true, vapic: false, crash: true, spinlocks: 8191 } }\n";

async function run(argv: string[], files: Record<string, string> = {}) {
  let out = "";
  let err = "";
  const io: Io = {
    out: (s) => (out += s + "\n"),
    err: (s) => (err += s + "\n"),
    readFile: (p) => (p in files ? files[p] : fs.readFileSync(p, "utf8")),
  };
  return { code: await main(argv, io), out, err };
}

beforeAll(async () => {
  const spec = parseSpecText(W1).domains[0].spec!;
  const dumped = await withVirshSession(DEFAULT, undefined, async (s) => {
    const r = await applyDomain(s, await planDomain(s, DEFAULT, spec, undefined, undefined), spec, "never", undefined);
    if (r.outcome !== "defined") throw new Error(`test driver refused w1: ${r.error}`);
    return (await s.run(["dumpxml", "--domain", "w1"])).stdout;
  });
  fs.writeFileSync(NODE, `<node>\n${dumped}</node>\n`);
});

test("as defined: unchanged (libvirt keeps <hyperv>, the hypervclock timer and the spinlock count as written)", async () => {
  const r = await run(["plan", "s.yaml", "--connect", HOST, "--detailed-exitcode"], { "s.yaml": W1 });
  expect(r.out).toBe(`host ${HOST}\n  unchanged        w1\nplan: 0 to create, 0 to update, 1 unchanged, 0 delete candidate(s)\n`);
  expect(r.code).toBe(0);
});

test("a changed hyperv map: the map, each hv-* flag that changes for the guest, the panic device for hv-crash, the restart", async () => {
  const r = await run(["plan", "s.yaml", "--connect", HOST, "--detailed-exitcode"], { "s.yaml": W1_CHANGED });
  expect(r.code).toBe(2);
  expect(r.out).toBe(
    [
      `host ${HOST}`,
      // the test driver's domains run
      "  update           w1  [restart needed]",
      '      hyperv: {"relaxed":true,"vapic":true,"spinlocks":8191,"time":true} -> {"relaxed":true,"vapic":false,"spinlocks":8191,"crash":true}',
      "      FEATURE   CURRENT        DESIRED",
      "      hv-vapic  on (explicit)  off (explicit)",
      "      hv-time   on (explicit)  off (default)",
      "      hv-crash  off (default)  on (explicit)",
      // hv-crash is libvirt's <panic model='hyperv'/>: a device
      "      DEVICE        CHANGE  ON A RUNNING DOMAIN",
      "      panic:hyperv  add     needs a restart",
      "plan: 0 to create, 1 to update, 0 unchanged, 0 delete candidate(s)",
      "",
    ].join("\n"),
  );
});

test("a spec without a hyperv map: plan warns that apply removes the domain's Hyper-V settings", async () => {
  const r = await run(["plan", "s.yaml", "--connect", HOST], { "s.yaml": "domains:\n  - { name: w1, memoryMiB: 256 }\n" });
  expect(r.out).toContain(
    '      warning [hyperv-removed-by-apply] hyperv: the live domain has Hyper-V settings ({"relaxed":true,"vapic":true,"spinlocks":8191,"time":true}) and the spec has no hyperv map: apply removes them; put them in the spec to keep them (kvm-paravirt import reads them)\n',
  );
  const j = JSON.parse(
    (await run(["plan", "s.yaml", "--connect", HOST, "--json"], { "s.yaml": "domains:\n  - { name: w1, memoryMiB: 256 }\n" })).out,
  );
  expect(j.hosts[0].domains[0].warnings).toContainEqual(expect.objectContaining({ code: "hyperv-removed-by-apply", path: "hyperv" }));
  const same = await run(["plan", "s.yaml", "--connect", HOST], { "s.yaml": W1 });
  expect(same.out).not.toContain("hyperv-removed-by-apply");
});

test("import reads the flags back as the spec's hyperv map", async () => {
  const r = await run(["import", "--connect", HOST, "w1"]);
  expect(r.code).toBe(0);
  const spec = parseSpecText(r.out).domains[0].spec!;
  expect(spec.hyperv).toEqual({ relaxed: true, vapic: true, time: true, spinlocks: 8191 });
});
