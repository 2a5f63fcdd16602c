import { XMLBuilder, XMLParser } from "fast-xml-parser";
import { FEATURE_BY_QEMU_NAME } from "../catalog/features";
import { KPV_NS, QEMU_NS } from "../render/domain-xml";
import { attrs, kids, tagOf, type XNode } from "../util/ordered-xml";

/**
 * Applying a rendered definition to an existing domain: only the parts the spec
 * owns are replaced (domain type, memory, vCPU count, machine type, the PV
 * features and ioapic, the CPU model, the kvmclock timer, our QEMU-namespace
 * arguments and our metadata). UUID, devices, other features, CPU topology,
 * other timers, other metadata and other QEMU arguments stay as they were.
 * A real XML parser and builder in document-order mode do the work.
 */

const opts = {
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  preserveOrder: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
} as const;
const parser = new XMLParser(opts);
const builder = new XMLBuilder({ ...opts, format: true, indentBy: "  ", suppressEmptyNode: true, processEntities: true });

const find = (list: XNode[], tag: string) => list.find((c) => tagOf(c) === tag);
const withKids = (n: XNode, children: XNode[]): XNode => ({ [tagOf(n)]: children, ...(n[":@"] ? { ":@": n[":@"] } : {}) });

const OWNED_FEATURES = new Set(["apic", "pvspinlock", "kvm", "ioapic"]);
const CPU_OWNED = new Set(["model", "feature", "vendor"]);

function domainNode(xml: string): XNode {
  const doc = parser.parse(xml) as XNode[];
  const d = doc.find((n) => tagOf(n) === "domain");
  if (!d) throw new Error("not a libvirt domain definition (no <domain> element)");
  return d;
}

/** Is this -global/-machine value one of ours (a catalog PV property or the irqchip switch)? */
function ownedArg(flag: string, value: string): boolean {
  if (flag === "-global") {
    const m = /^[\w.-]*x86_64-cpu\.([\w-]+)=/.exec(value);
    return Boolean(m && FEATURE_BY_QEMU_NAME.has(m[1]));
  }
  return flag === "-machine" && /^kernel[-_]irqchip=/.test(value);
}

function argValues(cmdline: XNode | undefined): string[] {
  return cmdline
    ? kids(cmdline)
        .filter((c) => tagOf(c) === "qemu:arg")
        .map((c) => attrs(c)["@_value"] ?? "")
    : [];
}

function foreignArgs(values: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < values.length; i++) {
    if (i + 1 < values.length && ownedArg(values[i], values[i + 1])) {
      i++;
      continue;
    }
    out.push(values[i]);
  }
  return out;
}

/** The live definition with the spec-owned parts taken from the rendered one. */
export function mergeDefinition(liveXml: string, desiredXml: string): string {
  const live = domainNode(liveXml);
  const want = domainNode(desiredXml);
  const wk = kids(want);
  const w = (tag: string) => find(wk, tag);
  const out: XNode[] = [];
  const seen = new Set<string>();

  for (const c of kids(live)) {
    const tag = tagOf(c);
    seen.add(tag);
    switch (tag) {
      case "memory":
      case "vcpu":
        out.push(w(tag) ? withKids(c, kids(w(tag)!)) : c);
        if (tag === "memory" && w(tag)) out[out.length - 1] = w(tag)!; // units as rendered (MiB)
        break;
      case "currentMemory":
        break; // libvirt sets it to the new memory
      case "os": {
        const type = find(kids(w("os")!), "type");
        out.push(
          withKids(
            c,
            kids(c).map((o) => (tagOf(o) === "type" && type ? { ...o, ":@": { ...attrs(o), "@_machine": attrs(type)["@_machine"] } } : o)),
          ),
        );
        break;
      }
      case "features": {
        const mine = kids(w("features")).filter((f) => OWNED_FEATURES.has(tagOf(f)));
        out.push(withKids(c, [...kids(c).filter((f) => !OWNED_FEATURES.has(tagOf(f))), ...mine]));
        break;
      }
      case "cpu": {
        const desired = w("cpu");
        // a topology written for another vCPU count would make libvirt refuse the definition
        const countChanged = JSON.stringify(find(kids(live), "vcpu")?.vcpu) !== JSON.stringify(w("vcpu")?.vcpu);
        const keep = kids(c).filter((x) => !CPU_OWNED.has(tagOf(x)) && !(countChanged && tagOf(x) === "topology"));
        out.push(desired ? withKids(desired, [...kids(desired), ...keep]) : c);
        break;
      }
      case "clock": {
        const isKvmclock = (t: XNode) => tagOf(t) === "timer" && attrs(t)["@_name"] === "kvmclock";
        const mine = kids(w("clock")).filter(isKvmclock);
        out.push(withKids(c, [...kids(c).filter((t) => !isKvmclock(t)), ...mine]));
        break;
      }
      case "metadata": {
        const mine = kids(w("metadata"));
        out.push(withKids(c, [...kids(c).filter((m) => attrs(m)["@_xmlns:kpv"] !== KPV_NS && !tagOf(m).startsWith("kpv:")), ...mine]));
        break;
      }
      case "qemu:commandline": {
        const values = [...foreignArgs(argValues(c)), ...argValues(w("qemu:commandline"))];
        if (values.length) out.push({ "qemu:commandline": values.map((v) => ({ "qemu:arg": [], ":@": { "@_value": v } })) });
        break;
      }
      default:
        out.push(c);
    }
  }
  // parts the live definition lacks
  for (const tag of ["metadata", "features", "cpu", "clock", "qemu:commandline"]) if (!seen.has(tag) && w(tag)) out.push(w(tag)!);

  const rootAttrs: Record<string, string> = { ...attrs(live), "@_type": attrs(want)["@_type"] };
  if (out.some((c) => tagOf(c) === "qemu:commandline")) rootAttrs["@_xmlns:qemu"] = QEMU_NS;
  return (builder.build([{ domain: out, ":@": rootAttrs }]) as string).trimStart();
}
