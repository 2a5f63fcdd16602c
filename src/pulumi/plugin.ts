import path from "node:path";
import { main } from "@pulumi/pulumi/provider";
import { KvmParavirtProvider } from "./provider";

/**
 * The provider plugin's entry (package.json `main`): Pulumi's Node language host runs
 * `run-plugin <package dir> <engine address>`, which requires the package directory and
 * calls what it exports. The library stays at `exports["."]` (index.ts).
 */
// Stryker disable all: runs only in the spawned plugin process (test/pulumi/provider.test.ts and test/oracle/provider.test.ts start it and speak gRPC to it), which mutants do not reach
const PACKAGE_DIR = path.join(__dirname, "..", "..", "..");

export = (): Promise<void> => main(new KvmParavirtProvider(PACKAGE_DIR), process.argv.slice(2));
