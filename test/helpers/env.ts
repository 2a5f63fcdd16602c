import { spawnSync } from "node:child_process";
import fs from "node:fs";

/**
 * Oracle suites ask the real QEMU/libvirt. When they cannot run they say so
 * loudly: in CI (CI=true) that is a failing test, elsewhere a skipped one whose
 * name carries the reason.
 */

export type Need = "kvm" | "qemu" | "libvirt" | "virt-xml-validate" | "second-host" | "xsltproc";

function missing(need: Need): string | null {
  switch (need) {
    case "kvm":
      try {
        fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
        return null;
      } catch {
        return "/dev/kvm is missing or not accessible";
      }
    case "qemu": {
      const r = spawnSync("qemu-system-x86_64", ["--version"], { encoding: "utf8" });
      return r.status === 0 ? null : "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
    }
    case "libvirt": {
      const r = spawnSync("virsh", ["-c", "qemu:///system", "version"], { encoding: "utf8", timeout: 20000 });
      return r.status === 0 ? null : `libvirtd does not answer on qemu:///system (${(r.stderr || r.error?.message || "").trim().split("\n")[0]}); start virtlogd -d && libvirtd -d`;
    }
    case "second-host": {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { answers, ensureSecondHost } = require("./second-host") as { answers(): boolean; ensureSecondHost(): string | null };
      return answers() ? null : ensureSecondHost();
    }
    case "xsltproc": {
      const r = spawnSync("xsltproc", ["--version"], { encoding: "utf8" });
      return r.error ? "xsltproc is not installed (apt-get install xsltproc)" : null;
    }
    case "virt-xml-validate": {
      const r = spawnSync("virt-xml-validate", ["--help"], { encoding: "utf8" });
      return r.error ? "virt-xml-validate is not installed (apt-get install libvirt-clients libxml2-utils)" : null;
    }
  }
}

const cache = new Map<Need, string | null>();
export function whyNot(needs: Need[]): string | null {
  for (const n of needs) {
    if (!cache.has(n)) cache.set(n, missing(n));
    const m = cache.get(n);
    if (m) return m;
  }
  return null;
}

/** describe() that runs only where the real programs are, and fails in CI when they are not. */
export function describeWith(needs: Need[], name: string, fn: () => void): void {
  const reason = whyNot(needs);
  if (!reason) {
    describe(name, fn);
    return;
  }
  const banner = `ORACLE CANNOT RUN: ${name}: ${reason}`;
  process.stderr.write(`\n*** ${banner} ***\n`);
  if (process.env.CI === "true") {
    describe(name, () => test(`environment: ${reason}`, () => {
      throw new Error(`${banner} (CI=true: an oracle that cannot run is a failure)`);
    }));
  } else {
    describe(name, () => test.skip(`SKIPPED: ${reason}`, () => undefined));
  }
}
