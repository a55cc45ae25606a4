// Shared policy for every Dockyard component: the value rules (as zod schemas), naming, hashing,
// labels, brands and argument errors. Nothing here creates resources. Not part of the public entry,
// except what index.ts re-exports by name.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

/** Label every Docker object a Dockyard component creates, so ownership is visible in `docker inspect`. */
export const MANAGED_LABEL = "dockyard.managed";
/** Label carrying the logical name of the component that created an object. */
export const COMPONENT_LABEL = "dockyard.component";

/** `{label, value}` pairs (the provider's label shape), with Dockyard's ownership labels first. */
export function labelList(component: string, labels: Readonly<Record<string, string>> = {}) {
    const all: Record<string, string> = { [MANAGED_LABEL]: "true", [COMPONENT_LABEL]: component, ...labels };
    return Object.entries(all).map(([label, value]) => ({ label, value }));
}

/**
 * The `create` of every command Dockyard runs: the script itself travels in the DOCKYARD_SCRIPT
 * environment variable, so a failure reads `running "sh -c \"$DOCKYARD_SCRIPT\""` plus the
 * script's own message instead of the whole script.
 */
export const RUN_SCRIPT = 'sh -c "$DOCKYARD_SCRIPT"';

/** First `length` hex characters of the SHA-256 of the given parts. */
export function shortHash(parts: readonly string[], length = 12): string {
    const h = crypto.createHash("sha256");
    for (const p of parts) h.update(p).update("\0");
    return h.digest("hex").slice(0, length);
}

/** Child resource name derived from the component's own name (`web` + `svc` = `web-svc`). */
export function childName(parent: string, suffix: string): string {
    return `${parent}-${suffix}`;
}

/** How a bad value is quoted in an error. */
export function show(value: unknown): string {
    if (value === undefined) return "nothing";
    if (typeof value === "string") return JSON.stringify(value);
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}

/** A value known at construction time (not an unresolved Output). */
export function known<T>(v: pulumi.Input<T> | undefined): v is T {
    return v !== undefined && !pulumi.Output.isInstance(v) && !(v instanceof Promise);
}

// ---------------------------------------------------------------------------------------------
// Value rules. Each is written once, here, with the text that says what is accepted; components
// validate with them and the program's stack schema is composed from them.

export const expected = (what: string) => ({ error: `expected ${what}` });

const DURATION_HINT = 'a duration such as "500ms", "10s" or "1m30s"';
/** Go duration strings as Docker takes them: `500ms`, `10s`, `1m30s`. */
export const Duration = z.string(expected(DURATION_HINT)).regex(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/, expected(DURATION_HINT));

export const PositiveInt = z.int(expected("a whole number of 1 or more")).positive(expected("a whole number of 1 or more"));
export const WholeNumber = z.int(expected("a whole number, 0 or more")).nonnegative(expected("a whole number, 0 or more"));
export const Port = z.int(expected("a port from 1 to 65535")).min(1, expected("a port from 1 to 65535")).max(65535, expected("a port from 1 to 65535"));
export const Ratio = z.number(expected("a number from 0 to 1")).min(0, expected("a number from 0 to 1")).max(1, expected("a number from 0 to 1"));
export const Cpus = z.number(expected("a positive number of CPUs such as 0.5")).positive(expected("a positive number of CPUs such as 0.5"));
/** A numeric user or group id owning a mounted file, as Docker takes it (it resolves no names there): "101". */
export const NumericId = (what: string, example = '"101"') => {
    const e = expected(`a numeric ${what} such as ${example}`);
    return z.string(e).regex(/^\d+$/, e);
};
export const FileMode = z.int(expected("a file mode from 0 to 0o777")).min(0, expected("a file mode from 0 to 0o777")).max(0o777, expected("a file mode from 0 to 0o777"));

const MEMORY_HINT = 'a size in bytes or a string such as "256m" or "1g"';
const MEMORY = /^(\d+)([kmg]?)b?$/i;
/** Bytes from `268435456`, `"256m"`, `"1G"`; undefined when the value is not a size. */
export function memoryBytes(v: number | string): number | undefined {
    if (typeof v === "number") return Number.isInteger(v) && v > 0 ? v : undefined;
    const m = MEMORY.exec(v.trim());
    if (!m) return undefined;
    const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as "" | "k" | "m" | "g"];
    const bytes = Number(m[1]) * unit;
    return bytes > 0 ? bytes : undefined;
}
export const Memory = z.union([z.number(), z.string()], expected(MEMORY_HINT))
    .refine((v) => memoryBytes(v) !== undefined, expected(MEMORY_HINT));

