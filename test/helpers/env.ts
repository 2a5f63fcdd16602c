import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { answers, ensureSecondHost } from "./second-host";

/**
 * Oracle suites ask the real QEMU/libvirt. When they cannot run they say so
 * loudly: in CI (CI=true) that is a failing test, elsewhere a skipped one whose
 * name carries the reason.
 *
 * One exception: a machine whose CPU offers no hardware virtualization (no vmx/svm
 * flag in /proc/cpuinfo) can never have /dev/kvm, whatever CI installs. There the
 * KVM suites are reported skipped, never passed, with a BLOCKED banner that the
 * test runner repeats in its summary, so the rest of the suite still gates. The same for a
 * host where huge pages cannot be had (no hugetlbfs mounted when libvirtd started, not root):
 * the issue asks for huge pages proved "where the test can reserve them, skipped loudly where
 * it cannot"; .ci/run mounts hugetlbfs first, so CI proves them.
 */

export type Need =
  "kvm" | "qemu" | "libvirt" | "virt-xml-validate" | "second-host" | "xsltproc" | "pulumi-schemas" | "strace" | "gcc" | "hugetlbfs";

/** Pulumi's meta-schemas (pulumi.json, project.json) live outside the repository; .ci/run exports their folder. */
const PULUMI_SCHEMAS_VAR = "KPV_PULUMI_SCHEMAS";
const PULUMI_SCHEMAS_HINT = "point it at Pulumi's meta-schema folder, e.g. ../shared/pulumi-schemas";

/** The folder of Pulumi's meta-schemas, or undefined when KPV_PULUMI_SCHEMAS is not set. */
export function pulumiSchemasDir(): string | undefined {
  const dir = process.env[PULUMI_SCHEMAS_VAR];
  return dir ? path.resolve(dir) : undefined;
}

function missing(need: Need): string | null {
  switch (need) {
    case "kvm":
      try {
        fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
        return null;
      } catch {
        return cpuCanVirtualize()
          ? "/dev/kvm is missing or not accessible"
          : `${NO_VIRT}: /dev/kvm is missing and this machine's CPU offers no vmx/svm`;
      }
    case "qemu": {
      const r = spawnSync("qemu-system-x86_64", ["--version"], { encoding: "utf8" });
      return r.status === 0 ? null : "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
    }
    case "libvirt": {
      const r = spawnSync("virsh", ["-c", "qemu:///system", "version"], { encoding: "utf8", timeout: 20000 });
      return r.status === 0
        ? null
        : `libvirtd does not answer on qemu:///system (${(r.stderr || r.error?.message || "").trim().split("\n")[0]}); start virtlogd -d && libvirtd -d`;
    }
    case "second-host":
      return answers() ? null : ensureSecondHost();
    case "xsltproc": {
      const r = spawnSync("xsltproc", ["--version"], { encoding: "utf8" });
      return r.error ? "xsltproc is not installed (apt-get install xsltproc)" : null;
    }
    case "pulumi-schemas": {
      const dir = pulumiSchemasDir();
      if (!dir) return `${PULUMI_SCHEMAS_VAR} is not set (${PULUMI_SCHEMAS_HINT})`;
      const absent = ["pulumi.json", "project.json"].filter((f) => !fs.existsSync(path.join(dir, f)));
      return absent.length ? `${PULUMI_SCHEMAS_VAR}=${dir} has no ${absent.join(" or ")} (${PULUMI_SCHEMAS_HINT})` : null;
    }
    case "strace": {
      const r = spawnSync("strace", ["-V"], { encoding: "utf8" });
      return r.status === 0 ? null : "strace is not installed (apt-get install strace)";
    }
    case "gcc": {
      const r = spawnSync("gcc", ["--version"], { encoding: "utf8" });
      return r.status === 0 ? null : "gcc is not installed (apt-get install gcc libc6-dev)";
    }
    case "hugetlbfs": {
      // libvirt backs guest memory with huge pages from a hugetlbfs it found mounted when it started
      const mounts = fs.readFileSync("/proc/mounts", "utf8");
      if (!/^\S+ \S+ hugetlbfs /m.test(mounts))
        return `${NO_HUGEPAGES}: no hugetlbfs is mounted (mount -t hugetlbfs hugetlbfs /dev/hugepages, then restart libvirtd; .ci/run does)`;
      try {
        fs.accessSync("/proc/sys/vm/nr_hugepages", fs.constants.W_OK);
        return null;
      } catch {
        return `${NO_HUGEPAGES}: /proc/sys/vm/nr_hugepages is not writable (not root)`;
      }
    }
    case "virt-xml-validate": {
      const r = spawnSync("virt-xml-validate", ["--help"], { encoding: "utf8" });
      return r.error ? "virt-xml-validate is not installed (apt-get install libvirt-clients libxml2-utils)" : null;
    }
  }
}

/** The reason prefix of a machine that cannot have KVM at all (see the header). */
const NO_VIRT = "BLOCKED (no hardware virtualization)";
/** The reason prefix of a host where huge pages cannot be reserved for a test (skipped, never passed, also in CI). */
const NO_HUGEPAGES = "BLOCKED (no huge pages here)";

function cpuCanVirtualize(): boolean {
  try {
    return /^flags\s*:.*\b(vmx|svm)\b/m.test(fs.readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return true; // unknown: treat a missing /dev/kvm as a setup failure
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
  if (process.env.CI === "true" && !reason.startsWith(NO_VIRT) && !reason.startsWith(NO_HUGEPAGES)) {
    describe(name, () =>
      test(`environment: ${reason}`, () => {
        throw new Error(`${banner} (CI=true: an oracle that cannot run is a failure)`);
      }),
    );
  } else {
    describe(name, () => test.skip(`SKIPPED: ${reason}`, () => undefined));
    fs.appendFileSync(blockedLog(), `${name}: ${reason}\n`);
  }
}

/** Where skipped suites are listed for the runner's summary (scripts/run-tests.js sets it). */
function blockedLog(): string {
  return process.env.KPV_SKIP_LOG ?? "/dev/null";
}
