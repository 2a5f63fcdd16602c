#!/usr/bin/env node
"use strict";
/**
 * npm run record:kvm -- --n 600 [--seed 777001] [--out DIR] [--timeout 30] [--allow-tcg-only]
 *
 * Records what the local QEMU really realizes under KVM for N random configurations, in the
 * format of the shared corpus (test/fixtures/kvm-observed/):
 *   observed.jsonl  one {spec, qemuArgs, qemu} record a line
 *   host.json       where and with what it was recorded
 *   probe.json      `kvm-paravirt probe --json` on the same host
 *
 * The corpus checks the project, so nothing here comes from it: the configurations are drawn
 * by a seeded PRNG (mulberry32) and the QEMU arguments are built from each spec by this script,
 * never by the project's renderer (no import of src/ or dist/). Only probe.json is the
 * project's own output, by running its CLI.
 *
 * Each configuration: QEMU started paused (-S) with a QMP monitor on stdio, qmp_capabilities,
 * query-cpus-fast for the first vCPU, qom-get of every PV property, quit. A QEMU that exits
 * before it answers is recorded as refused, with the last line it printed.
 */
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { setTimeout: setTimer, clearTimeout: clearTimer } = require("node:timers");
const { FatalError, runAsScript, UsageError } = require("./script-main");

const ROOT = path.join(__dirname, "..");
const QEMU = "qemu-system-x86_64";
const DEFAULT_SEED = 777001;
const DEFAULT_OUT = path.join("test", "fixtures", "kvm-observed-new");
const DEFAULT_TIMEOUT_S = 30;

/** spec paravirt key -> QEMU -cpu property, in the order the arguments list them */
const PV_QEMU_NAMES = [
  ["kvmclock", "kvmclock"],
  ["nopiodelay", "kvm-nopiodelay"],
  ["asyncpf", "kvm-asyncpf"],
  ["stealTime", "kvm-steal-time"],
  ["pvEoi", "kvm-pv-eoi"],
  ["pvUnhalt", "kvm-pv-unhalt"],
  ["pvTlbFlush", "kvm-pv-tlb-flush"],
  ["pvIpi", "kvm-pv-ipi"],
  ["pollControl", "kvm-poll-control"],
  ["pvSchedYield", "kvm-pv-sched-yield"],
  ["asyncpfInt", "kvm-asyncpf-int"],
  ["msiExtDestId", "kvm-msi-ext-dest-id"],
  ["kvmclockStableBit", "kvmclock-stable-bit"],
  ["hintDedicated", "kvm-hint-dedicated"],
  ["pvEnforceCpuid", "kvm-pv-enforce-cpuid"],
  ["mmu", "kvm-mmu"],
];
const PV_QEMU_NAME = new Map(PV_QEMU_NAMES);

/** the vCPU properties every started record carries (the shared corpus's set), sorted */
const PROPS = [
  "kvm",
  "kvm-asyncpf",
  "kvm-asyncpf-int",
  "kvm-hint-dedicated",
  "kvm-msi-ext-dest-id",
  "kvm-nopiodelay",
  "kvm-poll-control",
  "kvm-pv-enforce-cpuid",
  "kvm-pv-eoi",
  "kvm-pv-ipi",
  "kvm-pv-sched-yield",
  "kvm-pv-tlb-flush",
  "kvm-pv-unhalt",
  "kvm-steal-time",
  "kvmclock",
  "kvmclock-stable-bit",
  "x2apic",
];

