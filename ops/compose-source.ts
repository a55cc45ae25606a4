// The user's Compose files as written, before Docker's loader sees them: read and parsed as Docker
// reads YAML, scanned for unset variables, and rewritten where the loader of `docker stack config`
// (Docker CLI 28) refuses what `docker compose` accepts. Every change is a finding with the user's path.
import * as dotenv from "dotenv";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { Finding } from "./compose";

type Obj = Record<string, any>;

/** A file the import cannot read: one line naming it, no stack trace. */
export class ComposeFileError extends Error {}

/**
 * YAML as Docker's loader (Go yaml.v3) reads it: `0444` is octal (292), `no` and `yes` are strings,
 * dates stay text. js-yaml's default reads `0444` as 444 and dates as Date objects, which would change
 * a file's meaning when the import rewrites it for the loader.
 */
const intType = new yaml.Type("tag:yaml.org,2002:int", {
    kind: "scalar",
    resolve: (s: string) => /^[-+]?(?:0|[1-9][0-9]*|0[0-7]+|0o[0-7]+|0x[0-9a-fA-F]+|0b[01]+)$/.test(s),
    construct: (s: string) => {
        const sign = s.startsWith("-") ? -1 : 1;
        const digits = s.replace(/^[-+]/, "");
        if (/^0[0-7]+$/.test(digits)) return sign * parseInt(digits, 8);
        if (/^0o/.test(digits)) return sign * parseInt(digits.slice(2), 8);
        if (/^0b/.test(digits)) return sign * parseInt(digits.slice(2), 2);
        return sign * Number(digits);
    },
    predicate: (v: unknown) => typeof v === "number" && Number.isInteger(v),
    represent: (v: object) => String(v),
    defaultStyle: "decimal",
});
// js-yaml's built-in types (its typings leave them out).
const types = (yaml as unknown as { types: Record<"null" | "bool" | "float" | "merge", yaml.Type> }).types;
export const COMPOSE_YAML = yaml.FAILSAFE_SCHEMA.extend({
    implicit: [types.null, types.bool, intType, types.float, types.merge],
});

function shown(file: string, cwd: string): string {
    return path.relative(cwd, file) || file;
}

/** Read and parse one Compose file; a missing file or bad YAML is one line naming the file. */
export function readComposeFile(file: string, cwd: string = process.cwd()): Obj {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new ComposeFileError(`${shown(file, cwd)}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a directory, expected a Compose file" : `cannot be read (${code})`}`);
    }
    let doc: unknown;
    try {
        doc = yaml.load(text, { schema: COMPOSE_YAML, filename: file });
    } catch (e) {
        const y = e as yaml.YAMLException;
        throw new ComposeFileError(`${shown(file, cwd)}: not valid YAML: ${y.reason ?? "unreadable"} (line ${(y.mark?.line ?? 0) + 1}, column ${(y.mark?.column ?? 0) + 1})`);
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
        throw new ComposeFileError(`${shown(file, cwd)}: expected a Compose file (a mapping with services:), got ${doc === null || doc === undefined ? "an empty file" : JSON.stringify(doc).slice(0, 40)}`);
    }
    return doc as Obj;
}

export function dumpCompose(doc: Obj): string {
    return yaml.dump(doc, { schema: COMPOSE_YAML, lineWidth: -1, noRefs: true });
}

/** What reading variables found: the variables, the files read, and values that read unset variables. */
export interface Variables {
    readonly env: NodeJS.ProcessEnv;
    readonly read: string[];
    readonly findings: Finding[];
}

/** The keys a .env file assigns with a single-quoted value, which docker compose takes literally. */
function singleQuoted(text: string): Set<string> {
    const out = new Set<string>();
    for (const line of text.split(/\r?\n/)) {
        const m = /^\s*(?:export\s+)?([\w.-]+)\s*=\s*(.)?/.exec(line);
        if (!m) continue;
        // The last assignment of a key is the one dotenv keeps.
        if (m[2] === "'") out.add(m[1]);
        else out.delete(m[1]);
    }
    return out;
}

/**
 * A .env-format file's values as docker compose reads them, in order: dotenv's syntax (quotes,
 * `export`, comments), then each value interpolated (`interpolate`) from `lookup`, else the keys
 * assigned before it; single-quoted values are literal.
 */
