// The rules of Dockyard's policy pack for Docker workloads. Each rule reads the inputs of the Docker
// provider's resources (@pulumi/docker 5.2.0: docker:index/service:Service,
// docker:index/container:Container, docker:index/volume:Volume) and reports one violation per
// problem, naming the resource and the fix. Pure: nothing here reads files, the environment or the
// network, so the rules can be unit-tested with hand-made arguments.
//
// The enforcement level of each rule is chosen per stack by the pack config (see ops/policy.ts);
// the levels below are the defaults for a stack that passes no config: a non-production one.
import {
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { dockerSocketIn } from "../components/socket";

export const SERVICE = "docker:index/service:Service";
export const CONTAINER = "docker:index/container:Container";
export const VOLUME = "docker:index/volume:Volume";

/** The rules, by name. The names are what pack config, the review and the README use. */
export enum Rule {
    ImageByDigest = "image-by-digest",
    HealthCheck = "health-check",
    RollbackOnFailure = "rollback-on-failure",
    NoSecretsInEnv = "no-secrets-in-env",
    NoPrivileged = "no-privileged",
    NoDockerSocket = "no-docker-socket",
    NoHostNetwork = "no-host-network",
    MemoryLimits = "memory-limits",
    StatefulVolumeProtected = "stateful-volume-protected",
    DeclaredPublicPorts = "declared-public-ports",
}

/** Settings a rule reads from its pack config (besides `enforcementLevel`). */
export interface RuleSettings {
    /** image-by-digest: accept version tags such as `2.8.2` (never `latest` or no tag). */
    readonly allowVersionTags?: boolean;
    /** no-privileged, no-docker-socket, no-host-network: Docker names of services/containers exempted. */
    readonly allow?: readonly string[];
    /** no-secrets-in-env: variable names that look secret but are not. */
    readonly allowVariables?: readonly string[];
    /** declared-public-ports: Docker name of a service/container → the host ports it may publish. */
    readonly public?: Readonly<Record<string, readonly number[]>>;
}

/** Pulumi's marker for a value not known until the update (a preview of a new image build). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Read a value that may be unknown during a preview: `undefined` then, so the rule stays quiet
 * and checks the real value when `up` registers the resource. (@pulumi/policy's props proxy
 * throws an UnknownValueError on reading an unknown value.)
 */
/** Whether a value is left out: not set, as opposed to unknown until deploy. */
function absent(read: () => unknown): boolean {
    try {
        return read() === undefined;
    } catch (e) {
        if (e instanceof Error && e.constructor.name === "UnknownValueError") return false;
        throw e;
    }
}

function known<T>(read: () => T): T | undefined {
    try {
        const v = read();
        return (v as unknown) === UNKNOWN ? undefined : v;
    } catch (e) {
        if (e instanceof Error && e.constructor.name === "UnknownValueError") return undefined;
        throw e;
    }
}

/** One Docker workload (a Swarm service or a plain container), in the terms the rules need. */
export interface Workload {
    readonly kind: "service" | "container";
    /** The Docker name (`props.name`), or the Pulumi name when the name is not known. */
    readonly name: string;
    /** How a message refers to it: `service "web" (web-service)`. */
    readonly label: string;
    readonly image?: string;
    readonly env: ReadonlyArray<readonly [string, string]>;
    readonly healthCheck?: readonly string[];
    readonly failureAction?: string;
    readonly memoryLimit?: number;
    readonly privileged: boolean;
    readonly capabilities: readonly string[];
    /** Host paths bind-mounted into it. */
    readonly bindSources: readonly string[];
    /** Names of the Docker volumes it mounts. */
    readonly volumes: readonly string[];
    readonly networks: readonly string[];
    readonly networkMode?: string;
    /** Host ports it publishes; `{ any: target }` for a port Swarm picks (published "any"). */
    readonly published: ReadonlyArray<number | { readonly any: number }>;
}

const arr = <T>(v: T[] | undefined | null): T[] => (Array.isArray(v) ? v : []);

/** A service's or container's inputs as a Workload; undefined for other types. */
export function workloadOf(type: string, name: string, props: Record<string, any>): Workload | undefined {
    if (type === SERVICE) {
        const spec = known(() => props.taskSpec?.containerSpec) ?? {};
        const dockerName = known(() => props.name) ?? name;
        return {
            kind: "service",
            name: dockerName,
            label: `service ${JSON.stringify(dockerName)} (${name})`,
            image: known(() => spec.image),
            env: Object.entries((known(() => spec.env) ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(known(() => v) ?? "")] as const),
            healthCheck: known(() => spec.healthcheck?.tests),
            failureAction: known(() => props.updateConfig?.failureAction),
            memoryLimit: known(() => props.taskSpec?.resources?.limits?.memoryBytes),
            privileged: false, // Swarm services cannot be privileged; capabilities are checked instead
            capabilities: arr(known(() => spec.capAdds)),
            bindSources: arr(known(() => spec.mounts)).filter((m: any) => known(() => m.type) === "bind").map((m: any) => known(() => m.source) ?? ""),
            volumes: arr(known(() => spec.mounts)).filter((m: any) => known(() => m.type) === "volume").map((m: any) => known(() => m.source) ?? ""),
            networks: arr(known(() => props.taskSpec?.networksAdvanceds)).map((n: any) => known(() => n.name) ?? known(() => n.id) ?? ""),
            // A port left without a published port (not one unknown until deploy) is one Swarm picks.
            published: arr(known(() => props.endpointSpec?.ports)).map((p: any) => (absent(() => p.publishedPort) && typeof known(() => p.targetPort) === "number" ? { any: p.targetPort } : known(() => p.publishedPort)))
                .filter((p: any): p is number | { any: number } => (typeof p === "number" && p > 0) || typeof p?.any === "number"),
        };
    }
    if (type === CONTAINER) {
        const dockerName = known(() => props.name) ?? name;
        const volumeEntries = arr(known(() => props.volumes));
        return {
            kind: "container",
            name: dockerName,
            label: `container ${JSON.stringify(dockerName)} (${name})`,
            image: known(() => props.image),
            env: arr(known(() => props.envs)).map((e: any) => {
                const text = String(known(() => e) ?? "");
                const eq = text.indexOf("=");
                return (eq < 0 ? [text, ""] : [text.slice(0, eq), text.slice(eq + 1)]) as readonly [string, string];
            }),
            healthCheck: known(() => props.healthcheck?.tests),
            memoryLimit: known(() => props.memory),
            privileged: known(() => props.privileged) === true,
            capabilities: arr(known(() => props.capabilities?.adds)),
            bindSources: [
                ...arr(known(() => props.mounts)).filter((m: any) => known(() => m.type) === "bind").map((m: any) => known(() => m.source) ?? ""),
                ...volumeEntries.map((v: any) => known(() => v.hostPath)).filter((p: any): p is string => typeof p === "string"),
            ],
            volumes: [
                ...arr(known(() => props.mounts)).filter((m: any) => known(() => m.type) === "volume").map((m: any) => known(() => m.source) ?? ""),
                ...volumeEntries.map((v: any) => known(() => v.volumeName)).filter((n: any): n is string => typeof n === "string"),
            ],
            networks: arr(known(() => props.networksAdvanced)).map((n: any) => known(() => n.name) ?? ""),
            networkMode: known(() => props.networkMode),
            published: arr(known(() => props.ports)).map((p: any) => known(() => p.external)).filter((p: any): p is number => typeof p === "number" && p > 0),
        };
    }
    return undefined;
}

// Checks: each takes a workload and its rule's settings and returns the violation messages.
type Check = (w: Workload, settings: RuleSettings) => string[];

const DIGEST = /@sha256:[0-9a-f]{64}$/;

/** The tag of an image reference without a digest: `undefined` for `repo` (which means latest). */
function tagOf(ref: string): string | undefined {
    const lastSlash = ref.lastIndexOf("/");
    const colon = ref.indexOf(":", lastSlash + 1);
    return colon < 0 ? undefined : ref.slice(colon + 1);
}

export const checkImageByDigest: Check = (w, s) => {
    if (w.image === undefined || DIGEST.test(w.image)) return [];
    const tag = tagOf(w.image);
    const mutable = tag === undefined || tag === "latest";
    if (!mutable && s.allowVersionTags) return [];
    const why = mutable ? `the mutable tag ${JSON.stringify(tag ?? "latest")}` : `the tag ${JSON.stringify(tag)}, which can be pushed again`;
    return [`${w.label} runs image ${JSON.stringify(w.image)} by ${why}. Deploy it by digest: build it in the stack (images:) or pin it as "<repository>@sha256:<digest>" (\`docker buildx imagetools inspect <image>\` prints it).`];
};

export const checkHealthCheck: Check = (w) => {
    const tests = w.healthCheck;
    if (tests && tests.length > 0 && tests[0] !== "NONE") return [];
    return [`${w.label} has no health check, so a broken release looks healthy and is not rolled back. Add healthCheck: { command: [...] } to the service in the stack file.`];
};

export const checkRollbackOnFailure: Check = (w) => {
    if (w.kind !== "service" || w.failureAction === "rollback") return [];
    return [`${w.label} updates with failure action ${JSON.stringify(w.failureAction ?? "pause")}, so a failed rollout is left half done. Set update.failureAction: rollback (Dockyard's default) in the stack file.`];
};

const SECRET_NAME = /(^|_)(PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|KEY|APIKEY|API_KEY|PRIVATE_KEY|CREDENTIALS?)$/i;
const SECRET_VALUES: ReadonlyArray<[RegExp, string]> = [
    [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a PEM private key"],
    [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
    [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, "a GitHub token"],
    [/\bxox[abprs]-[A-Za-z0-9-]{10,}/, "a Slack token"],
    [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/, "a JSON web token"],
    [/:\/\/[^/\s:@]+:[^/\s@]+@/, "a URL with a password in it"],
];

/** Shannon entropy in bits per character. */
function entropy(s: string): number {
    const counts = new Map<string, number>();
    for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
    let h = 0;
    for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
    return h;
}

/** Why a value looks like a key or token, or undefined. */
export function secretLooking(value: string): string | undefined {
    for (const [re, what] of SECRET_VALUES) if (re.test(value)) return what;
    // A long random-looking word of letters and digits: an API key, a password, a hex secret.
    if (/^[A-Za-z0-9+/=_-]{32,}$/.test(value) && /[0-9]/.test(value) && /[A-Za-z]/.test(value) && entropy(value) >= 3.5) {
        return "a long random key";
    }
    return undefined;
}

export const checkNoSecretsInEnv: Check = (w, s) => {
    const out: string[] = [];
    const fix = "Store it as a secret (secrets: in the stack file, `pulumi config set --secret`) and read it from /run/secrets/<name>, or pass a *_FILE variable pointing there.";
    for (const [name, value] of w.env) {
        if (s.allow?.includes(w.name) || s.allowVariables?.includes(name) || value === "" || /_FILE$/i.test(name)) continue;
        if (SECRET_NAME.test(name)) {
            out.push(`${w.label} sets ${name} in a plain environment variable, visible to anyone who can run \`docker inspect\`. ${fix}`);
        } else {
            const what = secretLooking(value);
            if (what) out.push(`${w.label} sets ${name} to what looks like ${what}, in a plain environment variable. ${fix}`);
        }
    }
    return out;
};

export const checkNoPrivileged: Check = (w, s) => {
    if (s.allow?.includes(w.name)) return [];
    const powerful = w.capabilities.filter((c) => /^(CAP_)?(ALL|SYS_ADMIN)$/i.test(c));
    const what = w.privileged ? "runs privileged" : powerful.length ? `adds the capabilit${powerful.length > 1 ? "ies" : "y"} ${powerful.join(", ")}` : undefined;
    if (!what) return [];
    return [`${w.label} ${what}, which gives it root on the host. Remove that, or list the service in policy.allowPrivileged in the stack file if it truly needs it.`];
};

export const checkNoDockerSocket: Check = (w, s) => {
    if (s.allow?.includes(w.name)) return [];
    return w.bindSources.flatMap((p) => {
        const socket = dockerSocketIn(p);
        return socket ? [`${w.label} mounts ${p}, which ${socket}: that gives it root on the host. Remove the mount, or list the service in policy.allowDockerSocket in the stack file if it truly needs it.`] : [];
    });
};

export const checkNoHostNetwork: Check = (w, s) => {
    if (s.allow?.includes(w.name)) return [];
    if (w.networkMode !== "host" && !w.networks.includes("host")) return [];
    return [`${w.label} uses the host's network, bypassing network isolation and port declarations. Attach it to a stack network instead, or list the service in policy.allowHostNetwork in the stack file.`];
};

export const checkMemoryLimits: Check = (w) => {
    if (typeof w.memoryLimit === "number" && w.memoryLimit > 0) return [];
    return [`${w.label} has no memory limit, so one leak can starve everything else on the node. Set limits: { memory: "512m" } on it or in defaults: in the stack file.`];
};

export const checkDeclaredPublicPorts: Check = (w, s) => {
    const allowed = s.public?.[w.name] ?? [];
    return w.published.filter((p) => typeof p !== "number" || !allowed.includes(p)).map((p) => (typeof p === "number"
        ? `${w.label} publishes port ${p} on the host, which is not declared public. Declare it in policy.publicPorts (service: [ports]) in the stack file, or stop publishing it.`
        : `${w.label} publishes its container port ${p.any} on a host port Swarm picks, which cannot be declared public. Give it a published port and declare that in policy.publicPorts (service: [ports]) in the stack file, or stop publishing it.`));
};

const DESCRIPTIONS: Record<Rule, string> = {
    [Rule.ImageByDigest]: "Images are deployed by digest, never by a mutable tag.",
    [Rule.HealthCheck]: "Every service and container has a health check.",
    [Rule.RollbackOnFailure]: "Services roll back when an update fails.",
    [Rule.NoSecretsInEnv]: "No secrets in plain environment variables.",
    [Rule.NoPrivileged]: "No privileged containers, unless allowed by name.",
    [Rule.NoDockerSocket]: "No Docker socket mounts, unless allowed by name.",
    [Rule.NoHostNetwork]: "No host networking, unless allowed by name.",
    [Rule.MemoryLimits]: "Every service and container has a memory limit.",
    [Rule.StatefulVolumeProtected]: "A volume a workload mounts cannot be deleted (protect).",
    [Rule.DeclaredPublicPorts]: "Ports are published only where declared public.",
};

/**
 * The levels a stack without pack config gets: those of a non-production stack (ops/policy.ts
 * generates the production ones). The production-only rules are disabled here.
 */
export const DEFAULT_LEVELS: Readonly<Record<Rule, EnforcementLevel>> = {
    [Rule.ImageByDigest]: "advisory",
    [Rule.HealthCheck]: "advisory",
    [Rule.RollbackOnFailure]: "advisory",
    [Rule.NoSecretsInEnv]: "mandatory",
    [Rule.NoPrivileged]: "mandatory",
    [Rule.NoDockerSocket]: "mandatory",
    [Rule.NoHostNetwork]: "mandatory",
    [Rule.MemoryLimits]: "disabled",
    [Rule.StatefulVolumeProtected]: "disabled",
    [Rule.DeclaredPublicPorts]: "disabled",
};

const names = { type: "array", items: { type: "string" } } as const;
const CONFIG_SCHEMAS: Partial<Record<Rule, ResourceValidationPolicy["configSchema"]>> = {
    [Rule.ImageByDigest]: { properties: { allowVersionTags: { type: "boolean" } } },
    [Rule.NoSecretsInEnv]: { properties: { allow: names, allowVariables: names } },
    [Rule.NoPrivileged]: { properties: { allow: names } },
    [Rule.NoDockerSocket]: { properties: { allow: names } },
    [Rule.NoHostNetwork]: { properties: { allow: names } },
    [Rule.DeclaredPublicPorts]: {
        properties: { public: { type: "object", additionalProperties: { type: "array", items: { type: "integer" } } } },
    },
};

const WORKLOAD_CHECKS: ReadonlyArray<[Rule, Check]> = [
    [Rule.ImageByDigest, checkImageByDigest],
    [Rule.HealthCheck, checkHealthCheck],
    [Rule.RollbackOnFailure, checkRollbackOnFailure],
    [Rule.NoSecretsInEnv, checkNoSecretsInEnv],
    [Rule.NoPrivileged, checkNoPrivileged],
    [Rule.NoDockerSocket, checkNoDockerSocket],
    [Rule.NoHostNetwork, checkNoHostNetwork],
    [Rule.MemoryLimits, checkMemoryLimits],
    [Rule.DeclaredPublicPorts, checkDeclaredPublicPorts],
];

function workloadPolicy(rule: Rule, check: Check): ResourceValidationPolicy {
    return {
        name: rule,
        description: DESCRIPTIONS[rule],
        enforcementLevel: DEFAULT_LEVELS[rule],
        configSchema: CONFIG_SCHEMAS[rule],
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            const w = workloadOf(args.type, args.name, args.props);
            if (!w) return;
            for (const message of check(w, args.getConfig<RuleSettings>())) report(message);
        },
    };
}

/** Stateful volumes (mounted by a workload in the stack) must be protected from deletion. */
export function unprotectedStatefulVolumes(resources: readonly Pick<PolicyResource, "type" | "name" | "urn" | "props" | "opts">[]): Array<{ urn: string; message: string }> {
    const users = new Map<string, string[]>();
    for (const r of resources) {
        const w = workloadOf(r.type, r.name, r.props);
        for (const v of w?.volumes ?? []) users.set(v, [...(users.get(v) ?? []), w!.label]);
    }
    const out: Array<{ urn: string; message: string }> = [];
    for (const r of resources) {
        if (r.type !== VOLUME || r.opts.protect) continue;
        const dockerName = known(() => r.props.name) ?? r.name;
        const mountedBy = users.get(dockerName);
        if (!mountedBy) continue;
        out.push({
            urn: r.urn,
            message: `volume ${JSON.stringify(dockerName)} (${r.name}) holds the data of ${mountedBy.join(", ")} but is not protected, so \`pulumi destroy\` or a replacement can remove it. Set deletion: protect on the volume in the stack file (retain is not visible to policies: the analyzer protocol carries protect, not retainOnDelete).`,
        });
    }
    return out;
}

const statefulVolumePolicy: StackValidationPolicy = {
    name: Rule.StatefulVolumeProtected,
    description: DESCRIPTIONS[Rule.StatefulVolumeProtected],
    enforcementLevel: DEFAULT_LEVELS[Rule.StatefulVolumeProtected],
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        for (const v of unprotectedStatefulVolumes(args.resources)) report(v.message, v.urn);
    },
};

/** Every policy of the pack. */
export const policies: Array<ResourceValidationPolicy | StackValidationPolicy> = [
    ...WORKLOAD_CHECKS.map(([rule, check]) => workloadPolicy(rule, check)),
    statefulVolumePolicy,
];

export const RULES: readonly Rule[] = Object.values(Rule);
