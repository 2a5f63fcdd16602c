import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { ParavirtDomain } from "./paravirt-domain";
import { KvmParavirtProvider } from "./provider";

/** The package's component provider, as the Pulumi plugin host builds it from package.json. */
export function componentProvider(packageDir: string): ComponentProvider {
  return new ComponentProvider({ components: [ParavirtDomain], dirname: packageDir, name: "kvm-paravirt" });
}

/** schema.json text: the plugin's schema (the component and the Domain resource), pretty-printed with a trailing newline. */
export async function generateSchema(packageDir: string): Promise<string> {
  return JSON.stringify(JSON.parse(await new KvmParavirtProvider(packageDir).getSchema()), null, 2) + "\n";
}