// What is drawn. The shared corpus (QEMU 7.2) used exactly these; a QEMU without one of them
// is simply not offered it. The aliases' targets are added where they are newer.
const MACHINES = [
  "pc-i440fx-1.7",
  "pc-i440fx-2.3",
  "pc-i440fx-3.1",
  "pc-i440fx-5.1",
  "pc-i440fx-7.2",
  "pc-q35-2.10",
  "pc-q35-4.0.1",
  "pc-q35-5.1",
  "pc-q35-5.2",
  "pc-q35-6.2",
  "pc-q35-7.2",
  "pc",
  "q35",
];
const MODELS = ["qemu64", "kvm64", "Skylake-Client", "Westmere", "EPYC", "EPYC-Rome", "Opteron_G3"];
/** drawn tri-states: the PV settings a user sets (not the enforce-cpuid and mmu knobs) */
const DRAWN_PV = PV_QEMU_NAMES.slice(0, 14).map(([k]) => k);
const OTHER_FEATURES = ["hypervisor", "tsc-deadline", "pdpe1gb", "arch-capabilities"];
const P = {
  tcg: 0.08,
  hostPassthrough: 0.23,
  hidden: 0.1,
  pvKey: 0.5,
  pvTrue: 0.6,
  msiKey: 0.3,
  msiTrue: 0.3,
  hintTrue: 0.75,
  featuresCustom: 0.3,
  featuresHost: 0.15,
  x2apic: 0.15,
};
const IRQCHIPS = [
  ["kernel", 0.52],
  ["split", 0.43],
  ["off", 0.05],
];

const USAGE = `usage: npm run record:kvm -- --n N [--seed S] [--out DIR] [--timeout SECONDS] [--allow-tcg-only]
  --n N             how many configurations to record (required)
  --seed S          PRNG seed (default ${DEFAULT_SEED}); the same seed draws the same configurations
  --out DIR         where to write observed.jsonl, host.json, probe.json (default ${DEFAULT_OUT})
  --timeout SECONDS how long one QEMU run may take before it is killed (default ${DEFAULT_TIMEOUT_S})
  --allow-tcg-only  run without a writable /dev/kvm: every configuration is TCG (for tests)`;

function parseArgs(argv) {
  const opts = { n: undefined, seed: DEFAULT_SEED, out: DEFAULT_OUT, timeout: DEFAULT_TIMEOUT_S, tcgOnly: false, help: false };
  const integer = (name, raw, min) => {
    if (raw === undefined) throw new UsageError(`${name} needs a value`);
    if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw)))
      throw new UsageError(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (name) {
      case "--n":
        opts.n = integer("--n", value(), 1);
        break;
      case "--seed":
        opts.seed = integer("--seed", value(), 0);
        if (opts.seed > 0xffffffff) throw new UsageError(`--seed must be at most ${0xffffffff}, got ${opts.seed}`);
        break;
      case "--out": {
        const v = value();
        if (v === undefined || v === "") throw new UsageError("--out needs a directory");
        opts.out = v;
        break;
      }
      case "--timeout":
        opts.timeout = integer("--timeout", value(), 1);
        break;
      case "--allow-tcg-only":
        if (inline !== undefined) throw new UsageError("--allow-tcg-only takes no value");
        opts.tcgOnly = true;
        break;
      case "-h":
      case "--help":
        opts.help = true;
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    }
  }
  if (!opts.help && opts.n === undefined) throw new UsageError("--n is required (how many configurations to record)");
  return opts;
}

// ---------------------------------------------------------------- drawing configurations

/** mulberry32: a small seeded PRNG, floats in [0, 1) */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (rnd, list) => list[Math.floor(rnd() * list.length)];

function weighted(rnd, pairs) {
  let x = rnd();
  for (const [v, w] of pairs) {
    if (x < w) return v;
    x -= w;
  }
  return pairs[pairs.length - 1][0];
}

/** 1 to 3 other CPU flags in random order with random values, or none */
function drawFeatures(rnd, names, p) {
  if (rnd() >= p) return {};
  const k = weighted(rnd, [
    [1, 0.7],
    [2, 0.27],
    [3, 0.03],
  ]);
  const pool = [...names];
  const out = {};
  for (let j = 0; j < k && pool.length > 0; j++) {
    const name = pool.splice(Math.floor(rnd() * pool.length), 1)[0];
    out[name] = rnd() < 0.5;
  }
  return out;
}

