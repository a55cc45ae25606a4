// The stack config schema: one environment per stack file, validated before anything is touched.
import { z } from "zod";

const DURATION = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,49}$/;

const duration = z.string({ error: 'expected a duration such as "10s" or "1m30s"' })
    .regex(DURATION, { error: 'expected a duration such as "10s" or "1m30s"' });
const positiveInt = z.int({ error: "expected a positive integer" }).positive({ error: "expected a positive integer" });
const wholeNumber = z.int({ error: "expected a whole number, 0 or more" }).nonnegative({ error: "expected a whole number, 0 or more" });
const port = z.int({ error: "expected a port from 1 to 65535" }).min(1, { error: "expected a port from 1 to 65535" })
    .max(65535, { error: "expected a port from 1 to 65535" });
const ratio = z.number({ error: "expected a number from 0 to 1" }).min(0, { error: "expected a number from 0 to 1" })
    .max(1, { error: "expected a number from 0 to 1" });
const memory = z.union([z.int().positive(), z.string().regex(/^\d+[kmg]?b?$/i)], { error: 'expected a size such as "256m" or "1g"' });
const text = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
const absolutePath = z.string({ error: 'expected an absolute path such as "/data"' })
    .regex(/^\/(?!.*(^|\/)\.\.(\/|$))/, { error: 'expected an absolute path such as "/data"' });
const labels = z.record(z.string(), z.string({ error: "expected a string label value" }));

const rollout = z.strictObject({
    parallelism: wholeNumber.optional(),
    delay: duration.optional(),
    monitor: duration.optional(),
    maxFailureRatio: ratio.optional(),
    order: z.enum(["start-first", "stop-first"]).optional(),
    failureAction: z.enum(["rollback", "pause", "continue"]).optional(),
});

const resources = z.strictObject({
    cpus: z.number({ error: "expected a positive number of CPUs such as 0.5" }).positive({ error: "expected a positive number of CPUs such as 0.5" }).optional(),
    memory: memory.optional(),
});

const healthCheck = z.strictObject({
    command: z.union([z.array(z.string()).min(1), text("a command")], { error: "expected a command array or a shell string" }),
    interval: duration.optional(),
    timeout: duration.optional(),
    retries: positiveInt.optional(),
    startPeriod: duration.optional(),
});

const portMapping = z.strictObject({
    target: port,
    published: port.optional(),
    protocol: z.enum(["tcp", "udp"]).optional(),
    mode: z.enum(["ingress", "host"]).optional(),
});

const mount = z.strictObject({
    target: absolutePath,
    volume: text("the name of a volume").optional(),
    hostPath: absolutePath.optional(),
    tmpfs: memory.optional(),
    readOnly: z.boolean().optional(),
});

const secretRef = z.union([
    text("a secret name"),
    z.strictObject({ name: text("a secret name"), target: text("a file name").optional() }),
]);

/** Settings every service gets unless it overrides them. */
const serviceDefaults = z.strictObject({
    replicas: wholeNumber.optional(),
    update: rollout.optional(),
    rollback: rollout.optional(),
    endpointMode: z.enum(["vip", "dnsrr"]).optional(),
    publishMode: z.enum(["ingress", "host"]).optional(),
    limits: resources.optional(),
    reservations: resources.optional(),
    convergeTimeout: duration.optional(),
    /** Refuse services without a health check (staging, prod). */
    requireHealthCheck: z.boolean().optional(),
});

const service = z.strictObject({
    /** The name of an image built by this stack, or a reference such as `nginx:1.27` or `repo@sha256:...`. */
    image: text("an image name from `images` or an image reference"),
    replicas: wholeNumber.optional(),
    global: z.boolean().optional(),
    command: z.array(z.string()).optional(),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: "expected a plain string value" })).optional(),
    ports: z.array(portMapping).optional(),
    networks: z.array(text("a network name")).optional(),
    mounts: z.array(mount).optional(),
    secrets: z.array(secretRef).optional(),
    configs: z.array(z.strictObject({ name: text("a config name"), target: absolutePath })).optional(),
    healthCheck: healthCheck.optional(),
    update: rollout.optional(),
    rollback: rollout.optional(),
    endpointMode: z.enum(["vip", "dnsrr"]).optional(),
    limits: resources.optional(),
    reservations: resources.optional(),
    constraints: z.array(z.string()).optional(),
    labels: labels.optional(),
    user: z.string().optional(),
});

