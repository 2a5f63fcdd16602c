import { recordedDevices, recordedFeatures } from "../../src/libvirt/metadata";
import { carriedOver, carriedOverXPath, deviceChanges, desiredDevices, deviceIds, deviceTestXPath } from "../../src/libvirt/devices";
import { buildDocument, domainElement, escapeXml, parseDocument, child } from "../../src/libvirt/document";
import { resolveDomain } from "../../src/analyze";
import { renderDomain } from "../../src/render-spec";
import { attrs, kids, tagOf } from "../../src/util/ordered-xml";
import { describeWith } from "../helpers/env";
import { perNodeStylesheet, xsltproc } from "../helpers/xslt";
import { DEBIAN12, domainSpec } from "../helpers/specs";

/** Devices: identities, the changes a plan reports, and the device rules (each fires, and only when it should). */
const spec = (d: Record<string, unknown>) => domainSpec({ name: "d", accel: "tcg", ...d });
const codes = (d: Record<string, unknown>, host = DEBIAN12, access = {}) =>
  resolveDomain(spec(d), host, access)
    .diagnostics.filter((x) => x.severity !== "info")
    .map((x) => `${x.code} ${x.path}`);

/** One of every kind of device libvirt writes, with the edges of each identity (no target dev, no port, no type, an upper-case MAC). */
const LIVE_DEVICES = `<devices>
  <emulator>/usr/bin/qemu-system-x86_64</emulator>
  <disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>
  <disk type='file' device='cdrom'><target bus='sata'/></disk>
  <disk type='file' device='disk'><target dev='vdz' bus='virtio'/><alias name='ua-kpv-extra-3'/></disk>
  <interface type='network'><mac address='52:54:00:AB:CD:EF'/><source network='default'/></interface>
  <interface type='network'><source network='default'/></interface>
  <interface type='network'><source network='lab'/></interface>
  <interface type='bridge'><source bridge='br0'/></interface>
  <interface type='user'><mac address='52:54:00:00:00:01'/></interface>
  <interface><source network='x'/></interface>
  <serial type='pty'><target type='isa-serial' port='0'/></serial>
  <serial type='pty'><target type='isa-serial'/></serial>
  <console type='pty'><target type='serial' port='1'/></console>
  <graphics type='spice' autoport='yes'/>
  <graphics autoport='yes'/>
  <watchdog model='i6300esb'><alias name='ua-kpv-extra-10'/></watchdog>
  <watchdog model='i6300esb'><alias name='ua-other'/></watchdog>
  <memballoon model='virtio'/>
</devices>`;
const LIVE_IDS = [
  [],
  ["disk:vda"],
  [],
  ["extra:3"],
  ["interface:network:default#0", "interface:mac:52:54:00:ab:cd:ef"],
  ["interface:network:default#1"],
  ["interface:network:lab#0"],
  ["interface:bridge:br0#0"],
  ["interface:user:#0", "interface:mac:52:54:00:00:00:01"],
  ["interface::#0"],
  ["serial:0"],
  ["serial:0"],
  ["console:1"],
  ["graphics:spice"],
  ["graphics:"],
  ["extra:10"],
  [],
  [],
];

