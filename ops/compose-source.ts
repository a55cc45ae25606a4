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

/**
 * The variables the Compose files are interpolated with, as `docker compose` reads them: the
 * `--env-file` files in order (a later one wins), or else the project directory's `.env` when there
 * is one; variables set in the environment win over both. Returns the files read too.
 */
export function readVariables(envFiles: readonly string[], projectDir: string, environment: NodeJS.ProcessEnv, cwd: string = process.cwd()): { env: NodeJS.ProcessEnv; read: string[] } {
    const files = envFiles.length ? [...envFiles] : [path.join(projectDir, ".env")].filter((f) => fs.existsSync(f) && fs.statSync(f).isFile());
    const fromFiles: Record<string, string> = {};
    for (const f of files) {
        let text: string;
        try {
            text = fs.readFileSync(f, "utf8");
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            throw new ComposeFileError(`--env-file ${shown(f, cwd)}: ${code === "ENOENT" ? "no such file" : `cannot be read (${code})`}`);
        }
        Object.assign(fromFiles, dotenv.parse(text));
    }
    const env: NodeJS.ProcessEnv = { ...fromFiles };
    for (const [k, v] of Object.entries(environment)) if (v !== undefined) env[k] = v;
    return { env, read: files };
}

// --- Variables -------------------------------------------------------------------------------

const NAME = /^[_A-Za-z][_A-Za-z0-9]*/;

/** A variable a value uses: unset and taken as empty, or required (`${X:?msg}`) and unset. */
interface VariableUse {
    readonly name: string;
    readonly required?: string;
}

/**
 * The variables a Compose value would read unset, interpolated as Compose does: `$$` is a literal
 * `$`; `${X:-d}` / `${X-d}` use d when X is unset (or empty, with `:`), and a default's own
 * variables count only then; `${X:+a}` / `${X+a}` read a only when X is set; `${X:?e}` / `${X?e}` are required.
 */
