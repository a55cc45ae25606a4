// The pure half of the prototype provider (issue 21): what its inputs are, what counts as a change
// and which changes replace the service. No Docker here, so the unit tests run it as it stands.
//
// A resource's inputs: `spec`, a Swarm ServiceSpec exactly as the Engine API takes it
// (`POST /services/create`: Name, Labels, TaskTemplate, Mode, UpdateConfig, RollbackConfig,
// EndpointSpec; durations in nanoseconds), and `convergeTimeout` (`"10m"`, the wait's TIMEOUT).

/** The resource type the prototype provides. */
export const SERVICE_TYPE = "dockyard:swarm:Service";

export interface ServiceInputs {
    readonly spec: any;
    /** How long create and update wait for the service to converge. @default "5m" */
    readonly convergeTimeout?: string;
}

export interface Failure { property: string; reason: string }

/** The key the Pulumi wire format marks a secret value with (the prototype does not take secrets). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function secretPaths(v: unknown, at: string, out: string[]): string[] {
    if (isObject(v) && SECRET_SIG in v) out.push(at);
    else if (Array.isArray(v)) v.forEach((x, i) => secretPaths(x, `${at}[${i}]`, out));
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) secretPaths(x, `${at}.${k}`, out);
    return out;
}

/** Every problem with a resource's inputs, each naming the property, the bad value and what is accepted. */
export function checkInputs(news: any): Failure[] {
    const failures: Failure[] = [];
    const spec = news?.spec;
    if (!isObject(spec)) return [{ property: "spec", reason: "spec must be a Swarm ServiceSpec object (the Engine API's POST /services/create body)" }];
    if (typeof spec.Name !== "string" || !DOCKER_NAME.test(spec.Name)) {
        failures.push({ property: "spec.Name", reason: `${JSON.stringify(spec.Name)} is not a service name: 1-63 letters, digits, '_', '.', '-', starting with a letter or digit` });
    }
    const image = (spec.TaskTemplate as any)?.ContainerSpec?.Image;
    if (typeof image !== "string" || image === "") {
        failures.push({ property: "spec.TaskTemplate.ContainerSpec.Image", reason: `${JSON.stringify(image)} is not an image reference; give one, e.g. "registry/repo@sha256:..."` });
    }
    const mode = spec.Mode as any;
    if (mode !== undefined && (!isObject(mode) || Object.keys(mode).length !== 1 || !("Replicated" in mode || "Global" in mode))) {
        failures.push({ property: "spec.Mode", reason: `${JSON.stringify(mode)}: give exactly one of { Replicated: { Replicas: n } } or { Global: {} }` });
    }
    if (news.convergeTimeout !== undefined && (typeof news.convergeTimeout !== "string" || !DURATION.test(news.convergeTimeout))) {
        failures.push({ property: "convergeTimeout", reason: `${JSON.stringify(news.convergeTimeout)} is not a duration; give one such as "90s" or "10m"` });
    }
    for (const at of secretPaths(news, "", [])) {
        failures.push({ property: at.slice(1), reason: "is a secret, which this prototype does not take (its values would reach the state unmarked)" });
    }
    return failures;
}

/** Whether the image reference is pinned by digest (no registry look-up needed, Swarm runs exactly it). */
export const hasDigest = (image: string): boolean => /@sha256:[0-9a-f]{64}$/.test(image);

/**
 * The paths of the fields that differ between two values, as Pulumi names properties
 * (`spec.TaskTemplate.ContainerSpec.Env`): down to each object key; a list is one field (Swarm
 * takes lists whole, and an entry moved is a change of the list). A key absent on one side and
 * `undefined`/`null` on the other is no change.
 */
export function changedFields(olds: unknown, news: unknown, at = ""): string[] {
    if (isObject(olds) && isObject(news)) {
        const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].sort();
        return keys.flatMap((k) => changedFields(olds[k], news[k], at ? `${at}.${k}` : k));
    }
    const gone = (v: unknown) => v === undefined || v === null;
    if (gone(olds) && gone(news)) return [];
    return JSON.stringify(olds) === JSON.stringify(news) ? [] : [at];
}

/** The inputs a diff compares (outputs carry the same keys plus what the provider computed). */
const compared = (v: any) => ({ spec: v?.spec, convergeTimeout: v?.convergeTimeout ?? "5m" });

export interface SpecDiff {
    /** Every changed field. */
    readonly changed: string[];
    /** The changed fields Swarm cannot update in place: the name, a switch between replicated and global. */
    readonly replaces: string[];
}

export function diffInputs(olds: any, news: any): SpecDiff {
    const changed = changedFields(compared(olds), compared(news));
    const kind = (v: any) => (v?.spec?.Mode?.Global !== undefined ? "global" : "replicated");
    const replaces: string[] = changed.filter((f) => f === "spec.Name");
    if (kind(olds) !== kind(news)) replaces.push("spec.Mode");
    return { changed, replaces };
}

/** Whether a change needs Swarm to update the service (a changed `convergeTimeout` alone does not). */
export const touchesSwarm = (d: SpecDiff): boolean => d.changed.some((f) => f === "spec" || f.startsWith("spec."));

/**
 * The live spec seen through the shape of the one Dockyard sent: only the fields it set, so the
 * defaults Swarm fills in (Runtime, Isolation, ForceUpdate, resolved Platforms...) are no drift,
 * while a field it set and someone changed is.
 */
export function project(live: unknown, shape: unknown): unknown {
    if (isObject(shape) && isObject(live)) {
        return Object.fromEntries(Object.keys(shape).filter((k) => live[k] !== undefined).map((k) => [k, project(live[k], shape[k])]));
    }
    return live;
}

/**
 * The spec as Swarm gets it, with the task defaults Swarm fills in when it is read back
 * (swarmkit's `api/defaults`, applied by `GET /services/{id}?insertDefaults=true`, which `docker
 * service inspect` asks for) set already: a task's spec repeats only what was sent, and the
 * convergence wait knows a task of the current version by its spec being the service's template
 * as read back. (The Docker provider sends these fields itself.)
 */
export function withTaskDefaults(spec: any): any {
    const t = spec.TaskTemplate ?? {};
    return {
        ...spec,
        TaskTemplate: {
            ...t,
            ContainerSpec: { StopGracePeriod: 10e9, DNSConfig: {}, ...t.ContainerSpec },
            Resources: t.Resources ?? {},
            RestartPolicy: { Condition: "any", Delay: 5e9, MaxAttempts: 0, ...t.RestartPolicy },
            Placement: t.Placement ?? {},
        },
    };
}
