/** kvm-paravirt: the pure core (catalog, spec, resolver, renderers) and its adapters. */
export * from "./catalog/features";
export * from "./catalog/machines";
export { RULES, RULE_BY_CODE, type Rule } from "./checks/rules";
export * from "./diagnostics";
export * from "./host/profile";
export * from "./input/schema";
export * from "./input/load";
export * from "./resolve/resolve";
export * from "./libvirt/plan";
export { resolveDomain, type Resolution } from "./analyze";
export * from "./render/domain-xml";
export * from "./render/qemu-args";
export * from "./pipeline";
export * from "./policy/policies";
export * from "./policy/config";
export { checkSpec, checkHost, type AuditReport } from "./policy/audit";
export { readDomainXml, type ReadDomain } from "./live/read-domain";
export { evaluateArgs, PARAVIRT_DOMAIN_TYPE, type Evaluation, type PlainArgs } from "./pulumi/evaluate";
