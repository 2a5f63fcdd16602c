import { parseSpecText, validateSpecObject, mergeDefaults } from "../../src/input/load";

/** Bad input: every problem is a diagnostic with a path and what is allowed; nothing throws. */

const codes = (text: string) => {
  const l = parseSpecText(text);
  return [...l.diagnostics, ...l.domains.flatMap((d) => d.diagnostics)];
};

describe("spec loading", () => {
  test("a minimal domain gets every default", () => {
    const l = parseSpecText("domains:\n  - name: a\n");
    expect(l.unreadable).toBe(false);
    expect(l.domains[0].spec).toEqual({
      name: "a",
      vcpus: 1,
      memoryMiB: 1024,
      machine: "q35",
      accel: "kvm",
      cpu: { mode: "custom", model: "qemu64", check: "none", features: {} },
      irqchip: "kernel",
      paravirt: {},
    });
  });

  test("JSON is accepted as well as YAML", () => {
    const l = parseSpecText(JSON.stringify({ domains: [{ name: "j", paravirt: { pvIpi: true } }] }));
    expect(l.domains[0].spec?.paravirt).toEqual({ pvIpi: true });
  });

  test("defaults merge under each domain, objects one level deep", () => {
    const l = parseSpecText(`
defaults:
  vcpus: 4
  cpu: { mode: custom, model: Skylake-Server, features: { vmx: false } }
  paravirt: { pvIpi: true, pvUnhalt: true }
domains:
  - name: a
    paravirt: { pvUnhalt: false }
    cpu: { features: { pcid: true } }
  - name: b
    vcpus: 2
`);
    expect(l.domains[0].spec?.paravirt).toEqual({ pvIpi: true, pvUnhalt: false });
    expect(l.domains[0].spec?.cpu).toEqual({
      mode: "custom",
      model: "Skylake-Server",
      check: "none",
      features: { vmx: false, pcid: true },
    });
    expect(l.domains[1].spec?.vcpus).toBe(2);
    expect(mergeDefaults({ a: 1, o: { x: 1 } }, { o: { y: 2 } })).toEqual({ a: 1, o: { x: 1, y: 2 } });
  });

  test.each([
    [
      "unknown feature, with a suggestion",
      "domains: [{name: a, paravirt: {pvIPI: true}}]",
      "spec-unknown-feature",
      "domains[0].paravirt.pvIPI",
      /did you mean pvIpi\?/,
    ],
    [
      "a QEMU name instead of the spec key",
      "domains: [{name: a, paravirt: {kvm-pv-tlb-flush: true}}]",
      "spec-unknown-feature",
      'domains[0].paravirt["kvm-pv-tlb-flush"]',
      /did you mean pvTlbFlush\?/,
    ],
    [
      "wrong type",
      "domains: [{name: a, paravirt: {pvIpi: yes please}}]",
      "spec-invalid-value",
      "domains[0].paravirt.pvIpi",
      /expected boolean/,
    ],
    ["vcpus not a number", "domains: [{name: a, vcpus: two}]", "spec-invalid-value", "domains[0].vcpus", /expected number/],
    ["unknown CPU mode", "domains: [{name: a, cpu: {mode: passthrough}}]", "spec-invalid-value", "domains[0].cpu.mode", /host-passthrough/],
    [
      "unknown machine type",
      "domains: [{name: a, machine: virt}]",
      "spec-invalid-value",
      "domains[0].machine",
      /q35, pc, or a versioned type/,
    ],
    [
      "model with host-passthrough",
      "domains: [{name: a, cpu: {mode: host-passthrough, model: qemu64}}]",
      "spec-invalid-value",
      "domains[0].cpu.model",
      /cannot be given with cpu.mode host-passthrough/,
    ],
    ["unknown domain field", "domains: [{name: a, vcpu: 2}]", "spec-unknown-field", "domains[0].vcpu", /did you mean vcpus\?/],
    ["missing name", "domains: [{vcpus: 2}]", "spec-missing-field", "domains[0].name", /required/],
    [
      "PV feature in cpu.features",
      "domains: [{name: a, cpu: {features: {kvm-pv-ipi: true}}}]",
      "spec-invalid-value",
      'domains[0].cpu.features["kvm-pv-ipi"]',
      /set paravirt.pvIpi instead/,
    ],
    [
      "model with a comma",
      "domains: [{name: a, cpu: {model: 'qemu64,kvm=off'}}]",
      "spec-invalid-value",
      "domains[0].cpu.model",
      /letters, digits/,
    ],
    ["unknown irqchip", "domains: [{name: a, irqchip: userspace}]", "spec-invalid-value", "domains[0].irqchip", /kernel/],
    ["unknown top-level key", "domain: []\ndomains: []", "spec-unknown-field", "domain", /did you mean domains\?/],
  ])("%s", (_what, text, code, path, message) => {
    const d = codes(text).find((x) => x.code === code);
    expect(d).toMatchObject({ severity: "error", code, path });
    expect(d!.message).toMatch(message);
  });

  test.each([
    ["<", "a<b"],
    ["&", "a&b"],
    ["quote", 'a"b'],
    ["apostrophe", "a'b"],
    ["comma", "a,b"],
    ["space", "a b"],
    ["newline", "a\nb"],
    ["slash", "a/b"],
    ["leading dash", "-a"],
    ["over 255 bytes", "é".repeat(128)],
    ["empty", ""],
  ])("domain names with %s are rejected", (_what, name) => {
    const l = validateSpecObject({ domains: [{ name }] });
    expect(l.domains[0].spec).toBeNull();
    expect(l.domains[0].diagnostics[0]).toMatchObject({ code: "spec-invalid-value", path: "domains[0].name" });
    expect(l.domains[0].diagnostics[0].message).toMatch(/allowed: 1-255 bytes/);
  });

  test("shell metacharacters other than those are allowed in names (they never reach a shell)", () => {
    const l = validateSpecObject({ domains: [{ name: "web;$(rm)|`x`*?!#~{}" }] });
    expect(l.domains[0].diagnostics).toEqual([]);
  });

  test("duplicate names", () => {
    const d = codes("domains: [{name: a}, {name: b}, {name: a}]");
    expect(d).toEqual([expect.objectContaining({ code: "spec-duplicate-name", path: "domains[2].name", severity: "error" })]);
  });

  test.each([
    ["empty file", "", "spec-empty"],
    ["only whitespace", "  \n\n", "spec-empty"],
    ["malformed YAML", "domains: [name: a\n  - {", "spec-syntax"],
    ["duplicate YAML keys", "domains: []\ndomains: []", "spec-syntax"],
    ["a list at the top", "- a\n- b", "spec-shape"],
    ["no domains", "defaults: {}", "spec-shape"],
  ])("%s is unreadable (exit 2)", (_what, text, code) => {
    const l = parseSpecText(text);
    expect(l.unreadable).toBe(true);
    expect(l.diagnostics[0]).toMatchObject({ severity: "error", code });
  });

  test("malformed YAML names the line", () => {
    expect(parseSpecText("domains:\n  - name: a\n   bad: [").diagnostics[0].message).toMatch(/line \d+/);
  });

  test("invalid defaults are reported once and their domains are not resolved", () => {
    const l = parseSpecText("defaults: {paravirt: {nope: true}}\ndomains: [{name: a}, {name: b}]");
    expect(l.diagnostics).toEqual([expect.objectContaining({ code: "spec-unknown-feature", path: "defaults.paravirt.nope" })]);
    expect(l.domains.map((d) => d.spec)).toEqual([null, null]);
  });
});

describe("a user NIC", () => {
  test.each([
    ["user: true", { user: true }, null],
    ["user: false beside a network (false: not user-mode)", { user: false, network: "default" }, null],
    ["user: false alone", { user: false }, "give exactly one of network, bridge or user: true"],
    ["user: true beside a bridge", { user: true, bridge: "br0" }, "give exactly one of network, bridge or user: true"],
    ["nothing", {}, "give exactly one of network, bridge or user: true"],
  ])("%s", (_w, nic, error) => {
    const d = validateSpecObject({ domains: [{ name: "n1", nics: [nic] }] }).domains[0];
    if (error === null) expect(d.spec?.nics).toHaveLength(1);
    else expect(d.diagnostics).toEqual([{ severity: "error", code: "spec-invalid-value", path: "domains[0].nics[0]", message: error }]);
  });

  test("user: false with a network renders that network's interface, not a user one", () => {
    const d = validateSpecObject({ domains: [{ name: "n1", nics: [{ user: false, network: "default" }] }] }).domains[0];
    expect(d.spec?.nics?.[0]).toEqual({ type: "network", source: "default", model: "virtio" });
  });
});