const DOCKER_NAME_HINT = "1-63 letters, digits, '_', '.' or '-', starting with a letter or digit";
/** Docker object names: letters, digits, `_`, `.`, `-`, starting with a letter or digit. */
export const DockerName = z.string(expected(DOCKER_NAME_HINT)).regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, expected(DOCKER_NAME_HINT));

const ABSOLUTE_HINT = 'an absolute path such as "/data"';
/** An absolute path without `..` segments. */
export const AbsolutePath = z.string(expected(ABSOLUTE_HINT)).refine((p) => p.startsWith("/") && !p.split("/").includes(".."), expected(ABSOLUTE_HINT));

export const Labels = z.record(z.string(), z.string(expected("a string label value")));
export const Text = (what: string) => z.string(expected(what)).min(1, expected(what));

/** Values of a string enum, for error texts. */
export function enumValues(e: Record<string, string>): string {
    return Object.values(e).map((v) => JSON.stringify(v)).join(", ");
}
/** A zod schema of a string enum whose error lists the accepted values. */
export function oneOf<E extends Record<string, string>>(e: E) {
    return z.enum(e, expected(`one of ${enumValues(e)}`));
}

// ---------------------------------------------------------------------------------------------
// Problems: every invalid argument at once, each naming the argument, the bad value and what is
// accepted.

function at(raw: unknown, path: readonly PropertyKey[]): unknown {
    let v: any = raw;
    for (const k of path) v = v === null || v === undefined ? undefined : v[k as any];
    return v;
}

/** `a.b[0].c` from a zod path. */
function pathText(path: readonly PropertyKey[]): string {
    return path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("");
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

/** The keys an object schema accepts at `path` (for "unknown key" hints). */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
    const unwrap = (s: any) => {
        while (s?.def?.innerType || s?.def?.in) s = s.def.innerType ?? s.def.in;
        return s;
    };
    let s: any = schema;
    for (const k of path) {
        s = unwrap(s);
        if (s?.def?.type === "object") s = s.def.shape[k as string];
        else if (s?.def?.type === "record") s = s.def.valueType;
        else if (s?.def?.type === "array") s = s.def.element;
        else if (s?.def?.type === "union") s = s.def.options.map(unwrap).find((o: any) => o?.def?.type === "object" && (k as string) in o.def.shape)?.def.shape[k as string];
        else return [];
    }
    s = unwrap(s);
    return s?.def?.type === "object" ? Object.keys(s.def.shape) : [];
}

/**
 * What to say about an unknown key that names a setting Dockyard has in another form, by the key
 * and a key of the object it was found in (so `mode` in a service, not in a port).
 */
const UNKNOWN_KEY_NOTES: ReadonlyArray<{ key: string; besides: string; note: string }> = [
    {
        key: "mode", besides: "global",
        note: "a service is replicated (`replicas: N`) or `global: true`; Swarm jobs (replicated-job, global-job) are not supported, " +
            "as the Docker provider cannot create them: for a one-shot task use `restart: { condition: none }`, with which Dockyard takes a task that exited 0 as done",
    },
];

/** One line per zod issue: `path: expected ..., got <value>`; unknown keys get a "did you mean". */
export function issueTexts(schema: z.ZodType, issues: readonly z.core.$ZodIssue[], raw: unknown): string[] {
    return issues.flatMap((issue) => {
        const where = pathText(issue.path);
        if (issue.code === "unrecognized_keys") {
            const accepted = knownKeys(schema, issue.path);
            return issue.keys.map((key) => {
                const near = accepted.filter((k) => distance(k, key) <= 2);
                const note = UNKNOWN_KEY_NOTES.find((n) => n.key === key && accepted.includes(n.besides));
                if (note) return `${where ? `${where}.` : ""}${key}: unknown key; ${note.note}`;
                const hint = near.length ? `did you mean ${show(near[0])}? ` : "";
                return `${where ? `${where}.` : ""}${key}: unknown key; ${hint}accepted keys are ${accepted.join(", ")}`;
            });
        }
        if (issue.code === "invalid_key") {
            // A record key that breaks the key's rule: quote the key itself.
            const key = issue.path[issue.path.length - 1];
            return [`${where}: ${issue.issues[0]?.message ?? "expected another key"}, got ${show(key)}`];
        }
        let text = issue.message;
        if (issue.code === "invalid_value" && text.startsWith("Invalid")) text = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
        else if (issue.code === "invalid_type" && text.startsWith("Invalid input")) text = `expected ${issue.expected}`;
        else if (issue.code === "invalid_union" && text.startsWith("Invalid input")) text = "expected a value of another shape";
        // Custom rules about several values at once say everything themselves.
        const got = issue.code === "custom" && !text.startsWith("expected") ? "" : `, got ${show(at(raw, issue.path))}`;
        return [`${where || "(top level)"}: ${text}${got}`];
    });
}

