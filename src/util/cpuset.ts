/**
 * CPU and NUMA node sets in libvirt's syntax (virBitmapParse): comma-separated items, each a
 * number, a range "N-M", or "^N" taking a number out of what came before ("0-3,^2" is 0,1,3).
 * One reader and one writer, for the spec, the host facts and the definitions read back.
 */

/** The highest CPU or node number accepted: libvirt's older CPU mask length (1024 bits) is 1023; 4095 covers current hosts. */
const CPUSET_MAX = 4095;
export const CPUSET_HELP = 'a set such as "2", "2-3", "0-7,^4" or "1,3" (numbers 0-4095; ranges N-M; ^N excludes)';

/** The sorted members of a set, or a string saying what is wrong with it. */
export function parseCpuset(text: string): number[] | string {
  if (text.length === 0) return "is empty";
  if (text.length > 4096) return "is longer than 4096 characters";
  const members = new Set<number>();
  for (const item of text.split(",")) {
    const m = /^(\^)?(\d{1,4})(?:-(\d{1,4}))?$/.exec(item);
    if (!m) return `has ${JSON.stringify(item)}, which is not N, N-M or ^N`;
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    if (to > CPUSET_MAX) return `names ${to}, above ${CPUSET_MAX}`;
    if (m[1] && m[3] !== undefined) return `has ${JSON.stringify(item)}: ^ takes one number, not a range`;
    if (to < from) return `has the range ${item}, which runs backwards`;
    for (let n = from; n <= to; n++) {
      if (m[1]) members.delete(n);
      else members.add(n);
    }
  }
  if (members.size === 0) return "names no number";
  return [...members].sort((a, b) => a - b);
}

/** A set as libvirt writes it (virBitmapFormat): every run of two or more as a range ("0-1,5"). */
export function formatCpuset(members: Iterable<number>): string {
  const sorted = [...new Set(members)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(",");
}
