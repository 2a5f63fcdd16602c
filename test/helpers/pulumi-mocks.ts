import * as pulumi from "@pulumi/pulumi";

/**
 * Pulumi's engine cannot run here (no Pulumi CLI), so these tests use the SDK's
 * own mocks: every registration is recorded, custom resources echo their inputs.
 * This is the only mock in the project.
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
        // a preview leaves outputs the engine would compute (stdout) unknown
        return {
          id: opts.preview ? undefined : `${args.name}-id`,
          state: opts.preview ? args.inputs : { ...args.inputs, stdout: "defined" },
        };
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

/** The Output's underlying promise: rejects when the Output failed (apply callbacks never see that). */
export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
  return (o as unknown as { promise(): Promise<T> }).promise();
}

/** Waits until the registrations of the current turn have reached the mock monitor. */
export const settle = () => new Promise((r) => setTimeout(r, 50));

/** Whether an Output is secret. */
export const isSecret = <T>(o: pulumi.Output<T>): Promise<boolean> => pulumi.isSecret(o);
