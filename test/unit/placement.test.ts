import type { HostProfile } from "../../src/host/profile";
import { parseSpecText } from "../../src/input/load";
import { checkSpec } from "../../src/policy/audit";
import { parsePolicyText } from "../../src/policy/config";
import { readDomainXml, readNeighbour } from "../../src/libvirt/read-domain";
import { renderDomain, renderSpec } from "../../src/render-spec";
import { placeOnHost, resolvePlacement, type PinnedNeighbour } from "../../src/resolve/placement";
import { parseCapabilities, parseFreePages } from "../../src/system/host-facts";
import { formatCpuset, parseCpuset } from "../../src/util/cpuset";
import { DEBIAN12, domainSpec } from "../helpers/specs";

/** A host with two NUMA nodes of four CPUs each. */
const TWO_NODES: HostProfile = {
  ...DEBIAN12,
  numaNodes: [
    { id: 0, cpus: [0, 1, 2, 3], pages: [{ sizeKiB: 2048, total: 1024, free: 1024 }] },
    { id: 1, cpus: [4, 5, 6, 7], pages: [{ sizeKiB: 2048, total: 1024, free: 100 }] },
  ],
};
const live = (
  name: string,
  vcpus: number[][] | null,
  emulator: number[] | null = null,
  more: Partial<PinnedNeighbour> = {},
): PinnedNeighbour => ({
  name,
  vcpus,
  emulator,
  from: "live",
  ...more,
});

describe("cpusets in libvirt's syntax", () => {
  test.each([
    ["0", [0]],
    ["2-3", [2, 3]],
    ["0-7,^4", [0, 1, 2, 3, 5, 6, 7]],
    ["3,1,1", [1, 3]],
    ["0-3,^0-1", 'has "^0-1": ^ takes one number, not a range'],
    ["", "is empty"],
    ["1,,2", 'has "", which is not N, N-M or ^N'],
    ["a", 'has "a", which is not N, N-M or ^N'],
    ["3-1", "has the range 3-1, which runs backwards"],
    ["4096", "names 4096, above 4095"],
    ["0-1,^0,^1", "names no number"],
    [" 1", 'has " 1", which is not N, N-M or ^N'],
  ])("parse %j", (text, want) => {
    expect(parseCpuset(text)).toEqual(want);
  });

  test.each([
    [[0], "0"],
    [[0, 1], "0-1"],
    [[0, 1, 2, 5], "0-2,5"],
    [[7, 3, 4, 3], "3-4,7"],
    [[1, 3, 5], "1,3,5"],
  ])("format %j as libvirt writes it (virBitmapFormat)", (set, want) => {
    expect(formatCpuset(set)).toBe(want);
    expect(parseCpuset(want)).toEqual([...new Set(set)].sort((a, b) => a - b));
  });
});

