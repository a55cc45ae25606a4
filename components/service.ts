import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Config } from "./config";
import { Image } from "./image";
import {
    DOCKER_NAME_HINT,
    DURATION_HINT,
    MEMORY_HINT,
    Problems,
    childName,
    enumValues,
    isDockerName,
    isDuration,
    isNonNegativeInt,
    isPort,
    isPositiveInt,
    labelList,
    memoryBytes,
} from "./internal";
import { Network, NetworkDriver } from "./network";
import type { Registry } from "./registry";
import { Secret } from "./secret";
import { Volume } from "./volume";

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

/** How a rollout (update or rollback) proceeds. */
export interface RolloutPolicy {
    /**
     * Tasks changed at once (0 means all at once).
     * @default 1
     */
    readonly parallelism?: number;
    /**
     * Pause between batches.
     * @default "5s"
     */
    readonly delay?: string;
    /**
     * How long each new task is watched for failure before the next batch.
     * @default "30s"
     */
    readonly monitor?: string;
    /**
     * Share of tasks that may fail before the failure action runs (0 to 1).
     * @default 0
     */
    readonly maxFailureRatio?: number;
    /**
     * Start new tasks before stopping old ones, or the reverse.
     * @default UpdateOrder.StartFirst
     */
    readonly order?: UpdateOrder;
    /**
     * What to do when the rollout fails. For updates `Pause` and `Continue` are allowed too; for
     * rollbacks only `Pause` and `Continue` are meaningful.
     * @default FailureAction.Rollback for updates, FailureAction.Pause for rollbacks
     */
    readonly failureAction?: FailureAction;
}

export interface HealthCheck {
    /**
     * Command run inside the container: an exec array (`["wget", "-q", "-O-", "http://127.0.0.1:8080/healthz"]`)
     * or a shell string (run with `CMD-SHELL`). Exit 0 means healthy.
     */
    readonly command: readonly string[] | string;
    /** @default "10s" */
    readonly interval?: string;
    /** @default "5s" */
    readonly timeout?: string;
    /** @default 3 */
    readonly retries?: number;
    /** Grace period after start during which failures do not count. @default "10s" */
    readonly startPeriod?: string;
}

export interface PortMapping {
    /** Port the container listens on. */
    readonly target: number;
    /**
     * Port published on the nodes.
     * @default the same as `target`
     */
    readonly published?: number;
    /** @default "tcp" */
    readonly protocol?: "tcp" | "udp";
    /**
     * @default PublishMode.Ingress - reachable on every node
     */
    readonly mode?: PublishMode;
}

/** A Secret mounted as a file. */
export interface SecretMount {
    readonly secret: Secret;
    /**
     * File name under `/run/secrets` (a name, not a path).
     * @default the Secret component's name
     */
    readonly target?: string;
    /** @default "0" (root) */
    readonly uid?: string;
    /** @default "0" (root) */
    readonly gid?: string;
    /** @default 0o444 */
    readonly mode?: number;
}

/** A Config mounted as a file. */
export interface ConfigMount {
    readonly config: Config;
    /** Absolute path of the file in the container. */
    readonly target: string;
    /** @default 0o444 */
    readonly mode?: number;
}

/** A volume, bind or tmpfs mount. Exactly one of `volume`, `hostPath` or `tmpfs` is given. */
export interface Mount {
    /** Absolute path in the container. */
    readonly target: string;
    /** A Dockyard volume. */
    readonly volume?: Volume;
    /** A path on the node (bind mount). Mounting the Docker socket also needs `allowDockerSocket`. */
    readonly hostPath?: string;
    /** An in-memory filesystem of this many bytes (or "64m"). */
    readonly tmpfs?: number | string;
    /** @default false */
    readonly readOnly?: boolean;
}

export interface Resources {
    /** CPUs, e.g. 0.5. */
    readonly cpus?: number;
    /** Bytes or a size such as "256m". */
    readonly memory?: number | string;
}

