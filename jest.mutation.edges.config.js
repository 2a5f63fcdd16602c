/**
 * The suites Stryker runs once per mutant of the edges (npm run mutate -- edges): the ones
 * that drive deploy, host facts, the provider and the CLI in this process, where Stryker's
 * mutants live: libvirt's test:///default driver, scripted virsh sessions, recorded host
 * facts, the Pulumi SDK's mocks and the CLI's main() with buffers.
 * Left out: the oracle suites (the real libvirtd and QEMU: minutes per mutant) and the
 * suites that run the built dist/ or a spawned plugin (bin.test.ts, the plugin-protocol
 * tests), which Stryker's mutants do not reach. Leaving suites out can only let more
 * mutants survive: the score is not flattered by it.
 */
const core = require("./jest.mutation.config.js");

module.exports = {
  ...core,
  testMatch: ["<rootDir>/test/{unit,property,pulumi}/**/*.test.ts", "<rootDir>/test/policy/{policies,expectations}.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/unit/bin.test.ts", "<rootDir>/test/pulumi/provider.test.ts"],
  // a mutant may turn a test's test:/// URI into qemu:///system: virsh then reaches only the test driver
  setupFiles: [...(core.setupFiles ?? []), "<rootDir>/test/helpers/test-driver-only.js"],
};
