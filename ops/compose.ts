// Compose → Dockyard stack: the mapping of a Compose file, as Docker's own loader normalises it
// (`docker stack config`), to one `dockyard:environment` object. Pure: everything it reads (files,
// variables) comes through its options, so it is tested without Docker.
import * as dy from "@dockyard/components";
import * as path from "path";

/** An error changes behaviour and stops the import (unless allowed); a warning does not. */
export type Severity = "error" | "warning";

export interface Finding {
    /** Where in the Compose document, e.g. `services.web.privileged`. */
    readonly path: string;
    readonly severity: Severity;
    readonly why: string;
}

/**
 * A Compose secret from a file, whose value goes to a secret config key, never to the stack file.
 * (A secret from `environment:` needs no key: the stack reads it with an `env:` source.)
 */
export interface SecretSource {
    /** The secret's name in the stack (and in Compose). */
    readonly secret: string;
    /** The secret config key (`pulumi config set --secret <key>`). */
    readonly key: string;
    /** The file the value comes from (absolute path). */
    readonly from: { readonly file: string };
}

export interface ComposeImport {
    /** The `dockyard:environment` object. */
    readonly environment: Record<string, any>;
    readonly secrets: readonly SecretSource[];
    readonly findings: readonly Finding[];
}

export interface MapOptions {
    /** The project directory: build contexts are written relative to it. */
    readonly projectDir: string;
    /** The directory Docker's loader resolved relative paths against (the first Compose file's). */
    readonly composeDir: string;
    /** The stack name: the Docker object prefix and the repository of images Compose gives no name. */
    readonly stack: string;
    /** Reads a config's `file:` (absolute path). */
    readFile(file: string): string;
    /** Variables for `environment:` configs. */
    readonly env: Readonly<Record<string, string | undefined>>;
    /** An environment entry without a value whose variable is not set is left out (`--allow-unset`). @default false: it stops the import */
    readonly allowUnset?: boolean;
}

/**
 * Docker's loader (Docker CLI 28) refuses `environment:` on top-level secrets and configs; the
 * import rewrites it to `file: <marker>/<VARIABLE>` before loading and reads it back here.
 */
export const ENV_MARKER = "__dockyard_env__";

/**
 * Why a one-shot service's updates or rollbacks differ from what docker stack deploy would do: the
 * settings of `raw` (update_config or rollback_config) Dockyard gives it, or undefined when it gives none.
 */
function oneShot(what: "update" | "rollback", raw: Obj | undefined): string | undefined {
    const given = [raw?.failure_action === undefined && "failure_action continue", raw?.monitor === undefined && "no monitor period"].filter(Boolean);
    if (given.length === 0) return undefined;
    const swarm = raw?.failure_action === undefined ? `pause every ${what} of it, as Swarm counts its tasks' exit as a failure` : `watch each task for ${SWARM_ROLLOUT.monitor}`;
    return `a one-shot service (restart condition none): Dockyard rolls it ${what === "update" ? "out" : "back"} with ${given.join(" and ")}, and takes a task that exited 0 as done (docker stack deploy would ${swarm})`;
}

/** What Swarm does when a Compose file gives no update_config / rollback_config. */
export const SWARM_ROLLOUT = { parallelism: 1, delay: "0s", monitor: "5s", maxFailureRatio: 0, order: "stop-first", failureAction: "pause" } as const;
/** What Swarm does when a Compose file gives no restart policy (Dockyard's own default is on failure only). */
export const SWARM_RESTART = { condition: "any" } as const;
/**
 * The health-check timings a Compose healthcheck leaves out, as `docker stack deploy` sends them: 0,
 * which Docker reads as the image's HEALTHCHECK value, else its own default (30s, 30s, 3, 0s).
 */
export const DOCKER_HEALTH = { interval: "0s", timeout: "0s", retries: 0, startPeriod: "0s" } as const;

const SCHEMA = (key: string) => `no stack key for it yet (needs a stack schema addition: ${key})`;

/** What the import does with a Compose key: maps it to a stack key, warns and leaves it out, or stops. */
export type KeyHandling = "mapped" | "warned" | "stops";
export interface KeyRule {
    readonly handling: KeyHandling;
    /** For a mapped key, the stack key(s) it becomes (and when it still stops); otherwise why. */
    readonly note: string;
}

const IGNORED_BY_SWARM = "docker stack deploy ignores it too (a Swarm service cannot set it); the service runs without it";

/**
 * Every key of a Compose service the import knows, and what it does with it: the one list the
 * importer follows and the README's table shows (a unit test checks they agree). A key not listed
 * stops the import ("no Dockyard stack key for it").
 */
