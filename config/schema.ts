// The stack config schema: one environment per stack file, validated before anything is touched.
// Every setting of a component is the library's own schema; this file adds only what is about a
// whole environment: names of things in the stack file, references between them, secret config
// keys, the prefix and the defaults section.
import * as dy from "@dockyard/components";
import { z } from "zod";

const expected = (what: string) => ({ error: `expected ${what}` });
const text = (what: string) => z.string(expected(what)).min(1, expected(what));
/** A name in the stack file (a key of networks, volumes, services...). The Docker name adds the prefix. */
const stackName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, expected("a name of letters, digits, '_', '.' or '-'"));
const named = <T extends z.ZodType>(schema: T) => z.record(stackName, schema);
/** Pulumi config keys are written `set --secret <key>`: a plain identifier. */
const configKey = (what: string) => z.string(expected(what)).regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, expected(what));

/** Settings every service gets unless it overrides them. */
const defaults = z.strictObject({
    replicas: dy.ServiceSettingsShape.replicas,
    update: dy.ServiceSettingsShape.update,
    rollback: dy.ServiceSettingsShape.rollback,
    endpointMode: dy.ServiceSettingsShape.endpointMode,
    /** The mode of every published port that does not name one. */
    publishMode: dy.PortMappingSchema.shape.mode,
    limits: dy.ServiceSettingsShape.limits,
    reservations: dy.ServiceSettingsShape.reservations,
    convergeTimeout: dy.ServiceSettingsShape.convergeTimeout,
    /** Refuse services without a health check (staging, prod). */
    requireHealthCheck: z.boolean().optional(),
});

/** A numeric user or group id, as Docker takes it for a mounted file: 101 or "101". */
const numericId = (what: string) => {
    const e = expected(`a numeric ${what} such as 101`);
    return z.union([z.int(e).min(0, e), dy.NumericId(what, "101")], e).transform(String);
};
/** Who owns a mounted secret or config file, and its mode (`0o400`, or 256 as YAML writes it). */
const fileOwnership = {
    /** @default "0" (root) */
    uid: numericId("uid").optional(),
    /** @default "0" (root) */
    gid: numericId("gid").optional(),
    /** @default 0o444 */
    mode: dy.FileMode.optional(),
};
/** A secret mounted by a service: its name in `secrets`, or that name and the file name under /run/secrets, its owner and mode. */
const secretRef = z.union([
    text("a secret name"),
    z.strictObject({ name: text("a secret name"), target: text("a file name").optional(), ...fileOwnership }),
], expected('a secret name or { name, target, uid, gid, mode }'));

/**
 * Where a secret's value comes from: exactly one of these keys. The one description of each source,
 * used by the schema's errors and checked against the README's "Secret sources" section.
 */
export const SECRET_SOURCES = {
    config: { is: "a secret config key", expected: "the name of a secret config key (`pulumi config set --secret <key>`)" },
    env: { is: "an environment variable", expected: 'the name of an environment variable of the process that previews or deploys, such as "APP_TOKEN"' },
    file: { is: "a file", expected: 'the path of a file (relative to the project directory), such as "/run/keys/app_token"' },
    command: { is: "a program and its arguments", expected: 'a program and its arguments, such as ["op", "read", "op://prod/app/token"], run without a shell' },
} as const;
export type SecretSourceKind = keyof typeof SECRET_SOURCES;
export const SECRET_SOURCE_KINDS = Object.keys(SECRET_SOURCES) as SecretSourceKind[];
/** How long a command source may run. @default 30s */
export const DEFAULT_COMMAND_TIMEOUT = "30s";

const sourceList = `${SECRET_SOURCE_KINDS.slice(0, -1).join(", ")} or ${SECRET_SOURCE_KINDS.at(-1)}`;

