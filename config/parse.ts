import { Registry, issueTexts, publishedPort } from "@dockyard/components";
import { RunError } from "@pulumi/pulumi";
import { createHash } from "crypto";
import { checkingFactory, effectiveService, isImageReference, mapEnvironment } from "./map";
import { Environment, SECRET_SOURCE_KINDS, environmentSchema } from "./schema";

function show(v: unknown): string {
    return v === undefined ? "nothing" : JSON.stringify(v);
}

/** What the loader knows about Pulumi config keys a stack file refers to. */
export interface ConfigKeys {
    /** true: set with --secret; false: set in plaintext; undefined: not set. */
    isSecret(key: string): boolean | undefined;
}

/**
 * Every problem with a stack's config, each on its own line with its config path. A RunError, so
 * Pulumi shows the message without a stack trace.
 */
export class ConfigError extends RunError {
    constructor(public readonly problems: readonly string[]) {
        super(`invalid stack config (${problems.length} ${problems.length === 1 ? "problem" : "problems"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

export interface ParseOptions {
    /** What the loader knows about the config keys the stack file names. @default every key unset */
    readonly keys?: ConfigKeys;
    /** Where image contexts are resolved from. @default the current directory */
    readonly projectDir?: string;
    /** Images pinned by a rollback (they are not built, so not checked). @default none */
    readonly pins?: Readonly<Record<string, string>>;
}

/**
 * Validate one environment's raw config: its shape, the references between its parts, and then
 * every component's arguments exactly as the program will pass them, checked by the library's
 * own rules (names with the prefix, rules between settings, contexts that exist). Returns the typed
 * config, or throws a ConfigError listing every problem with its stack-file path. Creates nothing.
 */
export function parseEnvironment(raw: unknown, opts: ParseOptions = {}): Environment {
    const keys = opts.keys ?? { isSecret: () => undefined };
    const problems: string[] = [];
    // A secret value written into the stack file is the one mistake worth a dedicated message.
    if (raw && typeof raw === "object" && (raw as any).secrets && typeof (raw as any).secrets === "object") {
        for (const [name, s] of Object.entries((raw as any).secrets as Record<string, any>)) {
            if (s && typeof s === "object" && "value" in s) {
                problems.push(`secrets.${name}.value: secret values may not be written in the stack file; name their source instead: ` +
                    `run \`pulumi config set --secret ${name} <value>\` and set secrets.${name}.config: ${name}, or use env, file or command`);
                delete (s as any).value;
                if (!SECRET_SOURCE_KINDS.some((k) => k in s) && !("fromConfig" in s)) (s as any).config = name;
            }
        }
    }
    const parsed = environmentSchema.safeParse(raw);
    if (!parsed.success) {
        problems.push(...issueTexts(environmentSchema, parsed.error.issues, raw));
        throw new ConfigError(problems);
    }
    const env = parsed.data;
    problems.push(...crossCheck(env, keys));
    if (problems.length) throw new ConfigError(problems);
    // Sources are not read here: only the program reads them (config/load.ts).
    mapEnvironment(env, { projectDir: opts.projectDir ?? process.cwd(), pins: opts.pins ?? {}, secret: () => "[secret]" }, checkingFactory(problems));
    if (problems.length) throw new ConfigError(problems);
    return env;
}

/** What is about the environment as a whole: references, secret keys, ports across services. */
function crossCheck(env: Environment, keys: ConfigKeys): string[] {
    const p: string[] = [];
    const list = (o: object) => Object.keys(o).join(", ") || "none defined";
    const mustExist = (path: string, what: string, name: string, pool: object) => {
        if (!(name in pool)) p.push(`${path}: expected the name of one of the ${what} (${list(pool)}), got ${show(name)}`);
    };
    const secretKey = (path: string, key: string | undefined) => {
        if (key === undefined) return;
        const secret = keys.isSecret(key);
        if (secret === undefined) p.push(`${path}: config key ${show(key)} is not set; run \`pulumi config set --secret ${key} <value>\``);
        else if (!secret) p.push(`${path}: config key ${show(key)} is stored in plaintext; set it again with \`pulumi config set --secret ${key} <value>\``);
    };

    for (const [name, s] of Object.entries(env.secrets)) {
        secretKey(`secrets.${name}.config`, s.config);
        secretKey(`secrets.${name}.fromConfig`, s.fromConfig);
    }
    const reg = env.registry;
    if (reg && "external" in reg) secretKey("registry.external.passwordFromConfig", reg.external.passwordFromConfig);
    if (reg && "selfHosted" in reg) secretKey("registry.selfHosted.passwordFromConfig", reg.selfHosted.passwordFromConfig);

    if (env.gc && !reg) {
        p.push("gc: true needs a registry to clean (`registry: { selfHosted: {} }` or `{ external: ... }`); without one, images stay on the building engine, where each image's `keep` prunes them");
    }

    // Ports are published on the same nodes by every service of the environment.
    const published = new Map<string, string>();
    if (reg && "selfHosted" in reg) published.set(`${reg.selfHosted.port ?? Registry.defaultPort}/tcp`, "registry.selfHosted.port");
    for (const name of Object.keys(env.services)) {
        const s = effectiveService(env, name);
        const base = `services.${name}`;
        if (!(s.image in env.images) && !isImageReference(s.image)) {
            p.push(`${base}.image: expected the name of one of the images (${list(env.images)}) or a reference such as "nginx:1.27", got ${show(s.image)}`);
        }
        (s.networks ?? []).forEach((n, i) => mustExist(`${base}.networks[${i}]`, "networks", n, env.networks));
        (s.secrets ?? []).forEach((ref, i) => mustExist(`${base}.secrets[${i}]`, "secrets", typeof ref === "string" ? ref : ref.name, env.secrets));
        (s.configs ?? []).forEach((c, i) => mustExist(`${base}.configs[${i}].name`, "configs", c.name, env.configs));
        (s.mounts ?? []).forEach((m, i) => {
            if (m.volume !== undefined) mustExist(`${base}.mounts[${i}].volume`, "volumes", m.volume, env.volumes);
        });
        if (env.defaults.requireHealthCheck && (!s.healthCheck || s.healthCheck.disable)) {
            p.push(`${base}.healthCheck: expected a health check (defaults.requireHealthCheck is true in this environment), got ${s.healthCheck ? "disable: true" : "nothing"}`);
        }
        // Within one service the library's own rule applies; here, across services.
        const mine = new Map<string, string>();
        (s.ports ?? []).forEach((port, i) => {
            if (publishedPort(port) === undefined) return;
            const key = `${publishedPort(port)}/${port.protocol ?? "tcp"}`;
            const prior = published.get(key);
            if (prior) p.push(`${base}.ports[${i}]: port ${key} is already published by ${prior}; publish each port once`);
            else if (!mine.has(key)) mine.set(key, `${base}.ports[${i}]`);
        });
        mine.forEach((where, key) => published.set(key, where));
    }
    return p;
}

/** JSON with object keys sorted, so equal specs always serialize the same way. */
function canonical(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
    if (value && typeof value === "object") {
        const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
    }
    return JSON.stringify(value);
}

/** A short, stable hash of a spec: the release manifest records it for every service. */
export function shortHashOf(value: unknown): string {
    return createHash("sha256").update(canonical(value)).digest("hex").slice(0, 16);
}
