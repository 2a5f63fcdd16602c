import fs from "node:fs";
import path from "node:path";
import { HostFactsError, hostFactsFor, measurePvFeatures, probeConnection, probeDomainXml } from "../../src/system/host-facts";
import { VirshSession, withVirshSession } from "../../src/system/virsh-session";
import type { VirshResult } from "../../src/system/virsh";
import { ROOT } from "../helpers/specs";

/**
 * The host-facts reader (probeConnection) replaying a session recorded on a real KVM host
 * (test/fixtures/host-facts/session-*-kvm.json, by scripts/record-host-session.js): every virsh
 * call it makes is answered with what the real libvirtd answered, or with a change this test
 * makes to one answer (a failure, another host). The virsh process underneath is libvirt's
 * test driver, which no call reaches. test/oracle/host-facts.test.ts asks the real libvirtd.
 */

const FIX = path.join(ROOT, "test/fixtures/host-facts");
interface Call {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
}
const RECORD = JSON.parse(fs.readFileSync(path.join(FIX, "session-7.2.22-kvm.json"), "utf8")) as {
  calls: Call[];
  profile: Record<string, unknown>;
};
/** The capabilities of a host without KVM (recorded: test/fixtures/host-facts/README.md). */
const NO_KVM_CAPS = fs.readFileSync(path.join(FIX, "capabilities.xml"), "utf8");
const TCG_DOMCAPS = fs.readFileSync(path.join(FIX, "domcapabilities-qemu.xml"), "utf8");

const ok = (stdout: string): VirshResult => ({ code: 0, stdout, stderr: "" });
const fails = (stderr: string, code: number | null = 1): VirshResult => ({ code, stdout: "", stderr });

type Change = (args: string[]) => VirshResult | undefined;
interface Replay {
  /** each call's arguments, as recorded */
  asked: string[][];
  /** the probe domain documents given to virsh create */
  probeXml: string[];
  /** the files given to virsh, with their permissions then */
  files: { path: string; mode: number }[];
  /** each call's session timeout */
  timeouts: number[];
}

/** Answers every VirshSession.run from the recording (probe UUID and name put back), or from `change` first; returns the calls made, as recorded. */
function replay(change: Change = () => undefined): Replay {
  const asked: string[][] = [];
  const probeXml: string[] = [];
  const files: { path: string; mode: number }[] = [];
  const timeouts: number[] = [];
  let probe: { uuid: string; name: string } | undefined;
  jest.spyOn(VirshSession.prototype, "run").mockImplementation(async function (this: VirshSession, args: readonly string[]) {
    timeouts.push(this.timeoutMs);
    let key = [...args];
    // the files virsh is given: their content stands in their place (recorded as --model NAME and <probe-xml>)
    if (args[0] === "cpu-compare") {
      files.push({ path: args[2], mode: fs.statSync(args[2]).mode & 0o777 });
      key = [
        "cpu-compare",
        args[1] === "--file" ? "--model" : `${args[1]}?`,
        /<model[^>]*>([^<]+)</.exec(fs.readFileSync(args[2], "utf8"))![1],
      ];
    }
    if (args[0] === "create") {
      files.push({ path: args[3], mode: fs.statSync(args[3]).mode & 0o777 });
      const xml = fs.readFileSync(args[3], "utf8");
      probeXml.push(xml);
      probe = { uuid: /<uuid>([^<]+)</.exec(xml)![1], name: /<name>([^<]+)</.exec(xml)![1] };
      key = [...args.slice(0, 3), xml.includes("<hyperv>") ? "<probe-xml with hv-vpindex>" : "<probe-xml>"];
    }
    if (probe) key = key.map((a) => a.split(probe!.uuid).join("<probe-uuid>").split(probe!.name).join("<probe-name>"));
    asked.push(key);
    const changed = change(key);
    if (changed) return changed;
    const hit = RECORD.calls.find((c) => JSON.stringify(c.args) === JSON.stringify(key));
    if (!hit) return fails(`error: not in the recording: ${key.join(" ")}\n`);
    const back = (s: string) => (probe ? s.split("<probe-uuid>").join(probe.uuid).split("<probe-name>").join(probe.name) : s);
    return { code: hit.code, stdout: back(hit.stdout), stderr: back(hit.stderr) };
  });
  return { asked, probeXml, files, timeouts };
}

