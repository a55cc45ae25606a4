// Registry hygiene, the I/O: the registry's HTTP API (list, resolve, delete manifests), its garbage
// collection run safely (the registry read-only meanwhile), and the images on each node's engine.
// What goes is decided by ops/gc.ts alone.
import { execFileSync, spawnSync } from "child_process";
import * as dy from "@dockyard/components";
import { REGISTRY_NAME, dockerName } from "../config/map";
import type { Environment } from "../config/schema";
import { DEFAULT_KEEP, NodeImage, RepositoryPlan, StoredManifest, formatBytes, planNode, planRegistry } from "./gc";
import type { Release } from "./releases";

/** Every manifest type Dockyard's pushes can produce, so the registry answers with the digest it stores. */
export const MANIFEST_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
];
const INDEX_TYPES = new Set([MANIFEST_TYPES[1], MANIFEST_TYPES[3]]);

export type DeleteResult = "deleted" | "gone" | "unsupported";

/**
 * A registry's HTTP API (v2): basic auth when credentials are given, and the token flow most
 * external registries use (a 401 with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`:
 * a token from the realm, with the credentials, then the request again with it).
 */
export class RegistryApi {
    private readonly tokens = new Map<string, string>();

    constructor(readonly base: string, private readonly auth?: { username: string; password: string }) {}

    private basic(): Record<string, string> {
        return this.auth ? { Authorization: `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString("base64")}` } : {};
    }

    /** fetch, tried 3 times: a kept-alive connection to a registry that restarted since (gc's read-only switch) is closed under us. */
    private async send(method: string, url: string, headers: Record<string, string>): Promise<Response> {
        for (let attempt = 1; ; attempt++) {
            try {
                return await fetch(url, { method, headers, signal: AbortSignal.timeout(30_000) });
            } catch (e) {
                if (attempt >= 3) throw new Error(`registry ${this.base} does not answer ${method} ${url.slice(this.base.length)}: ${(e as Error).cause ?? (e as Error).message}`);
                await new Promise((r) => setTimeout(r, 1000));
            }
        }
    }