describe("device identities", () => {
  test("a disk by target, an interface by MAC or by source and order, serial/console by port, graphics by type", () => {
    const ids = desiredDevices(
      spec({
        disks: [{ target: "vda", file: "/a" }],
        nics: [{ network: "default" }, { network: "default" }, { user: true, mac: "52:54:00:AA:00:01" }],
        serialConsole: true,
        graphics: { type: "spice" },
      }),
    ).map((d) => d.id);
    expect(ids).toEqual([
      "disk:vda",
      "interface:network:default#0",
      "interface:network:default#1",
      "interface:mac:52:54:00:aa:00:01",
      "serial:0",
      "console:0",
      "graphics:spice",
    ]);
  });

  test("a live interface answers to its source and order and to its MAC", () => {
    const live = parseDocument(
      "<devices><interface type='network'><mac address='52:54:00:00:00:0A'/><source network='default'/></interface><disk><target dev='vdb'/></disk><controller type='usb'/></devices>",
    );
    expect(deviceIds(kids(live[0]))).toEqual([["interface:network:default#0", "interface:mac:52:54:00:00:00:0a"], ["disk:vdb"], []]);
  });

  test("an empty cdrom has no <source> and is a read-only file disk, as libvirt keeps it (test:///default dumpxml)", () => {
    const [cdrom] = desiredDevices(spec({ disks: [{ target: "sdb", bus: "sata", device: "cdrom" }] }));
    expect(buildDocument([cdrom.node])).toBe(
      `<disk type="file" device="cdrom"><driver name="qemu" type="raw"/><target dev="sdb" bus="sata"/><readonly/></disk>`,
    );
  });

  test("every kind of live device: the identities it answers to, and the ones it does not have", () => {
    expect(deviceIds(kids(parseDocument(LIVE_DEVICES)[0]).filter((n) => tagOf(n) !== "#text"))).toEqual(LIVE_IDS);
  });

  test("the desired devices: which libvirt can hot-plug (disks but IDE and SATA, interfaces) and which wait for a start", () => {
    const got = desiredDevices(
      spec({
        disks: [
          { target: "vda", file: "/a" },
          { target: "sda", file: "/b", bus: "sata" },
          { target: "hdc", file: "/c", bus: "ide", device: "cdrom" },
          { target: "vdb", pool: "p", volume: "v" },
        ],
        nics: [{ bridge: "br0" }],
        serialConsole: true,
        graphics: { type: "vnc" },
        extraDevices: ["<watchdog model='i6300esb'/>", "<domain/>"],
      }),
    ).map((d) => [d.id, d.hotplug, tagOf(d.node), attrs(d.node)["@_type"]]);
    expect(got).toEqual([
      ["disk:vda", true, "disk", "file"],
      ["disk:sda", false, "disk", "file"],
      ["disk:hdc", false, "disk", "file"],
      ["disk:vdb", true, "disk", "volume"],
      ["interface:bridge:br0#0", true, "interface", "bridge"],
      ["serial:0", false, "serial", "pty"],
      ["console:0", false, "console", "pty"],
      ["graphics:vnc", false, "graphics", "vnc"],
      // the invalid extra device (a rule reports it) is not a device
      ["extra:0", false, "watchdog", undefined],
    ]);
    expect(desiredDevices(spec({ graphics: { type: "none" } }))).toEqual([]);
  });

  test("what a replaced device keeps of the live one: its address on the same bus, an interface's MAC unless the spec gives one", () => {
    const one = (xml: string) => parseDocument(xml)[0];
    const tags = (nodes: ReturnType<typeof carriedOver>) => nodes.map((n) => `${tagOf(n)}${JSON.stringify(attrs(n))}`);
    const addr = "<address type='pci' bus='0x04'/>";
    const liveDisk = one(`<disk><target dev='vda' bus='virtio'/>${addr}</disk>`);
    expect(tags(carriedOver(liveDisk, one("<disk><target dev='vda' bus='virtio'/></disk>")))).toEqual([
      'address{"@_type":"pci","@_bus":"0x04"}',
    ]);
    expect(carriedOver(liveDisk, one("<disk><target dev='vda' bus='sata'/></disk>"))).toEqual([]);
    expect(carriedOver(liveDisk, one(`<disk><target dev='vda' bus='virtio'/><address type='pci' bus='0x05'/></disk>`))).toEqual([]);
    const liveNic = one(`<interface type='network'><mac address='52:54:00:00:00:01'/>${addr}</interface>`);
    expect(tags(carriedOver(liveNic, one("<interface type='network'/>")))).toEqual([
      'mac{"@_address":"52:54:00:00:00:01"}',
      'address{"@_type":"pci","@_bus":"0x04"}',
    ]);
    expect(tags(carriedOver(liveNic, one("<interface type='network'><mac address='52:54:00:00:00:02'/></interface>")))).toEqual([
      'address{"@_type":"pci","@_bus":"0x04"}',
    ]);
    // a MAC is an interface's only: a serial port keeps its address, not a <mac> it should not have
    expect(tags(carriedOver(one(`<serial type='pty'><mac address='x'/>${addr}</serial>`), one("<serial type='pty'/>")))).toEqual([
      'address{"@_type":"pci","@_bus":"0x04"}',
    ]);
    // the same in XPath for the XSLT
    expect(carriedOverXPath(one("<disk><target dev='vda' bus='virtio'/></disk>"))).toBe("address[../target/@bus='virtio']");
    expect(carriedOverXPath(one("<disk><target dev='vda'/></disk>"))).toBe("address[../target/@bus='']");
    expect(carriedOverXPath(one("<interface type='network'/>"))).toBe("address | mac");
    expect(carriedOverXPath(one("<interface type='network'><mac address='m'/></interface>"))).toBe("address");
    expect(carriedOverXPath(one("<serial type='pty'/>"))).toBe("address");
    expect(carriedOverXPath(one(`<interface type='network'><mac address='m'/>${addr}</interface>`))).toBeNull();
  });

  test("the owned-device record: identities separated by any white space, none when there is no record", () => {
    const meta = (xml: string) => parseDocument(`<domain><metadata>${xml}</metadata></domain>`)[0];
    expect(recordedDevices(meta("<kpv:paravirt><kpv:devices owned=' disk:vda  serial:0\n\textra:1 '/></kpv:paravirt>"))).toEqual([
      "disk:vda",
      "serial:0",
      "extra:1",
    ]);
    expect(recordedDevices(meta("<kpv:paravirt><kpv:devices/></kpv:paravirt>"))).toEqual([]);
    expect(recordedDevices(meta("<kpv:paravirt/>"))).toEqual([]);
    expect(recordedDevices(parseDocument("<domain/>")[0])).toEqual([]);
  });

  test("the recorded effective features: on and off, none recorded when there is no metadata of ours", () => {
    const doc = (m: string) => parseDocument(`<domain><metadata>${m}</metadata></domain>`)[0];
    expect(recordedFeatures(doc("<kpv:paravirt><kpv:effective on='kvmclock kvm-pv-eoi' off=' kvm-pv-ipi '/></kpv:paravirt>"))).toEqual({
      kvmclock: true,
      "kvm-pv-eoi": true,
      "kvm-pv-ipi": false,
    });
    expect(recordedFeatures(doc("<kpv:paravirt><kpv:effective/></kpv:paravirt>"))).toEqual({});
    expect(recordedFeatures(doc("<other/>"))).toBeNull();
  });

  test("deviceChanges: added, changed (what the spec says differs), removed (owned before), untouched", () => {
    const d = spec({
      disks: [
        { target: "vda", file: "/new.qcow2" },
        { target: "vdb", file: "/b.qcow2" },
      ],
      graphics: { type: "vnc" },
    });
    const live = domainElement(
      parseDocument(
        `<domain><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/old.qcow2'/><target dev='vda' bus='virtio'/></disk>` +
          `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/b.qcow2'/><target dev='vdb' bus='virtio'/><alias name='virtio-disk1'/></disk>` +
          `<disk type='file' device='disk'><source file='/c'/><target dev='vdc' bus='virtio'/></disk><serial type='pty'><target port='0'/></serial></devices></domain>`,
      ),
    );
    expect(deviceChanges(kids(child(live, "devices")), desiredDevices(d), ["disk:vdc", "serial:0", "disk:vdz"])).toEqual([
      { device: "disk:vda", change: "change", hotplug: true },
      { device: "graphics:vnc", change: "add", hotplug: false },
      { device: "disk:vdc", change: "remove", hotplug: true },
      { device: "serial:0", change: "remove", hotplug: false },
    ]);
    // a spec without devices does not manage them
    expect(deviceChanges(kids(child(live, "devices")), [], ["disk:vdc"])).toEqual([]);
  });

  test("a rendered domain records exactly the devices it owns", () => {
    const xml = renderDomain(spec({ disks: [{ target: "vda", file: "/a" }], serialConsole: true }), DEBIAN12).rendered.domainXml;
    expect(xml).toContain('<kpv:devices owned="disk:vda serial:0 console:0"/>');
    expect(renderDomain(spec({}), DEBIAN12).rendered.domainXml).not.toContain("kpv:devices");
  });
});

