import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import { builtinModules } from "node:module";
import os from "node:os";
import path from "node:path";
import { PluginEngine, urnOf } from "../helpers/plugin-engine";

/**
 * The published package, as a user gets it: `npm pack` a copy of the repository
 * (its `prepare` script builds dist/ from the sources), install the tarball into a
 * fresh project with `--omit=dev`, then use what was installed: the CLI through
 * node_modules/.bin, `require("kvm-paravirt")` and `require("kvm-paravirt/core")`,
 * and the source-based Pulumi plugin through the real plugin protocol (GetSchema
 * over gRPC, the way the engine asks). Needs npm and the npm registry (or a warm
 * npm cache); it fails, never skips, when the install cannot be done.
 *
 * The pack runs in a copy of the working tree (node_modules linked), so that its
 * build neither rewrites the dist/ other suites are running, nor ships files a
 * stale dist/ still holds. KPV_KEEP_PACK=1 keeps the temporary directory.
 */

const ROOT = path.resolve(__dirname, "../..");
const SLOW = 300_000;
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  main: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};

const log = (msg: string) => process.stderr.write(`[pack test] ${msg}\n`);
const tail = (s: string | null | undefined, n = 40) => (s ?? "").trim().split("\n").slice(-n).join("\n");

function run(cmd: string, args: string[], cwd: string, timeout = SLOW): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } });
}

/** A child that had to succeed: throws with its output otherwise. */
function must(what: string, r: SpawnSyncReturns<string>, hint = ""): SpawnSyncReturns<string> {
  if (r.error || r.status !== 0) {
    throw new Error(
      `${what} failed (${r.error ? r.error.message : `exit ${r.status}${r.signal ? `, signal ${r.signal}` : ""}`})${hint}\n--- stderr ---\n${tail(r.stderr)}\n--- stdout ---\n${tail(r.stdout)}`,
    );
  }
  return r;
}

let tmp = "";
let tarball = "";
let tarFiles: string[] = [];
let consumer = "";
let installed = ""; // consumer/node_modules/kvm-paravirt

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-pack-"));
  const stage = path.join(tmp, "stage");
  const skip = new Set(["node_modules", "dist", ".git", "coverage", ".test-results"]);
  fs.cpSync(ROOT, stage, { recursive: true, filter: (src) => !skip.has(path.relative(ROOT, src).split(path.sep)[0]) });
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(stage, "node_modules"), "dir");

  log(`npm pack (runs prepare: tsc) in a copy of the repository under ${tmp}`);
  let t = Date.now();
  const pack = must("npm pack", run("npm", ["pack", "--json", "--pack-destination", tmp], stage));
  const json = pack.stdout.slice(pack.stdout.indexOf("["));
  let listed: { filename: string; files: { path: string }[]; entryCount: number; size: number }[];
  try {
    listed = JSON.parse(json);
  } catch (e) {
    throw new Error(`npm pack --json printed no JSON (${(e as Error).message}):\n${tail(pack.stdout)}`, { cause: e });
  }
  tarball = path.join(tmp, listed[0].filename);
  tarFiles = listed[0].files.map((f) => f.path).sort();
  if (!fs.existsSync(tarball)) throw new Error(`npm pack reported ${listed[0].filename} but ${tarball} does not exist`);
  log(`packed ${path.basename(tarball)}: ${listed[0].entryCount} files, ${listed[0].size} bytes (${Date.now() - t} ms)`);

  consumer = path.join(tmp, "consumer");
  fs.mkdirSync(consumer);
  must("npm init -y", run("npm", ["init", "-y"], consumer, 60_000));
  log("npm install <tarball> --omit=dev (registry, or the npm cache)");
  t = Date.now();
  must(
    "npm install of the tarball",
    run("npm", ["install", tarball, "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"], consumer),
    "\nThe tarball's production dependencies could not be installed: is the npm registry reachable (or the npm cache warm)? This test needs it and does not skip.",
  );
  installed = path.join(consumer, "node_modules", PKG.name);
  log(`installed (${Date.now() - t} ms)`);
}, SLOW);

