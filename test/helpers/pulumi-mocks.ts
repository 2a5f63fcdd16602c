import * as pulumi from "@pulumi/pulumi";
import { DOMAIN_TYPE, evaluateArgs, type PlainArgs } from "../../src/pulumi/evaluate";

/**
 * Pulumi's engine cannot run here (no Pulumi CLI), so these tests use the SDK's
 * own mocks: every registration is recorded, custom resources echo their inputs; a
 * Domain's outputs are what its provider's check computes (src/pulumi/domain-provider.ts,
 * proven over gRPC in test/oracle/provider.test.ts), here without a host (its hostProfile,
 * or the assumed one). This is the only mock in the project.
 */
export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  parent?: string;
}

export function installMocks(opts: { preview?: boolean } = {}): Registered[] {
  const registered: Registered[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        // a preview leaves outputs the provider computes unknown
        if (opts.preview) return { id: undefined, state: args.inputs };
        if (args.type !== DOMAIN_TYPE) return { id: `${args.name}-id`, state: args.inputs };
        const ev = evaluateArgs(String(args.inputs.name ?? args.name), args.inputs as PlainArgs);
        const effectiveFeatures = Object.fromEntries(Object.entries(ev.features).map(([k, f]) => [k, f.enabled]));
        const state = { ...args.inputs, uuid: "6b707600-0000-4000-8000-00000000d0d0", state: "shut off", restartRequired: false };
        return { id: state.uuid, state: { ...state, effectiveFeatures, features: ev.features, diagnostics: ev.diagnostics } };
      },
      call: (args) => args.inputs,
    },
    "kvm-paravirt-test",
    "test",
    opts.preview ?? false,
  );
  return registered;
}

/** The value of an Output (undefined when unknown). */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T | undefined> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/** Waits until the registrations of the current turn have reached the mock monitor. */
export const settle = () => new Promise((r) => setTimeout(r, 50));
