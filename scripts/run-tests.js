#!/usr/bin/env node
// npm test: builds, runs every Jest suite (unit, property, oracles), and ends with
// one plain summary line "tests: N passed, N failed, N skipped" for CI.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.join(__dirname, "..");
// build dist/ afresh (the CLI tests run it), then type-check the tests, the policy pack and the examples too
require("./clean");
for (const args of [
  ["tsc", "-p", "tsconfig.json"],
  ["tsc", "-p", "tsconfig.test.json", "--noEmit"],
]) {
  const build = spawnSync("npx", args, { cwd: root, stdio: "inherit" });
  if (build.status !== 0) {
    console.log(`tests: 0 passed, 1 failed (${args.join(" ")} failed)`);
    process.exit(1);
  }
}
// lint (eslint, with the import-cycle rule), format (prettier --check) and the dependency rule
// (no cycles, type-only imports included; the layer order): each counts as one check in the summary
const checks = [
  ["eslint", ["eslint", "."]],
  ["prettier --check", ["prettier", "--check", "--log-level", "warn", "."]],
  ["dependency rule (depcruise)", ["depcruise", "src", "index.ts", "--config", ".dependency-cruiser.cjs"]],
  ["unused exports (ts-unused-exports)", require("./unused-exports").args],
].map(([name, args]) => {
  const r = spawnSync("npx", args, { cwd: root, stdio: "inherit" });
  console.log(r.status === 0 ? `${name}: ok` : `${name}: FAILED (npm run lint:fix fixes what it can)`);
  return r.status === 0;
});
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-jest-"));
const out = path.join(tmp, "results.json");
// suites that could not run append "<suite>: <reason>" here (test/helpers/env.ts)
const skipLog = path.join(tmp, "skipped.txt");
fs.writeFileSync(skipLog, "");
const jest = spawnSync("npx", ["jest", "--ci", "--json", "--outputFile", out, ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, KPV_SKIP_LOG: skipLog },
});
let passed = 0,
  failed,
  skipped = 0;
try {
  const r = JSON.parse(fs.readFileSync(out, "utf8"));
  passed = r.numPassedTests;
  failed = r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
  skipped = r.numPendingTests + r.numTodoTests;
} catch {
  failed = 1;
}
const notRun = [...new Set(fs.readFileSync(skipLog, "utf8").split("\n").filter(Boolean))];
if (notRun.length) {
  console.log(`\n*** ${notRun.length} suite(s) could NOT run here (counted as skipped, not passed):`);
  for (const line of notRun) console.log(`***   ${line}`);
}
passed += checks.filter(Boolean).length;
failed += checks.filter((ok) => !ok).length;
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(jest.status === 0 && failed === 0 ? 0 : 1);
