import { spawnSync } from "node:child_process";
import path from "node:path";
import { renderDomain } from "../src/render-spec";
import { liveBench } from "./live-bench";
import { providerBench } from "./provider-bench";
import { benchDomains } from "./workload";
import { validateSpecObject } from "../src/input/load";
import type { DomainSpec } from "../src/input/schema";
import { SPEC_KEYS } from "../src/catalog/features";
import type { HostProfile } from "../src/host/profile";
import debian12 from "../examples/host-profiles/debian12-qemu7.2.json";

/**
 * npm run bench: resolve + render 10,000 domain specs in one process, reported as
 * domains/s and as a ratio to JSON.stringify of the same specs in the same run
 * (a baseline that moves with the machine), the median of 5 runs each. Targets: >= 25,000
 * domains/s, peak RSS < 250 MB.
 */
const N = 10_000;
const host = debian12 as HostProfile;

function makeSpecs(): DomainSpec[] {
  const domains = benchDomains(SPEC_KEYS, N);
  const loaded = validateSpecObject({ domains });
  return loaded.domains.map((d) => {
    if (!d.spec) throw new Error(`bench spec invalid: ${JSON.stringify(d.diagnostics)}`);
    return d.spec;
  });
}

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** 1,000 ParavirtDomain under setMocks (preview) against 1,000 bare components with one Command child each. */
function pulumiBench(): { componentMs: number; bareMs: number; ratio: number; ratioOfBest: number; pairRatios: number[]; met: boolean } {
  const run = (mode: string) => {
    const r = spawnSync(process.execPath, [path.join(__dirname, "pulumi-scenario.js"), mode, "1000"], { encoding: "utf8" });
    // the scenario exits as soon as every registration arrived; Pulumi then warns about pending promises
    const ms = Number(r.stdout);
    if (!Number.isFinite(ms) || r.stdout === "") throw new Error(`pulumi bench (${mode}) failed: ${r.stderr}`);
    return ms;
  };
  // interleaved pairs, so that a machine that slows down or speeds up hits both sides alike
  const ratios: number[] = [];
  const component: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < 5; i++) {
    process.stderr.write(`bench: pulumi pair ${i + 1}/5\n`);
    bare.push(run("bare"));
    component.push(run("component"));
    ratios.push(component[i] / bare[i]);
  }
  const median = [...ratios].sort((x, y) => x - y)[2];
  const c = Math.min(...component);
  const b = Math.min(...bare);
  return {
    componentMs: Math.round(c),
    bareMs: Math.round(b),
    ratio: +median.toFixed(2),
    ratioOfBest: +(c / b).toFixed(2),
    pairRatios: ratios.map((r) => +r.toFixed(2)),
    met: median <= 1.5,
  };
}

/**
 * Hostile input: a 60,000-key map (the duplicate-key check must stay linear: against plain
 * YAML.parse of the same text in the same run) and fleets of 5,000 and 20,000 domains (the
 * limit): memory must grow with the fleet, not beyond it. Each scenario runs in its own process.
 */
function limitsBench() {
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(__dirname, "limits-scenario.js"), ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`limits bench (${args.join(" ")}) failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, number>;
  };
  process.stderr.write("bench: 60,000-key map\n");
  const keys = run("keys", "60000");
  process.stderr.write("bench: fleets of 5,000 and 20,000 domains\n");
  const small = run("fleet", "5000");
  const large = run("fleet", "20000");
  const keysRatio = keys.parseSpecSeconds / keys.yamlParseSeconds;
  // the RSS a domain adds, from the difference of the two fleets (the process's own base cancels out)
  const mbPerThousand = (large.peakRssMB - small.peakRssMB) / 15;
  return {
    keys: { ...keys, ratioToYamlParse: +keysRatio.toFixed(2) },
    fleets: [small, large].map((f) => ({ ...f, seconds: +f.seconds.toFixed(2), peakRssMB: Math.round(f.peakRssMB) })),
    rssMBPerThousandDomains: +mbPerThousand.toFixed(1),
    targets: { keysRatioToYamlParse: "<= 3", largestFleetPeakRssMB: "< 1500", rssMBPerThousandDomains: "< 60" },
    met: keysRatio <= 3 && large.peakRssMB < 1500 && mbPerThousand < 60,
  };
}

function main() {
  const specs = makeSpecs();
  let sink = 0;
  // warm-up, then the median of 5 runs for each side
  for (const s of specs.slice(0, 500)) sink += renderDomain(s, host).rendered.domainXml.length;
  const runs = (fn: () => void) => [0, 1, 2, 3, 4].map(() => time(fn)).sort((a, b) => a - b)[2];
  const baseline = runs(() => {
    for (const s of specs) sink += JSON.stringify(s).length;
  });
  const core = runs(() => {
    for (const s of specs) {
      const { rendered } = renderDomain(s, host);
      sink += rendered.domainXml.length + rendered.qemuArgs.length;
    }
  });
  const rssMB = process.resourceUsage().maxRSS / 1024;
  const perSec = N / core;
  const result = {
    domains: N,
    resolveRenderSeconds: +core.toFixed(4),
    domainsPerSecond: Math.round(perSec),
    jsonStringifySeconds: +baseline.toFixed(4),
    ratioToJsonStringify: +(core / baseline).toFixed(1),
    peakRssMB: Math.round(rssMB),
    targets: { domainsPerSecond: ">= 25000", peakRssMB: "< 250" },
    met: perSec >= 25_000 && rssMB < 250,
  };
  const limits = limitsBench();
  const pulumiResult = pulumiBench();
  void (async () => {
    const live = await liveBench(host);
    const provider = await providerBench();
    console.log(
      JSON.stringify(
        { core: result, limits, pulumi: { ...pulumiResult, target: "ParavirtDomain <= 1.5x the bare graph" }, live, provider },
        null,
        2,
      ),
    );
    if (sink === 0) console.log("(unreachable)");
    process.exitCode = result.met && limits.met && pulumiResult.met && live.met !== false && provider.met !== false ? 0 : 1;
  })();
}

main();
