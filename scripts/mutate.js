#!/usr/bin/env node
/**
 * npm run mutate [-- GROUP ...]      Stryker over the pure core, one group of folders at a time
 * npm run mutate -- --changed REF    only the core lines changed since the git ref REF (CI)
 *
 * Each group writes its own report (reports/mutation/GROUP.json) and keeps an incremental
 * file next to it, so a group that was run before re-tests only the mutants whose code or
 * covering tests changed, and a run cut short keeps the groups it finished.
 * `node scripts/mutation-score.js` adds the reports up (the score the README quotes).
 */
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
const base = JSON.parse(fs.readFileSync(path.join(root, "stryker.config.json"), "utf8"));

/** The core, by the folders of its data flow (stryker.config.json's `mutate` is their union). */
const GROUPS = {
  catalog: ["src/catalog/**/*.ts"],
  resolve: ["src/resolve/**/*.ts", "src/analyze.ts", "src/render-spec.ts"],
  checks: ["src/checks/**/*.ts"],
  libvirt: ["src/libvirt/**/*.ts"],
  render: ["src/render/**/*.ts"],
  policy: ["src/policy/policies.ts", "src/policy/config.ts"],
};

function union(groups) {
  return [...new Set(Object.values(groups).flat())].sort();
}

if (JSON.stringify(union(GROUPS)) !== JSON.stringify([...base.mutate].sort())) {
  console.error("scripts/mutate.js: GROUPS and stryker.config.json's mutate differ; keep them the same");
  process.exit(2);
}

/** `file:start-end` ranges of the core's lines changed since `ref` (Stryker mutates only there). */
function changedRanges(ref) {
  const diff = spawnSync("git", ["diff", "--unified=0", ref, "--", ...base.mutate.map((g) => `:(glob)${g}`)], {
    cwd: root,
    encoding: "utf8",
  });
  if (diff.status !== 0) throw new Error(`git diff ${ref} failed: ${diff.stderr}`);
  const ranges = [];
  let file;
  for (const line of diff.stdout.split("\n")) {
    if (line.startsWith("+++ ")) file = line === "+++ /dev/null" ? undefined : line.slice(6);
    const hunk = /^@@ [^+]*\+(\d+)(?:,(\d+))? @@/.exec(line);
    if (file && hunk && hunk[2] !== "0") {
      const start = Number(hunk[1]);
      ranges.push(`${file}:${start}-${start + Number(hunk[2] ?? 1) - 1}`);
    }
  }
  return ranges;
}

function run(name, mutate) {
  const dir = path.join(root, "reports/mutation");
  fs.mkdirSync(dir, { recursive: true });
  const config = {
    ...base,
    mutate,
    incremental: true,
    incrementalFile: `reports/mutation/${name}.incremental.json`,
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
  };
  const file = path.join(dir, `${name}.stryker.json`);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  console.log(`mutate: ${name} (${mutate.join(" ")})`);
  const r = spawnSync("npx", ["stryker", "run", file], { cwd: root, stdio: "inherit" });
  fs.rmSync(file, { force: true });
  return r.status ?? 1;
}

const args = process.argv.slice(2);
let status = 0;
if (args[0] === "--changed") {
  const ref = args[1];
  if (!ref) {
    console.error("usage: npm run mutate -- --changed REF");
    process.exit(2);
  }
  const ranges = changedRanges(ref);
  if (ranges.length === 0) console.log(`mutate: no core lines changed since ${ref}`);
  else status = run("changed", ranges);
} else {
  const names = args.length ? args : Object.keys(GROUPS);
  const unknown = names.filter((n) => !GROUPS[n]);
  if (unknown.length) {
    console.error(`unknown group ${unknown.join(", ")}; groups: ${Object.keys(GROUPS).join(", ")}`);
    process.exit(2);
  }
  for (const n of names) status = run(n, GROUPS[n]) || status;
}
process.exit(status);
