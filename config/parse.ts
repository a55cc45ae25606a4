import { createHash } from "crypto";
import { RunError } from "@pulumi/pulumi";
import { z } from "zod";
import { Environment, ServiceConfig, environmentSchema } from "./schema";

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

function at(raw: unknown, path: readonly PropertyKey[]): unknown {
    let v: any = raw;
    for (const k of path) v = v === null || v === undefined ? undefined : v[k as any];
    return v;
}

function show(v: unknown): string {
    return v === undefined ? "nothing" : JSON.stringify(v);
}

function distance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
    }
    return d[a.length][b.length];
}

function pathText(path: readonly PropertyKey[]): string {
    return path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("") || "(top level)";
}

function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
    // Walk the schema along the path to list the keys accepted where an unknown key was found.
    let s: any = schema;
    for (const k of path) {
        while (s?.def?.innerType) s = s.def.innerType;
        if (s?.def?.type === "object") s = s.def.shape[k as string];
        else if (s?.def?.type === "record") s = s.def.valueType;
        else if (s?.def?.type === "array") s = s.def.element;
        else if (s?.def?.type === "union") s = s.def.options.find((o: any) => o?.def?.type === "object" && (k as string) in o.def.shape)?.def.shape[k as string];
        else return [];
    }
    while (s?.def?.innerType) s = s.def.innerType;
    return s?.def?.type === "object" ? Object.keys(s.def.shape) : [];
}

function describe(issue: z.core.$ZodIssue, raw: unknown): string[] {
    const where = pathText(issue.path);
    if (issue.code === "unrecognized_keys") {
        const accepted = knownKeys(environmentSchema, issue.path);
        return issue.keys.map((key) => {
            const near = accepted.filter((k) => distance(k, key) <= 2);
            const hint = near.length ? `did you mean ${show(near[0])}? ` : "";
            const prefix = issue.path.length ? `${where}.` : "";
            return `${prefix}${key}: unknown key; ${hint}accepted keys are ${accepted.join(", ")}`;
        });
    }
    let expected = issue.message;
    if (issue.code === "invalid_value") expected = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    else if (issue.code === "invalid_type" && expected.startsWith("Invalid input")) expected = `expected ${issue.expected}`;
    else if (issue.code === "invalid_union" && expected.startsWith("Invalid input")) expected = "expected a value of another shape";
    return [`${where}: ${expected}, got ${show(at(raw, issue.path))}`];
}

/** A reference that is not a local image name: has a registry, tag or digest. */
export function isImageReference(image: string): boolean {
    return /[:@/]/.test(image);
}

/** A service's settings after the environment's defaults are applied. */
export function effectiveService(env: Environment, name: string): ServiceConfig & { requireHealthCheck: boolean } {
    const d = env.defaults;
    const s = env.services[name];
    return {
        ...s,
        replicas: s.global ? undefined : (s.replicas ?? d.replicas ?? 1),
        update: { ...d.update, ...s.update },
        rollback: { ...d.rollback, ...s.rollback },
        endpointMode: s.endpointMode ?? d.endpointMode,
        ports: s.ports?.map((p) => ({ ...p, mode: p.mode ?? d.publishMode })),
        limits: s.limits ?? d.limits,
        reservations: s.reservations ?? d.reservations,
        requireHealthCheck: d.requireHealthCheck ?? false,
    };
}

/**
 * Validate one environment's raw config. Returns the typed config, or throws a ConfigError listing
 * every problem with its config path. Pure: reads nothing but its arguments.
 */
