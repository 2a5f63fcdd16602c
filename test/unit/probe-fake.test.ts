import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { HostProfileSchema } from "../../src/host/profile";
import { probeHost } from "../../src/system/probe";
import { startPausedQemu } from "../../src/system/qemu";
import * as virshSession from "../../src/system/virsh-session";
import { VirshSession } from "../../src/system/virsh-session";
import type { VirshResult } from "../../src/system/virsh";
import { withFixtureBin } from "../helpers/fixture-bin";

/**
 * The local probe (`kvm-paravirt probe`) against a scripted QEMU (test/fixtures/bin/fake-qemu.js,
 * serving QMP as QEMU does) and a scripted libvirt session: every question it asks, with which
 * arguments, and what it makes of each answer, in this process (where mutation testing reaches
 * it). test/unit/local-probe.test.ts runs it against the real QEMU.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-fake-qemu-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => jest.restoreAllMocks());

const MACHINES = [
  { name: "pc-q35-7.2", alias: "q35" },
  { name: "pc-q35-2.10" },
  { name: "pc-q35-2.9" },
  { name: "pc-i440fx-7.2", alias: "pc" },
  { name: "microvm" },
  { name: "isapc" },
  { name: "my-pc-q35-7.2" },
  { name: "none" },
];
const PROPS = {
  kvmclock: true,
  "kvm-pv-ipi": true,
  "kvm-pv-eoi": false,
  vmx: true,
  "hv-relaxed": true,
  "hv-vapic": true,
  "hv-passthrough": true,
};
const VPINDEX = { match: "hv-vpindex=on", message: "kernel doesn't allow setting HyperV VP_INDEX" };

interface Logged {
  argv?: string[];
  execute?: string;
  arguments?: Record<string, unknown>;
}

/** probeHost with /dev/kvm usable or not and the scripted QEMU; returns the profile, progress and what QEMU was asked. */
async function probe(cfg: Record<string, unknown>, opts: { kvm?: boolean; connect?: string | null } = { connect: null }) {
  const log = path.join(dir, `log-${Math.random().toString(16).slice(2)}.jsonl`);
  const access = fs.accessSync;
  jest.spyOn(fs, "accessSync").mockImplementation((p, mode) => {
    if (p === "/dev/kvm") {
      if (opts.kvm === false) throw Object.assign(new Error("EACCES"), { code: "EACCES" });
      return;
    }
    return access(p, mode);
  });
  const lines: string[] = [];
  const beforeBin = process.env.KVM_PARAVIRT_QEMU;
  try {
    const profile = await withFixtureBin("fake-qemu.js", async (bin) => {
      process.env.KVM_PARAVIRT_QEMU = bin;
      fs.writeFileSync(`${bin}.json`, JSON.stringify({ machines: MACHINES, props: PROPS, ...cfg, log }));
      return probeHost({ ...("connect" in opts ? { connect: opts.connect } : { connect: null }), progress: (l) => lines.push(l) });
    });
    const logged = fs.existsSync(log)
      ? (fs
          .readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l)) as Logged[])
      : [];
    return { profile, lines, runs: logged.filter((x) => x.argv).map((x) => x.argv!), asked: logged.filter((x) => x.execute) };
  } finally {
    if (beforeBin === undefined) delete process.env.KVM_PARAVIRT_QEMU;
    else process.env.KVM_PARAVIRT_QEMU = beforeBin;
  }
}
const argsAfterQmp = (argv: string[]) => argv.slice(argv.indexOf("-qmp") + 2);

