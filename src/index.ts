/**
 * kvm-paravirt/core: the public API, an explicit list (nothing is exported by accident).
 * In data-flow order: the catalog, the input, resolve, the libvirt plan, the checks, the
 * renderers and render-spec; then policies, reading live definitions, and the pure
 * evaluation behind the Pulumi component.
 */
export {
  FEATURES,
  FEATURE_BY_SPEC_KEY,
  FEATURE_BY_QEMU_NAME,
  SPEC_KEYS,
  SPEC_KEY_NAMES,
  featureByKey,
  specValue,
  type FeatureKind,
  type FeatureRow,
  type LibvirtControl,
  type LibvirtEffect,
  type SpecKey,
} from "./catalog/features";
export { MACHINE_PATTERN_HELP, isMachineSyntax, resolveMachine, type MachineFamily, type ResolvedMachine } from "./catalog/machines";
export { bySeverity, hasErrors, type Diagnostic, type Severity } from "./diagnostics";
export {
  ASSUMED_HOST,
  HostProfileSchema,
  hostHasEnforceCpuid,
  kvmSupportedSet,
  parseHostProfileJson,
  type HostProfile,
  type ProfileParse,
} from "./host/profile";
export {
  ACCELS,
  CPU_CHECKS,
  CPU_MODES,
  DEFAULT_MODEL,
  IDENT_RE,
  IRQCHIPS,
  NAME_HELP,
  PASSTHROUGH_MODELS,
  cpuSchema,
  defaultsSchema,
  domainName,
  domainSchema,
  guestSchema,
  hostSchema,
  hostUris,
  kernelRelease,
  libvirtUri,
  normalizeDomain,
  paravirtSchema,
  pvFeatureSpelled,
  releaseVersion,
  xmlInvalidChar,
  type Accel,
  type CpuMode,
  type DomainDefaults,
  type DomainInput,
  type DomainSpec,
  type Irqchip,
  type ParavirtSettings,
} from "./input/schema";
export { LIMITS, formatPath, mergeDefaults, parseSpecText, validateSpecObject, type LoadedDomain, type LoadedSpec } from "./input/load";
export {
  effectiveHost,
  resolveFeatures,
  type DropCause,
  type FeatureResolution,
  type FeatureSource,
  type Resolved,
} from "./resolve/resolve";
export { needsCustomArgv, planLibvirt, type FallbackWhy, type LibvirtPlan, type Planned } from "./libvirt/plan";
export { RULES, RULE_BY_CODE, type Rule } from "./checks/rules";
export { resolveDomain, type Resolution } from "./analyze";
export { QEMU_NS, domainNode, renderDomainXml } from "./libvirt/domain-xml";
export { KPV_NS } from "./libvirt/metadata";
export { cpuProperties, qemuOptValue, renderQemuArgs } from "./render/qemu-args";
export {
  featureReport,
  renderDomain,
  renderSpec,
  specHasErrors,
  type FeatureReport,
  type RenderedDomain,
  type RenderedSpec,
} from "./render-spec";
export {
  ENFORCEMENTS,
  POLICIES,
  POLICY_BY_NAME,
  checkAll,
  checkPolicy,
  configSchemaOf,
  violationText,
  type Enforcement,
  type Finding,
  type JsonSchema,
  type PolicyDef,
  type PolicySetting,
  type Violation,
} from "./policy/policies";
export { PolicyConfigError, parsePolicyText } from "./policy/config";
export { checkSpec, checkHost, type AuditReport } from "./policy/audit";
export { readDomainXml, type ReadDomain } from "./libvirt/read-domain";
export { evaluateArgs, PARAVIRT_DOMAIN_TYPE, type Evaluation, type PlainArgs } from "./pulumi/evaluate";
