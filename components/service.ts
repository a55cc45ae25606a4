import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import type { Config } from "./config";
import { CONVERGE_SCRIPT, waitProblem } from "./converge";
import { Image } from "./image";
import {
    AbsolutePath,
    Cpus,
    DockerName,
    Duration,
    FileMode,
    NumericId,
    Labels,
    Memory,
    Port,
    PositiveInt,
    Problems,
    Ratio,
    Text,
    WholeNumber,
    brand,
    childName,
    hasBrand,
    labelList,
    memoryBytes,
    oneOf,
    rejectIfAny,
    shortHash,
    withDefaults,
} from "./internal";
import { Network, NetworkDriver } from "./network";
import { dockerSocketIn } from "./socket";
import type { Registry } from "./registry";
import type { Secret } from "./secret";
import type { Volume } from "./volume";

export enum PublishMode {
    /** Swarm's routing mesh: the port answers on every node and balances over all tasks. */
    Ingress = "ingress",
    /** The port is bound only on the nodes running a task (one task per node and port). */
    Host = "host",
}

export enum EndpointMode {
    /** One virtual IP per service, balanced by IPVS. */
    Vip = "vip",
    /** DNS round-robin over the tasks' addresses; works without IPVS. */
    Dnsrr = "dnsrr",
}

export enum UpdateOrder {
    /** Start the new task, wait until it is healthy, then stop the old one: no downtime. */
    StartFirst = "start-first",
    /** Stop the old task before starting the new one (for services that cannot run twice). */
    StopFirst = "stop-first",
}

export enum FailureAction {
    /** Roll the service back to its previous spec. */
    Rollback = "rollback",
    /** Stop the rollout where it is (Docker's own default). */
    Pause = "pause",
    /** Carry on with the next batch. */
    Continue = "continue",
}

export enum RestartCondition {
    None = "none",
    OnFailure = "on-failure",
    Any = "any",
}

const expected = (what: string) => ({ error: `expected ${what}` });

/** How a rollout (update or rollback) proceeds. */
export const RolloutPolicySchema = z.strictObject({
    /**
     * Tasks changed at once (0 means all at once).
     * @default 1
     */
    parallelism: WholeNumber.optional(),
    /**
     * Pause between batches.
     * @default "5s"
     */
    delay: Duration.optional(),
    /**
     * How long each new task is watched for failure before the next batch.
     * @default "30s"
     */
    monitor: Duration.optional(),
    /**
     * Share of tasks that may fail before the failure action runs (0 to 1).
     * @default 0
     */
    maxFailureRatio: Ratio.optional(),
    /**
     * Start new tasks before stopping old ones, or the reverse.
     * @default UpdateOrder.StartFirst
     */
    order: oneOf(UpdateOrder).optional(),
    /**
     * What to do when the rollout fails. For rollbacks only `Pause` and `Continue` are meaningful.
     * @default FailureAction.Rollback for updates, FailureAction.Pause for rollbacks
     */
    failureAction: oneOf(FailureAction).optional(),
});
export type RolloutPolicy = z.input<typeof RolloutPolicySchema>;

export const HealthCheckSchema = z.strictObject({
    /**
     * Command run inside the container: an exec array (`["wget", "-q", "-O-", "http://127.0.0.1:8080/healthz"]`)
     * or a shell string (run with `CMD-SHELL`). Exit 0 means healthy.
     * @default the image's HEALTHCHECK command, run with these timings (as Docker does for a health check that gives timings only)
     */
    command: z.union([
        z.array(z.string()).min(1, expected("a non-empty command array or shell string")),
        z.string().trim().min(1, expected("a non-empty command array or shell string")),
    ], expected("a non-empty command array or shell string")).optional(),
    // For each timing, 0 is Docker's "inherit", as a Compose file that leaves it out gets.
    /** @default "10s"; "0s" is the image's HEALTHCHECK interval, else Docker's 30s */
    interval: Duration.optional(),
    /** @default "5s"; "0s" is the image's HEALTHCHECK timeout, else Docker's 30s */
    timeout: Duration.optional(),
    /** @default 3; 0 is the image's HEALTHCHECK retries, else Docker's 3 (not "fail at once") */
    retries: WholeNumber.optional(),
    /**
     * Grace period after start during which failures do not count.
     * @default "10s"; "0s" is the image's HEALTHCHECK start period, else none
     */
    startPeriod: Duration.optional(),
    /**
     * `true` runs no health check, not even the image's own HEALTHCHECK (Compose's
     * `healthcheck: { disable: true }`); nothing else may be set with it.
     */
    disable: z.literal(true, expected("true (leave it out to keep a health check)")).optional(),
}).superRefine((h, ctx) => {
    if (!h.disable) return;
    for (const key of Object.keys(h)) {
        if (key !== "disable" && h[key as keyof typeof h] !== undefined) {
            ctx.addIssue({ code: "custom", path: [key], message: `disable: true runs no health check, so ${key} has nothing to apply to; remove one of the two` });
        }
    }
});
export type HealthCheck = z.input<typeof HealthCheckSchema>;

