import { VirshSession } from "../../src/system/virsh-session";

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
