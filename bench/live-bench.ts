import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyFleet } from "../src/live/apply";
import { planFleet } from "../src/live/plan";
import { targets } from "../src/live/targets";
import { renderDomain } from "../src/render-spec";
import { validateSpecObject } from "../src/input/load";
import type { HostProfile } from "../src/host/profile";

/**
 * Live bench: apply of 200 new domains to qemu:///system against a shell loop of
 * `virsh define` per domain in the same run (target: at least 5x faster), and a
 * plan of the same 200 (target: under 2 s). Needs libvirtd.
 */
const URI = "qemu:///system";
const N = 200;

function cleanup() {
  const names = spawnSync("virsh", ["-q", "-c", URI, "list", "--all", "--name"], { encoding: "utf8" })
    .stdout.split("\n")
    .filter((n) => n.startsWith("kpv-bench-"));
  if (names.length) spawnSync("bash", ["-c", `for n in ${names.join(" ")}; do virsh -q -c ${URI} undefine --domain "$n" >/dev/null; done`]);
}

export async function liveBench(host: HostProfile): Promise<Record<string, unknown>> {
  if (spawnSync("virsh", ["-c", URI, "version"], { encoding: "utf8" }).status !== 0)
    return { skipped: `libvirtd does not answer on ${URI}` };
  // the bench measures libvirt round trips, not KVM: without /dev/kvm the domains are TCG ones
  const accel = fs.existsSync("/dev/kvm") ? "kvm" : "tcg";
  const loaded = validateSpecObject({
    domains: Array.from({ length: N }, (_, i) => ({
      name: `kpv-bench-${i}`,
      accel,
      memoryMiB: 64,
      paravirt: { pvIpi: i % 2 === 0, pvUnhalt: true },
    })),
  });
  const ts = targets(loaded, [URI]).targets;
  cleanup();
  // baseline: the same XML, one virsh process per define
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-bench-"));
  ts.forEach((t, i) => fs.writeFileSync(path.join(dir, `${i}.xml`), renderDomain(t.spec, host).rendered.domainXml));
  process.stderr.write("bench: shell loop of virsh define x200\n");
  let t0 = process.hrtime.bigint();
  const loop = spawnSync("bash", ["-c", `for f in ${dir}/*.xml; do virsh -q -c ${URI} define --file "$f" >/dev/null || exit 1; done`], {
    encoding: "utf8",
  });
  const loopMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (loop.status !== 0) throw new Error(`virsh loop failed: ${loop.stderr}`);
  cleanup();
  process.stderr.write("bench: kvm-paravirt apply x200\n");
  t0 = process.hrtime.bigint();
  const { results } = await applyFleet(ts, "never", { host });
  const applyMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (results.some((r) => r.outcome !== "defined"))
    throw new Error(`apply failed: ${JSON.stringify(results.find((r) => r.outcome !== "defined"))}`);
  t0 = process.hrtime.bigint();
  const plan = await planFleet(ts, { host });
  const planMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const unchanged = plan[0].domains.filter((d) => d.action === "unchanged").length;
  cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    domains: N,
    accel: accel === "kvm" ? "kvm" : "tcg (no /dev/kvm on this machine)",
    virshLoopMs: Math.round(loopMs),
    applyMs: Math.round(applyMs),
    speedup: +(loopMs / applyMs).toFixed(1),
    planMs: Math.round(planMs),
    planUnchanged: unchanged,
    targets: { speedup: ">= 5", planMs: "< 2000" },
    met: loopMs / applyMs >= 5 && planMs < 2000 && unchanged === N,
  };
}
