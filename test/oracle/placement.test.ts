import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseCapabilities } from "../../src/system/host-facts";
import { checkDomain, createDomain, updateDomain } from "../../src/pulumi/domain-provider";
import { DOMAIN_TYPE } from "../../src/pulumi/evaluate";
import { formatCpuset, parseCpuset } from "../../src/util/cpuset";
import { runCli } from "../helpers/cli";
import { describeWith } from "../helpers/env";
import { withHostLock } from "../helpers/host-lock";
import { RUN_TAG } from "../helpers/run-tag";
import { domainUuids, removeDomains, virshOn } from "../helpers/virsh";

/**
 * Dedicated CPUs on the real libvirtd, through the CLI as a user runs it: the affinity a
 * paused domain realizes (libvirt's `virsh vcpupin` and `emulatorpin`, and the kernel's
 * Cpus_allowed_list of QEMU's vCPU thread, found by QMP query-cpus-fast, and of its main
 * thread), the hint the realized vCPU has, a second dedicated domain refused before any
 * define, and a pinning change applied to the running domain without a restart.
 * The host CPUs are read from `virsh capabilities`: the tool picks the highest free one.
 */
const URI = "qemu:///system";
const virsh = (...args: string[]) => virshOn(URI, ...args);
const A = `kpv-pin-${RUN_TAG}-a`;
const B = `kpv-pin-${RUN_TAG}-b`;

/** The kernel's CPU affinity of one QEMU thread, as a set. */
function allowed(pid: number, tid?: number): string {
  const file = tid === undefined ? `/proc/${pid}/status` : `/proc/${pid}/task/${tid}/status`;
  const line = /^Cpus_allowed_list:\s*(\S+)$/m.exec(fs.readFileSync(file, "utf8"))![1];
  return formatCpuset(parseCpuset(line) as number[]);
}

/** libvirt's pins of a domain: vCPU -> set, and the emulator's. */
function pins(uuid: string, flag = "--live"): { vcpus: string[]; emulator: string } {
  const vcpus = virsh("vcpupin", "--domain", uuid, flag)
    .stdout.split("\n")
    .map((l) => /^\s*(\d+)\s+(\S+)\s*$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => formatCpuset(parseCpuset(m[2]) as number[]));
  // quiet (-q) virsh prints the emulator's set alone: "0-1"
  const emu = virsh("emulatorpin", "--domain", uuid, flag).stdout.trim();
  return { vcpus, emulator: formatCpuset(parseCpuset(emu) as number[]) };
}

/** QEMU's pid and its vCPU threads (QMP query-cpus-fast). */
function qemuThreads(name: string, uuid: string): { pid: number; vcpus: number[] } {
  const pid = Number(fs.readFileSync(`/run/libvirt/qemu/${name}.pid`, "utf8").trim());
  const r = virsh("qemu-monitor-command", "--domain", uuid, JSON.stringify({ execute: "query-cpus-fast" }));
  const reply = JSON.parse(r.stdout) as { return: { "cpu-index": number; "thread-id": number }[] };
  return { pid, vcpus: reply.return.sort((x, y) => x["cpu-index"] - y["cpu-index"]).map((c) => c["thread-id"]) };
}

