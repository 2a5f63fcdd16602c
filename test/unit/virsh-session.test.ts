import fs from "node:fs";
import { defaultTimeoutMs, sessionQmp, VirshSession, virshQuote, withVirshSession } from "../../src/system/virsh-session";
import { withFixtureBin } from "../helpers/fixture-bin";

/**
 * The long-lived virsh shell against libvirt's test driver (test:///default: no daemon, its
 * state lives as long as the session). virsh echoes every command line through readline; a
 * reply must be the command's output alone, whatever the line's length and whatever TERM the
 * user's environment has (none under cron or `ssh host cmd`, dumb, xterm).
 */

const TEST_UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"; // the test driver's own domain "test"

describe("VirshSession replies", () => {
  const saved = { TERM: process.env.TERM, COLUMNS: process.env.COLUMNS };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  test.each([["no TERM"], ["dumb"], ["xterm"]])(
    "a command line of any length (1 to 300 characters) gets its own output back, verbatim: TERM %s",
    async (term) => {
      if (term === "no TERM") delete process.env.TERM;
      else process.env.TERM = term;
      delete process.env.COLUMNS;
      const session = new VirshSession("test:///default");
      try {
        const wrong: number[] = [];
        for (let n = 1; n <= 300; n++) {
          const r = await session.run(["echo", "x".repeat(n)]);
          if (r.stdout !== "x".repeat(n) || r.code !== 0) wrong.push(n);
        }
        expect(wrong).toEqual([]);
        // what plan reads: a definition (85 characters with the prompt) and a JSON reply
        const dump = await session.run(["dumpxml", "--inactive", "--domain", TEST_UUID]);
        expect(dump.stdout).toMatch(/^<domain type='test'>\n/);
        const json = await session.run(["echo", JSON.stringify({ return: { padding: "p".repeat(80) } })]);
        expect(JSON.parse(json.stdout)).toEqual({ return: { padding: "p".repeat(80) } });
      } finally {
        session.close();
      }
    },
  );
});

describe("virshQuote", () => {
  test.each([
    ["plain", "'plain'"],
    ["", "''"],
    ["it's", "'it'\\''s'"],
    ["a b;$(rm -rf /)`x`", "'a b;$(rm -rf /)`x`'"],
  ])("%j -> %s", (arg, quoted) => {
    expect(virshQuote(arg)).toBe(quoted);
  });

  test.each([["a\nb"], ["a\rb"], ["a\0b"]])("a line break or NUL (%j) is refused: it would end the command", (arg) => {
    expect(() => virshQuote(arg)).toThrow("virsh arguments cannot contain line breaks");
  });

  test("quoted arguments reach virsh as written (its own parser unquotes them)", async () => {
    const s = new VirshSession("test:///default");
    try {
      for (const arg of ["it's", "a  b", "$(x) `y` \\z", "-- --domain"]) expect((await s.run(["echo", arg])).stdout).toBe(arg);
    } finally {
      s.close();
    }
  });
});

describe("defaultTimeoutMs", () => {
  const saved = process.env.KVM_PARAVIRT_TIMEOUT;
  afterEach(() => {
    if (saved === undefined) delete process.env.KVM_PARAVIRT_TIMEOUT;
    else process.env.KVM_PARAVIRT_TIMEOUT = saved;
  });
  test.each([
    [undefined, 60_000],
    ["5", 5_000],
    ["0.5", 500],
    ["0", 60_000],
    ["-3", 60_000],
    ["soon", 60_000],
    ["Infinity", 60_000],
  ])("KVM_PARAVIRT_TIMEOUT=%s: %d ms", (value, ms) => {
    if (value === undefined) delete process.env.KVM_PARAVIRT_TIMEOUT;
    else process.env.KVM_PARAVIRT_TIMEOUT = value;
    expect(defaultTimeoutMs()).toBe(ms);
  });
});