export const SERVICE_KEYS: Readonly<Record<string, KeyRule>> = {
    image: { handling: "mapped", note: "`image` (with `build`: the image's repository and tag)" },
    build: { handling: "mapped", note: "an `images` entry the service deploys (a remote context stops)" },
    entrypoint: { handling: "mapped", note: "`command`" },
    command: { handling: "mapped", note: "`args`" },
    environment: { handling: "mapped", note: "`env` (an entry without a value whose variable is not set stops; with `--allow-unset` it is left out, as docker stack deploy leaves it out)" },
    ports: { handling: "mapped", note: "`ports`; one without a published port is `published: \"any\"`, a free port Swarm picks (bound to a host IP, it stops)" },
    networks: { handling: "mapped", note: "`networks` and `aliases` (aliases that differ between networks stop; fixed addresses are warnings, Swarm ignores them too)" },
    volumes: { handling: "mapped", note: "`mounts`: volumes (`nocopy` as `noCopy`), binds, tmpfs with or without a size (an anonymous volume or bind propagation stops)" },
    tmpfs: { handling: "mapped", note: "`mounts` with `tmpfs` (docker stack deploy leaves them out; see the deliberate differences)" },
    secrets: { handling: "mapped", note: "`secrets`, with `uid`, `gid` and `mode` (a target outside /run/secrets stops)" },
    configs: { handling: "mapped", note: "`configs`, with `uid`, `gid` and `mode`" },
    healthcheck: { handling: "mapped", note: "`healthCheck`; a timing left out is 0, the image's value else Docker's default, as `docker stack deploy` sends it; timings without `test` keep the image's command; `disable: true` or test `NONE` is `healthCheck: { disable: true }`" },
    user: { handling: "mapped", note: "`user`" },
    read_only: { handling: "mapped", note: "`readOnlyRootFilesystem`" },
    restart: { handling: "mapped", note: "`restart` as docker compose runs it, when `deploy.restart_policy` is not given" },
    deploy: { handling: "mapped", note: "see the `deploy` keys below" },
    stop_grace_period: { handling: "mapped", note: "`stopGracePeriod` (none when left out: see the deliberate differences)" },
    stop_signal: { handling: "mapped", note: "`stopSignal`" },
    cap_add: { handling: "mapped", note: "`capabilities.add`" },
    cap_drop: { handling: "mapped", note: "`capabilities.drop`" },
    init: { handling: "mapped", note: "`init`" },
    sysctls: { handling: "mapped", note: "`sysctls`" },
    hostname: { handling: "mapped", note: "`hostname`" },
    working_dir: { handling: "mapped", note: "`workdir`" },
    labels: { handling: "mapped", note: "`containerLabels` (`deploy.labels` are the service's `labels`)" },
    logging: { handling: "mapped", note: "`logging`" },
    extra_hosts: { handling: "mapped", note: "`extraHosts`" },
    dns: { handling: "mapped", note: "`dns.nameservers`" },
    dns_search: { handling: "mapped", note: "`dns.search` (needs `dns`)" },
    dns_opt: { handling: "mapped", note: "`dns.options` (needs `dns`)" },
    depends_on: { handling: "warned", note: "Swarm ignores it too: services start in any order and must retry their dependencies" },
    container_name: { handling: "warned", note: "Swarm ignores it too; the service is named <prefix>-<service>" },
    links: { handling: "warned", note: "Swarm ignores it too; services reach each other by name on a shared network" },
    external_links: { handling: "warned", note: "Swarm ignores it too; services reach each other by name on a shared network" },
    env_file: { handling: "warned", note: "already read into environment by Docker's loader" },
    expose: { handling: "warned", note: "Swarm ignores it too: services on a shared network reach each other on every port" },
    cgroup_parent: { handling: "warned", note: IGNORED_BY_SWARM },
    cgroupns_mode: { handling: "warned", note: IGNORED_BY_SWARM },
    devices: { handling: "warned", note: IGNORED_BY_SWARM },
    domainname: { handling: "warned", note: IGNORED_BY_SWARM },
    ipc: { handling: "warned", note: IGNORED_BY_SWARM },
    mac_address: { handling: "warned", note: IGNORED_BY_SWARM },
    pid: { handling: "warned", note: IGNORED_BY_SWARM },
    security_opt: { handling: "warned", note: IGNORED_BY_SWARM },
    shm_size: { handling: "warned", note: IGNORED_BY_SWARM },
    userns_mode: { handling: "warned", note: IGNORED_BY_SWARM },
    privileged: { handling: "stops", note: "Dockyard runs no privileged containers (docker stack deploy ignores it too)" },
    network_mode: { handling: "stops", note: "Dockyard services always join overlay networks" },
    ulimits: { handling: "stops", note: "docker stack deploy sets them, but the Docker provider (5.2) has no ulimits for a service: without them the limits are the engine's defaults" },
    tty: { handling: "stops", note: "docker stack deploy allocates a terminal, but the Docker provider (5.2) cannot" },
    stdin_open: { handling: "stops", note: "docker stack deploy keeps stdin open, but the Docker provider (5.2) cannot" },
};

/** The keys of a service's `deploy:`, as SERVICE_KEYS. */
export const DEPLOY_KEYS: Readonly<Record<string, KeyRule>> = {
    mode: { handling: "mapped", note: "`global` (`replicated-job` and `global-job` stop: Dockyard has no Swarm jobs)" },
    replicas: { handling: "mapped", note: "`replicas`" },
    update_config: { handling: "mapped", note: "`update`" },
    rollback_config: { handling: "mapped", note: "`rollback`" },
    endpoint_mode: { handling: "mapped", note: "`endpointMode`" },
    resources: { handling: "mapped", note: "`limits` and `reservations`, cpus and memory, each on its own (pids, devices and generic resources stop)" },
    placement: { handling: "mapped", note: "`constraints`, `preferences` and `maxReplicasPerNode`" },
    labels: { handling: "mapped", note: "`labels`" },
    restart_policy: { handling: "mapped", note: "`restart`" },
};

/**
 * How a service Dockyard deploys from an import differs from the one `docker stack deploy` makes of
 * the same files, on purpose: the one list the README shows and the real-engine comparison
 * (test/integration/compose.test.ts) allows, each by its key. Everything else must be the same.
 */
export const DELIBERATE_DIFFERENCES = {
    names: "Docker objects are named `<prefix>-<name>`, not `<stack>_<name>`, and secrets and configs `<prefix>-<name>-<hash of the content>`, so a new value is a new object the service rotates to; each tool adds its own ownership labels (`dockyard.*`, `com.docker.stack.*`)",
    restartNo: "`restart: \"no\"` is restart condition `none`, as `docker compose` runs it; `docker stack deploy` would restart the task on any exit",
    oneShot: "a one-shot service (restart condition `none`) is rolled out and back with failure action `continue` and no monitor period unless set, where Swarm would pause each update, counting its tasks' exit as a failure",
    serviceTmpfs: "a service-level `tmpfs:` is mounted, as `docker compose` does; `docker stack deploy` leaves it out",
    stopGrace: "a service without `stop_grace_period` is killed at once when its task stops, where Swarm gives it 10 s: the Docker provider's destroy waits only the grace period for each task to go and fails when it takes longer; set `stop_grace_period` for a workload that shuts down gracefully",
    nodePin: "a service that mounts a node-local volume (the `local` driver without a network filesystem) is pinned to the node holding its data (`node.id==<id>`), unless it has placement constraints of its own",
} as const;

const rulesOf = (table: Readonly<Record<string, KeyRule>>, handling: KeyHandling) =>
    Object.fromEntries(Object.entries(table).filter(([, r]) => r.handling === handling).map(([k, r]) => [k, r.note]));

type Obj = Record<string, any>;

/** `db_password` → `dbPassword`: the secret config key for a Compose secret. */
export function configKeyFor(secret: string): string {
    const parts = secret.split(/[^A-Za-z0-9]+/).filter(Boolean);
    const key = parts.map((p, i) => (i === 0 ? p.charAt(0).toLowerCase() + p.slice(1) : p.charAt(0).toUpperCase() + p.slice(1))).join("");
    return /^[A-Za-z]/.test(key) ? key : `secret${key.charAt(0).toUpperCase()}${key.slice(1)}`;
}

