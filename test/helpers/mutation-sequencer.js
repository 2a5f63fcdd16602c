/** Orders the mutation suites (jest.mutation.config.js): the focused, fast ones first, the property and CLI suites last. */
const Sequencer = require("@jest/test-sequencer").default;

const LAST = ["/test/property/", "/test/unit/cli.test.ts", "/test/unit/hostile-input.test.ts", "/test/unit/render.test.ts"];
// the matrix pins most of what the core says in one fast suite: it kills most mutants first
const FIRST = ["/test/unit/matrix.test.ts"];
const rank = (p) => {
  if (FIRST.some((x) => p.includes(x))) return -1;
  const i = LAST.findIndex((x) => p.includes(x));
  return i === -1 ? 0 : i + 1;
};

class MutationSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  }
}

module.exports = MutationSequencer;