export const PortMappingSchema = z.strictObject({
    /** Port the container listens on. */
    target: Port,
    /**
     * Port published on the nodes, or `"any"` for one Swarm picks (Compose's `- "80"`): from its
     * range 30000-32767 through the routing mesh, a free one on each node in host mode; the service's
     * `endpoints` say which.
     * @default the same as `target`
     */
    published: z.union([Port, z.literal("any")], expected('a port from 1 to 65535, or "any" for one Swarm picks')).optional(),
    /** @default "tcp" */
    protocol: z.enum(["tcp", "udp"], expected('"tcp" or "udp"')).optional(),
    /**
     * @default PublishMode.Ingress - reachable on every node
     */
    mode: oneOf(PublishMode).optional(),
});
export type PortMapping = z.input<typeof PortMappingSchema>;

/** The port a mapping publishes on the nodes; undefined when Swarm picks it (`published: "any"`). */
export function publishedPort(port: PortMapping): number | undefined {
    return port.published === "any" ? undefined : port.published ?? port.target;
}

export const ResourcesSchema = z.strictObject({
    /** CPUs, e.g. 0.5. */
    cpus: Cpus.optional(),
    /** Bytes or a size such as "256m". */
    memory: Memory.optional(),
});
export type Resources = z.input<typeof ResourcesSchema>;

export const ServiceRestartSchema = z.strictObject({
    /** @default RestartCondition.OnFailure */
    condition: oneOf(RestartCondition).optional(),
    /** @default "5s" */
    delay: Duration.optional(),
    /** 0 for no limit. @default 0 */
    maxAttempts: WholeNumber.optional(),
    /** @default "0s" */
    window: Duration.optional(),
});
export type ServiceRestart = z.input<typeof ServiceRestartSchema>;

/** Placement constraint such as `node.role==manager` or `node.labels.zone!=b`. */
export const Constraint = z.string().regex(/^\s*[\w.-]+\s*(==|!=)\s*\S+\s*$/, expected('a constraint such as "node.role==manager"'));
/** Placement preference such as `spread=node.labels.zone`. */
export const Preference = z.string().regex(/^spread=[\w.-]+$/, expected('a preference such as "spread=node.labels.zone"'));
const SIGNAL_HINT = 'a signal such as "SIGTERM", "SIGQUIT" or "9"';
const CAPABILITY_HINT = 'a capability such as "NET_ADMIN" or "CAP_NET_ADMIN", or "ALL"';
/** A Linux capability, with or without its `CAP_` prefix. */
const Capability = z.string(expected(CAPABILITY_HINT)).regex(/^(ALL|(CAP_)?[A-Z][A-Z0-9_]*)$/, expected(CAPABILITY_HINT));
// Docker's rule, not the shell's: Elasticsearch and Spring read names such as `discovery.type`.
const EnvName = z.string().regex(/^[^=\s]+$/, expected("a variable name without '=' or spaces, such as LOG_LEVEL or discovery.type"));
const SECRET_FILE_HINT = 'a file name under /run/secrets such as "db_password" (no "/")';
const SecretFile = z.string(expected(SECRET_FILE_HINT)).regex(/^[a-zA-Z0-9_.-]+$/, expected(SECRET_FILE_HINT))
    .refine((t) => t !== "." && t !== "..", expected(SECRET_FILE_HINT));

/** A tmpfs mount's options; each left out is Docker's default. */
export const TmpfsSchema = z.strictObject({
    /** @default unlimited (up to half the node's memory, the kernel's limit) */
    size: Memory.optional(),
    /** With the sticky, setuid and setgid bits. @default 0o1777 */
    mode: z.int(expected("a mode from 0 to 0o7777 such as 0o1770")).min(0, expected("a mode from 0 to 0o7777 such as 0o1770")).max(0o7777, expected("a mode from 0 to 0o7777 such as 0o1770")).optional(),
});
const MEMORY_SIZE = 'a size in bytes or a string such as "64m"';

/**
 * A volume, bind or tmpfs mount; exactly one of `volume`, `hostPath` or `tmpfs`. The schema takes
 * the form of the volume reference: a `Volume` in `ServiceArgs`, a volume's name in a stack file.
 */
export function mountSchema<V extends z.ZodType>(volume: V) {
    return z.strictObject({
        /** Absolute path in the container. */
        target: AbsolutePath,
        /** A Dockyard volume. */
        volume: volume.optional(),
        /** A path on the node (bind mount). Mounting the Docker socket also needs `allowDockerSocket`. */
        hostPath: AbsolutePath.optional(),
        /**
         * An in-memory filesystem: its size in bytes (or "64m"), or `{ size?, mode? }`; `{}` is unlimited, as
         * Docker's tmpfs mounts are by default.
         */
        tmpfs: z.union([Memory, TmpfsSchema], expected(`${MEMORY_SIZE} or { size?, mode? }`)).optional(),
        /** Do not copy the image's files at the target into a new, empty volume. Only with `volume`. @default false */
        noCopy: z.boolean().optional(),
        /** @default false */
        readOnly: z.boolean().optional(),
    }).superRefine((m, ctx) => {
        if (m.noCopy !== undefined && m.volume === undefined) ctx.addIssue({ code: "custom", path: ["noCopy"], message: `expected noCopy only with volume (it is about a volume's first use), got ${JSON.stringify(m.noCopy)}` });
        const kinds = [m.volume, m.hostPath, m.tmpfs].filter((k) => k !== undefined).length;
        if (kinds !== 1) ctx.addIssue({ code: "custom", path: [], message: `give exactly one of volume, hostPath or tmpfs (got ${kinds})` });
    });
}