/** Split an image reference into registry host, repository path and tag (digest kept with the path). */
export function splitImage(ref: string): { host?: string; repository: string; tag?: string } {
    const [first, ...rest] = ref.split("/");
    const hasHost = rest.length > 0 && (first.includes(".") || first.includes(":") || first === "localhost");
    const remainder = hasHost ? rest.join("/") : ref;
    const at = remainder.indexOf("@");
    const name = at >= 0 ? remainder.slice(0, at) : remainder;
    const colon = name.lastIndexOf(":");
    return colon > name.lastIndexOf("/") && colon >= 0
        ? { host: hasHost ? first : undefined, repository: name.slice(0, colon), tag: name.slice(colon + 1) }
        : { host: hasHost ? first : undefined, repository: name };
}

class Collector {
    readonly findings: Finding[] = [];
    error(p: string, why: string): void {
        this.findings.push({ path: p, severity: "error", why });
    }
    warn(p: string, why: string): void {
        this.findings.push({ path: p, severity: "warning", why });
    }
    /** Report every key of `obj` not in `handled`: a warning when listed as harmless, else an error. */
    rest(obj: Obj, base: string, handled: readonly string[], why: Record<string, string> = {}, harmless: Record<string, string> = {}): void {
        for (const key of Object.keys(obj)) {
            if (handled.includes(key)) continue;
            if (key.startsWith("x-")) this.warn(`${base}.${key}`, "an extension field: Compose and Swarm ignore it too (what YAML anchors take from it is imported where it lands)");
            else if (key in harmless) this.warn(`${base}.${key}`, harmless[key]);
            else this.error(`${base}.${key}`, why[key] ?? "no Dockyard stack key for it");
        }
    }
}

/** What a schema says about a record's key (zod nests it under "Invalid key in record"). */
function keyMessage(issue: { message: string; issues?: ReadonlyArray<{ message: string }> }): string {
    return issue.issues?.[0]?.message ?? issue.message;
}

function number(v: unknown): number | undefined {
    if (v === undefined || v === null) return undefined;
    const n = typeof v === "number" ? v : Number(v);
    return Number.isFinite(n) ? n : undefined;
}

function rollout(c: Collector, raw: Obj, base: string): Obj {
    const out: Obj = {};
    if (raw.parallelism !== undefined) out.parallelism = number(raw.parallelism);
    if (raw.delay !== undefined) out.delay = raw.delay;
    if (raw.monitor !== undefined) out.monitor = raw.monitor;
    if (raw.max_failure_ratio !== undefined) out.maxFailureRatio = number(raw.max_failure_ratio);
    if (raw.order !== undefined) out.order = raw.order;
    if (raw.failure_action !== undefined) out.failureAction = raw.failure_action;
    c.rest(raw, base, ["parallelism", "delay", "monitor", "max_failure_ratio", "order", "failure_action"]);
    return out;
}

/** A secret's or config's file owner and mode, each only when other than Docker's (root, 0444). */
function ownership(ref: Obj): Obj {
    const out: Obj = {};
    if (ref.uid !== undefined && String(ref.uid) !== "0") out.uid = String(ref.uid);
    if (ref.gid !== undefined && String(ref.gid) !== "0") out.gid = String(ref.gid);
    if (ref.mode !== undefined && number(ref.mode) !== 0o444) out.mode = number(ref.mode);
    return out;
}

function resources(c: Collector, raw: Obj, base: string): Obj {
    const out: Obj = {};
    if (raw.cpus !== undefined) out.cpus = number(raw.cpus);
    if (raw.memory !== undefined) out.memory = number(raw.memory) ?? raw.memory;
    c.rest(raw, base, ["cpus", "memory"], {
        pids: "the Docker provider (5.2) cannot set a service's pids limit: without it the number of processes is unlimited",
        generic_resources: "no stack key for it yet (needs a stack schema addition: reservations.genericResources): without it the scheduler reserves no such resource",
        devices: "the Docker provider (5.2) cannot reserve devices for a service",
    });
    return out;
}

function healthCheck(c: Collector, raw: Obj, base: string): Obj | undefined {
    // Either form turns off the image's own HEALTHCHECK too; Docker ignores the timings given with it.
    if (raw.disable === true || (Array.isArray(raw.test) && raw.test[0] === "NONE")) {
        c.rest(raw, base, ["disable", "test", "interval", "timeout", "retries", "start_period", "start_interval"]);
        return { disable: true };
    }
    c.rest(raw, base, ["test", "interval", "timeout", "retries", "start_period"], {}, {
        start_interval: "the Docker provider (5.2) cannot set it: during the start period the check runs every `interval` instead (only readiness comes later)",
    });
    let command: string[] | string | undefined;
    if (typeof raw.test === "string") command = raw.test;
    else if (Array.isArray(raw.test) && raw.test[0] === "CMD-SHELL" && raw.test.length === 2) command = raw.test[1];
    else if (Array.isArray(raw.test) && raw.test[0] === "CMD" && raw.test.length > 1) command = raw.test.slice(1);
    else if (raw.test !== undefined) {
        c.error(`${base}.test`, `expected ["CMD", ...], ["CMD-SHELL", "<command>"] or a string, got ${JSON.stringify(raw.test)}`);
        return undefined;
    }
    // No test: the image's HEALTHCHECK command, with these timings, as Docker runs it; a timing left
    // out is the image's too.
    return {
        ...(command === undefined ? {} : { command }),
        interval: raw.interval ?? DOCKER_HEALTH.interval,
        timeout: raw.timeout ?? DOCKER_HEALTH.timeout,
        retries: number(raw.retries) ?? DOCKER_HEALTH.retries,
        startPeriod: raw.start_period ?? DOCKER_HEALTH.startPeriod,
    };
}

const RESTART_CONDITIONS = ["none", "on-failure", "any"];

/**
 * The restart policy `docker stack deploy` gives a service: `deploy.restart_policy`, else the
 * service's `restart:`, else Swarm's default (any exit). A condition left out is Swarm's `any` too;
 * delay, attempts and window left out are Swarm's defaults, which are also Dockyard's.
 */
