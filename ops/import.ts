// `dockyard import`: Compose file(s) → stacks/Pulumi.<stack>.yaml, through Docker's own loader.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { ConfigError, parseEnvironment } from "../config/parse";
import { ComposeImport, ENV_MARKER, Finding, SecretSource, mapCompose } from "./compose";

export interface NormalisedCompose {
    /** The merged, interpolated document `docker stack config` prints. */
    readonly doc: Record<string, any>;
    /** The directory relative paths were resolved against (the first file's). */
    readonly composeDir: string;
    /** What Docker's loader said on stderr (unset variables...). */
    readonly notes: readonly string[];
}

/**
 * `environment:` on top-level secrets and configs becomes `file: __dockyard_env__/<VAR>`, which
 * Docker's loader accepts; the mapping reads it back. Returns undefined when nothing changed.
 */
export function markEnvironmentSources(doc: any): any | undefined {
    let changed = false;
    for (const kind of ["secrets", "configs"]) {
        for (const def of Object.values<any>(doc?.[kind] ?? {})) {
            if (def && typeof def === "object" && typeof def.environment === "string") {
                def.file = `${ENV_MARKER}/${def.environment}`;
                delete def.environment;
                changed = true;
            }
        }
    }
    return changed ? doc : undefined;
}

/** Merge and interpolate Compose files with `docker stack config` (client-side, no engine needed). */
export function normaliseCompose(files: readonly string[], env: NodeJS.ProcessEnv = process.env): NormalisedCompose {
    if (files.length === 0) throw new Error("import: name a Compose file");
    const composeDir = path.dirname(path.resolve(files[0]));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-import-"));
    try {
        const args = ["stack", "config"];
        let stdin: string | undefined;
        files.forEach((file, i) => {
            const text = fs.readFileSync(file, "utf8");
            const marked = markEnvironmentSources(yaml.load(text));
            if (!marked) args.push("-c", path.resolve(file));
            else if (i === 0) {
                // Docker resolves relative paths against the first file's directory, or the working
                // directory when it comes on stdin: run there, so the paths mean the same.
                stdin = yaml.dump(marked);
                args.push("-c", "-");
            } else {
                const copy = path.join(tmp, `${i}-${path.basename(file)}`);
                fs.writeFileSync(copy, yaml.dump(marked));
                args.push("-c", copy);
            }
        });
        const r = spawnSync("docker", args, { cwd: composeDir, env, input: stdin, encoding: "utf8", timeout: 60_000 });
        if (r.error) throw new Error(`import: cannot run \`docker stack config\` (the Docker CLI normalises Compose files): ${r.error.message}`);
        if (r.status !== 0) throw new Error(`import: Docker's Compose loader refused the file(s):\n${(r.stderr || r.stdout).trim()}`);
        const notes = r.stderr.split("\n").map((l) => l.trim()).filter(Boolean);
        return { doc: yaml.load(r.stdout) as Record<string, any>, composeDir, notes };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/** The exact command that sets a secret's config key from its source. */
export function secretCommand(s: SecretSource, stack: string, cwd: string): string {
    const set = `npm run pulumi -- config set --secret ${s.key} --stack ${stack}`;
    return "file" in s.from ? `${set} < ${shellQuote(path.relative(cwd, s.from.file) || s.from.file)}` : `printf '%s' "$${s.from.env}" | ${set}`;
}

function shellQuote(s: string): string {
    return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** The stack file: the findings as comments on top, then the environment. */
export function renderStackFile(result: ComposeImport, sources: readonly string[]): string {
    const lines = [
        `# Imported from ${sources.join(" + ")} by \`dockyard import\`.`,
        "# Swarm's own rollout defaults are written in `defaults`, so nothing changes on import; delete them",
        "# for Dockyard's start-first updates that roll back on failure.",
    ];
    if (result.findings.length) {
        lines.push("# Not imported, or imported with a difference:");
        for (const f of result.findings) lines.push(`#   ${f.severity === "error" ? "UNSUPPORTED" : "warning"} ${f.path}: ${f.why}`);
    }
    const secretKeys = result.secrets.map((s) => s.key);
    if (secretKeys.length) lines.push(`# Secret config keys to set: ${secretKeys.join(", ")}`);
    return `${lines.join("\n")}\n${yaml.dump({ config: { "dockyard:environment": result.environment } }, { lineWidth: 120, noRefs: true })}`;
}

export interface ImportOptions {
    readonly files: readonly string[];
    readonly stack: string;
    readonly projectDir: string;
    /** Where to write the stack file. @default <projectDir>/stacks/Pulumi.<stack>.yaml */
    readonly out?: string;
    readonly allowUnsupported?: boolean;
    readonly force?: boolean;
    /** Set the secret config keys through the Pulumi CLI from their files or variables. */
    readonly setSecrets?: boolean;
    readonly env?: NodeJS.ProcessEnv;
    readonly log?: (line: string) => void;
}

export interface ImportOutcome {
    readonly file?: string;
    readonly result: ComposeImport;
    readonly exitCode: number;
}

function findingLine(f: Finding): string {
    return `${f.severity === "error" ? "unsupported" : "warning"}: ${f.path}: ${f.why}`;
}

/** Import Compose files into a stack file; writes nothing when the import fails. */
export function importCompose(o: ImportOptions): ImportOutcome {
    const log = o.log ?? ((l: string) => console.log(l));
    const env = o.env ?? process.env;
    const out = path.resolve(o.out ?? path.join(o.projectDir, "stacks", `Pulumi.${o.stack}.yaml`));
    if (fs.existsSync(out) && !o.force) throw new Error(`import: ${path.relative(process.cwd(), out)} exists; pass --force to overwrite it`);
    const norm = normaliseCompose(o.files, env);
    const result = mapCompose(norm.doc, {
        projectDir: o.projectDir,
        composeDir: norm.composeDir,
        stack: o.stack,
        readFile: (f) => fs.readFileSync(f, "utf8"),
        env,
    });
    const findings = [...result.findings];
    for (const note of norm.notes) findings.push({ path: "(loader)", severity: "warning", why: note });
    // Build contexts must exist, or the first deploy fails.
    for (const [name, img] of Object.entries<any>(result.environment.images)) {
        if (!fs.existsSync(path.resolve(o.projectDir, img.context))) {
            findings.push({ path: `services.${name}.build.context`, severity: "error", why: `the directory ${img.context} does not exist` });
        }
    }
    for (const s of result.secrets) {
        if ("file" in s.from && !fs.existsSync(s.from.file)) findings.push({ path: `secrets.${s.secret}.file`, severity: "error", why: `the file ${s.from.file} does not exist` });
        else if ("file" in s.from && fs.readFileSync(s.from.file, "utf8").endsWith("\n")) {
            findings.push({ path: `secrets.${s.secret}.file`, severity: "warning", why: "ends with a newline, which Docker keeps in the secret and `pulumi config set` trims" });
        }
        if ("env" in s.from && o.setSecrets && env[s.from.env] === undefined) findings.push({ path: `secrets.${s.secret}.environment`, severity: "error", why: `the variable ${s.from.env} is not set` });
    }
    for (const f of findings) log(findingLine(f));
    const final: ComposeImport = { ...result, findings };
    // The stack must be one Dockyard accepts (its secret keys are set afterwards, as secrets).
    try {
        const keys = new Set(result.secrets.map((s) => s.key));
        parseEnvironment(JSON.parse(JSON.stringify(result.environment)), {
            keys: { isSecret: (k) => (keys.has(k) ? true : undefined) },
            projectDir: o.projectDir,
        });
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        for (const p of e.problems) log(`invalid: ${p}`);
        log(`import: the imported stack would not be valid (${e.problems.length} problem${e.problems.length === 1 ? "" : "s"}); nothing written`);
        return { result: final, exitCode: 1 };
    }
    const errors = findings.filter((f) => f.severity === "error");
    if (errors.length && !o.allowUnsupported) {
        log(`import: ${errors.length} setting${errors.length === 1 ? "" : "s"} cannot be imported without changing behaviour (listed above); nothing written. Pass --allow-unsupported to import without them.`);
        return { result: final, exitCode: 1 };
    }
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, renderStackFile(final, o.files.map((f) => path.basename(f))));
    log(`import: wrote ${path.relative(process.cwd(), out) || out}`);
    if (result.secrets.length === 0) return { file: out, result: final, exitCode: 0 };
    if (!o.setSecrets) {
        log("Set the secrets (their values never go into the stack file):");
        for (const s of result.secrets) log(`  ${secretCommand(s, o.stack, process.cwd())}`);
        return { file: out, result: final, exitCode: 0 };
    }
    setSecrets(result.secrets, o.stack, o.projectDir, env, log);
    return { file: out, result: final, exitCode: 0 };
}

function pulumi(args: string[], cwd: string, env: NodeJS.ProcessEnv, input?: string): { status: number; stderr: string } {
    const r = spawnSync("pulumi", [...args, "--non-interactive"], { cwd, env, input, encoding: "utf8", timeout: 120_000 });
    if (r.error) throw new Error(`import: cannot run pulumi: ${r.error.message}`);
    return { status: r.status ?? 1, stderr: r.stderr };
}

/** Create the stack if needed and set each secret config key from its file or variable. */
export function setSecrets(secrets: readonly SecretSource[], stack: string, projectDir: string, env: NodeJS.ProcessEnv, log: (l: string) => void): void {
    if (pulumi(["stack", "select", stack], projectDir, env).status !== 0) {
        const init = pulumi(["stack", "init", stack], projectDir, env);
        if (init.status !== 0) throw new Error(`import: pulumi stack init ${stack} failed:\n${init.stderr.trim()}`);
    }
    for (const s of secrets) {
        const value = "file" in s.from ? fs.readFileSync(s.from.file, "utf8") : env[s.from.env]!;
        const r = pulumi(["config", "set", "--secret", s.key, "--stack", stack], projectDir, env, value);
        if (r.status !== 0) throw new Error(`import: setting the secret config key ${s.key} failed:\n${r.stderr.trim()}`);
        log(`import: set secret config key ${s.key} (from ${"file" in s.from ? path.basename(s.from.file) : `$${s.from.env}`})`);
    }
}
