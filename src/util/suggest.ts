/** Levenshtein distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  // Stryker disable next-line ArrayDeclaration: equivalent (the size is a hint; the loop below writes every index)
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** Normalises spellings so that pv_ipi, pv-ipi, PvIpi and kvm-pv-ipi meet. */
function canon(s: string): string {
  return s
    .toLowerCase()
    .replace(/^kvm[-_]?/, "")
    .replace(/[-_]/g, "");
}

/** The closest candidate, or null when nothing is reasonably close. */
export function closest(input: string, candidates: readonly string[]): string | null {
  const c = canon(input);
  let best: string | null = null;
  let bestD = Infinity;
  for (const cand of candidates) {
    const d = editDistance(c, canon(cand));
    if (d < bestD) {
      bestD = d;
      best = cand;
    }
  }
  // Stryker disable next-line ConditionalExpression: equivalent (best is null only without candidates, when bestD is Infinity)
  return best !== null && bestD <= Math.max(2, Math.floor(c.length / 3)) ? best : null;
}
