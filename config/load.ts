// The only place the program reads Pulumi config.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ConfigError, ConfigKeys, parseEnvironment } from "./parse";
import { Environment } from "./schema";
import { SecretSource, readSources } from "./sources";

// Not in the SDK's typings, but the SDK's own way to tell a secret key from a plain one.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

/** The key holding a stack's environment in its stack file. */
export const ENVIRONMENT_KEY = "environment";

/** The key the rollback tooling sets to pin images to a recorded release's digests. */
export const PINS_KEY = "releasePins";

export interface LoadedEnvironment {
    readonly env: Environment;
    /** Image name → reference to deploy instead of building (set by `rollback`), if any. */
    readonly pins: Readonly<Record<string, string>>;
    /** A secret's value from its source, as a Pulumi secret. */
    secret(source: SecretSource): pulumi.Output<string>;
}

/**
 * Read and validate this stack's environment (image contexts and secret files resolve from
 * `projectDir`), then read every secret's source; throws a ConfigError or a SecretSourceError
 * before any resource exists.
 */
export function loadEnvironment(projectDir: string): LoadedEnvironment {
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
    const pins = parsePins(config.getObject<unknown>(PINS_KEY), raw);
    const env = parseEnvironment(raw, { keys, projectDir, pins });
    // Read now, at every preview and deploy: a source that fails stops the program before it registers anything.
    const read = readSources(env.secrets, { projectDir });
    return { env, pins, secret: (source) => (source.kind === "config" ? config.requireSecret(source.key) : pulumi.secret(read(source))) };
}

const pinsSchema = z.record(z.string(), z.string().regex(/^[^\s@]+@sha256:[0-9a-f]{64}$|^[^\s@:]+(:\d+)?\/?[^\s@]*:[\w][\w.-]*$/));

/** Pins must name images of this environment (`images` of the raw environment) and be immutable references. */
export function parsePins(raw: unknown, environment: unknown): Record<string, string> {
    const images: object = (environment as { images?: object } | undefined)?.images ?? {};
    if (raw === undefined) return {};
    const parsed = pinsSchema.safeParse(raw);
    const problems: string[] = [];
    if (!parsed.success) problems.push(`${PINS_KEY}: expected { <image name>: "<repo>@sha256:<digest>" }, got ${JSON.stringify(raw)}`);
    else {
        for (const name of Object.keys(parsed.data)) {
            if (!(name in images)) problems.push(`${PINS_KEY}.${name}: expected the name of one of the images (${Object.keys(images).join(", ")}), got ${JSON.stringify(name)}`);
        }
    }
    if (problems.length) throw new ConfigError(problems);
    return parsed.data!;
}
