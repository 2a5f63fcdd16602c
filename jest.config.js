/**
 * Three projects; `npx jest` runs them all, `--selectProjects NAME` one of them:
 *   unit   fast suites that need no QEMU, libvirt or network (`npm run test:unit`);
 *          a few parts that want real programs (e.g. virt-xml-validate) skip themselves
 *   oracle the suites that ask the real QEMU/libvirt: /dev/kvm, QEMU and libvirtd
 *   pack   the npm tarball installed without dev dependencies (`npm run test:pack`):
 *          npm and the registry (or a warm npm cache)
 */
const shared = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
  testTimeout: 120000,
  // examples/typescript imports the package by name, as a user program does
  moduleNameMapper: { "^kvm-paravirt$": "<rootDir>/index.ts", "^kvm-paravirt/core$": "<rootDir>/src/index.ts" },
  // a Stryker run's sandboxes are copies of the project: their package.json would be a second `kvm-paravirt`
  modulePathIgnorePatterns: ["<rootDir>/.stryker-tmp/"],
};

module.exports = {
  maxWorkers: 2,
  testTimeout: 120000,
  projects: [
    {
      ...shared,
      displayName: "unit",
      testMatch: ["<rootDir>/test/{unit,property,policy,pulumi}/**/*.test.ts"],
    },
    {
      ...shared,
      displayName: "oracle",
      testMatch: ["<rootDir>/test/oracle/**/*.test.ts"],
      // starts libvirtd (as root) for the libvirt oracles; runs only when an oracle suite does
      globalSetup: "<rootDir>/test/helpers/global-setup.ts",
    },
    {
      ...shared,
      displayName: "pack",
      testMatch: ["<rootDir>/test/pack/**/*.test.ts"],
      testTimeout: 300000,
    },
  ],
};