describe("the spec's placement fields: bad input named with what is allowed", () => {
  const errors = (domain: string) =>
    parseSpecText(`domains:\n  - ${domain}\n`).domains[0].diagnostics.map((d) => `${d.path}: ${d.message}`);
  test.each([
    [
      "{ name: a, cpuPinning: { vcpus: ['0-'] } }",
      'domains[0].cpuPinning.vcpus[0]: a vCPU\'s host CPU set has "0-", which is not N, N-M or ^N; allowed: a set such as "2", "2-3", "0-7,^4" or "1,3" (numbers 0-4095; ranges N-M; ^N excludes)',
    ],
    ["{ name: a, vcpus: 2, cpuPinning: { vcpus: ['0'] } }", "domains[0].cpuPinning.vcpus: one host CPU set per vCPU: 1 given for 2 vCPUs"],
    [
      "{ name: a, vcpus: 2, cpuPinning: { dedicated: true, vcpus: ['0-1', '2'] } }",
      "domains[0].cpuPinning.vcpus[0]: a dedicated vCPU runs on exactly one host CPU; 0-1 names 2",
    ],
    [
      "{ name: a, vcpus: 2, cpuPinning: { dedicated: true, vcpus: ['3', '3'] } }",
      "domains[0].cpuPinning.vcpus[1]: host CPU 3 is already vCPU 0's: dedicated vCPUs need one each",
    ],
    ["{ name: a, hugepages: { sizeKiB: 4 } }", "domains[0].hugepages.sizeKiB: 2048 (2 MiB pages) or 1048576 (1 GiB pages)"],
    [
      "{ name: a, numa: { nodeset: '0', mode: local } }",
      'domains[0].numa.mode: Invalid option: expected one of "strict"|"preferred"|"interleave"|"restrictive"',
    ],
    // every nested object lists what it takes (read from the schema; disks listed nothing before)
    [
      "{ name: a, disks: [{ target: vda, file: /a, sise: 3 }] }",
      'domains[0].disks[0].sise: unknown field "sise"; did you mean file? Allowed: target, file, pool, volume, device, bus, format, readonly, boot, cache, io, iothread',
    ],
    [
      "{ name: a, cpuPinning: { emulator: '1', cores: 2 } }",
      'domains[0].cpuPinning.cores: unknown field "cores" Allowed: dedicated, vcpus, emulator, iothreads',
    ],
  ])("%s", (domain, want) => {
    expect(errors(domain)).toContain(want);
  });

  test.each([
    [
      "{ name: a, vcpus: 2, memoryMiB: 256, numa: { cells: [{ cpus: '0', memoryMiB: 128 }, { cpus: '0,2', memoryMiB: 100 }] } }",
      [
        "domains[0].numa.cells[1].cpus: vCPU 0 is in cell 0 already: each vCPU in one cell",
        "domains[0].numa.cells[1].cpus: vCPU 2 does not exist: the domain has vCPUs 0-1",
        "domains[0].numa.cells: vCPU 1 in no cell: each vCPU in one cell",
        "domains[0].numa.cells: the cells hold 228 MiB; they must add up to memoryMiB (256)",
      ],
    ],
    [
      "{ name: a, numa: { mode: interleave } }",
      [
        "domains[0].numa: give nodeset (the host nodes of the memory), cells (the guest's NUMA topology), or both",
        "domains[0].numa.mode: mode applies to the host nodes: give nodeset with it",
      ],
    ],
  ])("guest NUMA cells: %s", (domain, want) => {
    expect(errors(domain)).toEqual(want);
  });

  test.each([
    [
      "{ name: a, cpuPinning: { iothreads: ['0'] }, disks: [{ target: sda, file: /a, iothread: 1 }, { target: vdb, file: /b, iothread: 2 }] }",
      [
        "domains[0].disks[0].iothread: an IOThread serves virtio disks only; this disk's bus is sata",
        "domains[0].disks[1].iothread: IOThread 2 does not exist: cpuPinning.iothreads gives 1-1",
      ],
    ],
    [
      "{ name: a, disks: [{ target: vda, file: /a, iothread: 1 }] }",
      ["domains[0].disks[0].iothread: IOThread 1 does not exist: cpuPinning.iothreads gives none"],
    ],
  ])("IOThreads: %s", (domain, want) => {
    expect(errors(domain)).toEqual(want);
  });

  test("valid placement normalises the sets (sorted numbers) and defaults numa's mode to strict", () => {
    const spec = domainSpec({
      name: "a",
      vcpus: 2,
      cpuPinning: { vcpus: ["3,1", "0-1"], emulator: "2" },
      numa: { nodeset: "1,0" },
      hugepages: { sizeKiB: 1048576 },
    });
    expect([spec.cpuPinning, spec.numa, spec.hugepages]).toEqual([
      {
        dedicated: false,
        vcpus: [
          [1, 3],
          [0, 1],
        ],
        emulator: [2],
      },
      { mode: "strict", nodeset: [0, 1] },
      { sizeKiB: 1048576 },
    ]);
  });
});

