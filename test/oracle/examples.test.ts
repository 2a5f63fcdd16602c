import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { mergeDefaults } from "../../src/input/load";
import { describeWith } from "../helpers/env";
import { checkWithLibvirt, checkWithQemu, hostProfile, leftoverDomains, withHostQuirk } from "../helpers/oracle";
import { removeTestImages, withTestImages } from "../helpers/host-ready";
import { exampleSpecs } from "../helpers/specs";
import { RUN_TAG } from "../helpers/run-tag";

/**
 * Every domain of every example spec, through both oracles on the real host.
 * (Passthrough-like CPUs get arch-capabilities off: a quirk of these nested test
 * machines, see test/helpers/oracle-configs.ts.)
 */
const domains = exampleSpecs().flatMap((file) => {
  const doc = parse(fs.readFileSync(file, "utf8")) as { defaults?: Record<string, unknown>; domains: Record<string, unknown>[] };
  return doc.domains.map((d) => {
    const { name, ...rest } = withHostQuirk(mergeDefaults(doc.defaults ?? {}, d));
    return [`${path.basename(file)}: ${String(name)}`, { id: `example-${String(name)}`, domain: rest }] as const;
  });
});

/**
 * The disk files an example names are the suite's own images (created and removed here, this run's:
 * another run at the same time has its own); its NIC's network is started by the global setup.
 */
const IMAGE_PREFIX = `kpv-example-img-${RUN_TAG}`;

describeWith(["kvm", "qemu", "libvirt"], "examples realize what the resolver predicts", () => {
  afterAll(() => removeTestImages(IMAGE_PREFIX));
  test.each(domains)("QEMU: %s", async (_n, config) => {
    expect(await checkWithQemu(config, await hostProfile())).toBe("compared");
  });
  test.each(domains)("libvirt: %s", async (_n, config) => {
    const domain = withTestImages(config.domain, `${IMAGE_PREFIX}-${config.id}`);
    expect(await checkWithLibvirt({ ...config, domain }, await hostProfile(), `kpv-${config.id}`)).toBe("compared");
  });
  test("no example domain is left defined", async () => {
    expect(await leftoverDomains()).toEqual([]);
  });
});
