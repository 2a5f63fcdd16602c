import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Domain, ParavirtDomain } from "kvm-paravirt";

// The host profile is what `kvm-paravirt probe --json` wrote on the target host: with it the
// preview fails for a feature the host lacks, instead of the VM start.
const hostProfile = fs.readFileSync(path.join(__dirname, "../host-profiles/debian12-qemu7.2.json"), "utf8");
const connection = new pulumi.Config().get("connection") ?? "test:///default";

const web = new ParavirtDomain("web-ts", {
  vcpus: 4,
  machine: "q35",
  cpu: { mode: "custom", model: "qemu64" },
  paravirt: { pvUnhalt: true, pvIpi: true, pvTlbFlush: true, asyncpfInt: true },
  hostProfile,
  connection,
});

const batch = new ParavirtDomain("batch-ts", {
  vcpus: 16,
  irqchip: "split",
  x2apic: true,
  hostProfile,
  connection,
});

export const webFeatures = web.features;
export const webQemuArgs = web.qemuArgs;
export const batchMsiExtDestId = batch.features.apply((f) => f["kvm-msi-ext-dest-id"]);
export const restartRequired = { web: web.restartRequired, batch: batch.restartRequired };

// The custom resource on its own (what ParavirtDomain deploys through): its preview diff is per feature
const db = new Domain("db-ts", {
  vcpus: 8,
  // dedicated by the platform's host isolation (a warning: the hint is the user's promise); cpuPinning
  // would have the tool pin and check them (examples/dedicated)
  dedicatedVcpus: true,
  cpu: { mode: "host-passthrough" },
  paravirt: { hintDedicated: true, pollControl: true },
  restart: "if-needed",
  hostProfile,
  connection,
});
export const dbFeatures = db.effectiveFeatures;

// A complete VM (the same as examples/vm/vm.yaml): root disk from an image, seed cdrom, NIC,
// serial console, VNC on localhost; started after the define. Create the images first (see vm.yaml).
const vm = new ParavirtDomain("web-vm", {
  vcpus: 2,
  memoryMiB: 2048,
  cpu: { mode: "host-passthrough" },
  paravirt: { pvUnhalt: true, pvIpi: true },
  disks: [
    { target: "vda", file: "/var/lib/libvirt/images/web-1.qcow2", boot: 1, cache: "none", io: "native" },
    { target: "sda", device: "cdrom", file: "/var/lib/libvirt/images/web-1-seed.iso" },
  ],
  nics: [{ network: "default" }],
  serialConsole: true,
  graphics: { type: "vnc", listen: "127.0.0.1" },
  runState: "running",
  autostart: true,
  hostProfile,
  connection,
});
export const vmXml = vm.domainXml;
