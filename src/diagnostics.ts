export type Severity = "error" | "warning" | "info";

/** One finding about the input, with a stable code and the spec path it concerns. */
export interface Diagnostic {
  severity: Severity;
  code: string;
  message: string;
  /** JSONPath-like location in the spec, e.g. domains[0].paravirt.pvIpi */
  path: string;
}

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === "error");

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
export const bySeverity = (a: Diagnostic, b: Diagnostic): number => ORDER[a.severity] - ORDER[b.severity];