export function dotenvValues(text: string, lookup: (name: string) => string | undefined): Array<{ key: string; value: string; unset: VariableUse[] }> {
    const literal = singleQuoted(text);
    const own: Record<string, string> = {};
    return Object.entries(dotenv.parse(text)).map(([key, raw]) => {
        const r = literal.has(key) ? { value: raw, unset: [] } : interpolate(raw, (n) => lookup(n) ?? own[n]);
        own[key] = r.value;
        return { key, ...r };
    });
}

/**
 * The variables the Compose files are interpolated with, as `docker compose` reads them: the
 * `--env-file` files in order (a later one wins), or else the project directory's `.env` when there
 * is one; variables set in the environment win over both. A file's values are interpolated as
 * docker compose does (the same rules as the Compose files, `interpolate`): `${X}`, `${X:-default}`...
 * read the environment first, then the keys assigned before them; single-quoted values are literal.
 * A value that reads an unset variable is a finding, as in the Compose files.
 */
export function readVariables(envFiles: readonly string[], projectDir: string, environment: NodeJS.ProcessEnv, cwd: string = process.cwd(), allowUnset = false): Variables {
    const files = envFiles.length ? [...envFiles] : [path.join(projectDir, ".env")].filter((f) => fs.existsSync(f) && fs.statSync(f).isFile());
    const fromFiles: Record<string, string> = {};
    const findings: Finding[] = [];
    const lookup = (name: string) => environment[name] ?? fromFiles[name];
    for (const f of files) {
        let text: string;
        try {
            text = fs.readFileSync(f, "utf8");
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            throw new ComposeFileError(`--env-file ${shown(f, cwd)}: ${code === "ENOENT" ? "no such file" : `cannot be read (${code})`}`);
        }
        for (const { key, value, unset } of dotenvValues(text, lookup)) {
            findings.push(...unset.map((use) => unsetFinding(`(${shown(f, cwd)}).${key}`, use, allowUnset)));
            fromFiles[key] = value;
        }
    }
    const env: NodeJS.ProcessEnv = { ...fromFiles };
    for (const [k, v] of Object.entries(environment)) if (v !== undefined) env[k] = v;
    return { env, read: files, findings };
}

// --- Variables -------------------------------------------------------------------------------

const NAME = /^[_A-Za-z][_A-Za-z0-9]*/;

/** A variable a value uses: unset and taken as empty, or required (`${X:?msg}`) and unset. */
export interface VariableUse {
    readonly name: string;
    readonly required?: string;
}

/**
 * A value interpolated as Compose does, with the variables it would read unset: `$$` is a literal
 * `$`; `${X:-d}` / `${X-d}` use d when X is unset (or empty, with `:`), and a default's own
 * variables count only then; `${X:+a}` / `${X+a}` read a only when X is set; `${X:?e}` / `${X?e}`
 * are required. The one reading of Compose's variables: for the Compose files and their .env alike.
 */
export function interpolate(value: string, lookup: (name: string) => string | undefined): { value: string; unset: VariableUse[] } {
    const unset: VariableUse[] = [];
    let out = "";
    const isSet = (n: string) => lookup(n) !== undefined;
    const nonEmpty = (n: string) => isSet(n) && lookup(n) !== "";
    const sub = (v: string) => {
        const r = interpolate(v, lookup);
        unset.push(...r.unset);
        return r.value;
    };
    for (let i = 0; i < value.length; i++) {
        if (value[i] !== "$") {
            out += value[i];
            continue;
        }
        const next = value[i + 1];
        if (next === "$") {
            out += "$";
            i++;
            continue;
        }
        if (next === "{") {
            // The matching brace, counting nested ${...} in defaults.
            let depth = 1;
            let j = i + 2;
            for (; j < value.length && depth > 0; j++) {
                if (value[j] === "$" && value[j + 1] === "{") {
                    depth++;
                    j++;
                } else if (value[j] === "}") depth--;
            }
            // Unclosed: the loader says so.
            if (depth > 0) return { value: out + value.slice(i), unset };
            const inner = value.slice(i + 2, j - 1);
            const whole = value.slice(i, j);
            i = j - 1;
            const name = NAME.exec(inner)?.[0];
            if (!name) {
                out += whole;
                continue;
            }
            const rest = inner.slice(name.length);
            const op = /^(:?[-+?])?/.exec(rest)![0];
            const arg = rest.slice(op.length);
            const own = lookup(name) ?? "";
            if (op === "" && rest === "") {
                if (!isSet(name)) unset.push({ name });
                out += own;
            } else if (op === ":-") out += nonEmpty(name) ? own : sub(arg);
            else if (op === "-") out += isSet(name) ? own : sub(arg);
            else if (op === ":+") out += nonEmpty(name) ? sub(arg) : "";
            else if (op === "+") out += isSet(name) ? sub(arg) : "";
            else if (op === ":?" || op === "?") {
                if (op === ":?" ? !nonEmpty(name) : !isSet(name)) unset.push({ name, required: arg });
                out += own;
            } else out += whole;
            continue;
        }
        const name = NAME.exec(value.slice(i + 1))?.[0];
        if (name) {
            if (!isSet(name)) unset.push({ name });
            out += lookup(name) ?? "";
            i += name.length;
        } else out += "$";
    }
    return { value: out, unset };
}

