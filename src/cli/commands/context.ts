import type { Io } from "../io";

/** Exit codes of render, validate, check, import, xslt, probe, catalog, rules. */
export const EXIT = { ok: 0, diagnostics: 1, usage: 2 } as const;
/** plan and apply follow Terraform: 1 on every error, 2 only for `plan --detailed-exitcode` with changes. */
export const PLAN_EXIT = { ok: 0, error: 1, changes: 2 } as const;

/** What a command module gets: the I/O and where its exit code goes. */
export interface Ctx {
  io: Io;
  exit(code: number): void;
}