describe("placeOnHost: the host CPUs dedicated vCPUs get", () => {
  const dedicated = (name: string, vcpus: number, more: Record<string, unknown> = {}) =>
    domainSpec({ name, vcpus, cpuPinning: { dedicated: true }, ...more });

  test("the highest free ones, in spec order; the emulator on the CPUs no dedicated vCPU has", () => {
    const [a, b] = placeOnHost([dedicated("a", 2), dedicated("b", 2)], TWO_NODES, []);
    expect(a.picked).toEqual([[6], [7]]);
    expect(b.picked).toEqual([[4], [5]]);
    const ra = resolvePlacement(dedicated("a", 2), TWO_NODES, a);
    expect([ra.vcpus, ra.emulator, ra.dedicated.value]).toEqual([[[6], [7]], [0, 1, 2, 3], true]);
    expect(ra.dedicated.reason).toBe(
      "the vCPUs pinned one to one to host CPUs 6, 7 (picked); the emulator threads on the host's other CPUs, 0-3; no other domain on the host is pinned to them",
    );
  });

  test("a domain that exists keeps its host CPUs while no one else has them: a domain added before it in the spec moves nothing", () => {
    const [b, a] = placeOnHost([dedicated("b", 2), dedicated("a", 2)], TWO_NODES, [live("a", [[7], [6]], [0])]);
    expect(a.picked).toEqual([[7], [6]]);
    expect(b.picked).toEqual([[4], [5]]);
    // taken by another domain of the spec (pinned there explicitly) or a different vCPU count: picked anew
    const [c, a2] = placeOnHost([domainSpec({ name: "c", cpuPinning: { vcpus: ["7"], emulator: "0" } }), dedicated("a", 2)], TWO_NODES, [
      live("a", [[7], [6]], [0]),
    ]);
    expect(c.picked).toBeUndefined();
    expect(a2.picked).toEqual([[5], [6]]);
    expect(placeOnHost([dedicated("a", 3)], TWO_NODES, [live("a", [[7], [6]], [0])])[0].picked).toEqual([[5], [6], [7]]);
  });

  test("on cores whose other thread nobody is pinned to first (SMT siblings from the profile)", () => {
    const smt: HostProfile = {
      ...DEBIAN12,
      numaNodes: [
        {
          id: 0,
          cpus: [0, 1, 2, 3, 4, 5],
          siblings: [
            [0, 3],
            [1, 4],
            [2, 5],
          ],
        },
      ],
    };
    // CPU 5's sibling 2 is db's: 4 (sibling 1 free) before it
    expect(placeOnHost([dedicated("a", 1)], smt, [live("db", [[2]], [0])])[0].picked).toEqual([[4]]);
  });

  test("on the domain's own NUMA nodes first", () => {
    const [a] = placeOnHost([dedicated("a", 2, { numa: { nodeset: "0" } })], TWO_NODES, []);
    expect(a.picked).toEqual([[2], [3]]);
  });

  test("around what the host's domains pin (vCPUs and emulators), not around unpinned ones", () => {
    const [a] = placeOnHost([dedicated("a", 2)], TWO_NODES, [live("db", [[7]], [0]), live("web", null), live("a", [[6], [5]])]);
    // a's own live pins (a redefinition) do not count against it: it keeps them
    expect(a.picked).toEqual([[6], [5]]);
    // the host's index: db on 7 (vCPU) and 0 (emulator), web floating, a on the CPUs it keeps
    expect(a.usage!.floating).toEqual(["web"]);
    expect(
      [...a.usage!.byCpu].sort(([x], [y]) => x - y).map(([cpu, users]) => `${cpu}:${users.map((u) => `${u.name} ${u.what}`).join(",")}`),
    ).toEqual([
      "0:db emulator threads,a emulator threads",
      "1:a emulator threads",
      "2:a emulator threads",
      "3:a emulator threads",
      "4:a emulator threads",
      "5:a vCPU 1",
      "6:a vCPU 0",
      "7:db vCPU 0",
    ]);
    expect(a.liveRead).toBe(true);
  });

  test("too few free CPUs (one stays for the emulator threads): why, and nothing picked", () => {
    const [a] = placeOnHost([dedicated("a", 8)], TWO_NODES, []);
    expect(a.picked).toEqual({
      error:
        "8 dedicated vCPUs need 8 free host CPUs and one more for the emulator threads; the host has 8, of which 8 no other domain is pinned to",
    });
    // with the emulator pinned by the spec, all eight may go
    const [b] = placeOnHost([dedicated("b", 7, { cpuPinning: { dedicated: true, emulator: "0" } })], TWO_NODES, []);
    expect(b.picked).toEqual([[1], [2], [3], [4], [5], [6], [7]]);
  });

  test("without the host's CPUs nothing is picked, and the domain says why it is not dedicated", () => {
    const [a] = placeOnHost([dedicated("a", 1)], DEBIAN12);
    expect(a.picked).toBeUndefined();
    const r = resolvePlacement(dedicated("a", 1), DEBIAN12, a);
    expect(r.dedicated).toEqual({
      value: false,
      reason:
        "no vCPU is pinned: the host's CPUs are not known: give cpuPinning.vcpus, or plan over a connection (or with a host profile listing numaNodes)",
    });
  });

  test("two domains of the spec pinned to one host CPU: each names the other", () => {
    const specs = [
      domainSpec({ name: "a", cpuPinning: { dedicated: true, vcpus: ["3"], emulator: "0" } }),
      domainSpec({ name: "b", cpuPinning: { dedicated: true, vcpus: ["3"], emulator: "0" } }),
    ];
    const ctx = placeOnHost(specs, TWO_NODES);
    expect(specs.map((s, i) => resolvePlacement(s, TWO_NODES, ctx[i]).dedicated.reason)).toEqual([
      "host CPU 3 (vCPU 0) is also b's vCPU 0",
      "host CPU 3 (vCPU 0) is also a's vCPU 0",
    ]);
  });

  test("huge pages: what a running domain holds counts as free for it; earlier domains of the spec take theirs first", () => {
    const specs = [
      domainSpec({ name: "a", memoryMiB: 1024, hugepages: { sizeKiB: 2048 } }),
      domainSpec({ name: "b", memoryMiB: 512, hugepages: { sizeKiB: 2048 } }),
    ];
    const ctx = placeOnHost(specs, TWO_NODES, [live("a", null, null, { active: true, hugepageKiB: 2048, memoryMiB: 1024 })]);
    expect(ctx.map((c) => c.pages)).toEqual([
      { held: 512, claimedBefore: 0 },
      { held: 0, claimedBefore: 0 },
    ]);
    const stopped = placeOnHost(specs, TWO_NODES, [live("a", null, null, { active: false, hugepageKiB: 2048, memoryMiB: 1024 })]);
    expect(stopped.map((c) => c.pages)).toEqual([
      { held: 0, claimedBefore: 0 },
      { held: 0, claimedBefore: 512 },
    ]);
  });
});

