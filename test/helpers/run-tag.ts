import { randomUUID } from "node:crypto";

/**
 * This run's own names. Two runs of the oracles at once on one host (two checkouts: CI and a
 * developer, or a developer's two) share the libvirtds, /var/lib/libvirt/images and /tmp: a
 * suite that names its domains, UUIDs or files the same in every run drops or redefines the
 * other run's while it uses them. Each suite builds every name it creates from RUN_TAG and
 * removes exactly those names afterwards, never what a prefix or a host listing finds.
 *
 * A module per test file (Jest's registry): each file of a run has a tag of its own.
 */
export const RUN_TAG = randomUUID().slice(0, 8);

/**
 * A fixed UUID of a test (its first 24 hex digits kept, so that it still reads as the
 * test's), made this run's: the last group is RUN_TAG and the fixed UUID's last four digits.
 */
export function runUuid(fixed: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(fixed)) throw new Error(`not a UUID: ${fixed}`);
  return `${fixed.slice(0, 24)}${RUN_TAG}${fixed.slice(-4)}`;
}

/** `s` as a regular expression source that matches exactly `s`. */
export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
