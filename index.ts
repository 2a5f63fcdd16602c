/**
 * The Pulumi package entry point: it exports only the components (the plugin host
 * and its schema analyzer look here). The core API is `kvm-paravirt/core`.
 */
export { ParavirtDomain } from "./src/pulumi/paravirt-domain";