describeWith(["kvm", "libvirt"], "dedicated CPUs realized by the real libvirtd", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-pin-"));
  const cpus = parseCapabilities(virsh("capabilities").stdout).numaNodes!.flatMap((n) => n.cpus);
  const top = Math.max(...cpus);
  const rest = formatCpuset(cpus.filter((c) => c !== top));
  const spec = (file: string, domains: Record<string, unknown>[]) => {
    const p = path.join(dir, file);
    fs.writeFileSync(p, JSON.stringify({ domains }));
    return p;
  };
  const base = { vcpus: 1, memoryMiB: 128, runState: "paused" };

  afterAll(() => {
    removeDomains(URI, A, B);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the host has at least two CPUs (one for the dedicated vCPU, one for the emulator)", () => {
    expect(cpus.length).toBeGreaterThanOrEqual(2);
  });

  test("dedicated: true picks the highest free host CPU, the emulator gets the others; plan says why the hint is on; the paused domain realizes it all", () =>
    withHostLock("cpu-pinning", async () => {
      const file = spec("a.json", [{ name: A, ...base, cpuPinning: { dedicated: true } }]);
      const plan = runCli("plan", file, "--connect", URI, "--json");
      expect(plan.status).toBe(0);
      const planned = (
        JSON.parse(plan.stdout) as {
          hosts: { domains: { domain: string; error?: string; featureChanges: { feature: string; desired: unknown }[] }[] }[];
        }
      ).hosts[0].domains.find((d) => d.domain === A)!;
      expect(planned.error).toBeUndefined();
      expect(runCli("plan", file, "--connect", URI).stdout).toContain(
        `pinning: vCPUs on host CPUs ${top} (picked); emulator on ${rest}; dedicated\n`,
      );
      expect(planned.featureChanges.find((f) => f.feature === "kvm-hint-dedicated")!.desired).toEqual({ enabled: true, source: "implied" });
      // render explains the hint with the host's CPUs (a profile with the NUMA nodes libvirt reports)
      const profile = path.join(dir, "host.json");
      fs.writeFileSync(
        profile,
        JSON.stringify({ qemu: "7.2.0", kvm: { available: true }, numaNodes: parseCapabilities(virsh("capabilities").stdout).numaNodes }),
      );
      const render = runCli("render", file, "--json", "--host", profile);
      const hint = (JSON.parse(render.stdout) as { domains: { features: Record<string, { reason: string }> }[] }).domains[0].features[
        "kvm-hint-dedicated"
      ];
      expect(hint.reason).toBe(
        `cpuPinning.dedicated turns it on: the vCPU pinned to host CPU ${top} (picked); the emulator threads on the host's other CPUs, ${rest}; no other domain of the spec is pinned to them (plan and apply also read the host's domains over the connection)`,
      );

      const applied = runCli("apply", file, "--connect", URI);
      expect({ status: applied.status, stderr: applied.stderr.split("\n").filter((l) => /error|failed/i.test(l)) }).toEqual({
        status: 0,
        stderr: [],
      });
      const uuid = domainUuids(URI).get(A)!;
      expect(virsh("domstate", "--domain", uuid).stdout.trim()).toBe("paused");
      expect(pins(uuid)).toEqual({ vcpus: [String(top)], emulator: rest });
      expect(pins(uuid, "--config")).toEqual({ vcpus: [String(top)], emulator: rest });
      const q = qemuThreads(A, uuid);
      expect(q.vcpus.map((t) => allowed(q.pid, t))).toEqual([String(top)]);
      expect(allowed(q.pid)).toBe(rest);
      // the realized vCPU has the hint the prediction says
      const hintProp = virsh(
        "qemu-monitor-command",
        "--domain",
        uuid,
        JSON.stringify({ execute: "qom-get", arguments: { path: "/machine/unattached/device[0]", property: "kvm-hint-dedicated" } }),
      );
      expect(JSON.parse(hintProp.stdout)).toEqual({ return: true, id: expect.anything() });
    }));

  test("a second dedicated domain on the first one's host CPU is refused before any define", () =>
    withHostLock("cpu-pinning", async () => {
      const file = spec("b.json", [{ name: B, ...base, cpuPinning: { dedicated: true, vcpus: [String(top)], emulator: rest } }]);
      const r = runCli("apply", file, "--connect", URI);
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(
        `[dedicated-vcpus-not-dedicated] the vCPUs are to be dedicated, but host CPU ${top} (vCPU 0) is also ${A}'s vCPU 0 (on the host)`,
      );
      expect(domainUuids(URI).has(B)).toBe(false);
      // one answer: the Pulumi Domain's preview (Check over the connection) refuses it with the same words
      const { failures } = await checkDomain(`urn:pulumi:s::p::${DOMAIN_TYPE}::${B}`, {
        name: B,
        ...base,
        cpuPinning: { dedicated: true, vcpus: [String(top)], emulator: rest },
        connection: URI,
      });
      expect(failures).toEqual([
        {
          property: "cpuPinning",
          reason: `[dedicated-vcpus-not-dedicated] the vCPUs are to be dedicated, but host CPU ${top} (vCPU 0) is also ${A}'s vCPU 0 (on the host)`,
        },
      ]);
    }));

  test("plan shows a pinning change as applied live; apply makes it on the running domain without a restart", () =>
    withHostLock("cpu-pinning", async () => {
      const uuid = domainUuids(URI).get(A)!;
      const id = virsh("domid", "--domain", uuid).stdout.trim();
      const other = Math.min(...cpus);
      const file = spec("a2.json", [{ name: A, ...base, cpuPinning: { dedicated: true, vcpus: [String(other)], emulator: String(top) } }]);
      const plan = runCli("plan", file, "--connect", URI, "--json");
      const d = (JSON.parse(plan.stdout) as { hosts: { domains: Record<string, unknown>[] }[] }).hosts[0].domains.find(
        (x) => x.domain === A,
      )!;
      expect({ action: d.action, restartNeeded: d.restartNeeded, liveChanges: d.liveChanges }).toEqual({
        action: "update",
        restartNeeded: false,
        liveChanges: [
          { setting: "vCPU 0", from: String(top), to: String(other) },
          { setting: "emulator", from: rest, to: String(top) },
        ],
      });
      const human = runCli("plan", file, "--connect", URI);
      expect(human.stdout).toContain(`applied live (no restart): vCPU 0 on host CPUs ${top} -> ${other} (virsh vcpupin --live)`);
      expect(human.stdout).not.toContain("restart needed");

      const applied = runCli("apply", file, "--connect", URI);
      expect(applied.status).toBe(0);
      expect(virsh("domid", "--domain", uuid).stdout.trim()).toBe(id);
      expect(pins(uuid)).toEqual({ vcpus: [String(other)], emulator: String(top) });
      expect(pins(uuid, "--config")).toEqual({ vcpus: [String(other)], emulator: String(top) });
      const q = qemuThreads(A, uuid);
      expect(q.vcpus.map((t) => allowed(q.pid, t))).toEqual([String(other)]);
      expect(allowed(q.pid)).toBe(String(top));
      // and the host is in sync now
      const again = runCli("plan", file, "--connect", URI, "--json");
      expect(
        (JSON.parse(again.stdout) as { hosts: { domains: Record<string, unknown>[] }[] }).hosts[0].domains.find((x) => x.domain === A)!
          .action,
      ).toBe("unchanged");
    }));
});