/** Validate `value` against `schema`: the parsed value, or every problem as readable lines. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): { data?: z.output<S>; problems: string[] } {
    const r = schema.safeParse(value);
    return r.success ? { data: r.data, problems: [] } : { problems: issueTexts(schema, r.error.issues, value) };
}

/**
 * The error a component throws for invalid arguments: tied to the component, and with its stack
 * hidden, so Pulumi prints the message alone (no stack trace, no dump of the resource).
 */
export class ArgumentError extends pulumi.ResourceError {
    constructor(
        kind: string,
        name: string,
        public readonly problems: readonly string[],
        resource: pulumi.Resource | undefined,
    ) {
        const noun = problems.length === 1 ? "problem" : "problems";
        super(`${kind} "${name}" has ${problems.length} invalid argument ${noun}:\n${problems.map((p) => `  - ${p}`).join("\n")}`, resource, true);
        this.name = "ArgumentError";
    }
}

/**
 * Collects every problem with a component's arguments, then throws them all at once.
 * Each problem names the argument, quotes the bad value and says what is accepted.
 */
export class Problems {
    private readonly found: string[] = [];

    constructor(
        private readonly kind: string,
        private readonly name: string,
    ) {}

    add(arg: string, value: unknown, expectedText: string): void {
        this.found.push(`${arg}: expected ${expectedText}, got ${show(value)}`);
    }

    /** Record a problem unless `ok`. */
    check(ok: boolean, arg: string, value: unknown, expectedText: string): void {
        if (!ok) this.add(arg, value, expectedText);
    }

    /** Record a problem that is not about one value (e.g. a conflict between two args). */
    conflict(message: string): void {
        this.found.push(message);
    }

    /** Validate the known (plain) part of the arguments with a schema; paths are prefixed with `prefix`. */
    schema(schema: z.ZodType, value: unknown, prefix = ""): void {
        for (const p of validate(schema, value).problems) {
            if (!prefix) this.found.push(p);
            else this.found.push(p.startsWith("(top level)") ? `${prefix}${p.slice("(top level)".length)}` : `${prefix}${p.startsWith("[") ? "" : "."}${p}`);
        }
    }

    get list(): readonly string[] {
        return this.found;
    }

    /** Throw one ArgumentError listing every problem, tied to the resource when given. */
    throwIfAny(resource?: pulumi.Resource): void {
        if (this.found.length) throw new ArgumentError(this.kind, this.name, this.found, resource);
    }
}

// ---------------------------------------------------------------------------------------------
// Brands: `X.isInstance(v)` works across copies of the library (a program and a library it uses may
// each load their own), where `instanceof` does not.

export function brand(target: object, type: string): void {
    Object.defineProperty(target, Symbol.for(`dockyard:${type}`), { value: true, enumerable: false });
}
export function hasBrand(value: unknown, type: string): boolean {
    return typeof value === "object" && value !== null && (value as any)[Symbol.for(`dockyard:${type}`)] === true;
}

/** A copy of `o` without the keys whose value is not known yet (Outputs, promises) or undefined. */
export function knownPart<T extends object>(o: T): Partial<T> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => known(v))) as Partial<T>;
}

/** `given` over `defaults`; a key given as undefined keeps its default (a plain spread would drop it). */
export function withDefaults<D extends object, G extends object>(defaults: D, given: G | undefined): D & G {
    const defined = Object.entries(given ?? {}).filter(([, v]) => v !== undefined);
    return { ...defaults, ...Object.fromEntries(defined) } as D & G;
}

/** Throw one ArgumentError, tied to the component, when there is any problem. */
export function rejectIfAny(component: pulumi.Resource, kind: string, name: string, problems: readonly string[]): void {
    if (problems.length) throw new ArgumentError(kind, name, problems, component);
}