export function parseEnvironment(raw: unknown, keys: ConfigKeys = { isSecret: () => undefined }): Environment {
    const problems: string[] = [];
    // A secret value written into the stack file is the one mistake worth a dedicated message.
    if (raw && typeof raw === "object" && (raw as any).secrets && typeof (raw as any).secrets === "object") {
        for (const [name, s] of Object.entries((raw as any).secrets as Record<string, any>)) {
            if (s && typeof s === "object" && "value" in s) {
                problems.push(`secrets.${name}.value: secret values may not be written in the stack file; run \`pulumi config set --secret ${name} <value>\` and set secrets.${name}.fromConfig: ${name}`);
                delete (s as any).value;
                if (!("fromConfig" in s)) (s as any).fromConfig = name;
            }
        }
    }
    const parsed = environmentSchema.safeParse(raw);
    if (!parsed.success) {
        problems.push(...parsed.error.issues.flatMap((i) => describe(i, raw)));
        throw new ConfigError(problems);
    }
    const env = parsed.data;
    problems.push(...crossCheck(env, keys));
    if (problems.length) throw new ConfigError(problems);
    return env;
}

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

    for (const [name, s] of Object.entries(env.secrets)) secretKey(`secrets.${name}.fromConfig`, s.fromConfig);
    const reg = env.registry;
    if (reg && "external" in reg) {
        secretKey("registry.external.passwordFromConfig", reg.external.passwordFromConfig);
        if ((reg.external.username === undefined) !== (reg.external.passwordFromConfig === undefined)) {
            p.push("registry.external: give both username and passwordFromConfig, or neither");
        }
    }
    if (reg && "selfHosted" in reg) {
        secretKey("registry.selfHosted.passwordFromConfig", reg.selfHosted.passwordFromConfig);
        if ((reg.selfHosted.username === undefined) !== (reg.selfHosted.passwordFromConfig === undefined)) {
            p.push("registry.selfHosted: give both username and passwordFromConfig, or neither");
        }
    }

    const published = new Map<string, string>();
    if (reg && "selfHosted" in reg) published.set(`${reg.selfHosted.port ?? 5000}/tcp`, "registry.selfHosted.port");
    for (const [name, raw] of Object.entries(env.services)) {
        const s = effectiveService(env, name);
        const base = `services.${name}`;
        if (!(s.image in env.images) && !isImageReference(s.image)) {
            p.push(`${base}.image: expected the name of one of the images (${list(env.images)}) or a reference such as "nginx:1.27", got ${show(s.image)}`);
        }
        (s.networks ?? []).forEach((n, i) => mustExist(`${base}.networks[${i}]`, "networks", n, env.networks));
        (s.secrets ?? []).forEach((ref, i) => {
            const secretName = typeof ref === "string" ? ref : ref.name;
            mustExist(`${base}.secrets[${i}]`, "secrets", secretName, env.secrets);
        });
        (s.configs ?? []).forEach((c, i) => mustExist(`${base}.configs[${i}].name`, "configs", c.name, env.configs));
        (s.mounts ?? []).forEach((m, i) => {
            const kinds = [m.volume, m.hostPath, m.tmpfs].filter((k) => k !== undefined).length;
            if (kinds !== 1) p.push(`${base}.mounts[${i}]: expected exactly one of volume, hostPath or tmpfs, got ${kinds}`);
            if (m.volume !== undefined) mustExist(`${base}.mounts[${i}].volume`, "volumes", m.volume, env.volumes);
        });
        if (raw.global && raw.replicas !== undefined) p.push(`${base}.replicas: cannot be combined with global: true, got ${raw.replicas}`);
        if (s.requireHealthCheck && !s.healthCheck) p.push(`${base}.healthCheck: expected a health check (defaults.requireHealthCheck is true in this environment), got nothing`);
        (s.ports ?? []).forEach((port, i) => {
            const key = `${port.published ?? port.target}/${port.protocol ?? "tcp"}`;
            const prior = published.get(key);
            if (prior) p.push(`${base}.ports[${i}]: port ${key} is already published by ${prior}; publish each port once`);
            else published.set(key, `${base}.ports[${i}]`);
            if (s.endpointMode === "dnsrr" && (port.mode ?? "ingress") === "ingress") {
                p.push(`${base}.ports[${i}].mode: endpointMode "dnsrr" needs host-mode ports, got ${show(port.mode ?? "ingress")}`);
            }
        });
        if (env.mode === "containers" && s.global) p.push(`${base}.global: plain containers (mode: containers) have no global mode, got true`);
    }
    if (env.mode === "containers") {
        for (const [name, n] of Object.entries(env.networks)) {
            if ((n.driver ?? "overlay") === "overlay") p.push(`networks.${name}.driver: mode "containers" needs bridge networks, got ${show(n.driver ?? "overlay")}`);
        }
        if (Object.keys(env.secrets).length) p.push(`secrets: mode "containers" has no Swarm secrets; use mode "swarm", got ${list(env.secrets)}`);
        if (reg && "selfHosted" in reg) p.push(`registry.selfHosted: runs as a Swarm service and needs mode "swarm"`);
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
