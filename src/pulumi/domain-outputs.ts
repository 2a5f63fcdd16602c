/** Outputs a Domain has beyond its inputs: the one list (the schema, the Domain class and the provider's outputs). */
export const DOMAIN_OUTPUTS = {
  uuid: { type: "string", description: "The domain's UUID: every libvirt call addresses the domain by it." },
  state: { type: "string", description: "libvirt's state of the domain after the last change (shut off, running, paused, ...)." },
  restartRequired: {
    type: "boolean",
    description: "The domain runs with its previous definition: the change takes effect when it is restarted (restart: if-needed does it).",
  },
  effectiveFeatures: {
    type: "object",
    additionalProperties: { type: "boolean" },
    description: "The effective value of every PV property of the vCPU, by QEMU property name, as the host's QEMU realizes it.",
  },
  features: {
    type: "object",
    additionalProperties: { $ref: "#/types/kvm-paravirt:index:FeatureState" },
    description: "Every PV property the host's QEMU has: effective value, source and reason.",
  },
  diagnostics: {
    type: "array",
    items: { $ref: "#/types/kvm-paravirt:index:DomainDiagnostic" },
    description: "Warnings and notes about the arguments (errors fail the check).",
  },
  domainXml: { type: "string", description: "The rendered libvirt domain XML (the live definition keeps what the spec does not own)." },
  qemuArgs: { type: "array", items: { type: "string" }, description: "The equivalent QEMU arguments." },
  liveChanges: {
    type: "array",
    items: { type: "string" },
    description:
      "What the last refresh found the live definition to differ in from these inputs (src/live/compare.ts, as kvm-paravirt plan decides it: a setting the spec owns as written, our metadata missing or drifted, a declared device): not empty, the next update redefines the domain; empty after a deploy.",
  },
} satisfies Record<string, Record<string, unknown>>;

export type DomainOutputName = keyof typeof DOMAIN_OUTPUTS;
export const DOMAIN_OUTPUT_NAMES = Object.keys(DOMAIN_OUTPUTS) as DomainOutputName[];
