import YAML from "yaml";
import { z } from "zod";
import type { Diagnostic } from "../diagnostics";
import { closest } from "../util/suggest";
import { defaultsSchema, domainSchema, hostUris, normalizeDomain, type DomainSpec } from "./schema";

/**
 * Spec text -> validated, default-filled domains. Pure: no file access here.
 * Problems come back as diagnostics with a path; nothing throws for bad input.
 */

export interface LoadedDomain {
  /** position in the document's domains list */
  index: number;
  /** the name as written (possibly invalid), for reports */
  name: string;
  /** null when the entry failed validation */
  spec: DomainSpec | null;
  diagnostics: Diagnostic[];
}

export interface LoadedSpec {
  /** problems that concern the file as a whole (syntax, shape, duplicates) */
  diagnostics: Diagnostic[];
  /** true when the text could not be read as a spec at all (exit code 2) */
  unreadable: boolean;
  domains: LoadedDomain[];
  /** the `hosts:` section (domain name -> URIs), validated; for the live-host commands */
  hosts: ReadonlyMap<string, readonly string[]>;
}

const TOP_KEYS = ["defaults", "domains", "hosts"];

/**
 * The keys the object at `path` (string segments below a domain) takes, from the zod schema
 * itself: one source for the message listing what is allowed, for every nested object.
 */
function allowedKeysAt(path: readonly string[]): readonly string[] {
  let node: z.ZodType = domainSchema;
  for (const key of [...path, ""]) {
    // through optional fields and lists to the object
    for (;;) {
      if (node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
      else if (node instanceof z.ZodArray) node = node.element as z.ZodType;
      else break;
    }
    if (!(node instanceof z.ZodObject)) return [];
    if (key === "") return Object.keys(node.shape);
    node = node.shape[key] as z.ZodType;
    if (!node) return [];
  }
  return [];
}

export function formatPath(parts: readonly (string | number | symbol)[]): string {
  let out = "";
  for (const p of parts) {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(p))) out += out ? `.${String(p)}` : String(p);
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const hint = closest(key, allowed);
  return `unknown field ${JSON.stringify(key)}${hint ? `; did you mean ${hint}?` : ""} Allowed: ${allowed.join(", ")}`;
}

function zodIssues(error: z.ZodError, base: (string | number)[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of error.issues) {
    const path = [...base, ...(issue.path as (string | number)[])];
    if (issue.code === "unrecognized_keys") {
      const objectKey = issue.path.filter((p) => typeof p === "string").join(".");
      const allowed = allowedKeysAt(issue.path.filter((p): p is string => typeof p === "string"));
      for (const key of issue.keys) {
        out.push({
          severity: "error",
          code: objectKey === "paravirt" || objectKey === "hyperv" ? "spec-unknown-feature" : "spec-unknown-field",
          message: unknownKeyMessage(key, allowed),
          path: formatPath([...path, key]),
        });
      }
      continue;
    }
    const missing = issue.code === "invalid_type" && issue.input === undefined;
    out.push({
      severity: "error",
      code: missing ? "spec-missing-field" : "spec-invalid-value",
      message: missing ? `required field is missing (${issue.message})` : issue.message,
      path: formatPath(path),
    });
  }
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Merges `defaults` under a domain: objects one level deep, everything else replaced. */
export function mergeDefaults(defaults: Record<string, unknown>, domain: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(domain)) {
    // own properties only, written as data: a key named __proto__ stays a key (and is then refused as unknown)
    const d = Object.hasOwn(out, k) ? out[k] : undefined;
    let value = v;
    if (isPlainObject(d) && isPlainObject(v)) {
      const merged: Record<string, unknown> = { ...d, ...v };
      // cpu.features is itself a map: merge it too
      if (k === "cpu" && isPlainObject(d.features) && isPlainObject(v.features)) merged.features = { ...d.features, ...v.features };
      // a domain that picks another CPU mode does not inherit the default's model
      if (k === "cpu" && v.mode !== undefined && v.mode !== "custom" && v.model === undefined) delete merged.model;
      value = merged;
    }
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function fileError(code: string, message: string, path = ""): LoadedSpec {
  return { diagnostics: [{ severity: "error", code, message, path }], unreadable: true, domains: [], hosts: new Map() };
}

/** The `hosts:` section: valid URIs, and only names of the spec's domains. A Map: names are user data. */
function loadHosts(raw: unknown, domainNames: ReadonlySet<string>, diagnostics: Diagnostic[]): Map<string, readonly string[]> {
  const hosts = new Map<string, readonly string[]>();
  if (raw === undefined) return hosts;
  if (!isPlainObject(raw)) {
    diagnostics.push({
      severity: "error",
      code: "spec-invalid-value",
      message: "hosts must map domain names to a libvirt URI or a list of URIs",
      path: "hosts",
    });
    return hosts;
  }
  for (const [name, value] of Object.entries(raw)) {
    const parsed = hostUris.safeParse(value, { reportInput: true });
    if (!parsed.success) {
      diagnostics.push(...zodIssues(parsed.error, ["hosts", name]));
      continue;
    }
    if (!domainNames.has(name))
      diagnostics.push({
        severity: "error",
        code: "spec-unknown-field",
        message: `hosts names a domain the spec does not have: ${name}`,
        path: formatPath(["hosts", name]),
      });
    hosts.set(name, typeof parsed.data === "string" ? [parsed.data] : parsed.data);
  }
  return hosts;
}

/** Parses a YAML or JSON spec document. */
/** Bounds on input, so that work and memory stay proportional to a sane spec (README: Limits). */
export const LIMITS = {
  /** bytes of spec text (YAML or JSON) */
  specBytes: 8 * 1024 * 1024,
  /** domains in one spec */
  domains: 20_000,
} as const;

/** The first key that a YAML mapping repeats, found in one pass per map (the yaml library's own check is quadratic). */
function firstDuplicateKey(doc: YAML.Document): { key: string; pos: number } | null {
  let found: { key: string; pos: number } | null = null;
  YAML.visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const k = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (seen.has(k)) {
          found = { key: k, pos: (YAML.isNode(pair.key) && pair.key.range?.[0]) || 0 };
          return YAML.visit.BREAK;
        }
        seen.add(k);
      }
      return undefined;
    },
  });
  return found;
}

