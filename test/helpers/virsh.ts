import { spawnSync } from "node:child_process";

/** virsh for tests: one call per process, quiet, on a given connection. */
export function virshOn(uri: string, ...args: string[]) {
  return spawnSync("virsh", ["-q", "-c", uri, ...args], { encoding: "utf8" });
}

/** name -> UUID of every domain, read without any lookup by name (`--domain X` may read X as an ID). */
export function domainUuids(uri: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of virshOn(uri, "list", "--all", "--uuid", "--name").stdout.split("\n"))
    if (line.length > 37) out.set(line.slice(37), line.slice(0, 36));
  return out;
}

/** Destroys and undefines domains by exact name, through their UUIDs. */
export function removeDomains(uri: string, ...names: string[]): void {
  const all = domainUuids(uri);
  for (const n of names) {
    const u = all.get(n);
    if (!u) continue;
    virshOn(uri, "destroy", "--domain", u);
    virshOn(uri, "undefine", "--domain", u);
  }
}