afterEach(() => jest.restoreAllMocks());

const URI = "test:///default";
const read = (uri = URI, progress?: (l: string) => void) => probeConnection(uri, { progress });
const without = ({ description: _d, ...p }: Record<string, unknown>) => p;

describe("probeConnection, replaying a real KVM host", () => {
  test("the same questions in the same order, and the profile the reader made of the real answers", async () => {
    const { asked, probeXml } = replay();
    const profile = await read();
    expect(asked).toEqual(RECORD.calls.map((c) => c.args));
    expect(without(profile as unknown as Record<string, unknown>)).toStrictEqual(without(RECORD.profile));
    expect(profile.description).toMatch(/^probed over test:\/\/\/default at \d{4}-\d\d-\d\dT/);
    // the probe domain: its own random name and UUID, KVM; first with hv-vpindex (refused on this
    // KVM without Hyper-V), then the same name and UUID without it
    const [withHv, plain] = probeXml;
    expect(probeXml).toHaveLength(2);
    const name = /<name>([^<]+)</.exec(plain)![1];
    const uuid = /<uuid>([^<]+)</.exec(plain)![1];
    expect(withHv).toBe(probeDomainXml(name, uuid, "kvm", true));
    expect(plain).toBe(probeDomainXml(name, uuid, "kvm"));
    expect(profile.kvm!.hyperv).toEqual([]);
  });

  test("each CPU model with libvirt's cpu-compare verdict; the measured PV features; networks active or not", async () => {
    replay((args) => (args.join(" ") === "net-list --name" ? ok("\n") : undefined));
    const p = await read();
    expect(p.kvm).toEqual({ available: true, supported: expect.arrayContaining(["kvmclock", "kvm-pv-ipi", "kvm-pv-unhalt"]), hyperv: [] });
    expect(p.kvm!.supported).not.toContain("kvm-hint-dedicated");
    expect(p.networks).toEqual([{ name: "default", active: false }]);
    const verdicts = new Map(p.cpuModels!.map((m) => [m.name, m.hostCompatible]));
    for (const c of RECORD.calls.filter((x) => x.args[0] === "cpu-compare"))
      expect(verdicts.get(c.args[2])).toBe(/incompatible/.test(c.stdout) ? false : /identical|superset/.test(c.stdout) ? true : undefined);
    expect([...verdicts.values()]).toEqual(expect.arrayContaining([true, false]));
  });

  test("progress: one line per step, naming the host; the probe domain started and destroyed by UUID", async () => {
    replay();
    const lines: string[] = [];
    await read(URI, (l) => lines.push(l));
    const steps = lines.map((l) => l.replace(/kpv-probe-[0-9a-f]+/g, "<name>").replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "<uuid>"));
    expect(steps).toEqual([
      "test:///default: libvirt and QEMU versions (virsh version)",
      "test:///default: machine types and KVM (virsh capabilities)",
      "test:///default: host-model CPU and CPU models (virsh domcapabilities --virttype kvm)",
      "test:///default: each CPU model against the host CPU, as libvirt checks it at start (virsh cpu-compare)",
      "test:///default: KVM is there: measuring the PV features it offers",
      "test:///default: starting the paused probe domain <name> (<uuid>)",
      "test:///default: the host's KVM has no Hyper-V (QEMU refused hv-vpindex); starting the probe domain without it",
      "test:///default: query-cpu-model-expansion of host in <uuid>",
      "test:///default: probe domain <uuid> destroyed",
      "test:///default: libvirt networks (virsh net-list)",
      "test:///default: free huge pages per NUMA node (virsh freepages)",
    ]);
  });

  test("the NUMA nodes: CPUs, memory and page pools from virsh capabilities, the free pages from virsh freepages", async () => {
    replay();
    const p = await read();
    expect(p.numaNodes).toEqual([
      {
        id: 0,
        cpus: [0, 1],
        memoryKiB: 24683772,
        pages: [
          { sizeKiB: 4, total: 6170943, free: 5180430 },
          { sizeKiB: 2048, total: 0, free: 0 },
          { sizeKiB: 1048576, total: 0, free: 0 },
        ],
      },
    ]);
  });

  test("freepages refused (a driver without it): the pools' totals only", async () => {
    replay((a) => (a[0] === "freepages" ? fails("error: this function is not supported by the connection driver\n") : undefined));
    const p = await read();
    expect(p.numaNodes![0].pages).toEqual([
      { sizeKiB: 4, total: 6170943 },
      { sizeKiB: 2048, total: 0 },
      { sizeKiB: 1048576, total: 0 },
    ]);
  });

  test("a host without KVM: domcapabilities of qemu, no cpu-compare, no probe domain, kvm.available false", async () => {
    const { asked } = replay((args) => {
      if (args[0] === "capabilities") return ok(NO_KVM_CAPS);
      if (args[0] === "domcapabilities") return args[2] === "qemu" ? ok(TCG_DOMCAPS) : fails("error: wrong virttype\n");
      return undefined;
    });
    const p = await read();
    expect(p.kvm).toEqual({ available: false });
    expect(asked.map((a) => a[0])).toEqual(["version", "capabilities", "domcapabilities", "net-list", "net-list", "freepages"]);
    expect(p.cpuModels!.every((m) => m.hostCompatible === undefined)).toBe(true);
  });

  test("a driver without a daemon version: the client library's (virsh version)", async () => {
    const daemon = RECORD.calls[0].stdout;
    const { asked } = replay((args) => {
      if (args.join(" ") === "version --daemon") return fails("error: this function is not supported by the connection driver\n");
      if (args.join(" ") === "version")
        return ok(
          daemon
            .split("\n")
            .filter((l) => !/daemon/i.test(l))
            .join("\n"),
        );
      return undefined;
    });
    const p = await read();
    expect(asked.slice(0, 2)).toEqual([["version", "--daemon"], ["version"]]);
    expect(p.qemu).toBe("7.2.22");
  });

  test("a profile without networks when the driver cannot list them", async () => {
    replay((args) =>
      args[0] === "net-list"
        ? fails("error: this function is not supported by the connection driver: virConnectListAllNetworks\n")
        : undefined,
    );
    expect((await read()).networks).toBeUndefined();
  });

  test("the probe is always destroyed, even when its start reported failure; only a started one's failed destroy is a warning", async () => {
    const lines: string[] = [];
    const { asked } = replay((args) => {
      if (args[0] === "create") return fails("error: Failed to create domain from x\nerror: internal error: no KVM\n");
      // as libvirt answers for a domain that never started
      if (args[0] === "destroy") return fails("error: failed to get domain\n");
      return undefined;
    });
    await expect(read(URI, (l) => lines.push(l))).rejects.toThrow(
      new HostFactsError("could not start the probe domain on test:///default: Failed to create domain from x; internal error: no KVM"),
    );
    expect(asked.map((a) => a[0]).slice(-2)).toEqual(["create", "destroy"]);
    expect(lines.some((l) => /WARNING/.test(l))).toBe(false);
  });

  test("a failed query is an error naming it; the probe domain is destroyed; a destroy that fails then is a warning", async () => {
    const lines: string[] = [];
    const { asked } = replay((args) => {
      if (args[0] === "qemu-monitor-command") return fails("error: Timed out during operation\n");
      if (args[0] === "destroy") return fails("error: Requested operation is not valid: domain is not running\n");
      return undefined;
    });
    await expect(read(URI, (l) => lines.push(l))).rejects.toThrow(
      /^query-cpu-model-expansion failed on test:\/\/\/default: Timed out during operation$/,
    );
    expect(asked.map((a) => a[0]).slice(-1)).toEqual(["destroy"]);
    expect(lines.filter((l) => /WARNING/.test(l))).toEqual([
      expect.stringMatching(
        /^test:\/\/\/default: WARNING: could not destroy the probe domain [0-9a-f-]{36}: Requested operation is not valid: domain is not running$/,
      ),
    ]);
  });

  test("a reply that is no expansion: an error naming the host", async () => {
    replay((args) => (args[0] === "qemu-monitor-command" ? ok('{"return":{},"id":"libvirt-1"}') : undefined));
    await expect(read()).rejects.toThrow(/ \(test:\/\/\/default\)$/);
  });

  test("the session died during the destroy (a timeout): one virsh of its own destroys the probe domain", async () => {
    const lines: string[] = [];
    replay((args) => (args[0] === "destroy" ? fails("virsh exited", null) : undefined));
    await read(URI, (l) => lines.push(l));
    // that virsh runs on test:///default, which has no such domain: it says why
    expect(lines.filter((l) => /WARNING/.test(l))).toEqual([
      expect.stringMatching(/could not destroy the probe domain [0-9a-f-]{36}: failed to get domain '[0-9a-f-]{36}'$/),
    ]);
  });

  test.each<[string, Change, RegExp]>([
    [
      "virsh version fails",
      (a) => (a[0] === "version" ? fails("error: failed to connect to the hypervisor\n") : undefined),
      /: virsh version failed: failed to connect to the hypervisor$/,
    ],
    [
      "another hypervisor",
      (a) =>
        a[0] === "version"
          ? ok(
              "Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: Test 9.0.0\nRunning hypervisor: Test 9.0.0\n",
            )
          : undefined,
      /: not a QEMU host \(virsh version says: Compiled against library: libvirt 9\.0\.0; Using library: libvirt 9\.0\.0; Using API: Test 9\.0\.0; Running hypervisor: Test 9\.0\.0\)$/,
    ],
    ["capabilities fail", (a) => (a[0] === "capabilities" ? fails("error: oops\n") : undefined), /: virsh capabilities failed: oops$/],
    [
      "no x86_64 guest",
      (a) => (a[0] === "capabilities" ? ok("<capabilities><host/></capabilities>") : undefined),
      /: the host offers no x86_64 hvm guest \(virsh capabilities\)$/,
    ],
    [
      "domcapabilities fail",
      (a) => (a[0] === "domcapabilities" ? fails("error: nope\n") : undefined),
      /: virsh domcapabilities --virttype kvm failed: nope$/,
    ],
    [
      "an answer that makes no valid profile",
      (a) => (a[0] === "version" ? ok(RECORD.calls[0].stdout.replace(/QEMU 7\.2\.22/, "QEMU 12345.2.22")) : undefined),
      /: the host's answers do not make a valid profile \(qemu: /,
    ],
    [
      "virsh is not there",
      (a) => (a[0] === "version" ? fails("virsh could not start: spawn virsh ENOENT", null) : undefined),
      /\(is virsh installed\? Debian package libvirt-clients\)$/,
    ],
    ["a failure with no text", (a) => (a[0] === "capabilities" ? fails("", 3) : undefined), /: virsh capabilities failed: exit 3$/],
  ])("%s: a HostFactsError naming the host and what failed", async (_what, change, message) => {
    replay(change);
    const e = await read().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostFactsError);
    expect((e as Error).message).toMatch(/^cannot read host facts over test:\/\/\/default: /);
    expect((e as Error).message).toMatch(message);
  });

  test("stderr lines: 'error: ' prefixes dropped, repeats once, joined; without error lines the last line", async () => {
    replay((a) => (a[0] === "capabilities" ? fails("warning: x\nerror: one\nerror: two\nerror: one\n") : undefined));
    await expect(read()).rejects.toThrow(/: virsh capabilities failed: one; two$/);
    jest.restoreAllMocks();
    replay((a) => (a[0] === "capabilities" ? fails("  first\n  last line  \n\n") : undefined));
    await expect(read()).rejects.toThrow(/: virsh capabilities failed: last line$/);
  });

  test("a password in the URI is never shown: progress, errors", async () => {
    const lines: string[] = [];
    replay((a) => (a[0] === "capabilities" ? fails("error: cannot reach qemu+tcp://admin:hunter2@kvm1/system\n") : undefined));
    const e = (await read("qemu+tcp://admin:hunter2@kvm1/system", (l) => lines.push(l)).catch((x: Error) => x)) as Error;
    expect(e.message).toBe(
      "cannot read host facts over qemu+tcp://admin:***@kvm1/system: virsh capabilities failed: cannot reach qemu+tcp://admin:***@kvm1/system",
    );
    expect(lines.join("\n")).not.toContain("hunter2");
    expect(lines[0]).toBe("qemu+tcp://admin:***@kvm1/system: libvirt and QEMU versions (virsh version)");
  });
});

