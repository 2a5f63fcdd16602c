import * as pulumi from "@pulumi/pulumi";
import type { DomainDiagnostic, FeatureState, ParavirtDomainArgs } from "./args";
import { Domain } from "./domain";
import { evaluateArgs, PARAVIRT_DOMAIN_TYPE, uriHasCredentials, type Evaluation, type PlainArgs } from "./evaluate";

/**
 * ParavirtDomain: one libvirt domain with declared PV features, resolved and
 * rendered by the core before anything is deployed, then deployed by a child
 * `kvm-paravirt:index:Domain` (this package's provider: resolved again against the
 * host's facts read over the connection, merged into the live definition, defined).
 */

export { PARAVIRT_DOMAIN_TYPE };

export type { DomainDiagnostic, FeatureState } from "./args";

/** True when a value holds no Output or Promise anywhere (so it can be checked right away). */
function isPlain(v: unknown): boolean {
  if (v === null || typeof v !== "object") return true;
  if (pulumi.Output.isInstance(v) || v instanceof Promise) return false;
  return Object.values(v as Record<string, unknown>).every(isPlain);
}

function errorText(ev: Evaluation): string | null {
  const errors = ev.diagnostics.filter((d) => d.severity === "error");
  if (!errors.length) return null;
  return `invalid ParavirtDomain arguments:\n${errors.map((e) => `  ${e.path || "(args)"}: [${e.code}] ${e.message}`).join("\n")}`;
}

/** The connection as the component records it: secret when it carries a password, qemu:///system when absent. */
function secretConnection(connection: pulumi.Input<string> | undefined): pulumi.Input<string> {
  if (connection === undefined) return "qemu:///system";
  if (typeof connection === "string") return uriHasCredentials(connection) ? pulumi.secret(connection) : connection;
  return pulumi
    .output(connection)
    .apply((uri): pulumi.Output<string> => (uriHasCredentials(uri) ? pulumi.secret(uri) : pulumi.output(uri)));
}

export class ParavirtDomain extends pulumi.ComponentResource {
  /** The libvirt domain name. */
  public readonly domainName!: pulumi.Output<string>;
  /** The rendered libvirt domain XML. */
  public readonly domainXml!: pulumi.Output<string>;
  /** An XSLT stylesheet that applies these PV settings to any libvirt domain XML: feed it to pulumi-libvirt's (or a terraform-provider-libvirt SDK's) `xml.xslt`, with deploy: false. */
  public readonly xslt!: pulumi.Output<string>;
  /** The equivalent QEMU arguments (-accel, -machine, -cpu, -smp, -m). */
  public readonly qemuArgs!: pulumi.Output<string[]>;
  /** Every PV property the host's QEMU has: effective value, source and reason. */
  public readonly features!: pulumi.Output<Record<string, FeatureState>>;
  /** Warnings and notes about the arguments (errors stop the deployment). */
  public readonly diagnostics!: pulumi.Output<DomainDiagnostic[]>;
  /** True when the last change was defined while the domain was running: it takes effect after a restart. */
  public readonly restartRequired!: pulumi.Output<boolean>;

  constructor(name: string, args: ParavirtDomainArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    // a connection URI with a password is secret from the start: in the component's own
    // recorded inputs (what policy packs validate and the state stores) as in its child's
    const connection = secretConnection(args.connection);
    super(PARAVIRT_DOMAIN_TYPE, name, args.connection === undefined ? args : { ...args, connection }, opts);
    if (args.deploy !== undefined && typeof args.deploy !== "boolean")
      throw new pulumi.ResourceError(
        "invalid ParavirtDomain arguments:\n  deploy: [spec-invalid-value] deploy must be a plain true or false (it decides whether the domain is defined at all, so it cannot wait for an Output)",
        this,
        true,
      );

    const checked = (ev: Evaluation): Evaluation => {
      const msg = errorText(ev);
      if (msg) throw new pulumi.ResourceError(msg, this, true);
      for (const w of ev.diagnostics.filter((d) => d.severity === "warning")) pulumi.log.warn(`${w.path}: [${w.code}] ${w.message}`, this);
      return ev;
    };
    // what an Output carries: plain data only (the SDK walks it), stylesheets included
    const outputsOf = (ev: Evaluation): Outputs => ({
      name: ev.name,
      domainXml: ev.domainXml,
      xslt: ev.xslt,
      qemuArgs: ev.qemuArgs,
      features: ev.features,
      diagnostics: ev.diagnostics,
    });
    // Plain arguments are checked now, before any child exists, and their results stay plain
    // values (cheaper than Output chains); arguments that arrive as Outputs are checked when
    // they resolve (not during a preview with unknowns).
    type Outputs = Omit<Evaluation, "resolution">;
    const field = <K extends keyof Outputs>(k: K): pulumi.Input<Outputs[K]> => (plain ? plain[k] : lifted!.apply((e) => e[k]));
    const plain: Outputs | null = isPlain(args) ? checked(evaluateArgs(name, args as PlainArgs)) : null;
    const lifted = plain ? null : pulumi.output(args).apply((a) => outputsOf(checked(evaluateArgs(name, a as PlainArgs))));

    let restartRequired: pulumi.Output<boolean> = pulumi.output(false);
    let deployed: Domain | undefined;
    if (args.deploy !== false) {
      const { deploy: _deploy, ...domainArgs } = args;
      // a renamed or moved domain is another Domain: the provider deletes it, then creates the new one
      deployed = new Domain(name, { ...domainArgs, name: field("name"), connection }, { parent: this });
      restartRequired = deployed.restartRequired;
    }

    // Each Output costs the SDK several tracked promises: the properties are created on
    // first use, and the engine is sent the plain values where they are known.
    const properties = {
      domainName: "name",
      domainXml: "domainXml",
      xslt: "xslt",
      qemuArgs: "qemuArgs",
      features: "features",
      diagnostics: "diagnostics",
    } as const;
    for (const [prop, key] of Object.entries(properties)) {
      let cached: pulumi.Output<unknown> | undefined;
      // what the guest gets is what the Domain resolved against the host; without a deployment, the local evaluation
      const source = (): pulumi.Input<unknown> => (deployed && (key === "features" || key === "diagnostics") ? deployed[key] : field(key));
      Object.defineProperty(this, prop, { enumerable: true, get: () => (cached ??= pulumi.output(source())) });
    }
    this.restartRequired = restartRequired;
    // xslt is rendered on first use (the property), so it is not among the registered outputs
    this.registerOutputs({
      ...Object.fromEntries(
        Object.entries(properties)
          .filter(([prop]) => prop !== "xslt")
          .map(([prop, key]) => [prop, deployed && (key === "features" || key === "diagnostics") ? deployed[key] : field(key)]),
      ),
      restartRequired,
    });
  }
}