export function parseSpecText(text: string): LoadedSpec {
  if (text.trim() === "") return fileError("spec-empty", "the spec is empty: expected a mapping with a `domains:` list");
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > LIMITS.specBytes)
    return fileError(
      "spec-too-large",
      `the spec is ${bytes} bytes; at most ${LIMITS.specBytes} (8 MiB) are read: split the fleet into several specs`,
    );
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { uniqueKeys: false, prettyErrors: false, lineCounter });
  const at = (pos: number) => {
    const lp = lineCounter.linePos(pos);
    return ` at line ${lp.line}, column ${lp.col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    return fileError("spec-syntax", `not valid YAML or JSON${at(e.pos[0])}: ${e.message.split("\n")[0]}`);
  }
  const dup = firstDuplicateKey(doc);
  if (dup)
    return fileError(
      "spec-syntax",
      `not valid YAML or JSON${at(dup.pos)}: map keys must be unique (${JSON.stringify(dup.key)} is repeated)`,
    );
  return validateSpecObject(doc.toJS({ maxAliasCount: 100 }));
}

/** Validates an already-parsed spec object (from YAML, JSON or a program). */
export function validateSpecObject(raw: unknown): LoadedSpec {
  if (!isPlainObject(raw)) return fileError("spec-shape", "the spec must be a mapping with a `domains:` list");
  const diagnostics: Diagnostic[] = [];
  for (const k of Object.keys(raw))
    if (!TOP_KEYS.includes(k))
      diagnostics.push({ severity: "error", code: "spec-unknown-field", message: unknownKeyMessage(k, TOP_KEYS), path: formatPath([k]) });
  if (!Array.isArray(raw.domains))
    return fileError("spec-shape", "the spec needs a `domains:` list (one entry per libvirt domain)", "domains");
  if (raw.domains.length > LIMITS.domains)
    return fileError(
      "spec-too-large",
      `the spec has ${raw.domains.length} domains; at most ${LIMITS.domains} are read: split the fleet into several specs`,
      "domains",
    );
  if (raw.domains.length === 0)
    diagnostics.push({ severity: "warning", code: "spec-no-domains", message: "the domains list is empty", path: "domains" });

  // Invalid defaults are reported once, here; the domains that would inherit them are not resolved.
  let defaultsOk = true;
  if (raw.defaults !== undefined) {
    const parsed = defaultsSchema.safeParse(raw.defaults, { reportInput: true });
    defaultsOk = parsed.success;
    if (!parsed.success) diagnostics.push(...zodIssues(parsed.error, ["defaults"]));
  }
  const defaultsRaw = defaultsOk && isPlainObject(raw.defaults) ? raw.defaults : {};

  const seen = new Map<string, number>();
  const domains: LoadedDomain[] = raw.domains.map((entry: unknown, index: number) => {
    const base: (string | number)[] = ["domains", index];
    const name = isPlainObject(entry) && typeof entry.name === "string" ? entry.name : `domains[${index}]`;
    if (!isPlainObject(entry))
      return {
        index,
        name,
        spec: null,
        diagnostics: [
          { severity: "error", code: "spec-shape", message: "each domain must be a mapping with at least a name", path: formatPath(base) },
        ],
      };
    const merged = mergeDefaults(defaultsRaw, entry);
    const parsed = domainSchema.safeParse(merged, { reportInput: true });
    const ds: Diagnostic[] = parsed.success ? [] : zodIssues(parsed.error, base);
    if (typeof entry.name === "string") {
      const first = seen.get(entry.name);
      if (first !== undefined)
        ds.push({
          severity: "error",
          code: "spec-duplicate-name",
          message: `domain name ${JSON.stringify(entry.name)} is already used by domains[${first}]; names must be unique per host`,
          path: formatPath([...base, "name"]),
        });
      else seen.set(entry.name, index);
    }
    const ok = defaultsOk && parsed.success && !ds.some((d) => d.severity === "error");
    return { index, name, spec: ok ? normalizeDomain(parsed.data) : null, diagnostics: ds };
  });
  const hosts = loadHosts(raw.hosts, new Set(domains.map((d) => d.name)), diagnostics);
  return { diagnostics, unreadable: false, domains, hosts };
}
