import { probeHost } from "../../src/system/probe";
import { QemuStartError, realizeVcpu } from "../../src/system/qemu";
import { readVcpuProperties } from "../../src/system/qmp";
import { defineXml, monitorExec, runVirsh, virsh } from "../../src/system/virsh";
import type { HostProfile } from "../../src/host/profile";
import { renderDomain } from "../../src/render-spec";
import type { Resolution } from "../../src/analyze";
import { validateSpecObject } from "../../src/input/load";
import type { OracleConfig } from "./oracle-configs";
import { LIBVIRT_REFUSES, QEMU_ABORTS, REFUSAL_TEXT } from "./refusals";

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

export function prepare(config: OracleConfig, host: HostProfile, name = `kpv-${config.id}`) {
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
async function cleanup(name: string) {
  await runVirsh(URI, ["destroy", "--domain", name]);
  await runVirsh(URI, ["undefine", "--domain", name]);
}

/** libvirt oracle for one domain: define, start paused, read over QMP through libvirt, destroy, undefine. */
export async function checkWithLibvirt(config: OracleConfig, host: HostProfile, name: string): Promise<"compared" | "refused"> {
  const { resolution, rendered, codes } = prepare(config, host, name);
  await cleanup(name);
  try {
    await defineXml(URI, rendered.domainXml);
    const refusal = [...codes].find((c) => LIBVIRT_REFUSES.has(c));
    const start = await runVirsh(URI, ["start", "--paused", "--domain", name]);
    if (refusal) {
      expect({ refusal, code: start.code }).toEqual({ refusal, code: 1 });
      const text = refusalText(codes, LIBVIRT_REFUSES);
      if (text) expect(start.stderr).toMatch(text);
      return "refused";
    }
    expect({ start: start.code, stderr: start.stderr }).toEqual({ start: 0, stderr: "" });
    const want = predicted(resolution);
    const got = await readVcpuProperties(monitorExec(URI, name), Object.keys(want));
    expect(got).toEqual(want);
    return "compared";
  } finally {
    await cleanup(name);
  }
}

export async function leftoverDomains(prefix: string): Promise<string[]> {
  return (await virsh(URI, ["list", "--all", "--name"])).split("\n").filter((n) => n.startsWith(prefix));
}
