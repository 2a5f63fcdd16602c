/**
 * The groups `npm run mutate` runs, by the folders of the data flow. Each group writes
 * reports/mutation/GROUP.json; `node scripts/mutation-score.js` adds them up per part.
 *   core   the pure core, with its own fast suites (jest.mutation.config.js);
 *          stryker.config.json's `mutate` is the union of these globs
 *   edges  the layers that reach a host or a user: deploy (live), host facts and processes
 *          (system), the Pulumi provider and component, the CLI and the host audit, and the
 *          helpers they share (util), with the suites that drive them in process
 *          (jest.mutation.edges.config.js: libvirt's test:///default driver, a scripted virsh,
 *          the Pulumi SDK's mocks and the CLI's main() with buffers)
 */
const CORE = {
  catalog: ["src/catalog/**/*.ts"],
  resolve: ["src/resolve/**/*.ts", "src/analyze.ts", "src/render-spec.ts"],
  checks: ["src/checks/**/*.ts"],
  libvirt: ["src/libvirt/**/*.ts"],
  render: ["src/render/**/*.ts"],
  policy: ["src/policy/policies.ts", "src/policy/config.ts"],
};

const EDGES = {
  live: ["src/live/**/*.ts"],
  // src/system in three runs (each about 20-40 minutes here: a mutant of the virsh session is
  // covered by every test that talks to libvirt); `system` in the README is their sum
  "system-facts": ["src/system/host-facts.ts", "src/system/host-for.ts", "src/system/host-access.ts"],
  "system-virsh": ["src/system/virsh-session.ts", "src/system/virsh.ts", "src/system/xml-validate.ts"],
  "system-qemu": ["src/system/probe.ts", "src/system/qemu.ts", "src/system/qmp.ts"],
  // schema.ts only re-exports the generated schema.json
  pulumi: ["src/pulumi/**/*.ts", "!src/pulumi/schema.ts"],
  cli: ["src/cli/**/*.ts", "src/policy/audit.ts"],
  util: ["src/util/**/*.ts"],
};

/** Jest configuration each part's mutants are tested with. */
const JEST_CONFIG = { core: "jest.mutation.config.js", edges: "jest.mutation.edges.config.js" };

module.exports = { CORE, EDGES, JEST_CONFIG };