/** The variables a Compose value would read unset (see `interpolate`). */
export function unsetIn(value: string, env: NodeJS.ProcessEnv): VariableUse[] {
    return interpolate(value, (n) => env[n]).unset;
}

/**
 * The finding for a value at `at` reading an unset variable: an error, or with `allowUnset` a
 * warning; a required one (`${X:?message}`) is always an error.
 */
export function unsetFinding(at: string, use: VariableUse, allowUnset: boolean): Finding {
    if (use.required !== undefined) {
        return { path: at, severity: "error", why: `the variable ${use.name} is required and not set${use.required ? `: ${use.required}` : ""}` };
    }
    if (allowUnset) return { path: at, severity: "warning", why: `the variable ${use.name} is not set: imported as empty (--allow-unset)` };
    return {
        path: at,
        severity: "error",
        why: `the variable ${use.name} is not set (Compose would use an empty value); set it, put it in .env or an --env-file, give a default (\${${use.name}:-<value>}), or pass --allow-unset`,
    };
}

/** `a.b[2].c` from path segments (strings are keys, numbers list indices). */
function join(base: string, key: string | number): string {
    return typeof key === "number" ? `${base}[${key}]` : base ? `${base}.${key}` : key;
}

/**
 * Every unset variable a Compose document reads, with the path of the value that reads it
 * (`services.db.environment.POSTGRES_PASSWORD`): an error, or with `allowUnset` a warning; a
 * required one (`${X:?message}`) is always an error. Top-level extension fields (`x-*`) are not
 * interpolated; what services take from them through YAML anchors is checked where it lands.
 */
export function unsetVariables(doc: Obj, env: NodeJS.ProcessEnv, allowUnset: boolean): Finding[] {
    const findings: Finding[] = [];
    const seen = new Set<string>();
    const walk = (v: unknown, at: string) => {
        if (typeof v === "string") {
            for (const use of unsetIn(v, env)) {
                const key = `${at}\0${use.name}`;
                if (seen.has(key)) continue;
                seen.add(key);
                findings.push(unsetFinding(at, use, allowUnset));
            }
        } else if (Array.isArray(v)) {
            v.forEach((x, i) => {
                // environment: ["KEY=${VALUE}"] is reported at environment.KEY, as the mapping form.
                const m = typeof x === "string" && /\.environment$/.test(at) ? /^([^=]+)=/.exec(x) : null;
                walk(x, m ? `${at}.${m[1]}` : join(at, i));
            });
        } else if (v && typeof v === "object") {
            for (const [k, x] of Object.entries(v)) if (!(at === "" && k.startsWith("x-"))) walk(x, join(at, k));
        }
    };
    walk(doc, "");
    return findings;
}

// --- Before the loader -------------------------------------------------------------------------

/** Service keys `docker stack config` refuses outright ("forbidden properties"), with Docker's own hint. */
const FORBIDDEN: Record<string, string> = {
    extends: "Docker's stack loader does not implement extends; merge the files with -f instead",
    volume_driver: "Docker's stack loader refuses it; define the volume under the top-level volumes: with its driver",
    volumes_from: "Docker's stack loader refuses it; define the volume under the top-level volumes: and mount it in each service",
    cpu_quota: "Docker's stack loader refuses it; set deploy.resources.limits.cpus",
    cpu_shares: "Docker's stack loader refuses it; set deploy.resources.limits.cpus",
    cpuset: "Docker's stack loader refuses it; set deploy.resources",
    mem_limit: "Docker's stack loader refuses it; set deploy.resources.limits.memory",
    memswap_limit: "Docker's stack loader refuses it; set deploy.resources.limits.memory",
};

/** Service keys only `docker compose` reads, which change nothing a deployed service does. */
const COMPOSE_ONLY: Record<string, string> = {
    develop: "docker compose watch settings; Swarm has no use for them",
    pull_policy: "Swarm pulls the image when it schedules a task (docker stack deploy has no pull policy)",
};

