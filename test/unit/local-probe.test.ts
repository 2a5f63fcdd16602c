import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FEATURES } from "../../src/catalog/features";
import { HostProfileSchema } from "../../src/host/profile";
import { probeHost } from "../../src/system/probe";
import { QemuStartError, startPausedQemu } from "../../src/system/qemu";
import { QmpError, readVcpuProperties } from "../../src/system/qmp";
import { describeWith, whyNot } from "../helpers/env";
import { withFixtureBin } from "../helpers/fixture-bin";

/**
 * The local probe (`kvm-paravirt probe`), QEMU started paused and its QMP client, in process
 * against the real qemu-system-x86_64 (TCG; KVM too where /dev/kvm is usable). A QEMU that
 * misbehaves (never opens its QMP socket) is a script in test/fixtures/bin.
 */

const KVM_BITS = FEATURES.filter((f) => f.kind === "kvm-bit").map((f) => f.qemu);
const QEMU_VERSION = /QEMU emulator version (\d+\.\d+\.\d+)/.exec(
  spawnSync("qemu-system-x86_64", ["--version"], { encoding: "utf8" }).stdout ?? "",
)?.[1];

/** The socket folders startPausedQemu makes, to see that each is removed. */
/**
 * The socket folder of one QEMU, from its own arguments (-qmp unix:DIR/qmp.sock,...): other test
 * files start QEMUs at the same time (a listing of /tmp would see theirs).
 */
const qmpDirOf = (args: readonly string[]) => {
  const sock = args.find((a) => a.startsWith("unix:") && a.includes("kvm-paravirt-qmp-"));
  if (!sock) throw new Error(`no QMP socket in ${args.join(" ")}`);
  return path.dirname(sock.slice("unix:".length).split(",")[0]);
};

function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env[name];
  process.env[name] = value;
  return fn().finally(() => {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  });
}

afterEach(() => jest.restoreAllMocks());

