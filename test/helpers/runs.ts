/**
 * How many cases a property test generates: `n`, or a tenth of it under mutation testing
 * (npm run mutate sets KPV_MUTATION), where each test runs once per mutant and a mutant is
 * nearly always killed by the first cases. Fewer cases can only let more mutants survive,
 * so the mutation score is not flattered by it.
 */
export const runs = (n: number): number => (process.env.KPV_MUTATION ? Math.max(2, Math.ceil(n / 10)) : n);
