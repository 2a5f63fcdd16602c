import { withHostLock } from "./host-lock";
import { randomUUID } from "node:crypto";
import { probeHost } from "../../src/system/probe";
import { QemuStartError } from "../../src/system/qemu";
import { realizeVcpu } from "./qemu";
import { readVcpuProperties } from "../../src/system/qmp";
import { runVirsh } from "../../src/system/virsh";
import { defineXml, monitorExec, virsh } from "./libvirt";
import type { HostProfile } from "../../src/host/profile";
import { renderDomain } from "../../src/render-spec";
import { renderDomainXml } from "../../src/libvirt/domain-xml";
import type { Resolution } from "../../src/analyze";
import { validateSpecObject } from "../../src/input/load";
import type { OracleConfig } from "./oracle-configs";
import { LIBVIRT_REFUSES, QEMU_ABORTS, REFUSAL_TEXT } from "./refusals";
// per test file: a domain left over from a killed run, or another run's at the same time, never collides with this one
import { RUN_TAG } from "./run-tag";

const refusalText = (codes: Set<string>, among: Set<string>) =>
  [...codes]
    .filter((c) => among.has(c))
    .map((c) => REFUSAL_TEXT.get(c))
    .find(Boolean);

let profile: Promise<HostProfile> | null = null;
/** The real host profile, probed once per test file. */
export function hostProfile(): Promise<HostProfile> {
  profile ??= probeHost({ connect: null });
  return profile;
}

function prepare(config: OracleConfig, host: HostProfile, name = `kpv-${config.id}`) {
  const loaded = validateSpecObject({ domains: [{ name, ...config.domain }] });
  const d = loaded.domains[0];
  if (!d.spec) throw new Error(`oracle config ${config.id} is not a valid spec: ${JSON.stringify(d.diagnostics)}`);
  const { resolution, rendered } = renderDomain(d.spec, host);
  return { resolution, rendered, codes: new Set(rendered.diagnostics.map((x) => x.code)) };
}

/** Everything the resolver predicts about the realized vCPU: every PV property, and x2apic. */
export function predicted(r: Resolution): Record<string, boolean> {
  return { ...Object.fromEntries([...r.features].map(([k, v]) => [k, v.enabled])), x2apic: r.x2apic.enabled };
}

/** The host quirk of these test machines: -cpu host/max and host-model abort on MSR 0x10a unless arch-capabilities is off. */
export function withHostQuirk(domain: Record<string, unknown>): Record<string, unknown> {
  const cpu = (domain.cpu ?? {}) as Record<string, unknown>;
  if (!["host-passthrough", "maximum", "host-model"].includes(String(cpu.mode))) return domain;
  return { ...domain, cpu: { ...cpu, features: { ...((cpu.features as object) ?? {}), "arch-capabilities": false } } };
}

/** QEMU oracle for one domain: the realized vCPU, or the refusal the resolver predicts. */
export async function checkWithQemu(config: OracleConfig, host: HostProfile): Promise<"compared" | "refused"> {
  const { resolution, rendered, codes } = prepare(config, host);
  if ([...codes].some((c) => QEMU_ABORTS.has(c))) {
    const start = realizeVcpu(rendered.qemuArgs, ["kvm"]);
    await expect(start).rejects.toBeInstanceOf(QemuStartError);
    const text = refusalText(codes, QEMU_ABORTS);
    if (text) await expect(start).rejects.toThrow(text);
    return "refused";
  }
  const want = predicted(resolution);
  const got = await realizeVcpu(rendered.qemuArgs, Object.keys(want));
  expect({ args: rendered.qemuArgs, features: got.properties }).toEqual({ args: rendered.qemuArgs, features: want });
  return "compared";
}

const URI = "qemu:///system";

/**
 * The domains this test file's libvirt oracle defined, by UUID: the only ones it touches, and
 * the ones that must be gone afterwards. Other suites define and probe domains on the same
 * libvirtd at the same time; none of theirs is looked at.
 */
const ownDomains = new Set<string>();

async function removeOwn(uuid: string) {
  await runVirsh(URI, ["destroy", "--domain", uuid]);
  await runVirsh(URI, ["undefine", "--domain", uuid]);
}

/**
 * libvirt oracle for one domain: define (with a UUID of its own, the name made unique to this
 * run), start paused, read over QMP through libvirt, destroy, undefine; every call by that UUID.
 */
export async function checkWithLibvirt(config: OracleConfig, host: HostProfile, name: string): Promise<"compared" | "refused"> {
  // a pinned domain changes what the CPU-pinning suite picks: one of them at a time (test/helpers/host-lock.ts)
  if (config.domain.cpuPinning) return withHostLock("cpu-pinning", () => checkWithLibvirtNow(config, host, name));
  return checkWithLibvirtNow(config, host, name);
}

async function checkWithLibvirtNow(config: OracleConfig, host: HostProfile, name: string): Promise<"compared" | "refused"> {
  const { resolution, codes } = prepare(config, host, `${name}-${RUN_TAG}`);
  const uuid = randomUUID();
  ownDomains.add(uuid);
  try {
    await defineXml(URI, renderDomainXml(resolution, { uuid }));
    const refusal = [...codes].find((c) => LIBVIRT_REFUSES.has(c));
    const start = await runVirsh(URI, ["start", "--paused", "--domain", uuid]);
    if (refusal) {
      expect({ refusal, code: start.code }).toEqual({ refusal, code: 1 });
      const text = refusalText(codes, LIBVIRT_REFUSES);
      if (text) expect(start.stderr).toMatch(text);
      return "refused";
    }
    expect({ start: start.code, stderr: start.stderr }).toEqual({ start: 0, stderr: "" });
    const want = predicted(resolution);
    const got = await readVcpuProperties(monitorExec(URI, uuid), Object.keys(want));
    expect(got).toEqual(want);
    return "compared";
  } finally {
    await removeOwn(uuid);
  }
}

/** The domains this file's libvirt oracle defined that are still defined (by UUID; others' domains are not looked at). */
export async function leftoverDomains(): Promise<string[]> {
  const listed = new Set((await virsh(URI, ["list", "--all", "--uuid"])).split("\n").map((l) => l.trim()));
  return [...ownDomains].filter((u) => listed.has(u));
}
