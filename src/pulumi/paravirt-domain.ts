import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { Diagnostic } from "../diagnostics";
import { HostProfileSchema, type HostProfile } from "../host/profile";
import { renderDomain, type FeatureReport } from "../pipeline";
import { validateSpecObject } from "../spec/load";
import type { ParavirtDomainArgs } from "./args";
import { DEFINE_SCRIPT, UNDEFINE_SCRIPT } from "./deploy-scripts";

/**
 * ParavirtDomain: one libvirt domain with declared PV features, resolved and
 * rendered by the core before anything is deployed, then defined on the libvirt
 * connection by a child `command.local.Command` running `virsh` (the rendered
 * XML goes on stdin; the name and URI in environment variables).
 */

export const PARAVIRT_DOMAIN_TYPE = "kvm-paravirt:index:ParavirtDomain";

/** The effective value of one PV property, why it has it. */
export interface FeatureState {
  /** the QOM property value of the realized vCPU (for kvm: false = KVM signature hidden) */
  enabled: boolean;
  /** default, explicit, host-passthrough, implied or dropped */
  source: string;
  /** why */
  reason: string;
}

/** A diagnostic about the arguments, with a stable code. */
export interface DomainDiagnostic {
  /** error, warning or info */
  severity: string;
  /** stable code, e.g. msi-ext-dest-id-needs-split-irqchip */
  code: string;
  message: string;
  /** the argument it concerns, e.g. paravirt.pvIpi */
  path: string;
}

export interface Evaluation {
  name: string;
  domainXml: string;
  qemuArgs: string[];
  features: Record<string, FeatureReport>;
  diagnostics: Diagnostic[];
}

const ARG_KEYS = ["vcpus", "memoryMiB", "machine", "accel", "cpu", "irqchip", "x2apic", "paravirt", "host", "guest"] as const;

/** A libvirt URI carrying a password (user:password@ or a password= parameter). */
export const uriHasCredentials = (uri: string): boolean => /\/\/[^/@]*:[^/@]*@/.test(uri) || /[?&](password|passwd)=/i.test(uri);

function parseHostProfile(json: string | undefined): HostProfile | undefined | Diagnostic {
  if (json === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return { severity: "error", code: "host-profile-invalid", message: `hostProfile is not valid JSON (${(e as Error).message}); pass the output of kvm-paravirt probe --json`, path: "hostProfile" };
  }
  const p = HostProfileSchema.safeParse(raw);
  if (!p.success) {
    const i = p.error.issues[0];
    return { severity: "error", code: "host-profile-invalid", message: `hostProfile.${i.path.join(".")}: ${i.message}`, path: `hostProfile.${i.path.join(".")}` };
  }
  return { ...p.data, source: p.data.source === "assumed" ? "file" : (p.data.source ?? "file") };
}

/**
 * The pure evaluation behind the component (exported for tests and the policy pack):
 * args -> the spec's domain -> resolve -> render, with diagnostic paths relative to the args.
 */
export function evaluateArgs(resourceName: string, args: pulumi.Unwrap<ParavirtDomainArgs>): Evaluation {
  const domain: Record<string, unknown> = { name: args.name ?? resourceName };
  for (const k of ARG_KEYS) if (args[k] !== undefined && args[k] !== null) domain[k] = args[k];
  const host = parseHostProfile(args.hostProfile ?? undefined);
  const loaded = validateSpecObject({ domains: [domain] });
  const d = loaded.domains[0];
  const strip = (x: Diagnostic): Diagnostic => ({ ...x, path: x.path.replace(/^domains\[0\]\.?/, "") });
  const pre: Diagnostic[] = [...loaded.diagnostics, ...d.diagnostics].map(strip);
  if (host && "severity" in host) pre.push(host);
  if (!d.spec || pre.some((x) => x.severity === "error"))
    return { name: String(domain.name), domainXml: "", qemuArgs: [], features: {}, diagnostics: pre };
  const { rendered } = renderDomain(d.spec, host as HostProfile | undefined);
  return { name: d.spec.name, domainXml: rendered.domainXml, qemuArgs: rendered.qemuArgs, features: rendered.features, diagnostics: [...pre, ...rendered.diagnostics] };
}

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

export class ParavirtDomain extends pulumi.ComponentResource {
  /** The libvirt domain name. */
  public readonly domainName!: pulumi.Output<string>;
  /** The rendered libvirt domain XML. */
  public readonly domainXml!: pulumi.Output<string>;
  /** The equivalent QEMU arguments (-accel, -machine, -cpu, -smp, -m). */
  public readonly qemuArgs!: pulumi.Output<string[]>;
  /** Every PV property the host's QEMU has: effective value, source and reason. */
  public readonly features!: pulumi.Output<Record<string, FeatureState>>;
  /** Warnings and notes about the arguments (errors stop the deployment). */
  public readonly diagnostics!: pulumi.Output<DomainDiagnostic[]>;
  /** True when the last change was defined while the domain was running: it takes effect after a restart. */
  public readonly restartRequired!: pulumi.Output<boolean>;

  constructor(name: string, args: ParavirtDomainArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(PARAVIRT_DOMAIN_TYPE, name, {}, opts);

    const checked = (ev: Evaluation): Evaluation => {
      const msg = errorText(ev);
      if (msg) throw new pulumi.ResourceError(msg, this, true);
      for (const w of ev.diagnostics.filter((d) => d.severity === "warning")) pulumi.log.warn(`${w.path}: [${w.code}] ${w.message}`, this);
      return ev;
    };
    // Plain arguments are checked now, before any child exists; arguments that arrive as
    // Outputs are checked when they resolve (not during a preview with unknowns).
    const evaluation: pulumi.Output<Evaluation> = isPlain(args)
      ? pulumi.output(checked(evaluateArgs(name, args as pulumi.Unwrap<ParavirtDomainArgs>)))
      : pulumi.output(args).apply((plain) => checked(evaluateArgs(name, plain)));

    const connection =
      typeof args.connection === "string" || args.connection === undefined
        ? uriHasCredentials(args.connection ?? "") ? pulumi.secret(args.connection!) : (args.connection ?? "qemu:///system")
        : pulumi.output(args.connection).apply((uri): pulumi.Output<string> => (uriHasCredentials(uri) ? pulumi.secret(uri) : pulumi.output(uri)));
    let restartRequired: pulumi.Output<boolean> = pulumi.output(false);
    if (args.deploy !== false) {
      const define = new command.local.Command(
        `${name}-define`,
        {
          create: DEFINE_SCRIPT,
          update: DEFINE_SCRIPT,
          delete: UNDEFINE_SCRIPT,
          stdin: evaluation.domainXml,
          environment: { KVM_PARAVIRT_URI: connection, KVM_PARAVIRT_DOMAIN: evaluation.name },
          addPreviousOutputInEnv: false,
        },
        // a renamed or moved domain is undefined first, then defined anew
        { parent: this, replaceOnChanges: ["environment"], deleteBeforeReplace: true },
      );
      restartRequired = define.stdout.apply((out) => /restart-required/.test(out ?? ""));
    }

    this.domainName = evaluation.name;
    this.domainXml = evaluation.domainXml;
    this.qemuArgs = evaluation.qemuArgs;
    this.features = evaluation.features;
    this.diagnostics = evaluation.diagnostics;
    this.restartRequired = restartRequired;
    this.registerOutputs({
      domainName: this.domainName,
      domainXml: this.domainXml,
      qemuArgs: this.qemuArgs,
      features: this.features,
      diagnostics: this.diagnostics,
      restartRequired: this.restartRequired,
    });
  }
}
