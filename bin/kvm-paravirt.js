#!/usr/bin/env node
"use strict";
// The CLI runs the compiled TypeScript (npm ci builds it through the prepare script).
const fs = require("node:fs");
const path = require("node:path");

const entry = path.join(__dirname, "..", "dist", "src", "cli", "main.js");

function fail(message) {
  process.stderr.write(`kvm-paravirt: ${message}\n`);
  process.exit(2);
}

/** The first lines of an error's message, without its stack. */
function firstLines(e, n) {
  const text = e instanceof Error ? e.message : String(e);
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(0, n)
    .join("\n");
}

let main;
if (!fs.existsSync(entry)) fail("the build is missing (dist/). Run `npm ci` or `npm run build` in the package first.");
try {
  ({ main } = require(entry));
} catch (e) {
  const missing = e && e.code === "MODULE_NOT_FOUND" ? /^Cannot find module '([^']+)'/.exec(e.message) : null;
  if (missing && path.resolve(missing[1]) !== entry) {
    const by = Array.isArray(e.requireStack) && e.requireStack.length ? e.requireStack[0] : entry;
    fail(
      `cannot load module '${missing[1]}' (required by ${by}): reinstall the package (npm install kvm-paravirt); missing modules mean a broken install\n` +
        `  ${firstLines(e, 1)}`,
    );
  }
  fail(`cannot load the CLI (${entry}): ${firstLines(e, 3)}`);
}
if (typeof main !== "function") fail(`cannot load the CLI: ${entry} exports no main function; rebuild with \`npm run build\``);

// A reader that went away (kvm-paravirt ... | head) is not a failure: the rest of the output
// is dropped and main's exit code stands, as it did when the process exited at once.
process.stdout.on("error", (e) => {
  if (e.code !== "EPIPE") throw e;
});

// Let stdout drain before exiting (a pipe may still hold the output); exiting explicitly
// once it has means no open handle can keep the process alive.
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  process.stdout.write("", () => process.exit(code));
});