describe("probeConnection's own files, options and odd answers", () => {
  test("the probe document is the owner's alone; every file given to virsh is gone afterwards, in directories named for the tool", async () => {
    const { files } = replay();
    await read();
    const probe = files.filter((f) => /\/kpv-probe-[0-9a-f]+\.xml$/.test(f.path));
    const compare = files.filter((f) => /\/\d+\.xml$/.test(f.path));
    expect(probe).toHaveLength(2);
    expect(probe[1].path).toBe(probe[0].path);
    expect(probe[0].mode).toBe(0o600);
    expect(path.basename(path.dirname(probe[0].path))).toMatch(/^kvm-paravirt-probe-/);
    expect(compare.length).toBe(RECORD.calls.filter((c) => c.args[0] === "cpu-compare").length);
    expect(new Set(compare.map((f) => path.basename(path.dirname(f.path)))).size).toBe(1);
    expect(path.basename(path.dirname(compare[0].path))).toMatch(/^kvm-paravirt-cpu-compare-/);
    for (const f of files) {
      expect(fs.existsSync(f.path)).toBe(false);
      expect(fs.existsSync(path.dirname(f.path))).toBe(false);
    }
  });

  test("the temporary files are removed when a step fails too", async () => {
    const { files } = replay((a) => (a[0] === "qemu-monitor-command" ? fails("error: gone\n") : undefined));
    await expect(read()).rejects.toThrow(/gone/);
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect(fs.existsSync(path.dirname(f.path))).toBe(false);
  });

  test("a model cpu-compare cannot judge keeps libvirt's usable verdict alone (no hostCompatible key)", async () => {
    replay((a) => (a[0] === "cpu-compare" && a[2] === "qemu64" ? fails("error: unknown CPU model\n") : undefined));
    const p = await read();
    const q = p.cpuModels!.find((m) => m.name === "qemu64")!;
    expect(Object.keys(q)).toEqual(["name", "usable"]);
    expect(p.cpuModels!.filter((m) => "hostCompatible" in m)).toHaveLength(p.cpuModels!.length - 1);
  });

  test("the timeout asked for is each virsh call's", async () => {
    const { timeouts } = replay();
    await probeConnection(URI, { timeoutMs: 4321 });
    expect(new Set(timeouts)).toEqual(new Set([4321]));
  });

  test("an error that is no failed virsh call (a session that throws): a HostFactsError with its message", async () => {
    jest.spyOn(VirshSession.prototype, "run").mockRejectedValue(new Error("socket closed for qemu+tcp://u:pw@h/system"));
    const e = await read().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostFactsError);
    expect((e as Error).message).toBe("cannot read host facts over test:///default: socket closed for qemu+tcp://u:***@h/system");
  });

  test("a host without KVM says so in its progress", async () => {
    replay((a) => {
      if (a[0] === "capabilities") return ok(NO_KVM_CAPS);
      if (a[0] === "domcapabilities") return ok(TCG_DOMCAPS);
      return undefined;
    });
    const lines: string[] = [];
    await read(URI, (l) => lines.push(l));
    expect(lines).toContain("test:///default: no KVM guest type for x86_64: kvm.available false, PV features not measured");
    expect(lines).toContain("test:///default: host-model CPU and CPU models (virsh domcapabilities --virttype qemu)");
  });

  test.each<[string, Change, { name: string; active: boolean }[]]>([
    [
      "names with spaces around them",
      (a) => (a[0] === "net-list" ? ok(a[1] === "--all" ? "  default  \nlab\n\n" : " default\n") : undefined),
      [
        { name: "default", active: true },
        { name: "lab", active: false },
      ],
    ],
    [
      "the active list fails (whatever it printed): none counts as active",
      (a) => (a.join(" ") === "net-list --name" ? { code: 1, stdout: "default\n", stderr: "error: x\n" } : undefined),
      [{ name: "default", active: false }],
    ],
    [
      "names that are no identifiers are left out",
      (a) => (a[0] === "net-list" ? ok("default\n-x\nbad name\n") : undefined),
      [{ name: "default", active: true }],
    ],
  ])("networks: %s", async (_what, change, networks) => {
    replay(change);
    expect((await read()).networks).toStrictEqual(networks);
  });

  test("at most 4096 networks are kept", async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `n${i}`).join("\n");
    replay((a) => (a[0] === "net-list" ? ok(many) : undefined));
    const p = await read();
    expect(p.networks).toHaveLength(4096);
    expect(p.networks![4095]).toEqual({ name: "n4095", active: true });
  });
});

