import { deviceChanges, desiredDevices, deviceIds } from "../../src/libvirt/devices";
import { domainElement, parseDocument, child } from "../../src/libvirt/document";
import { resolveDomain } from "../../src/analyze";
import { validateSpecObject } from "../../src/input/load";
import { renderDomain } from "../../src/render-spec";
import { kids } from "../../src/util/ordered-xml";
import { DEBIAN12 } from "../helpers/specs";

/** Devices: identities, the changes a plan reports, and the device rules (each fires, and only when it should). */
const spec = (d: Record<string, unknown>) => {
  const l = validateSpecObject({ domains: [{ name: "d", accel: "tcg", ...d }] }).domains[0];
  if (!l.spec) throw new Error(JSON.stringify(l.diagnostics));
  return l.spec;
};
const codes = (d: Record<string, unknown>, host = DEBIAN12, access = {}) =>
  resolveDomain(spec(d), host, access)
    .diagnostics.filter((x) => x.severity !== "info")
    .map((x) => `${x.code} ${x.path}`);

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
