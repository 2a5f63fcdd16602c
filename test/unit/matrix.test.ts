import { FEATURES, SPEC_KEYS } from "../../src/catalog/features";
import { ASSUMED_HOST, type HostProfile } from "../../src/host/profile";
import { validateSpecObject } from "../../src/input/load";
import { renderDomain } from "../../src/render-spec";
import { DEBIAN12, domainSpec } from "../helpers/specs";

/**
 * The whole resolution of a matrix of domains (three hosts x four CPU modes x three irqchip
 * modes x five PV settings, with the accelerator, machine, x2apic and per-domain host
 * override rotating through their values), pinned as a snapshot: for every PV property
 * the value, its source, the drop cause and the reason, then x2apic, the QEMU model, the
 * machine, every diagnostic (code, path, message), the QEMU arguments of every third domain and the libvirt XML
 * for every twelfth domain. A change to what the tool tells a user about any of them shows
 * up here as a diff to review (`jest -u` accepts it). The values themselves are what the
 * QEMU and libvirt oracles check against the real programs; this pins the rest (sources,
 * reasons, messages) and the value of every combination the oracles do not start.
 */

/** A host older than the tool's features: QEMU 5.0, kernel 4.15, a KVM offering the early bits only. */
const OLD_HOST: HostProfile = {
  qemu: "5.0.0",
  libvirt: "6.0.0",
  kernel: "4.15.0",
  kvm: { available: true, supported: ["kvmclock", "kvm-nopiodelay", "kvm-asyncpf", "kvm-steal-time", "kvm-pv-eoi", "kvm-pv-unhalt"] },
  hostModel: "Haswell-noTSX",
  source: "file",
};

const HOSTS: [string, HostProfile | undefined][] = [
  ["debian12", DEBIAN12],
  ["assumed", undefined],
  ["old", OLD_HOST],
];
const CPUS = [{ mode: "custom", model: "qemu64" }, { mode: "host-passthrough" }, { mode: "host-model" }, { mode: "maximum" }];
const IRQCHIPS = ["kernel", "split", "off"];
const half = (on: boolean) => Object.fromEntries(SPEC_KEYS.filter((_, i) => i % 2 === (on ? 0 : 1)).map((k) => [k, on]));
const PARAVIRT: [string, Record<string, boolean>][] = [
  ["inherit", {}],
  ["all-on", Object.fromEntries(SPEC_KEYS.map((k) => [k, k !== "hidden" ? true : false]))],
  ["all-off", Object.fromEntries(SPEC_KEYS.map((k) => [k, false]))],
  ["hidden", { hidden: true, pvEoi: true }],
  ["mixed", { ...half(true), ...half(false), hidden: false }],
];
const ACCELS = ["kvm", "kvm", "tcg"];
const MACHINES = ["q35", "pc-q35-5.1", "pc", "pc-i440fx-4.2"];
const X2APIC = [undefined, true, false];
const OVERRIDES = [undefined, undefined, { qemu: "6.0.0" }, { kernel: "5.4.0" }, { libvirt: "7.10.0" }];

interface Case {
  index: number;
  hostName: string;
  label: string;
  host: HostProfile | undefined;
  domain: Record<string, unknown>;
}

function cases(): Case[] {
  const out: Case[] = [];
  let i = 0;
  // the rotating axes from a seeded generator, so that they do not fall in step with the loops
  let seed = 20261128;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000) * xs.length)];
  for (const [hostName, host] of HOSTS)
    for (const cpu of CPUS)
      for (const irqchip of IRQCHIPS)
        for (const [pvName, paravirt] of PARAVIRT) {
          const accel = pick(ACCELS);
          const machine = pick(MACHINES);
          const x2apic = pick(X2APIC);
          const override = pick(OVERRIDES);
          const domain: Record<string, unknown> = { name: `m${i}`, cpu, irqchip, accel, machine, paravirt };
          if (x2apic !== undefined) domain.x2apic = x2apic;
          if (override) domain.host = override;
          out.push({
            index: i,
            hostName,
            label: `${String(i).padStart(3, "0")} ${hostName} ${cpu.mode} irqchip=${irqchip} ${pvName} ${accel} ${machine} x2apic=${x2apic} host=${JSON.stringify(override ?? {})}`,
            host,
            domain,
          });
          i++;
        }
  return out;
}

