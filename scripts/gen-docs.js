// Writes docs/features.md from the compiled catalog (run after the build).
const fs = require("node:fs");
const path = require("node:path");
const { featuresDoc } = require("../dist/src/docs.js");
fs.writeFileSync(path.join(__dirname, "../docs/features.md"), featuresDoc());
console.log("wrote docs/features.md");
