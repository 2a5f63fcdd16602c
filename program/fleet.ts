import fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { ParavirtDomain } from "../src/pulumi/paravirt-domain";
import { mergeDefaults, parseSpecText } from "../src/input/load";
import { redactSecrets } from "../src/util/secrets";

/**
 * The root Pulumi program's logic: one ParavirtDomain per domain of a spec file and host,
 * routed as `kvm-paravirt apply` routes it: the spec's `hosts:` entry for the domain (one URI
 * or several), else the stack's connection. A domain on one host is a resource of its name; on
 * several, one resource per host, named `<domain>@<URI>` (secrets redacted), each defining the
 * domain by its own name. Spec problems stop the program before any resource is registered.
 */
export interface FleetOptions {
  specFile: string;
  connection: string;
  /** path of a `kvm-paravirt probe --json` file */
  hostProfileFile?: string;
}

function read(path: string, what: string): string {
  try {
    return fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new pulumi.RunError(`cannot read the ${what} ${path}: ${(e as Error).message}`);
  }
}

export function deployFleet(opts: FleetOptions): Record<string, ParavirtDomain> {
  const text = read(opts.specFile, "spec file");
  const loaded = parseSpecText(text);
  const errors = [...loaded.diagnostics, ...loaded.domains.flatMap((d) => d.diagnostics)].filter((d) => d.severity === "error");
  if (errors.length)
    throw new pulumi.RunError(
      `${opts.specFile} is not a valid spec:\n${errors.map((e) => `  ${e.path}: [${e.code}] ${e.message}`).join("\n")}`,
    );
  const hostProfile = opts.hostProfileFile ? read(opts.hostProfileFile, "host profile") : undefined;
  // the validated document, with defaults merged the way the spec loader merges them
  const doc = YAML.parse(text) as { defaults?: Record<string, unknown>; domains: Record<string, unknown>[] };
  const out: Record<string, ParavirtDomain> = {};
  for (const raw of doc.domains) {
    const d = mergeDefaults(doc.defaults ?? {}, raw);
    const name = String(d.name);
    const uris = [...new Set(loaded.hosts.get(name) ?? [opts.connection])];
    for (const uri of uris) {
      const resource = uris.length > 1 ? `${name}@${redactSecrets(uri)}` : name;
      out[resource] = new ParavirtDomain(resource, { ...d, name, connection: uri, ...(hostProfile !== undefined ? { hostProfile } : {}) });
    }
  }
  return out;
}
