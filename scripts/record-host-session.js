#!/usr/bin/env node
"use strict";
/**
 * node scripts/record-host-session.js [--uri URI] [--out FILE]
 *
 * Records every virsh call the host-facts reader (dist/system/host-facts.js, probeConnection)
 * makes on a real host, with what virsh answered, so that test/unit/host-session.test.ts can
 * replay the session in process (and mutation testing can reach the reader without a host).
 * Default: qemu:///system, written to test/fixtures/host-facts/session-<qemu>-<kvm|tcg>.json.
 *
 * What differs from run to run is written as a placeholder: the probe domain's UUID
 * (<probe-uuid>), its name (<probe-name>), the temporary file of `create` (<probe-xml>, or
 * <probe-xml with hv-vpindex> for the start that asks whether KVM has Hyper-V) and of
 * each `cpu-compare` (recorded as the model that file names: ["cpu-compare", "--model", M]).
 * Run `npx tsc -p tsconfig.json` first (the script loads dist/).
 */
const fs = require("node:fs");
const path = require("node:path");
const { runAsScript, UsageError, FatalError } = require("./script-main");

const ROOT = path.join(__dirname, "..");
const USAGE = "usage: node scripts/record-host-session.js [--uri URI] [--out FILE]";

async function main(argv) {
  let uri = "qemu:///system";
  let out;
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--uri" && value) uri = argv[++i];
    else if (flag === "--out" && value) out = argv[++i];
    else throw new UsageError(`unknown or incomplete option ${JSON.stringify(flag)}`);
  }
  const dist = (p) => path.join(ROOT, "dist", "src", p);
  if (!fs.existsSync(dist("system/host-facts.js"))) throw new FatalError("dist/ is missing: run npx tsc -p tsconfig.json first");
  const { VirshSession } = require(dist("system/virsh-session.js"));
  const { probeConnection } = require(dist("system/host-facts.js"));

  const calls = [];
  const run = VirshSession.prototype.run;
  let probe = { uuid: null, name: null };
  VirshSession.prototype.run = async function (args) {
    const r = await run.call(this, args);
    let recorded = [...args];
    if (args[0] === "cpu-compare") {
      const m = /<model[^>]*>([^<]+)<\/model>/.exec(fs.readFileSync(args[2], "utf8"));
      recorded = ["cpu-compare", "--model", m[1]];
    } else if (args[0] === "create") {
      const xml = fs.readFileSync(args[3], "utf8");
      probe = { uuid: /<uuid>([^<]+)<\/uuid>/.exec(xml)[1], name: /<name>([^<]+)<\/name>/.exec(xml)[1] };
      // the first start asks for hv-vpindex (refused on a KVM without Hyper-V), the retry does not
      recorded = ["create", "--paused", "--file", xml.includes("<hyperv>") ? "<probe-xml with hv-vpindex>" : "<probe-xml>"];
    }
    const scrub = (s) => (probe.uuid ? s.split(probe.uuid).join("<probe-uuid>").split(probe.name).join("<probe-name>") : s);
    calls.push({ args: recorded.map(scrub), code: r.code, stdout: scrub(r.stdout), stderr: scrub(r.stderr) });
    return r;
  };
  const lines = [];
  const profile = await probeConnection(uri, { progress: (l) => lines.push(l) }).catch((e) => {
    throw new FatalError(e.message);
  });
  const accel = profile.kvm && profile.kvm.available ? "kvm" : "tcg";
  out ??= path.join(ROOT, "test/fixtures/host-facts", `session-${profile.qemu}-${accel}.json`);
  const record = {
    recorded: new Date().toISOString().slice(0, 10),
    uri,
    how: "node scripts/record-host-session.js: every virsh call of probeConnection on a real host, in order",
    calls,
    // what the reader made of it then: the replay must make the same (description and time aside)
    profile: { ...profile, description: undefined },
  };
  fs.writeFileSync(out, JSON.stringify(record, null, 2) + "\n");
  process.stdout.write(`${calls.length} calls recorded to ${path.relative(ROOT, out)}\n`);
  return 0;
}

runAsScript({ name: "record-host-session", usage: USAGE, main, cleanup: () => undefined });
