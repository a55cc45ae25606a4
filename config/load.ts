// The only place the program reads Pulumi config.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, ConfigKeys, parseEnvironment } from "./parse";
import { Environment } from "./schema";

// Not in the SDK's typings, but the SDK's own way to tell a secret key from a plain one.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

/** The key holding a stack's environment in its stack file. */
export const ENVIRONMENT_KEY = "environment";

export interface LoadedEnvironment {
    readonly env: Environment;
    /** The value of a secret config key, as a Pulumi secret. */
    secret(key: string): pulumi.Output<string>;
}

/** Read and validate this stack's environment; throws a ConfigError before any resource exists. */
export function loadEnvironment(): LoadedEnvironment {
    const config = new pulumi.Config();
    const raw = config.getObject<unknown>(ENVIRONMENT_KEY);
    if (raw === undefined) {
        throw new ConfigError([
            `${config.name}:${ENVIRONMENT_KEY}: expected the environment's settings in stacks/Pulumi.${pulumi.getStack()}.yaml, got nothing`,
        ]);
    }
    const keys: ConfigKeys = {
        isSecret: (key) => (config.get(key) === undefined ? undefined : isConfigSecret(`${config.name}:${key}`)),
    };
    const env = parseEnvironment(raw, keys);
    return { env, secret: (key) => config.requireSecret(key) };
}