function restartPolicy(c: Collector, raw: Obj, base: string): Obj | undefined {
    const policy = raw.deploy?.restart_policy;
    if (policy !== undefined) {
        const pbase = `${base}.deploy.restart_policy`;
        if (raw.restart !== undefined) c.warn(`${base}.restart`, "deploy.restart_policy is given, so docker stack deploy ignores it too");
        const out: Obj = { condition: policy.condition ?? SWARM_RESTART.condition };
        if (!RESTART_CONDITIONS.includes(out.condition)) {
            c.error(`${pbase}.condition`, `expected one of ${RESTART_CONDITIONS.join(", ")}, got ${JSON.stringify(policy.condition)}`);
            return undefined;
        }
        if (policy.delay !== undefined) out.delay = policy.delay;
        if (policy.max_attempts !== undefined) out.maxAttempts = number(policy.max_attempts);
        if (policy.window !== undefined) out.window = policy.window;
        c.rest(policy, pbase, ["condition", "delay", "max_attempts", "window"]);
        return out;
    }
    if (raw.restart === undefined || raw.restart === "") return { ...SWARM_RESTART };
    if (raw.restart === "no") {
        // docker stack deploy reads "no" as no policy, i.e. Swarm's restart on any exit: a one-shot job
        // would run forever. Compose's meaning is kept.
        c.warn(`${base}.restart`, "\"no\" is written as condition none, as docker compose runs it (docker stack deploy would restart it on any exit)");
        return { condition: "none" };
    }
    // docker stack deploy reads a service's `restart:` when there is no deploy.restart_policy.
    const [name, retries] = String(raw.restart).split(":");
    if (name === "always" || name === "unless-stopped") return { ...SWARM_RESTART };
    if (name === "on-failure" && (retries === undefined || /^\d+$/.test(retries))) {
        return retries === undefined ? { condition: "on-failure" } : { condition: "on-failure", maxAttempts: Number(retries) };
    }
    c.error(`${base}.restart`, `expected no, always, unless-stopped or on-failure[:<attempts>], got ${JSON.stringify(raw.restart)}`);
    return undefined;
}

/** The identity of a service's build: its settings and the image name it is given. */
function buildKey(build: Obj, image: unknown): string {
    const sorted = (v: unknown): unknown => (v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Obj)[k])])) : Array.isArray(v) ? v.map(sorted) : v);
    return JSON.stringify([sorted(build), image ?? null]);
}

/** Compose's placement preferences (`- spread: node.labels.zone`) as Dockyard's (`spread=node.labels.zone`). */
function preferences(c: Collector, raw: unknown, base: string): string[] {
    if (!Array.isArray(raw)) {
        c.error(base, `expected a list of { spread: <label> }, got ${JSON.stringify(raw)}`);
        return [];
    }
    const out: string[] = [];
    raw.forEach((p: Obj, i) => {
        const pbase = `${base}[${i}]`;
        if (p && typeof p.spread === "string" && /^[\w.-]+$/.test(p.spread)) out.push(`spread=${p.spread}`);
        else c.error(`${pbase}.spread`, `expected a label such as node.labels.zone, got ${JSON.stringify(p?.spread)}`);
        if (p && typeof p === "object") c.rest(p, pbase, ["spread"]);
    });
    return out;
}

/** A tmpfs mount's options from the loader's `tmpfs: { size }` (the loader keeps no mode); none: Docker's unlimited tmpfs. */
function tmpfsOf(c: Collector, raw: Obj, base: string): Obj | number {
    c.rest(raw, base, ["size", "mode"]);
    const size = number(raw.size);
    if (raw.size !== undefined && (size === undefined || size <= 0)) c.error(`${base}.size`, `expected a size in bytes such as 67108864, got ${JSON.stringify(raw.size)}`);
    if (raw.mode === undefined) return size ?? {};
    return { ...(size === undefined ? {} : { size }), mode: number(raw.mode) };
}

const TMPFS_OPTION = /^(size|mode)=(.+)$/;
/** A service-level tmpfs entry, `<path>[:size=<bytes or 64m>,mode=<octal>]`, as a mount. */
function shortTmpfs(c: Collector, raw: unknown, base: string): Obj | undefined {
    const [target, options = ""] = String(raw).split(/:(.*)/s);
    const tmpfs: Obj = {};
    for (const option of options.split(",").filter(Boolean)) {
        const [, key, value] = TMPFS_OPTION.exec(option) ?? [];
        if (key === "size" && /^\d+[kmg]?$/i.test(value)) tmpfs.size = /^\d+$/.test(value) ? Number(value) : value;
        else if (key === "mode" && /^[0-7]{1,4}$/.test(value)) tmpfs.mode = parseInt(value, 8);
        else {
            c.error(base, `expected <path>[:size=<bytes, or such as 64m>,mode=<octal such as 1770>], got ${JSON.stringify(raw)}`);
            return undefined;
        }
    }
    c.warn(base, "mounted as a tmpfs, as docker compose does (docker stack deploy leaves a service-level tmpfs out)");
    return { target, tmpfs: Object.keys(tmpfs).length === 1 && tmpfs.size !== undefined ? tmpfs.size : tmpfs };
}

/** Compose's `ulimits` forms, for the message about a value of another form. */
const ULIMIT_FORMS = "<name>: <limit> (soft and hard the same) or <name>: { soft: <limit>, hard: <limit> }";

/** Compose's extra_hosts entry `name:ip` or `name=ip` (the IP may hold colons). */
const EXTRA_HOST = /^([^:=\s]+)[:=](.+)$/;

