import fs from "node:fs";
import path from "node:path";
import type { HostProfile } from "../../src/host/profile";
import { renderSpec, type RenderedSpec } from "../../src/render-spec";
import { parseSpecText, validateSpecObject } from "../../src/input/load";
import type { DomainSpec } from "../../src/input/schema";
import debian12 from "../../examples/host-profiles/debian12-qemu7.2.json";

export const ROOT = path.resolve(__dirname, "../..");
export const DEBIAN12 = debian12 as HostProfile;

/** One test domain, validated; one that does not validate is the test's own mistake, thrown with its diagnostics. */
export function domainSpec(domain: Record<string, unknown>): DomainSpec {
  const d = validateSpecObject({ domains: [domain] }).domains[0];
  if (!d.spec) throw new Error(`test domain invalid: ${JSON.stringify(d.diagnostics)}`);
  return d.spec;
}

/** Every example spec under examples/ (YAML files with a `domains:` list). */
export function exampleSpecs(): string[] {
  const dir = path.join(ROOT, "examples");
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => /\.ya?ml$/.test(f) && !f.includes("node_modules"))
    .map((f) => path.join(dir, f))
    .filter((f) => /^domains:/m.test(fs.readFileSync(f, "utf8")));
}

export function renderFile(file: string, host: HostProfile | undefined = DEBIAN12): RenderedSpec {
  return renderSpec(parseSpecText(fs.readFileSync(file, "utf8")), host);
}