/** A secret of the stack file: its source, and for a command how its output is read. */
const secretSource = z.strictObject({
    config: configKey(SECRET_SOURCES.config.expected).optional(),
    /** The older spelling of `config`. */
    fromConfig: configKey(SECRET_SOURCES.config.expected).optional(),
    env: z.string(expected(SECRET_SOURCES.env.expected)).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, expected(SECRET_SOURCES.env.expected)).optional(),
    file: text(SECRET_SOURCES.file.expected).optional(),
    command: z.array(text("a non-empty argument"), expected(SECRET_SOURCES.command.expected)).min(1, expected(SECRET_SOURCES.command.expected)).optional(),
    /** Trim whitespace at both ends of a command's stdout. @default false: the value is stdout exactly */
    trim: z.boolean(expected("true or false")).optional(),
    /** How long the command may run before it is stopped and the deploy fails. @default 30s */
    timeout: dy.Duration.optional(),
}).superRefine((s, ctx) => {
    const set = ([...SECRET_SOURCE_KINDS, "fromConfig"] as const).filter((k) => s[k] !== undefined);
    if (set.length === 0) {
        ctx.addIssue({ code: "custom", path: [], message: `expected one source: ${SECRET_SOURCE_KINDS.map((k) => `${k} (${SECRET_SOURCES[k].is})`).join(", ").replace(/, (?=[^,]*$)/, " or ")}` });
    } else if (set.length > 1) {
        ctx.addIssue({ code: "custom", path: [], message: `has ${set.length} sources (${set.join(" and ")}); keep exactly one of ${sourceList}, got ${JSON.stringify(s)}` });
    }
    if (s.timeout !== undefined && durationMs(s.timeout) <= 0) ctx.addIssue({ code: "custom", path: ["timeout"], message: "expected a duration longer than 0s" });
    for (const k of ["trim", "timeout"] as const) {
        if (s[k] !== undefined && s.command === undefined) ctx.addIssue({ code: "custom", path: [k], message: `expected ${k} only with a command source (it is about the command's run)` });
    }
});
export type SecretConfig = z.infer<typeof secretSource>;

/** Milliseconds of a Go duration such as "30s" or "1m30s" (validated by dy.Duration). */
export function durationMs(d: string): number {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    return [...d.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)].reduce((ms, [, n, u]) => ms + Number(n) * unit[u], 0);
}

const service = z.strictObject({
    ...dy.ServiceSettingsShape,
    /** The name of an image built by this stack, or a reference such as `nginx:1.27` or `repo@sha256:...`. */
    image: text("an image name from `images` or an image reference"),
    /** Plain values only: secrets go in `secrets`. Numbers and booleans are passed as text. */
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], expected("a plain string value")).transform(String)).optional(),
    networks: z.array(text("a network name")).optional(),
    /** More DNS names of the service on each of its networks, besides its own name. @default none */
    aliases: z.array(dy.DockerName).optional(),
    mounts: z.array(dy.mountSchema(text("the name of a volume"))).optional(),
    secrets: z.array(secretRef).optional(),
    configs: z.array(z.strictObject({ name: text("a config name"), target: z.string(expected('an absolute path such as "/etc/app.conf"')), ...fileOwnership })).optional(),
});

const registry = z.union([
    z.strictObject({
        external: dy.ExternalRegistrySettingsSchema.extend({
            /** Secret config key holding the password. */
            passwordFromConfig: configKey("the name of a secret config key").optional(),
        }),
    }),
    z.strictObject({
        selfHosted: dy.SelfHostedRegistrySettingsSchema.extend({
            /** Secret config key holding the password. */
            passwordFromConfig: configKey("the name of a secret config key").optional(),
        }),
    }),
], expected("either { external: {...} } or { selfHosted: {...} }"));

// --- Policy, backups (issue 14) and registry hygiene: optional keys, used only by the ops tooling (ops/policy.ts,
// ops/backup.ts, ops/gc-run.ts); the program ignores them (config/map.ts passes none of them to a component).