describe("Hyper-V over the connection: what the probe domain tells", () => {
  const expansion = RECORD.calls.find((c) => c.args[0] === "qemu-monitor-command")!;
  /** the recorded expansion with these hv-* flags on, as a Hyper-V KVM expands hv-passthrough */
  const withHv = (flags: string[]) => {
    const reply = JSON.parse(expansion.stdout) as { return: { model: { props: Record<string, unknown> } } };
    for (const f of flags) reply.return.model.props[f] = true;
    return ok(JSON.stringify(reply));
  };
  const hypervHost =
    (flags: string[]): Change =>
    (a) => {
      if (a[0] === "create" && a[3] === "<probe-xml with hv-vpindex>") return ok("Domain '<probe-name>' created from x\n");
      if (a[0] === "qemu-monitor-command") return withHv(flags);
      return undefined;
    };

  test("a KVM with Hyper-V: the probe starts with hv-vpindex at once; kvm.hyperv is what hv-passthrough expands to", async () => {
    const { asked, probeXml } = replay(hypervHost(["hv-relaxed", "hv-vapic", "hv-time", "hv-passthrough"]));
    const p = await read();
    expect(p.kvm!.hyperv).toEqual(["hv-relaxed", "hv-vapic", "hv-time"]);
    expect(probeXml).toHaveLength(1);
    expect(probeXml[0]).toContain("<features><hyperv><vpindex state='on'/></hyperv></features>");
    const query = JSON.parse(asked.find((a) => a[0] === "qemu-monitor-command")![4]);
    expect(query.arguments.model).toEqual({ name: "host", props: { "hv-passthrough": true } });
  });

  test("a KVM with Hyper-V whose expansion names none (a kernel before 5.11): kvm.hyperv left unset, the kernel decides", async () => {
    replay(hypervHost([]));
    const p = await read();
    expect(p.kvm).not.toHaveProperty("hyperv");
    expect(p.kvm!.supported!.length).toBeGreaterThan(0);
  });

  test("QEMU before 4.1 (no hv-passthrough): no Hyper-V question at all", async () => {
    const { asked, probeXml } = replay((a) => {
      if (a[0] === "version") return ok(RECORD.calls[0].stdout.replace(/QEMU 7\.2\.22/, "QEMU 4.0.0"));
      // the expansion without hv-passthrough was not recorded: the same answer
      if (a[0] === "qemu-monitor-command") return ok(expansion.stdout);
      return undefined;
    });
    const p = await read();
    expect(probeXml).toEqual([expect.not.stringContaining("<hyperv>")]);
    expect(JSON.parse(asked.find((a) => a[0] === "qemu-monitor-command")![4]).arguments.model).toEqual({ name: "host" });
    expect(p.kvm).not.toHaveProperty("hyperv");
  });

  const GENERIC = "error: Failed to create domain from x\nerror: internal error: qemu unexpectedly closed the monitor\n";
  test("libvirt says only 'qemu unexpectedly closed the monitor' (it read QEMU's log too early): the start with hv-vpindex is tried again", async () => {
    let tries = 0;
    const lines: string[] = [];
    const { asked } = replay((a) => {
      if (a[0] === "create" && a[3] === "<probe-xml with hv-vpindex>") return ++tries === 1 ? fails(GENERIC) : undefined;
      return undefined;
    });
    const p = await read(URI, (l) => lines.push(l));
    // the second try got QEMU's words (the recording's): no Hyper-V, then the plain start
    expect(asked.filter((x) => x[0] === "create").map((x) => x[3])).toEqual([
      "<probe-xml with hv-vpindex>",
      "<probe-xml with hv-vpindex>",
      "<probe-xml>",
    ]);
    expect(p.kvm!.hyperv).toEqual([]);
    expect(lines).toContain(
      "test:///default: the host's KVM has no Hyper-V (QEMU refused hv-vpindex); starting the probe domain without it",
    );
  });

  test("twice without QEMU's words, and the plain start works: no Hyper-V, saying what libvirt said", async () => {
    const lines: string[] = [];
    replay((a) => (a[0] === "create" && a[3] === "<probe-xml with hv-vpindex>" ? fails(GENERIC) : undefined));
    const p = await read(URI, (l) => lines.push(l));
    expect(p.kvm!.hyperv).toEqual([]);
    expect(lines).toContain(
      "test:///default: the host's KVM has no Hyper-V (it did not start with hv-vpindex, twice: Failed to create domain from x; internal error: qemu unexpectedly closed the monitor); starting the probe domain without it",
    );
  });

  test("a mishap the first time, started the second: Hyper-V is there", async () => {
    let tries = 0;
    replay((a) => {
      if (a[0] === "create" && a[3] === "<probe-xml with hv-vpindex>") return ++tries === 1 ? fails(GENERIC) : ok("Domain created\n");
      if (a[0] === "qemu-monitor-command") return withHv(["hv-relaxed"]);
      return undefined;
    });
    expect((await read()).kvm!.hyperv).toEqual(["hv-relaxed"]);
  });

  test("QEMU's words on the lines after libvirt's error line are part of the error", async () => {
    replay((a) =>
      a[0] === "create"
        ? fails(
            "error: Failed to create domain from x\nerror: internal error: qemu unexpectedly closed the monitor: 2026-12-08T00:30:03Z\nqemu-system-x86_64: Permission denied\n",
          )
        : undefined,
    );
    await expect(read()).rejects.toThrow(
      /: Failed to create domain from x; internal error: qemu unexpectedly closed the monitor: 2026-12-08T00:30:03Z qemu-system-x86_64: Permission denied$/,
    );
  });

  test("a refusal that is not VP_INDEX's is the probe's failure, not 'no Hyper-V'", async () => {
    replay((a) =>
      a[0] === "create" ? fails("error: internal error: process exited while connecting to monitor: Permission denied\n") : undefined,
    );
    await expect(read()).rejects.toThrow(
      /could not start the probe domain on test:\/\/\/default: internal error: process exited while connecting to monitor: Permission denied$/,
    );
  });
});