/** The plain settings of a service (no references to other components), as the stack file takes them. */
export const ServiceSettingsShape = {
    /**
     * Number of tasks. Not allowed with `global`.
     * @default 1
     */
    replicas: WholeNumber.optional(),
    /**
     * Run one task on every node instead of `replicas` tasks. Changing it replaces the service.
     * @default false
     */
    global: z.boolean().optional(),
    /** Replaces the image's ENTRYPOINT. @default the image's */
    command: z.array(z.string()).optional(),
    /** Replaces the image's CMD. @default the image's */
    args: z.array(z.string()).optional(),
    /** @default none: nothing is published */
    ports: z.array(PortMappingSchema).optional(),
    /**
     * How other services find this one's tasks.
     * @default EndpointMode.Vip
     */
    endpointMode: oneOf(EndpointMode).optional(),
    /**
     * Container health check; Swarm replaces unhealthy tasks and rolls back updates whose tasks
     * never become healthy.
     * @default the image's HEALTHCHECK, if any
     */
    healthCheck: HealthCheckSchema.optional(),
    /** @default restart on failure, 5s apart, without limit */
    restart: ServiceRestartSchema.optional(),
    /** Hard limits. @default none */
    limits: ResourcesSchema.optional(),
    /** Capacity the scheduler sets aside. @default none */
    reservations: ResourcesSchema.optional(),
    /** Placement constraints such as `node.role==worker`. @default none */
    constraints: z.array(Constraint).optional(),
    /** Placement preferences such as `spread=node.labels.zone`. @default none */
    preferences: z.array(Preference).optional(),
    /**
     * At most this many of its tasks on one node (Compose's `deploy.placement.max_replicas_per_node`);
     * tasks beyond what the nodes can take stay pending, and the deploy fails saying so. Replicated
     * services only. With it, `update.order` and `rollback.order` default to stop-first (Swarm
     * counts the old task against the limit while a start-first rollout places the new one).
     * @default no limit
     */
    maxReplicasPerNode: PositiveInt.optional(),
    /** Service labels; Dockyard's ownership labels are always added. @default none */
    labels: Labels.optional(),
    /**
     * @default parallelism 1, delay "5s", monitor "30s", start-first, roll back on failure; a one-shot
     * service (`restart.condition` none) has monitor "0s" and continues on failure, and Dockyard's
     * wait judges its tasks
     */
    update: RolloutPolicySchema.optional(),
    /** @default parallelism 1, delay "5s", monitor "30s", start-first, pause on failure (monitor "0s", continue for a one-shot service) */
    rollback: RolloutPolicySchema.optional(),
    /**
     * How long `pulumi up` waits for Swarm to report the service converged (its rolling update
     * completed, every task running and healthy) before failing the update.
     * @default "5m"
     */
    convergeTimeout: Duration.optional(),
    /** User the container runs as. @default the image's */
    user: Text("a user name or uid[:gid]").optional(),
    /** Mount the root filesystem read-only. @default false */
    readOnlyRootFilesystem: z.boolean().optional(),
    /** Allow a bind mount of the Docker socket (gives the service control of the node). @default false */
    allowDockerSocket: z.boolean().optional(),
    /**
     * How long a task has to stop after its stop signal before it is killed. Set it for a workload
     * that shuts down gracefully; `pulumi destroy` then fails if a task takes longer than this to go
     * (the Docker provider waits for it only that long). @default none: the provider sends 0, the task is killed at once
     */
    stopGracePeriod: Duration.optional(),
    /** The signal that stops a task. @default the image's STOPSIGNAL, else SIGTERM */
    stopSignal: z.string(expected(SIGNAL_HINT)).regex(/^(SIG[A-Z0-9+-]+|\d+)$/, expected(SIGNAL_HINT)).optional(),
    /** Capabilities added to or dropped from Docker's default set. @default Docker's default set */
    capabilities: z.strictObject({
        add: z.array(Capability).optional(),
        drop: z.array(Capability).optional(),
    }).optional(),
    /** Run an init process (tini) as PID 1, which reaps zombies and forwards signals. @default false */
    init: z.boolean().optional(),
    /** Kernel parameters of the task's namespaces, such as `net.core.somaxconn: "1024"`. @default none */
    sysctls: z.record(z.string().regex(/^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/, expected('a kernel parameter such as "net.core.somaxconn"')),
        z.union([z.string(), z.number()], expected("a value such as \"1024\"")).transform(String)).optional(),
    /** The container's host name. @default the task's container id */
    hostname: Text("a host name").optional(),
    /** The working directory of the command. @default the image's WORKDIR */
    workdir: AbsolutePath.optional(),
    /** Labels of each task's container (`labels` are the service's). @default none */
    containerLabels: Labels.optional(),
    /** Extra lines of the container's /etc/hosts. @default none */
    extraHosts: z.array(z.strictObject({ host: Text("a host name"), ip: Text("an IP address") })).optional(),
    /** The container's resolver. @default the engine's (Swarm's embedded DNS, then the node's) */
    dns: z.strictObject({
        nameservers: z.array(Text("a name server address")).min(1, expected("at least one name server")),
        search: z.array(Text("a search domain")).optional(),
        options: z.array(Text("a resolver option such as \"ndots:2\"")).optional(),
    }).optional(),
    /** Where the tasks' logs go. @default the engine's log driver */
    logging: z.strictObject({
        driver: Text("a log driver such as \"json-file\""),
        options: z.record(z.string(), z.string(expected("a string option value"))).optional(),
    }).optional(),
} as const;