describe("device rules", () => {
  test("device-target-twice and nic-mac-twice", () => {
    expect(
      codes({
        disks: [
          { target: "vda", file: "/a" },
          { target: "vda", file: "/b" },
        ],
      }),
    ).toContain("device-target-twice disks");
    expect(
      codes({
        disks: [
          { target: "vda", file: "/a" },
          { target: "vdb", file: "/b" },
        ],
      }),
    ).toEqual([]);
    expect(
      codes({
        nics: [
          { user: true, mac: "52:54:00:00:00:01" },
          { user: true, mac: "52:54:00:00:00:01" },
        ],
      }),
    ).toContain("nic-mac-twice nics");
  });

  test("device-boot-order-twice, across disks and NICs", () => {
    expect(codes({ disks: [{ target: "vda", file: "/a", boot: 1 }], nics: [{ user: true, boot: 1 }] })).toContain(
      "device-boot-order-twice disks",
    );
    expect(codes({ disks: [{ target: "vda", file: "/a", boot: 1 }], nics: [{ user: true, boot: 2 }] })).toEqual([]);
  });

  test("device-bus-missing-on-machine: IDE on q35, not on pc", () => {
    expect(codes({ disks: [{ target: "hda", file: "/a" }] })).toContain("device-bus-missing-on-machine disks[0].bus");
    expect(codes({ machine: "pc", disks: [{ target: "hda", file: "/a" }] })).toEqual([]);
  });

  test("network-unknown-on-host and network-inactive-on-host, from the host's networks", () => {
    const host = { ...DEBIAN12, networks: [{ name: "default", active: false }] };
    expect(codes({ nics: [{ network: "lan" }] }, host)).toEqual(["network-unknown-on-host nics[0].network"]);
    expect(codes({ nics: [{ network: "default" }] }, host)).toEqual(["network-inactive-on-host nics[0].network"]);
    expect(codes({ nics: [{ network: "lan" }] })).toEqual([]); // a profile without networks cannot tell
  });

  test("disk-path-missing only where the file system is the host's", () => {
    const d = { disks: [{ target: "vda", file: "/nonexistent/x.qcow2" }] };
    expect(codes(d, DEBIAN12, { pathExists: () => false })).toEqual(["disk-path-missing disks[0].file"]);
    expect(codes(d, DEBIAN12, { pathExists: () => true })).toEqual([]);
    expect(codes(d)).toEqual([]);
  });

  test("guest-lacks-virtio for a guest kernel before 2.6.25", () => {
    expect(codes({ guest: { kernel: "2.6.18" }, disks: [{ target: "vda", file: "/a" }] })).toContain("guest-lacks-virtio guest.kernel");
    expect(codes({ guest: { kernel: "2.6.18" }, disks: [{ target: "sda", file: "/a" }], nics: [{ user: true, model: "e1000" }] })).toEqual(
      [],
    );
    expect(codes({ guest: { kernel: "5.10" }, disks: [{ target: "vda", file: "/a" }] })).toEqual([]);
  });
});

describeWith(["xsltproc"], "device identities in XPath (the XSLT's) match the merge's, as xsltproc evaluates them", () => {
  test("each identity selects exactly the live devices that answer to it", () => {
    // libvirt never writes a <graphics> or <interface> without a type: there alone the two readings differ
    const ids = [...new Set(LIVE_IDS.flat())].filter((id) => id !== "graphics:" && id !== "interface::#0");
    const xsl = perNodeStylesheet(
      "/devices/*",
      ids.map((id) => `<xsl:if test="${escapeXml(deviceTestXPath(id))}">${id} </xsl:if>`).join(""),
    );
    const r = xsltproc(xsl, LIVE_DEVICES);
    expect(r.stderr).toBe("");
    const byXPath = r.stdout
      .split("\n")
      .slice(0, -1)
      .map((l) => l.split(" ").filter(Boolean).sort());
    expect(byXPath).toEqual(LIVE_IDS.map((x) => x.filter((id) => ids.includes(id)).sort()));
  });
});
