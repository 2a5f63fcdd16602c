import type { Diagnostic } from "../diagnostics";
import type { LoadedSpec } from "../input/load";
import type { Target } from "./model";

/** Domains -> URIs: the spec's `hosts:` section (validated by the loader), else every --connect URI. */
export function targets(loaded: LoadedSpec, connect: readonly string[]): { targets: Target[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const out: Target[] = [];
  for (const d of loaded.domains) {
    if (!d.spec) continue;
    const uris = [...new Set(loaded.hosts.get(d.name) ?? connect)]; // the same URI twice is one host
    if (uris.length === 0)
      diagnostics.push({
        severity: "error",
        code: "no-connection",
        message: `no host for domain ${d.name}: give --connect URI or a hosts: entry`,
        path: `domains[${d.index}]`,
      });
    for (const uri of uris) out.push({ uri, spec: d.spec });
  }
  return { targets: out, diagnostics };
}
