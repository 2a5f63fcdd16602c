/** The fast suites only (jest.config.js's unit project), for Stryker's mutation runs (npm run mutate). */
const base = require("./jest.config.js");
const unit = base.projects.find((p) => p.displayName === "unit");
module.exports = { testTimeout: base.testTimeout, ...unit, displayName: undefined, rootDir: __dirname };
