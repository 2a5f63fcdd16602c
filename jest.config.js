/** Unit, property and oracle suites run together; oracle suites need /dev/kvm, QEMU and libvirtd. */
module.exports = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  testTimeout: 120000,
  maxWorkers: 2,
  globalSetup: "<rootDir>/test/helpers/global-setup.js",
  // examples/typescript imports the package by name, as a user program does
  moduleNameMapper: { "^kvm-paravirt$": "<rootDir>/index.ts", "^kvm-paravirt/core$": "<rootDir>/src/index.ts" },
};
