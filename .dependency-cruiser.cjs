/**
 * The dependency rule (npm test runs it): no import cycles, type-only imports included,
 * and the layers import one way:
 *   util, catalog, host, input -> resolve -> libvirt -> checks -> analyze -> render, qemu args
 *   -> render-spec -> policy, live, pulumi, cli
 * Only live, policy (its host audit), pulumi and cli reach the system (src/system).
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
      ["libvirt/", "checks/", "analyze", "render/", "render-spec", "policy/", "live/", "pulumi/", "cli/", "system/"],
      "the resolver knows QEMU only",
    ),
    layer(
      "libvirt/",
      ["checks/", "analyze", "render/", "render-spec", "policy/", "live/", "pulumi/", "cli/", "system/"],
      "the libvirt document model, its plan and what writes, reads and merges a domain document come before checks and rendering",
    ),
    layer(
      "checks/",
      ["analyze", "render/", "render-spec", "policy/", "live/", "pulumi/", "cli/", "system/"],
      "checks run on the resolution and the libvirt plan",
    ),
    layer("render/", ["render-spec", "policy/", "live/", "pulumi/", "cli/", "system/"], "renderers are pure"),
    layer(
      "(catalog|input|util)/",
      ["resolve/", "libvirt/", "checks/", "analyze", "render/", "render-spec", "policy/", "live/", "pulumi/", "cli/", "system/"],
      "facts and input come first",
    ),
    {
      name: "system-edges",
      comment: "only the edges (live hosts, the host audit, Pulumi, the CLI) spawn processes or open sockets",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(system|live|policy/audit|pulumi|cli)" },
      to: { path: "^src/system/" },
    },
    layer("(analyze|render-spec)", ["policy/", "live/", "pulumi/", "cli/", "system/"], "the pure pipeline"),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^(dist|node_modules|test|bench|examples|policy|program)/" },
  },
};
