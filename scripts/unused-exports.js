// Every export is used somewhere (src, the program, the tests, the bench): dead code and
// exports kept for nobody fail `npm test` and `npm run lint`. Types may stay exported (they
// document the public signatures). Not reported: the entry points (index.ts files, the
// provider plugin, jest's global setup) and src/pulumi/args.ts, whose enum objects Pulumi's
// schema analyzer reads for the generated SDKs' documentation.
const ENTRIES = ["index.ts", "src/pulumi/plugin.ts", "test/helpers/global-setup.ts", "src/pulumi/args.ts"];
exports.args = ["ts-unused-exports", "tsconfig.test.json", "--allowUnusedTypes", `--excludePathsFromReport=${ENTRIES.join(";")}`];

if (require.main === module) {
  const r = require("node:child_process").spawnSync("npx", exports.args, {
    stdio: "inherit",
    cwd: require("node:path").join(__dirname, ".."),
  });
  process.exit(r.status ?? 1);
}