describe("VirshSession: domains, define, failures", () => {
  test("domains(): name -> UUID of every domain, names with spaces kept", async () => {
    await withVirshSession("test:///default", undefined, async (s) => {
      expect((await s.define("<domain type='test'><name>a b</name><memory>1024</memory><os><type>hvm</type></os></domain>")).code).toBe(0);
      const list = await s.domains();
      if ("error" in list) throw new Error(list.error);
      expect([...list.byName.keys()].sort()).toEqual(["a b", "test"]);
      expect(list.byName.get("test")).toBe(TEST_UUID);
      expect(list.byName.get("a b")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    });
  });

  test("define writes a private temporary file and removes it; a refusal is virsh's error", async () => {
    const made: string[] = [];
    const mkdtemp = fs.mkdtempSync;
    jest.spyOn(fs, "mkdtempSync").mockImplementation((prefix: string) => {
      const d = mkdtemp(prefix);
      made.push(d);
      return d;
    });
    const seen: string[] = [];
    await withVirshSession("test:///default", undefined, async (s) => {
      const run = s.run.bind(s);
      jest.spyOn(s, "run").mockImplementation(async (args) => {
        const file = args[args.indexOf("--file") + 1];
        seen.push(`${(fs.statSync(file).mode & 0o777).toString(8)} ${fs.readFileSync(file, "utf8")}`);
        return run(args);
      });
      const bad = await s.define("<domain>");
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^error: /m);
      expect(fs.readdirSync(made[0])).toEqual([]);
    });
    expect(seen).toEqual(["600 <domain>"]);
    expect(made).toHaveLength(1);
    expect(fs.existsSync(made[0])).toBe(false);
    jest.restoreAllMocks();
  });

  test("a listing that fails: one line, libvirt's reason once, the session's exit line shortened", async () => {
    const s = new VirshSession("test:///default");
    try {
      jest.spyOn(s, "run").mockResolvedValue({
        code: null,
        stdout: "",
        stderr: "error: failed to connect\nerror: failed to connect\nvirsh exited (1) on qemu+ssh://h/system: some detail\n",
      });
      expect(await s.domains()).toEqual({ error: "failed to connect; virsh exited (1) on qemu+ssh://h/system" });
      jest.spyOn(s, "run").mockResolvedValue({ code: 1, stdout: "", stderr: "" });
      expect(await s.domains()).toEqual({ error: "virsh list failed" });
    } finally {
      jest.restoreAllMocks();
      s.close();
    }
  });

  test("no virsh: every call fails naming it; nothing hangs", async () => {
    const saved = process.env.KVM_PARAVIRT_VIRSH;
    process.env.KVM_PARAVIRT_VIRSH = "/nonexistent/virsh";
    try {
      await withVirshSession("test:///default", undefined, async (s) => {
        const r = await s.run(["version"]);
        expect(r.code).toBeNull();
        expect(r.stderr).toMatch(/virsh could not start: spawn \/nonexistent\/virsh ENOENT/);
        // later calls answer at once with the same reason
        expect(await s.run(["list"])).toEqual({ code: null, stdout: "", stderr: expect.stringMatching(/virsh could not start/) });
      });
    } finally {
      if (saved === undefined) delete process.env.KVM_PARAVIRT_VIRSH;
      else process.env.KVM_PARAVIRT_VIRSH = saved;
    }
  });

  test("a call that takes longer than the limit ends the session, naming the host, the command and how to wait longer", async () => {
    await withFixtureBin("silent-qemu.js", async (silent) => {
      const saved = process.env.KVM_PARAVIRT_VIRSH;
      process.env.KVM_PARAVIRT_VIRSH = silent;
      try {
        const s = new VirshSession("qemu+ssh://kvm9/system", 300);
        const started = Date.now();
        const r = await s.run(["dumpxml", "--domain", TEST_UUID]);
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        expect(r.code).toBeNull();
        expect(r.stderr).toMatch(
          /libvirt on qemu\+ssh:\/\/kvm9\/system did not answer within 0\.3 s \(dumpxml\); raise --timeout or KVM_PARAVIRT_TIMEOUT if it is only slow$/,
        );
        expect((await s.run(["list"])).stderr).toMatch(/did not answer within 0\.3 s \(dumpxml\)/);
        s.close();
      } finally {
        if (saved === undefined) delete process.env.KVM_PARAVIRT_VIRSH;
        else process.env.KVM_PARAVIRT_VIRSH = saved;
      }
    });
  });

  test("virsh exiting: pending and later calls fail naming its exit and last error line", async () => {
    const s = new VirshSession("test:///default");
    const r = await s.run(["quit"]);
    expect(r.code).toBeNull();
    expect(r.stderr).toMatch(/virsh exited \(0\) on test:\/\/\/default: /);
    expect((await s.run(["list"])).stderr).toMatch(/^virsh exited \(0\) on test:\/\/\/default/);
    s.close();
  });
});