    /** A bearer token for the challenge of a 401, or undefined when it is no bearer challenge. */
    private async token(challenge: string): Promise<string | undefined> {
        if (!/^Bearer\s/i.test(challenge)) return undefined;
        const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k.toLowerCase(), v]));
        if (!params.realm) return undefined;
        const key = `${params.service ?? ""} ${params.scope ?? ""}`;
        if (!this.tokens.has(key)) {
            const url = new URL(params.realm);
            if (params.service) url.searchParams.set("service", params.service);
            if (params.scope) url.searchParams.set("scope", params.scope);
            const res = await fetch(url, { headers: this.basic(), signal: AbortSignal.timeout(30_000) });
            if (!res.ok) throw new Error(`registry ${this.base}: its token service ${url.origin} refused a token for ${params.scope ?? "access"} (${res.status}): check the registry's username and password`);
            const body = (await res.json()) as { token?: string; access_token?: string };
            this.tokens.set(key, body.token ?? body.access_token ?? "");
        }
        return this.tokens.get(key);
    }

    private async request(method: string, path: string, accept?: string): Promise<Response> {
        const headers: Record<string, string> = { ...(accept ? { Accept: accept } : {}), ...this.basic() };
        let res = await this.send(method, `${this.base}${path}`, headers);
        if (res.status === 401) {
            const token = await this.token(res.headers.get("www-authenticate") ?? "");
            if (token !== undefined) res = await this.send(method, `${this.base}${path}`, { ...headers, Authorization: `Bearer ${token}` });
        }
        if (res.status === 401) throw new Error(`registry ${this.base} refused ${method} ${path} (401): check the registry's username and password${this.auth ? "" : " (none given)"}`);
        return res;
    }

    private async json(path: string, accept?: string): Promise<any> {
        const res = await this.request("GET", path, accept);
        if (!res.ok) throw new Error(`registry ${this.base}: GET ${path} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
        return res.json();
    }

    /** The repository's tags; none when the registry does not know the repository. */
    async tags(repository: string): Promise<string[]> {
        const tags: string[] = [];
        let path: string | undefined = `/v2/${repository}/tags/list?n=1000`;
        while (path) {
            const res = await this.request("GET", path);
            if (res.status === 404) return tags;
            if (!res.ok) throw new Error(`registry ${this.base}: GET ${path} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
            tags.push(...(((await res.json()) as { tags?: string[] | null }).tags ?? []));
            // Pagination: Link: </v2/<repo>/tags/list?n=1000&last=x>; rel="next"
            path = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get("link") ?? "")?.[1];
        }
        return tags;
    }

    /** The manifest a tag or digest names, with the digest the registry stores it under. */
    async manifest(repository: string, reference: string): Promise<{ digest: string; mediaType: string; body: any }> {
        const res = await this.request("GET", `/v2/${repository}/manifests/${reference}`, MANIFEST_TYPES.join(", "));
        if (!res.ok) throw new Error(`registry ${this.base}: manifest ${repository}:${reference} answered ${res.status}`);
        const body = (await res.json()) as any;
        const digest = res.headers.get("docker-content-digest") ?? reference;
        return { digest, mediaType: res.headers.get("content-type") ?? body.mediaType ?? "", body };
    }

    /** Every tagged manifest of the repository, with its tags, creation time, size and (index) children. */
    async stored(repository: string): Promise<StoredManifest[]> {
        const byDigest = new Map<string, { tags: string[]; mediaType: string; body: any }>();
        for (const tag of await this.tags(repository)) {
            const m = await this.manifest(repository, tag);
            const seen = byDigest.get(m.digest);
            if (seen) seen.tags.push(tag);
            else byDigest.set(m.digest, { tags: [tag], mediaType: m.mediaType, body: m.body });
        }
        const out: StoredManifest[] = [];
        for (const [digest, { tags, mediaType, body }] of byDigest) {
            const isIndex = INDEX_TYPES.has(mediaType) || Array.isArray(body.manifests);
            const children: string[] = isIndex ? body.manifests.map((c: { digest: string }) => c.digest) : [];
            const image = isIndex && children.length ? (await this.manifest(repository, children[0])).body : body;
            const created = image.config?.digest ? (await this.json(`/v2/${repository}/blobs/${image.config.digest}`)).created : undefined;
            const size = (image.config?.size ?? 0) + (image.layers ?? []).reduce((n: number, l: { size?: number }) => n + (l.size ?? 0), 0);
            out.push({ digest, tags, ...(created ? { created } : {}), size, ...(isIndex ? { children } : {}) });
        }
        return out;
    }

    /** Delete a manifest (and so its tags); `unsupported` when the registry does not allow deletes. */
    async delete(repository: string, digest: string): Promise<DeleteResult> {
        const res = await this.request("DELETE", `/v2/${repository}/manifests/${digest}`);
        if (res.status === 202 || res.status === 200) return "deleted";
        if (res.status === 404) return "gone";
        const text = await res.text();
        if (res.status === 405 || /UNSUPPORTED/.test(text)) return "unsupported";
        throw new Error(`registry ${this.base}: DELETE ${repository}@${digest} answered ${res.status}: ${text.slice(0, 200)}`);
    }
}

