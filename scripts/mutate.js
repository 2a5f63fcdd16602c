#!/usr/bin/env node
/**
 * npm run mutate [-- GROUP ...]            Stryker, one group at a time (default: every core group)
 * npm run mutate -- core | edges           every group of that part (scripts/mutation-groups.js)
 * npm run mutate -- --changed [--deadline EPOCH_S]
 *     per group, only the lines changed since the commit up to which the group has been measured
 *     (.ci/mutation-bases.json), one report per group (reports/mutation/changed-GROUP.json);
 *     CI. With --deadline, a group still running at that time (seconds since the epoch) is
 *     stopped and it and the groups after it are reported NOT MEASURED, so CI ends in its time.
 *
 * Each group writes its own report (reports/mutation/GROUP.json) and keeps an incremental
 * file next to it, so a group that was run before re-tests only the mutants whose code or
 * covering tests changed, and a run cut short keeps the groups it finished.
 * `node scripts/mutation-score.js` adds the reports up (the scores the README quotes).
 */
const { spawn, spawnSync } = require("node:child_process");
const { setTimeout: setTimer, clearTimeout: clearTimer } = require("node:timers");
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

function strykerConfig(name, mutate, part) {
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
  return file;
}

function run(name, mutate, part) {
  const file = strykerConfig(name, mutate, part);
  const r = spawnSync("npx", ["stryker", "run", file], { cwd: root, stdio: "inherit" });
  fs.rmSync(file, { force: true });
  return r.status ?? 1;
}

/** Like run, but Stryker (its whole process group) is stopped at `deadline` (ms since the epoch): resolves "stopped" then. */
function runUntil(name, mutate, part, deadline) {
  const file = strykerConfig(name, mutate, part);
  return new Promise((resolve) => {
    const child = spawn("npx", ["stryker", "run", file], { cwd: root, stdio: "inherit", detached: true });
    let stopped = false;
    const timer = setTimer(
      () => {
        stopped = true;
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      },
      Math.max(0, deadline - Date.now()),
    );
    child.on("exit", (code) => {
      clearTimer(timer);
      fs.rmSync(file, { force: true });
      resolve(stopped ? "stopped" : (code ?? 1));
    });
  });
}

/** CI: each group's lines changed since its own base, in the order of the bases file, until the deadline. */
async function runChanged(deadline) {
  const basesFile = path.join(root, ".ci/mutation-bases.json");
  const bases = JSON.parse(fs.readFileSync(basesFile, "utf8"));
  const missing = Object.keys(GROUPS).filter((g) => !(g in bases));
  if (missing.length) {
    console.error(`scripts/mutate.js: no base commit for ${missing.join(", ")} in .ci/mutation-bases.json`);
    return 2;
  }
  const notMeasured = [];
  for (const [group, ref] of Object.entries(bases)) {
    if (!GROUPS[group]) {
      console.error(`scripts/mutate.js: .ci/mutation-bases.json names ${group}, which is no group`);
      return 2;
    }
    const known = spawnSync("git", ["cat-file", "-e", `${ref}^{commit}`], { cwd: root });
    if (known.status !== 0) {
      notMeasured.push(`${group} (its base ${ref} is not in this clone)`);
      continue;
    }
    const ranges = changedRanges(ref, GROUPS[group]);
    if (ranges.length === 0) {
      console.log(`mutate: ${group}: no lines changed since ${ref}`);
      continue;
    }
    if (deadline !== undefined && Date.now() >= deadline) {
      notMeasured.push(`${group} (${ranges.length} changed ranges since ${ref}: no time left)`);
      continue;
    }
    const r =
      deadline === undefined
        ? run(`changed-${group}`, ranges, partOf(group))
        : await runUntil(`changed-${group}`, ranges, partOf(group), deadline);
    if (r === "stopped") notMeasured.push(`${group} (${ranges.length} changed ranges since ${ref}: stopped at the deadline)`);
    // a group Stryker could not run (its initial test run failed, say) is reported, and the others still run
    else if (r !== 0)
      notMeasured.push(`${group} (${ranges.length} changed ranges since ${ref}: Stryker failed, exit ${r}; its output is above)`);
  }
  if (notMeasured.length)
    console.log(
      `WARNING: mutation testing NOT MEASURED in this run for:\n  ${notMeasured.join("\n  ")}\n(measure them in full with npm run mutate -- GROUP and move the group's base in .ci/mutation-bases.json)`,
    );
  // the scores are information (no threshold breaks the build): what was not measured is said above
  return 0;
}

const args = process.argv.slice(2);
const GROUPS = { ...CORE, ...EDGES };
const partOf = (name) => (name in EDGES ? "edges" : "core");
let status = 0;
if (args[0] === "--changed") {
  const at = args.indexOf("--deadline");
  const deadline = at < 0 ? undefined : Number(args[at + 1]) * 1000;
  if (deadline !== undefined && !Number.isFinite(deadline)) {
    console.error("usage: npm run mutate -- --changed [--deadline SECONDS_SINCE_EPOCH]");
    process.exit(2);
  }
  runChanged(deadline).then((code) => process.exit(code));
} else {
  const names = args.flatMap((a) => (a === "core" ? Object.keys(CORE) : a === "edges" ? Object.keys(EDGES) : [a]));
  if (names.length === 0) names.push(...Object.keys(CORE));
  const unknown = names.filter((n) => !GROUPS[n]);
  if (unknown.length) {
    console.error(`unknown group ${unknown.join(", ")}; groups: ${Object.keys(GROUPS).join(", ")} (or core, edges)`);
    process.exit(2);
  }
  for (const n of names) status = run(n, GROUPS[n], partOf(n)) || status;
  process.exit(status);
}