describe("VirshSession: what a reply's code and texts are made of", () => {
  test("a host virsh cannot connect to: every call fails with virsh's words, then its exit and its last line", async () => {
    const s = new VirshSession("test:///nonexistent-kpv-node.xml");
    const r = await s.run(["list"]);
    expect(r.code).toBeNull();
    // virsh's own lines, a blank line, then the session's: its exit and virsh's last line
    const [own, exit] = r.stderr.split("\n\nvirsh exited");
    const lines = own.trim().split("\n");
    expect(lines).toContain("error: failed to connect to the hypervisor");
    expect(`virsh exited${exit}`).toBe(`virsh exited (1) on test:///nonexistent-kpv-node.xml: ${lines[lines.length - 1]}`);
    expect(lines[lines.length - 1]).toMatch(/^error: XML error: failed to parse xml document '\/nonexistent-kpv-node.xml'$/);
    s.close();
  });

  test("domains(): only well-formed '<uuid> <name>' lines", async () => {
    const s = new VirshSession("test:///default");
    try {
      jest.spyOn(s, "run").mockResolvedValue({
        code: 0,
        stdout: `${TEST_UUID} test\nx${TEST_UUID} junk\n${TEST_UUID.toUpperCase()} upper\n${TEST_UUID}  \n\n`,
        stderr: "",
      });
      expect(await s.domains()).toEqual({
        byName: new Map([
          ["test", TEST_UUID],
          [" ", TEST_UUID],
        ]),
      });
    } finally {
      jest.restoreAllMocks();
      s.close();
    }
  });

  test("a listing that fails with a leading space or an inner 'error: ': only a line's own prefix is dropped", async () => {
    const s = new VirshSession("test:///default");
    try {
      jest.spyOn(s, "run").mockResolvedValue({
        code: 1,
        stdout: "",
        stderr:
          "error: cannot recv data: error: again\nnot virsh exited (1) on h: x\nvirsh exited (255) on qemu+ssh://h/system: Connection reset by peer\n",
      });
      expect(await s.domains()).toEqual({
        error: "cannot recv data: error: again; not virsh exited (1) on h: x; virsh exited (255) on qemu+ssh://h/system",
      });
    } finally {
      jest.restoreAllMocks();
      s.close();
    }
  });
});

describe("sessionQmp", () => {
  test("a QMP command by the domain's UUID; virsh's refusal is an error naming the command", async () => {
    await withVirshSession("test:///default", undefined, async (s) => {
      const asked: string[][] = [];
      const run = s.run.bind(s);
      jest.spyOn(s, "run").mockImplementation((args) => {
        asked.push([...args]);
        return run(args);
      });
      await expect(sessionQmp(s, TEST_UUID)("query-status")).rejects.toThrow(/^virsh qemu-monitor-command query-status: error: /);
      expect(asked).toEqual([["qemu-monitor-command", "--domain", TEST_UUID, "--cmd", '{"execute":"query-status"}']]);
      await sessionQmp(s, TEST_UUID)("qom-get", { path: "/x", property: "y" }).catch(() => undefined);
      expect(asked[1][4]).toBe('{"execute":"qom-get","arguments":{"path":"/x","property":"y"}}');
      jest.spyOn(s, "run").mockResolvedValue({ code: 0, stdout: '{"return":{"running":false},"id":"libvirt-1"}', stderr: "" });
      expect(await sessionQmp(s, TEST_UUID)("query-status")).toEqual({ running: false });
      jest.spyOn(s, "run").mockResolvedValue({ code: 1, stdout: "", stderr: "" });
      await expect(sessionQmp(s, TEST_UUID)("query-status")).rejects.toThrow("virsh qemu-monitor-command query-status: exit 1");
      jest.spyOn(s, "run").mockResolvedValue({ code: 1, stdout: "", stderr: "  error: no domain\n\n" });
      await expect(sessionQmp(s, TEST_UUID)("query-status")).rejects.toThrow(
        new Error("virsh qemu-monitor-command query-status: error: no domain"),
      );
    });
    jest.restoreAllMocks();
  });
});
