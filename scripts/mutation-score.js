#!/usr/bin/env node
/**
 * node scripts/mutation-score.js [--survivors] [--min N] [GROUP ...]
 *
 * Adds up the group reports of `npm run mutate` (reports/mutation/GROUP.json, the
 * mutation-testing-report-schema Stryker writes) into scores per group and per part (the
 * core, the edges: scripts/mutation-groups.js), the way Stryker computes it: (killed + timed out) / (killed + timed out +
 * survived + no coverage); compile errors and ignored mutants do not count.
 * Under `ignoreStatic`, Stryker still plans a static mutant that some test also covers (a
 * module first loaded inside a test) and runs it where it cannot be active: the table was
 * built before the test switched the mutant on, so it "survives" with no test completed
 * (stryker-js#3774, #6209). Those count as ignored, as the configuration says, and are listed.
 * --survivors lists each surviving mutant (file:line, mutator, replacement);
 * --min N exits 1 when a part's total is below N percent; GROUPs limit it to those reports.
 */
const fs = require("node:fs");
const path = require("node:path");
const { EDGES } = require("./mutation-groups");

const dir = path.join(__dirname, "..", "reports/mutation");
const args = process.argv.slice(2);
const min = args.includes("--min") ? Number(args[args.indexOf("--min") + 1]) : undefined;

const found = fs.existsSync(dir)
  ? fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".json") && !f.endsWith(".incremental.json") && !f.endsWith(".stryker.json"))
      .sort()
  : [];
// a --changed run (CI: changed-GROUP.json) checks lines the group reports hold too: it counts only when alone
const isChanged = (f) => f.startsWith("changed-");
const groups = found.filter((f) => !isChanged(f));
const named = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--min").map((g) => `${g}.json`);
const reports = named.length ? found.filter((f) => named.includes(f)) : groups.length ? groups : found;
if (reports.length === 0) {
  console.error("no mutation reports in reports/mutation: run npm run mutate first");
  process.exit(2);
}

const DETECTED = ["Killed", "Timeout"];
const UNDETECTED = ["Survived", "NoCoverage"];
const count = () => ({ Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, CompileError: 0, RuntimeError: 0, Ignored: 0 });
const score = (c) => {
  const detected = DETECTED.reduce((s, k) => s + c[k], 0);
  const valid = detected + UNDETECTED.reduce((s, k) => s + c[k], 0);
  return valid === 0 ? 100 : (100 * detected) / valid;
};

const partOf = (group) => (group.replace(/^changed-/, "") in EDGES ? "edges" : "core");
const totals = { core: count(), edges: count() };
const survivors = [];
const staticOnes = [];
const rows = [];
for (const f of reports) {
  const report = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
  const c = count();
  for (const [file, result] of Object.entries(report.files)) {
    for (const m of result.mutants) {
      if (m.status === "Survived" && m.static && !m.testsCompleted) {
        m.status = "Ignored";
        staticOnes.push(`${file}:${m.location.start.line}  ${m.mutatorName}`);
      }
      c[m.status] = (c[m.status] ?? 0) + 1;
      const total = totals[partOf(f.replace(/\.json$/, ""))];
      total[m.status] = (total[m.status] ?? 0) + 1;
      if (UNDETECTED.includes(m.status))
        survivors.push(`${file}:${m.location.start.line}  ${m.mutatorName}  ${(m.replacement ?? "").replace(/\s+/g, " ").slice(0, 90)}`);
    }
  }
  rows.push({ group: f.replace(/\.json$/, ""), ...c, score: score(c) });
}

const fmt = (r) =>
  `${r.group.padEnd(10)} ${r.score.toFixed(1).padStart(6)}%  killed ${r.Killed}, timed out ${r.Timeout}, survived ${r.Survived}, no coverage ${r.NoCoverage} (compile errors ${r.CompileError}, ignored ${r.Ignored})`;
for (const r of rows) console.log(fmt(r));
const parts = Object.entries(totals)
  .filter(([part]) => rows.some((r) => partOf(r.group) === part))
  .map(([part, total]) => ({ group: part, ...total, score: score(total) }));
for (const p of parts) console.log(fmt(p));
console.log(`(${staticOnes.length} static mutants Stryker could not activate count as ignored: stryker-js#3774)`);
if (args.includes("--survivors")) {
  for (const s of survivors) console.log(`  ${s}`);
  if (staticOnes.length) console.log(`static, not activated:\n${staticOnes.map((s) => `  ${s}`).join("\n")}`);
}
const low = parts.filter((p) => p.score < min);
if (min !== undefined && low.length) {
  console.error(low.map((p) => `${p.group}: mutation score ${p.score.toFixed(1)}% is below ${min}%`).join("\n"));
  process.exit(1);
}