/** Variable names of a service's environment (values may be secrets or Outputs). */
export const EnvSchema = z.record(EnvName, z.unknown());

export interface SecretMount {
    readonly secret: Secret;
    /**
     * File name under `/run/secrets` (a name, not a path).
     * @default the Secret component's name
     */
    readonly target?: string;
    /** The file's owner, a numeric uid such as "101" (Docker resolves no names here). @default "0" (root) */
    readonly uid?: string;
    /** Its group, a numeric gid. @default "0" (root) */
    readonly gid?: string;
    /** @default 0o444 */
    readonly mode?: number;
}
const SecretMountSchema = z.object({ target: SecretFile.optional(), uid: NumericId("uid").optional(), gid: NumericId("gid").optional(), mode: FileMode.optional() });

/** A Config mounted as a file. */
export interface ConfigMount {
    readonly config: Config;
    /** Absolute path of the file in the container. */
    readonly target: string;
    /** The file's owner, a numeric uid such as "101" (Docker resolves no names here). @default "0" (root) */
    readonly uid?: string;
    /** Its group, a numeric gid. @default "0" (root) */
    readonly gid?: string;
    /** @default 0o444 */
    readonly mode?: number;
}
const ConfigMountSchema = z.object({ target: AbsolutePath, uid: NumericId("uid").optional(), gid: NumericId("gid").optional(), mode: FileMode.optional() });

/** A volume, bind or tmpfs mount. Exactly one of `volume`, `hostPath` or `tmpfs` is given. */
export type Mount = Omit<z.input<ReturnType<typeof mountSchema>>, "volume"> & { readonly volume?: Volume };

type Settings = { -readonly [K in keyof typeof ServiceSettingsShape]?: z.input<(typeof ServiceSettingsShape)[K]> };

export interface ServiceArgs extends Settings {
    /** Image to run: a Dockyard `Image` (deployed by digest) or a reference, ideally `repo@sha256:...`. */
    readonly image: Image | pulumi.Input<string>;
    /**
     * Swarm service name, which is also its DNS name on its networks. Changing it replaces the service.
     * @default the component's name
     */
    readonly serviceName?: string;
    /**
     * Environment variables. Not for secrets: use `secrets`, which are files.
     * @default none
     */
    readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
    /** @default none */
    readonly secrets?: readonly SecretMount[];
    /** @default none */
    readonly configs?: readonly ConfigMount[];
    /**
     * Overlay networks to join; services reach each other by service name on a shared network.
     * @default none (only the ingress network when ports are published)
     */
    readonly networks?: readonly Network[];
    /**
     * Extra DNS names for the service on each of its networks. Needs `networks`.
     * @default none: reachable by `serviceName` only
     */
    readonly aliases?: readonly string[];
    /** @default none */
    readonly mounts?: readonly Mount[];
    /** Registry whose credentials the nodes use to pull the image. @default the image's registry, if any */
    readonly registry?: Registry;
}

const DEFAULT_UPDATE = {
    parallelism: 1,
    delay: "5s",
    monitor: "30s",
    maxFailureRatio: 0,
    order: UpdateOrder.StartFirst,
    failureAction: FailureAction.Rollback,
} as const;
const DEFAULT_ROLLBACK = { ...DEFAULT_UPDATE, failureAction: FailureAction.Pause } as const;
// Swarm counts a task that exits during a rollout as a failure, even with code 0, so it would roll
// every update of a one-shot service back: its rollouts continue without a monitor period (which
// would only count exits as failures), and the wait judges its tasks (done when they exit 0,
// failed when one fails).
const ONE_SHOT_UPDATE = { ...DEFAULT_UPDATE, monitor: "0s", failureAction: FailureAction.Continue } as const;
const ONE_SHOT_ROLLBACK = { ...DEFAULT_ROLLBACK, monitor: "0s", failureAction: FailureAction.Continue } as const;
/**
 * A service's rollout defaults. With `maxReplicasPerNode`, stop-first: Swarm counts the old task
 * against the limit while a start-first rollout places the new one, so on nodes already at the limit
 * the new task would find no node and every update would fail.
 */
