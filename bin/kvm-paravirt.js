#!/usr/bin/env node
"use strict";
// The CLI runs the compiled TypeScript (npm ci builds it through the prepare script).
let main;
try {
  ({ main } = require("../dist/src/cli/main.js"));
} catch (e) {
  process.stderr.write("kvm-paravirt: the build is missing (dist/). Run `npm ci` or `npm run build` in the package first.\n");
  process.exit(2);
}
main(process.argv.slice(2)).then((code) => process.exit(code));