describe("probeHost with KVM, against a scripted QEMU", () => {
  test("the version from the greeting; x86 PC machines only (by prefix), in numeric order; the KVM bits and Hyper-V flags QEMU expands", async () => {
    const { profile, lines, runs, asked } = await probe({ refuse: [] });
    expect(HostProfileSchema.safeParse(profile).success).toBe(true);
    expect(profile.qemu).toBe("7.2.22");
    expect(profile.kernel).toBe(os.release());
    expect(profile.machines).toStrictEqual([
      { name: "pc-i440fx-7.2", alias: "pc" },
      { name: "pc-q35-2.9" },
      { name: "pc-q35-2.10" },
      { name: "pc-q35-7.2", alias: "q35" },
    ]);
    // only catalog KVM bits that are on (vmx is no PV feature), hv-passthrough itself not a flag
    expect(profile.kvm).toStrictEqual({
      available: true,
      supported: ["kvmclock", "kvm-pv-ipi"],
      enforceCpuid: true,
      hyperv: ["hv-relaxed", "hv-vapic"],
    });
    expect(profile.source).toBe("probe");
    expect(profile.description).toMatch(/^probed on .+ at \d{4}-\d\d-\d\dT.+ with .*fake-qemu\.js$/);
    // the three QEMUs it starts, with exactly these arguments
    expect(runs.map(argsAfterQmp)).toEqual([
      ["-machine", "none", "-accel", "kvm"],
      ["-machine", "q35", "-accel", "kvm", "-cpu", "qemu64,kvm-pv-enforce-cpuid=on"],
      ["-machine", "q35", "-accel", "kvm", "-cpu", "qemu64,hv-vpindex=on"],
    ]);
    expect(asked.find((a) => a.execute === "query-cpu-model-expansion")!.arguments).toEqual({
      type: "full",
      model: { name: "host", props: { "hv-passthrough": true } },
    });
    // the enforce-cpuid QEMU is asked for its vCPUs (it must really have started one)
    expect(asked.map((a) => a.execute)).toContain("query-cpus-fast");
    // each QEMU is quit
    expect(asked.filter((a) => a.execute === "quit")).toHaveLength(3);
    expect(lines).toEqual([
      `kernel ${os.release()}, /dev/kvm usable`,
      "QEMU: version, machine types, KVM PV features (query-cpu-model-expansion host)",
      "KVM: KVM_CAP_ENFORCE_PV_FEATURE_CPUID (QEMU paused with kvm-pv-enforce-cpuid=on)",
      "KVM: Hyper-V (QEMU paused with hv-vpindex=on)",
    ]);
  });

  test("QEMU refuses hv-vpindex (a KVM without Hyper-V): kvm.hyperv is []", async () => {
    const { profile } = await probe({ refuse: [VPINDEX] });
    expect(profile.kvm!.hyperv).toEqual([]);
  });

  test("QEMU starts hv-vpindex but expands no Hyper-V flag (a kernel before 5.11): kvm.hyperv unset", async () => {
    const { profile } = await probe({ props: { kvmclock: true } });
    expect(profile.kvm).not.toHaveProperty("hyperv");
  });

  test("another refusal of hv-vpindex is the probe's failure, with QEMU's exit code and its last three lines", async () => {
    const message = "warning: one\nwarning: two\nkvm_init_vcpu failed: Permission denied\nthe end";
    const e = (await probe({ refuse: [{ match: "hv-vpindex=on", message, code: 3 }] }).catch((x: unknown) => x)) as Error;
    expect(e.message).toBe("QEMU did not start (exit 3): warning: two | kvm_init_vcpu failed: Permission denied | the end");
  });

  test("QEMU refuses kvm-pv-enforce-cpuid=on: enforceCpuid false", async () => {
    const { profile } = await probe({
      refuse: [{ match: "kvm-pv-enforce-cpuid=on", message: "failed to enable KVM_CAP_ENFORCE_PV_FEATURE_CPUID" }],
    });
    expect(profile.kvm!.enforceCpuid).toBe(false);
  });

  test("QEMU before 4.1 (no hv-passthrough): the expansion without it, and no Hyper-V question", async () => {
    const { profile, runs, asked } = await probe({ version: { major: 4, minor: 0, micro: 1 } });
    expect(profile.qemu).toBe("4.0.1");
    expect(asked.find((a) => a.execute === "query-cpu-model-expansion")!.arguments).toEqual({ type: "full", model: { name: "host" } });
    expect(runs).toHaveLength(2);
    expect(profile.kvm).not.toHaveProperty("hyperv");
  });

  test("a greeting without a version: 0.0.0", async () => {
    const { profile } = await probe({ version: null });
    expect(profile.qemu).toBe("0.0.0");
  });
});

describe("probeHost without KVM", () => {
  test("TCG, no expansion, no enforce or Hyper-V question; kvm unavailable", async () => {
    const { profile, runs, asked, lines } = await probe({}, { kvm: false });
    expect(runs.map(argsAfterQmp)).toEqual([["-machine", "none", "-accel", "tcg"]]);
    expect(asked.map((a) => a.execute)).not.toContain("query-cpu-model-expansion");
    expect(profile.kvm).toStrictEqual({ available: false, enforceCpuid: false });
    expect(lines[0]).toBe(`kernel ${os.release()}, /dev/kvm missing or not accessible`);
    expect(lines[1]).toBe("QEMU: version, machine types");
  });
});