function drawPv(rnd) {
  const pv = {};
  for (const key of DRAWN_PV) {
    const msi = key === "msiExtDestId";
    if (rnd() >= (msi ? P.msiKey : P.pvKey)) continue;
    pv[key] = rnd() < (msi ? P.msiTrue : key === "hintDedicated" ? P.hintTrue : P.pvTrue);
  }
  return pv;
}

/**
 * The i-th configuration. `offer` holds what the local QEMU has (machines, models, whether host
 * passthrough is possible); with tcgOnly every configuration takes the TCG branch (the draws are
 * the same, so a seed still names one sequence).
 */
function drawSpec(rnd, i, offer) {
  const tcg = rnd() < P.tcg || offer.tcgOnly;
  const machine = pick(rnd, offer.machines);
  const vcpus = pick(rnd, [1, 2, 4]);
  const irqchip = weighted(rnd, IRQCHIPS);
  const spec = { name: `obs-${i}`, vcpus, memoryMiB: 128, machine, accel: tcg ? "tcg" : "kvm", irqchip };
  if (tcg) {
    const features = drawFeatures(rnd, OTHER_FEATURES, P.featuresCustom);
    spec.cpu = { mode: "custom", model: offer.tcgModel, ...(Object.keys(features).length ? { features } : {}) };
    if (rnd() < P.hidden) spec.paravirt = { hidden: true };
    return spec;
  }
  const host = rnd() < P.hostPassthrough && offer.host;
  const model = pick(rnd, offer.models);
  if (host) {
    // arch-capabilities=off: these nested hosts abort setting MSR 0x10a otherwise
    const features = { ...drawFeatures(rnd, OTHER_FEATURES.slice(0, 3), P.featuresHost), "arch-capabilities": false };
    spec.cpu = { mode: "host-passthrough", features };
  } else {
    const features = drawFeatures(rnd, OTHER_FEATURES, P.featuresCustom);
    spec.cpu = { mode: "custom", model, ...(Object.keys(features).length ? { features } : {}) };
  }
  const pv = rnd() < P.hidden ? { hidden: true } : drawPv(rnd);
  if (Object.keys(pv).length) spec.paravirt = pv;
  if (rnd() < P.x2apic) spec.x2apic = rnd() < 0.5;
  return spec;
}

// ---------------------------------------------------------------- QEMU arguments from a spec

const onOff = (b) => (b ? "on" : "off");

/** The meaningful arguments (what the record carries), built from the spec alone. */
function qemuArgs(spec) {
  const accel =
    spec.accel === "tcg"
      ? "tcg"
      : `kvm,kernel-irqchip=${{ kernel: "on", split: "split", off: "off" }[spec.irqchip] ?? fail(spec, "irqchip")}`;
  const cpu = [spec.cpu.mode === "custom" ? spec.cpu.model : spec.cpu.mode === "host-passthrough" ? "host" : fail(spec, "cpu.mode")];
  const pv = spec.paravirt ?? {};
  if (pv.hidden !== undefined) cpu.push(`kvm=${onOff(!pv.hidden)}`);
  for (const [key, value] of Object.entries(pv)) {
    if (key === "hidden") continue;
    const name = PV_QEMU_NAME.get(key) ?? fail(spec, `paravirt.${key}`);
    cpu.push(`${name}=${onOff(value)}`);
  }
  for (const [name, value] of Object.entries(spec.cpu.features ?? {})) cpu.push(`${name}=${onOff(value)}`);
  if (spec.x2apic !== undefined) cpu.push(`x2apic=${onOff(spec.x2apic)}`);
  return ["-accel", accel, "-machine", spec.machine, "-cpu", cpu.join(","), "-smp", String(spec.vcpus), "-m", String(spec.memoryMiB)];
}

function fail(spec, what) {
  throw new Error(`${spec.name}: cannot render ${what}`);
}

/** Added to every run, not recorded: no default devices, no display, paused, QMP on stdio. */
const PLUMBING = ["-nodefaults", "-nographic", "-display", "none", "-S", "-qmp", "stdio"];

