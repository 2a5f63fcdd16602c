import * as pulumi from "@pulumi/pulumi";
import type { DomainDiagnostic, FeatureState, ParavirtDomainArgs } from "./args";
import { DOMAIN_OUTPUT_NAMES } from "./domain-outputs";
import { DOMAIN_TYPE } from "./evaluate";

/** The arguments of a Domain: a ParavirtDomain's, without `deploy` (a Domain is always deployed). */
export type DomainArgs = Omit<ParavirtDomainArgs, "deploy">;

/**
 * `kvm-paravirt:index:Domain`: one libvirt domain, served by this package's provider plugin
 * (check resolves it against the host, create and update deploy it, read finds drift and
 * imports). ParavirtDomain creates one as its child.
 */
export class Domain extends pulumi.CustomResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly uuid: pulumi.Output<string>;
  declare readonly state: pulumi.Output<string>;
  declare readonly restartRequired: pulumi.Output<boolean>;
  declare readonly effectiveFeatures: pulumi.Output<Record<string, boolean>>;
  declare readonly features: pulumi.Output<Record<string, FeatureState>>;
  declare readonly diagnostics: pulumi.Output<DomainDiagnostic[]>;
  declare readonly domainXml: pulumi.Output<string>;
  declare readonly qemuArgs: pulumi.Output<string[]>;
  declare readonly liveChanges: pulumi.Output<string[]>;

  constructor(name: string, args: DomainArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(DOMAIN_TYPE, name, { ...args, ...Object.fromEntries(DOMAIN_OUTPUT_NAMES.map((k) => [k, undefined])) }, opts);
  }
}
