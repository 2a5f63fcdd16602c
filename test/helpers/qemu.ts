import { startPausedQemu } from "../../src/system/qemu";
import { readVcpuProperties } from "../../src/system/qmp";

/** Starts QEMU paused with `args`, reads the given vCPU properties, stops it. */
export async function realizeVcpu(
  args: readonly string[],
  properties: readonly string[],
): Promise<{ properties: Record<string, boolean>; stderr: string }> {
  const q = await startPausedQemu(args);
  try {
    const props = await readVcpuProperties((c, a) => q.qmp.execute(c, a), properties);
    return { properties: props, stderr: q.stderr() };
  } finally {
    await q.stop();
  }
}
