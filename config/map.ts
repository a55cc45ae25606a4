// The one mapping from a validated environment to Dockyard components. It calls a Factory for each
// component, so the same code runs three ways: the program creates the components, validation
// checks every component's arguments with the library's own rules before anything exists, and tests
// record exactly what each stack key becomes.
import * as dy from "@dockyard/components";
import type * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { Environment, ServiceConfig } from "./schema";
import { SecretSource, sourceOf } from "./sources";

/** Makes one component. `at` is where in the stack file its settings come from. */
export interface Factory {
    registry(name: string, args: dy.RegistryArgs, at: string): dy.Registry;
    network(name: string, args: dy.NetworkArgs, at: string): dy.Network;
    volume(name: string, args: dy.VolumeArgs, at: string): dy.Volume;
    secret(name: string, args: dy.SecretArgs, at: string): dy.Secret;
    config(name: string, args: dy.ConfigArgs, at: string): dy.Config;
    image(name: string, args: dy.ImageArgs, at: string): dy.Image;
    nodeLabels(name: string, args: dy.NodeLabelsArgs, at: string): dy.NodeLabels;
    /** `after`: what must exist first (node labels its placement may need). */
    service(name: string, args: dy.ServiceArgs, at: string, after: readonly dy.NodeLabels[]): dy.Service;
}

export interface MapOptions {
    /** Image contexts in the stack file are relative to this directory. */
    readonly projectDir: string;
    /** Image name → reference to deploy instead of building (set by `rollback`). */
    readonly pins: Readonly<Record<string, string>>;
    /** A secret's value from its source (the registry password's source is a secret config key). */
    secret(source: SecretSource): pulumi.Input<string>;
}

export interface Mapped {
    readonly registry?: dy.Registry;
    readonly networks: Readonly<Record<string, dy.Network>>;
    readonly volumes: Readonly<Record<string, dy.Volume>>;
    readonly secrets: Readonly<Record<string, dy.Secret>>;
    readonly configs: Readonly<Record<string, dy.Config>>;
    /** A built Image, or the pinned reference a rollback deploys instead. */
    readonly images: Readonly<Record<string, dy.Image | string>>;
    readonly nodes: Readonly<Record<string, dy.NodeLabels>>;
    readonly services: Readonly<Record<string, dy.Service>>;
}

/** A reference that is not a local image name: has a registry, tag or digest. */
export function isImageReference(image: string): boolean {
    return /[:@/]/.test(image);
}

/**
 * A service's settings after the environment's `defaults` section is applied. Only the stack file's
 * own defaults: the library applies its defaults to whatever is still unset.
 */
export function effectiveService(env: Environment, name: string): ServiceConfig {
    const d = env.defaults;
    const s = env.services[name];
    const merge = <T extends object>(a: T | undefined, b: T | undefined) => (a || b ? { ...a, ...b } : undefined);
    // A one-shot service's rollouts continue on failure (the library's rule for it): the defaults'
    // failure action and monitor are not its.
    const inherited = <T extends { failureAction?: unknown; monitor?: unknown }>(r: T | undefined) => {
        if (!r || !dy.isOneShot(s)) return r;
        const { failureAction: _f, monitor: _m, ...rest } = r;
        return rest;
    };
    return {
        ...s,
        replicas: s.replicas ?? (s.global ? undefined : d.replicas),
        update: merge(inherited(d.update), s.update),
        rollback: merge(inherited(d.rollback), s.rollback),
        endpointMode: s.endpointMode ?? d.endpointMode,
        ports: s.ports?.map((p) => ({ ...p, mode: p.mode ?? d.publishMode })),
        limits: s.limits ?? d.limits,
        reservations: s.reservations ?? d.reservations,
        convergeTimeout: s.convergeTimeout ?? d.convergeTimeout,
    };
}

/** A mounted file's owner and mode, each only when the stack file gives it. */
const fileOwnership = (f: { uid?: string; gid?: string; mode?: number }) =>
    Object.fromEntries(Object.entries({ uid: f.uid, gid: f.gid, mode: f.mode }).filter(([, v]) => v !== undefined));

const mapValues = <T, U>(o: Readonly<Record<string, T>>, f: (key: string, v: T) => U): Record<string, U> =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(k, v)]));

/** Docker object names get the environment's prefix, so several environments can share an engine. */
export function dockerName(env: Pick<Environment, "prefix">, name: string): string {
    return env.prefix ? `${env.prefix}-${name}` : name;
}

/** The component name of the stack's registry (also its Swarm service's name when self-hosted). */
export const REGISTRY_NAME = "registry";

