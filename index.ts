/**
 * The Pulumi package entry point: at run time it exports only the component (the
 * plugin host and its schema analyzer look here); the rest are types. The core
 * API (resolver, renderers, policies) is `kvm-paravirt/core`.
 */
export { ParavirtDomain } from "./src/pulumi/paravirt-domain";
export { Domain } from "./src/pulumi/domain";
export type { DomainArgs } from "./src/pulumi/domain";
export type { FeatureState, DomainDiagnostic } from "./src/pulumi/paravirt-domain";
export type { ParavirtDomainArgs, CpuArgs, ParavirtArgs, HostVersionsArgs, GuestArgs, Restart } from "./src/pulumi/args";
