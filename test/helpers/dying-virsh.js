#!/usr/bin/env node
// A virsh that dies when its session is asked to define a domain: stands for libvirtd (or
// the connection) dying in the middle of a create or update. Everything else goes to the
// real virsh. Used through KVM_PARAVIRT_VIRSH.
const { spawn } = require("node:child_process");
const real = spawn("virsh", process.argv.slice(2), { stdio: ["pipe", "inherit", "inherit"] });
let buf = "";
process.stdin.setEncoding("utf8").on("data", (d) => {
  buf += d;
  for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
    const line = buf.slice(0, i + 1);
    buf = buf.slice(i + 1);
    if (line.startsWith("'define'")) {
      real.kill("SIGKILL");
      process.stderr.write("error: End of file while reading data: Input/output error\n");
      process.exit(1);
    }
    real.stdin.write(line);
  }
});
process.stdin.on("end", () => real.stdin.end());
real.on("exit", (code) => process.exit(code ?? 1));