// ---------------------------------------------------------------- running QEMU

const running = new Set();

function killAll() {
  for (const child of running) child.kill("SIGKILL");
}

/**
 * Starts QEMU with args, reads `props` of the first vCPU over QMP, quits. Resolves to
 * {started: true, props} or {started: false, error} (QEMU exited before answering); rejects
 * with a FatalError when QEMU answers but cannot give a property, or does not finish in time.
 * The QEMU is dead when the promise settles.
 */
function observe(args, props, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(QEMU, [...args, ...PLUMBING], { stdio: ["pipe", "pipe", "pipe"] });
    running.add(child);
    let stdout = "";
    let stderr = "";
    let outcome = null; // {ok, value} once decided
    let cpuPath = null;
    const values = {};
    const send = (id, execute, args_) => {
      if (!child.stdin.destroyed) child.stdin.write(JSON.stringify({ execute, ...(args_ ? { arguments: args_ } : {}), id }) + "\n");
    };
    const decide = (ok, value) => {
      if (outcome) return;
      outcome = { ok, value };
      if (ok && value.started) send("quit", "quit");
      // give QEMU a moment to quit by itself, then make sure it is gone
      const grace = setTimer(() => child.kill("SIGKILL"), ok && value.started ? 2000 : 0);
      child.once("close", () => clearTimer(grace));
    };
    const timer = setTimer(() => {
      decide(false, new FatalError(`QEMU did not finish within ${timeoutMs / 1000} s: ${QEMU} ${args.join(" ")}`));
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdin.on("error", () => undefined); // QEMU gone: its exit decides
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (c) => (stderr += c));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      let nl;
      while ((nl = stdout.indexOf("\n")) >= 0) {
        const line = stdout.slice(0, nl).trim();
        stdout = stdout.slice(nl + 1);
        if (line) onMessage(line);
      }
    });
    function onMessage(line) {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (outcome) return;
      if (msg.QMP) return send("cap", "qmp_capabilities");
      if (msg.id === undefined) return; // events
      if (msg.error) {
        const what = msg.id.startsWith("p:") ? `qom-get ${msg.id.slice(2)}` : msg.id;
        return decide(false, new FatalError(`QMP ${what} failed: ${msg.error.class}: ${msg.error.desc}`));
      }
      if (msg.id === "cap") return send("cpus", "query-cpus-fast");
      if (msg.id === "cpus") {
        const cpus = Array.isArray(msg.return) ? msg.return : [];
        const first = cpus.find((c) => c["cpu-index"] === 0) ?? cpus[0];
        if (!first) return decide(false, new FatalError("query-cpus-fast returned no vCPU"));
        cpuPath = first["qom-path"];
        for (const p of props) send(`p:${p}`, "qom-get", { path: cpuPath, property: p });
        return;
      }
      if (msg.id.startsWith("p:")) {
        const p = msg.id.slice(2);
        if (typeof msg.return !== "boolean")
          return decide(false, new FatalError(`qom-get ${p} returned ${JSON.stringify(msg.return)}, expected a boolean`));
        values[p] = msg.return;
        if (props.every((q) => q in values)) {
          const sorted = {};
          for (const q of props) sorted[q] = values[q];
          decide(true, { started: true, props: sorted });
        }
      }
    }
    child.on("error", (e) => decide(false, new FatalError(`cannot run ${QEMU}: ${e.message}`)));
    child.on("close", (code, signal) => {
      clearTimer(timer);
      running.delete(child);
      if (!outcome) {
        const last = stderr
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l !== "")
          .pop();
        decide(true, { started: false, error: last ?? `${QEMU} exited (${signal ?? `code ${code}`}) without a message` });
      }
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.value);
    });
  });
}

// ---------------------------------------------------------------- the host

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60000 });
  return r.error || r.status !== 0 ? null : r.stdout;
}

