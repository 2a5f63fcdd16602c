/**
 * The dependency rule (npm test runs it): no import cycles, type-only imports included,
 * and the layers import one way:
 *   util, catalog, host, spec -> resolve -> libvirt -> checks -> analyze -> render, qemu args
 *   -> pipeline -> policy, live, pulumi, cli
 * Only live, policy (its host audit), pulumi and cli reach the system (src/adapters).
 */
const layer = (from, forbidden, comment) => ({
  name: `${from.replace(/[^a-z]/g, "")}-layer`,
  comment,
  severity: "error",
  from: { path: `^src/${from}` },
  to: { path: forbidden.map((f) => `^src/${f}`) },
});

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "import cycles, type-only imports included", from: {}, to: { circular: true } },
    layer(
      "resolve/",
      ["libvirt/", "checks/", "analyze", "render/", "pipeline", "policy/", "live/", "pulumi/", "cli/", "adapters/"],
      "the resolver knows QEMU only",
    ),
    layer(
      "libvirt/",
      ["checks/", "analyze", "render/", "pipeline", "policy/", "live/", "pulumi/", "cli/", "adapters/"],
      "the libvirt document model and plan come before checks and rendering",
    ),
    layer(
      "checks/",
      ["analyze", "render/", "pipeline", "policy/", "live/", "pulumi/", "cli/", "adapters/"],
      "checks run on the resolution and the libvirt plan",
    ),
    layer("render/", ["pipeline", "policy/", "live/", "pulumi/", "cli/", "adapters/"], "renderers are pure"),
    layer(
      "(catalog|spec|util)/",
      ["resolve/", "libvirt/", "checks/", "analyze", "render/", "pipeline", "policy/", "live/", "pulumi/", "cli/", "adapters/"],
      "facts and input come first",
    ),
    layer("(analyze|pipeline)", ["policy/", "live/", "pulumi/", "cli/", "adapters/"], "the pure pipeline"),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^(dist|node_modules|test|bench|examples|policy|program)/" },
  },
};
