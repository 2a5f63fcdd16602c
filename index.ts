/**
 * The library entry (`exports["."]`): at run time it exports only the component and the
 * Domain resource (Pulumi's schema analyzer reads this file); the rest are types. The
 * provider plugin's entry is package.json `main` (src/pulumi/plugin.ts). The core
 * API (resolver, renderers, policies) is `kvm-paravirt/core`.
 */
export { ParavirtDomain } from "./src/pulumi/paravirt-domain";
export { Domain } from "./src/pulumi/domain";
export type { DomainArgs } from "./src/pulumi/domain";
export type { FeatureState, DomainDiagnostic } from "./src/pulumi/paravirt-domain";
export type {
  ParavirtDomainArgs,
  CpuArgs,
  ParavirtArgs,
  HostVersionsArgs,
  GuestArgs,
  Restart,
  DiskArgs,
  NicArgs,
  GraphicsArgs,
  CpuMode,
  CpuCheck,
  Accel,
  Irqchip,
  DiskBus,
  DiskDevice,
  DiskFormat,
  DiskCache,
  DiskIo,
  NicModel,
  GraphicsType,
  RunState,
} from "./src/pulumi/args";
