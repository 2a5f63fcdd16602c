#!/usr/bin/env node
// Removes dist/ before a build, so a file whose source is gone can never be packed or run.
require("node:fs").rmSync(require("node:path").join(__dirname, "..", "dist"), { recursive: true, force: true });