export interface ServiceArgs {
    /** Image to run: a Dockyard `Image` (deployed by digest) or a reference, ideally `repo@sha256:...`. */
    readonly image: Image | pulumi.Input<string>;
    /**
     * Swarm service name, which is also its DNS name on its networks. Changing it replaces the service.
     * @default the component's name
     */
    readonly serviceName?: string;
    /**
     * Number of tasks. Not allowed with `global`.
     * @default 1
     */
    readonly replicas?: number;
    /**
     * Run one task on every node instead of `replicas` tasks. Changing it replaces the service.
     * @default false
     */
    readonly global?: boolean;
    /** Replaces the image's ENTRYPOINT. @default the image's */
    readonly command?: readonly string[];
    /** Replaces the image's CMD. @default the image's */
    readonly args?: readonly string[];
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
     * Networks to join; services reach each other by service name on a shared network.
     * @default none (only the ingress network when ports are published)
     */
    readonly networks?: readonly Network[];
    /**
     * Extra DNS names for the service on each of its networks.
     * @default none: reachable by `serviceName` only
     */
    readonly aliases?: readonly string[];
    /** @default none */
    readonly mounts?: readonly Mount[];
    /** @default none: nothing is published */
    readonly ports?: readonly PortMapping[];
    /**
     * How other services find this one's tasks.
     * @default EndpointMode.Vip
     */
    readonly endpointMode?: EndpointMode;
    /**
     * Container health check; Swarm replaces unhealthy tasks and rolls back updates whose tasks
     * never become healthy.
     * @default the image's HEALTHCHECK, if any
     */
    readonly healthCheck?: HealthCheck;
    /**
     * @default restart on failure, 5s apart, without limit
     */
    readonly restart?: {
        readonly condition?: RestartCondition;
        readonly delay?: string;
        readonly maxAttempts?: number;
        readonly window?: string;
    };
    /** Hard limits. @default none */
    readonly limits?: Resources;
    /** Capacity the scheduler sets aside. @default none */
    readonly reservations?: Resources;
    /** Placement constraints such as `node.role==worker`. @default none */
    readonly constraints?: readonly string[];
    /** Placement preferences such as `spread=node.labels.zone`. @default none */
    readonly preferences?: readonly string[];
    /** Service labels; Dockyard's ownership labels are always added. @default none */
    readonly labels?: Readonly<Record<string, string>>;
    /** @default parallelism 1, delay "5s", monitor "30s", start-first, roll back on failure */
    readonly update?: RolloutPolicy;
    /** @default parallelism 1, delay "5s", monitor "30s", start-first, pause on failure */
    readonly rollback?: RolloutPolicy;
    /**
     * How long `pulumi up` waits for the service to converge before failing the update. Global
     * services are not waited for: the Docker provider cannot watch their convergence.
     * @default "5m"
     */
    readonly convergeTimeout?: string;
    /** User the container runs as. @default the image's */
    readonly user?: string;
    /** Mount the root filesystem read-only. @default false */
    readonly readOnlyRootFilesystem?: boolean;
    /** Registry whose credentials the nodes use to pull the image. @default the image's registry, if any */
    readonly registry?: Registry;
    /** Allow a bind mount of the Docker socket (gives the service control of the node). @default false */
    readonly allowDockerSocket?: boolean;
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
const DEFAULT_HEALTH = { interval: "10s", timeout: "5s", retries: 3, startPeriod: "10s" } as const;
const DEFAULT_RESTART = { condition: RestartCondition.OnFailure, delay: "5s", maxAttempts: 0, window: "0s" } as const;
const DOCKER_SOCKET = /^\/(var\/)?run\/docker\.sock$/;
const SECRET_FILE = /^[a-zA-Z0-9_.-]+$/;

/** Validate everything that can be known at construction; report all problems at once. */
export function validateServiceArgs(name: string, args: ServiceArgs, kind = "Service"): Problems {
    const p = new Problems(kind, name);
    const serviceName = args.serviceName ?? name;
    // Without serviceName the component's own name is used: blame the arg the caller actually gave.
    p.check(isDockerName(serviceName), args.serviceName === undefined ? "name" : "serviceName", serviceName, DOCKER_NAME_HINT);
    if (args.replicas !== undefined) {
        p.check(isNonNegativeInt(args.replicas), "replicas", args.replicas, "a whole number of tasks, 0 or more");
        if (args.global) p.conflict(`replicas: ${args.replicas} cannot be combined with global: true; remove one of them`);
    }

    for (const [key] of Object.entries(args.env ?? {})) {
        p.check(/^[A-Za-z_][A-Za-z0-9_]*$/.test(key), `env.${key}`, key, "a variable name of letters, digits and '_'");
    }

    const targets = new Map<string, string>();
    const claim = (target: string, what: string) => {
        const prior = targets.get(target);
        if (prior) p.conflict(`${what}: target ${JSON.stringify(target)} is already used by ${prior}; each path can be mounted once`);
        else targets.set(target, what);
    };
    (args.secrets ?? []).forEach((s, i) => {
        const file = s.target ?? s.secret.logicalName;
        if (s.target !== undefined) {
            p.check(SECRET_FILE.test(s.target) && s.target !== "." && s.target !== "..", `secrets[${i}].target`, s.target,
                'a file name under /run/secrets such as "db_password" (no "/")');
        }
        claim(`/run/secrets/${file}`, `secrets[${i}]`);
        if (s.mode !== undefined) p.check(isFileMode(s.mode), `secrets[${i}].mode`, s.mode, "a file mode from 0 to 0o777");
    });
    (args.configs ?? []).forEach((c, i) => {
        p.check(isAbsolute(c.target), `configs[${i}].target`, c.target, 'an absolute path such as "/etc/app/app.yaml"');
        claim(c.target, `configs[${i}]`);
        if (c.mode !== undefined) p.check(isFileMode(c.mode), `configs[${i}].mode`, c.mode, "a file mode from 0 to 0o777");
    });
    (args.mounts ?? []).forEach((m, i) => {
        const kinds = [m.volume, m.hostPath, m.tmpfs].filter((k) => k !== undefined).length;
        if (kinds !== 1) p.conflict(`mounts[${i}]: give exactly one of volume, hostPath or tmpfs (got ${kinds})`);
        p.check(isAbsolute(m.target), `mounts[${i}].target`, m.target, 'an absolute path such as "/data"');
        claim(m.target, `mounts[${i}]`);
        if (m.hostPath !== undefined) {
            p.check(isAbsolute(m.hostPath), `mounts[${i}].hostPath`, m.hostPath, "an absolute path on the node");
            if (DOCKER_SOCKET.test(m.hostPath) && !args.allowDockerSocket) {
                p.conflict(`mounts[${i}].hostPath: ${JSON.stringify(m.hostPath)} is the Docker socket, which gives the service root on the node; set allowDockerSocket: true if that is intended`);
            }
        }
        if (m.tmpfs !== undefined) p.check(memoryBytes(m.tmpfs) !== undefined, `mounts[${i}].tmpfs`, m.tmpfs, MEMORY_HINT);
    });

    const published = new Map<string, number>();
    (args.ports ?? []).forEach((port, i) => {
        p.check(isPort(port.target), `ports[${i}].target`, port.target, "a port from 1 to 65535");
        if (port.published !== undefined) p.check(isPort(port.published), `ports[${i}].published`, port.published, "a port from 1 to 65535");
        if (port.mode !== undefined) p.check(Object.values(PublishMode).includes(port.mode), `ports[${i}].mode`, port.mode, `one of ${enumValues(PublishMode)}`);
        if (port.protocol !== undefined) p.check(["tcp", "udp"].includes(port.protocol), `ports[${i}].protocol`, port.protocol, '"tcp" or "udp"');
        const key = `${port.published ?? port.target}/${port.protocol ?? "tcp"}`;
        const prior = published.get(key);
        if (prior !== undefined) p.conflict(`ports[${i}]: port ${key} is already published by ports[${prior}]; publish each port once`);
        else published.set(key, i);
    });
    if (args.endpointMode !== undefined) {
        p.check(Object.values(EndpointMode).includes(args.endpointMode), "endpointMode", args.endpointMode, `one of ${enumValues(EndpointMode)}`);
        if (args.endpointMode === EndpointMode.Dnsrr && (args.ports ?? []).some((x) => (x.mode ?? PublishMode.Ingress) === PublishMode.Ingress)) {
            p.conflict('endpointMode: "dnsrr" cannot publish ports through the ingress routing mesh; set mode: PublishMode.Host on every port');
        }
    }

    (args.aliases ?? []).forEach((a, i) => p.check(isDockerName(a), `aliases[${i}]`, a, DOCKER_NAME_HINT));
    if (args.aliases?.length && !args.networks?.length) p.conflict("aliases: names are given on networks, but the service joins none; add networks");
    (args.networks ?? []).forEach((n, i) => {
        if (n.driver !== NetworkDriver.Overlay) {
            p.conflict(`networks[${i}]: services need overlay networks, but this one's driver is ${JSON.stringify(n.driver)}`);
        }
    });

    const h = args.healthCheck;
    if (h) {
        const cmd = h.command;
        p.check(typeof cmd === "string" ? cmd.trim().length > 0 : Array.isArray(cmd) && cmd.length > 0 && cmd.every((c) => typeof c === "string"),
            "healthCheck.command", cmd, "a non-empty command array or shell string");
        for (const k of ["interval", "timeout", "startPeriod"] as const) {
            if (h[k] !== undefined) p.check(isDuration(h[k]), `healthCheck.${k}`, h[k], DURATION_HINT);
        }
        if (h.retries !== undefined) p.check(isPositiveInt(h.retries), "healthCheck.retries", h.retries, "a whole number of 1 or more");
    }
    if (args.restart) {
        const r = args.restart;
        if (r.condition !== undefined) p.check(Object.values(RestartCondition).includes(r.condition), "restart.condition", r.condition, `one of ${enumValues(RestartCondition)}`);
        for (const k of ["delay", "window"] as const) if (r[k] !== undefined) p.check(isDuration(r[k]), `restart.${k}`, r[k], DURATION_HINT);
        if (r.maxAttempts !== undefined) p.check(isNonNegativeInt(r.maxAttempts), "restart.maxAttempts", r.maxAttempts, "a whole number, 0 for no limit");
    }
    checkRollout(p, "update", args.update);
    checkRollout(p, "rollback", args.rollback);
    if (args.rollback?.failureAction === FailureAction.Rollback) {
        p.conflict('rollback.failureAction: a failed rollback cannot itself be rolled back; use "pause" or "continue"');
    }
    if (args.convergeTimeout !== undefined) p.check(isDuration(args.convergeTimeout), "convergeTimeout", args.convergeTimeout, DURATION_HINT);
    checkResources(p, "limits", args.limits);
    checkResources(p, "reservations", args.reservations);
    const lim = args.limits?.memory !== undefined ? memoryBytes(args.limits.memory) : undefined;
    const res = args.reservations?.memory !== undefined ? memoryBytes(args.reservations.memory) : undefined;
    if (lim !== undefined && res !== undefined && res > lim) {
        p.conflict(`reservations.memory: ${JSON.stringify(args.reservations!.memory)} is more than limits.memory ${JSON.stringify(args.limits!.memory)}; reserve at most the limit`);
    }
    (args.constraints ?? []).forEach((c, i) =>
        p.check(/^\s*[\w.-]+\s*(==|!=)\s*\S+\s*$/.test(c), `constraints[${i}]`, c, 'a constraint such as "node.role==manager"'));
    return p;
}

function isAbsolute(path: unknown): boolean {
    return typeof path === "string" && path.startsWith("/") && !path.split("/").includes("..");
}
function isFileMode(m: unknown): boolean {
    return Number.isInteger(m) && (m as number) >= 0 && (m as number) <= 0o777;
}
function checkRollout(p: Problems, arg: string, r: RolloutPolicy | undefined): void {
    if (!r) return;
    if (r.parallelism !== undefined) p.check(isNonNegativeInt(r.parallelism), `${arg}.parallelism`, r.parallelism, "a whole number, 0 for all at once");
    for (const k of ["delay", "monitor"] as const) if (r[k] !== undefined) p.check(isDuration(r[k]), `${arg}.${k}`, r[k], DURATION_HINT);
    if (r.maxFailureRatio !== undefined) {
        p.check(typeof r.maxFailureRatio === "number" && r.maxFailureRatio >= 0 && r.maxFailureRatio <= 1, `${arg}.maxFailureRatio`, r.maxFailureRatio, "a number from 0 to 1");
    }
    if (r.order !== undefined) p.check(Object.values(UpdateOrder).includes(r.order), `${arg}.order`, r.order, `one of ${enumValues(UpdateOrder)}`);
    if (r.failureAction !== undefined) p.check(Object.values(FailureAction).includes(r.failureAction), `${arg}.failureAction`, r.failureAction, `one of ${enumValues(FailureAction)}`);
}
function checkResources(p: Problems, arg: string, r: Resources | undefined): void {
    if (!r) return;
    if (r.cpus !== undefined) p.check(typeof r.cpus === "number" && r.cpus > 0, `${arg}.cpus`, r.cpus, "a positive number of CPUs such as 0.5");
    if (r.memory !== undefined) p.check(memoryBytes(r.memory) !== undefined, `${arg}.memory`, r.memory, MEMORY_HINT);
}

/** `given` over `defaults`; a key given as undefined keeps its default (a plain spread would drop it). */
function withDefaults<D extends object, G extends object>(defaults: D, given: G | undefined): D & G {
    const defined = Object.entries(given ?? {}).filter(([, v]) => v !== undefined);
    return { ...defaults, ...Object.fromEntries(defined) } as D & G;
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
/** The provider's mount shape (the same for services and containers) for a validated Mount. */
export function mountSpec(m: Mount) {
    const readOnly = m.readOnly ?? false;
    if (m.volume) return { type: "volume", source: m.volume.volumeName, target: m.target, readOnly };
    if (m.hostPath !== undefined) return { type: "bind", source: m.hostPath, target: m.target, readOnly };
    return { type: "tmpfs", target: m.target, readOnly, tmpfsOptions: { sizeBytes: memoryBytes(m.tmpfs!) } };
}
/** Docker's health-check test: an exec array, or a shell string run with CMD-SHELL. */
export function healthTests(command: readonly string[] | string): string[] {
    return typeof command === "string" ? ["CMD-SHELL", command] : ["CMD", ...command];
}

/**
 * A Swarm service with safe rollout defaults: start-first rolling updates one task at a time,
 * automatic rollback when new tasks fail, and `pulumi up` waiting for convergence so a failed
 * rollout fails the update.
 *
 * Updated in place (rolling, no replacement): image, env, command, secrets, configs, mounts,
 * networks, ports, health check, resources, placement, labels, replicas, rollout policies.
 * Replaced (the service is removed and recreated, with downtime): `serviceName` and switching
 * between replicated and `global` mode.
 */
export class Service extends pulumi.ComponentResource {
    /** The Swarm service name (its DNS name on its networks). */
    public readonly serviceName: pulumi.Output<string>;
    /** The Swarm service id. */
    public readonly serviceId: pulumi.Output<string>;
    /** The image reference the service runs. */
    public readonly imageRef: pulumi.Output<string>;
    /** `host:port` for every published port, on the node running the deployment. */
    public readonly endpoints: pulumi.Output<string[]>;
    public readonly service: docker.Service;

    constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:swarm:Service", name, {}, opts);
        validateServiceArgs(name, args).throwIfAny(this);

        const image = args.image instanceof Image ? args.image.imageRef : pulumi.output(args.image);
        const registry = args.registry ?? (args.image instanceof Image ? args.image.registry : undefined);
        const health = args.healthCheck ? withDefaults(DEFAULT_HEALTH, args.healthCheck) : undefined;
        const restart = withDefaults(DEFAULT_RESTART, args.restart);
        const deps: pulumi.Resource[] = [
            ...(args.image instanceof Image ? [args.image] : []),
            ...(args.secrets ?? []).map((s) => s.secret),
            ...(args.configs ?? []).map((c) => c.config),
            ...(args.networks ?? []),
            ...(args.mounts ?? []).flatMap((m) => (m.volume ? [m.volume] : [])),
        ];

        this.service = new docker.Service(
            childName(name, "service"),
            {
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
                            fileMode: c.mode ?? 0o444,
                        })),
                        mounts: args.mounts?.map(mountSpec),
                        healthcheck: health && {
                            tests: healthTests(health.command),
                            interval: health.interval,
                            timeout: health.timeout,
                            retries: health.retries,
                            startPeriod: health.startPeriod,
                        },
                    },
                    networksAdvanceds: args.networks?.map((n) => ({ id: n.networkId, aliases: args.aliases ? [...args.aliases] : undefined })),
                    restartPolicy: restart,
                    resources: args.limits || args.reservations
                        ? { limits: resources(args.limits), reservation: resources(args.reservations) }
                        : undefined,
                    placement: args.constraints || args.preferences
                        ? { constraints: args.constraints ? [...args.constraints] : undefined, prefs: args.preferences ? [...args.preferences] : undefined }
                        : undefined,
                },
                endpointSpec: {
                    mode: args.endpointMode ?? EndpointMode.Vip,
                    ports: args.ports?.map((port) => ({
                        targetPort: port.target,
                        publishedPort: port.published ?? port.target,
                        protocol: port.protocol ?? "tcp",
                        publishMode: port.mode ?? PublishMode.Ingress,
                    })),
                },
                updateConfig: rollout(args.update, DEFAULT_UPDATE),
                rollbackConfig: rollout(args.rollback, DEFAULT_ROLLBACK),
                // The provider cannot wait for global services (it rejects convergeConfig with global mode).
                convergeConfig: args.global ? undefined : { delay: "2s", timeout: args.convergeTimeout ?? "5m" },
            },
            { parent: this, dependsOn: deps },
        );

        this.serviceName = this.service.name;
        this.serviceId = this.service.id;
        this.imageRef = image;
        this.endpoints = pulumi.output(
            (args.ports ?? []).map((port) => `localhost:${port.published ?? port.target}`),
        );
        this.registerOutputs({
            serviceName: this.serviceName,
            serviceId: this.serviceId,
            imageRef: this.imageRef,
            endpoints: this.endpoints,
        });
    }
}
