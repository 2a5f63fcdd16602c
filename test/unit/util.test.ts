import { attrs, kids, tagOf } from "../../src/util/ordered-xml";
import { redactSecrets, uriHasCredentials } from "../../src/util/secrets";
import { closest } from "../../src/util/suggest";
import { atLeast, compareVersions, majorMinor, parseVersion } from "../../src/util/version";

/** Table tests of the helpers every layer shares (src/util). */

describe("secrets: URI passwords", () => {
  test.each([
    ["qemu+tcp://admin:pw@kvm1/system", true, "qemu+tcp://admin:***@kvm1/system"],
    ["qemu+ssh://root@kvm1/system", false, "qemu+ssh://root@kvm1/system"],
    ["qemu:///system", false, "qemu:///system"],
    ["qemu+tcp://kvm1/system?password=s3cr3t", true, "qemu+tcp://kvm1/system?password=***"],
    ["qemu+tcp://kvm1/system?no_verify=1&PassWD=x&y=2", true, "qemu+tcp://kvm1/system?no_verify=1&PassWD=***&y=2"],
    ["qemu+tcp://kvm1/system?pass=a&token=b", true, "qemu+tcp://kvm1/system?pass=***&token=***"],
    ["qemu+tcp://kvm1/system?secret=", true, "qemu+tcp://kvm1/system?secret=***"],
    // a bare "password=" not in a query is no parameter
    ["password=x", false, "password=x"],
    // an empty password still is one
    ["qemu+tcp://admin:@kvm1/system", true, "qemu+tcp://admin:***@kvm1/system"],
  ])("%s: credentials %s, shown as %s", (uri, has, shown) => {
    expect(uriHasCredentials(uri)).toBe(has);
    expect(redactSecrets(uri)).toBe(shown);
  });

  test("every URI in a text is redacted, and the test is the same on every call (no regex state carried over)", () => {
    const text = "cannot reach qemu+tcp://a:one@h1/system nor 'qemu+tls://b:two@h2/system'";
    expect(redactSecrets(text)).toBe("cannot reach qemu+tcp://a:***@h1/system nor 'qemu+tls://b:***@h2/system'");
    for (let i = 0; i < 3; i++) expect(uriHasCredentials("qemu+tcp://a:b@h/system")).toBe(true);
    expect(redactSecrets("qemu+tcp://admin:pw@kvm1/system\nqemu+tcp://admin:pw@kvm1/system")).not.toContain("pw");
  });

  test("a password stops at the @, a slash, a space or a quote", () => {
    expect(redactSecrets("x://u:p@h/x@y")).toBe("x://u:***@h/x@y");
    expect(redactSecrets("see x://u:p@h and y")).toBe("see x://u:***@h and y");
    expect(redactSecrets("a ?password=p w")).toBe("a ?password=*** w");
    expect(redactSecrets('<x ?token=abc">')).toBe('<x ?token=***">');
  });
});