describeWith(["qemu"], "startPausedQemu and QMP (the real QEMU, TCG)", () => {
  test("QEMU paused with a QMP socket: its version from the greeting, commands answered; stop ends it and removes the socket", async () => {
    const q = await startPausedQemu(["-machine", "none", "-accel", "tcg"]);
    // a failed expectation must not leave QEMU running
    const guard = setTimeout(() => q.process.kill("SIGKILL"), 20_000).unref();
    const mine = qmpDirOf(q.process.spawnargs);
    expect(fs.existsSync(path.join(mine, "qmp.sock"))).toBe(true);
    expect(q.qmp.version && `${q.qmp.version.major}.${q.qmp.version.minor}.${q.qmp.version.micro}`).toBe(QEMU_VERSION);
    expect(await q.qmp.execute<{ running: boolean; status: string }>("query-status")).toMatchObject({
      running: false,
      status: "prelaunch",
    });
    // replies are matched by id: several in flight come back to their own callers
    const [machines, status] = await Promise.all([q.qmp.execute<{ name: string }[]>("query-machines"), q.qmp.execute("query-status")]);
    expect(machines.map((m) => m.name)).toContain("pc-q35-7.2");
    expect(status).toMatchObject({ running: false });
    await expect(q.qmp.execute("no-such-command")).rejects.toThrow(QmpError);
    await expect(q.qmp.execute("no-such-command")).rejects.toThrow(
      /^QMP no-such-command failed: CommandNotFound: The command no-such-command has not been found$/,
    );
    await q.stop();
    expect(q.process.exitCode !== null || q.process.signalCode !== null).toBe(true);
    expect(fs.existsSync(mine)).toBe(false);
    // after stop, the client refuses at once
    await expect(q.qmp.execute("query-status")).rejects.toThrow(/closed/);
    clearTimeout(guard);
  });

  test("what QEMU prints on stderr is kept (a feature TCG cannot give)", async () => {
    const q = await startPausedQemu(["-machine", "q35", "-accel", "tcg", "-cpu", "qemu64,+vmx"]);
    try {
      expect(q.stderr()).toMatch(/TCG doesn't support requested feature/);
    } finally {
      await q.stop();
    }
  });

  test("readVcpuProperties: vCPU 0's booleans by qom-get; a property that is no boolean is an error naming it", async () => {
    const q = await startPausedQemu(["-machine", "q35", "-accel", "tcg", "-smp", "2", "-cpu", "qemu64,popcnt=on,sse3=off"]);
    try {
      const exec = <T>(c: string, a?: Record<string, unknown>) => q.qmp.execute<T>(c, a);
      expect(await readVcpuProperties(exec, ["popcnt", "sse3"])).toEqual({ popcnt: true, sse3: false });
      await expect(readVcpuProperties(exec, ["popcnt", "model-id"])).rejects.toThrow(
        /^qom-get model-id returned ".*", expected a boolean$/,
      );
      await expect(readVcpuProperties(exec, ["no-such-prop"])).rejects.toThrow(QmpError);
    } finally {
      await q.stop();
    }
  });

  test("readVcpuProperties reads vCPU 0 whatever order query-cpus-fast lists them in; no vCPU is an error", async () => {
    const asked: unknown[] = [];
    const exec = async <T>(c: string, a?: Record<string, unknown>): Promise<T> => {
      if (c === "query-cpus-fast")
        return [
          { "cpu-index": 1, "qom-path": "/cpu1" },
          { "cpu-index": 0, "qom-path": "/cpu0" },
        ] as T;
      asked.push(a);
      return true as T;
    };
    expect(await readVcpuProperties(exec, ["a"])).toEqual({ a: true });
    expect(asked).toEqual([{ path: "/cpu0", property: "a" }]);
    const none = async <T>(): Promise<T> => [] as T;
    await expect(readVcpuProperties(none, ["a"])).rejects.toThrow("query-cpus-fast returned no vCPU");
    const noZero = async <T>(c: string): Promise<T> =>
      c === "query-cpus-fast" ? ([{ "cpu-index": 3, "qom-path": "/cpu3" }] as T) : (false as T);
    expect(await readVcpuProperties(noZero, ["a"])).toEqual({ a: false });
  });

  test("QEMU refusing its arguments: QemuStartError with its exit code and last lines; the socket folder removed", async () => {
    const e = (await startPausedQemu(["-machine", "none", "-accel", "tcg", "-bogus"]).catch((x: unknown) => x)) as QemuStartError;
    expect(e).toBeInstanceOf(QemuStartError);
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe("QEMU did not start (exit 1): qemu-system-x86_64: -bogus: invalid option");
    expect(e.args.slice(0, 8)).toEqual([
      "-S",
      "-nodefaults",
      "-display",
      "none",
      "-serial",
      "none",
      "-qmp",
      expect.stringMatching(/^unix:.*qmp\.sock,server=on,wait=off$/),
    ]);
    expect(e.args.slice(8)).toEqual(["-machine", "none", "-accel", "tcg", "-bogus"]);
    expect(fs.existsSync(qmpDirOf(e.args))).toBe(false);
  });

  test("no QEMU binary: QemuStartError asking whether it is installed", async () => {
    const e = await withEnv("KVM_PARAVIRT_QEMU", "/nonexistent/qemu", () => startPausedQemu(["-machine", "none"]).catch((x: Error) => x));
    expect(e).toBeInstanceOf(QemuStartError);
    expect((e as Error).message).toMatch(/^QEMU did not start \(exit null\): .*ENOENT \(is \/nonexistent\/qemu installed\?\)$/);
  });

  test("a QEMU that never opens its QMP socket is killed after the time limit", async () => {
    const started = Date.now();
    const e = await withFixtureBin("silent-qemu.js", (silent) =>
      withEnv("KVM_PARAVIRT_QEMU", silent, () => startPausedQemu(["-machine", "none"], 1500).catch((x: Error) => x)),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(e).toBeInstanceOf(QemuStartError);
    expect((e as QemuStartError).exitCode).toBeNull();
    expect((e as Error).message).toMatch(/\(timed out waiting for the QMP socket\)$/);
    expect((e as QemuStartError).stderr).toContain("silent-qemu: waiting forever");
    expect(fs.existsSync(qmpDirOf((e as QemuStartError).args))).toBe(false);
  });
});

describe("a QEMU that opens its QMP socket and then exits (QEMU 7.2 refusing hv-vpindex without Hyper-V)", () => {
  test("startPausedQemu rejects with its exit code and words; the process does not just end", async () => {
    const e = await withFixtureBin("greet-then-exit-qemu.js", (q) =>
      withEnv("KVM_PARAVIRT_QEMU", q, () => startPausedQemu(["-machine", "none"], 5000).catch((x: Error) => x)),
    );
    expect(e).toBeInstanceOf(QemuStartError);
    expect((e as QemuStartError).exitCode).toBe(1);
    expect((e as QemuStartError).stderr).toContain("kernel doesn't allow setting HyperV VP_INDEX");
    expect(fs.existsSync(qmpDirOf((e as QemuStartError).args))).toBe(false);
  });
});

describeWith(["qemu"], "probeHost: the local profile (the real QEMU)", () => {
  const kvm = whyNot(["kvm"]) === null;

  test("without KVM (or /dev/kvm not accessible): QEMU's version and x86 PC machines in numeric order, kvm unavailable, no libvirt", async () => {
    const access = fs.accessSync;
    jest.spyOn(fs, "accessSync").mockImplementation((p, mode) => {
      if (p === "/dev/kvm") throw Object.assign(new Error("EACCES"), { code: "EACCES" });
      return access(p, mode);
    });
    const lines: string[] = [];
    const p = await probeHost({ connect: null, progress: (l) => lines.push(l) });
    expect(HostProfileSchema.safeParse(p).success).toBe(true);
    expect(p).toMatchObject({ qemu: QEMU_VERSION, kernel: os.release(), kvm: { available: false, enforceCpuid: false }, source: "probe" });
    expect(p.kvm).not.toHaveProperty("supported");
    expect(p).not.toHaveProperty("libvirt");
    expect(p).not.toHaveProperty("hostModel");
    const machines = p.machines ?? [];
    const names = machines.map((m) => m.name);
    expect(names.every((n) => /^pc-(q35|i440fx)-\d/.test(n))).toBe(true);
    expect(names.indexOf("pc-q35-2.10")).toBeGreaterThan(names.indexOf("pc-q35-2.9"));
    expect(machines.find((m) => m.alias === "q35")?.name).toBe(`pc-q35-${QEMU_VERSION!.split(".").slice(0, 2).join(".")}`);
    expect(machines.find((m) => m.name === "pc-q35-2.9")).toEqual({ name: "pc-q35-2.9" });
    expect(p.description).toMatch(new RegExp(`^probed on ${os.hostname()} at \\d{4}-.* with qemu-system-x86_64$`));
    expect(lines).toEqual([`kernel ${os.release()}, /dev/kvm missing or not accessible`, "QEMU: version, machine types"]);
  });

  (kvm ? test : test.skip)("with KVM: the FEAT_KVM bits QEMU expands for host, and whether KVM enforces PV CPUID", async () => {
    const lines: string[] = [];
    const p = await probeHost({ connect: null, progress: (l) => lines.push(l) });
    expect(p.kvm!.available).toBe(true);
    expect(p.kvm!.supported!.length).toBeGreaterThan(0);
    expect(p.kvm!.supported!.every((s) => KVM_BITS.includes(s))).toBe(true);
    expect(p.kvm!.supported).toContain("kvmclock");
    expect(typeof p.kvm!.enforceCpuid).toBe("boolean");
    expect(lines).toEqual([
      `kernel ${os.release()}, /dev/kvm usable`,
      "QEMU: version, machine types, KVM PV features (query-cpu-model-expansion host)",
      "KVM: KVM_CAP_ENFORCE_PV_FEATURE_CPUID (QEMU paused with kvm-pv-enforce-cpuid=on)",
      "KVM: Hyper-V (QEMU paused with hv-vpindex=on)",
    ]);
    // Hyper-V: [] exactly when the real QEMU refuses hv-vpindex here; else the flags hv-passthrough expands to
    const vpindex = await startPausedQemu(["-machine", "q35", "-accel", "kvm", "-cpu", "qemu64,hv-vpindex=on"]).then(
      async (q) => (await q.stop(), "started"),
      (e: QemuStartError) => e.stderr,
    );
    if (p.kvm!.hyperv?.length === 0) expect(vpindex).toMatch(/kernel doesn't allow setting HyperV VP_INDEX/);
    else {
      expect(vpindex).toBe("started");
      for (const f of p.kvm!.hyperv ?? []) expect(f).toMatch(/^hv-[a-z-]+$/);
    }
  });

  test("with a libvirt connection: libvirt's version (the local libvirtd's when the driver has no daemon); no host model where domcapabilities fails", async () => {
    jest.spyOn(fs, "accessSync").mockImplementation(() => {
      throw new Error("EACCES");
    });
    const lines: string[] = [];
    const p = await probeHost({ connect: "test:///default", progress: (l) => lines.push(l) });
    const local = /(\d+\.\d+\.\d+)/.exec(spawnSync("libvirtd", ["--version"], { encoding: "utf8" }).stdout ?? "")?.[1];
    if (local) expect(p.libvirt).toBe(local);
    else expect(p).not.toHaveProperty("libvirt");
    expect(p).not.toHaveProperty("hostModel");
    expect(lines).toContain("libvirt: version, host-model CPU and NUMA nodes (test:///default)");
    // the NUMA nodes as the driver's capabilities and freepages give them (two cells of eight CPUs)
    expect(p.numaNodes!.map((n) => [n.id, n.cpus])).toEqual([
      [0, [0, 1, 2, 3, 4, 5, 6, 7]],
      [1, [8, 9, 10, 11, 12, 13, 14, 15]],
    ]);
    expect(p.numaNodes![0].pages!.find((x) => x.sizeKiB === 2048)).toEqual({ sizeKiB: 2048, total: 0, free: 97 });
  });
});