/** Build every component of an environment with `make`, in dependency order. */
export function mapEnvironment(env: Environment, opts: MapOptions, make: Factory): Mapped {
    const named = (name: string) => dockerName(env, name);

    let registry: dy.Registry | undefined;
    if (env.registry) {
        const [kind, at, { passwordFromConfig, ...settings }] = "external" in env.registry
            ? [dy.RegistryKind.External, "registry.external", env.registry.external] as const
            : [dy.RegistryKind.SelfHosted, "registry.selfHosted", env.registry.selfHosted] as const;
        const password = passwordFromConfig === undefined ? undefined : opts.secret({ kind: "config", key: passwordFromConfig });
        registry = make.registry(named(REGISTRY_NAME), { kind, ...settings, password } as dy.RegistryArgs, at);
    }

    const networks = mapValues(env.networks, (k, n) => make.network(named(k), n, `networks.${k}`));
    // `backup` is for the ops tooling (ops/backup.ts), not the Volume component.
    const volumes = mapValues(env.volumes, (k, { backup: _backup, ...v }) => make.volume(named(k), v, `volumes.${k}`));
    const secrets = mapValues(env.secrets, (k, s) => make.secret(named(k), { data: opts.secret(sourceOf(s)) }, `secrets.${k}`));
    const configs = mapValues(env.configs, (k, c) => make.config(named(k), { data: c.data }, `configs.${k}`));
    const images = mapValues(env.images, (k, i): dy.Image | string =>
        opts.pins[k] ?? make.image(named(k), { ...i, context: path.resolve(opts.projectDir, i.context), registry }, `images.${k}`));

    // Node labels are the cluster's, not the environment's: no prefix. Services go after them.
    const nodes = mapValues(env.nodes, (node, n) => make.nodeLabels(`node-${node}`, { node, ...n }, `nodes.${node}`));
    const services = mapValues(env.services, (name, _raw) => {
        const { image, env: variables, networks: joins, aliases, mounts, secrets: secretRefs, configs: configRefs, ...settings } = effectiveService(env, name);
        // Reachable by its short name on its networks whatever the prefix, and by the names it gives.
        const names = [...(env.prefix ? [name] : []), ...(aliases ?? []).filter((a) => a !== name)];
        return make.service(named(name), {
            ...settings,
            image: image in images ? images[image] : image,
            env: variables,
            networks: joins?.map((n) => networks[n]),
            aliases: names.length && joins?.length ? names : undefined,
            mounts: mounts?.map(({ volume, ...m }) => ({ ...m, volume: volume === undefined ? undefined : volumes[volume] })),
            secrets: secretRefs?.map((ref) =>
                typeof ref === "string" ? { secret: secrets[ref], target: ref } : { secret: secrets[ref.name], target: ref.target ?? ref.name, ...fileOwnership(ref) }),
            configs: configRefs?.map((c) => ({ config: configs[c.name], target: c.target, ...fileOwnership(c) })),
            registry,
        }, `services.${name}`, Object.values(nodes));
    });
    return { registry, networks, volumes, secrets, configs, images, nodes, services };
}

/** The factory the program uses: real components. */
export const components: Factory = {
    registry: (name, args) => new dy.Registry(name, args),
    network: (name, args) => new dy.Network(name, args),
    volume: (name, args) => new dy.Volume(name, args),
    secret: (name, args) => new dy.Secret(name, args),
    config: (name, args) => new dy.Config(name, args),
    image: (name, args) => new dy.Image(name, args),
    nodeLabels: (name, args) => new dy.NodeLabels(name, args),
    service: (name, args, _at, after) => new dy.Service(name, args, { dependsOn: [...after] }),
};

/**
 * A factory that creates nothing: it checks each component's arguments with the library's own
 * rules and collects every problem under its stack-file path. Returns stand-ins that carry what
 * later components' checks read (a network's driver, a secret's name).
 */
export function checkingFactory(problems: string[]): Factory {
    const collect = (at: string, found: readonly string[]) => problems.push(...found.map((p) => `${at}.${p}`));
    const standIn = <T>(fields: object = {}) => fields as unknown as T;
    return {
        registry: (name, args, at) => (collect(at, dy.Registry.check(name, args)), standIn()),
        network: (name, args, at) => (collect(at, dy.Network.check(name, args)), standIn(dy.Network.traits(args))),
        volume: (name, args, at) => (collect(at, dy.Volume.check(name, args)), standIn()),
        secret: (name, args, at) => (collect(at, dy.Secret.check(name, args)), standIn({ logicalName: name })),
        config: (name, args, at) => (collect(at, dy.Config.check(name, args)), standIn()),
        image: (name, args, at) => (collect(at, dy.Image.check(name, args)), standIn()),
        nodeLabels: (name, args, at) => (collect(at, dy.NodeLabels.check(name, args)), standIn()),
        service: (name, args, at) => (collect(at, dy.Service.check(name, args)), standIn()),
    };
}