/** Reasons and messages are long and repeat: each distinct text is pinned once, and cited by number. */
class Texts {
  readonly list: string[] = [];
  private readonly ids = new Map<string, number>();
  id(text: string): string {
    let n = this.ids.get(text);
    if (n === undefined) this.ids.set(text, (n = this.list.push(text) - 1));
    return `#${n}`;
  }
}

const PROPERTY_COLUMNS = FEATURES.map((f) => f.qemu).join(" ");
const SOURCE: Record<string, string> = { default: "d", explicit: "e", "host-passthrough": "p", implied: "i", dropped: "x" };

/**
 * One domain as lines: the PV properties in catalog order (PROPERTY_COLUMNS; `.` when the host's QEMU lacks it), each
 * `+`/`-` (on/off), the source (d default, e explicit, p host-passthrough, i implied, x dropped
 * with /cause), `!1`/`!0` when requested, `I` when the inherited value differs, `V` when
 * guest visibility differs, then #reason; x2apic (`x` dropped) and the rest; diagnostics; the QEMU args.
 */
function summary(c: Case, texts: Texts): { lines: string[]; xml: string } {
  const loaded = validateSpecObject({ domains: [c.domain] });
  const spec = loaded.domains[0].spec;
  if (!spec) return { lines: [`invalid: ${JSON.stringify(loaded.domains[0].diagnostics)}`], xml: "" };
  const { resolution: r, rendered } = renderDomain(spec, c.host);
  const props = FEATURES.map((f) => {
    const x = r.features.get(f.qemu);
    if (!x) return "."; // the host's QEMU has no such property
    return (
      `${x.enabled ? "+" : "-"}${SOURCE[x.source]}${x.dropCause ? `/${x.dropCause}` : ""}` +
      `${x.requested === undefined ? "" : x.requested ? "!1" : "!0"}${x.inherited !== x.enabled ? "I" : ""}${x.guestVisible !== x.enabled ? "V" : ""}${texts.id(x.reason)}`
    );
  });
  const lines = [props.join(" ")];
  lines.push(
    `x2apic ${r.x2apic.enabled ? "+" : "-"}${r.x2apic.requested === undefined ? "" : r.x2apic.requested ? "!1" : "!0"}${r.x2apic.dropped ? "x" : ""}; model ${r.qemuModel} (${r.cpuClass}); machine ${r.machine.requested} -> ${r.machine.rendered}; host ${r.host.qemu}/${r.host.kernel}/${r.host.libvirt} (${r.host.source}${r.host.description ? ` ${texts.id(r.host.description)}` : ""})` +
      (r.missingInQemu.length ? `; missing in QEMU: ${r.missingInQemu.map((f) => f.qemu).join(" ")}` : ""),
  );
  lines.push(rendered.diagnostics.map((d) => `${d.severity[0]} ${d.code} ${d.path} ${texts.id(d.message)}`).join("; "));
  if (c.index % 3 === 0) lines.push(`args: ${rendered.qemuArgs.join(" ")}`);
  return { lines, xml: rendered.domainXml };
}

describe("the resolution matrix", () => {
  const all = cases();
  // each domain resolved and rendered once; reasons and messages numbered per host (one snapshot per host)
  const texts = new Map(HOSTS.map(([name]) => [name, new Texts()]));
  let results: (Case & ReturnType<typeof summary>)[] = [];
  beforeAll(() => {
    results = all.map((c) => ({ ...c, ...summary(c, texts.get(c.hostName)!) }));
  });

  test("covers every host, CPU mode, irqchip mode, PV setting, accelerator, machine and override", () => {
    expect(all).toHaveLength(HOSTS.length * CPUS.length * IRQCHIPS.length * PARAVIRT.length);
    for (const axis of ["accel", "machine", "x2apic", "host"])
      expect(new Set(all.map((c) => JSON.stringify(c.domain[axis]))).size).toBeGreaterThanOrEqual(axis === "accel" ? 2 : 3);
    // every source and drop cause the resolver knows occurs somewhere in the matrix
    const seen = results.map((x) => x.lines.join("\n")).join("\n");
    for (const s of Object.values(SOURCE)) expect(seen).toMatch(new RegExp(`[+-]${s}`));
    for (const cause of ["tcg", "hidden", "host-kvm", "never-supported", "needs-kernel-irqchip", "needs-split-irqchip"])
      expect(seen).toContain(`x/${cause}`);
  });

  test.each(HOSTS.map(([name]) => [name]))(
    "on the %s host: every property's value, source and reason, every diagnostic, the args",
    (name) => {
      const out: Record<string, string[]> = {};
      for (const x of results.filter((r) => r.hostName === name)) out[x.label] = x.lines;
      expect({ columns: PROPERTY_COLUMNS, domains: out, texts: texts.get(name)!.list }).toMatchSnapshot();
    },
  );

  test("the libvirt XML of every twelfth domain", () => {
    const out: Record<string, string> = {};
    for (const x of results) if (x.index % 12 === 0) out[x.label] = x.xml;
    expect(out).toMatchSnapshot();
  });

  test("the assumed host is QEMU 10.2 (the matrix's second host)", () => {
    expect(ASSUMED_HOST.qemu).toMatch(/^10\.2/);
  });
});

