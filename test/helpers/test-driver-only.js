// Jest setup of the edges' mutation runs (jest.mutation.edges.config.js): every virsh the code
// under test starts goes through test/fixtures/bin/test-driver-virsh.js, which reaches only
// libvirt's test driver. A mutant that turns a test's URI into qemu:///system once defined a
// domain named "undefined" on the real host; now it gets an error.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-guard-"));
const file = path.join(dir, "virsh");
fs.copyFileSync(path.join(__dirname, "../fixtures/bin/test-driver-virsh.js"), file);
fs.chmodSync(file, 0o755);
process.env.KVM_PARAVIRT_VIRSH = file;
process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