describeWith(["kvm", "libvirt"], "the Pulumi Domain: a pinning change on a running domain without a restart", () => {
  const F = `kpv-pin-${RUN_TAG}-f`;
  const cpus = parseCapabilities(virsh("capabilities").stdout).numaNodes!.flatMap((n) => n.cpus);
  const [low, high] = [Math.min(...cpus), Math.max(...cpus)];
  afterAll(() => removeDomains(URI, F));

  test("update pins the vCPU, the emulator and the IOThread anew, live and in the definition; restartRequired stays false; same domain ID", () =>
    withHostLock("cpu-pinning", async () => {
      const inputs = (vcpu: number, emulator: number) => ({
        name: F,
        memoryMiB: 128,
        runState: "paused",
        cpuPinning: { vcpus: [String(vcpu)], emulator: String(emulator), iothreads: [String(emulator)] },
        connection: URI,
      });
      /** The host CPUs QEMU's IOThread may run on (QMP query-iothreads gives its thread). */
      const iothreadAllowed = (uuid: string) => {
        const pid = Number(fs.readFileSync(`/run/libvirt/qemu/${F}.pid`, "utf8").trim());
        const r = JSON.parse(virsh("qemu-monitor-command", "--domain", uuid, JSON.stringify({ execute: "query-iothreads" })).stdout) as {
          return: { "thread-id": number }[];
        };
        return r.return.map((t) => allowed(pid, t["thread-id"]));
      };
      const created = await createDomain(inputs(high, low));
      const uuid = created.id;
      const id = virsh("domid", "--domain", uuid).stdout.trim();
      expect(pins(uuid)).toEqual({ vcpus: [String(high)], emulator: String(low) });
      expect(iothreadAllowed(uuid)).toEqual([String(low)]);
      const updated = await updateDomain(created.outs as Record<string, unknown>, inputs(low, high));
      expect((updated.outs as Record<string, unknown>).restartRequired).toBe(false);
      expect(virsh("domid", "--domain", uuid).stdout.trim()).toBe(id);
      expect(pins(uuid)).toEqual({ vcpus: [String(low)], emulator: String(high) });
      expect(pins(uuid, "--config")).toEqual({ vcpus: [String(low)], emulator: String(high) });
      expect(iothreadAllowed(uuid)).toEqual([String(high)]);
      expect(virsh("dumpxml", "--inactive", "--domain", uuid).stdout).toMatch(new RegExp(`<iothreadpin iothread='1' cpuset='${high}'/>`));
    }));
});

