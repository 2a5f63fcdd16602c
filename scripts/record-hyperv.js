#!/usr/bin/env node
"use strict";
/**
 * node scripts/record-hyperv.js [--out DIR] [--timeout SECONDS] [--accel kvm|tcg|both]
 *
 * Measures what the local QEMU does with every Hyper-V enlightenment (`hv-*` CPU property) it
 * knows, under KVM and under TCG, and writes one JSON file per accelerator to
 * test/fixtures/hyperv-observed/<qemu-version>-<accel>.json (groundwork for issue 23).
 *
 * The list of properties comes from QEMU itself (QMP device-list-properties of the qemu64 CPU
 * type), never from this project. Each configuration is one QEMU command line; for each:
 *
 *  1. QEMU is started paused (-S, QMP on stdio) under
 *       strace -f -e trace=ioctl -e verbose=ioctl -X raw -v -s 65535
 *     and the outcome is recorded: refused (exit code and every line QEMU printed), aborted (the
 *     signal and the assertion line), timeout, or started. A started QEMU is asked, over QMP,
 *     for every hv-* property of its first vCPU (qom-get), then quits.
 *  2. The CPUID QEMU handed KVM is decoded from the LAST KVM_SET_CPUID2 (0x4008ae90) call that
 *     strace printed (strace decodes struct kvm_cpuid2 only with -v; -X raw keeps the request
 *     number numeric). Under TCG there is no such call (recorded as 0 calls).
 *  3. When it started, the same configuration is booted (not paused) with a 64 KiB firmware
 *     written by this script: 16-bit code at the reset vector that executes CPUID for a list of
 *     leaves, writes leaf, EAX, EBX, ECX, EDX to the debugcon port 0xe9 and leaves through
 *     isa-debug-exit. That is the CPUID the guest sees, under KVM and under TCG alike.
 *
 * Each QEMU (and its strace) runs in its own process group and is killed with SIGKILL after
 * --timeout seconds. Temporary files live in one mkdtemp directory, removed at the end.
 */
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const zlib = require("node:zlib");
const { setTimeout: setTimer, clearTimeout: clearTimer } = require("node:timers");
const { FatalError, runAsScript, UsageError } = require("./script-main");

const QEMU = "qemu-system-x86_64";
const STRACE = "strace";
const DEFAULT_OUT = path.join("test", "fixtures", "hyperv-observed");
const DEFAULT_TIMEOUT_S = 10;
const MODEL = "qemu64";
const MACHINE = "q35";
const KVM_SET_CPUID2 = "0x4008ae90";
const STRACE_ARGS = ["-f", "-e", "trace=ioctl", "-e", "verbose=ioctl", "-X", "raw", "-v", "-s", "65535"];
const COMMON = ["-display", "none", "-nodefaults", "-monitor", "none", "-serial", "none", "-m", "64", "-smp", "1"];

const USAGE = `usage: node scripts/record-hyperv.js [--out DIR] [--timeout SECONDS] [--accel kvm|tcg|both]
  --out DIR          where to write <qemu-version>-<accel>.json (default ${DEFAULT_OUT})
  --timeout SECONDS  how long one QEMU run may take before it is killed (default ${DEFAULT_TIMEOUT_S})
  --accel A          kvm, tcg or both (default both; kvm needs a writable /dev/kvm)`;