afterAll(() => {
  if (!tmp) return;
  if (process.env.KPV_KEEP_PACK) log(`kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
});

/** Every file of the installed package, relative to its directory. */
function installedFiles(): string[] {
  return (fs.readdirSync(installed, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(installed, path.join(d.parentPath, d.name)).split(path.sep).join("/"))
    .filter((f) => !f.startsWith("node_modules/"))
    .sort();
}

describe("the tarball", () => {
  test("holds the CLI, the library, the component and the plugin, and nothing from test/, bench/, scripts/ or examples/", () => {
    for (const f of [
      "package.json",
      "README.md",
      "bin/kvm-paravirt.js",
      "dist/src/cli/main.js",
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/index.js",
      "dist/index.d.ts",
      "schema.json",
      "PulumiPlugin.yaml",
      "tsconfig.json",
      "index.ts",
      "src/pulumi/paravirt-domain.ts",
    ]) {
      expect(tarFiles).toContain(f);
    }
    const unwanted = tarFiles.filter(
      (f) =>
        /^(test|bench|scripts|examples|program|policy|docs|\.ci|dist\/(test|bench|examples|program))\//.test(f) ||
        /\.(map|tgz)$/.test(f) ||
        f.startsWith("src/cli/"),
    );
    expect(unwanted).toEqual([]);
    expect(PKG.bin["kvm-paravirt"]).toBe("bin/kvm-paravirt.js");
    // what npm listed is what was installed
    expect(installedFiles()).toEqual(tarFiles);
  });

  test("its JavaScript requires only shipped files, Node built-ins and production dependencies", () => {
    const shipped = new Set(tarFiles);
    const builtins = new Set(builtinModules);
    const problems: string[] = [];
    for (const file of tarFiles.filter((f) => f.endsWith(".js"))) {
      const text = fs.readFileSync(path.join(installed, file), "utf8");
      for (const m of text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
        const spec = m[1];
        if (spec.startsWith(".")) {
          const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
          if (![base, `${base}.js`, `${base}.json`, `${base}/index.js`].some((c) => shipped.has(c)))
            problems.push(`${file}: require("${spec}") is not in the tarball`);
        } else if (!spec.startsWith("node:") && !builtins.has(spec)) {
          const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
          if (!(name in PKG.dependencies)) problems.push(`${file}: require("${spec}") but ${name} is not in "dependencies"`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test("its TypeScript sources (read by the plugin's schema analyzer) import only shipped sources", () => {
    const shipped = new Set(tarFiles);
    const sources = tarFiles.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
    expect(sources).toContain("index.ts");
    const problems: string[] = [];
    for (const file of sources) {
      const text = fs.readFileSync(path.join(installed, file), "utf8");
      for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*|\brequire\(\s*)["'](\.[^"']*)["']/g)) {
        const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
        if (![`${base}.ts`, `${base}/index.ts`, base].some((c) => shipped.has(c)))
          problems.push(`${file}: imports "${m[1]}", which is not in the tarball`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("the installed CLI", () => {
  const cli = (args: string[]) => run(path.join(consumer, "node_modules", ".bin", "kvm-paravirt"), args, consumer, 60_000);
  const write = (name: string, text: string) => {
    const f = path.join(consumer, name);
    fs.writeFileSync(f, text);
    return f;
  };
  /** The exit code a command must have; otherwise fails with its output. */
  const expectExit = (r: SpawnSyncReturns<string>, code: number, what: string) => {
    if (r.status !== code)
      throw new Error(
        `${what}: exit ${r.status ?? r.error?.message ?? r.signal}, expected ${code}\n--- stderr ---\n${tail(r.stderr)}\n--- stdout ---\n${tail(r.stdout)}`,
      );
  };
  const parse = (r: SpawnSyncReturns<string>, what: string): unknown => {
    try {
      return JSON.parse(r.stdout);
    } catch {
      throw new Error(
        `${what}: stdout is not JSON (exit ${r.status})\n--- stderr ---\n${tail(r.stderr)}\n--- stdout ---\n${tail(r.stdout)}`,
      );
    }
  };
  /** The first array under `key` anywhere in a JSON value (the CLI's JSON may be wrapped, e.g. with formatVersion). */
  const arrayAt = (v: unknown, key: string): unknown[] | undefined => {
    if (Array.isArray(v)) {
      for (const x of v) {
        const r = arrayAt(x, key);
        if (r) return r;
      }
      return undefined;
    }
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (Array.isArray(o[key])) return o[key] as unknown[];
      for (const x of Object.values(o)) {
        const r = arrayAt(x, key);
        if (r) return r;
      }
    }
    return undefined;
  };
  const policiesViolated = (r: SpawnSyncReturns<string>, what: string) =>
    new Set((arrayAt(parse(r, what), "violations") ?? []).map((v) => (v as { policy: string }).policy));

  const withIpi = () => write("with-ipi.yaml", "domains:\n  - name: web\n    vcpus: 2\n    paravirt: { pvIpi: true }\n");
  const withoutIpi = () => write("without-ipi.yaml", "domains:\n  - name: plain\n    vcpus: 2\n");

  test("render --json: the domain's resolved features, kvm-pv-ipi on", () => {
    const r = cli(["render", withIpi(), "--json"]);
    expectExit(r, 0, "render --json");
    const domains = arrayAt(parse(r, "render --json"), "domains") as { name: string; features: unknown; domainXml: string }[];
    expect(domains).toHaveLength(1);
    expect(domains[0].name).toBe("web");
    const features = domains[0].features;
    const ipi = Array.isArray(features)
      ? features.find(
          (f) => (f as { name?: string; qemu?: string }).name === "kvm-pv-ipi" || (f as { qemu?: string }).qemu === "kvm-pv-ipi",
        )
      : (features as Record<string, unknown>)["kvm-pv-ipi"];
    expect(ipi).toMatchObject({ enabled: true });
    expect(domains[0].domainXml).toContain("<name>web</name>");
  });

  test("validate: a spec with an error exits 1 and names it", () => {
    const r = cli(["validate", write("bad.yaml", "domains: [{name: a, paravirt: {msiExtDestId: true}}]\n")]);
    expectExit(r, 1, "validate (spec with an error)");
    expect(r.stdout + r.stderr).toContain("msi-ext-dest-id-needs-split-irqchip");
  });

  test("check --policy: exit 1 on mandatory violations, 0 without", () => {
    // every policy mandatory: kvm-pv-ipi is there, but it needs <qemu:commandline> and nothing is pinned
    const all = write("all-mandatory.json", JSON.stringify({ all: "mandatory", "required-features": { features: ["kvm-pv-ipi"] } }));
    const r1 = cli(["check", withIpi(), "--policy", all, "--json"]);
    expectExit(r1, 1, "check (all mandatory)");
    const v1 = policiesViolated(r1, "check (all mandatory)");
    expect(v1.has("explicit-pinning")).toBe(true);
    expect(v1.has("required-features")).toBe(false);
    // only required-features
    const only = write(
      "only-required.json",
      JSON.stringify({ all: "disabled", "required-features": { enforcementLevel: "mandatory", features: ["kvm-pv-ipi"] } }),
    );
    const r2 = cli(["check", withIpi(), "--policy", only, "--json"]);
    expectExit(r2, 0, "check (kvm-pv-ipi required and present)");
    expect([...policiesViolated(r2, "check (kvm-pv-ipi present)")]).toEqual([]);
    const r3 = cli(["check", withoutIpi(), "--policy", only, "--json"]);
    expectExit(r3, 1, "check (kvm-pv-ipi required and missing)");
    expect([...policiesViolated(r3, "check (kvm-pv-ipi missing)")]).toEqual(["required-features"]);
  });

  test("catalog --json: the feature catalog", () => {
    const r = cli(["catalog", "--json"]);
    expectExit(r, 0, "catalog --json");
    const out = parse(r, "catalog --json");
    const features = Array.isArray(out) ? out : arrayAt(out, "features");
    expect(Array.isArray(features)).toBe(true);
    const names = (features as { qemu?: string }[]).map((f) => f.qemu);
    expect(names).toEqual(expect.arrayContaining(["kvmclock", "kvm-pv-ipi", "kvm-msi-ext-dest-id"]));
  });
});

describe("the installed library", () => {
  test('require("kvm-paravirt") is the component, require("kvm-paravirt/core") renders a spec', () => {
    const script = `
      const main = require("kvm-paravirt");
      const core = require("kvm-paravirt/core");
      const out = core.renderSpec(core.validateSpecObject({ domains: [{ name: "lib", vcpus: 2, paravirt: { pvIpi: true } }] }));
      process.stdout.write(JSON.stringify({
        main: Object.keys(main), component: typeof main.ParavirtDomain,
        renderSpec: typeof core.renderSpec, validateSpecObject: typeof core.validateSpecObject,
        features: Array.isArray(core.FEATURES) ? core.FEATURES.map((f) => f.qemu) : null,
        domains: out.domains.map((d) => ({ name: d.name, xml: d.domainXml, args: d.qemuArgs })),
      }));`;
    const r = must("node -e (require the package)", run(process.execPath, ["-e", script], consumer, 60_000));
    const got = JSON.parse(r.stdout) as {
      main: string[];
      component: string;
      renderSpec: string;
      validateSpecObject: string;
      features: string[] | null;
      domains: { name: string; xml: string; args: string[] }[];
    };
    expect(got.main).toContain("ParavirtDomain");
    expect(got.component).toBe("function");
    expect(got.renderSpec).toBe("function");
    expect(got.validateSpecObject).toBe("function");
    expect(got.features).toEqual(expect.arrayContaining(["kvmclock", "kvm-pv-ipi"]));
    expect(got.domains).toHaveLength(1);
    expect(got.domains[0].name).toBe("lib");
    expect(got.domains[0].xml).toContain("<name>lib</name>");
    expect(got.domains[0].args.join(" ")).toContain("kvm-pv-ipi=on");
  });
});

describe("the installed Pulumi plugin", () => {
  const engine = new PluginEngine();
  afterAll(() => engine.stop());

  test(
    "serves GetSchema and Check over the plugin protocol: the component and the Domain resource, equal to the shipped schema.json",
    async () => {
      // as pulumi-language-nodejs runs a source plugin: node <run-plugin> <plugin dir> <engine address>,
      // in the Pulumi project's directory (the engine passes its own working directory)
      const t = Date.now();
      await engine.start(installed, process.env, consumer);
      log(`plugin listening (${Date.now() - t} ms); GetSchema`);
      const schema = (await engine.getSchema()) as {
        name: string;
        resources: Record<string, { isComponent?: boolean; inputProperties?: Record<string, unknown> }>;
      };
      log(`GetSchema answered (${Date.now() - t} ms since start)`);
      expect(schema.name).toBe("kvm-paravirt");
      expect(Object.keys(schema.resources).sort()).toEqual(["kvm-paravirt:index:Domain", "kvm-paravirt:index:ParavirtDomain"]);
      expect(schema.resources["kvm-paravirt:index:ParavirtDomain"].isComponent).toBe(true);
      expect(Object.keys(schema.resources["kvm-paravirt:index:ParavirtDomain"].inputProperties ?? {})).toEqual(
        expect.arrayContaining(["vcpus", "paravirt", "connection"]),
      );
      // what the installed plugin infers from its shipped sources (without dev dependencies, so with
      // the TypeScript that @pulumi/pulumi vendors) is what the repository commits
      expect(schema).toEqual(JSON.parse(fs.readFileSync(path.join(installed, "schema.json"), "utf8")));
      // the Domain provider runs from the install (its core, live and system code shipped)
      const profile = fs.readFileSync(path.join(ROOT, "examples/host-profiles/debian12-qemu7.2.json"), "utf8");
      const check = await engine.check(urnOf("kvm-paravirt:index:Domain", "p"), {}, { paravirt: { pvIpi: true }, hostProfile: profile });
      expect(check.failures).toEqual([]);
      expect(check.inputs).toEqual(
        expect.objectContaining({ name: "p", effectiveFeatures: expect.objectContaining({ "kvm-pv-ipi": true }) }),
      );
      expect(engine.running).toBe(true);
    },
    SLOW,
  );
});