/** The container's own settings Compose gives at the service's top level. */
function containerSettings(c: Collector, raw: Obj, base: string, s: Obj): void {
    if (raw.stop_grace_period !== undefined) s.stopGracePeriod = String(raw.stop_grace_period);
    if (raw.stop_signal !== undefined) s.stopSignal = String(raw.stop_signal);
    if (raw.cap_add !== undefined || raw.cap_drop !== undefined) {
        s.capabilities = {
            ...(raw.cap_add === undefined ? {} : { add: raw.cap_add.map(String) }),
            ...(raw.cap_drop === undefined ? {} : { drop: raw.cap_drop.map(String) }),
        };
    }
    if (raw.init !== undefined) s.init = raw.init === true || raw.init === "true";
    if (raw.sysctls !== undefined) {
        s.sysctls = Array.isArray(raw.sysctls)
            ? Object.fromEntries(raw.sysctls.map((kv: string) => String(kv).split(/=(.*)/s).slice(0, 2)))
            : Object.fromEntries(Object.entries(raw.sysctls).map(([k, v]) => [k, String(v)]));
    }
    if (raw.hostname !== undefined) s.hostname = String(raw.hostname);
    if (raw.working_dir !== undefined) s.workdir = String(raw.working_dir);
    if (raw.labels !== undefined) s.containerLabels = Object.fromEntries(Object.entries(raw.labels).map(([k, v]) => [k, String(v ?? "")]));
    if (raw.logging !== undefined) {
        const l: Obj = raw.logging;
        if (l.driver === undefined) c.error(`${base}.logging.driver`, "no driver given: the options of the engine's log driver cannot be set without naming it; name the driver, such as json-file");
        else s.logging = { driver: String(l.driver), ...(l.options ? { options: Object.fromEntries(Object.entries(l.options).map(([k, v]) => [k, String(v)])) } : {}) };
        c.rest(l, `${base}.logging`, ["driver", "options"]);
    }
    if (raw.extra_hosts !== undefined) {
        const entries: string[] = Array.isArray(raw.extra_hosts) ? raw.extra_hosts.map(String) : Object.entries(raw.extra_hosts).map(([h, ip]) => `${h}:${ip}`);
        s.extraHosts = entries.flatMap((e, i) => {
            const [, host, ip] = EXTRA_HOST.exec(e) ?? [];
            if (host === undefined) c.error(`${base}.extra_hosts[${i}]`, `expected <host>:<ip> or <host>=<ip>, got ${JSON.stringify(e)}`);
            return host === undefined ? [] : [{ host, ip }];
        });
    }
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [String(v)]);
    if (raw.dns !== undefined) {
        s.dns = { nameservers: list(raw.dns) };
        if (raw.dns_search !== undefined) s.dns.search = list(raw.dns_search);
        if (raw.dns_opt !== undefined) s.dns.options = list(raw.dns_opt);
    } else {
        for (const key of ["dns_search", "dns_opt"]) {
            if (raw[key] !== undefined) c.error(`${base}.${key}`, "Dockyard sets a resolver's search domains and options only with its name servers: give dns as well");
        }
    }
    if (raw.ulimits !== undefined) {
        for (const [k, v] of Object.entries<unknown>(raw.ulimits)) {
            const ok = typeof v === "number" || (typeof v === "object" && v !== null && Object.keys(v).every((x) => x === "soft" || x === "hard"));
            c.error(`${base}.ulimits.${k}`, ok ? SERVICE_KEYS.ulimits.note : `expected ${ULIMIT_FORMS}, got ${JSON.stringify(v)}`);
        }
    }
}

