/**
 * The suites Stryker runs once per mutant (npm run mutate): the core's own fast suites.
 * Left out, because they cannot kill a mutant of the core or only repeat what these see:
 *   test/unit/bin.test.ts        runs the built dist/, which Stryker does not mutate
 *   test/pulumi/**, policy/pack  the Pulumi adapters (each file loads the Pulumi SDK again per mutant)
 * Leaving suites out can only let more mutants survive: the score is not flattered by it.
 */
const base = require("./jest.config.js");
const unit = base.projects.find((p) => p.displayName === "unit");
// property tests generate a tenth of their cases (test/helpers/runs.ts): each runs once per mutant
process.env.KPV_MUTATION = "1";
module.exports = {
  ...unit,
  displayName: undefined,
  rootDir: __dirname,
  testTimeout: base.testTimeout,
  testMatch: ["<rootDir>/test/{unit,property}/**/*.test.ts", "<rootDir>/test/policy/{policies,expectations}.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/unit/bin.test.ts"],
  // focused suites first, so that a mutant is killed before the slow suites load
  testSequencer: "<rootDir>/test/helpers/mutation-sequencer.js",
};