/** How a volume is backed up: `pause` the services that mount it during the copy, or `stop` them (scale to 0). */
const volumeBackup = z.union([
    z.literal(true),
    z.strictObject({ quiesce: z.enum(["pause", "stop", "none"], expected('"pause", "stop" or "none"')).optional() }),
], expected('true or { quiesce: "pause" | "stop" | "none" }'));

/** A volume: the library's settings, plus whether the ops tooling backs it up (a stack-level concern). */
const volume = dy.VolumeSettingsSchema.extend({
    /** Back this volume up with `backup` (and before deploys with backupBeforeDeploy). */
    backup: volumeBackup.optional(),
});

/** Per-stack settings of the policy pack (policy/): levels and exceptions, by stack-file name. */
const policySettings = z.strictObject({
    /** Rule name → enforcement level, overriding the environment's default. */
    rules: z.record(z.string(), z.enum(["mandatory", "advisory", "disabled"], expected('"mandatory", "advisory" or "disabled"'))).optional(),
    /** Services allowed to run privileged / mount the Docker socket / use the host network. */
    allowPrivileged: z.array(text("a service name")).optional(),
    allowDockerSocket: z.array(text("a service name")).optional(),
    allowHostNetwork: z.array(text("a service name")).optional(),
    /** Environment variable names that look secret but are not. */
    allowEnvNames: z.array(text("a variable name")).optional(),
    /** Service → the host ports it may publish; `registry` names the self-hosted registry. */
    publicPorts: z.record(z.string(), z.array(dy.PortMappingSchema.shape.target)).optional(),
});

/** Backups (where, and whether `deploy` takes one first) and the policy pack settings. */
const opsSettings = {
    /** Take a backup of the volumes marked `backup` before each deploy. */
    backupBeforeDeploy: z.boolean().optional(),
    /** Directory for backups, relative to the project (default .dockyard/backups). */
    backupDir: text("a directory").optional(),
    policy: policySettings.optional(),
    /**
     * Registry hygiene after each successful deploy (`dockyard gc`): per image, the newest `keep`
     * builds (default 5), those a successful release references and those running stay; the rest
     * go from the registry and from every node. @default false: run `gc` by hand
     */
    gc: z.boolean(expected("true or false (run registry hygiene after each successful deploy)")).optional(),
};
// --- end of policy and backups

export const environmentSchema = z.strictObject({
    /** Prefix for every Docker object name (`<prefix>-web`), so several environments can share one engine. */
    prefix: z.string().regex(/^[a-z0-9][a-z0-9-]{0,19}$/, expected("up to 20 lower-case letters, digits or '-'")).optional(),
    /** Marks a production environment: reviews flag every change to it. */
    production: z.boolean().default(false),
    registry: registry.optional(),
    networks: named(dy.NetworkSettingsSchema).default({}),
    volumes: named(volume).default({}),
    /** Where each secret's value comes from (its source); the value itself is never in the stack file. */
    secrets: named(secretSource).default({}),
    configs: named(z.strictObject({ data: z.string(expected("the config file's content")) })).default({}),
    /** Images built by this stack; `context` is relative to the project directory. */
    images: named(dy.ImageSettingsSchema).default({}),
    defaults: defaults.default({}),
    /** Swarm nodes by hostname: labels Dockyard sets for placement (`node.labels.<key>`). */
    nodes: z.record(z.string(), dy.NodeSettingsSchema).default({}),
    services: named(service).refine((s) => Object.keys(s).length > 0, expected("at least one service")),
    ...opsSettings,
});

export type Environment = z.infer<typeof environmentSchema>;
export type ServiceConfig = z.infer<typeof service>;
export type ImageConfig = z.infer<typeof dy.ImageSettingsSchema>;
export type RegistryConfig = z.infer<typeof registry>;
export type PolicySettings = z.infer<typeof policySettings>;
export type VolumeBackup = z.infer<typeof volumeBackup>;
