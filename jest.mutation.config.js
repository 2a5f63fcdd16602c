/** The fast suites only (jest.config.js's unit project), for Stryker's mutation runs (npm run mutate). */
const { projects, maxWorkers: _maxWorkers, ...top } = require("./jest.config.js");
const unit = projects.find((p) => p.displayName === "unit");
module.exports = { ...top, ...unit, displayName: undefined, rootDir: __dirname };