describe("the spec's domains share a host by their hosts: entries (render, check)", () => {
  test("same URIs: neighbours, the second refused; other URIs: not", () => {
    const text = (hostsB: string) => `
domains:
  - { name: a, cpuPinning: { dedicated: true, vcpus: ["3"], emulator: "0" } }
  - { name: b, cpuPinning: { dedicated: true, vcpus: ["3"], emulator: "0" } }
hosts:
  a: qemu+ssh://h1/system
  b: ${hostsB}
`;
    const codes = (hostsB: string) =>
      renderSpec(parseSpecText(text(hostsB)), TWO_NODES).domains.map((d) =>
        d.diagnostics.filter((x) => x.severity === "error").map((x) => x.code),
      );
    expect(codes("qemu+ssh://h1/system")).toEqual([["dedicated-vcpus-not-dedicated"], ["dedicated-vcpus-not-dedicated"]]);
    expect(codes("qemu+ssh://h2/system")).toEqual([[], []]);
  });
});

describe("policies see the host's other domains (check FILE, check --connect)", () => {
  test("two domains pinned to one host CPU with the hint: the dedicated-vcpus policy names the other one", () => {
    const loaded = parseSpecText(`
domains:
  - { name: a, cpuPinning: { vcpus: ["3"], emulator: "0" }, paravirt: { hintDedicated: true } }
  - { name: b, cpuPinning: { vcpus: ["3"], emulator: "0" }, paravirt: { hintDedicated: true } }
`);
    const report = checkSpec(loaded, parsePolicyText(JSON.stringify({ "dedicated-vcpus": "mandatory" })), TWO_NODES);
    expect(report.violations.filter((v) => v.policy === "dedicated-vcpus").map((v) => `${v.domain}: ${v.message}`)).toEqual([
      "a: kvm-hint-dedicated is on but the vCPUs are not dedicated (host CPU 3 (vCPU 0) is also b's vCPU 0): the guest stops PV spinlocks and TLB flush while sharing cores",
      "b: kvm-hint-dedicated is on but the vCPUs are not dedicated (host CPU 3 (vCPU 0) is also a's vCPU 0): the guest stops PV spinlocks and TLB flush while sharing cores",
    ]);
  });
});