function rolloutDefaults(args: ServiceArgs, oneShot: Required<RolloutPolicy>, usual: Required<RolloutPolicy>): Required<RolloutPolicy> {
    const defaults = isOneShot(args) ? oneShot : usual;
    return args.maxReplicasPerNode === undefined ? defaults : { ...defaults, order: UpdateOrder.StopFirst };
}
/**
 * Whether Swarm leaves every ended task ended: a one-shot service, rolled out with monitor "0s" and
 * failureAction continue unless set, and refused another failure action.
 */
export const isOneShot = (s: { readonly restart?: { readonly condition?: `${RestartCondition}` } }): boolean => s.restart?.condition === RestartCondition.None;
const DEFAULT_CONVERGE_TIMEOUT = "5m";
const DEFAULT_HEALTH = { interval: "10s", timeout: "5s", retries: 3, startPeriod: "10s" } as const;
const DEFAULT_RESTART = { condition: RestartCondition.OnFailure, delay: "5s", maxAttempts: 0, window: "0s" } as const;

/** What the workload checks need of its arguments; `ServiceArgs` and `ContainerArgs` both fit. */
export interface WorkloadArgs {
    readonly env?: Readonly<Record<string, unknown>>;
    readonly secrets?: readonly { readonly secret: { readonly logicalName: string }; readonly target?: string; readonly mode?: number; readonly uid?: string; readonly gid?: string }[];
    readonly configs?: readonly { readonly target: string; readonly mode?: number; readonly uid?: string; readonly gid?: string }[];
    readonly mounts?: readonly Mount[];
    readonly allowDockerSocket?: boolean;
}

/** Checks shared by services and plain containers: env names, files and mounts. */
export function checkWorkload(p: Problems, args: WorkloadArgs): void {
    if (args.env !== undefined) p.schema(EnvSchema, args.env, "env");
    const targets = new Map<string, string>();
    const claim = (target: string, what: string) => {
        const prior = targets.get(target);
        if (prior) p.conflict(`${what}: target ${JSON.stringify(target)} is already used by ${prior}; each path can be mounted once`);
        else targets.set(target, what);
    };
    (args.secrets ?? []).forEach((s, i) => {
        const { secret: _secret, ...settings } = s;
        p.schema(SecretMountSchema, settings, `secrets[${i}]`);
        claim(`/run/secrets/${s.target ?? s.secret.logicalName}`, `secrets[${i}]`);
    });
    (args.configs ?? []).forEach((c, i) => {
        const { config: _config, ...settings } = c as typeof c & { config?: unknown };
        p.schema(ConfigMountSchema, settings, `configs[${i}]`);
        claim(c.target, `configs[${i}]`);
    });
    (args.mounts ?? []).forEach((m, i) => {
        p.schema(mountSchema(z.unknown()), m, `mounts[${i}]`);
        if (typeof m.target === "string") claim(m.target, `mounts[${i}]`);
        const socket = typeof m.hostPath === "string" ? dockerSocketIn(m.hostPath) : undefined;
        if (socket && !args.allowDockerSocket) {
            p.conflict(`mounts[${i}].hostPath: ${JSON.stringify(m.hostPath)} ${socket}, which gives root on the node; set allowDockerSocket: true if that is intended`);
        }
    });
}

/** Rules between a service's plain settings. */
function settingsConflicts(p: Problems, s: Settings): void {
    if (s.replicas !== undefined && s.global) p.conflict(`replicas: ${s.replicas} cannot be combined with global: true; remove one of them`);
    if (s.maxReplicasPerNode !== undefined && s.global) p.conflict(`maxReplicasPerNode: ${s.maxReplicasPerNode} cannot be combined with global: true, which runs one task per node; remove one of them`);
    const published = new Map<string, number>();
    (s.ports ?? []).forEach((port, i) => {
        const key = `${publishedPort(port) ?? "any"}/${port.protocol ?? "tcp"}`;
        const prior = published.get(key);
        if (publishedPort(port) !== undefined && prior !== undefined) p.conflict(`ports[${i}]: port ${key} is already published by ports[${prior}]; publish each port once`);
        else published.set(key, i);
        if (s.endpointMode === EndpointMode.Dnsrr && (port.mode ?? PublishMode.Ingress) === PublishMode.Ingress) {
            p.conflict(`ports[${i}].mode: endpointMode "dnsrr" cannot publish through the ingress routing mesh; set mode "host" on every port`);
        }
    });
    for (const key of ["update", "rollback"] as const) {
        const action = s[key]?.failureAction;
        if (isOneShot(s) && action !== undefined && action !== FailureAction.Continue) {
            p.conflict(`${key}.failureAction: ${JSON.stringify(action)} cannot judge a one-shot service (restart.condition "none"): Swarm counts a task that exits during a rollout as failed, even with code 0; ` +
                'leave it unset or set "continue", and Dockyard\'s wait judges the tasks (a task that exited 0 is done)');
        }
    }
    if (s.rollback?.failureAction === FailureAction.Rollback) {
        p.conflict('rollback.failureAction: a failed rollback cannot itself be rolled back; use "pause" or "continue"');
    }
    const lim = s.limits?.memory !== undefined ? memoryBytes(s.limits.memory) : undefined;
    const res = s.reservations?.memory !== undefined ? memoryBytes(s.reservations.memory) : undefined;
    if (lim !== undefined && res !== undefined && res > lim) {
        p.conflict(`reservations.memory: ${JSON.stringify(s.reservations!.memory)} is more than limits.memory ${JSON.stringify(s.limits!.memory)}; reserve at most the limit`);
    }
}