describe("probeHost's libvirt part, over a scripted session", () => {
  const ok = (stdout: string): VirshResult => ({ code: 0, stdout, stderr: "" });
  const DOMCAPS =
    "<domainCapabilities><cpu><mode name='host-model' supported='yes'><model>EPYC-Rome</model></mode></cpu></domainCapabilities>";
  function session(answers: (args: readonly string[]) => VirshResult) {
    const asked: string[][] = [];
    jest.spyOn(VirshSession.prototype, "run").mockImplementation(async (args: readonly string[]) => {
      asked.push([...args]);
      return answers(args);
    });
    return asked;
  }

  test("the daemon's version and the host-model CPU of domcapabilities for kvm", async () => {
    const asked = session((a) => (a[0] === "version" ? ok("Running against daemon: 10.1.0\n") : ok(DOMCAPS)));
    const { profile, lines } = await probe({}, { kvm: false, connect: "test:///default" });
    // capabilities answered with the domcapabilities document: no <topology>, so no NUMA nodes and no freepages
    expect(asked).toEqual([["version", "--daemon"], ["domcapabilities", "--virttype", "kvm", "--arch", "x86_64"], ["capabilities"]]);
    expect(profile).toMatchObject({ libvirt: "10.1.0", hostModel: "EPYC-Rome" });
    expect(profile).not.toHaveProperty("numaNodes");
    expect(lines).toContain("libvirt: version, host-model CPU and NUMA nodes (test:///default)");
  });

  test("no daemon version: this machine's libvirtd's; domcapabilities failing: no host model", async () => {
    session((a) => (a[0] === "version" ? ok("Using library: libvirt 9.0.0\n") : { code: 1, stdout: DOMCAPS, stderr: "error: no\n" }));
    const { profile } = await probe({}, { kvm: false, connect: "test:///default" });
    const local = /(\d+\.\d+\.\d+)/.exec(spawnSync("libvirtd", ["--version"], { encoding: "utf8" }).stdout ?? "")?.[1];
    if (local) expect(profile.libvirt).toBe(local);
    else expect(profile).not.toHaveProperty("libvirt");
    expect(profile).not.toHaveProperty("hostModel");
  });

  test("a host model that is no identifier is not taken", async () => {
    session((a) => (a[0] === "version" ? ok("Running against daemon: 10.1.0\n") : ok(DOMCAPS.replace("EPYC-Rome", "bad name"))));
    const { profile } = await probe({}, { kvm: false, connect: "test:///default" });
    expect(profile).not.toHaveProperty("hostModel");
  });

  test("connect undefined: qemu:///system is asked, through one session", async () => {
    const uris: string[] = [];
    jest.spyOn(virshSession, "withVirshSession").mockImplementation(async (uri, _t, fn) => {
      uris.push(uri);
      const fake = { run: async (a: readonly string[]) => (a[0] === "version" ? ok("Running against daemon: 10.1.0\n") : ok(DOMCAPS)) };
      return fn(fake as unknown as VirshSession);
    });
    const { profile } = await probe({}, { kvm: false, connect: undefined });
    expect(uris).toEqual(["qemu:///system"]);
    expect(profile.libvirt).toBe("10.1.0");
  });
});

describe("stopping a QEMU that does not quit", () => {
  test("stop gives up on quit after 2 s, kills it after 3 more, and returns; the socket folder goes", async () => {
    await withFixtureBin("fake-qemu.js", async (bin) => {
      fs.writeFileSync(`${bin}.json`, JSON.stringify({ hang: true }));
      const before = process.env.KVM_PARAVIRT_QEMU;
      process.env.KVM_PARAVIRT_QEMU = bin;
      try {
        const q = await startPausedQemu(["-machine", "none"]);
        const sock = q.process.spawnargs.find((a) => a.startsWith("unix:"))!;
        const started = Date.now();
        await q.stop();
        const took = Date.now() - started;
        expect(took).toBeGreaterThanOrEqual(4500);
        expect(took).toBeLessThan(9000);
        expect(q.process.signalCode).toBe("SIGKILL");
        expect(fs.existsSync(path.dirname(sock.slice(5).split(",")[0]))).toBe(false);
      } finally {
        if (before === undefined) delete process.env.KVM_PARAVIRT_QEMU;
        else process.env.KVM_PARAVIRT_QEMU = before;
      }
    });
  }, 20_000);
});
