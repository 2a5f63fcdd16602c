import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { FEATURES } from "../catalog/features";
import type { HostProfile } from "../host/profile";
import { HYPERV_FEATURES, HYPERV_VALUES } from "../catalog/hyperv";
import { atLeast } from "../util/version";
import { QemuStartError, qemuBinary, startPausedQemu } from "./qemu";
import { parseCapabilities, parseDomCapabilities, parseVirshVersion, VPINDEX_REFUSED, withFreePages } from "./host-facts";
import { withVirshSession } from "./virsh-session";

/**
 * `kvm-paravirt probe`: a host profile read from the real programs.
 * - QEMU version and machine types: QMP greeting and query-machines
 * - the FEAT_KVM bits KVM offers: QMP query-cpu-model-expansion (full, "host") under KVM
 * - KVM_CAP_ENFORCE_PV_FEATURE_CPUID: QEMU started paused with kvm-pv-enforce-cpuid=on survives
 * - libvirt version and host-model CPU: virsh version, virsh domcapabilities
 */

export interface ProbeOptions {
  /** libvirt URI for the libvirt part; null skips it */
  connect?: string | null;
  progress?: (step: string) => void;
}

function kvmUsable(): boolean {
  try {
    fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const KVM_BITS = FEATURES.filter((f) => f.kind === "kvm-bit").map((f) => f.qemu);

async function probeQemu(
  kvm: boolean,
  progress: (s: string) => void,
): Promise<Pick<HostProfile, "qemu" | "machines"> & { supported?: string[]; hyperv?: string[] }> {
  progress("QEMU: version, machine types" + (kvm ? ", KVM PV features (query-cpu-model-expansion host)" : ""));
  const q = await startPausedQemu(["-machine", "none", ...(kvm ? ["-accel", "kvm"] : ["-accel", "tcg"])]);
  try {
    const v = q.qmp.version;
    const machines = await q.qmp.execute<{ name: string; alias?: string }[]>("query-machines");
    const out: Pick<HostProfile, "qemu" | "machines"> & { supported?: string[]; hyperv?: string[] } = {
      qemu: v ? `${v.major}.${v.minor}.${v.micro}` : "0.0.0",
      machines: machines
        .filter((m) => /^pc-(q35|i440fx)-/.test(m.name))
        .map((m) => ({ name: m.name, ...(m.alias ? { alias: m.alias } : {}) }))
        .sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true })),
    };
    if (kvm) {
      // with hv-passthrough on, the Hyper-V flags KVM offers expand too (QEMU 4.1 and later)
      const hv = atLeast(out.qemu, HYPERV_VALUES.passthrough.qemuSince);
      const exp = await q.qmp.execute<{ model: { props: Record<string, unknown> } }>("query-cpu-model-expansion", {
        type: "full",
        model: { name: "host", ...(hv ? { props: { [HYPERV_VALUES.passthrough.qemu]: true } } : {}) },
      });
      out.supported = KVM_BITS.filter((n) => exp.model.props[n] === true);
      if (hv) out.hyperv = HYPERV_FEATURES.filter((r) => exp.model.props[r.qemu] === true).map((r) => r.qemu);
    }
    return out;
  } finally {
    await q.stop();
  }
}

async function probeEnforceCpuid(progress: (s: string) => void): Promise<boolean> {
  progress("KVM: KVM_CAP_ENFORCE_PV_FEATURE_CPUID (QEMU paused with kvm-pv-enforce-cpuid=on)");
  try {
    const q = await startPausedQemu(["-machine", "q35", "-accel", "kvm", "-cpu", "qemu64,kvm-pv-enforce-cpuid=on"]);
    try {
      await q.qmp.execute("query-cpus-fast");
      return true;
    } finally {
      await q.stop();
    }
  } catch {
    return false;
  }
}

/**
 * Whether KVM has Hyper-V: QEMU refuses hv-vpindex at start on a KVM without it. Then [];
 * with it, the flags the expansion named, or undefined when it named none (a kernel before 5.11).
 */
async function probeHyperv(expanded: string[], progress: (s: string) => void): Promise<string[] | undefined> {
  progress("KVM: Hyper-V (QEMU paused with hv-vpindex=on)");
  try {
    const q = await startPausedQemu(["-machine", "q35", "-accel", "kvm", "-cpu", "qemu64,hv-vpindex=on"]);
    await q.stop();
  } catch (e) {
    if (e instanceof QemuStartError && VPINDEX_REFUSED.test(e.stderr)) return [];
    throw e;
  }
  return expanded.length ? expanded : undefined;
}

/** libvirt's version and host-model CPU, asked through one session (as `probe --connect` asks for everything). */
async function probeLibvirt(uri: string, progress: (s: string) => void): Promise<Pick<HostProfile, "libvirt" | "hostModel" | "numaNodes">> {
  progress(`libvirt: version, host-model CPU and NUMA nodes (${uri})`);
  const out: Pick<HostProfile, "libvirt" | "hostModel" | "numaNodes"> = {};
  await withVirshSession(uri, undefined, async (session) => {
    const ver = parseVirshVersion((await session.run(["version", "--daemon"])).stdout);
    if (ver.libvirt) out.libvirt = ver.libvirt;
    else {
      const local = spawnSync("libvirtd", ["--version"], { encoding: "utf8" });
      const lm = /(\d+\.\d+\.\d+)/.exec(local.stdout ?? "");
      if (lm) out.libvirt = lm[1];
    }
    const caps = await session.run(["domcapabilities", "--virttype", "kvm", "--arch", "x86_64"]);
    const hostModel = caps.code === 0 ? parseDomCapabilities(caps.stdout).hostModel : undefined;
    if (hostModel) out.hostModel = hostModel;
    // the host's CPUs and page pools, as probe --connect reads them (pinning and huge pages are checked against them)
    const topo = await session.run(["capabilities"]);
    const nodes = topo.code === 0 ? parseCapabilities(topo.stdout).numaNodes : undefined;
    if (nodes) out.numaNodes = await withFreePages(session, nodes);
  });
  return out;
}

export async function probeHost(opts: ProbeOptions = {}): Promise<HostProfile> {
  const progress = opts.progress ?? (() => undefined);
  const kvm = kvmUsable();
  progress(`kernel ${os.release()}, /dev/kvm ${kvm ? "usable" : "missing or not accessible"}`);
  const q = await probeQemu(kvm, progress);
  const enforce = kvm ? await probeEnforceCpuid(progress) : false;
  const hyperv = kvm && q.hyperv ? await probeHyperv(q.hyperv, progress) : undefined;
  const lv = opts.connect === null ? {} : await probeLibvirt(opts.connect ?? "qemu:///system", progress);
  return {
    qemu: q.qemu,
    ...(lv.libvirt ? { libvirt: lv.libvirt } : {}),
    kernel: os.release(),
    kvm: { available: kvm, ...(q.supported ? { supported: q.supported } : {}), enforceCpuid: enforce, ...(hyperv ? { hyperv } : {}) },
    machines: q.machines,
    ...(lv.hostModel ? { hostModel: lv.hostModel } : {}),
    ...(lv.numaNodes ? { numaNodes: lv.numaNodes } : {}),
    source: "probe",
    description: `probed on ${os.hostname()} at ${new Date().toISOString()} with ${qemuBinary()}`,
  };
}
