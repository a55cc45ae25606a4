// The Dockyard program: one environment per stack, described in stacks/Pulumi.<stack>.yaml.
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import * as dy from "./components";
import { effectiveService, isImageReference, loadEnvironment, shortHashOf } from "./config";

const { env, pins, secret } = loadEnvironment();
const projectDir = __dirname;
/** Docker object names get the environment's prefix, so several environments can share an engine. */
const named = (name: string) => (env.prefix ? `${env.prefix}-${name}` : name);

// Registry
let registry: dy.Registry | undefined;
if (env.registry && "external" in env.registry) {
    const r = env.registry.external;
    registry = new dy.Registry(named("registry"), {
        kind: dy.RegistryKind.External,
        server: r.server,
        username: r.username,
        password: r.passwordFromConfig ? secret(r.passwordFromConfig) : undefined,
    });
} else if (env.registry && "selfHosted" in env.registry) {
    const r = env.registry.selfHosted;
    registry = new dy.Registry(named("registry"), {
        kind: dy.RegistryKind.SelfHosted,
        port: r.port,
        publishMode: r.publishMode as dy.PublishMode | undefined,
        endpointMode: r.endpointMode as dy.EndpointMode | undefined,
        image: r.image,
        address: r.address,
        username: r.username,
        password: r.passwordFromConfig ? secret(r.passwordFromConfig) : undefined,
    });
}

// Shared objects, by their names in the stack file.
const networks = Object.fromEntries(
    Object.entries(env.networks).map(([name, n]) => [
        name,
        new dy.Network(named(name), {
            driver: (n.driver ?? (env.mode === "containers" ? "bridge" : "overlay")) as dy.NetworkDriver,
            internal: n.internal,
            subnet: n.subnet,
            encrypted: n.encrypted,
            labels: n.labels,
        }),
    ]),
);
const volumes = Object.fromEntries(
    Object.entries(env.volumes).map(([name, v]) => [
        name,
        new dy.Volume(named(name), {
            deletion: v.deletion as dy.VolumeDeletion | undefined,
            driver: v.driver,
            driverOptions: v.driverOptions,
            labels: v.labels,
        }),
    ]),
);
const secrets = Object.fromEntries(
    Object.entries(env.secrets).map(([name, s]) => [name, new dy.Secret(named(name), { data: secret(s.fromConfig) })]),
);
const configs = Object.fromEntries(
    Object.entries(env.configs).map(([name, c]) => [name, new dy.Config(named(name), { data: c.data })]),
);
// Images pinned by a rollback are deployed by their recorded digest instead of being built.
const images: Record<string, dy.Image | string> = Object.fromEntries(
    Object.entries(env.images).map(([name, i]) => [
        name,
        pins[name] ?? new dy.Image(named(name), {
            context: path.resolve(projectDir, i.context),
            dockerfile: i.dockerfile,
            repository: i.repository,
            registry,
            tag: i.tag,
            buildArgs: i.buildArgs,
            target: i.target,
            testTarget: i.testTarget,
            platform: i.platform,
            keep: i.keep,
        }),
    ]),
);

// Services (or plain containers where there is no Swarm).
const manifest: Record<string, pulumi.Output<{ image: string; specHash: string }>> = {};
const endpoints: Record<string, pulumi.Output<string[]>> = {};
for (const name of Object.keys(env.services)) {
    const s = effectiveService(env, name);
    const image = isImageReference(s.image) && !(s.image in images) ? s.image : images[s.image];
    const mounts = (s.mounts ?? []).map((m) => ({
        target: m.target,
        volume: m.volume !== undefined ? volumes[m.volume] : undefined,
        hostPath: m.hostPath,
        tmpfs: m.tmpfs,
        readOnly: m.readOnly,
    }));
    const healthCheck = s.healthCheck;
    let workload: dy.Service | dy.Container;
    if (env.mode === "containers") {
        workload = new dy.Container(named(name), {
            image,
            command: s.command,
            args: s.args,
            env: s.env && Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, String(v)])),
            networks: (s.networks ?? []).map((n) => networks[n]),
            mounts,
            ports: s.ports?.map((p) => ({ target: p.target, published: p.published, protocol: p.protocol })),
            healthCheck,
            limits: s.limits,
            labels: s.labels,
            user: s.user,
        });
    } else {
        workload = new dy.Service(named(name), {
            image,
            // Reachable by its short name on its networks whatever the prefix.
            aliases: env.prefix ? [name] : undefined,
            replicas: s.replicas,
            global: s.global,
            command: s.command,
            args: s.args,
            env: s.env && Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, String(v)])),
            secrets: (s.secrets ?? []).map((ref) =>
                typeof ref === "string" ? { secret: secrets[ref], target: ref } : { secret: secrets[ref.name], target: ref.target ?? ref.name },
            ),
            configs: (s.configs ?? []).map((c) => ({ config: configs[c.name], target: c.target })),
            networks: (s.networks ?? []).map((n) => networks[n]),
            mounts,
            ports: s.ports?.map((p) => ({ target: p.target, published: p.published, protocol: p.protocol, mode: p.mode as dy.PublishMode | undefined })),
            endpointMode: s.endpointMode as dy.EndpointMode | undefined,
            healthCheck,
            update: s.update as dy.RolloutPolicy,
            rollback: s.rollback as dy.RolloutPolicy,
            limits: s.limits,
            reservations: s.reservations,
            constraints: s.constraints,
            labels: s.labels,
            user: s.user,
            convergeTimeout: env.defaults.convergeTimeout,
            registry,
        });
    }
    endpoints[name] = workload.endpoints;
    manifest[name] = workload.imageRef.apply((ref) => ({ image: ref, specHash: shortHashOf({ ...s, image: ref }) }));
}

export const environment = pulumi.getStack();
export const production = env.production;
export const serviceEndpoints = endpoints;
export const networkNames = Object.fromEntries(Object.entries(networks).map(([k, n]) => [k, n.networkName]));
export const volumeNames = Object.fromEntries(Object.entries(volumes).map(([k, v]) => [k, v.volumeName]));
export const registryServer = registry?.server;
/** The reference each image of this environment deploys (what a rollback pins). */
export const imageRefs = Object.fromEntries(
    Object.entries(images).map(([k, i]) => [k, typeof i === "string" ? pulumi.output(i) : i.imageRef]),
);
/** Images pinned by a rollback, if any. */
export const pinnedImages = pins;
/** What each service runs: the rollback tooling restores releases from this. */
export const releaseManifest = pulumi.output(manifest);
