import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { Image } from "./image";
import { DockerName, Labels, Port, Problems, Text, brand, childName, hasBrand, labelList, memoryBytes, oneOf, rejectIfAny } from "./internal";
import type { Network } from "./network";
import { HealthCheckSchema, Mount, ResourcesSchema, checkWorkload, healthcheckSpec, mountSpec } from "./service";

export enum RestartPolicy {
    No = "no",
    OnFailure = "on-failure",
    Always = "always",
    UnlessStopped = "unless-stopped",
}

export const ContainerPortMappingSchema = z.strictObject({
    /** Port the container listens on. */
    target: Port,
    /** Host port. @default the same as `target` */
    published: Port.optional(),
    /** Host address to bind. @default "127.0.0.1" - not reachable from other machines */
    hostIp: z.ipv4({ error: 'expected an IPv4 address such as "0.0.0.0"' }).optional(),
    /** @default "tcp" */
    protocol: z.enum(["tcp", "udp"], { error: 'expected "tcp" or "udp"' }).optional(),
});
export type ContainerPortMapping = z.input<typeof ContainerPortMappingSchema>;

/** A plain container's settings (no references to other components). */
export const ContainerSettingsSchema = z.strictObject({
    /** @default the image's ENTRYPOINT */
    command: z.array(z.string()).optional(),
    /** @default the image's CMD */
    args: z.array(z.string()).optional(),
    /** @default none */
    ports: z.array(ContainerPortMappingSchema).optional(),
    /** @default the image's HEALTHCHECK, if any */
    healthCheck: HealthCheckSchema.optional(),
    /** @default RestartPolicy.UnlessStopped */
    restart: oneOf(RestartPolicy).optional(),
    /** @default none */
    limits: ResourcesSchema.optional(),
    /** @default none */
    labels: Labels.optional(),
    /** @default the image's */
    user: Text("a user name or uid[:gid]").optional(),
    /** @default false */
    readOnlyRootFilesystem: z.boolean().optional(),
    /** @default false */
    allowDockerSocket: z.boolean().optional(),
});

export interface ContainerArgs extends z.input<typeof ContainerSettingsSchema> {
    /** A Dockyard `Image` or an image reference. */
    readonly image: Image | pulumi.Input<string>;
    /** Not for secrets: plain containers have no secret files, so pass secrets by mounting a file. @default none */
    readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Bridge networks (or attachable overlay networks) to join. @default Docker's default bridge */
    readonly networks?: readonly Network[];
    /** @default none */
    readonly mounts?: readonly Mount[];
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

    /** True for a Container of any copy of this library. */
    static isInstance(v: unknown): v is Container {
        return hasBrand(v, "Container");
    }

    /** Every problem with these arguments (empty when they are valid); the constructor throws them. */
    static check(name: string, args: ContainerArgs): readonly string[] {
        const p = new Problems("Container", name);
        const { image: _i, env: _e, networks, mounts: _m, ...settings } = args;
        p.schema(z.strictObject({ name: DockerName }), { name });
        p.schema(ContainerSettingsSchema, settings);
        checkWorkload(p, { env: args.env, mounts: args.mounts, allowDockerSocket: args.allowDockerSocket });
        // The engine takes a container's memory limit in whole MiB, and 0 would mean no limit at all.
        const memory = args.limits?.memory !== undefined ? memoryBytes(args.limits.memory) : undefined;
        if (memory !== undefined) p.check(memory >= 1024 ** 2, "limits.memory", args.limits!.memory, 'at least "1m" (containers take whole MiB)');
        const seen = new Map<string, number>();
        (args.ports ?? []).forEach((port, i) => {
            const key = `${port.hostIp ?? "127.0.0.1"}:${port.published ?? port.target}/${port.protocol ?? "tcp"}`;
            const prior = seen.get(key);
            if (prior !== undefined) p.conflict(`ports[${i}]: ${key} is already published by ports[${prior}]; publish each port once`);
            else seen.set(key, i);
        });
        (networks ?? []).forEach((n, i) => {
            if (!n.attachable) p.conflict(`networks[${i}]: plain containers can join bridge networks or attachable overlay networks only`);
        });
        return p.list;
    }

    constructor(name: string, args: ContainerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:container:Container", name, {}, opts);
        brand(this, "Container");
        rejectIfAny(this, "Container", name, Container.check(name, args));

        const built = Image.isInstance(args.image) ? args.image : undefined;
        const image = built ? built.imageRef : pulumi.output(args.image as pulumi.Input<string>);
        const ports = args.ports ?? [];
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
                healthcheck: args.healthCheck && healthcheckSpec(args.healthCheck),
                restart: args.restart ?? RestartPolicy.UnlessStopped,
                memory: args.limits?.memory !== undefined ? Math.floor(memoryBytes(args.limits.memory)! / 1024 ** 2) : undefined,
                cpus: args.limits?.cpus !== undefined ? String(args.limits.cpus) : undefined,
                labels: labelList(name, args.labels),
                user: args.user,
                readOnly: args.readOnlyRootFilesystem ?? false,
                privileged: false,
                // Wait for the health check (when there is one) so a broken image fails the update.
                wait: args.healthCheck !== undefined && !args.healthCheck.disable,
                waitTimeout: 120,
                mustRun: true,
            },
            {
                parent: this,
                // A published host port cannot be held by two containers at once.
                deleteBeforeReplace: ports.length > 0,
                dependsOn: [
                    ...(built ? [built] : []),
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