function kvmUsable() {
  try {
    fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** machine types and CPU models of the local QEMU */
function localQemu() {
  const version = run(QEMU, ["--version"]);
  if (version === null) throw new FatalError(`${QEMU} is not installed or does not run (apt-get install qemu-system-x86)`);
  const machinesText = run(QEMU, ["-machine", "help"]) ?? "";
  const machines = new Set();
  const aliases = new Map();
  for (const line of machinesText.split("\n")) {
    const m = /^(\S+)\s+.*?(?:\(alias of (\S+)\))?\s*$/.exec(line);
    if (!m || line.startsWith("Supported")) continue;
    machines.add(m[1]);
    if (m[2]) aliases.set(m[1], m[2]);
  }
  const models = new Set();
  for (const line of (run(QEMU, ["-cpu", "help"]) ?? "").split("\n")) {
    const m = /^x86\s+(\S+)/.exec(line);
    if (m) models.add(m[1]);
  }
  return { version: /version (\d+\.\d+(?:\.\d+)?)/.exec(version)?.[1] ?? version.split("\n")[0], machines, aliases, models };
}

function cpuinfo() {
  try {
    return fs.readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return "";
  }
}

function libvirtVersion() {
  for (const [cmd, args] of [
    ["libvirtd", ["--version"]],
    ["virsh", ["--version"]],
  ]) {
    const out = run(cmd, args);
    const m = out && /(\d+\.\d+\.\d+)/.exec(out);
    if (m) return m[1];
  }
  return null;
}

/** `kvm-paravirt probe --json` (builds dist/ first when it is missing) */
function probe() {
  const entry = path.join(ROOT, "dist", "src", "cli", "main.js");
  if (!fs.existsSync(entry)) {
    const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
    process.stderr.write("record-kvm: dist/ is missing, building it (tsc -p tsconfig.json)\n");
    const b = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: ROOT, encoding: "utf8" });
    if (b.status !== 0)
      throw new FatalError(`probe.json: the build failed (run \`npm run build\`):\n${(b.stdout + b.stderr || String(b.error)).trim()}`);
  }
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "kvm-paravirt.js"), "probe", "--json"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 180000,
  });
  if (r.status !== 0 || r.error)
    throw new FatalError(
      `probe.json: \`kvm-paravirt probe --json\` failed (exit ${r.status}): ${(r.stderr || String(r.error ?? "")).trim().split("\n").pop()}`,
    );
  try {
    JSON.parse(r.stdout);
  } catch (e) {
    throw new FatalError(`probe.json: \`kvm-paravirt probe --json\` printed no JSON: ${e.message}`);
  }
  return r.stdout.endsWith("\n") ? r.stdout : r.stdout + "\n";
}

// ---------------------------------------------------------------- main

