// The `dockyard` provider plugin's entry: serves the prototype provider to the Pulumi engine over gRPC.
// Only the SDK's provider module (0.2 s to load, against 0.7 s for all of @pulumi/pulumi): the
// plugin starts on every preview and deploy, before the engine can diff anything.
import * as provider from "@pulumi/pulumi/provider";
import { dockerEngine, libraryWait, makeProvider } from "./provider";

/** The plugin version the bench registers (Pulumi.yaml `plugins: providers:`). */
export const PLUGIN_VERSION = "0.0.1";

provider.main(makeProvider(dockerEngine(), libraryWait, PLUGIN_VERSION), process.argv.slice(2)).catch((e) => {
    process.stderr.write(`dockyard provider: ${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
});