/** Every problem with a service's arguments; `Service.check` and the constructor use it. */
function checkService(name: string, args: ServiceArgs): readonly string[] {
    const p = new Problems("Service", name);
    const { image: _i, serviceName, env: _e, secrets: _s, configs: _c, networks, aliases, mounts: _m, registry: _r, ...settings } = args;
    // Without serviceName the component's own name is used: blame the arg the caller actually gave.
    p.schema(z.strictObject({ [serviceName === undefined ? "name" : "serviceName"]: DockerName }), { [serviceName === undefined ? "name" : "serviceName"]: serviceName ?? name });
    p.schema(z.strictObject({ ...ServiceSettingsShape, aliases: z.array(DockerName).optional() }), { ...settings, aliases });
    settingsConflicts(p, settings);
    checkWorkload(p, args);
    if (aliases?.length && !networks?.length) p.conflict("aliases: names are given on networks, but the service joins none; add networks");
    (networks ?? []).forEach((n, i) => {
        if (n.driver !== NetworkDriver.Overlay) p.conflict(`networks[${i}]: services need overlay networks, but this one's driver is ${JSON.stringify(n.driver)}`);
    });
    return p.list;
}

function rollout(r: RolloutPolicy | undefined, defaults: Required<RolloutPolicy>) {
    const v = withDefaults(defaults, r);
    return {
        parallelism: v.parallelism,
        delay: v.delay,
        monitor: v.monitor,
        maxFailureRatio: String(v.maxFailureRatio),
        order: v.order,
        failureAction: v.failureAction,
    };
}
function resources(r: Resources | undefined) {
    if (!r) return undefined;
    return {
        nanoCpus: r.cpus !== undefined ? Math.round(r.cpus * 1e9) : undefined,
        memoryBytes: r.memory !== undefined ? memoryBytes(r.memory) : undefined,
    };
}
/** The endpoints the convergence wait printed on success (none while it has not run). */
function endpointsOf(stdout: string | undefined): string[] {
    try {
        const endpoints = JSON.parse(stdout ?? "").endpoints;
        return Array.isArray(endpoints) ? endpoints.map(String) : [];
    } catch {
        return [];
    }
}
/**
 * The given constraints, or `node.id==<id>` for each node holding a mounted node-local volume
 * (an engine outside Swarm has no node id: nothing to pin).
 */
function placementConstraints(given: readonly string[] | undefined, pins: pulumi.Output<string>[]): pulumi.Input<string[]> | undefined {
    if (!pins.length) return given ? [...given] : undefined;
    return pulumi.all(pins).apply((ids) => [...(given ?? []), ...[...new Set(ids.filter(Boolean))].map((id) => `node.id==${id}`)]);
}
/** The provider's mount shape (the same for services and containers) for a validated Mount. */
export function mountSpec(m: Mount) {
    const readOnly = m.readOnly ?? false;
    if (m.volume) return { type: "volume", source: m.volume.volumeName, target: m.target, readOnly, ...(m.noCopy ? { volumeOptions: { noCopy: true } } : {}) };
    if (m.hostPath !== undefined) return { type: "bind", source: m.hostPath, target: m.target, readOnly };
    const tmpfs = typeof m.tmpfs === "object" ? m.tmpfs : { size: m.tmpfs };
    // Left out, each is Docker's default (no size limit, mode 1777).
    const options = { ...(tmpfs.size === undefined ? {} : { sizeBytes: memoryBytes(tmpfs.size) }), ...(tmpfs.mode === undefined ? {} : { mode: tmpfs.mode }) };
    return { type: "tmpfs", target: m.target, readOnly, ...(Object.keys(options).length ? { tmpfsOptions: options } : {}) };
}
/** `NET_ADMIN` as Docker writes it, `CAP_NET_ADMIN` (`ALL` stays `ALL`). */
function capability(name: string): string {
    return name === "ALL" || name.startsWith("CAP_") ? name : `CAP_${name}`;
}
/** The provider's health-check shape (the same for services and containers), with the defaults. */
export function healthcheckSpec(h: HealthCheck) {
    // Docker's test ["NONE"] turns off the image's HEALTHCHECK as well.
    if (h.disable) return { tests: ["NONE"] };
    const v = withDefaults(DEFAULT_HEALTH, h);
    return {
        // An exec array, or a shell string run with CMD-SHELL; none: the image's, with these timings.
        ...(v.command === undefined ? {} : { tests: typeof v.command === "string" ? ["CMD-SHELL", v.command] : ["CMD", ...v.command] }),
        interval: v.interval,
        timeout: v.timeout,
        retries: v.retries,
        startPeriod: v.startPeriod,
    };
}