describeWith(["kvm", "libvirt"], "guest NUMA cells realized by the real libvirtd", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-cells-"));
  const E = `kpv-cells-${RUN_TAG}-e`;
  afterAll(() => {
    removeDomains(URI, E);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("two cells: each vCPU in its node (QMP query-cpus-fast), the memory split as asked (HMP info numa)", () => {
    const file = path.join(dir, "e.json");
    const numa = {
      cells: [
        { cpus: "0,2", memoryMiB: 96 },
        { cpus: "1,3", memoryMiB: 160 },
      ],
    };
    fs.writeFileSync(file, JSON.stringify({ domains: [{ name: E, vcpus: 4, memoryMiB: 256, runState: "paused", numa }] }));
    const r = runCli("apply", file, "--connect", URI);
    expect({ status: r.status, failed: r.stdout.split("\n").filter((l) => /^failed/.test(l)) }).toEqual({ status: 0, failed: [] });
    const uuid = domainUuids(URI).get(E)!;
    const cpus = JSON.parse(virsh("qemu-monitor-command", "--domain", uuid, JSON.stringify({ execute: "query-cpus-fast" })).stdout) as {
      return: { "cpu-index": number; props: { "node-id": number } }[];
    };
    expect(cpus.return.map((c) => [c["cpu-index"], c.props["node-id"]]).sort()).toEqual([
      [0, 0],
      [1, 1],
      [2, 0],
      [3, 1],
    ]);
    const info = virsh("qemu-monitor-command", "--domain", uuid, "--hmp", "info numa").stdout;
    expect(info).toMatch(/^2 nodes$/m);
    expect(info).toMatch(/^node 0 size: 96 MB$/m);
    expect(info).toMatch(/^node 1 size: 160 MB$/m);
    // read back as the spec wrote it: in sync
    expect(runCli("plan", file, "--connect", URI).stdout).toMatch(new RegExp(`unchanged\\s+${E}\\n`));
  });
});

/** Free huge pages of `sizeKiB` on the host (virsh freepages), all nodes. */
function freePages(sizeKiB: number): number {
  const out = virsh("freepages", "--all").stdout;
  return [...out.matchAll(new RegExp(`^${sizeKiB}KiB: (\\d+)$`, "gm"))].reduce((s, m) => s + Number(m[1]), 0);
}

describeWith(["kvm", "libvirt"], "huge pages checked before deploy against the real host's pool", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-huge-"));
  const C = `kpv-huge-${RUN_TAG}-c`;
  afterAll(() => {
    removeDomains(URI, C);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("more memory than the free 2 MiB pages hold: apply refuses it (hugepages-pool-too-small), nothing is defined", () => {
    const free = freePages(2048);
    const memoryMiB = Math.max(16, (free + 1) * 2);
    const file = path.join(dir, "c.json");
    fs.writeFileSync(file, JSON.stringify({ domains: [{ name: C, memoryMiB, hugepages: { sizeKiB: 2048 } }] }));
    const r = runCli("apply", file, "--connect", URI);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      `[hugepages-pool-too-small] ${memoryMiB} MiB of memory needs ${memoryMiB / 2} pages of 2048 KiB; the host has ${free} free on node`,
    );
    expect(domainUuids(URI).has(C)).toBe(false);
  });
});

describeWith(["kvm", "libvirt", "hugetlbfs"], "huge pages realized by the real libvirtd", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-huge-"));
  const D = `kpv-huge-${RUN_TAG}-d`;
  const reserved = Number(fs.readFileSync("/proc/sys/vm/nr_hugepages", "utf8"));
  afterAll(() => {
    removeDomains(URI, D);
    fs.writeFileSync("/proc/sys/vm/nr_hugepages", String(reserved));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("128 MiB on 2 MiB pages: 64 pages reserved for it are taken by the started domain, and its RAM is mapped with them", () => {
    fs.writeFileSync("/proc/sys/vm/nr_hugepages", String(reserved + 64));
    const before = freePages(2048);
    expect(before).toBeGreaterThanOrEqual(64);
    const file = path.join(dir, "d.json");
    fs.writeFileSync(file, JSON.stringify({ domains: [{ name: D, memoryMiB: 128, runState: "paused", hugepages: { sizeKiB: 2048 } }] }));
    const r = runCli("apply", file, "--connect", URI);
    expect({ status: r.status, failed: r.stdout.split("\n").filter((l) => /^failed/.test(l)) }).toEqual({ status: 0, failed: [] });
    const uuid = domainUuids(URI).get(D)!;
    expect(virsh("dumpxml", "--domain", uuid).stdout).toMatch(/<hugepages>\s*<page size='2048' unit='KiB'\/>\s*<\/hugepages>/);
    expect(before - freePages(2048)).toBe(64);
    const pid = Number(fs.readFileSync(`/run/libvirt/qemu/${D}.pid`, "utf8").trim());
    const smaps = fs.readFileSync(`/proc/${pid}/smaps`, "utf8");
    // the guest RAM: one mapping of 128 MiB backed by 2 MiB pages
    expect(smaps).toMatch(/^Size:\s+131072 kB$(?:\n(?!\S+-\S+ ).*)*?\nKernelPageSize:\s+2048 kB$/m);
    // and plan finds it in sync: the pages it holds count for it
    const again = runCli("plan", file, "--connect", URI).stdout;
    expect(again).toMatch(new RegExp(`unchanged\\s+${D}\\n`));
    expect(again).not.toContain("ERROR");
  });
});