async function main(argv) {
  const opts = parseArgs(argv);
  if (opts.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const kvm = kvmUsable();
  if (!kvm && !opts.tcgOnly)
    throw new UsageError("/dev/kvm is missing or not writable: this records KVM; pass --allow-tcg-only for a TCG-only run");
  const tcgOnly = opts.tcgOnly;
  const qemu = localQemu();
  const machines = [...MACHINES.filter((m) => qemu.machines.has(m))];
  for (const alias of ["pc", "q35"]) {
    const target = qemu.aliases.get(alias);
    if (target && !machines.includes(target)) machines.push(target);
  }
  const models = MODELS.filter((m) => qemu.models.has(m));
  if (machines.length === 0) throw new FatalError(`${QEMU} offers none of the machine types ${MACHINES.join(", ")}`);
  if (models.length === 0) throw new FatalError(`${QEMU} offers none of the CPU models ${MODELS.join(", ")}`);
  const offer = { machines, models, tcgModel: models.includes("qemu64") ? "qemu64" : models[0], host: !tcgOnly, tcgOnly };

  const out = path.resolve(opts.out);
  try {
    // one level at a time: Node 20's recursive mkdirSync spins forever under /proc
    const missing = [];
    for (let d = out; !fs.existsSync(d) && path.dirname(d) !== d; d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) fs.mkdirSync(d);
    fs.accessSync(out, fs.constants.W_OK);
  } catch (e) {
    throw new UsageError(`--out ${opts.out}: cannot write there (${e.code ?? e.message})`);
  }
  const started = Date.now();
  process.stderr.write(`record-kvm: QEMU ${qemu.version}, ${opts.n} configurations, seed ${opts.seed}, into ${out}\n`);
  process.stderr.write(`record-kvm: machine types ${machines.join(" ")}; models ${models.join(" ")}${tcgOnly ? "; TCG only" : ""}\n`);

  const probeJson = probe(); // first: a broken build fails before the long part
  const timeoutMs = opts.timeout * 1000;
  const hostPassthrough = tcgOnly
    ? null
    : await observe(["-accel", "kvm", "-machine", "q35", "-cpu", "host,arch-capabilities=off", "-smp", "1", "-m", "128"], PROPS, timeoutMs);
  if (hostPassthrough && !hostPassthrough.started) throw new FatalError(`-cpu host does not start: ${hostPassthrough.error}`);

  const rnd = mulberry32(opts.seed);
  const partial = path.join(out, "observed.jsonl.partial");
  const fd = fs.openSync(partial, "w");
  let ok = 0;
  let refused = 0;
  for (let i = 0; i < opts.n; i++) {
    const spec = drawSpec(rnd, i, offer);
    const args = qemuArgs(spec);
    const qemuResult = await observe(args, PROPS, timeoutMs);
    if (qemuResult.started) ok++;
    else refused++;
    fs.writeSync(fd, JSON.stringify({ spec, qemuArgs: args, qemu: qemuResult }) + "\n");
    process.stderr.write(
      `[${i + 1}/${opts.n}] ${spec.name} ${args[1]} ${args[3]} -cpu ${args[5]}: ${qemuResult.started ? "started" : `refused: ${qemuResult.error}`}\n`,
    );
  }
  fs.closeSync(fd);
  fs.renameSync(partial, path.join(out, "observed.jsonl"));

  const info = cpuinfo();
  const host = {
    recordedAt: new Date().toISOString().slice(0, 10),
    seed: opts.seed,
    qemu: qemu.version,
    libvirt: libvirtVersion(),
    hostKernel: os.release(),
    hostCpu: /^model name\s*:\s*(.*)$/m.exec(info)?.[1]?.trim() ?? null,
    nested: /^flags\s*:.*\bhypervisor\b/m.test(info),
    hostPassthroughRealized: hostPassthrough ? hostPassthrough.props : null,
    note:
      `Recorded by scripts/record-kvm.js --n ${opts.n} --seed ${opts.seed}${tcgOnly ? " --allow-tcg-only (no KVM: every record is TCG)" : ""}. ` +
      `QEMU started with each record's qemuArgs plus ${PLUMBING.join(" ")} (not recorded): paused vCPU, QMP on stdio; ` +
      "each property read back with qom-get on the first vCPU (query-cpus-fast), then quit. " +
      "-cpu host needs arch-capabilities=off on nested hosts (QEMU aborts setting MSR 0x10a otherwise): added to every such record's args and cpu.features. " +
      `hostPassthroughRealized: -accel kvm -machine q35 -cpu host,arch-capabilities=off -smp 1 -m 128. ` +
      `Machine types offered: ${machines.join(" ")}; CPU models offered: ${models.join(" ")}.`,
  };
  fs.writeFileSync(path.join(out, "host.json"), JSON.stringify(host, null, 2) + "\n");
  fs.writeFileSync(path.join(out, "probe.json"), probeJson);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(`record-kvm: ${opts.n} records in ${secs} s: ${ok} started, ${refused} refused; wrote ${out}\n`);
  return 0;
}

/** for tests that want the drawing and the arguments without running QEMU */
module.exports = { mulberry32, drawSpec, qemuArgs, PROPS };

if (require.main === module) runAsScript({ name: "record-kvm", usage: USAGE, main, cleanup: killAll });
