#!/usr/bin/env node
/**
 * npm run mutate [-- GROUP ...]            Stryker, one group at a time (default: every core group)
 * npm run mutate -- core | edges           every group of that part (scripts/mutation-groups.js)
 * npm run mutate -- --changed REF          only the core lines changed since the git ref REF (CI)
 * npm run mutate -- --changed-edges REF    only the edge lines changed since REF (CI)
 *
 * Each group writes its own report (reports/mutation/GROUP.json) and keeps an incremental
 * file next to it, so a group that was run before re-tests only the mutants whose code or
 * covering tests changed, and a run cut short keeps the groups it finished.
 * `node scripts/mutation-score.js` adds the reports up (the scores the README quotes).
 */
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { CORE, EDGES, JEST_CONFIG } = require("./mutation-groups");

const root = path.join(__dirname, "..");
const base = JSON.parse(fs.readFileSync(path.join(root, "stryker.config.json"), "utf8"));

function union(groups) {
  return [...new Set(Object.values(groups).flat())].sort();
}

if (JSON.stringify(union(CORE)) !== JSON.stringify([...base.mutate].sort())) {
  console.error("scripts/mutate.js: the core groups and stryker.config.json's mutate differ; keep them the same");
  process.exit(2);
}

// src/system is split over three groups by file: a new file there must join one of them
const systemFiles = fs.readdirSync(path.join(root, "src/system")).filter((f) => f.endsWith(".ts"));
const inGroups = new Set(Object.values(EDGES).flat());
const ungrouped = systemFiles.filter((f) => !inGroups.has(`src/system/${f}`));
if (ungrouped.length) {
  console.error(`scripts/mutate.js: src/system/${ungrouped.join(", src/system/")} in no group of scripts/mutation-groups.js`);
  process.exit(2);
}

/** `file:start-end` ranges of the lines changed since `ref` in the files `globs` name (Stryker mutates only there). */
function changedRanges(ref, globs) {
  const pathspecs = globs.map((g) => (g.startsWith("!") ? `:(exclude,glob)${g.slice(1)}` : `:(glob)${g}`));
  const diff = spawnSync("git", ["diff", "--unified=0", "-M", ref, "--", ...pathspecs], {
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

function run(name, mutate, part) {
  const dir = path.join(root, "reports/mutation");
  fs.mkdirSync(dir, { recursive: true });
  const config = {
    ...base,
    mutate,
    jest: { ...base.jest, configFile: JEST_CONFIG[part] },
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
const GROUPS = { ...CORE, ...EDGES };
const partOf = (name) => (name in EDGES ? "edges" : "core");
let status = 0;
if (args[0] === "--changed" || args[0] === "--changed-edges") {
  const ref = args[1];
  if (!ref) {
    console.error(`usage: npm run mutate -- ${args[0]} REF`);
    process.exit(2);
  }
  const part = args[0] === "--changed" ? "core" : "edges";
  const ranges = changedRanges(ref, part === "core" ? base.mutate : union(EDGES));
  if (ranges.length === 0) console.log(`mutate: no ${part} lines changed since ${ref}`);
  else status = run(part === "core" ? "changed" : "changed-edges", ranges, part);
} else {
  const names = args.flatMap((a) => (a === "core" ? Object.keys(CORE) : a === "edges" ? Object.keys(EDGES) : [a]));
  if (names.length === 0) names.push(...Object.keys(CORE));
  const unknown = names.filter((n) => !GROUPS[n]);
  if (unknown.length) {
    console.error(`unknown group ${unknown.join(", ")}; groups: ${Object.keys(GROUPS).join(", ")} (or core, edges)`);
    process.exit(2);
  }
  for (const n of names) status = run(n, GROUPS[n], partOf(n)) || status;
}
process.exit(status);
