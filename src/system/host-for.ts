import { ASSUMED_HOST, type HostProfile } from "../host/profile";
import { hostFactsFor, type HostFactsOptions } from "./host-facts";

/**
 * The host facts a command resolves against when it has a libvirt connection: the profile
 * the user gave (--host, hostProfile) overrides; else what the connection tells (read once
 * per URI and process). libvirt's test driver has no QEMU to ask: it stands for the assumed
 * current host, as without a connection.
 */
export function hostFor(uri: string, override: HostProfile | undefined, opts: HostFactsOptions = {}): Promise<HostProfile> {
  if (override) return Promise.resolve(override);
  if (/^test:/.test(uri)) return Promise.resolve(ASSUMED_HOST);
  return hostFactsFor(uri, opts);
}
