// `dockyard import`: Compose file(s) → stacks/Pulumi.<stack>.yaml, through Docker's own loader.
import { spawnSync } from "child_process";
import * as fs from "fs";
import { dockerSocketIn } from "@dockyard/components";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { ConfigError, parseEnvironment } from "../config/parse";
import { environmentSchema } from "../config/schema";
import { ComposeImport, ENV_MARKER, Finding, SecretSource, mapCompose } from "./compose";
import { ComposeFileError, Located, PortIndex, dumpCompose, droppedPorts, loaderFindings, mergedPortIndex, portPlaces, prepareProject, readComposeFile, readVariables, unsetVariables, userPath, volumeIndex } from "./compose-source";

export interface NormalisedCompose {
    /** The merged, interpolated document `docker stack config` prints; undefined when it refused the files. */
    readonly doc?: Record<string, any>;
    /** The directory relative paths were resolved against (the first file's). */
    readonly composeDir: string;
    /** What was found before the loader (unset variables, rewritten syntax) and what the loader said. */
    readonly findings: readonly Finding[];
    /** The user's port entries, for the loader's (which expands ranges, and sorts merged ones), by service. */
    readonly ports: Located;
    /** The user's volume entries, for the loader's (which sorts merged ones), by service. */
    readonly volumes: Located;
}