describe("suggest: the closest candidate", () => {
  const features = ["pvIpi", "pvEoi", "pvUnhalt", "kvmclock", "pollControl"];
  test.each([
    ["pv_ipi", "pvIpi"],
    ["kvm-pv-ipi", "pvIpi"],
    ["PVIPI", "pvIpi"],
    ["kvm_pv_unhalt", "pvUnhalt"],
    ["pvunhlt", "pvUnhalt"],
    ["kvmclok", "kvmclock"],
    ["polcontrol", "pollControl"],
    ["zzzzzzzz", null],
    ["", null],
  ])("%s -> %s", (input, want) => {
    expect(closest(input, features)).toBe(want);
  });

  test("the first of equally close candidates; none without candidates", () => {
    expect(closest("ab", ["ac", "ad"])).toBe("ac");
    expect(closest("ab", [])).toBeNull();
  });

  test("the threshold: at most 2 edits, or a third of the input's length when longer", () => {
    // 2 edits away from a short word: still suggested
    expect(closest("abcd", ["abxy"])).toBe("abxy");
    // 3 edits away from a 6-letter word: too far (max(2, 2))
    expect(closest("abcdef", ["abcxyz"])).toBeNull();
    // 3 edits away from a 9-letter word: close enough (max(2, 3))
    expect(closest("abcdefghi", ["abcdefxyz"])).toBe("abcdefxyz");
    // 4 edits from a 12-letter word: close enough; 5 is not
    expect(closest("abcdefghijkl", ["abcdefghwxyz"])).toBe("abcdefghwxyz");
    expect(closest("abcdefghijkl", ["abcdefgvwxyz"])).toBeNull();
  });

  test("edit distance counts insertions, deletions and substitutions", () => {
    // one deletion, one insertion, one substitution each within reach of a 3-letter word
    expect(closest("abc", ["ab"])).toBe("ab");
    expect(closest("abc", ["abcd"])).toBe("abcd");
    expect(closest("abc", ["axc"])).toBe("axc");
    expect(closest("abc", ["xbx", "abx"])).toBe("abx");
    // 3 edits (two substitutions, one insertion) from a 6-letter word: too far
    expect(closest("kitten", ["sitting"])).toBeNull();
    expect(closest("kitten", ["sittin"])).toBe("sittin");
  });

  test("only a leading kvm prefix is dropped", () => {
    expect(closest("pvkvmipi", ["pvIpi", "pvkvmipi2"])).toBe("pvkvmipi2");
    expect(closest("kvmclock", ["clock", "kvmclock"])).toBe("clock");
  });
});

describe("version", () => {
  test.each([
    ["7.2.22", [7, 2, 22]],
    ["6.18.44-fc-v657", [6, 18, 44]],
    ["  6.1 ", [6, 1]],
    ["2.6.26.1.9", [2, 6, 26, 1]],
    ["10", [10]],
    ["v7.2", null],
    ["", null],
    ["x7", null],
  ])("parseVersion(%j) = %j", (text, want) => {
    expect(parseVersion(text)).toEqual(want);
    expect(parseVersion(text)).toEqual(want); // memoised: the same answer again
  });

  test.each([
    [[6, 1], [6, 1, 0], 0],
    [[6, 1, 1], [6, 1], 1],
    [[6], [6, 0, 1], -1],
    [[10, 0], [9, 9], 1],
    [[2, 12], [2, 9], 1],
    [[7, 2, 22], [7, 2, 22], 0],
  ])("compareVersions(%j, %j) = %d", (a, b, want) => {
    expect(compareVersions(a, b)).toBe(want);
    expect(compareVersions(b, a)).toBe(-want || 0);
  });

  test.each([
    ["7.2.22", "7.2", true],
    ["7.1.9", "7.2", false],
    ["7.2", "7.2.0", true],
    ["6.18.44-fc", "5.8", true],
    ["4.19", "5.8", false],
    [undefined, "5.8", true],
    ["5.0", undefined, true],
    ["5.0", null, true],
    ["garbage", "5.8", true],
    ["4.0", "garbage", true],
  ])("atLeast(%j, %j) = %s", (have, min, want) => {
    expect(atLeast(have, min)).toBe(want);
  });

  test.each([
    ["7.2.22", "7.2"],
    ["8", "8.0"],
    ["10.1.0-rc1", "10.1"],
    ["none", null],
  ])("majorMinor(%j) = %j", (text, want) => {
    expect(majorMinor(text)).toBe(want);
  });
});

describe("ordered-xml", () => {
  const el = { cpu: [{ feature: [], ":@": { "@_name": "x" } }, { "#text": "t" }], ":@": { "@_mode": "custom" } };
  test("the tag is the key that is not the attributes, wherever the attributes come", () => {
    expect(tagOf(el)).toBe("cpu");
    expect(tagOf({ ":@": {}, os: [] })).toBe("os");
    expect(() => tagOf({ ":@": {} })).toThrow(/without a tag/);
  });
  test("children and attributes, none when absent", () => {
    expect(kids(el)).toHaveLength(2);
    expect(kids(undefined)).toEqual([]);
    expect(kids({ os: undefined } as never)).toEqual([]);
    expect(attrs(el)).toEqual({ "@_mode": "custom" });
    expect(attrs({ os: [] })).toEqual({});
  });
});
