import { spawnSync } from "node:child_process";
import { modelDefinesX2apic } from "../../src/catalog/cpu-models";
import { qemuBinary } from "../../src/system/qemu";
import { realizeVcpu } from "../helpers/qemu";
import { describeWith } from "../helpers/env";

/**
 * The named-model facts the resolver uses where QEMU's KVM defaults do not decide
 * (src/catalog/cpu-models.ts), asked of the host's own QEMU for every model it lists: on
 * pc-i440fx-1.7, whose compat removes x2apic from the KVM defaults, a model realizes x2apic
 * exactly when its own definition has it. (arch-capabilities off: some nested hosts abort
 * setting MSR 0x10a otherwise; it does not touch x2apic.)
 */
function listedModels(): string[] {
  const out = spawnSync(qemuBinary(), ["-cpu", "help"], { encoding: "utf8" }).stdout;
  const names = [...out.matchAll(/^x86 +(\S+)/gm)].map((m) => m[1]);
  return [...new Set(names)].filter((n) => !["host", "max", "base"].includes(n)).sort();
}

const hasOldMachine = (): boolean => /^pc-i440fx-1\.7 /m.test(spawnSync(qemuBinary(), ["-machine", "help"], { encoding: "utf8" }).stdout);

describeWith(["kvm", "qemu"], "named CPU models against the host's QEMU", () => {
  const models = listedModels();
  // a QEMU without the 1.x machine types (removed upstream) never applies the row: nothing to measure
  const measure = hasOldMachine() ? test : test.skip;

  test("QEMU lists the models (more than 50)", () => {
    expect(models.length).toBeGreaterThan(50);
  });

  measure(
    "on pc-i440fx-1.7 under KVM, x2apic is realized exactly for the models whose definition has it (X2APIC_MODEL_FAMILIES)",
    async () => {
      const wrong: string[] = [];
      for (const model of models) {
        const args = ["-accel", "kvm", "-machine", "pc-i440fx-1.7", "-cpu", `${model},arch-capabilities=off`, "-m", "64"];
        const got = (await realizeVcpu(args, ["x2apic"])).properties.x2apic;
        if (got !== modelDefinesX2apic(model)) wrong.push(`${model}: realized ${got}, catalog ${modelDefinesX2apic(model)}`);
      }
      expect(wrong).toEqual([]);
      // both answers occur, so the comparison means something
      expect(new Set(models.map(modelDefinesX2apic))).toEqual(new Set([true, false]));
    },
  );
});
