import { probeHost } from "../../src/adapters/probe";
import type { HostProfile } from "../../src/host/profile";
import { renderDomain } from "../../src/pipeline";
import type { Resolution } from "../../src/resolve/resolve";
import { validateSpecObject } from "../../src/spec/load";
import type { OracleConfig } from "./oracle-configs";

/** Codes whose prediction is "QEMU/libvirt refuses to start", checked as such by the oracles. */
export const QEMU_ABORTS = new Set(["asyncpf-int-needs-kernel-irqchip", "pv-enforce-cpuid-unsupported", "host-qemu-too-old"]);
export const LIBVIRT_REFUSES = new Set([...QEMU_ABORTS, "libvirt-refuses-pvspinlock"]);

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

export function predicted(r: Resolution): Record<string, boolean> {
  return Object.fromEntries([...r.features].map(([k, v]) => [k, v.enabled]));
}
