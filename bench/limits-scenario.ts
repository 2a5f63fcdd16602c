import YAML from "yaml";
import { renderSpec } from "../src/render-spec";
import { LIMITS, parseSpecText } from "../src/input/load";
import type { HostProfile } from "../src/host/profile";
import debian12 from "../examples/host-profiles/debian12-qemu7.2.json";

/**
 * One hostile-input scenario in its own process (so its peak RSS is its own), printed as JSON:
 *   keys N      a spec whose hosts: map has N keys: parseSpecText vs plain YAML.parse of the same text
 *   fleet N     a fleet of N small domains: parse + resolve + render + JSON of the result
 */
const [mode, nText] = process.argv.slice(2);
const n = Number(nText);
const seconds = (fn: () => void) => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};

if (mode === "keys") {
  let text = "domains: [{ name: a }]\nhosts:\n";
  for (let i = 0; i < n; i++) text += `  k${i}: qemu:///system\n`;
  let diagnostics = 0;
  const yamlOnly = seconds(() => YAML.parse(text, { uniqueKeys: false }));
  const spec = seconds(() => (diagnostics = parseSpecText(text).diagnostics.length));
  console.log(
    JSON.stringify({
      keys: n,
      parseSpecSeconds: spec,
      yamlParseSeconds: yamlOnly,
      diagnostics,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
    }),
  );
} else if (mode === "fleet") {
  if (n > LIMITS.domains) throw new Error(`at most ${LIMITS.domains} domains`);
  const text = YAML.stringify({ domains: Array.from({ length: n }, (_, i) => ({ name: `vm-${i}`, paravirt: { pvIpi: i % 2 === 0 } })) });
  let bytes = 0;
  const s = seconds(() => (bytes = JSON.stringify(renderSpec(parseSpecText(text), debian12 as HostProfile)).length));
  console.log(
    JSON.stringify({
      domains: n,
      specBytes: text.length,
      outputBytes: bytes,
      seconds: s,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
    }),
  );
} else throw new Error("usage: limits-scenario keys|fleet N");
