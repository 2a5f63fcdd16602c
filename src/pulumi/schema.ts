import { KvmParavirtProvider } from "./provider";

/** schema.json text: the plugin's schema (the component and the Domain resource), pretty-printed with a trailing newline. */
export async function generateSchema(packageDir: string): Promise<string> {
  return JSON.stringify(JSON.parse(await new KvmParavirtProvider(packageDir).getSchema()), null, 2) + "\n";
}