describe("kvm-hint-dedicated: its provenance", () => {
  const hint = (domain: Record<string, unknown>, host: HostProfile = TWO_NODES) =>
    renderDomain(domainSpec({ name: "a", ...domain }), host).resolution.features.get("kvm-hint-dedicated")!;
  test("implied by cpuPinning.dedicated, with why the vCPUs are dedicated", () => {
    const h = hint({ cpuPinning: { dedicated: true } });
    expect([h.enabled, h.source, h.requested]).toEqual([true, "implied", true]);
    expect(h.reason).toMatch(/^cpuPinning\.dedicated turns it on: the vCPU pinned to host CPU 7 \(picked\)/);
  });
  test("set by the spec: explicit, and the reason adds why the vCPUs are dedicated", () => {
    const h = hint({ cpuPinning: { vcpus: ["5"], emulator: "0" }, paravirt: { hintDedicated: true } });
    expect([h.source, h.reason]).toEqual([
      "explicit",
      "set on; the vCPU pinned to host CPU 5; the emulator threads on 0; other domains on the host were not read (plan and apply over the connection read them)",
    ]);
  });
  test("set off by the spec: off, whatever the pinning", () => {
    expect(hint({ cpuPinning: { dedicated: true }, paravirt: { hintDedicated: false } }).enabled).toBe(false);
  });
});