/**
 * A Swarm service with safe rollout defaults: start-first rolling updates one task at a time,
 * automatic rollback when new tasks fail, and `pulumi up` waiting until Swarm reports the service
 * converged (a child `<name>-converged`, global services included), so a failed or rolled-back
 * rollout fails the update and says why: each failed task's state, error, exit code, last health
 * checks and log lines.
 *
 * Updated in place (rolling, no replacement): image, env, command, secrets, configs, mounts,
 * networks, ports, health check, resources, placement, labels, replicas, rollout policies.
 * Replaced (the service is removed and recreated, with downtime): `serviceName` and switching
 * between replicated and `global` mode.
 */
export class Service extends pulumi.ComponentResource {
    /** True for a Service of any copy of this library. */
    static isInstance(v: unknown): v is Service {
        return hasBrand(v, "Service");
    }

    /** Every problem with these arguments (empty when they are valid); the constructor throws them. */
    static check(name: string, args: ServiceArgs): readonly string[] {
        return checkService(name, args);
    }

    /** The Swarm service name (its DNS name on its networks). */
    public readonly serviceName: pulumi.Output<string>;
    /** The Swarm service id. */
    public readonly serviceId: pulumi.Output<string>;
    /** The image reference the service runs. */
    public readonly imageRef: pulumi.Output<string>;
    /**
     * `address:port` where each published port answers, as of the last change (a host-mode port
     * Swarm picks, `published: "any"`, is another one after each restart of a task): every ready node for
     * the routing mesh, the nodes running a task for host mode. A node's address is the one it has
     * in the Swarm, or its label `dockyard.address` (e.g. a public name) when set.
     */
    public readonly endpoints: pulumi.Output<string[]>;
    public readonly service: docker.Service;
    /** Waits until Swarm reports the service converged after each change; fails the update, saying why, when it does not. */
    public readonly converged: command.local.Command;

    constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:swarm:Service", name, {}, opts);
        brand(this, "Service");
        rejectIfAny(this, "Service", name, checkService(name, args));
        // The wait runs from the project directory: a deploy that could not watch its rollout fails here, before Swarm is touched.
        const unwatchable = waitProblem(process.cwd());
        if (unwatchable) throw new pulumi.ResourceError(`Service "${name}": ${unwatchable}`, this, true);

        const built = Image.isInstance(args.image) ? args.image : undefined;
        const image = built ? built.imageRef : pulumi.output(args.image as pulumi.Input<string>);
        const registry = args.registry ?? built?.registry;
        const restart = withDefaults(DEFAULT_RESTART, args.restart);
        const deps: pulumi.Resource[] = [
            ...(built ? [built] : []),
            ...(args.secrets ?? []).map((s) => s.secret),
            ...(args.configs ?? []).map((c) => c.config),
            ...(args.networks ?? []),
            ...(args.mounts ?? []).flatMap((m) => (m.volume ? [m.volume] : [])),
        ];

