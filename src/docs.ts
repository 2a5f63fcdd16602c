import { catalogMarkdown } from "./cli/format";
import { RULES } from "./checks/rules";
import { FEATURES, versionFacts, type VersionFactName } from "./catalog/features";

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

## Rules

Every diagnostic has one of these stable codes (spec validation adds \`spec-*\` codes).

${rules}
`;
}