describe("reading placement back from libvirt's definitions", () => {
  const domain = (inner: string) =>
    `<domain type='kvm'><name>x</name><memory unit='KiB'>262144</memory><vcpu placement='static'${inner}</domain>`;
  test("pins, the memory policy and the page size into the spec's fields (sets in one spelling)", () => {
    const r = readDomainXml(
      domain(
        `>2</vcpu><cputune><shares>10</shares><vcpupin vcpu='1' cpuset='3,2'/><vcpupin vcpu='0' cpuset='0'/><emulatorpin cpuset='4-5'/></cputune><numatune><memory mode='interleave' nodeset='0,1'/></numatune><memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>`,
      ),
    );
    expect([r.domain.cpuPinning, r.domain.numa, r.domain.hugepages]).toEqual([
      { vcpus: ["0", "2-3"], emulator: "4-5" },
      { mode: "interleave", nodeset: "0-1" },
      { sizeKiB: 1048576 },
    ]);
  });
  test("the guest's NUMA cells (memory in any unit, as MiB), next to the host nodes", () => {
    const r = readDomainXml(
      domain(
        `>2</vcpu><numatune><memory nodeset='1'/></numatune><cpu mode='host-passthrough'><numa><cell id='0' cpus='0' memory='131072' unit='KiB'/><cell id='1' cpus='1' memory='1' unit='GiB'/></numa></cpu>`,
      ),
    );
    expect(r.domain.numa).toEqual({
      mode: "strict",
      nodeset: "1",
      cells: [
        { cpus: "0", memoryMiB: 128 },
        { cpus: "1", memoryMiB: 1024 },
      ],
    });
  });
  test("IOThreads back as their pins (all pinned), the disk's IOThread; a neighbour's IOThread pins", () => {
    const xml = domain(
      `>1</vcpu><iothreads>2</iothreads><cputune><vcpupin vcpu='0' cpuset='1'/><iothreadpin iothread='2' cpuset='3'/><iothreadpin iothread='1' cpuset='0,2'/></cputune>`,
    );
    expect(readDomainXml(xml).domain.cpuPinning).toEqual({ vcpus: ["1"], iothreads: ["0,2", "3"] });
    expect(readNeighbour(xml, "n", false).iothreads).toEqual([[3], [0, 2]]);
    const partial = readDomainXml(domain(`>1</vcpu><iothreads>2</iothreads><cputune><iothreadpin iothread='1' cpuset='0'/></cputune>`));
    expect(partial.domain.cpuPinning).toBeUndefined();
    expect(partial.notes.map((n) => n.message)).toContain(
      "<iothreads>2</iothreads> with IOThreads not pinned: not carried over (the spec gives each IOThread its host CPUs)",
    );
  });
  test("a vCPU without its own pin takes <vcpu cpuset>; without either the pinning is not carried over (a note says so)", () => {
    expect(readDomainXml(domain(` cpuset='6-7'>2</vcpu><cputune><vcpupin vcpu='0' cpuset='1'/></cputune>`)).domain.cpuPinning).toEqual({
      vcpus: ["1", "6-7"],
    });
    const partial = readDomainXml(domain(`>2</vcpu><cputune><vcpupin vcpu='0' cpuset='1'/></cputune>`));
    expect(partial.domain.cpuPinning).toBeUndefined();
    expect(partial.notes.map((n) => n.message)).toContain(
      "<cputune> pins some vCPUs only (the others float): the vCPU pinning is not carried over",
    );
  });
  test("a neighbour: per vCPU its CPUs, the emulator following <vcpu cpuset> as libvirt does, huge pages and memory", () => {
    expect(
      readNeighbour(domain(` cpuset='2-3'>2</vcpu><memoryBacking><hugepages><page size='2048'/></hugepages></memoryBacking>`), "n", true),
    ).toEqual({
      name: "n",
      vcpus: [
        [2, 3],
        [2, 3],
      ],
      emulator: [2, 3],
      from: "live",
      active: true,
      hugepageKiB: 2048,
      memoryMiB: 256,
    });
    expect(readNeighbour(domain(`>2</vcpu>`), "f", false)).toEqual({
      name: "f",
      vcpus: null,
      emulator: null,
      from: "live",
      active: false,
      memoryMiB: 256,
    });
    expect(readNeighbour(domain(` placement='auto' cpuset='1'>1</vcpu>`), "auto", false).vcpus).toBeNull();
  });
});

describe("virsh capabilities: a cell's SMT siblings", () => {
  test("each group of CPUs sharing a core once; single-thread cores listed as none", () => {
    const caps = (siblings: string[]) =>
      `<capabilities><host><topology><cells num='1'><cell id='0'><cpus num='${siblings.length}'>${siblings
        .map((sib, i) => `<cpu id='${i}' socket_id='0' core_id='${i % 2}' siblings='${sib}'/>`)
        .join("")}</cpus></cell></cells></topology></host></capabilities>`;
    expect(parseCapabilities(caps(["0,2", "1,3", "0,2", "1,3"])).numaNodes).toEqual([
      {
        id: 0,
        cpus: [0, 1, 2, 3],
        siblings: [
          [0, 2],
          [1, 3],
        ],
      },
    ]);
    expect(parseCapabilities(caps(["0", "1"])).numaNodes).toEqual([{ id: 0, cpus: [0, 1] }]);
  });
});

describe("virsh freepages", () => {
  test("per node, the free pages of each size", () => {
    expect(parseFreePages("Node 0:\n4KiB: 5346571\n2048KiB: 12\n1048576KiB: 0\n\nNode 1:\n2048KiB: 3\n")).toEqual(
      new Map([
        [
          0,
          new Map([
            [4, 5346571],
            [2048, 12],
            [1048576, 0],
          ]),
        ],
        [1, new Map([[2048, 3]])],
      ]),
    );
    expect(parseFreePages("error\n2048KiB: 3\n")).toEqual(new Map());
  });
});

