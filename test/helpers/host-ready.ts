import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { virshOn } from "./virsh";

/**
 * What the example domains expect of a host besides its CPU: the disk images and ISOs they
 * name, and libvirt's `default` network started. The oracles that start them under KVM make
 * both true with the suite's own files, never the host's.
 */
const IMAGES = "/var/lib/libvirt/images";

interface DiskLike {
  target: string;
  device?: string;
  file?: string;
}

/** The image files withTestImages created in this test file: the only ones removeTestImages removes. */
const created = new Set<string>();

/**
 * The domain with each file disk on an image of the test's own (created here, named after
 * `prefix`: give it this run's tag, test/helpers/run-tag.ts, so that another run at the same
 * time never writes or removes the same file).
 */
export function withTestImages(domain: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const disks = domain.disks as DiskLike[] | undefined;
  if (!disks?.length) return domain;
  fs.mkdirSync(IMAGES, { recursive: true });
  return {
    ...domain,
    disks: disks.map((d) => {
      if (d.file === undefined) return d;
      const cdrom = d.device === "cdrom";
      const file = path.join(IMAGES, `${prefix}-${d.target}.${cdrom ? "iso" : "qcow2"}`);
      created.add(file);
      if (cdrom) fs.writeFileSync(file, Buffer.alloc(65536));
      else if (spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", file, "32M"]).status !== 0)
        throw new Error(`qemu-img could not create ${file}`);
      return { ...d, file };
    }),
  };
}

/** Removes what withTestImages created for `prefix`, by exact path (never what a listing of the folder finds). */
export function removeTestImages(prefix: string): void {
  for (const file of created)
    if (path.basename(file).startsWith(`${prefix}-`)) {
      fs.rmSync(file, { force: true });
      created.delete(file);
    }
}

/**
 * Starts a libvirt network the host defines but has not started (a fresh libvirtd leaves
 * `default` inactive). Returns why it could not, or null when it is active.
 */
export function ensureNetworkActive(uri: string, name = "default"): string | null {
  const info = virshOn(uri, "net-info", "--network", name);
  if (info.status !== 0) return `the host defines no network ${name}: ${info.stderr.trim()}`;
  if (/^Active:\s+yes/m.test(info.stdout)) return null;
  const start = virshOn(uri, "net-start", "--network", name);
  return start.status === 0 ? null : `virsh net-start ${name} failed: ${start.stderr.trim()}`;
}
