import * as pulumi from "@pulumi/pulumi";
import { ParavirtDomain } from "../src/pulumi/paravirt-domain";
import { renderDomain } from "../src/render-spec";
import { validateSpecObject } from "../src/input/load";

/**
 * One side of the Pulumi bench, in its own process (setMocks is process-wide):
 * `component` registers N ParavirtDomain, `bare` N plain ComponentResources each
 * with one custom-resource child holding the same XML and connection. Preview mode. Prints elapsed ms.
 */
const N = Number(process.argv[3] ?? 1000);
const mode = process.argv[2];
const expected = 2 * N;
let seen = 0;
let t0 = 0n;
let done: () => void;
const finished = new Promise<void>((r) => (done = r));

pulumi.runtime.setMocks(
  {
    newResource(a) {
      if (++seen === expected) done();
      return { id: undefined, state: a.inputs };
    },
    call: (a) => a.inputs,
  },
  "bench",
  "bench",
  true,
);

const argsFor = (i: number) => ({
  vcpus: 1 + (i % 8),
  irqchip: (["kernel", "split"] as const)[i % 2],
  paravirt: { pvIpi: i % 3 === 0, pvUnhalt: i % 2 === 0 },
});

class Define extends pulumi.CustomResource {
  constructor(name: string, props: Record<string, string>, opts: pulumi.CustomResourceOptions) {
    super("bench:index:Define", name, props, opts);
  }
}

class Bare extends pulumi.ComponentResource {
  constructor(name: string, xml: string) {
    super("bench:index:Bare", name, {}, {});
    new Define(name, { xml, connection: "qemu:///system", name }, { parent: this });
    this.registerOutputs({});
  }
}

async function main() {
  // the bare side gets the same XML, rendered before the clock starts
  const xmls =
    mode === "bare"
      ? Array.from(
          { length: N },
          (_, i) => renderDomain(validateSpecObject({ domains: [{ name: `vm-${i}`, ...argsFor(i) }] }).domains[0].spec!).rendered.domainXml,
        )
      : [];
  t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    if (mode === "component") new ParavirtDomain(`vm-${i}`, argsFor(i));
    else new Bare(`vm-${i}`, xmls[i]);
  }
  await finished;
  process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));
  process.exit(0);
}
void main();