function parseArgs(argv) {
  const opts = { out: DEFAULT_OUT, timeout: DEFAULT_TIMEOUT_S, accel: "both", help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = () => {
      const v = inline !== undefined ? inline : argv[++i];
      if (v === undefined || v === "") throw new UsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case "--out":
        opts.out = value();
        break;
      case "--timeout": {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--timeout must be an integer >= 1, got ${JSON.stringify(v)}`);
        opts.timeout = Number(v);
        break;
      }
      case "--accel": {
        const v = value();
        if (!["kvm", "tcg", "both"].includes(v)) throw new UsageError(`--accel must be kvm, tcg or both, got ${JSON.stringify(v)}`);
        opts.accel = v;
        break;
      }
      case "-h":
      case "--help":
        opts.help = true;
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    }
  }
  return opts;
}

// ---------------------------------------------------------------- processes

/** every process group this script started and has not seen end */
const running = new Set();
/** the temporary directory, removed at the end (and on SIGINT/SIGTERM) */
let tmpDir = null;

function killGroup(child) {
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function killAll() {
  for (const c of running) killGroup(c);
}

function removeTmp() {
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = null;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30000 });
  return r.error || r.status !== 0 ? null : r.stdout + r.stderr;
}

const lines = (text) =>
  text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "");

/**
 * Runs `argv` in its own process group with a QMP monitor on its stdin/stdout (when `qmp` is
 * given: a function called with each QMP message and a `send` function, returning true once
 * it is done, then QEMU is told to quit). Resolves to {code, signal, stderr, timedOut,
 * greeted, answered: the QMP script's result}. The process group is dead when it resolves.
 */
function runProcess(argv, { cwd, timeoutMs, qmp }) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    running.add(child);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let greeted = false;
    let done = false;
    let answered = null;
    const send = (id, execute, args) => {
      if (!child.stdin.destroyed) child.stdin.write(JSON.stringify({ execute, ...(args ? { arguments: args } : {}), id }) + "\n");
    };
    let grace = null;
    const finish = (result) => {
      if (done) return;
      done = true;
      answered = result;
      send("quit", "quit");
      grace = setTimer(() => killGroup(child), 3000);
    };
    const timer = setTimer(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.stdin.on("error", () => undefined);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (c) => (stderr += c));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      let nl;
      while ((nl = stdout.indexOf("\n")) >= 0) {
        const line = stdout.slice(0, nl).trim();
        stdout = stdout.slice(nl + 1);
        if (!line || !qmp || done) continue;
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (msg.QMP) greeted = true;
        const r = qmp(msg, send);
        if (r !== undefined) finish(r);
      }
    });
    child.on("error", (e) => {
      stderr += `cannot run ${argv[0]}: ${e.message}\n`;
    });
    child.on("close", (code, signal) => {
      clearTimer(timer);
      if (grace) clearTimer(grace);
      killGroup(child); // a tracee strace left behind, if any
      running.delete(child);
      resolve({ code, signal, stderr, timedOut, greeted, answered });
    });
  });
}

/** a QMP script: capabilities, query-cpus-fast, qom-get of every property, then done */
function qomScript(props) {
  const values = {};
  let path_ = null;
  const errors = {};
  return (msg, send) => {
    if (msg.QMP) return void send("cap", "qmp_capabilities");
    if (msg.id === undefined) return undefined; // an event
    if (msg.id === "cap") return void send("cpus", "query-cpus-fast");
    if (msg.id === "cpus") {
      const cpus = Array.isArray(msg.return) ? msg.return : [];
      const first = cpus.find((c) => c["cpu-index"] === 0) ?? cpus[0];
      if (!first) return { error: `query-cpus-fast: ${JSON.stringify(msg.error ?? msg.return)}` };
      path_ = first["qom-path"];
      if (props.length === 0) return { path: path_, values };
      for (const p of props) send(`p:${p}`, "qom-get", { path: path_, property: p });
      return undefined;
    }
    if (typeof msg.id === "string" && msg.id.startsWith("p:")) {
      const p = msg.id.slice(2);
      if (msg.error) errors[p] = `${msg.error.class}: ${msg.error.desc}`;
      else values[p] = msg.return;
      if (props.every((q) => q in values || q in errors)) {
        const sorted = {};
        for (const q of props) sorted[q] = q in values ? values[q] : { error: errors[q] };
        return { path: path_, values: sorted };
      }
    }
    return undefined;
  };
}

// ---------------------------------------------------------------- QEMU's hv-* properties

/** the hv-* properties of QEMU's x86 CPU, as QMP device-list-properties lists them */
async function hvProperties(tmp, timeoutMs) {
  const script = (msg, send) => {
    if (msg.QMP) return void send("cap", "qmp_capabilities");
    if (msg.id === "cap") return void send("props", "device-list-properties", { typename: `${MODEL}-x86_64-cpu` });
    if (msg.id === "props") return msg.error ? { error: msg.error.desc } : { props: msg.return };
    return undefined;
  };
  const r = await runProcess([QEMU, "-machine", "none", "-accel", "tcg", "-S", ...COMMON, "-qmp", "stdio"], {
    cwd: tmp,
    timeoutMs,
    qmp: script,
  });
  if (!r.answered || r.answered.error)
    throw new FatalError(`device-list-properties failed: ${r.answered?.error ?? lines(r.stderr).pop() ?? "no answer"}`);
  return r.answered.props
    .filter((p) => /^(x-)?hv[-_]/.test(p.name))
    .map((p) => ({ name: p.name, type: p.type, ...(p["default-value"] !== undefined ? { default: p["default-value"] } : {}) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// ---------------------------------------------------------------- configurations

/** the value each property is set to when it is tried alone, by QOM type */
function valuesFor(p) {
  switch (p.name) {
    case "hv-spinlocks":
      return ["0x1fff"];
    case "hv-vendor-id":
      return ["1234567890ab", "ABCDEFGHIJKLMNOP"];
    case "hv-version-id-build":
      return ["17763"];
    case "x-hv-max-vps":
      return ["8"];
    default:
      break;
  }
  if (p.type === "bool") return ["on"];
  if (p.type === "OnOffAuto") return ["on", "auto"];
  if (/^u?int\d+$/.test(p.type)) return ["1"];
  if (p.type === "str") return ["test"];
  return [];
}

/**
 * Every configuration: a baseline, each property alone, QEMU's dependency table
 * (shared/reference/hyperv.md §2) without and with the dependency, the sets libvirt and the
 * peers emit, hiding, old machine types, and hv-passthrough on -cpu host (KVM only).
 */
function configurations(props, accel) {
  const out = [];
  const add = (purpose, cpuProps, extra = {}) =>
    out.push({ purpose, machine: extra.machine ?? MACHINE, model: extra.model ?? MODEL, cpuProps });
  add("baseline: no hv-* property", []);
  for (const p of props) for (const v of valuesFor(p)) add(`single: ${p.name}=${v}`, [`${p.name}=${v}`]);
  add("legacy spelling hv_relaxed", ["hv_relaxed=on"]);
  const deps = [
    ["hv-synic with hv-vpindex", ["hv-synic=on", "hv-vpindex=on"]],
    ["hv-stimer without hv-time (hv-synic, hv-vpindex on)", ["hv-stimer=on", "hv-synic=on", "hv-vpindex=on"]],
    ["hv-stimer without hv-synic (hv-time on)", ["hv-stimer=on", "hv-time=on"]],
    ["hv-stimer with hv-time, hv-synic, hv-vpindex", ["hv-stimer=on", "hv-time=on", "hv-synic=on", "hv-vpindex=on"]],
    ["hv-stimer-direct with hv-stimer only", ["hv-stimer-direct=on", "hv-stimer=on"]],
    ["hv-tlbflush with hv-vpindex", ["hv-tlbflush=on", "hv-vpindex=on"]],
    ["hv-ipi with hv-vpindex", ["hv-ipi=on", "hv-vpindex=on"]],
    ["hv-evmcs with hv-vapic (AMD host: Intel-only feature)", ["hv-evmcs=on", "hv-vapic=on"]],
    ["hv-syndbg with hv-relaxed, hv-synic, hv-vpindex", ["hv-syndbg=on", "hv-relaxed=on", "hv-synic=on", "hv-vpindex=on"]],
    ["hv-tlbflush-ext with hv-tlbflush", ["hv-tlbflush-ext=on", "hv-tlbflush=on"]],
    ["hv-tlbflush-direct with hv-vapic", ["hv-tlbflush-direct=on", "hv-vapic=on"]],
    ["hv-enforce-cpuid with hv-relaxed", ["hv-enforce-cpuid=on", "hv-relaxed=on"]],
    ["hv-vendor-id with hv-relaxed", ["hv-relaxed=on", "hv-vendor-id=1234567890ab"]],
    ["hv-version-id-build with hv-relaxed", ["hv-relaxed=on", "hv-version-id-build=17763"]],
    ["hv-passthrough with an explicit hv-relaxed=off", ["hv-passthrough=on", "hv-relaxed=off"]],
    [
      "every feature that starts alone on this kind of host (shared/reference/hyperv.md §6.2)",
      [
        "hv-relaxed=on",
        "hv-spinlocks=0x1fff",
        "hv-runtime=on",
        "hv-reset=on",
        "hv-frequencies=on",
        "hv-crash=on",
        "hv-ipi=on",
        "hv-tlbflush=on",
        "hv-stimer=on",
      ],
    ],
    [
      "libvirt 9.0's -cpu for every <hyperv> element (shared/reference/hyperv.md §6.6)",
      [
        "hv-time=on",
        "hv-relaxed=on",
        "hv-vapic=on",
        "hv-spinlocks=0x1fff",
        "hv-vpindex=on",
        "hv-runtime=on",
        "hv-synic=on",
        "hv-stimer=on",
        "hv-stimer-direct=on",
        "hv-reset=on",
        "hv-vendor-id=KVM Hv",
        "hv-frequencies=on",
        "hv-reenlightenment=on",
        "hv-tlbflush=on",
        "hv-ipi=on",
        "hv-evmcs=on",
        "hv-avic=on",
      ],
    ],
    [
      "virt-install 4.1's set: relaxed, vapic, spinlocks 8191, hypervclock",
      ["hv-relaxed=on", "hv-vapic=on", "hv-spinlocks=0x1fff", "hv-time=on"],
    ],
    ["hidden: kvm=off alone", ["kvm=off"]],
    ["hidden with a vendor id: kvm=off, hv-relaxed, hv-vendor-id", ["kvm=off", "hv-relaxed=on", "hv-vendor-id=1234567890ab"]],
  ];
  for (const [purpose, cpuProps] of deps) add(`combination: ${purpose}`, cpuProps);
  add("machine pc-q35-3.0 (x-hv-synic-kvm-only on): hv-synic without hv-vpindex", ["hv-synic=on"], { machine: "pc-q35-3.0" });
  add("machine pc-q35-6.1 (old hv-version-id defaults): hv-relaxed", ["hv-relaxed=on"], { machine: "pc-q35-6.1" });
  if (accel === "kvm") {
    add("host model: baseline", ["arch-capabilities=off"], { model: "host" });
    add("host model: hv-passthrough", ["arch-capabilities=off", "hv-passthrough=on"], { model: "host" });
    add("host model: hv-evmcs with hv-vapic", ["arch-capabilities=off", "hv-evmcs=on", "hv-vapic=on"], { model: "host" });
  }
  return out;
}

// ---------------------------------------------------------------- strace output

const hex = (n) => "0x" + (n >>> 0).toString(16);

/** the entries of every KVM_SET_CPUID2 call strace printed, in order */
function setCpuid2Calls(text) {
  const calls = [];
  const re = new RegExp(`^(\\d+)\\s+ioctl\\((\\d+), ${KVM_SET_CPUID2}, \\{nent=(\\d+), entries=\\[(.*?)\\]\\}`, "gm");
  for (const m of text.matchAll(re)) {
    const entries = [];
    for (const e of m[4].matchAll(/\{([^{}]*)\}/g)) {
      const f = {};
      for (const kv of e[1].split(",")) {
        const [k, v] = kv.split("=").map((s) => s.trim());
        f[k] = Number(v) >>> 0;
      }
      entries.push(f);
    }
    calls.push({ pid: Number(m[1]), fd: Number(m[2]), nent: Number(m[3]), entries, truncated: entries.length !== Number(m[3]) });
  }
  return calls;
}

const KVM_CHECK_EXTENSION = "0xae03";
const KVM_GET_SUPPORTED_HV_CPUID = "0xc008aec1";

/**
 * The Hyper-V questions QEMU asked KVM: each KVM_CHECK_EXTENSION of a Hyper-V capability with
 * its answer (distinct), and how many KVM_GET_SUPPORTED_HV_CPUID calls it made.
 */
function hvIoctls(text) {
  const byNumber = new Map(Object.entries(HV_CAPS).map(([k, v]) => [v, k]));
  const checks = new Set();
  for (const m of text.matchAll(new RegExp(`^\\d+\\s+ioctl\\(\\d+, ${KVM_CHECK_EXTENSION}, (0x[0-9a-f]+|\\d+)\\)\\s+= (-?\\d+)`, "gm"))) {
    const cap = Number(m[1]);
    if (byNumber.has(cap)) checks.add(`${byNumber.get(cap)}=${m[2]}`);
  }
  const getHv = [...text.matchAll(new RegExp(`^\\d+\\s+ioctl\\(\\d+, ${KVM_GET_SUPPORTED_HV_CPUID},`, "gm"))].length;
  return { checkExtension: [...checks].sort(), getSupportedHvCpuidCalls: getHv };
}

/** "+++ exited with N +++" / "+++ killed by SIGX +++" lines, distinct */
function straceEnds(text) {
  return [...new Set([...text.matchAll(/^\d+\s+\+\+\+ (.*) \+\+\+$/gm)].map((m) => m[1]))];
}

const regs = (e) => ({ eax: hex(e.eax), ebx: hex(e.ebx), ecx: hex(e.ecx), edx: hex(e.edx) });
const sig = (b, c, d) => Buffer.from(new Uint32Array([b, c, d]).buffer).toString("latin1");
const HV1 = 0x31237648; // "Hv#1"

/**
 * Bits QEMU sets in the Hyper-V leaves for each feature ([Q7.2 target/i386/kvm/kvm.c
 * kvm_hyperv_properties[]], via shared/reference/hyperv.md §1): [leaf offset, register, bit].
 * Used only to name what a record's CPUID shows.
 */
const HV_BITS = {
  "hv-relaxed": [[4, "eax", 5]],
  "hv-vapic": [[3, "eax", 4]],
  "hv-time": [
    [3, "eax", 1],
    [3, "eax", 9],
  ],
  "hv-crash": [[3, "edx", 10]],
  "hv-reset": [[3, "eax", 7]],
  "hv-vpindex": [[3, "eax", 6]],
  "hv-runtime": [[3, "eax", 0]],
  "hv-synic": [[3, "eax", 2]],
  "hv-stimer": [[3, "eax", 3]],
  "hv-frequencies": [
    [3, "eax", 11],
    [3, "edx", 8],
  ],
  "hv-reenlightenment": [[3, "eax", 13]],
  "hv-tlbflush": [[4, "eax", 2]],
  "hv-evmcs": [[4, "eax", 14]],
  "hv-ipi": [[4, "eax", 10]],
  "hv-stimer-direct": [[3, "edx", 19]],
  "hv-avic": [[4, "eax", 9]],
  "hv-syndbg": [[3, "edx", 11]],
  "hv-emsr-bitmap": [[10, "eax", 19]],
  "hv-xmm-input": [[3, "edx", 4]],
  "hv-tlbflush-ext": [[3, "edx", 14]],
  "hv-tlbflush-direct": [[10, "eax", 17]],
  "hv-no-nonarch-coresharing": [[4, "eax", 18]],
};

/**
 * What a CPUID table (leaf -> {eax, ebx, ecx, edx}, numbers) says: where the KVM signature is,
 * whether the Hyper-V interface is there ("Hv#1" at base+1), its vendor, spinlocks, and which
 * hv-* features' bits are all set.
 */
function decode(table) {
  const at = (f) => table.get(f);
  const signatures = {};
  for (const base of [0x40000000, 0x40000100]) {
    const e = at(base);
    if (e) signatures[hex(base)] = sig(e.ebx, e.ecx, e.edx).replace(/\0+$/, "");
  }
  const kvmBase = Object.keys(signatures).find((b) => signatures[b] === "KVMKVMKVM") ?? null;
  const iface = at(0x40000001);
  const hyperv = Boolean(iface && iface.eax === HV1);
  const features = [];
  if (hyperv) {
    for (const [name, bits] of Object.entries(HV_BITS)) {
      if (bits.every(([off, r, b]) => ((at(0x40000000 + off)?.[r] ?? 0) >>> b) & 1)) features.push(name);
    }
  }
  const leaf1 = at(1);
  return {
    hypervisorBit: leaf1 ? Boolean((leaf1.ecx >>> 31) & 1) : null,
    signatures,
    kvmLeavesAt: kvmBase,
    hypervInterface: hyperv,
    hypervVendor: hyperv ? signatures["0x40000000"] : null,
    hypervSpinlocks: hyperv && at(0x40000004) ? hex(at(0x40000004).ebx) : null,
    hypervFeatures: features,
  };
}

function kvmCpuid(text) {
  const calls = setCpuid2Calls(text);
  if (calls.length === 0) return { calls: 0 };
  const last = calls[calls.length - 1];
  const table = new Map();
  const leaves = {};
  for (const e of last.entries) {
    if (e.function >= 0x40000000 && e.function < 0x50000000) leaves[hex(e.function)] = { index: e.index, flags: e.flags, ...regs(e) };
    if (!table.has(e.function) || e.index === 0) table.set(e.function, e);
  }
  const leaf1 = table.get(1);
  return {
    calls: calls.length,
    last: {
      nent: last.nent,
      truncated: last.truncated,
      leaf1: leaf1 ? regs(leaf1) : null,
      hypervisorRange: leaves,
    },
    decoded: decode(table),
  };
}

// ---------------------------------------------------------------- the guest's own CPUID

/** leaves the firmware asks for */
const GUEST_LEAVES = [
  0x1, 0x40000000, 0x40000001, 0x40000002, 0x40000003, 0x40000004, 0x40000005, 0x40000006, 0x4000000a, 0x40000080, 0x40000081, 0x40000082,
  0x40000100, 0x40000101,
];

/*
 * The firmware's code, assembled with GNU as (.code16) from:
 *   cli; xor %ax,%ax; mov %ax,%ss; mov $0x7000,%sp; mov $leaves,%si
 * 1: lods %cs:(%si),%eax; cmp $0xffffffff,%eax; je done
 *    mov %eax,%ebp; xor %ecx,%ecx; cpuid; push %edx; push %ecx; push %ebx; push %eax
 *    mov %ebp,%eax; call out32; (pop %eax; call out32) x4; jmp 1b
 * done: mov $0xf4,%dx; xor %al,%al; out %al,%dx; 2: hlt; jmp 2b
 * out32: mov $0xe9,%dx; mov $4,%cx; 3: out %al,%dx; shr $8,%eax; loop 3b; ret
 * leaves: .long ..., 0xffffffff          (at offset 0x57)
 * and at 0xfff0 (the reset vector): ljmp $0xf000,$0
 */
const FW_CODE =
  "fa31c08ed0bc0070be57002e66ad6683f8ff742c6689c56631c90fa26652665166536650" +
  "6689e8e81f006658e81a006658e815006658e810006658e80b00ebcbbaf40030c0eef4eb" +
  "fdbae900b90400ee66c1e808e2f9c3";

function firmware() {
  const code = Buffer.from(FW_CODE, "hex");
  if (code.length !== 0x57) throw new Error(`firmware code is ${code.length} bytes, expected 0x57`);
  const fw = Buffer.alloc(0x10000);
  code.copy(fw, 0);
  let off = 0x57;
  for (const l of [...GUEST_LEAVES, 0xffffffff]) off = fw.writeUInt32LE(l, off);
  Buffer.from([0xea, 0x00, 0x00, 0x00, 0xf0]).copy(fw, 0xfff0);
  return fw;
}

function guestCpuid(buf) {
  const table = new Map();
  const leaves = {};
  for (let i = 0; i + 20 <= buf.length; i += 20) {
    const [f, eax, ebx, ecx, edx] = [0, 4, 8, 12, 16].map((o) => buf.readUInt32LE(i + o));
    const e = { eax, ebx, ecx, edx };
    table.set(f, e);
    leaves[hex(f)] = regs(e);
  }
  const complete = table.size === GUEST_LEAVES.length && buf.length === GUEST_LEAVES.length * 20;
  return { complete, leaves, decoded: decode(table) };
}

// ---------------------------------------------------------------- one configuration

function accelArgs(accel) {
  return ["-accel", accel];
}

function cpuArg(c) {
  return [c.model, ...c.cpuProps].join(",");
}

/** what a record's command line looks like with the temporary directory hidden */
const shown = (argv, tmp) => argv.map((a) => a.split(tmp).join("$TMP"));

async function measure(c, accel, ctx) {
  const { tmp, timeoutMs, props, n } = ctx;
  const qemuArgs = [QEMU, ...accelArgs(accel), "-machine", c.machine, "-cpu", cpuArg(c), "-S", ...COMMON, "-qmp", "stdio"];
  const traceFile = path.join(tmp, `strace-${n}.txt`);
  const argv = [STRACE, "-o", traceFile, ...STRACE_ARGS, "--", ...qemuArgs];
  const r = await runProcess(argv, { cwd: tmp, timeoutMs, qmp: qomScript(props) });
  const trace = fs.existsSync(traceFile) ? fs.readFileSync(traceFile, "utf8") : "";
  fs.rmSync(traceFile, { force: true });
  const stderr = lines(r.stderr);
  const ends = straceEnds(trace);
  const killed = ends.map((e) => /^killed by (SIG\w+)/.exec(e)?.[1]).find(Boolean) ?? null;
  let outcome;
  if (r.answered && !r.answered.error) outcome = "started";
  else if (r.timedOut) outcome = "timeout";
  else if (killed || r.signal) outcome = "aborted";
  else outcome = "refused";
  const errorLines = stderr.filter((l) => !/: warning: /.test(l));
  const record = {
    purpose: c.purpose,
    accel,
    machine: c.machine,
    cpu: cpuArg(c),
    set: c.cpuProps,
    command: shown(argv, tmp),
    outcome,
    exit: { code: r.code, signal: r.signal ?? killed, straceSaw: ends },
    stderr,
    message: outcome === "started" ? null : (errorLines.find((l) => !/Assertion/.test(l)) ?? errorLines[0] ?? null),
    assertion: stderr.find((l) => /Assertion/.test(l)) ?? null,
    qmpGreeting: r.greeted,
    qom: outcome === "started" ? r.answered.values : null,
    qomError: r.answered?.error ?? null,
    kvmSetCpuid2: kvmCpuid(trace),
    kvmHypervQuestions: hvIoctls(trace),
  };

  // the guest's own view (only when the paused QEMU started: a refused or aborted one aborts here too)
  if (outcome !== "started") {
    record.guest = { skipped: `the paused QEMU ${outcome}` };
    return record;
  }
  const dc = path.join(tmp, `debugcon-${n}.bin`);
  const gArgv = [
    QEMU,
    ...accelArgs(accel),
    "-machine",
    c.machine,
    "-cpu",
    cpuArg(c),
    ...COMMON,
    "-bios",
    ctx.fw,
    "-debugcon",
    `file:${dc}`,
    "-device",
    "isa-debug-exit,iobase=0xf4,iosize=0x04",
  ];
  const g = await runProcess(gArgv, { cwd: tmp, timeoutMs });
  const buf = fs.existsSync(dc) ? fs.readFileSync(dc) : Buffer.alloc(0);
  fs.rmSync(dc, { force: true });
  const cpuid = guestCpuid(buf);
  record.guest = {
    command: shown(gArgv, tmp),
    ran: cpuid.complete && g.code === 1 && !g.timedOut, // isa-debug-exit with 0 exits (0 << 1) | 1
    exit: { code: g.code, signal: g.signal, timedOut: g.timedOut },
    stderr: lines(g.stderr),
    leaves: cpuid.leaves,
    decoded: cpuid.decoded,
  };
  return record;
}

// ---------------------------------------------------------------- the host

function kvmUsable() {
  try {
    fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function hostCpu() {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? null;
  } catch {
    return null;
  }
}

/** the KVM lines of the running kernel's config, when /proc/config.gz exists */
function kernelKvmConfig() {
  try {
    const text = zlib.gunzipSync(fs.readFileSync("/proc/config.gz")).toString("utf8");
    return text.split("\n").filter((l) => /^(# )?CONFIG_KVM(_HYPERV|_INTEL|_AMD|_PVM)?[ =]/.test(l));
  } catch {
    return null;
  }
}

/** KVM_CHECK_EXTENSION on /dev/kvm for the Hyper-V capabilities (python3's fcntl.ioctl) */
const HV_CAPS = {
  KVM_CAP_HYPERV: 44,
  KVM_CAP_HYPERV_VAPIC: 45,
  KVM_CAP_HYPERV_SPIN: 46,
  KVM_CAP_HYPERV_TIME: 96,
  KVM_CAP_HYPERV_SYNIC: 123,
  KVM_CAP_HYPERV_SYNIC2: 148,
  KVM_CAP_HYPERV_VP_INDEX: 149,
  KVM_CAP_HYPERV_EVENTFD: 154,
  KVM_CAP_HYPERV_TLBFLUSH: 155,
  KVM_CAP_HYPERV_SEND_IPI: 161,
  KVM_CAP_HYPERV_ENLIGHTENED_VMCS: 163,
  KVM_CAP_HYPERV_CPUID: 167,
  KVM_CAP_HYPERV_DIRECT_TLBFLUSH: 175,
  KVM_CAP_SYS_HYPERV_CPUID: 191,
  KVM_CAP_HYPERV_ENFORCE_CPUID: 199,
};
function kvmHypervCaps() {
  const py =
    "import fcntl,os,sys,json\nfd=os.open('/dev/kvm',os.O_RDWR)\n" +
    "print(json.dumps({k:fcntl.ioctl(fd,0xAE03,v) for k,v in json.loads(sys.argv[1]).items()}))";
  const out = run("python3", ["-c", py, JSON.stringify(HV_CAPS)]);
  try {
    return out ? JSON.parse(out) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- main

/**
 * The project's prettier formats the file (the repository's `prettier --check .` covers test/fixtures),
 * so a re-recording has the same form; without prettier the JSON is written as it is.
 */
async function formatJson(text, file) {
  let prettier;
  try {
    prettier = require("prettier");
  } catch {
    process.stderr.write("record-hyperv: prettier is not installed: writing unformatted JSON\n");
    return text + "\n";
  }
  const config = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...config, filepath: file });
}

async function main(argv) {
  const opts = parseArgs(argv);
  if (opts.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const versionText = run(QEMU, ["--version"]);
  if (versionText === null) throw new FatalError(`${QEMU} is not installed or does not run (apt-get install qemu-system-x86)`);
  const qemuVersion = /version (\d+\.\d+(?:\.\d+)?)/.exec(versionText)?.[1];
  if (!qemuVersion) throw new FatalError(`cannot read the version of ${QEMU}: ${versionText.split("\n")[0]}`);
  const straceText = run(STRACE, ["-V"]);
  if (straceText === null) throw new FatalError(`${STRACE} is not installed (apt-get install -y strace)`);
  const accels = opts.accel === "both" ? ["kvm", "tcg"] : [opts.accel];
  if (accels.includes("kvm") && !kvmUsable()) {
    if (opts.accel === "kvm") throw new UsageError("/dev/kvm is missing or not writable");
    process.stderr.write("record-hyperv: /dev/kvm is missing or not writable: recording TCG only\n");
    accels.splice(accels.indexOf("kvm"), 1);
  }

  const out = path.resolve(opts.out);
  fs.mkdirSync(out, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "record-hyperv-"));
  tmpDir = tmp;
  const timeoutMs = opts.timeout * 1000;
  try {
    const fw = path.join(tmp, "cpuid-probe.bin");
    fs.writeFileSync(fw, firmware());
    const hv = await hvProperties(tmp, timeoutMs);
    if (hv.length === 0) throw new FatalError(`${QEMU} lists no hv-* property for ${MODEL}-x86_64-cpu`);
    const props = hv.map((p) => p.name);
    process.stderr.write(`record-hyperv: QEMU ${qemuVersion}, ${hv.length} hv-* properties, accelerators ${accels.join(" ")}\n`);
    const provenanceBase = {
      recordedAt: new Date().toISOString(),
      hostKernel: os.release(),
      hostCpu: hostCpu(),
      qemu: versionText.split("\n")[0].trim(),
      qemuVersion,
      strace: straceText.split("\n")[0].trim(),
      node: process.version,
      kernelKvmConfig: kernelKvmConfig(),
      kvmHypervCaps: kvmUsable() ? kvmHypervCaps() : null,
      straceInvocation: [STRACE, "-o", "$TMP/strace-N.txt", ...STRACE_ARGS, "--", "<qemu command>"].join(" "),
      firmware: {
        note: "64 KiB -bios image written by the script (FW_CODE): CPUID for each leaf at the reset vector, out to debugcon 0xe9, exit via isa-debug-exit",
        leaves: GUEST_LEAVES.map(hex),
      },
      script: "scripts/record-hyperv.js",
    };
    let n = 0;
    for (const accel of accels) {
      const configs = configurations(hv, accel);
      const records = [];
      for (const c of configs) {
        const rec = await measure(c, accel, { tmp, timeoutMs, props, fw, n: n++ });
        records.push(rec);
        const d = rec.kvmSetCpuid2.decoded;
        const g = rec.guest.decoded;
        process.stderr.write(
          `[${accel} ${records.length}/${configs.length}] ${rec.machine} -cpu ${rec.cpu}: ${rec.outcome}` +
            (rec.message ? ` (${rec.message})` : "") +
            (d ? ` | SET_CPUID2 x${rec.kvmSetCpuid2.calls}: kvm@${d.kvmLeavesAt} hv=${d.hypervInterface}` : "") +
            (g ? ` | guest ${rec.guest.ran ? "ran" : "did not run"}: ${JSON.stringify(g.signatures)} hv=${g.hypervInterface}` : "") +
            "\n",
        );
      }
      const file = path.join(out, `${qemuVersion}-${accel}.json`);
      const doc = {
        provenance: { ...provenanceBase, accel, recordedAt: new Date().toISOString() },
        hvProperties: hv,
        records,
      };
      fs.writeFileSync(file, await formatJson(JSON.stringify(doc), file));
      process.stderr.write(`record-hyperv: wrote ${file} (${records.length} records)\n`);
    }
  } finally {
    killAll();
    removeTmp();
  }
  return 0;
}

module.exports = { setCpuid2Calls, hvIoctls, decode, firmware, guestCpuid, configurations };

if (require.main === module)
  runAsScript({
    name: "record-hyperv",
    usage: USAGE,
    main,
    cleanup: () => {
      killAll();
      removeTmp();
    },
  });
