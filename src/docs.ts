import { catalogMarkdown } from "./cli/format";
import { RULES } from "./checks/rules";
import { FEATURES, versionFacts, type VersionFactName } from "./catalog/features";
import { HYPERV_FEATURES, HYPERV_VALUES, WINDOWS_PROFILE, type HypervLibvirt } from "./catalog/hyperv";

const FACT_LABEL: Record<VersionFactName, string> = {
  qemuSince: "QEMU",
  hostKernelMin: "Host kernel",
  guestKernelMin: "Guest kernel",
  guestKernelMax: "Last guest kernel",
  libvirtSince: "libvirt element",
};

/** Markdown-escape a source line for a list item (its backtick spans are kept). */
const mdText = (s: string) => s.replace(/[\\<>*|]/g, (c) => `\\${c}`);

/** Every non-null version fact of every row with the source line it comes from. */
function sourcesMarkdown(): string {
  return FEATURES.map((f) =>
    [
      `- \`${f.specKey}\``,
      ...versionFacts(f)
        .filter((v) => v.value !== null)
        .map((v) => `  - ${FACT_LABEL[v.fact]} ${v.value}: ${mdText(v.source ?? "no source")}`),
    ].join("\n"),
  ).join("\n");
}

const libvirtOf = (l: HypervLibvirt | null): string => {
  if (!l) return "none (-global fallback)";
  if (l.kind === "timer") return `\`<clock><timer name='${l.name}'>\` ${l.since}`;
  if (l.kind === "panic") return `\`<devices><panic model='hyperv'>\` ${l.since}`;
  const [top, sub] = l.path;
  return `${sub ? `\`<hyperv><${top}><${sub}>\`` : `\`<hyperv><${top}>\``} ${l.since}`;
};
const outcome = (u: { outcome: string; message?: string }) => (u.message ? `${u.outcome}: ${mdText(u.message)}` : u.outcome);

/** The Hyper-V catalog as a Markdown table and its sources. */
function hypervMarkdown(): string {
  const rows = HYPERV_FEATURES.map(
    (r) =>
      `| \`${r.key}\` | \`${r.qemu}\`${r.aliases.length ? ` (${r.aliases.map((a) => `\`${a}\``).join(", ")})` : ""} | ${r.qemuSince} | ${r.hostKernelMin ?? "(oldest read)"}${r.intelOnly ? ", Intel VMX only" : ""} | ${r.requires.map((k) => `\`${k}\``).join(", ") || (r.key === "synic" ? "`vpindex` (machines from 3.1)" : "")} | ${libvirtOf(r.libvirt)} | ${outcome(r.withoutHostHyperv)} | ${outcome(r.underTcg)} | ${mdText(r.description)} |`,
  );
  return [
    "| Spec key | QEMU property | QEMU | Host kernel | Requires (QEMU refuses without) | libvirt element | On a KVM without Hyper-V (QEMU 7.2, measured) | Under TCG (QEMU 7.2, measured) | What it does |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    `Values: \`spinlocks\` (\`${HYPERV_VALUES.spinlocks.qemu}\`, ${HYPERV_VALUES.spinlocks.min}-${HYPERV_VALUES.spinlocks.max}, \`<spinlocks retries>\` ${HYPERV_VALUES.spinlocks.libvirtSince}), \`vendorId\` (\`${HYPERV_VALUES.vendorId.qemu}\`, at most ${HYPERV_VALUES.vendorId.maxLength} characters, \`<vendor_id value>\` ${HYPERV_VALUES.vendorId.libvirtSince}), \`noNonarchCoresharing\` (\`${HYPERV_VALUES.noNonarchCoresharing.qemu}\`: on, off or auto, QEMU ${HYPERV_VALUES.noNonarchCoresharing.qemuSince}, no libvirt element: -global), \`mode: passthrough\` (\`${HYPERV_VALUES.passthrough.qemu}\`, QEMU ${HYPERV_VALUES.passthrough.qemuSince}, \`<hyperv mode='passthrough'>\` ${HYPERV_VALUES.passthrough.libvirtSince}).`,
    "",
    "### The Windows profile (`guest: { os: windows }`)",
    "",
    "Each flag the spec leaves unset and the host's KVM and QEMU offer (and what it needs is on); nothing on a KVM without Hyper-V, under TCG or in passthrough mode:",
    "",
    ...WINDOWS_PROFILE.on.map((x) => `- on: \`${x.key}\`: ${mdText(x.why)}`),
    `- spinlocks ${WINDOWS_PROFILE.spinlocks.value}: ${mdText(WINDOWS_PROFILE.spinlocks.why)}`,
    ...WINDOWS_PROFILE.off.map((x) => `- left out: \`${x.key}\`: ${mdText(x.why)}`),
    "",
    `Sources of the profile: ${mdText(WINDOWS_PROFILE.sources)}.`,
    "",
    "Sources:",
    "",
    ...HYPERV_FEATURES.map((r) => `- \`${r.key}\`: ${mdText(r.sources)}`),
    ...Object.entries(HYPERV_VALUES).map(([k, v]) => `- \`${k}\`: ${mdText(v.sources)}`),
  ].join("\n");
}

/** docs/features.md, generated from the catalog and the rules (npm run gen:docs; a test keeps it current). */
export function featuresDoc(): string {
  const rules = [
    "| Code | Severity | Summary |",
    "| --- | --- | --- |",
    ...RULES.map((r) => `| \`${r.code}\` | ${r.severity} | ${r.summary.replace(/\|/g, "\\|")} |`),
  ].join("\n");
  return `# PV features and rules

Generated from \`src/catalog/features.ts\` and \`src/resolve/rules.ts\` by \`npm run gen:docs\`; do not edit by hand.

## Features

Spec keys go under \`paravirt:\`; \`true\` / \`false\` sets the QEMU property, absent inherits QEMU's default.
\`hidden: true\` is \`kvm=off\`. "-global fallback" means libvirt has no working element, so the setting is written as
\`<qemu:commandline>\` \`-global x86_64-cpu.<property>=on|off\` and libvirt marks the domain tainted (custom-argv).

${catalogMarkdown()}

## Sources

Where each version fact above comes from: the project and version read, the file and line or symbol that
shows it, and the older version that lacks it (\`sources\` in \`src/catalog/features.ts\`; a unit test pins every
fact to its source). A source that starts with UNCONFIRMED names a fact the stored sources could not settle.

${sourcesMarkdown()}

## Hyper-V enlightenments

Spec keys go under \`hyperv:\` (\`src/catalog/hyperv.ts\`); each flag is on, off or inherited (off), as QEMU's
\`hv-*\` CPU flags are. What the guest gets is what its CPUID has (QEMU hands it to KVM with \`KVM_SET_CPUID2\`):
QEMU builds the Hyper-V leaves only under KVM, and only when the host's KVM has Hyper-V at all (\`KVM_CAP_HYPERV\`);
there QEMU checks each flag against what KVM offers and against the flags it requires, and refuses to start
otherwise. On a KVM without Hyper-V (a kernel built without \`CONFIG_KVM_HYPERV\`) QEMU checks nothing: most flags
start and the guest gets none of them, while QMP still reads them on.

${hypervMarkdown()}

## Rules

Every diagnostic has one of these stable codes (spec validation adds \`spec-*\` codes).

${rules}
`;
}