/** How the user's ports line up with the loader's, which expands a range into one entry per port. */
export type PortIndex = Record<string, number[]>;

export interface Prepared {
    /** The document to give the loader. */
    readonly doc: Obj;
    /** Whether it differs from the file (then it goes to the loader rewritten). */
    readonly changed: boolean;
    readonly findings: Finding[];
    /** Service → for each of the loader's port entries, the index in the user's list. */
    readonly ports: PortIndex;
}

/** An IP a port may name that means every interface, as no IP does: Swarm publishes on every interface too. */
const ALL_INTERFACES = new Set(["0.0.0.0", "::", "[::]"]);
const HOST_IP = /^(\[[0-9a-fA-F:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):/;

/** The number of ports a short port spec stands for ("8000-8002:80" is three). */
function portCount(spec: string): number {
    const parts = spec.replace(/\/\w+$/, "").split(":");
    const size = (r: string | undefined) => {
        const m = r ? /^(\d+)-(\d+)$/.exec(r) : null;
        return m ? Math.max(1, Number(m[2]) - Number(m[1]) + 1) : 1;
    };
    return Math.max(size(parts.at(-1)), size(parts.length > 1 ? parts.at(-2) : undefined));
}

const servicesOf = (doc: Obj): Obj => (doc.services && typeof doc.services === "object" ? doc.services : {});

/**
 * The services the active profiles leave out, decided on the merged project as docker compose does
 * (a service's `profiles` from every file, appended): each with its profiles. A service without
 * profiles is always in; `*` activates every profile.
 */
export function outOfProfiles(docs: readonly Obj[], profiles: readonly string[]): Map<string, string[]> {
    const merged = new Map<string, string[]>();
    for (const doc of docs) {
        for (const [name, s] of Object.entries<any>(servicesOf(doc))) {
            const all = merged.get(name) ?? [];
            merged.set(name, all);
            if (s && typeof s === "object" && Array.isArray(s.profiles)) for (const p of s.profiles.map(String)) if (!all.includes(p)) all.push(p);
        }
    }
    if (profiles.includes("*")) return new Map();
    return new Map([...merged].filter(([, own]) => own.length > 0 && !own.some((p) => profiles.includes(p))));
}

export interface PrepareOptions {
    /** The active profiles (`--profile`, COMPOSE_PROFILES). @default none */
    readonly profiles?: readonly string[];
    /** The directory relative paths are resolved against (the first file's). */
    readonly baseDir: string;
    /** The variables env files are interpolated with. @default none */
    readonly env?: NodeJS.ProcessEnv;
}

/** `prepareProject` for a project of one file. */
export function prepareForLoader(input: Obj, profiles: readonly string[], baseDir: string, env: NodeJS.ProcessEnv = {}): Prepared {
    return prepareProject([input], { profiles, baseDir, env })[0];
}

/**
 * Rewrite what the loader of `docker stack config` cannot read, in each of a project's files, reporting
 * each change with its path: top-level `name:` and services outside the active profiles (decided on
 * the merged project) are left out, long-form `depends_on` becomes the list form, a host IP in a port
 * is an error and the port is left out (Swarm publishes on every node's interfaces), octal strings in
 * modes become numbers, long-form `env_file` becomes paths. A rewrite that keeps the meaning exactly
 * (a mode "0440" as 0o440, a port "8080" as 8080, a host IP 0.0.0.0) says nothing.
 */
export function prepareProject(inputs: readonly Obj[], opts: PrepareOptions): Prepared[] {
    const dropped = outOfProfiles(inputs, opts.profiles ?? []);
    return inputs.map((input, i) => prepareFile(input, dropped, i === 0, opts));
}

const DEPENDS_ON_CONDITIONS = ["service_started", "service_healthy", "service_completed_successfully"];

function prepareFile(input: Obj, dropped: ReadonlyMap<string, string[]>, first: boolean, opts: PrepareOptions): Prepared {
    const doc: Obj = structuredClone(input);
    const findings: Finding[] = [];
    const ports: PortIndex = {};
    let changed = false;
    const warn = (p: string, why: string) => findings.push({ path: p, severity: "warning", why });
    const error = (p: string, why: string) => findings.push({ path: p, severity: "error", why });
    const withProfiles = (dep: string) => dropped.get(dep)!.map((p) => `--profile ${p}`).join(" or ");

    if (doc.name !== undefined) {
        warn("(top level).name", `the Compose project name ${JSON.stringify(doc.name)} is not used: Docker objects are named <prefix>-<name>, with the --stack name as prefix`);
        delete doc.name;
        changed = true;
    }
    const services = servicesOf(doc);
    // Reported once for the project, in its first file.
    if (first) for (const name of dropped.keys()) warn(`services.${name}.profiles`, `not imported: docker compose starts it only with ${withProfiles(name)} (pass the same to import it)`);
    for (const [name, s] of Object.entries<any>(services)) {
        if (dropped.has(name)) delete services[name];
        else if (s && typeof s === "object" && s.profiles !== undefined) delete s.profiles;
        else continue;
        changed = true;
    }
    for (const [name, s] of Object.entries<any>(services)) {
        if (!s || typeof s !== "object") continue;
        const base = `services.${name}`;
        for (const [key, why] of Object.entries(FORBIDDEN)) {
            if (s[key] === undefined) continue;
            error(`${base}.${key}`, why);
            delete s[key];
            changed = true;
        }
        for (const [key, why] of Object.entries(COMPOSE_ONLY)) {
            if (s[key] === undefined) continue;
            warn(`${base}.${key}`, why);
            delete s[key];
            changed = true;
        }
        if (s.depends_on !== undefined && prepareDependsOn(s, base, dropped, warn, error, withProfiles)) changed = true;
        if (Array.isArray(s.env_file) && prepareEnvFiles(s, base, opts, warn, error)) changed = true;
        // Modes written as octal strings ("0444", or from a variable): docker compose reads a string
        // mode as octal, the loader as decimal (444); the number keeps the meaning exactly.
        for (const kind of ["secrets", "configs"]) {
            if (!Array.isArray(s[kind])) continue;
            for (const ref of s[kind]) {
                const mode = ref && typeof ref === "object" && typeof ref.mode === "string" ? interpolate(ref.mode, (n) => opts.env?.[n]).value : undefined;
                if (mode !== undefined && /^0?[0-7]{1,4}$/.test(mode)) {
                    ref.mode = parseInt(mode, 8);
                    changed = true;
                }
            }
        }
        // Ports: a host IP stops the import; the index map follows the loader's expansion of ranges.
        if (Array.isArray(s.ports)) {
            const index: number[] = [];
            const kept: unknown[] = [];
            s.ports.forEach((p: any, i: number) => {
                const pbase = `${base}.ports[${i}]`;
                if (typeof p === "string" || typeof p === "number") {
                    let spec = String(p);
                    const ip = HOST_IP.exec(spec)?.[1];
                    if (ip !== undefined && !ALL_INTERFACES.has(ip)) {
                        error(pbase, `${JSON.stringify(p)} publishes on ${ip} only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported`);
                        changed = true;
                        return;
                    }
                    // Every interface, as with no IP (which is what Swarm does): the same port.
                    if (ip !== undefined) {
                        spec = spec.slice(ip.length + 1);
                        changed = true;
                    }
                    for (let k = 0; k < portCount(spec); k++) index.push(i);
                    kept.push(ip === undefined ? p : spec);
                    return;
                }
                if (p && typeof p === "object") {
                    if (p.host_ip !== undefined && p.host_ip !== "" && !ALL_INTERFACES.has(String(p.host_ip))) {
                        error(`${pbase}.host_ip`, `publishes on ${p.host_ip} only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported`);
                        changed = true;
                        return;
                    }
                    if (p.host_ip !== undefined) {
                        delete p.host_ip;
                        changed = true;
                    }
                    // docker compose reads "8080" as the port 8080; the loader refuses a string.
                    for (const key of ["published", "target"]) {
                        if (typeof p[key] === "string" && /^\d+$/.test(p[key])) {
                            p[key] = Number(p[key]);
                            changed = true;
                        }
                    }
                    for (const key of ["name", "app_protocol"]) {
                        if (p[key] === undefined) continue;
                        warn(`${pbase}.${key}`, "docker compose's label for the port; Swarm has no use for it");
                        delete p[key];
                        changed = true;
                    }
                }
                index.push(i);
                kept.push(p);
            });
            s.ports = kept;
            ports[name] = index;
        }
    }
    return { doc, changed, findings, ports };
}

type Report = (p: string, why: string) => void;

/**
 * `depends_on` as the loader reads it, the list form; Swarm starts services in any order either way
 * (the mapping says so). A long-form entry with no condition is `service_started`, as in docker
 * compose, the list form's meaning. A dependency left out by profiles is an error (docker compose
 * refuses the project), a warning when it is `required: false` (docker compose starts without it).
 * Returns whether the service changed.
 */
function prepareDependsOn(s: Obj, base: string, dropped: ReadonlyMap<string, string[]>, warn: Report, error: Report, withProfiles: (dep: string) => string): boolean {
    const name = base.slice("services.".length);
    const long = !Array.isArray(s.depends_on) && typeof s.depends_on === "object" && s.depends_on !== null;
    if (!long && !Array.isArray(s.depends_on)) return false;
    const entries: Array<[string, string, Obj]> = long
        ? Object.entries<any>(s.depends_on).map(([dep, opt]) => [dep, `${base}.depends_on.${dep}`, opt])
        : s.depends_on.map((dep: unknown, i: number) => [String(dep), `${base}.depends_on[${i}]`, {}]);
    const kept: string[] = [];
    for (const [dep, at, opt] of entries) {
        if (!opt || typeof opt !== "object" || Array.isArray(opt)) {
            error(at, `expected a mapping of condition, restart and required, got ${JSON.stringify(opt)}`);
            continue;
        }
        for (const key of Object.keys(opt)) if (!["condition", "restart", "required"].includes(key)) error(`${at}.${key}`, "not a depends_on key; expected condition, restart or required");
        if (opt.condition !== undefined && !DEPENDS_ON_CONDITIONS.includes(opt.condition)) {
            error(`${at}.condition`, `expected one of ${DEPENDS_ON_CONDITIONS.join(", ")}, got ${JSON.stringify(opt.condition)}`);
        } else if (opt.condition !== undefined && opt.condition !== "service_started") {
            warn(`${at}.condition`, `${opt.condition} is not waited for: Swarm starts services in any order, so ${name} must retry until ${dep} is ready`);
        }
        for (const key of ["restart", "required"]) {
            if (opt[key] !== undefined && typeof opt[key] !== "boolean") error(`${at}.${key}`, `expected true or false, got ${JSON.stringify(opt[key])}`);
        }
        if (opt.restart === true) warn(`${at}.restart`, `Swarm does not restart ${name} when ${dep} restarts`);
        if (dropped.has(dep)) {
            const why = `${dep} is not imported: docker compose starts it only with ${withProfiles(dep)}`;
            if (opt.required === false) warn(at, `${why}; ${name} is imported without it, as docker compose starts ${name} without it (required: false)`);
            else error(at, `${why}, and refuses to start ${name} without it; pass the same to import it, or set required: false`);
            continue;
        }
        kept.push(dep);
    }
    if (!long && kept.length === s.depends_on.length) return false;
    s.depends_on = kept;
    return true;
}

/**
 * `env_file` as the loader reads it: paths. A missing `required: false` file is left out, as docker
 * compose skips it, with a warning. The loader reads every file as written (Docker's env-file
 * format: no quotes removed, no variables), which is docker compose's `format: raw`; a file in
 * docker compose's own format (the default) that it would read otherwise is an error per value.
 * Returns whether the service changed.
 */
function prepareEnvFiles(s: Obj, base: string, opts: PrepareOptions, warn: Report, error: Report): boolean {
    let changed = false;
    const kept: unknown[] = [];
    s.env_file.forEach((e: any, i: number) => {
        const at = `${base}.env_file[${i}]`;
        const long = e && typeof e === "object";
        if (long) changed = true;
        const file = long ? e.path : e;
        if (typeof file !== "string") {
            error(long ? `${at}.path` : at, `expected the path of a file, got ${JSON.stringify(file)}`);
            return;
        }
        if (long) {
            for (const key of Object.keys(e)) if (!["path", "required", "format"].includes(key)) error(`${at}.${key}`, "not an env_file key; expected path, required or format");
            if (e.required !== undefined && typeof e.required !== "boolean") error(`${at}.required`, `expected true or false, got ${JSON.stringify(e.required)}`);
            if (e.format !== undefined && e.format !== "raw") error(`${at}.format`, `expected raw or no format (docker compose's own), got ${JSON.stringify(e.format)}`);
        }
        const full = path.resolve(opts.baseDir, file);
        if (!fs.existsSync(full)) {
            if (long && e.required === false) {
                warn(at, `${file} does not exist: skipped, as docker compose skips it (required: false)`);
                return;
            }
        } else if (!(long && e.format === "raw")) {
            for (const d of envFileDifferences(fs.readFileSync(full, "utf8"), opts.env ?? {})) {
                error(at, `${d.key}: docker stack config reads ${file} as written, ${JSON.stringify(d.asWritten)}, where docker compose reads ${JSON.stringify(d.compose)}; ` +
                    "write the value without quotes or variables, set it under environment:, or give the file format: raw");
            }
        }
        kept.push(file);
    });
    s.env_file = kept;
    return changed;
}

/** Where an env file's values differ between Docker's env-file format (the loader's) and docker compose's. */
export function envFileDifferences(text: string, env: NodeJS.ProcessEnv): Array<{ key: string; asWritten: string | undefined; compose: string }> {
    // Docker's format: KEY=value lines taken as written, after leading blanks; # starts a comment line.
    const asWritten: Record<string, string> = {};
    for (const line of text.replace(/^\uFEFF/, "").split(/\r?\n/).map((l) => l.trimStart())) {
        const eq = line.indexOf("=");
        if (line && !line.startsWith("#") && eq > 0) asWritten[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return dotenvValues(text, (n) => env[n]).filter((v) => asWritten[v.key] !== v.value).map((v) => ({ key: v.key, asWritten: asWritten[v.key], compose: v.value }));
}

/**
 * Docker's loader output on stderr as findings: log lines lose their timestamp, schema errors get
 * the document path the loader names (`services.a.ports.0` → `services.a.ports[0]`).
 */
export function loaderFindings(stderr: string, failed: boolean): Finding[] {
    const out: Finding[] = [];
    const docPath = (p: string) => (p === "(root)" ? "(top level)" : p.replace(/\.(\d+)(?=\.|$)/g, "[$1]"));
    for (const raw of stderr.split("\n").map((l) => l.trim()).filter(Boolean)) {
        const log = /\blevel=(\w+)\s+msg="((?:[^"\\]|\\.)*)"/.exec(raw);
        if (log) {
            out.push({ path: "(Compose loader)", severity: log[1] === "warning" || log[1] === "info" ? "warning" : "error", why: log[2].replace(/\\(.)/g, "$1") });
            continue;
        }
        const extra = /^(\(root\)|[\w.-]+) Additional property (\S+) is not allowed$/.exec(raw);
        if (extra) {
            out.push({ path: `${docPath(extra[1])}.${extra[2]}`, severity: "error", why: "not a key the loader of docker stack config (Compose file format 3) reads; remove it to import the file" });
            continue;
        }
        const type = /^((?:services|networks|volumes|secrets|configs)\.[\w.-]+) (must be .*)$/.exec(raw);
        if (type) {
            out.push({ path: docPath(type[1]), severity: "error", why: `the loader of docker stack config says it ${type[2].replace(/ a (?=[aeiou])/, " an ")}` });
            continue;
        }
        const interp = /^invalid interpolation format for ([\w.-]+): (.*?)(; you may need to escape any \$ with another \$)?$/.exec(raw);
        if (interp) {
            out.push({ path: docPath(interp[1]), severity: "error", why: `invalid interpolation: ${interp[2]}; write a literal $ as $$` });
            continue;
        }
        out.push({ path: "(Compose loader)", severity: failed ? "error" : "warning", why: raw });
    }
    return out;
}

/** Where each of the loader's entries of a service's list (ports, volumes) is in the user's files. */
export type Located = Record<string, Array<{ readonly index: number; readonly file?: string }>>;
export type VolumeIndex = Located;

/**
 * The user's place of each entry the loader printed in a service's `list`, by service, when files
 * are merged: the loader merges a list by a key (`keysOf` gives an entry's keys as the user wrote
 * it, several for a port range; `loadedKey` the key of a printed entry), a later file's entry
 * replacing an earlier one's with the same key, and sorts the result. `file` names the file when
 * several define the service's list.
 */
function locate(docs: readonly Obj[], fileNames: readonly string[], loaded: Obj, list: "ports" | "volumes",
    keysOf: (entry: unknown) => unknown[], loadedKey: (entry: Obj) => unknown, only?: (service: string) => boolean): Located {
    const out: Located = {};
    for (const [name, s] of Object.entries<any>(servicesOf(loaded))) {
        if (!Array.isArray(s?.[list]) || (only && !only(name))) continue;
        const defining = docs.map((d, f) => [servicesOf(d)[name]?.[list], f] as const).filter(([v]) => Array.isArray(v));
        const byKey = new Map<unknown, { index: number; file?: string }>();
        for (const [entries, f] of defining) {
            (entries as unknown[]).forEach((v, index) => {
                for (const key of keysOf(v)) byKey.set(key, defining.length > 1 ? { index, file: fileNames[f] } : { index });
            });
        }
        out[name] = s[list].map((v: Obj, k: number) => byKey.get(loadedKey(v)) ?? { index: k });
    }
    return out;
}

const interpolated = (env: NodeJS.ProcessEnv) => (v: unknown) => (typeof v === "string" ? interpolate(v, (n) => env[n]).value : v);

/**
 * The user's place of each volume entry the loader printed, by service. The loader expands the
 * short syntax into the long one, and sorts a service's volumes by target when it merges files (a
 * later file's entry replacing an earlier one's with the same target), so entries are matched by
 * target, interpolated as the loader does; `file` names the file when several define the service's volumes.
 */
export function volumeIndex(docs: readonly Obj[], fileNames: readonly string[], loaded: Obj, env: NodeJS.ProcessEnv): VolumeIndex {
    const value = interpolated(env);
    const target = (v: unknown) => (typeof v === "string" ? (() => { const parts = String(value(v)).split(":"); return parts[parts.length === 1 ? 0 : 1]; })() : value((v as Obj)?.target));
    return locate(docs, fileNames, loaded, "volumes", (v) => [target(v)], (v) => v?.target);
}

/**
 * The user's place of each port entry the loader printed, for the services whose ports several
 * files define: the loader (Docker CLI 28) merges them by published port (every unpublished one
 * shares the key 0, the last one kept) and sorts them by it, after expanding ranges.
 */
export function mergedPortIndex(docs: readonly Obj[], fileNames: readonly string[], loaded: Obj, env: NodeJS.ProcessEnv): Located {
    return locate(docs, fileNames, loaded, "ports", (p) => portKeys(p, env), (p) => p?.published ?? 0, (name) => portFiles(docs, name).length > 1);
}

/** The keys the loader merges a port entry by: its published ports, 0 for none. */
function portKeys(p: unknown, env: NodeJS.ProcessEnv): number[] {
    const value = interpolated(env);
    const range = (r: string) => {
        const m = /^(\d+)-(\d+)$/.exec(r);
        return m ? Array.from({ length: Math.max(1, Number(m[2]) - Number(m[1]) + 1) }, (_, k) => Number(m[1]) + k) : [Number(r)];
    };
    if (p && typeof p === "object") return (p as Obj).published === undefined ? [0] : range(String(value((p as Obj).published)));
    const parts = String(value(p)).replace(/\/\w+$/, "").split(":");
    return parts.length === 1 ? [0] : range(parts[parts.length - 2]);
}

const portFiles = (docs: readonly Obj[], name: string) => docs.map((d, f) => [servicesOf(d)[name]?.ports, f] as const).filter(([v]) => Array.isArray(v)) as Array<readonly [unknown[], number]>;

/**
 * Unpublished ports the loader drops when it merges a service's ports from several files: it keeps
 * one per service (they share the key 0), the last; docker compose would keep them all.
 */
export function droppedPorts(docs: readonly Obj[], fileNames: readonly string[], env: NodeJS.ProcessEnv): Finding[] {
    const out: Finding[] = [];
    const names = new Set(docs.flatMap((d) => Object.keys(servicesOf(d))));
    for (const name of names) {
        const files = portFiles(docs, name);
        if (files.length < 2) continue;
        const unpublished = files.flatMap(([ports, f]) => ports.flatMap((p, index) => (portKeys(p, env).includes(0) ? [{ p, index, file: fileNames[f] }] : [])));
        const kept = unpublished.at(-1);
        for (const u of unpublished.slice(0, -1)) {
            out.push({ path: `services.${name}.ports[${u.index}] (in ${u.file})`, severity: "warning",
                why: `not deployed: when it merges files, the loader of docker stack config keeps one unpublished port per service, the last (${JSON.stringify(kept!.p)} in ${kept!.file}); publish it, or list the ports in one file` });
        }
    }
    return out;
}

/**
 * A finding's path in the user's own indices: ports (the loader expands port ranges) and volumes
 * (the loader sorts merged ones), with the file when several define them.
 */
export function userPath(p: string, ports: Located, volumes: Located = {}): string {
    const entry = /^services\.([^.[]+)\.(ports|volumes)\[(\d+)\](.*)$/.exec(p);
    const at = entry ? (entry[2] === "ports" ? ports : volumes)[entry[1]]?.[Number(entry[3])] : undefined;
    if (!entry || at === undefined) return p;
    return `services.${entry[1]}.${entry[2]}[${at.index}]${entry[4]}${at.file ? ` (in ${at.file})` : ""}`;
}

/** A file's port index (the loader's entry → the user's) as places in it. */
export function portPlaces(ports: PortIndex): Located {
    return Object.fromEntries(Object.entries(ports).map(([name, index]) => [name, index.map((i) => ({ index: i }))]));
}