describe("measurePvFeatures under TCG (how the oracle exercises the probe on a host without KVM)", () => {
  test("a qemu domain asked for the expansion of max; its KVM bits are none", async () => {
    const tcgReply = fs.readFileSync(path.join(FIX, "qmp-expansion-max-tcg.json"), "utf8");
    const { asked, probeXml } = replay((a) => (a[0] === "qemu-monitor-command" ? ok(tcgReply) : undefined));
    const lines: string[] = [];
    const bits = await withVirshSession(URI, 10_000, (s) => measurePvFeatures(s, "tcg", (l) => lines.push(l)));
    expect(bits).toEqual({ supported: [] });
    expect(probeXml).toHaveLength(1);
    expect(probeXml[0]).toMatch(/^<domain type='qemu'>/);
    expect(probeXml[0]).not.toContain("<hyperv>");
    const query = asked.find((a) => a[0] === "qemu-monitor-command")!;
    expect(JSON.parse(query[4])).toEqual({ execute: "query-cpu-model-expansion", arguments: { type: "full", model: { name: "max" } } });
    expect(lines[1]).toMatch(/^test:\/\/\/default: query-cpu-model-expansion of max in [0-9a-f-]{36}$/);
  });
});

describe("hostFactsFor: one read per URI per process", () => {
  test("the same frozen profile for every caller; a failed read is not kept", async () => {
    const { asked } = replay();
    const uri = "test:///default?cache-test-1";
    const [a, b] = await Promise.all([hostFactsFor(uri), hostFactsFor(uri)]);
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.machines!)).toBe(true);
    expect(Object.isFrozen(a.machines![0])).toBe(true);
    expect(asked.filter((x) => x[0] === "capabilities")).toHaveLength(1);

    jest.restoreAllMocks();
    const failing = "test:///default?cache-test-2";
    replay((x) => (x[0] === "version" ? fails("error: down\n") : undefined));
    await expect(hostFactsFor(failing)).rejects.toThrow(/down/);
    jest.restoreAllMocks();
    const again = replay();
    await expect(hostFactsFor(failing)).resolves.toMatchObject({ qemu: "7.2.22" });
    expect(again.asked[0]).toEqual(["version", "--daemon"]);
  });
});