export interface NormaliseOptions {
    /** Compose profiles to import the services of (`--profile`; `*` for all). @default none: services with profiles are left out */
    readonly profiles?: readonly string[];
    /** Unset variables are warnings, imported as empty, and environment entries without a value whose variable is unset are left out (`--allow-unset`). @default false: both are errors */
    readonly allowUnset?: boolean;
    /** Where file names in messages are relative to. @default the working directory */
    readonly cwd?: string;
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

/**
 * Merge and interpolate Compose files with `docker stack config` (client-side, no engine needed),
 * after checking them for unset variables and rewriting what its loader cannot read. Throws a
 * ComposeFileError (one line naming the file) for a file that is missing or not YAML.
 */
export function normaliseCompose(files: readonly string[], env: NodeJS.ProcessEnv = process.env, opts: NormaliseOptions = {}): NormalisedCompose {
    if (files.length === 0) throw new ComposeFileError("import: name a Compose file");
    const composeDir = path.dirname(path.resolve(files[0]));
    const docs = files.map((f) => readComposeFile(f, opts.cwd));
    const findings: Finding[] = [];
    const ports: PortIndex = {};
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-import-"));
    try {
        const args = ["stack", "config"];
        let stdin: string | undefined;
        const project = prepareProject(docs, { profiles: opts.profiles, baseDir: composeDir, env });
        files.forEach((file, i) => {
            const prepared = project[i];
            // Only what is imported is checked: not the services of profiles left out.
            findings.push(...unsetVariables(prepared.doc, env, opts.allowUnset === true));
            findings.push(...prepared.findings);
            Object.assign(ports, prepared.ports);
            const marked = markEnvironmentSources(prepared.doc);
            if (!marked && !prepared.changed) args.push("-c", path.resolve(file));
            else if (i === 0) {
                // Docker resolves relative paths against the first file's directory, or the working
                // directory when it comes on stdin: run there, so the paths mean the same.
                stdin = dumpCompose(prepared.doc);
                args.push("-c", "-");
            } else {
                const copy = path.join(tmp, `${i}-${path.basename(file)}`);
                fs.writeFileSync(copy, dumpCompose(prepared.doc));
                args.push("-c", copy);
            }
        });
        const r = spawnSync("docker", args, { cwd: composeDir, env, input: stdin, encoding: "utf8", timeout: 60_000 });
        if (r.error) throw new ComposeFileError(`import: cannot run \`docker stack config\` (the Docker CLI normalises Compose files): ${r.error.message}`);
        const failed = r.status !== 0;
        // What was found already is not repeated from the loader (a required variable, say).
        const known = new Set(findings.filter((f) => f.severity === "error").map((f) => f.path));
        findings.push(...loaderFindings(r.stderr || (failed ? r.stdout : ""), failed).filter((f) => !known.has(f.path)));
        if (failed && !findings.some((f) => f.severity === "error")) {
            findings.push({ path: "(Compose loader)", severity: "error", why: `docker stack config failed (exit ${r.status}) without saying why` });
        }
        const doc = failed ? undefined : (yaml.load(r.stdout) as Record<string, any>);
        const prepared = project.map((p) => p.doc);
        const names = files.map((f) => path.basename(f));
        const volumes = doc ? volumeIndex(prepared, names, doc, env) : {};
        // Ports of one file follow its expansion of ranges; ports merged from several files, the loader's merge.
        const merged = doc ? mergedPortIndex(prepared, names, doc, env) : {};
        findings.push(...droppedPorts(prepared, names, env));
        return { doc, composeDir, findings, ports: { ...portPlaces(ports), ...merged }, volumes };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/**
 * The exact command that sets a secret's config key from its source, to run in `cwd`: file names
 * are relative to it, and npm is pointed at the project when `cwd` is outside it.
 */
export function secretCommand(s: SecretSource, stack: string, cwd: string, projectDir: string = cwd): string {
    const inside = path.relative(projectDir, cwd);
    // npm finds the project from any directory inside it.
    const npm = inside === "" || !(inside.startsWith("..") || path.isAbsolute(inside)) ? "npm" : `npm --prefix ${shellQuote(path.relative(cwd, projectDir))}`;
    const set = `${npm} run pulumi -- config set --secret ${s.key} --stack ${stack}`;
    return `${set} < ${shellQuote(path.relative(cwd, s.from.file) || s.from.file)}`;
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
    /** Import unset variables as empty values (with a warning each). @default false: an unset variable stops the import */
    readonly allowUnset?: boolean;
    /** Files of variables to interpolate with, in order (a later one wins). @default the first Compose file's directory's .env, if any */
    readonly envFiles?: readonly string[];
    /** Compose profiles whose services are imported. @default none: services with profiles are left out, as `docker compose up` does */
    readonly profiles?: readonly string[];
    readonly force?: boolean;
    /** Set the secret config keys through the Pulumi CLI from their files or variables. */
    readonly setSecrets?: boolean;
    readonly env?: NodeJS.ProcessEnv;
    /** The caller's directory: file names in messages and printed commands are relative to it. @default the working directory */
    readonly cwd?: string;
    readonly log?: (line: string) => void;
}

export interface ImportOutcome {
    readonly file?: string;
    /** The mapping, when Docker's loader read the files. */
    readonly result?: ComposeImport;
    readonly exitCode: number;
}

function findingLine(f: Finding): string {
    return `${f.severity === "error" ? "unsupported" : "warning"}: ${f.path}: ${f.why}`;
}

/** The stack's problems by Dockyard's own validation (the one `deploy` runs), or none. */
function problemsOf(environment: Record<string, any>, secretKeys: ReadonlySet<string>, projectDir: string): readonly string[] {
    try {
        parseEnvironment(JSON.parse(JSON.stringify(environment)), { keys: { isSecret: (k) => (secretKeys.has(k) ? true : undefined) }, projectDir });
        return [];
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
}

/**
 * The mounts Dockyard's validation refuses as the Docker socket unless the service allows it:
 * those whose problem goes away when the service sets allowDockerSocket (the rule stays the library's).
 */
function dockerSocketMounts(environment: Record<string, any>, secretKeys: ReadonlySet<string>, projectDir: string): Array<{ service: string; mount: { hostPath: string; target: string } }> {
    const probe = structuredClone(environment);
    for (const s of Object.values<any>(probe.services ?? {})) if ((s.mounts ?? []).some((m: any) => m.hostPath !== undefined)) s.allowDockerSocket = true;
    const after = new Set(problemsOf(probe, secretKeys, projectDir));
    return problemsOf(environment, secretKeys, projectDir).filter((p) => !after.has(p)).flatMap((p) => {
        const m = /^services\.(.+)\.mounts\[(\d+)\]\.hostPath:/.exec(p);
        return m ? [{ service: m[1], mount: environment.services[m[1]].mounts[Number(m[2])] }] : [];
    });
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Import Compose files into a stack file; writes nothing when the import fails. */
export function importCompose(o: ImportOptions): ImportOutcome {
    const log = o.log ?? ((l: string) => console.log(l));
    const cwd = o.cwd ?? process.cwd();
    const shown = (f: string) => path.relative(cwd, f) || f;
    // The stack name is the Docker object prefix: the schema's rule for it.
    const prefix = environmentSchema.shape.prefix.safeParse(o.stack);
    if (!prefix.success) throw new ComposeFileError(`import: --stack ${JSON.stringify(o.stack)}: ${prefix.error.issues[0].message} (it prefixes every Docker object's name)`);
    const out = path.resolve(o.out ?? path.join(o.projectDir, "stacks", `Pulumi.${o.stack}.yaml`));
    if (fs.existsSync(out) && !o.force) throw new ComposeFileError(`import: ${shown(out)} exists; pass --force to overwrite it`);
    if (o.files.length === 0) throw new ComposeFileError("import: name a Compose file");
    const vars = readVariables(o.envFiles ?? [], path.dirname(path.resolve(o.files[0])), o.env ?? process.env, cwd, o.allowUnset === true);
    for (const f of vars.read) log(`import: variables from ${shown(f)}`);
    const env = vars.env;
    // As docker compose: --profile, else COMPOSE_PROFILES (from the environment or the variable files).
    const profiles = o.profiles?.length ? o.profiles : (env.COMPOSE_PROFILES ?? "").split(",").map((p) => p.trim()).filter(Boolean);
    const norm = normaliseCompose(o.files, env, { profiles, allowUnset: o.allowUnset, cwd });
    // What the variable files read, then what the Compose files do.
    const found = [...vars.findings, ...norm.findings];
    const unset = found.filter((f) => f.severity === "error" && /^the variable /.test(f.why));
    if (!norm.doc) {
        for (const f of found) log(findingLine(f));
        log(`import: Docker's Compose loader (docker stack config) cannot read the file${o.files.length === 1 ? "" : "s"} (listed above); nothing written`);
        return { exitCode: 1 };
    }
    const result = mapCompose(norm.doc, {
        projectDir: o.projectDir,
        composeDir: norm.composeDir,
        stack: o.stack,
        readFile: (f) => fs.readFileSync(f, "utf8"),
        env,
        allowUnset: o.allowUnset === true,
    });
    const environment = result.environment;
    const findings: Finding[] = [...found];
    const seen = new Set(findings.map((f) => JSON.stringify(f)));
    for (const f of result.findings) {
        // In the user's own port indices; a range the loader expanded reports once.
        const mapped = { ...f, path: userPath(f.path, norm.ports, norm.volumes) };
        if (!seen.has(JSON.stringify(mapped))) findings.push(mapped);
        seen.add(JSON.stringify(mapped));
    }
    const secretKeys = new Set(result.secrets.map((s) => s.key));
    // The Docker socket: Dockyard refuses it unless the service allows it, in the stack and its policy.
    for (const { service, mount: { hostPath, target } } of dockerSocketMounts(environment, secretKeys, o.projectDir)) {
        // The mount's own entry: the mapping keeps each entry's target (unique in the loader's list,
        // which merges by target), where a source may be mounted twice.
        const i = (norm.doc.services[service].volumes ?? []).findIndex((v: any) => v.target === target);
        findings.push({
            path: userPath(`services.${service}.volumes[${i}]`, norm.ports, norm.volumes),
            severity: "error",
            why: `mounts ${hostPath}, which ${dockerSocketIn(hostPath)}: that gives root on the node; ${o.allowUnsupported ? "written with" : "--allow-unsupported writes"} allowDockerSocket: true and policy.allowDockerSocket for ${service}`,
        });
        if (o.allowUnsupported) {
            environment.services[service].allowDockerSocket = true;
            environment.policy = { ...environment.policy, allowDockerSocket: [...(environment.policy?.allowDockerSocket ?? []), service] };
        }
    }
    // Build contexts must exist, or the first deploy fails.
    for (const [name, img] of Object.entries<any>(environment.images)) {
        if (!fs.existsSync(path.resolve(o.projectDir, img.context))) {
            findings.push({ path: `services.${name}.build.context`, severity: "error", why: `the directory ${img.context} does not exist` });
        }
    }
    for (const s of result.secrets) {
        if (!fs.existsSync(s.from.file)) findings.push({ path: `secrets.${s.secret}.file`, severity: "error", why: `the file ${s.from.file} does not exist` });
        else if (fs.readFileSync(s.from.file, "utf8").endsWith("\n")) {
            findings.push({ path: `secrets.${s.secret}.file`, severity: "warning", why: "ends with a newline, which Docker keeps in the secret and `pulumi config set` trims" });
        }
    }
    for (const f of findings) log(findingLine(f));
    const final: ComposeImport = { ...result, environment, findings };
    if (unset.length) {
        log(`import: ${plural(unset.length, "value reads an unset variable", "values read unset variables")} (listed above); nothing written. Set ${unset.length === 1 ? "it" : "them"}, or pass --allow-unset to import ${unset.length === 1 ? "it" : "them"} as empty.`);
        return { result: final, exitCode: 1 };
    }
    const errors = findings.filter((f) => f.severity === "error");
    if (errors.length && !o.allowUnsupported) {
        log(`import: ${plural(errors.length, "setting")} cannot be imported without changing behaviour (listed above); nothing written. Pass --allow-unsupported to import without them.`);
        return { result: final, exitCode: 1 };
    }
    // The stack must be one Dockyard accepts (its secret keys are set afterwards, as secrets).
    const problems = problemsOf(environment, secretKeys, o.projectDir);
    if (problems.length) {
        for (const p of problems) log(`invalid: ${p}`);
        log(`import: the imported stack would not be valid (${plural(problems.length, "problem")}); nothing written`);
        return { result: final, exitCode: 1 };
    }
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, renderStackFile(final, o.files.map((f) => path.basename(f))));
    log(`import: wrote ${shown(out)}`);
    if (result.secrets.length === 0) return { file: out, result: final, exitCode: 0 };
    if (!o.setSecrets) {
        log("Set the secrets (their values never go into the stack file):");
        for (const s of result.secrets) log(`  ${secretCommand(s, o.stack, cwd, o.projectDir)}`);
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

/** Create the stack if needed and set each secret config key from its file. */
export function setSecrets(secrets: readonly SecretSource[], stack: string, projectDir: string, env: NodeJS.ProcessEnv, log: (l: string) => void): void {
    if (pulumi(["stack", "select", stack], projectDir, env).status !== 0) {
        const init = pulumi(["stack", "init", stack], projectDir, env);
        if (init.status !== 0) throw new Error(`import: pulumi stack init ${stack} failed:\n${init.stderr.trim()}`);
    }
    for (const s of secrets) {
        const value = fs.readFileSync(s.from.file, "utf8");
        const r = pulumi(["config", "set", "--secret", s.key, "--stack", stack], projectDir, env, value);
        if (r.status !== 0) throw new Error(`import: setting the secret config key ${s.key} failed:\n${r.stderr.trim()}`);
        log(`import: set secret config key ${s.key} (from ${path.basename(s.from.file)})`);
    }
}