/** Run docker against an engine (the one DOCKER_HOST names when `host` is undefined). */
export function docker(args: string[], host?: string, timeoutMs = 5 * 60_000): string {
    try {
        return execFileSync("docker", host ? ["-H", host, ...args] : args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    } catch (e: any) {
        throw new Error(`docker ${args.join(" ")} failed: ${String(e.stderr || e.message).trim()}`);
    }
}

/** The environment variable that makes the registry refuse writes (distribution's maintenance mode). */
export const READONLY_ENV = "REGISTRY_STORAGE_MAINTENANCE_READONLY";
const REGISTRY_CONFIG = "/etc/docker/registry/config.yml";
const REGISTRY_ROOT = "/var/lib/registry";

/** The running, healthy task container of a service on this engine, once it is (or is no longer) read-only. */
async function taskContainer(service: string, readonly: boolean, timeoutMs = 120_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const ids = docker(["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${service}`]).split("\n").filter(Boolean);
        for (const id of ids) {
            const [health, env] = docker(["inspect", "--format", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{json .Config.Env}}", id]).split(" ", 2);
            const isReadonly = (JSON.parse(env) as string[]).some((e) => e.startsWith(`${READONLY_ENV}=`));
            if (isReadonly === readonly && (health === "healthy" || health === "none")) return id;
        }
        if (Date.now() > deadline) {
            throw new Error(`no ${readonly ? "read-only " : ""}task of the registry service ${service} is running and healthy on this engine after ${timeoutMs / 1000}s ` +
                "(gc runs the registry's garbage collection where its task runs: point DOCKER_HOST at the node holding the registry's data)");
        }
        await new Promise((r) => setTimeout(r, 1000));
    }
}

function storageBytes(container: string): number {
    return Number(docker(["exec", container, "du", "-sk", REGISTRY_ROOT]).split(/\s/)[0]) * 1024;
}

/**
 * Run `work` with the self-hosted registry's service read-only (distribution's maintenance mode:
 * pushes are refused meanwhile, and Dockyard's push tries again; pulls work), given its read-only
 * task container on this engine. The service is switched back whatever happened.
 */
export async function whileReadOnly<T>(service: string, log: (m: string) => void, work: (container: string) => Promise<T>): Promise<T> {
    docker(["service", "inspect", "--format", "{{.ID}}", service]);
    // Its task must be here before anything changes (the garbage collection runs in it).
    await taskContainer(service, false, 15_000);
    log(`registry ${service}: read-only for its garbage collection (pushes meanwhile are refused and tried again)`);
    try {
        docker(["service", "update", "--quiet", "--detach=false", "--env-add", `${READONLY_ENV}={"enabled":true}`, service]);
        return await work(await taskContainer(service, true));
    } finally {
        docker(["service", "update", "--quiet", "--detach=false", "--env-rm", READONLY_ENV, service]);
        await taskContainer(service, false);
        log(`registry ${service}: writable again`);
    }
}

/**
 * `registry garbage-collect` in a (read-only) registry's task container. Only blobs no manifest
 * references go: the manifests deleted through the API, nothing untagged of anyone else's (no
 * --delete-untagged). Returns the bytes its storage held before and after.
 */
export async function garbageCollect(container: string): Promise<{ before: number; after: number }> {
    const before = storageBytes(container);
    docker(["exec", container, "registry", "garbage-collect", REGISTRY_CONFIG]);
    return { before, after: storageBytes(container) };
}

/** The self-hosted registry's garbage collection, run safely: read-only meanwhile. */
export function collectGarbage(service: string, log: (m: string) => void): Promise<{ before: number; after: number }> {
    return whileReadOnly(service, log, garbageCollect);
}

/** A node engine gc can reach: this engine (DOCKER_HOST) and those in DOCKYARD_NODE_HOSTS. */
export interface NodeEngine {
    readonly name: string;
    /** Undefined for the engine DOCKER_HOST names. */
    readonly host?: string;
}

/**
 * The engines to clean: the one DOCKER_HOST names, and each `node=host` of DOCKYARD_NODE_HOSTS
 * (space-separated, e.g. `worker1=ssh://deploy@w1 worker2=tcp://w2:2376`). Also the Swarm's nodes
 * that none of them is, so the command can say which were not cleaned.
 */
export function nodeEngines(spec = process.env.DOCKYARD_NODE_HOSTS ?? ""): { engines: NodeEngine[]; unreached: string[] } {
    const self = docker(["info", "--format", "{{.Name}}"]).trim();
    const engines: NodeEngine[] = [{ name: self }];
    for (const entry of spec.split(/\s+/).filter(Boolean)) {
        const eq = entry.indexOf("=");
        if (eq <= 0) throw new Error(`DOCKYARD_NODE_HOSTS: expected node=host entries such as "worker1=ssh://deploy@worker-1", got ${JSON.stringify(entry)}`);
        const name = entry.slice(0, eq);
        if (!engines.some((e) => e.name === name)) engines.push({ name, host: entry.slice(eq + 1) });
    }
    let swarmNodes: string[] = [];
    try {
        swarmNodes = docker(["node", "ls", "--format", "{{.Hostname}}"]).split("\n").filter(Boolean);
    } catch {
        // Not a Swarm manager: only the engines named are cleaned.
    }
    return { engines, unreached: swarmNodes.filter((n) => !engines.some((e) => e.name === n)) };
}

/**
 * `docker inspect` of objects some of which may be gone meanwhile (containers come and go): the
 * lines of those that exist; an error only for another failure.
 */
function inspectExisting(args: string[], host?: string): string[] {
    const r = spawnSync("docker", [...(host ? ["-H", host] : []), "inspect", ...args], { encoding: "utf8", timeout: 5 * 60_000, maxBuffer: 64 * 1024 * 1024 });
    const other = (r.stderr ?? "").split("\n").filter((l) => l.trim() && !/No such object/i.test(l));
    if (r.error || (r.status !== 0 && other.length)) throw new Error(`docker inspect failed: ${r.error?.message ?? other.join("\n")}`);
    return (r.stdout ?? "").split("\n").filter(Boolean);
}

/** Dockyard's images on one engine that the plans do not keep and no container uses. */
export function nodeCandidates(engine: NodeEngine, server: string, plans: readonly RepositoryPlan[]): NodeImage[] {
    const managed = new Set(plans.map((p) => `${server}/${p.repository}`));
    const images = docker(["image", "ls", "--digests", "--no-trunc", "--format", "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}"], engine.host)
        .split("\n").filter(Boolean).map((l) => l.split("\t"))
        .filter(([name]) => managed.has(name))
        .map(([name, tag, digest, id]) => ({ name, tag: tag === "<none>" ? undefined : tag, digest: digest === "<none>" ? undefined : digest, id, size: 0 }));
    const containers = docker(["ps", "-a", "-q", "--no-trunc"], engine.host).split("\n").filter(Boolean);
    const used = new Set(containers.length ? inspectExisting(["--format", "{{.Image}}", ...containers], engine.host) : []);
    const found = planNode(server, plans, images, used);
    const ids = [...new Set(found.map((i) => i.id))];
    const sizes = new Map(ids.length ? inspectExisting(["--type", "image", "--format", "{{.Id}} {{.Size}}", ...ids], engine.host).map((l) => {
        const [id, size] = l.split(" ");
        return [id, Number(size)] as const;
    }) : []);
    return found.map((i) => ({ ...i, size: sizes.get(i.id) ?? 0 }));
}

/**
 * Remove those images: the digest reference and the tag, if any. An image a container started to
 * use meanwhile is refused by the engine and stays (a warning). Returns the bytes of the images
 * that went (each image once; layers other images share are not freed, so this is at most what was).
 */
export function removeNodeImages(engine: NodeEngine, images: readonly NodeImage[], log: (m: string) => void): number {
    const gone = new Map<string, number>();
    for (const img of images) {
        const refs = [`${img.name}@${img.digest}`, ...(img.tag ? [`${img.name}:${img.tag}`] : [])];
        try {
            docker(["image", "rm", ...refs], engine.host);
            gone.set(img.id, img.size);
        } catch (e) {
            log(`warning: node ${engine.name}: ${img.name}@${img.digest} stays: ${(e as Error).message.split("\n").pop()}`);
        }
    }
    return [...gone.values()].reduce((a, b) => a + b, 0);
}

/** One line per image, for what `gc` prints. */
export function describeNodeImages(images: readonly NodeImage[]): string[] {
    return images.map((i) => `${i.name}@${i.digest?.slice(0, 19)}${i.tag ? ` (${i.tag})` : ""}, ${formatBytes(i.size)}`);
}

/** The image every Swarm service runs now (none when this engine is no Swarm manager). */
function runningImages(): string[] {
    let ids: string[];
    try {
        ids = docker(["service", "ls", "-q"]).split("\n").filter(Boolean);
    } catch {
        return []; // no Swarm manager: no services
    }
    return ids.length ? inspectExisting(["--type", "service", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", ...ids]) : [];
}

/** Where a stack's images live and which repositories of it are Dockyard's, from its stack file. */
export interface GcTarget {
    /** `host[:port]`, as image references and the nodes name it. */
    readonly server: string;
    /** The API's base URL, from this machine. */
    readonly url: string;
    readonly username?: string;
    /** The Swarm service of the self-hosted registry, whose garbage collection gc runs. */
    readonly service?: string;
    /** Repository → how many of its newest manifests are kept (the image's `keep`). */
    readonly managed: ReadonlyMap<string, number>;
}

/** The stack's registry and repositories; undefined when it has no registry (images stay where built). */
export function gcTarget(env: Environment): GcTarget | undefined {
    if (!env.registry) return undefined;
    const managed = new Map<string, number>();
    // Two images of one repository: the larger keep wins, so neither loses what it keeps.
    for (const image of Object.values(env.images)) managed.set(image.repository, Math.max(managed.get(image.repository) ?? 0, image.keep ?? DEFAULT_KEEP));
    if ("external" in env.registry) {
        const { server, username } = env.registry.external;
        return { server, url: `https://${server}`, username, managed };
    }
    const { address, port, username } = env.registry.selfHosted;
    const server = address ?? `127.0.0.1:${port ?? dy.Registry.defaultPort}`;
    return { server, url: `http://${server}`, username, service: dockerName(env, REGISTRY_NAME), managed };
}

export interface GcResult {
    readonly plans: readonly RepositoryPlan[];
    /** Manifests deleted from the registry (0 on a dry run). */
    readonly deleted: number;
    /** Bytes the registry's storage freed (its garbage collection), when it ran. */
    readonly registryFreed?: number;
    /** Node → the images removed (or, on a dry run, that would be). */
    readonly nodes: ReadonlyMap<string, readonly NodeImage[]>;
    readonly unreachedNodes: readonly string[];
}

const short = (digest: string) => digest.replace(/^sha256:([0-9a-f]{12}).*$/, "sha256:$1");

/**
 * Registry hygiene for one stack: the plan (ops/gc.ts), then, unless `dryRun`, the deletes through
 * the registry's API, its garbage collection (self-hosted) and the images removed from each node.
 * Everything it does or would do is told to `log`.
 */
export async function runGc(target: GcTarget, releases: readonly Release[], opts: { dryRun: boolean; password?: string; log: (m: string) => void }): Promise<GcResult> {
    const { log, dryRun } = opts;
    const api = new RegistryApi(target.url, target.username !== undefined ? { username: target.username, password: opts.password ?? "" } : undefined);
    const stored = new Map<string, StoredManifest[]>();
    for (const repository of target.managed.keys()) stored.set(repository, await api.stored(repository));
    const plans = planRegistry(target.managed, stored, releases, runningImages());
    const verb = dryRun ? "would remove" : "removing";
    for (const p of plans) {
        const kept = p.kept.map((k) => `${short(k.digest)} (${k.reasons.map((r) => (r === "release" ? `release ${k.releases.join(", ")}` : r)).join(", ")})`);
        const bytes = p.remove.reduce((n, m) => n + (m.size ?? 0), 0);
        log(`registry ${target.server}, ${p.repository} (keep ${p.keep}): ${stored.get(p.repository)!.length} manifests; keeping ${kept.length}${kept.length ? `: ${kept.join(", ")}` : ""}`);
        if (p.remove.length) log(`  ${verb} ${p.remove.length}, up to ${formatBytes(bytes)}: ${p.remove.map((m) => `${short(m.digest)} (${m.tags.join(", ")})`).join(", ")}`);
    }
    let deleted = 0;
    let registryFreed: number | undefined;
    if (!dryRun) {
        let unsupported = false;
        for (const p of plans) {
            const keep = new Set(p.kept.map((k) => k.digest));
            for (const m of p.remove) {
                for (const digest of [m.digest, ...(m.children ?? []).filter((c) => !keep.has(c))]) {
                    const r = await api.delete(p.repository, digest);
                    if (r === "unsupported") unsupported = true;
                    if (r !== "deleted") break;
                    if (digest === m.digest) deleted++;
                }
                if (unsupported) break;
            }
            if (unsupported) break;
        }
        if (unsupported) {
            log(`note: registry ${target.server} does not allow deleting manifests (405 UNSUPPORTED): nothing more is deleted there` +
                (target.service ? "; its service needs REGISTRY_STORAGE_DELETE_ENABLED=true, which the Registry component sets" : "; its own retention rules are the way to clean it"));
        }
        if (deleted && target.service) {
            const { before, after } = await collectGarbage(target.service, log);
            registryFreed = Math.max(0, before - after);
            log(`registry ${target.server}: ${deleted} manifest${deleted === 1 ? "" : "s"} deleted; its garbage collection freed ${formatBytes(registryFreed)} (${formatBytes(before)} → ${formatBytes(after)})`);
        } else if (deleted) {
            log(`registry ${target.server}: ${deleted} manifest${deleted === 1 ? "" : "s"} deleted; the space is freed by the registry's own garbage collection`);
        }
    }
    const { engines, unreached } = nodeEngines();
    const nodes = new Map<string, NodeImage[]>();
    for (const engine of engines) {
        const images = nodeCandidates(engine, target.server, plans);
        nodes.set(engine.name, images);
        const bytes = images.reduce((n, i) => n + i.size, 0);
        if (images.length === 0) {
            log(`node ${engine.name}: nothing to remove`);
            continue;
        }
        log(`node ${engine.name}: ${verb} ${images.length} image${images.length === 1 ? "" : "s"}, up to ${formatBytes(bytes)}: ${describeNodeImages(images).join("; ")}`);
        if (!dryRun) log(`node ${engine.name}: freed up to ${formatBytes(removeNodeImages(engine, images, log))}`);
    }
    if (unreached.length) log(`note: not cleaned, no engine for them: ${unreached.join(", ")} (name them in DOCKYARD_NODE_HOSTS, e.g. "${unreached[0]}=ssh://deploy@${unreached[0]}")`);
    return { plans, deleted, registryFreed, nodes, unreachedNodes: unreached };
}