/** Map a normalised Compose document (the output of `docker stack config`) to a Dockyard environment. */
export function mapCompose(doc: Obj, opts: MapOptions): ComposeImport {
    const c = new Collector();
    const env: Obj = {};
    const secretSources: SecretSource[] = [];
    c.rest(doc, "(top level)", ["version", "services", "networks", "volumes", "secrets", "configs"]);
    // The import refuses a stack name that is not a valid prefix before mapping.
    env.prefix = opts.stack;

    // External objects (and configs that cannot be read) are reported once and left out, with every reference to them.
    const skipped = { networks: new Set<string>(), volumes: new Set<string>(), secrets: new Set<string>(), configs: new Set<string>() };
    const notImported = (kind: keyof typeof skipped, name: string, at: string): boolean => {
        if (!skipped[kind].has(name)) return false;
        c.error(at, `refers to the ${kind.slice(0, -1)} ${JSON.stringify(name)}, which is not imported (see ${kind}.${name})`);
        return true;
    };

    // Networks.
    const networks: Obj = {};
    for (const [name, raw] of Object.entries<Obj | null>(doc.networks ?? {})) {
        const n = raw ?? {};
        const base = `networks.${name}`;
        const out: Obj = {};
        if (n.external) {
            c.error(`${base}.external`, SCHEMA("networks.<name>.external") + "; Dockyard would create a new network instead of joining the existing one");
        }
        if (n.driver !== undefined) {
            if (n.driver === "overlay") out.driver = n.driver;
            else if (n.driver === "bridge") c.warn(`${base}.driver`, "written as an overlay network: Swarm services cannot join a bridge network (it is local to one node); services reach each other by name on it as before");
            else c.error(`${base}.driver`, `Dockyard networks are "overlay" or "bridge", got ${JSON.stringify(n.driver)}`);
        }
        if (n.internal !== undefined) out.internal = n.internal;
        if (n.external) {
            skipped.networks.add(name);
        } else if ((out.driver ?? "overlay") === "overlay") {
            // Compose's overlay networks are not attachable unless it says so; Dockyard's are.
            out.attachable = n.attachable === true;
        } else if (n.attachable === false) {
            c.error(`${base}.attachable`, `Dockyard's ${out.driver} networks are always attachable`);
        } else if (n.attachable === true) c.warn(`${base}.attachable`, `not written: Dockyard's ${out.driver} networks are always attachable`);
        if (n.driver_opts !== undefined) {
            for (const [k, v] of Object.entries<string>(n.driver_opts)) {
                if (k === "encrypted") out.encrypted = true;
                else c.error(`${base}.driver_opts.${k}`, SCHEMA("networks.<name>.driverOptions") + `; value ${JSON.stringify(v)}`);
            }
        }
        if (n.ipam !== undefined) {
            const configs: Obj[] = n.ipam.config ?? [];
            if (n.ipam.driver !== undefined && n.ipam.driver !== "default") c.error(`${base}.ipam.driver`, SCHEMA("networks.<name>.ipamDriver"));
            configs.forEach((cfg, i) => {
                const handled: string[] = [];
                if (i === 0 && cfg.subnet !== undefined) {
                    out.subnet = cfg.subnet;
                    handled.push("subnet");
                    if (cfg.gateway !== undefined) {
                        out.gateway = cfg.gateway;
                        handled.push("gateway");
                    }
                } else if (i > 0) {
                    c.error(`${base}.ipam.config[${i}]`, SCHEMA("networks.<name>.subnets (more than one)"));
                    handled.push("subnet");
                }
                c.rest(cfg, `${base}.ipam.config[${i}]`, handled, {
                    gateway: "Dockyard sets a gateway only within the network's one subnet",
                    ip_range: SCHEMA("networks.<name>.ipRange"),
                });
            });
            c.rest(n.ipam, `${base}.ipam`, ["config", "driver"]);
        }
        if (n.labels !== undefined) out.labels = { ...n.labels };
        c.rest(n, base, ["external", "driver", "internal", "attachable", "driver_opts", "ipam", "labels", ...(n.external ? ["name"] : [])],
            { name: SCHEMA("networks.<name>.name") + "; Dockyard names it <prefix>-<network>" });
        if (!n.external) networks[name] = out;
    }

    // Volumes: Compose keeps them when the stack is removed, so the import retains them too.
    const volumes: Obj = {};
    for (const [name, raw] of Object.entries<Obj | null>(doc.volumes ?? {})) {
        const v = raw ?? {};
        const base = `volumes.${name}`;
        const out: Obj = { deletion: "retain" };
        if (v.external) c.error(`${base}.external`, SCHEMA("volumes.<name>.external") + "; Dockyard would create a new, empty volume instead of using the existing one");
        if (v.driver !== undefined) out.driver = v.driver;
        if (v.driver_opts !== undefined) out.driverOptions = Object.fromEntries(Object.entries(v.driver_opts).map(([k, x]) => [k, String(x)]));
        if (v.labels !== undefined) out.labels = { ...v.labels };
        c.rest(v, base, ["external", "driver", "driver_opts", "labels", ...(v.external ? ["name"] : [])], { name: SCHEMA("volumes.<name>.name") + "; Dockyard names it <prefix>-<volume>" });
        if (v.external) skipped.volumes.add(name);
        else volumes[name] = out;
    }

    // Secrets: values go to secret config keys.
    const secrets: Obj = {};
    const usedKeys = new Set<string>();
    for (const [name, raw] of Object.entries<Obj | null>(doc.secrets ?? {})) {
        const s = raw ?? {};
        const base = `secrets.${name}`;
        if (s.external) {
            skipped.secrets.add(name);
            c.error(`${base}.external`, SCHEMA("secrets.<name>.external") + "; set its value with `pulumi config set --secret` and drop external");
        } else if (typeof s.file === "string") {
            const marker = s.file.split(/[\\/]/);
            const at = marker.indexOf(ENV_MARKER);
            if (at >= 0) {
                // Read from the environment at each preview and deploy, as docker stack deploy reads it.
                secrets[name] = { env: marker.slice(at + 1).join("/") };
            } else {
                let key = configKeyFor(name);
                for (let i = 2; usedKeys.has(key); i++) key = `${configKeyFor(name)}${i}`;
                usedKeys.add(key);
                secretSources.push({ secret: name, key, from: { file: s.file } });
                secrets[name] = { fromConfig: key };
            }
        } else {
            c.error(base, "expected file: or environment:");
        }
        c.rest(s, base, ["external", "file", "name"], { template_driver: SCHEMA("secrets.<name>.templateDriver"), driver: SCHEMA("secrets.<name>.driver") });
        if (s.name !== undefined && !s.external) c.error(`${base}.name`, SCHEMA("secrets.<name>.name") + "; Dockyard names it <prefix>-<secret>");
    }

    // Configs: their content is written into the stack file (configs are not secret).
    const configs: Obj = {};
    for (const [name, raw] of Object.entries<Obj | null>(doc.configs ?? {})) {
        const cf = raw ?? {};
        const base = `configs.${name}`;
        if (cf.external) {
            skipped.configs.add(name);
            c.error(`${base}.external`, SCHEMA("configs.<name>.external"));
        }
        else if (typeof cf.file === "string") {
            const marker = cf.file.split(/[\\/]/);
            const at = marker.indexOf(ENV_MARKER);
            if (at >= 0) {
                const variable = marker.slice(at + 1).join("/");
                const value = opts.env[variable];
                if (value === undefined) {
                    skipped.configs.add(name);
                    c.error(`${base}.environment`, `the variable ${variable} is not set`);
                }
                else configs[name] = { data: value };
            } else {
                try {
                    configs[name] = { data: opts.readFile(cf.file) };
                } catch (e) {
                    skipped.configs.add(name);
                    c.error(`${base}.file`, `cannot read ${cf.file}: ${(e as Error).message}`);
                }
            }
        } else c.error(base, "expected file: or environment:");
        c.rest(cf, base, ["external", "file", "name"], { template_driver: SCHEMA("configs.<name>.templateDriver") });
        if (cf.name !== undefined && !cf.external) c.error(`${base}.name`, SCHEMA("configs.<name>.name") + "; Dockyard names it <prefix>-<config>");
    }

    // Services (and the images they build).
    const images: Obj = {};
    const services: Obj = {};
    const registryHosts = new Map<string, string>();
    /** A build (and image name) → the first service with it. */
    const builds = new Map<string, string>();
    let usesDefaultNetwork = false;
    for (const [name, raw] of Object.entries<Obj>(doc.services ?? {})) {
        const base = `services.${name}`;
        const s: Obj = {};
        // Image, built or pulled.
        const b: Obj | undefined = raw.build === undefined ? undefined : typeof raw.build === "string" ? { context: raw.build } : raw.build;
        const sameBuild = b && builds.get(buildKey(b, raw.image));
        if (sameBuild !== undefined) {
            // One build, one image: the services that share it deploy the same image.
            c.warn(`${base}.build`, `the same build and image as services.${sameBuild}: both deploy the image ${sameBuild}`);
            s.image = sameBuild;
        } else if (b !== undefined) {
            builds.set(buildKey(b, raw.image), name);
            const img: Obj = {};
            const context = b.context ?? ".";
            if (/^(https?|git):\/\/|^git@|\.git(#|$)/.test(context)) {
                c.error(`${base}.build.context`, `Dockyard builds local directories only, got ${JSON.stringify(context)}`);
            }
            img.context = path.relative(opts.projectDir, path.resolve(opts.composeDir, context)) || ".";
            if (b.dockerfile !== undefined) img.dockerfile = b.dockerfile;
            let ref = { repository: `${opts.stack}/${name}`.toLowerCase().replace(/[^a-z0-9/._-]/g, "-") } as ReturnType<typeof splitImage>;
            if (typeof raw.image === "string") ref = splitImage(raw.image);
            else c.warn(`${base}.build`, `no image: given; the image is pushed as ${ref.repository}`);
            img.repository = ref.repository;
            if (ref.tag !== undefined && ref.tag !== "latest") img.tag = ref.tag;
            else if (ref.tag === "latest") c.warn(`${base}.image`, "tag \"latest\" dropped: Dockyard tags each build immutably and deploys it by digest");
            const [firstHost] = registryHosts.keys();
            if (ref.host !== undefined && firstHost === undefined) registryHosts.set(ref.host, `${base}.image`);
            else if (ref.host !== undefined && ref.host !== firstHost) {
                c.error(`${base}.image`, `built images go to one registry per stack; ${firstHost} is already used by ${registryHosts.get(firstHost!)}, got ${ref.host}`);
            }
            if (b.args !== undefined) {
                img.buildArgs = {};
                for (const [k, v] of Object.entries(b.args)) {
                    if (v === null || v === undefined) c.error(`${base}.build.args.${k}`, "no value (the variable was not set when importing)");
                    else img.buildArgs[k] = String(v);
                }
            }
            if (b.target !== undefined) img.target = b.target;
            for (const k of Object.keys(b)) {
                if (!["context", "dockerfile", "args", "target"].includes(k)) c.warn(`${base}.build.${k}`, "build-time only setting with no Dockyard key; the image is built without it");
            }
            images[name] = img;
            s.image = name;
        } else if (typeof raw.image === "string") {
            const ref = splitImage(raw.image);
            if (ref.tag === undefined && !raw.image.includes("@")) {
                s.image = `${raw.image}:latest`;
                c.warn(`${base}.image`, `no tag: written as ${JSON.stringify(s.image)}, as Docker reads it; pin a version or digest`);
            } else {
                s.image = raw.image;
                if (ref.tag === "latest") c.warn(`${base}.image`, "mutable tag \"latest\": pin a version or digest");
            }
        } else c.error(`${base}.image`, "expected image: or build:, got neither");

        // Deploy.
        const d: Obj = raw.deploy ?? {};
        const dbase = `${base}.deploy`;
        if (d.mode === "global") s.global = true;
        else if (d.mode !== undefined && d.mode !== "replicated") c.error(`${dbase}.mode`, `Dockyard services are replicated or global, got ${JSON.stringify(d.mode)}` +
            (/-job$/.test(String(d.mode)) ? "; Swarm jobs are not supported (the Docker provider cannot create them): for a one-shot task use mode replicated with restart_policy condition none, which Dockyard takes as done when its tasks exit 0" : ""));
        if (d.replicas !== undefined) {
            if (d.mode === "global") c.warn(`${dbase}.replicas`, "ignored by Swarm for a global service; not written");
            else s.replicas = number(d.replicas);
        }

        // Command and arguments.
        // The loader splits string forms into words, as Compose does (no shell).
        for (const [key, to] of [["entrypoint", "command"], ["command", "args"]] as const) {
            if (raw[key] === undefined) continue;
            if (Array.isArray(raw[key])) s[to] = raw[key].map(String);
            else c.error(`${base}.${key}`, `expected the loader's list of words, got ${JSON.stringify(raw[key])}`);
        }

        // Environment (env_file is already read into it by the loader).
        if (raw.environment !== undefined) {
            const e: Obj = {};
            for (const [k, v] of Object.entries(raw.environment)) {
                const name = dy.EnvSchema.safeParse({ [k]: "" });
                if (!name.success) c.error(`${base}.environment.${k}`, `${keyMessage(name.error.issues[0])}, got ${JSON.stringify(k)}; not imported`);
                else if (v !== null && v !== undefined) e[k] = String(v);
                else if (opts.allowUnset) c.warn(`${base}.environment.${k}`, "the variable is not set: left out (--allow-unset), as docker stack deploy leaves it out");
                else c.error(`${base}.environment.${k}`, "no value, and the variable is not set where you import (its value would be written into the stack); set it, give a value, or pass --allow-unset to leave it out as docker stack deploy does");
            }
            if (Object.keys(e).length) s.env = e;
        }

        // Ports.
        if (raw.ports !== undefined) {
            s.ports = [];
            (raw.ports as Obj[]).forEach((p, i) => {
                const pbase = `${base}.ports[${i}]`;
                const out: Obj = { target: number(p.target) };
                // None given: Swarm publishes it on a free port it picks.
                out.published = p.published === undefined || p.published === null || p.published === "" ? "any" : number(p.published);
                let publishable = true;
                if (p.protocol !== undefined) {
                    if (p.protocol === "tcp" || p.protocol === "udp") out.protocol = p.protocol;
                    else {
                        // Left out, never published as tcp instead.
                        c.error(`${pbase}.protocol`, `Dockyard publishes tcp or udp, got ${JSON.stringify(p.protocol)}; the port is not imported`);
                        publishable = false;
                    }
                }
                if (p.mode !== undefined) out.mode = p.mode;
                c.rest(p, pbase, ["target", "published", "protocol", "mode"]);
                if (publishable) s.ports.push(out);
            });
        }

        // Networks.
        if (raw.networks !== undefined) {
            const entries: Array<[string, Obj | null]> = Array.isArray(raw.networks) ? raw.networks.map((n: string) => [n, null]) : Object.entries(raw.networks);
            s.networks = entries.filter(([n]) => !notImported("networks", n, `${base}.networks.${n}`)).map(([n]) => n);
            // Dockyard gives a service one set of aliases on all its networks: Compose's must be the same on each.
            const aliasSets = entries.filter(([n]) => s.networks.includes(n)).map(([n, opt]) => [n, [...(opt?.aliases ?? [])].map(String).sort()] as const);
            const [first] = aliasSets;
            const differ = aliasSets.find(([, a]) => JSON.stringify(a) !== JSON.stringify(first[1]));
            if (differ) c.error(`${base}.networks.${differ[0]}.aliases`, `Dockyard gives a service the same aliases on each of its networks; services.${name}.networks.${first[0]} has ${JSON.stringify(first[1])}, this one ${JSON.stringify(differ[1])}`);
            else if (first && first[1].length) s.aliases = first[1];
            for (const [n, opt] of entries) {
                if (!opt) continue;
                const fixed = "a Swarm service cannot have a fixed address (docker stack deploy ignores it too): its tasks get addresses from the network";
                c.rest(opt, `${base}.networks.${n}`, ["aliases"], {}, { ipv4_address: fixed, ipv6_address: fixed });
            }
        } else {
            s.networks = ["default"];
            usesDefaultNetwork = true;
        }

        // Mounts.
        if (raw.volumes !== undefined) {
            const mounts: Obj[] = [];
            (raw.volumes as Obj[]).forEach((v, i) => {
                const vbase = `${base}.volumes[${i}]`;
                const m: Obj = { target: v.target };
                if (v.type === "volume") {
                    if (v.source === undefined || v.source === "") c.error(vbase, SCHEMA("anonymous volumes") + "; name the volume");
                    else if (!notImported("volumes", v.source, `${vbase}.source`)) m.volume = v.source;
                    if (v.volume?.nocopy === true) m.noCopy = true;
                    if (v.volume !== undefined) c.rest(v.volume, `${vbase}.volume`, ["nocopy"], { subpath: SCHEMA("services.<name>.mounts[].subpath") });
                } else if (v.type === "bind") {
                    m.hostPath = v.source;
                    if (v.bind !== undefined) c.error(`${vbase}.bind`, SCHEMA("services.<name>.mounts[].propagation"));
                    c.warn(vbase, `bind mount of ${v.source}: the path must exist on every node the service can run on`);
                } else if (v.type === "tmpfs") {
                    m.tmpfs = tmpfsOf(c, v.tmpfs ?? {}, `${vbase}.tmpfs`);
                } else c.error(`${vbase}.type`, `Dockyard mounts volumes, binds and tmpfs, got ${JSON.stringify(v.type)}`);
                if (v.read_only === true) m.readOnly = true;
                c.rest(v, vbase, ["type", "source", "target", "read_only", "volume", "bind", "tmpfs"], {}, { consistency: "Swarm ignores it too" });
                // Mounts that cannot be imported are left out (reported above).
                if (m.volume !== undefined || m.hostPath !== undefined || m.tmpfs !== undefined) mounts.push(m);
            });
            s.mounts = mounts;
        }
        // Service-level tmpfs: paths, each with Docker's options after a colon (`/run:size=64m,mode=1770`).
        if (raw.tmpfs !== undefined) {
            const list: unknown[] = Array.isArray(raw.tmpfs) ? raw.tmpfs : [raw.tmpfs];
            s.mounts = [...(s.mounts ?? []), ...list.flatMap((t, i) => {
                const m = shortTmpfs(c, t, `${base}.tmpfs[${i}]`);
                return m ? [m] : [];
            })];
        }

        // Secrets and configs mounted as files.
        if (raw.secrets !== undefined) {
            s.secrets = (raw.secrets as Obj[]).map((ref, i) => [ref, i] as const).filter(([ref, i]) => !notImported("secrets", ref.source, `${base}.secrets[${i}]`)).map(([ref, i]) => {
                const sbase = `${base}.secrets[${i}]`;
                let target: string | undefined = ref.target;
                if (target !== undefined && target.startsWith("/")) {
                    if (/^\/run\/secrets\/[^/]+$/.test(target)) target = target.slice("/run/secrets/".length);
                    else {
                        c.error(`${sbase}.target`, SCHEMA("secret files outside /run/secrets") + `, got ${JSON.stringify(target)}; without it the file is /run/secrets/${ref.source}`);
                        target = undefined;
                    }
                }
                c.rest(ref, sbase, ["source", "target", "uid", "gid", "mode"]);
                const own = ownership(ref);
                return (target === undefined || target === ref.source) && !Object.keys(own).length ? ref.source : { name: ref.source, ...(target === undefined ? {} : { target }), ...own };
            });
        }
        if (raw.configs !== undefined) {
            s.configs = (raw.configs as Obj[]).map((ref, i) => [ref, i] as const).filter(([ref, i]) => !notImported("configs", ref.source, `${base}.configs[${i}]`)).map(([ref, i]) => {
                const cbase = `${base}.configs[${i}]`;
                c.rest(ref, cbase, ["source", "target", "uid", "gid", "mode"]);
                // Swarm mounts a config at /<name> when no target is given.
                return { name: ref.source, target: ref.target ?? `/${ref.source}`, ...ownership(ref) };
            });
        }

        if (raw.healthcheck !== undefined) {
            const h = healthCheck(c, raw.healthcheck, `${base}.healthcheck`);
            if (h) s.healthCheck = h;
        }
        if (d.update_config !== undefined) s.update = rollout(c, d.update_config, `${dbase}.update_config`);
        if (d.rollback_config !== undefined) s.rollback = rollout(c, d.rollback_config, `${dbase}.rollback_config`);
        if (d.endpoint_mode !== undefined) s.endpointMode = d.endpoint_mode;
        if (d.resources !== undefined) {
            if (d.resources.limits !== undefined) s.limits = resources(c, d.resources.limits, `${dbase}.resources.limits`);
            if (d.resources.reservations !== undefined) s.reservations = resources(c, d.resources.reservations, `${dbase}.resources.reservations`);
            c.rest(d.resources, `${dbase}.resources`, ["limits", "reservations"]);
        }
        if (d.placement !== undefined) {
            if (d.placement.constraints !== undefined) s.constraints = [...d.placement.constraints];
            if (d.placement.preferences !== undefined) {
                const prefs = preferences(c, d.placement.preferences, `${dbase}.placement.preferences`);
                if (prefs.length) s.preferences = prefs;
            }
            if (d.placement.max_replicas_per_node !== undefined) s.maxReplicasPerNode = number(d.placement.max_replicas_per_node);
            c.rest(d.placement, `${dbase}.placement`, ["constraints", "preferences", "max_replicas_per_node"]);
        }
        if (d.labels !== undefined) s.labels = { ...d.labels };
        const restart = restartPolicy(c, raw, base);
        if (restart) s.restart = restart;
        for (const [what, key] of [["update", "update_config"], ["rollback", "rollback_config"]] as const) {
            const why = restart?.condition === "none" ? oneShot(what, d[key]) : undefined;
            if (why) c.warn(`${dbase}.${key}`, why);
        }
        c.rest(d, dbase, Object.keys(rulesOf(DEPLOY_KEYS, "mapped")), rulesOf(DEPLOY_KEYS, "stops"), rulesOf(DEPLOY_KEYS, "warned"));

        containerSettings(c, raw, base, s);
        if (raw.user !== undefined) s.user = String(raw.user);
        if (raw.read_only === true) s.readOnlyRootFilesystem = true;
        else if (raw.read_only !== undefined && raw.read_only !== false) c.error(`${base}.read_only`, `expected true or false, got ${JSON.stringify(raw.read_only)}`);
        c.rest(raw, base, [...Object.keys(rulesOf(SERVICE_KEYS, "mapped")), "ulimits"], rulesOf(SERVICE_KEYS, "stops"), rulesOf(SERVICE_KEYS, "warned"));
        for (const k of ["ports", "networks", "mounts", "secrets", "configs"]) if (Array.isArray(s[k]) && s[k].length === 0) delete s[k];
        services[name] = s;
    }

    // Like docker stack deploy: services that name no network share the stack's default network.
    if (usesDefaultNetwork && !("default" in networks)) networks.default = { attachable: false };

    if (registryHosts.size > 0) {
        const [host] = registryHosts.keys();
        env.registry = { external: { server: host } };
        c.warn(registryHosts.get(host)!, `images are pushed to the registry ${host}, which must be running (Dockyard can run one for you: registry.selfHosted); credentials are not imported`);
    }
    env.networks = networks;
    env.volumes = volumes;
    env.secrets = secrets;
    env.configs = configs;
    env.images = images;
    // Swarm's own rollout defaults, so the import changes nothing; delete them for Dockyard's safer
    // start-first updates that roll back on failure.
    env.defaults = { update: { ...SWARM_ROLLOUT }, rollback: { ...SWARM_ROLLOUT } };
    env.services = services;
    return { environment: env, secrets: secretSources, findings: c.findings };
}