const image = z.strictObject({
    /** Build context, relative to the project directory. */
    context: text("a build context directory"),
    dockerfile: z.string().optional(),
    repository: z.string({ error: "expected a repository such as \"shop/api\"" })
        .regex(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/, { error: 'expected a lower-case repository such as "shop/api"' }),
    tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/).refine((t) => t !== "latest", { error: 'expected an immutable tag, not "latest"' }).optional(),
    // `pulumi config set --path` stores 1 and true as a number and a boolean: take them as text.
    buildArgs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: "expected a text value" }).transform(String)).optional(),
    target: z.string().optional(),
    testTarget: z.string().optional(),
    platform: z.string().optional(),
    keep: positiveInt.optional(),
});

/** A secret's value lives in Pulumi secret config, never in the stack file. */
const secret = z.strictObject({
    /** Name of a secret config key (`pulumi config set --secret <key> <value>`). */
    fromConfig: text("the name of a secret config key"),
});

const registry = z.union([
    z.strictObject({
        external: z.strictObject({
            server: text('a registry host such as "ghcr.io"'),
            username: z.string().optional(),
            /** Secret config key holding the password. */
            passwordFromConfig: z.string().optional(),
        }),
    }),
    z.strictObject({
        selfHosted: z.strictObject({
            port: port.optional(),
            publishMode: z.enum(["ingress", "host"]).optional(),
            endpointMode: z.enum(["vip", "dnsrr"]).optional(),
            image: z.string().optional(),
            address: z.string().optional(),
            username: z.string().optional(),
            passwordFromConfig: z.string().optional(),
        }),
    }),
], { error: "expected either { external: {...} } or { selfHosted: {...} }" });

const named = <T extends z.ZodType>(schema: T) =>
    z.record(z.string().regex(NAME, { error: "expected a name of letters, digits, '_', '.' or '-'" }), schema);

export const environmentSchema = z.strictObject({
    /** Prefix for every Docker object name (`<prefix>-web`), so several environments can share one engine. */
    prefix: z.string().regex(/^[a-z0-9][a-z0-9-]{0,19}$/, { error: "expected up to 20 lower-case letters, digits or '-'" }).optional(),
    /** `swarm`: services on a Swarm; `containers`: plain containers on one host. */
    mode: z.enum(["swarm", "containers"]).default("swarm"),
    /** Marks a production environment: reviews flag every change to it. */
    production: z.boolean().default(false),
    registry: registry.optional(),
    networks: named(z.strictObject({
        driver: z.enum(["overlay", "bridge"]).optional(),
        internal: z.boolean().optional(),
        subnet: z.string().optional(),
        encrypted: z.boolean().optional(),
        labels: labels.optional(),
    })).default({}),
    volumes: named(z.strictObject({
        deletion: z.enum(["retain", "protect", "delete"]).optional(),
        driver: z.string().optional(),
        driverOptions: z.record(z.string(), z.string()).optional(),
        labels: labels.optional(),
    })).default({}),
    secrets: named(secret).default({}),
    configs: named(z.strictObject({ data: z.string({ error: "expected the config file's content" }) })).default({}),
    images: named(image).default({}),
    defaults: serviceDefaults.default({}),
    services: named(service).refine((s) => Object.keys(s).length > 0, { error: "expected at least one service" }),
});

export type Environment = z.infer<typeof environmentSchema>;
export type ServiceConfig = z.infer<typeof service>;
export type ImageConfig = z.infer<typeof image>;
export type RegistryConfig = z.infer<typeof registry>;
