import type { Io } from "./io";

/**
 * Each command has one human view and one JSON view of its result, chosen once
 * from `--json` (as Terraform's per-command views are). Every JSON document
 * carries `formatVersion`: a minor bump adds fields, a major bump changes or removes them.
 */
const FORMAT_VERSION = "1.2";

export interface View<M> {
  human(model: M): string;
  json(model: M): Record<string, unknown>;
}

/** The writer for a command's result, fixed by the --json flag. */
export function chooseView<M>(io: Io, json: boolean | undefined, view: View<M>): (model: M) => void {
  return json ? (m) => io.out(JSON.stringify({ formatVersion: FORMAT_VERSION, ...view.json(m) }, null, 2)) : (m) => io.out(view.human(m));
}
