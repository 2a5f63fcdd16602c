import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

let installed: boolean | undefined;
/** Whether virt-xml-validate runs here (asked once per process). */
export function schemaValidatorInstalled(): boolean {
  installed ??= spawnSync("virt-xml-validate", ["--help"], { encoding: "utf8" }).error === undefined;
  return installed;
}

/**
 * libvirt's own schema check of a domain definition (virt-xml-validate, from libvirt-clients):
 * what a passed-through device is judged by before a define. Null when it validates, else why.
 */
export function schemaProblem(domainXml: string): string | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvm-paravirt-validate-"));
  try {
    const file = path.join(dir, "domain.xml");
    fs.writeFileSync(file, domainXml, { mode: 0o600 });
    const r = spawnSync("virt-xml-validate", [file, "domain"], { encoding: "utf8", timeout: 60_000 });
    if (r.error)
      return "virt-xml-validate is not installed (Debian: apt-get install libvirt-clients libxml2-utils): extraDevices are checked with it before a define";
    if (r.status === 0) return null;
    const lines = `${r.stderr}\n${r.stdout}`
      .split("\n")
      .map((l) => l.replace(file, "domain.xml").trim())
      .filter((l) => l && !/fails to validate$/.test(l));
    return lines.slice(0, 3).join("; ") || "libvirt's schema refuses it";
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
