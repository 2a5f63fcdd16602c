import { parsePolicyText } from "../../src/policy/config";
import { checkHost } from "../../src/policy/audit";
import { processIo } from "../../src/cli/io";
import { VirshSession } from "../../src/system/virsh-session";
import type { VirshResult } from "../../src/system/virsh";

/**
 * The host audit (`check --connect`): every domain libvirt's test driver has, read by its
 * UUID; a dump libvirt refuses or a listing that fails is named, never a stack trace. And the
 * process I/O the CLI writes through.
 */

afterEach(() => jest.restoreAllMocks());

const URI = "test:///default";
const required = parsePolicyText('{"required-features": {"enforcementLevel": "mandatory", "features": ["kvm-pv-ipi"]}}');

/** Answers one kind of virsh call as given; every other call goes to the real virsh. */
function change(fn: (args: readonly string[]) => VirshResult | undefined) {
  const real = VirshSession.prototype.run;
  jest.spyOn(VirshSession.prototype, "run").mockImplementation(function (this: VirshSession, args: readonly string[]) {
    return Promise.resolve(fn(args) ?? undefined).then((r) => r ?? real.call(this, args));
  });
}

describe("checkHost", () => {
  test("each domain read by its UUID, with progress; the driver's own domain violates a mandatory policy", async () => {
    const lines: string[] = [];
    const asked: string[] = [];
    change((a) => {
      asked.push(a.join(" "));
      return undefined;
    });
    const r = await checkHost(URI, required, undefined, (l) => lines.push(l));
    expect(lines).toEqual(["reading 1/1: test"]);
    expect(asked).toContain("dumpxml --inactive --domain 6695eb01-f6a4-8304-79aa-97f2502e193f");
    expect(r.domains).toBe(1);
    expect(r.unchecked).toEqual([]);
    expect(r.violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([
      expect.objectContaining({ domain: "test", policy: "required-features", feature: "kvm-pv-ipi" }),
    ]);
  });

  test("a dump libvirt refuses: that domain is not checked, with libvirt's words (no 'error: ' prefixes)", async () => {
    change((a) =>
      a[0] === "dumpxml" ? { code: 1, stdout: "", stderr: "error: failed to get domain\nerror: Domain not found\n" } : undefined,
    );
    const r = await checkHost(URI, required);
    expect(r).toEqual({ domains: 1, violations: [], unchecked: [{ domain: "test", reason: "failed to get domain\nDomain not found" }] });
  });

  test("a host that cannot list its domains: an error naming the listing and libvirt's reason", async () => {
    change((a) => (a[0] === "list" ? { code: 1, stdout: "", stderr: "error: Connection reset by peer\n" } : undefined));
    await expect(checkHost(URI, required)).rejects.toThrow(/^virsh list failed: Connection reset by peer$/);
  });

  test("a live definition that does not validate as a spec domain: not checked, with each problem as path: message", async () => {
    change((a) =>
      a[0] === "dumpxml"
        ? {
            code: 0,
            stdout:
              "<domain type='kvm'><name>test</name><memory unit='KiB'>1</memory><vcpu>0</vcpu><os><type arch='x86_64'>hvm</type></os></domain>",
            stderr: "",
          }
        : undefined,
    );
    const r = await checkHost(URI, required);
    expect(r.violations).toEqual([]);
    expect(r.unchecked).toEqual([{ domain: "test", reason: expect.stringMatching(/^domains\[0\]\.\w+: .+/) }]);
  });
});

describe("processIo", () => {
  test("out and err write one line each to stdout and stderr", () => {
    const out = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    processIo.out("to stdout");
    processIo.err("to stderr");
    expect(out.mock.calls).toEqual([["to stdout\n"]]);
    expect(err.mock.calls).toEqual([["to stderr\n"]]);
  });
});