        // Node-local volumes pin the service to the node holding their data, unless the service is
        // placed by constraints of its own: then where its data lives is the stack's choice.
        const pins = args.constraints?.length ? [] : (args.mounts ?? []).flatMap((m) => (m.volume?.node ? [m.volume.node] : []));
        const spec: docker.ServiceArgs = {
            name: args.serviceName ?? name,
            labels: labelList(name, args.labels),
            mode: args.global ? { global: true } : { replicated: { replicas: args.replicas ?? 1 } },
            auth: registry?.serviceAuth,
            taskSpec: {
                containerSpec: {
                    image,
                    commands: args.command ? [...args.command] : undefined,
                    args: args.args ? [...args.args] : undefined,
                    env: args.env ? { ...args.env } : undefined,
                    user: args.user,
                    readOnly: args.readOnlyRootFilesystem ?? false,
                    secrets: args.secrets?.map((s) => ({
                        secretId: s.secret.secretId,
                        secretName: s.secret.secretName,
                        fileName: `/run/secrets/${s.target ?? s.secret.logicalName}`,
                        fileUid: s.uid ?? "0",
                        fileGid: s.gid ?? "0",
                        fileMode: s.mode ?? 0o444,
                    })),
                    configs: args.configs?.map((c) => ({
                        configId: c.config.configId,
                        configName: c.config.configName,
                        fileName: c.target,
                        fileUid: c.uid ?? "0",
                        fileGid: c.gid ?? "0",
                        fileMode: c.mode ?? 0o444,
                    })),
                    mounts: args.mounts?.map(mountSpec),
                    // This block and stopGracePeriod, init, dnsConfig, resources and placement are always sent,
                    // as Swarm has them for a service that never had the setting: the Docker provider keeps a
                    // block it is no longer sent (Optional + Computed), so a removed setting would stay in Swarm.
                    healthcheck: args.healthCheck ? healthcheckSpec(args.healthCheck) : { tests: [] },
                    // Not Swarm's 10 s by default: the Docker provider's delete waits only the grace period for each
                    // task's container to go and fails the destroy when it takes longer (kreuzwerker deleteService).
                    stopGracePeriod: args.stopGracePeriod ?? "0s",
                    stopSignal: args.stopSignal,
                    capAdds: args.capabilities?.add?.map(capability),
                    capDrops: args.capabilities?.drop?.map(capability),
                    init: args.init ?? false,
                    sysctl: args.sysctls ? Object.fromEntries(Object.entries(args.sysctls).map(([k, v]) => [k, String(v)])) : undefined,
                    hostname: args.hostname,
                    dir: args.workdir,
                    hosts: args.extraHosts?.map((h) => ({ host: h.host, ip: h.ip })),
                    dnsConfig: args.dns ? { nameservers: [...args.dns.nameservers], searches: args.dns.search && [...args.dns.search], options: args.dns.options && [...args.dns.options] } : { nameservers: [] },
                    labels: args.containerLabels ? Object.entries(args.containerLabels).map(([label, value]) => ({ label, value })) : undefined,
                },
                logDriver: args.logging ? { name: args.logging.driver, options: args.logging.options ? { ...args.logging.options } : undefined } : undefined,
                networksAdvanceds: args.networks?.map((n) => ({ id: n.networkId, aliases: args.aliases ? [...args.aliases] : undefined })),
                restartPolicy: restart,
                resources: { limits: resources(args.limits), reservation: resources(args.reservations) },
                // The provider takes each preference's spread descriptor (`node.labels.zone`), whatever its
                // docs' `spread=...` example suggests: given `spread=x`, Swarm would spread over a label named `spread=x`.
                placement: {
                    constraints: placementConstraints(args.constraints, pins) ?? [],
                    prefs: args.preferences?.map((p) => p.replace(/^spread=/, "")) ?? [],
                    maxReplicas: args.maxReplicasPerNode ?? 0,
                },
            },
            endpointSpec: {
                mode: args.endpointMode ?? EndpointMode.Vip,
                ports: args.ports?.map((port) => ({
                    targetPort: port.target,
                    publishedPort: publishedPort(port),
                    protocol: port.protocol ?? "tcp",
                    publishMode: port.mode ?? PublishMode.Ingress,
                })),
            },
            updateConfig: rollout(args.update, rolloutDefaults(args, ONE_SHOT_UPDATE, DEFAULT_UPDATE)),
            rollbackConfig: rollout(args.rollback, rolloutDefaults(args, ONE_SHOT_ROLLBACK, DEFAULT_ROLLBACK)),
        };
        // With a placement set, the provider reads back the platforms Swarm resolved from the image's
        // manifest; they are Swarm's to keep, not a change to undo on the next deploy.
        this.service = new docker.Service(childName(name, "service"), spec, { parent: this, dependsOn: deps, ignoreChanges: ["taskSpec.placement.platforms"] });

        // The provider's own wait (convergeConfig) counts running tasks, which passes in the middle
        // of a start-first rollout and cannot watch global services; and it deletes a service that
        // fails its first convergence, taking the reason with it. Swarm's own word instead: the
        // update status and the tasks, asked again after every change of the spec.
        const anyPorts = (args.ports ?? []).filter((port) => publishedPort(port) === undefined)
            .map((port) => ({ target: port.target, protocol: port.protocol ?? "tcp" }));
        this.converged = new command.local.Command(
            childName(name, "converged"),
            {
                create: 'node -e "$DOCKYARD_SCRIPT"',
                environment: {
                    DOCKYARD_SCRIPT: CONVERGE_SCRIPT,
                    SERVICE_ID: this.service.id,
                    SERVICE_NAME: this.service.name,
                    TIMEOUT: args.convergeTimeout ?? DEFAULT_CONVERGE_TIMEOUT,
                    // Any change of the spec changes this, so the wait runs again after every update.
                    SPEC: pulumi.unsecret(pulumi.jsonStringify(spec).apply((j) => shortHash([j], 16))),
                    // The ports left to Swarm, which the wait checks the provider really left to it.
                    ...(anyPorts.length ? { ANY_PORTS: JSON.stringify(anyPorts) } : {}),
                },
                logging: "stderr",
            },
            { parent: this, dependsOn: [this.service] },
        );

        this.serviceName = this.service.name;
        this.serviceId = this.service.id;
        this.imageRef = image;
        this.endpoints = args.ports?.length ? this.converged.stdout.apply(endpointsOf) : pulumi.output([]);
        this.registerOutputs({
            serviceName: this.serviceName,
            serviceId: this.serviceId,
            imageRef: this.imageRef,
            endpoints: this.endpoints,
        });
    }
}
