import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Image } from "./image";
import { Problems, childName, enumValues, isPort, labelList, memoryBytes } from "./internal";
import { Network } from "./network";
import { HealthCheck, Mount, Resources, healthTests, mountSpec, validateServiceArgs } from "./service";

export enum RestartPolicy {
    No = "no",
    OnFailure = "on-failure",
    Always = "always",
    UnlessStopped = "unless-stopped",
}

export interface ContainerPortMapping {
    /** Port the container listens on. */
    readonly target: number;
    /** Host port. @default the same as `target` */
    readonly published?: number;
    /** Host address to bind. @default "127.0.0.1" - not reachable from other machines */
    readonly hostIp?: string;
    /** @default "tcp" */
    readonly protocol?: "tcp" | "udp";
}

export interface ContainerArgs {
    /** A Dockyard `Image` or an image reference. */
    readonly image: Image | pulumi.Input<string>;
    /** @default the image's ENTRYPOINT */
    readonly command?: readonly string[];
    /** @default the image's CMD */
    readonly args?: readonly string[];
    /** Not for secrets: plain containers have no secret files, so pass secrets by mounting a file. @default none */
    readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Bridge networks to join. @default Docker's default bridge */
    readonly networks?: readonly Network[];
    /** @default none */
    readonly mounts?: readonly Mount[];
    /** @default none */
    readonly ports?: readonly ContainerPortMapping[];
    /** @default the image's HEALTHCHECK, if any */
    readonly healthCheck?: HealthCheck;
    /** @default RestartPolicy.UnlessStopped */
    readonly restart?: RestartPolicy;
    /** @default none */
    readonly limits?: Resources;
    /** @default none */
    readonly labels?: Readonly<Record<string, string>>;
    /** @default the image's */
    readonly user?: string;
    /** @default false */
    readonly readOnlyRootFilesystem?: boolean;
    /** @default false */
    readonly allowDockerSocket?: boolean;
}

/**
 * A single container, for hosts without Swarm.
 *
 * Changing the image (or anything else the engine cannot change in place) replaces the container.
 * Its Docker name is generated (`<name>-<random>`), so there is never a name collision. Without
 * published ports the new container starts before the old one is removed (no downtime). With
 * published ports the old one must release the port first, so it is removed first: expect a few
 * seconds of downtime per change. Use a Swarm `Service` where that matters.
 */
export class Container extends pulumi.ComponentResource {
    /** The generated Docker container name. */
    public readonly containerName: pulumi.Output<string>;
    public readonly imageRef: pulumi.Output<string>;
    /** `host:port` for each published port. */
    public readonly endpoints: pulumi.Output<string[]>;
    public readonly container: docker.Container;

    constructor(name: string, args: ContainerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:container:Container", name, {}, opts);
        const problems = validateServiceArgs(name, {
            image: args.image,
            env: args.env,
            mounts: args.mounts,
            healthCheck: args.healthCheck,
            limits: args.limits,
            allowDockerSocket: args.allowDockerSocket,
        }, "Container");
        validateContainerArgs(problems, args);
        problems.throwIfAny(this);

        const image = args.image instanceof Image ? args.image.imageRef : pulumi.output(args.image);
        const ports = args.ports ?? [];
        const health = args.healthCheck;
        this.container = new docker.Container(
            childName(name, "container"),
            {
                image,
                entrypoints: args.command ? [...args.command] : undefined,
                command: args.args ? [...args.args] : undefined,
                envs: args.env ? Object.entries(args.env).map(([k, v]) => pulumi.interpolate`${k}=${v}`) : undefined,
                networksAdvanced: args.networks?.map((n) => ({ name: n.networkName })),
                mounts: args.mounts?.map(mountSpec),
                ports: ports.map((port) => ({
                    internal: port.target,
                    external: port.published ?? port.target,
                    ip: port.hostIp ?? "127.0.0.1",
                    protocol: port.protocol ?? "tcp",
                })),
                healthcheck: health && {
                    tests: healthTests(health.command),
                    interval: health.interval ?? "10s",
                    timeout: health.timeout ?? "5s",
                    retries: health.retries ?? 3,
                    startPeriod: health.startPeriod ?? "10s",
                },
                restart: args.restart ?? RestartPolicy.UnlessStopped,
                memory: args.limits?.memory !== undefined ? Math.floor(memoryBytes(args.limits.memory)! / 1024 ** 2) : undefined,
                cpus: args.limits?.cpus !== undefined ? String(args.limits.cpus) : undefined,
                labels: labelList(name, args.labels),
                user: args.user,
                readOnly: args.readOnlyRootFilesystem ?? false,
                privileged: false,
                // Wait for the health check (when there is one) so a broken image fails the update.
                wait: health !== undefined,
                waitTimeout: 120,
                mustRun: true,
            },
            {
                parent: this,
                // A published host port cannot be held by two containers at once.
                deleteBeforeReplace: ports.length > 0,
                dependsOn: [
                    ...(args.image instanceof Image ? [args.image] : []),
                    ...(args.networks ?? []),
                    ...(args.mounts ?? []).flatMap((m) => (m.volume ? [m.volume] : [])),
                ],
            },
        );
        this.containerName = this.container.name;
        this.imageRef = image;
        this.endpoints = pulumi.output(ports.map((p) => `${p.hostIp ?? "127.0.0.1"}:${p.published ?? p.target}`));
        this.registerOutputs({ containerName: this.containerName, imageRef: this.imageRef, endpoints: this.endpoints });
    }
}

function validateContainerArgs(p: Problems, args: ContainerArgs): void {
    // The engine takes a container's memory limit in whole MiB, and 0 would mean no limit at all.
    const memory = args.limits?.memory !== undefined ? memoryBytes(args.limits.memory) : undefined;
    if (memory !== undefined) p.check(memory >= 1024 ** 2, "limits.memory", args.limits!.memory, 'at least "1m" (containers take whole MiB)');
    if (args.restart !== undefined) p.check(Object.values(RestartPolicy).includes(args.restart), "restart", args.restart, `one of ${enumValues(RestartPolicy)}`);
    const seen = new Map<string, number>();
    (args.ports ?? []).forEach((port, i) => {
        p.check(isPort(port.target), `ports[${i}].target`, port.target, "a port from 1 to 65535");
        if (port.published !== undefined) p.check(isPort(port.published), `ports[${i}].published`, port.published, "a port from 1 to 65535");
        const key = `${port.hostIp ?? "127.0.0.1"}:${port.published ?? port.target}/${port.protocol ?? "tcp"}`;
        const prior = seen.get(key);
        if (prior !== undefined) p.conflict(`ports[${i}]: ${key} is already published by ports[${prior}]; publish each port once`);
        else seen.set(key, i);
    });
    (args.networks ?? []).forEach((n, i) => {
        if (!n.attachable) {
            p.conflict(`networks[${i}]: plain containers can join bridge networks or attachable overlay networks only`);
        }
    });
}
