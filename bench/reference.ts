import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchDomains } from "./workload";

/**
 * npm run bench:reference [-- COMMIT]: the core bench (resolve + render 10,000 domains) of
 * this checkout against the same bench of an older commit, interleaved in one process, so
 * that a speed target set on another machine can be checked here as a ratio. The default
 * reference is a1c394c, the code whose core measured 20,171-24,476 domains/s (best of 5,
 * quiet machine) where the 25,000/s target was set.
 *
 * The reference is checked out into a temporary git worktree and built there (npm ci and
 * tsc: it needs the npm registry or a warm cache). Both sides render the same specs, made
 * with the bench's generator from each side's own catalog, for the same host profile.
 */
const ROOT = path.resolve(__dirname, "../..");
const DEFAULT_REFERENCE = "a1c394c";
const N = 10_000;
const ROUNDS = 6;

interface Side {
  label: string;
  dist: string;
}

/** The module of a built side that exports `name` (the core moved between folders over time). */
function moduleOf(dist: string, candidates: string[]): string {
  const found = candidates.map((c) => path.join(dist, "src", `${c}.js`)).find((f) => fs.existsSync(f));
  if (!found) throw new Error(`none of ${candidates.join(", ")} in ${dist}`);
  return found;
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}: ${r.stderr.slice(-2000)}`);
}

function buildReference(commit: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-reference-"));
  process.stderr.write(`bench: checking out ${commit} into ${dir}\n`);
  run("git", ["worktree", "add", "--detach", dir, commit], ROOT);
  const remove = () => {
    spawnSync("git", ["worktree", "remove", "--force", dir], { cwd: ROOT });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    process.stderr.write("bench: npm ci (reference)\n");
    run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], dir);
    process.stderr.write("bench: tsc (reference)\n");
    run(process.execPath, [path.join(dir, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], dir);
  } catch (e) {
    remove();
    throw e;
  }
  return { dir, remove };
}

type Render = (spec: unknown, host: unknown) => { rendered: { domainXml: string; qemuArgs: string[] } };

function prepare(side: Side, host: unknown): { render: Render; specs: unknown[] } {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { SPEC_KEYS } = require(moduleOf(side.dist, ["catalog/features"])) as { SPEC_KEYS: readonly string[] };
  const { validateSpecObject } = require(moduleOf(side.dist, ["input/load", "spec/load"])) as {
    validateSpecObject: (raw: unknown) => { domains: { spec?: unknown }[] };
  };
  const { renderDomain } = require(moduleOf(side.dist, ["render-spec", "pipeline"])) as { renderDomain: Render };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const domains = benchDomains(SPEC_KEYS, N);
  const specs = validateSpecObject({ domains }).domains.map((d) => {
    if (!d.spec) throw new Error(`${side.label}: a bench spec is invalid`);
    return d.spec;
  });
  for (const s of specs.slice(0, 500)) renderDomain(s, host);
  return { render: renderDomain, specs };
}

/** CPU seconds of this process (less disturbed than wall time by other work on the machine). */
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function main(): void {
  const commit = process.argv[2] ?? DEFAULT_REFERENCE;
  const host: unknown = JSON.parse(fs.readFileSync(path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json"), "utf8"));
  const reference = buildReference(commit);
  try {
    const sides: Side[] = [
      { label: commit, dist: path.join(reference.dir, "dist") },
      { label: "this checkout", dist: path.join(ROOT, "dist") },
    ];
    const prepared = sides.map((s) => prepare(s, host));
    const perSecond: number[][] = sides.map(() => []);
    let sink = 0;
    // the side that runs second in a round is measured slower (the JIT has seen the other's
    // shapes first: about 10% here), so the order alternates and both sides run first as often
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write(`bench: round ${round + 1}/${ROUNDS}\n`);
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      order.forEach((i) => {
        const { render, specs } = prepared[i];
        const t0 = cpuSeconds();
        for (const s of specs) {
          const { rendered } = render(s, host);
          sink += rendered.domainXml.length + rendered.qemuArgs.length;
        }
        perSecond[i].push(N / (cpuSeconds() - t0));
      });
    }
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return (sorted[ROUNDS / 2 - 1] + sorted[ROUNDS / 2]) / 2;
    };
    const [ref, now] = perSecond.map(median);
    const ratio = now / ref;
    console.log(
      JSON.stringify(
        {
          reference: { commit, domainsPerSecond: Math.round(ref) },
          current: { domainsPerSecond: Math.round(now) },
          speedup: +ratio.toFixed(2),
          // a1c394c measured 20,171-24,476/s on the machine where the target was set
          ...(commit === DEFAULT_REFERENCE
            ? {
                onTheTargetMachine: { domainsPerSecond: [Math.round(20_171 * ratio), Math.round(24_476 * ratio)], target: ">= 25000" },
                met: 20_171 * ratio >= 25_000,
              }
            : {}),
          checksum: sink,
        },
        null,
        2,
      ),
    );
  } finally {
    reference.remove();
  }
}

main();
