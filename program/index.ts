import * as pulumi from "@pulumi/pulumi";
import { deployFleet } from "./fleet";

// Stack config: specFile (default examples/fleet.yaml), connection (default test:///default,
// libvirt's built-in test driver, which needs no hypervisor), hostProfile (optional path).
const config = new pulumi.Config();
const domains = deployFleet({
  specFile: config.get("specFile") ?? "examples/fleet.yaml",
  connection: config.get("connection") ?? "test:///default",
  hostProfileFile: config.get("hostProfile"),
});

export const features = Object.fromEntries(Object.entries(domains).map(([name, d]) => [name, d.features]));
export const restartRequired = Object.fromEntries(Object.entries(domains).map(([name, d]) => [name, d.restartRequired]));
