import { catalogMarkdown } from "./cli/format";
import { RULES } from "./checks/rules";

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

## Rules

Every diagnostic has one of these stable codes (spec validation adds \`spec-*\` codes).

${rules}
`;
}
