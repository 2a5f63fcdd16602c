import type { DeviceChange } from "../libvirt/devices";
import type { FeatureSource } from "../resolve/resolve";
import type { HostProfile } from "../host/profile";
import type { DomainSpec } from "../input/schema";

/** The plan and apply model of live hosts (the CLI's plan/apply JSON views render it). */

export type Action = "create" | "update" | "unchanged" | "delete-candidate";

/**
 * The one definition of "running": the libvirt states (virsh domstate) in which the domain
 * has a QEMU process, so that a new definition takes effect only after a restart.
 */
const ACTIVE_STATES: readonly string[] = ["running", "paused", "idle", "in shutdown", "blocked", "pmsuspended"];
export const isActive = (state: string): boolean => ACTIVE_STATES.includes(state);
/** The states in which the domain can be started. */
export const isStartable = (state: string): boolean => state === "absent" || state === "shut off" || state === "crashed";

export interface FeatureChange {
  feature: string;
  current: { enabled: boolean; source: FeatureSource | "absent" } | null;
  desired: { enabled: boolean; source: FeatureSource } | null;
}

export interface DomainPlan {
  uri: string;
  domain: string;
  action: Action;
  /** libvirt state before the change: "running", "paused", "shut off", ... or "absent" */
  state: string;
  /** spec-owned settings that differ (as written), e.g. vcpus 2 -> 4 */
  fieldChanges: { field: string; current: unknown; desired: unknown }[];
  /** effective PV features that differ, current -> desired */
  featureChanges: FeatureChange[];
  /** effective PV features changed out of band since we defined the domain (recorded -> current) */
  drift: { feature: string; recorded: boolean; current: boolean | null }[];
  /** for a running domain: features whose realized value differs from its definition (a change not yet applied by a restart) */
  pendingRestart: { feature: string; running: boolean; defined: boolean }[];
  /** the domain runs (or is paused) and the change takes effect only after a restart */
  restartNeeded: boolean;
  /** where the vCPUs and emulator threads go (the spec's pins, or the host CPUs picked for dedicated ones), and whether the vCPUs are dedicated */
  pinning?: { vcpus?: string[]; emulator?: string; picked: boolean; dedicated: boolean; reason: string };
  /** a running domain's changes apply takes to it without a restart (vCPU and emulator pinning), each with its virsh call */
  liveChanges?: { setting: string; from: string | null; to: string; args: string[] }[];
  /** devices the spec declares that are added, removed (owned before) or changed, by identity */
  deviceChanges: DeviceChange[];
  /** the domain's warning diagnostics (what validate and the Pulumi preview say too): applied anyway */
  warnings: PlanWarning[];
  /** what apply does to the run state (runState) afterwards: start, start paused, resume or pause */
  runChange?: "start" | "start-paused" | "resume" | "pause";
  /** autostart to set (when it differs) */
  autostart?: boolean;
  /** the existing domain's UUID: every libvirt call addresses it by this, never by name */
  uuid?: string;
  /** why this domain could not be planned */
  error?: string;
  /** internal: what apply defines */
  desiredXml?: string;
}

export interface PlanWarning {
  code: string;
  path: string;
  message: string;
}

export interface HostPlan {
  uri: string;
  error?: string;
  domains: DomainPlan[];
}

export interface Target {
  uri: string;
  spec: DomainSpec;
}

export interface FleetOptions {
  host?: HostProfile;
  /** report progress lines */
  progress?: (line: string) => void;
  /** hosts worked on at once */
  parallel?: number;
  /** one libvirt call's time limit (default: KVM_PARAVIRT_TIMEOUT seconds, else 60 s) */
  timeoutMs?: number;
}

export type RestartPolicy = "never" | "if-needed";

export interface ApplyResult {
  uri: string;
  domain: string;
  action: Action;
  outcome: "defined" | "unchanged" | "failed" | "skipped";
  restarted: boolean;
  restartPending: boolean;
  /** the plan's warnings for this domain */
  warnings: PlanWarning[];
  error?: string;
}
