import fs from "node:fs";
import type { HostAccess } from "../analyze";
import { schemaProblem, schemaValidatorInstalled } from "./xml-validate";

/** A connection to this machine's libvirtd: a disk path can be checked here before the define. */
const isLocalUri = (uri: string): boolean => /^qemu(\+unix)?:\/\/\/(system|session)\b/.test(uri);

/**
 * What the checks may ask of this machine for a domain bound for `uri` (none: no host yet):
 * whether a disk file exists (a local connection only), and libvirt's schema for extra
 * devices (virt-xml-validate, where installed). plan, apply, the provider's Check and
 * validate/render share it, so a preview says what a deploy would.
 */
export function hostAccess(uri?: string): HostAccess {
  return {
    ...(uri !== undefined && isLocalUri(uri) ? { pathExists: (p: string) => fs.existsSync(p) } : {}),
    ...(schemaValidatorInstalled() ? { schemaProblem } : {}),
  };
}