export function unsetIn(value: string, env: NodeJS.ProcessEnv): VariableUse[] {
    const out: VariableUse[] = [];
    const isSet = (n: string) => env[n] !== undefined;
    const nonEmpty = (n: string) => env[n] !== undefined && env[n] !== "";
    for (let i = 0; i < value.length; i++) {
        if (value[i] !== "$") continue;
        const next = value[i + 1];
        if (next === "$") {
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
            if (depth > 0) return out; // Unclosed: the loader says so.
            const inner = value.slice(i + 2, j - 1);
            i = j - 1;
            const name = NAME.exec(inner)?.[0];
            if (!name) continue;
            const rest = inner.slice(name.length);
            const op = /^(:?[-+?])?/.exec(rest)![0];
            const arg = rest.slice(op.length);
            if (op === "" && rest === "") {
                if (!isSet(name)) out.push({ name });
            } else if (op === ":-") {
                if (!nonEmpty(name)) out.push(...unsetIn(arg, env));
            } else if (op === "-") {
                if (!isSet(name)) out.push(...unsetIn(arg, env));
            } else if (op === ":+") {
                if (nonEmpty(name)) out.push(...unsetIn(arg, env));
            } else if (op === "+") {
                if (isSet(name)) out.push(...unsetIn(arg, env));
            } else if (op === ":?") {
                if (!nonEmpty(name)) out.push({ name, required: arg });
            } else if (op === "?") {
                if (!isSet(name)) out.push({ name, required: arg });
            }
            continue;
        }
        const name = NAME.exec(value.slice(i + 1))?.[0];
        if (name) {
            if (!isSet(name)) out.push({ name });
            i += name.length;
        }
    }
    return out;
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
                if (use.required !== undefined) {
                    findings.push({ path: at, severity: "error", why: `the variable ${use.name} is required and not set${use.required ? `: ${use.required}` : ""}` });
                } else if (allowUnset) {
                    findings.push({ path: at, severity: "warning", why: `the variable ${use.name} is not set: imported as empty (--allow-unset)` });
                } else {
                    findings.push({
                        path: at,
                        severity: "error",
                        why: `the variable ${use.name} is not set (Compose would use an empty value); set it, put it in .env or an --env-file, give a default (\${${use.name}:-<value>}), or pass --allow-unset`,
                    });
                }
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

/**
 * Rewrite what the loader of `docker stack config` cannot read, reporting each change with its path:
 * top-level `name:` and services outside the active profiles are left out, long-form `depends_on`
 * becomes the list form, a host IP in a port is an error and the port is left out (Swarm publishes
 * on every node's 0.0.0.0), octal strings in modes become numbers, long-form `env_file` becomes paths.
 */
export function prepareForLoader(input: Obj, profiles: readonly string[], baseDir: string): Prepared {
    const doc: Obj = structuredClone(input);
    const findings: Finding[] = [];
    const ports: PortIndex = {};
    let changed = false;
    const warn = (p: string, why: string) => findings.push({ path: p, severity: "warning", why });
    const error = (p: string, why: string) => findings.push({ path: p, severity: "error", why });

    if (doc.name !== undefined) {
        warn("(top level).name", `the Compose project name ${JSON.stringify(doc.name)} is not used: Docker objects are named <prefix>-<name>, with the --stack name as prefix`);
        delete doc.name;
        changed = true;
    }
    const services: Obj = doc.services && typeof doc.services === "object" ? doc.services : {};
    const dropped = new Set<string>();
    for (const [name, s] of Object.entries<any>(services)) {
        if (!s || typeof s !== "object" || !Array.isArray(s.profiles)) continue;
        const active = s.profiles.filter((p: unknown) => profiles.includes(String(p)));
        if (active.length === 0) {
            warn(`services.${name}.profiles`, `not imported: docker compose starts it only with ${s.profiles.map((p: unknown) => `--profile ${p}`).join(" or ")} (pass the same to import it)`);
            delete services[name];
            dropped.add(name);
        } else delete s.profiles;
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
        // depends_on: the loader reads the list form only; Swarm starts services in any order either way.
        if (s.depends_on && typeof s.depends_on === "object" && !Array.isArray(s.depends_on)) {
            for (const [dep, opt] of Object.entries<any>(s.depends_on)) {
                const dbase = `${base}.depends_on.${dep}`;
                if (opt?.condition !== undefined && opt.condition !== "service_started") {
                    warn(`${dbase}.condition`, `${opt.condition} is not waited for: Swarm starts services in any order, so ${name} must retry until ${dep} is ready`);
                }
                if (opt?.restart === true) warn(`${dbase}.restart`, `Swarm does not restart ${name} when ${dep} restarts`);
            }
            s.depends_on = Object.keys(s.depends_on);
            changed = true;
        }
        if (Array.isArray(s.depends_on) && s.depends_on.some((d: unknown) => dropped.has(String(d)))) {
            s.depends_on = s.depends_on.filter((d: unknown) => !dropped.has(String(d)));
            changed = true;
        }
        // env_file: the loader reads paths only.
        if (Array.isArray(s.env_file) && s.env_file.some((e: unknown) => e && typeof e === "object")) {
            s.env_file = s.env_file.flatMap((e: any) => {
                if (!e || typeof e !== "object") return [e];
                return e.required === false && !fs.existsSync(path.resolve(baseDir, String(e.path))) ? [] : [e.path];
            });
            changed = true;
        }
        // Modes written as octal strings ("0444"), as docker compose reads them.
        for (const kind of ["secrets", "configs"]) {
            if (!Array.isArray(s[kind])) continue;
            for (const ref of s[kind]) {
                if (ref && typeof ref === "object" && typeof ref.mode === "string" && /^0?[0-7]{1,4}$/.test(ref.mode)) {
                    ref.mode = parseInt(ref.mode, 8);
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
                    const ip = HOST_IP.exec(String(p))?.[1];
                    if (ip !== undefined) {
                        error(pbase, `${JSON.stringify(p)} publishes on ${ip} only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported`);
                        changed = true;
                        return;
                    }
                    for (let k = 0; k < portCount(String(p)); k++) index.push(i);
                    kept.push(p);
                    return;
                }
                if (p && typeof p === "object") {
                    if (p.host_ip !== undefined) {
                        error(`${pbase}.host_ip`, `publishes on ${p.host_ip} only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported`);
                        changed = true;
                        return;
                    }
                    if (typeof p.published === "string" && /^\d+$/.test(p.published)) {
                        p.published = Number(p.published);
                        changed = true;
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

/** A finding's path in the user's own port indices (the loader expands port ranges). */
export function userPath(p: string, ports: PortIndex): string {
    const m = /^services\.([^.[]+)\.ports\[(\d+)\](.*)$/.exec(p);
    const user = m ? ports[m[1]]?.[Number(m[2])] : undefined;
    return m && user !== undefined ? `services.${m[1]}.ports[${user}]${m[3]}` : p;
}
