import { FEATURES } from "../catalog/features";
import type { Diagnostic } from "../diagnostics";
import type { HostProfile } from "../host/profile";
import type { RenderedDomain } from "../render-spec";

/** Plain-text rendering of CLI results (tables padded to the widest cell). */

export function table(rows: string[][], indent = "  "): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n");
}

export function formatDiagnostics(ds: readonly Diagnostic[], indent = "  "): string {
  if (ds.length === 0) return `${indent}no diagnostics`;
  return ds.map((d) => `${indent}${d.severity.padEnd(7)} ${d.code}  ${d.path}\n${indent}        ${d.message}`).join("\n");
}

export function formatDomain(d: RenderedDomain, opts: { xml: boolean; args: boolean }): string {
  const out: string[] = [`domain ${d.name}`];
  const names = Object.keys(d.features);
  if (names.length) {
    out.push(
      table([
        ["FEATURE", "VALUE", "SOURCE", "REASON"],
        ...names.map((n) => [n, d.features[n].enabled ? "on" : "off", d.features[n].source, d.features[n].reason]),
      ]),
    );
  }
  out.push("  diagnostics:", formatDiagnostics(d.diagnostics, "    "));
  if (opts.args && d.qemuArgs.length) out.push("  qemu args:", `    ${d.qemuArgs.join(" ")}`);
  if (opts.xml && d.domainXml) out.push("  domain XML:", d.domainXml.replace(/^/gm, "    ").trimEnd());
  return out.join("\n");
}

export function formatProfile(p: HostProfile): string {
  const supported = new Set(p.kvm?.supported ?? []);
  const rows = [
    ["QEMU", p.qemu],
    ["libvirt", p.libvirt ?? "unknown"],
    ["kernel", p.kernel ?? "unknown"],
    ["/dev/kvm", p.kvm ? (p.kvm.available ? "usable" : "missing or not accessible") : "unknown"],
    ["enforce-cpuid capability", p.kvm?.enforceCpuid === undefined ? "unknown" : p.kvm.enforceCpuid ? "yes" : "no"],
    ["host-model CPU", p.hostModel ?? "unknown"],
    [
      "CPU models",
      p.cpuModels ? `${p.cpuModels.filter((m) => m.usable).length} of ${p.cpuModels.length} usable (virsh domcapabilities)` : "unknown",
    ],
    [
      "machine aliases",
      (p.machines ?? [])
        .filter((m) => m.alias)
        .map((m) => `${m.alias}=${m.name}`)
        .join(", ") || "unknown",
    ],
  ];
  const feats = FEATURES.filter((f) => f.kind === "kvm-bit").map((f) => [
    f.qemu,
    p.kvm?.supported ? (supported.has(f.qemu) ? "offered by KVM" : "not offered") : "unknown",
  ]);
  return [table(rows, ""), "", "KVM PV features (query-cpu-model-expansion of host):", table(feats)].join("\n");
}

/** The catalog as a Markdown table (docs/features.md is generated from this). */
export function catalogMarkdown(): string {
  const head = [
    "Spec key",
    "QEMU property (aliases)",
    "CPUID",
    "KVM constant",
    "QEMU",
    "Host kernel",
    "Guest kernel",
    "Named-model default",
    "libvirt element (since)",
    "Description",
  ];
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const rows = FEATURES.map((f) => {
    const lc = f.libvirt;
    const element = lc
      ? `\`<${lc.element}${
          lc.match
            ? Object.entries(lc.match)
                .map(([k, v]) => ` ${k}='${v}'`)
                .join("")
            : ""
        } ${lc.attr}=…>\` (${lc.since})${
          lc.effect.true === "noop" || lc.effect.false === "noop"
            ? `; no-op for ${lc.effect.true === "noop" ? lc.values.true : lc.values.false}`
            : ""
        }`
      : "none: `-global` fallback";
    return [
      `\`${f.specKey}\``,
      `\`${f.qemu}\`${f.aliases.length ? ` (${f.aliases.map((a) => `\`${a}\``).join(", ")})` : ""}`,
      f.cpuid ? `${f.cpuid.register} ${f.cpuid.bits.join("+")}` : "—",
      f.kvmConstants.map((c) => `\`${c}\``).join(", "),
      f.qemuSince,
      f.hostKernelMin ?? "—",
      f.guestKernelMin ? `${f.guestKernelMin}${f.guestKernelMax ? `–${f.guestKernelMax}` : ""}` : "—",
      f.kind === "signature" ? "shown" : f.namedModelDefault ? "on" : "off",
      element,
      esc(f.description + (f.deprecated ? ` **Deprecated.** ${f.deprecated}` : "")),
    ];
  });
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}