describe("the rendered definition", () => {
  test("the guest's NUMA cells last in <cpu>, numbered in order; no <numatune> without host nodes", () => {
    const { rendered } = renderDomain(
      domainSpec({
        name: "a",
        vcpus: 3,
        memoryMiB: 300,
        numa: {
          cells: [
            { cpus: "0,2", memoryMiB: 200 },
            { cpus: "1", memoryMiB: 100 },
          ],
        },
      }),
      TWO_NODES,
    );
    expect(rendered.domainXml).toContain(`    <numa>
      <cell id="0" cpus="0,2" memory="200" unit="MiB"/>
      <cell id="1" cpus="1" memory="100" unit="MiB"/>
    </numa>
  </cpu>`);
    expect(rendered.domainXml).not.toContain("numatune");
  });

  test("IOThreads: their count after <vcpu>, their pins after the emulator's, the disk's driver naming one", () => {
    const { rendered } = renderDomain(
      domainSpec({
        name: "a",
        cpuPinning: { vcpus: ["3"], emulator: "0", iothreads: ["0", "1-2"] },
        disks: [{ target: "vda", file: "/a.qcow2", iothread: 2 }],
      }),
      TWO_NODES,
    );
    expect(rendered.domainXml).toContain(`  <vcpu placement="static">1</vcpu>
  <iothreads>2</iothreads>
  <cputune>
    <vcpupin vcpu="0" cpuset="3"/>
    <emulatorpin cpuset="0"/>
    <iothreadpin iothread="1" cpuset="0"/>
    <iothreadpin iothread="2" cpuset="1-2"/>
  </cputune>`);
    expect(rendered.domainXml).toContain(`<driver name="qemu" type="qcow2" iothread="2"/>`);
  });

  test("an IOThread on a vCPU's host CPU: not dedicated; a neighbour's IOThread there: shared", () => {
    const own = resolvePlacement(domainSpec({ name: "a", cpuPinning: { vcpus: ["3"], emulator: "0", iothreads: ["3"] } }), TWO_NODES);
    expect(own.dedicated).toEqual({ value: false, reason: "IOThread 1 may run on host CPU 3, which a vCPU has" });
    const theirs = resolvePlacement(domainSpec({ name: "a", cpuPinning: { vcpus: ["3"], emulator: "0" } }), TWO_NODES, {
      neighbours: [{ name: "db", vcpus: [[5]], emulator: [0], iothreads: [[1], [3]], from: "live" }],
    });
    expect(theirs.dedicated.reason).toBe("host CPU 3 (vCPU 0) is also db's IOThread 2 (on the host)");
  });

  test("<memoryBacking>, <cputune> and <numatune> in libvirt's order around <vcpu>", () => {
    const { rendered } = renderDomain(
      domainSpec({
        name: "a",
        vcpus: 2,
        cpuPinning: { vcpus: ["4", "5-6"], emulator: "0,1" },
        numa: { nodeset: "1" },
        hugepages: { sizeKiB: 2048 },
      }),
      TWO_NODES,
    );
    const xml = rendered.domainXml;
    expect(xml).toContain(
      `  <memory unit="MiB">1024</memory>
  <memoryBacking>
    <hugepages>
      <page size="2048" unit="KiB"/>
    </hugepages>
  </memoryBacking>
  <vcpu placement="static">2</vcpu>
  <cputune>
    <vcpupin vcpu="0" cpuset="4"/>
    <vcpupin vcpu="1" cpuset="5-6"/>
    <emulatorpin cpuset="0-1"/>
  </cputune>
  <numatune>
    <memory mode="strict" nodeset="1"/>
  </numatune>
  <os>`,
    );
    // placement is libvirt's (sched_setaffinity, cgroups, mbind): QEMU's arguments carry none of it
    expect(rendered.qemuArgs.join(" ")).not.toMatch(/cpuset|numa|hugepage|mem-path/);
  });
});
