// Shared policy for every Dockyard component: naming, hashing, labels and argument validation.
// Nothing here creates resources.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

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

    add(arg: string, value: unknown, expected: string): void {
        this.found.push(`${arg}: expected ${expected}, got ${show(value)}`);
    }

    /** Record a problem unless `ok`. */
    check(ok: boolean, arg: string, value: unknown, expected: string): void {
        if (!ok) this.add(arg, value, expected);
    }

    /** Record a problem that is not about one value (e.g. a conflict between two args). */
    conflict(message: string): void {
        this.found.push(message);
    }

    get count(): number {
        return this.found.length;
    }

    /** Throw one error listing every problem, tied to the resource when given. */
    throwIfAny(resource?: pulumi.Resource): void {
        if (this.found.length === 0) return;
        const lines = this.found.map((p) => `  - ${p}`).join("\n");
        const noun = this.found.length === 1 ? "problem" : "problems";
        const message = `${this.kind} "${this.name}" has ${this.found.length} invalid argument ${noun}:\n${lines}`;
        throw resource ? new pulumi.ResourceError(message, resource) : new Error(message);
    }
}

/** A value known at construction time (not an unresolved Output). */
export function known<T>(v: pulumi.Input<T> | undefined): v is T {
    return v !== undefined && !pulumi.Output.isInstance(v) && !(v instanceof Promise);
}

const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
/** Go duration strings as Docker takes them: `500ms`, `10s`, `1m30s`. */
export function isDuration(v: unknown): boolean {
    return typeof v === "string" && DURATION.test(v);
}
export const DURATION_HINT = 'a duration such as "500ms", "10s" or "1m30s"';

export function isPositiveInt(v: unknown): boolean {
    return Number.isInteger(v) && (v as number) > 0;
}
export function isNonNegativeInt(v: unknown): boolean {
    return Number.isInteger(v) && (v as number) >= 0;
}
export function isPort(v: unknown): boolean {
    return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
}

const MEMORY = /^(\d+)([kmg]?)b?$/i;
/** Bytes from `268435456`, `"256m"`, `"1G"`; undefined when the text is not a size. */
export function memoryBytes(v: number | string): number | undefined {
    if (typeof v === "number") return Number.isInteger(v) && v > 0 ? v : undefined;
    const m = MEMORY.exec(v.trim());
    if (!m) return undefined;
    const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as "" | "k" | "m" | "g"];
    const bytes = Number(m[1]) * unit;
    return bytes > 0 ? bytes : undefined;
}
export const MEMORY_HINT = 'a size in bytes or a string such as "256m" or "1g"';

/** Docker object names: letters, digits, `_`, `.`, `-`, starting with a letter or digit. */
export function isDockerName(v: unknown): boolean {
    return typeof v === "string" && /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(v);
}
export const DOCKER_NAME_HINT = "1-63 letters, digits, '_', '.' or '-', starting with a letter or digit";

/** Values of a string enum, for error texts. */
export function enumValues(e: Record<string, string>): string {
    return Object.values(e)
        .map((v) => JSON.stringify(v))
        .join(", ");
}