describe("the device matrix", () => {
  const disk = (d: Record<string, unknown>) => ({ target: "vda", file: "/var/lib/libvirt/images/a.qcow2", ...d });
  const DEVICE_CASES: [string, Record<string, unknown>, { networks?: { name: string; active: boolean }[]; exists?: boolean }][] = [
    [
      "a bootable VM with every kind of device",
      {
        disks: [disk({ boot: 1, cache: "none", io: "native" }), { target: "sda", file: "/iso/d.iso", device: "cdrom", bus: "sata" }],
        nics: [{ network: "default" }, { bridge: "br0", model: "e1000e", mac: "52:54:00:12:34:56" }, { user: true }],
        serialConsole: true,
        graphics: { type: "vnc", listen: "0.0.0.0" },
        extraDevices: ["<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"],
      },
      { networks: [{ name: "default", active: true }], exists: true },
    ],
    [
      "a pool volume, spice, a cdrom on IDE of an i440fx machine",
      {
        machine: "pc",
        disks: [
          { target: "vda", pool: "default", volume: "v.qcow2" },
          { target: "hdc", file: "/i.iso", device: "cdrom", bus: "ide" },
        ],
        graphics: { type: "spice" },
      },
      {},
    ],
    [
      "two disks on one target, two NICs with one MAC, one boot order twice",
      {
        disks: [disk({ boot: 1 }), disk({ file: "/b" })],
        nics: [
          { user: true, mac: "52:54:00:00:00:01", boot: 1 },
          { user: true, mac: "52:54:00:00:00:01" },
        ],
      },
      {},
    ],
    ["IDE on q35", { disks: [{ target: "hda", file: "/a", bus: "ide" }] }, {}],
    [
      "a network the host does not define",
      { nics: [{ user: true }, { network: "lan" }] },
      { networks: [{ name: "default", active: true }] },
    ],
    ["a host without networks", { nics: [{ network: "lan" }] }, { networks: [] }],
    ["an inactive network", { nics: [{ network: "default" }] }, { networks: [{ name: "default", active: false }] }],
    ["a missing file on a local host", { disks: [disk({}), { target: "vdb", pool: "p", volume: "v" }] }, { exists: false }],
    ["a missing file, host not local", { disks: [disk({})] }, {}],
    [
      "extra devices: valid, two elements, an unknown element, its own alias",
      {
        extraDevices: [
          "<watchdog model='i6300esb'/>",
          "<rng model='virtio'/><rng model='virtio'/>",
          "<domain/>",
          "<rng model='virtio'><alias name='ua-x'/></rng>",
        ],
      },
      {},
    ],
    [
      "an old guest with virtio disks and a virtio NIC after another",
      {
        guest: { kernel: "2.6.18" },
        disks: [disk({}), { target: "sda", file: "/b" }],
        nics: [
          { user: true, model: "e1000" },
          { user: true, model: "virtio" },
        ],
      },
      {},
    ],
    ["a guest new enough for virtio", { guest: { kernel: "2.6.25" }, disks: [disk({})] }, {}],
  ];

  test.each(DEVICE_CASES)("%s: diagnostics and <devices>", (_label, d, host) => {
    const spec = domainSpec({ name: "dev", ...d });
    const profile = host.networks ? { ...DEBIAN12, networks: host.networks } : DEBIAN12;
    const access = host.exists === undefined ? {} : { pathExists: () => host.exists! };
    const { rendered } = renderDomain(spec, profile, "", access);
    const devices = /<devices>[\s\S]*<\/devices>|<devices\/>/.exec(rendered.domainXml)?.[0];
    expect({
      diagnostics: rendered.diagnostics
        .filter((x) => x.severity !== "info")
        .map((x) => `${x.severity} [${x.code}] ${x.path}: ${x.message}`),
      devices,
    }).toMatchSnapshot();
  });
});
