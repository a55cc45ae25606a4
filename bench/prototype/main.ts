// The `dockyard` provider plugin's entry: serves the prototype provider to the Pulumi engine over gRPC.
import * as pulumi from "@pulumi/pulumi";
import { dockerEngine, libraryWait, makeProvider } from "./provider";

/** The plugin version the bench registers (Pulumi.yaml `plugins: providers:`). */
export const PLUGIN_VERSION = "0.0.1";

pulumi.provider.main(makeProvider(dockerEngine(), libraryWait, PLUGIN_VERSION), process.argv.slice(2)).catch((e) => {
    process.stderr.write(`dockyard provider: ${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
});
