import { DOMAIN_OUTPUTS, DOMAIN_OUTPUT_NAMES } from "./domain-outputs";
import type * as pulumi from "@pulumi/pulumi";
import type * as provider from "@pulumi/pulumi/provider";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { redactSecrets } from "../util/secrets";
import { ParavirtDomain } from "./paravirt-domain";
import {
  DOMAIN_TYPE,
  checkDomain,
  createDomain,
  deleteDomain,
  diffDomain,
  factsOverConnection,
  readDomain,
  updateDomain,
  type HostFacts,
} from "./domain-provider";

/**
 * The package's provider plugin: the `ParavirtDomain` component (schema inferred from the
 * TypeScript sources by Pulumi's analyzer, constructed in-process) and the `Domain` custom
 * resource, whose schema is derived from the component's arguments (one source: args.ts).
 */

type Json = Record<string, unknown>;
interface Schema {
  resources: Record<string, Json & { inputProperties: Record<string, Json>; properties: Record<string, Json> }>;
  [k: string]: unknown;
}

/** The Domain resource's schema, from the component's: the same arguments (without deploy), plus restart and the outputs above. */
function withDomainResource(schemaText: string): string {
  const schema = JSON.parse(schemaText) as Schema;
  const component = schema.resources["kvm-paravirt:index:ParavirtDomain"];
  const inputProperties: Record<string, Json> = {};
  for (const [k, v] of Object.entries(component.inputProperties)) if (k !== "deploy") inputProperties[k] = v;
  const properties: Record<string, Json> = {};
  for (const [k, v] of Object.entries(inputProperties)) {
    const { optional: _optional, plain: _plain, ...rest } = v;
    properties[k] = rest;
  }
  Object.assign(properties, DOMAIN_OUTPUTS);
  schema.resources[DOMAIN_TYPE] = {
    type: "object",
    description:
      "One libvirt domain whose CPU and PV features are declared, resolved against the host (facts read over the connection, or hostProfile) and deployed: " +
      "an existing definition keeps everything it does not own (UUID, devices, metadata). Import ID: <domain name or UUID>@<libvirt URI>.",
    inputProperties,
    requiredInputs: [],
    properties,
    required: ["name", ...DOMAIN_OUTPUT_NAMES],
  };
  return JSON.stringify(schema);
}

/** The engine stores and prints error messages: a URI's password never reaches it. */
async function redacted<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    // the cause stays out: its message holds the password
    // eslint-disable-next-line preserve-caught-error
    throw new Error(redactSecrets(e instanceof Error ? e.message : String(e)));
  }
}

export class KvmParavirtProvider implements provider.Provider {
  readonly version: string;
  private readonly components: ComponentProvider;
  private schemaText?: string;

  constructor(
    packageDir: string,
    private readonly facts: HostFacts = factsOverConnection,
  ) {
    this.components = new ComponentProvider({ components: [ParavirtDomain], dirname: packageDir, name: "kvm-paravirt" });
    this.version = this.components.version;
  }

  async getSchema(): Promise<string> {
    return (this.schemaText ??= withDomainResource(await this.components.getSchema()));
  }

  construct(
    name: string,
    type: string,
    inputs: pulumi.Inputs,
    options: pulumi.ComponentResourceOptions,
  ): Promise<provider.ConstructResult> {
    return this.components.construct(name, type, inputs, options);
  }

  private static only(urn: string): void {
    const type = urn.split("::")[2]?.split("$").pop();
    if (type !== DOMAIN_TYPE) throw new Error(`unknown resource type ${type ?? urn}: this provider manages ${DOMAIN_TYPE}`);
  }

  check(urn: string, _olds: Json, news: Json): Promise<provider.CheckResult> {
    KvmParavirtProvider.only(urn);
    return redacted(checkDomain(urn, news, this.facts));
  }

  diff(_id: string, urn: string, olds: Json, news: Json): Promise<provider.DiffResult> {
    KvmParavirtProvider.only(urn);
    return redacted(Promise.resolve(diffDomain(olds, news)));
  }

  create(urn: string, inputs: Json): Promise<provider.CreateResult> {
    KvmParavirtProvider.only(urn);
    return redacted(createDomain(inputs, this.facts));
  }

  read(id: string, urn: string, props?: Json): Promise<provider.ReadResult> {
    KvmParavirtProvider.only(urn);
    return redacted(readDomain(id, props ?? {}, this.facts));
  }

  update(_id: string, urn: string, olds: Json, news: Json): Promise<provider.UpdateResult> {
    KvmParavirtProvider.only(urn);
    return redacted(updateDomain(olds, news, this.facts));
  }

  delete(_id: string, urn: string, props: Json): Promise<void> {
    KvmParavirtProvider.only(urn);
    return redacted(deleteDomain(props));
  }
}
