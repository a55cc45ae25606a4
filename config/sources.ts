// Secret sources: where each secret's value comes from (a secret config key, an environment
// variable, a file or a command), read when the program starts, at every preview and deploy, before
// any resource is registered. Values never leave this module unwrapped: the loader marks them secret.
import { RunError } from "@pulumi/pulumi";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DEFAULT_COMMAND_TIMEOUT, SecretConfig, durationMs } from "./schema";

/** A validated secret source, one kind at a time. */
export type SecretSource =
    | { readonly kind: "config"; readonly key: string }
    | { readonly kind: "env"; readonly name: string }
    | { readonly kind: "file"; readonly path: string }
    | { readonly kind: "command"; readonly argv: readonly string[]; readonly trim: boolean; readonly timeout: string };

/** The source of a validated stack-file secret (`fromConfig` is the older spelling of `config`). */
export function sourceOf(s: SecretConfig): SecretSource {
    if (s.env !== undefined) return { kind: "env", name: s.env };
    if (s.file !== undefined) return { kind: "file", path: s.file };
    if (s.command !== undefined) return { kind: "command", argv: s.command, trim: s.trim ?? false, timeout: s.timeout ?? DEFAULT_COMMAND_TIMEOUT };
    return { kind: "config", key: (s.config ?? s.fromConfig)! };
}

/** The source as errors and logs name it (never its value): `env APP_TOKEN`, `command ["op","read",...]`. */
export function describeSource(s: SecretSource): string {
    switch (s.kind) {
        case "config": return `config key ${s.key}`;
        case "env": return `env ${s.name}`;
        case "file": return `file ${s.path}`;
        case "command": return `command ${JSON.stringify(s.argv)}`;
    }
}

/** Sources that failed, one line each (plus a command's first stderr lines): a RunError, shown without a stack trace. */
export class SecretSourceError extends RunError {
    constructor(public readonly problems: readonly string[]) {
        super(`${problems.join("\n")}\nnothing was changed: every secret is read before any resource is touched`);
        this.name = "SecretSourceError";
    }
}

/** How many of a failed command's stderr lines are shown. */
const STDERR_LINES = 5;

/** What a failed command wrote to stderr, indented under the error's line; never its stdout. */
function stderrLines(stderr: string): string {
    const lines = stderr.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
    if (lines.length === 0) return "; it wrote nothing to stderr";
    const shown = lines.slice(0, STDERR_LINES).map((l) => `\n    ${l}`).join("");
    return `; its stderr:${shown}${lines.length > STDERR_LINES ? `\n    (${lines.length - STDERR_LINES} more lines)` : ""}`;
}

/** The reason in a Node file error (`ENOENT: no such file or directory, open '/x'` → `no such file or directory`). */
function reasonOf(e: NodeJS.ErrnoException): string {
    return /^[A-Z]+: ([^,]+)/.exec(e.message)?.[1] ?? e.message;
}

/** Read one source's value now; throws an Error saying why it cannot (not naming the secret). */
export function readSource(s: ReadSource, opts: { projectDir: string; env?: NodeJS.ProcessEnv }): string {
    const what = describeSource(s);
    let value: string;
    if (s.kind === "env") {
        const v = (opts.env ?? process.env)[s.name];
        if (v === undefined) throw new Error(`${what} is not set`);
        value = v;
    } else if (s.kind === "file") {
        try {
            value = fs.readFileSync(path.resolve(opts.projectDir, s.path), "utf8");
        } catch (e) {
            throw new Error(`${what} cannot be read: ${reasonOf(e as NodeJS.ErrnoException)}`);
        }
    } else {
        const [program, ...args] = s.argv;
        const r = spawnSync(program, args, {
            cwd: opts.projectDir, env: opts.env ?? process.env, encoding: "utf8", shell: false,
            stdio: ["ignore", "pipe", "pipe"], timeout: durationMs(s.timeout), killSignal: "SIGKILL", maxBuffer: 1024 * 1024,
        });
        const err = r.error as NodeJS.ErrnoException | undefined;
        if (err?.code === "ETIMEDOUT") throw new Error(`${what} did not finish within ${s.timeout} and was stopped`);
        if (err?.code === "ENOENT") throw new Error(`${what} could not start: ${program} was not found`);
        if (err?.code === "ENOBUFS") throw new Error(`${what} printed more than 1 MiB and was stopped`);
        if (err) throw new Error(`${what} could not run: ${reasonOf(err)}`);
        if (r.signal) throw new Error(`${what} was killed by ${r.signal}${stderrLines(r.stderr)}`);
        if (r.status !== 0) throw new Error(`${what} exited with code ${r.status}${stderrLines(r.stderr)}`);
        value = s.trim ? r.stdout.trim() : r.stdout;
    }
    if (value === "") throw new Error(`${what} is empty`);
    return value;
}

/** A source that is read from the environment, a file or a command (not Pulumi config). */
export type ReadSource = Exclude<SecretSource, { kind: "config" }>;

/**
 * Read the source of every secret that is not a config key, now. Returns each source's value, or
 * throws a SecretSourceError naming each secret that failed and its source.
 */
export function readSources(secrets: Readonly<Record<string, SecretConfig>>, opts: { projectDir: string; env?: NodeJS.ProcessEnv }): (source: ReadSource) => string {
    const values = new Map<string, string>();
    const problems: string[] = [];
    for (const [name, config] of Object.entries(secrets)) {
        const source = sourceOf(config);
        if (source.kind === "config" || values.has(JSON.stringify(source))) continue;
        try {
            values.set(JSON.stringify(source), readSource(source, opts));
        } catch (e) {
            problems.push(`secret ${name}: ${(e as Error).message}`);
        }
    }
    if (problems.length) throw new SecretSourceError(problems);
    return (source) => values.get(JSON.stringify(source)) ?? readSource(source, opts);
}
