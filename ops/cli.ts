// dockyard review | deploy | releases | rollback: review and release tooling over the Automation API.
// Run through `npm run <command> -- <stack> [options]`, which puts the set-up's Pulumi CLI on PATH.
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { ENVIRONMENT_KEY, PINS_KEY as PINS_CONFIG_KEY } from "../config/load";
import { importCompose } from "./import";
import { environmentSchema } from "../config/schema";
import { BackupEnvironment, backupDir, backupVolume, backupsOfRelease, backupsText, findBackup, listBackups, plannedVolumes, restoreVolume, verifyBackup } from "./backup";
import { gcTarget, runGc } from "./gc-run";
import { DEPLOY_PARALLELISM } from "./parallelism";
import { violationsFrom, writePackConfig } from "./policy";
import { renderMarkdown, review, PreviewJson } from "./report";
import {
    Lock, Release, appendRelease, describeChanges, failureSummary, isInterrupted, lockStack, readReleases, rollbackHistory, rollbackSecretsNote, rollbackTarget, stateDir,
} from "./releases";

export const PROJECT_DIR = path.resolve(__dirname, "..");
// Stack config keys, as the CLI names them (`<project>:<key>`).
const ENV_KEY = `dockyard:${ENVIRONMENT_KEY}`;
const PINS_KEY = `dockyard:${PINS_CONFIG_KEY}`;

const HELP = `Usage: dockyard <command> <stack> [options]
       dockyard import <compose.yaml> [-f <override.yaml> ...] --stack <name> [options]

Commands:
  review <stack>     Preview the stack and write a review (Markdown + JSON) for a pull request.
                     Exit codes: 0 no changes, 1 error, 2 changes, 3 dangerous changes or a
                     mandatory policy violation.
      --out <dir>      where to write review-<stack>.md and .json (default .dockyard/reviews)
      --save-plan      also save the update plan, so \`deploy --plan\` applies exactly this review
  deploy <stack>     pulumi up, then record the release (number, time, git sha, images, config).
      --plan <file>    apply exactly the reviewed plan; refused if the stack or code changed since
  policy <stack>     Write the stack's policy pack config (.dockyard/policy/<stack>.json) for
                     \`pulumi preview --policy-pack policy --policy-pack-config <file>\`.
  review and deploy run the policy pack in policy/ (--no-policy skips it); deploy refuses to start
  when a mandatory rule is violated.
  releases <stack>   List recorded releases: number, time, result, images, what changed.
  rollback <stack>   Return to the last successful release deployed before the one running now,
                     skipping releases that were rolled back from (so a second rollback goes
                     further back). Secret values are the current ones, read now from the
                     sources the release names.
      --to <n>         return to release n instead (a release that was rolled back from needs --yes)
      --yes            apply without showing the preview first, and without asking
      --with-data      also restore the volume backups recorded with that release
  import <file>      Write stacks/Pulumi.<name>.yaml from Compose file(s), normalised by
                     \`docker stack config\`. Lists every setting it cannot map, and fails
                     (writing nothing) on any that would change behaviour.
      -f <file>        a further Compose file merged over the first (repeatable)
      --stack <name>   the stack to write (required)
      --allow-unsupported  write the stack without the settings it cannot map
      --env-file <file>  variables to interpolate with (repeatable, a later file wins); without
                       it, .env beside the first Compose file is read, as docker compose does;
                       variables set in the environment win over both
      --allow-unset    import unset variables as empty values, and leave out environment entries
                       without a value whose variable is unset (otherwise both stop the import)
      --profile <name> also import the services of this Compose profile (repeatable; "*" for
                       all; without it, those of COMPOSE_PROFILES, as docker compose reads it)
      --set-secrets    set the secret config keys from the secrets' files or variables
                       (otherwise the \`pulumi config set --secret\` commands are printed)
      --out <file>     write there instead of stacks/Pulumi.<name>.yaml
      --force          overwrite an existing stack file
  backup <stack> [volume...]
                     Archive volumes (default: those marked \`backup\` in the stack file) to
                     .dockyard/backups/<stack>/ (or backupDir, or $DOCKYARD_BACKUP_DIR), with a
                     manifest: release, volume, size, sha256, time.
  restore <stack> <volume> --from <backup>
                     Put a backup back, with the services that mount the volume stopped and
                     started again; refused when the archive does not match its checksum.
  gc <stack>         Registry hygiene: per image of the stack, keep the newest \`keep\` builds
                     (default 5), every build a successful release references and every one a
                     service runs; delete the rest from the registry (then its garbage
                     collection, with the registry read-only meanwhile) and from every node
                     (this engine and those in $DOCKYARD_NODE_HOSTS). Prints what it frees.
                     \`gc: true\` in the stack file runs it after each successful deploy.
      --dry-run        only show what would go
  --help             this text

Releases and locks live in .dockyard/ (or $DOCKYARD_RELEASES_DIR, e.g. a shared directory when
the stack's backend is shared). Volumes and their data are touched only by backup, restore,
rollback --with-data, and deploy with backupBeforeDeploy (a backup), and only the volumes named or
marked \`backup\`.
`;

class UsageError extends Error {}

/** The parts of a stack's environment backups use; throws when the stack file is invalid. */
function backupEnvironmentOf(raw: unknown): BackupEnvironment {
    const parsed = environmentSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`the stack file is invalid (run \`review\` to see why): ${parsed.error.issues[0]?.message ?? ""}`);
    return parsed.data;
}

/** The release running now: the last one that succeeded (Swarm rolls failed ones back). */
function currentRelease(stackName: string): number | undefined {
    return [...readReleases(PROJECT_DIR, stackName)].reverse().find((r) => r.result === "succeeded")?.number;
}

export async function backupCommand(stackName: string, volumes: string[]): Promise<number> {
    const lock = lockStack(PROJECT_DIR, stackName, "backup");
    try {
        const env = backupEnvironmentOf(await environmentOf(await openStack(stackName)));
        const plans = plannedVolumes(env, volumes);
        if (plans.length === 0) throw new UsageError(`no volume of ${stackName} is marked \`backup\` in the stack file; name the volumes to back up, e.g. \`backup ${stackName} ${Object.keys(env.volumes)[0] ?? "<volume>"}\``);
        const dir = backupDir(PROJECT_DIR, stackName, env);
        for (const plan of plans) await backupVolume(dir, stackName, plan, { release: currentRelease(stackName), reason: "backup" }, (m) => console.log(`dockyard: ${m}`));
        return 0;
    } finally {
        lock.release();
    }
}

/**
 * Registry hygiene for a stack (ops/gc-run.ts), under the stack's lock unless the caller holds it
 * (deploy). Returns the exit code: 0, or 1 when the stack has no registry.
 */
export async function gcCommand(stackName: string, opts: { dryRun?: boolean; stack?: Stack } = {}): Promise<number> {
    const lock = opts.stack ? undefined : lockStack(PROJECT_DIR, stackName, "gc");
    try {
        const stack = opts.stack ?? (await openStack(stackName, lock));
        const parsed = environmentSchema.safeParse(await environmentOf(stack));
        if (!parsed.success) throw new Error(`the stack file is invalid (run \`review\` to see why): ${parsed.error.issues[0]?.message ?? ""}`);
        const target = gcTarget(parsed.data);
        if (!target) throw new UsageError(`${stackName} has no registry: its images stay on the building engine, where each image's \`keep\` prunes them`);
        const reg = parsed.data.registry!;
        const passwordKey = "external" in reg ? reg.external.passwordFromConfig : reg.selfHosted.passwordFromConfig;
        const password = passwordKey === undefined ? undefined : (await stack.getConfig(`dockyard:${passwordKey}`)).value;
        console.log(`dockyard: registry hygiene for ${stackName}${opts.dryRun ? " (dry run: nothing is removed)" : ""}`);
        await runGc(target, readReleases(PROJECT_DIR, stackName), { dryRun: opts.dryRun === true, password, log: (m) => console.log(`dockyard: ${m}`) });
        return 0;
    } finally {
        lock?.release();
    }
}

export async function restoreCommand(stackName: string, volume: string | undefined, from: string | undefined): Promise<number> {
    if (!volume || !from) throw new UsageError(`restore: name the volume and the backup, e.g. \`restore ${stackName} kv-data --from <file>\` (see \`releases ${stackName}\`)`);
    const lock = lockStack(PROJECT_DIR, stackName, "restore");
    try {
        const env = backupEnvironmentOf(await environmentOf(await openStack(stackName)));
        const [plan] = plannedVolumes(env, [volume]);
        const { manifest, archive } = findBackup(backupDir(PROJECT_DIR, stackName, env), from);
        if (manifest.volume !== volume || manifest.stack !== stackName) {
            throw new Error(`backup ${manifest.file} is of volume ${manifest.volume} of stack ${manifest.stack}, not ${volume} of ${stackName}`);
        }
        await restoreVolume(manifest, archive, plan.dockerVolume, { log: (m) => console.log(`dockyard: ${m}`) });
        return 0;
    } finally {
        lock.release();
    }
}

/** With backupBeforeDeploy: back up the marked volumes that exist, as the data of the running release. */
async function backupBeforeDeploy(stackName: string, raw: unknown): Promise<void> {
    const env = backupEnvironmentOf(raw);
    if (!(env as { backupBeforeDeploy?: boolean }).backupBeforeDeploy) return;
    const release = currentRelease(stackName);
    if (release === undefined) return; // nothing deployed yet: no data to keep
    const next = (readReleases(PROJECT_DIR, stackName).at(-1)?.number ?? 0) + 1;
    for (const plan of plannedVolumes(env)) {
        await backupVolume(backupDir(PROJECT_DIR, stackName, env), stackName, plan, { release, reason: `before release ${next}` }, (m) => console.log(`dockyard: ${m}`));
    }
}

/** The policy pack and the stack's pack config, as Automation API options; none with --no-policy. */
function policyOptions(stackName: string, env: unknown, enabled: boolean): { policyPacks?: string[]; policyPackConfigs?: string[] } {
    if (!enabled) return {};
    const config = writePackConfig(path.join(stateDir(PROJECT_DIR), "policy"), stackName, env);
    return { policyPacks: [path.join(PROJECT_DIR, "policy")], policyPackConfigs: [config] };
}

async function openStack(name: string, lock?: Lock): Promise<Stack> {
    const pulumiCommand = await PulumiCommand.get({ skipVersionCheck: true });
    const stack = await LocalWorkspace.selectStack({ stackName: name, workDir: PROJECT_DIR }, { pulumiCommand });
    if (lock?.tookOverFrom) {
        // The deploy that held our lock died, and with it the `pulumi up` it ran: that process's lock
        // on the stack is stale too. Only Dockyard's own lock proves nobody else is deploying.
        const { pid, command, since } = lock.tookOverFrom;
        console.log(`dockyard: the previous \`${command}\` of ${name} (pid ${pid}, since ${since}) died; releasing its Pulumi lock`);
        await stack.cancel().catch(() => undefined);
    }
    return stack;
}

async function environmentOf(stack: Stack): Promise<any> {
    const all = await stack.getAllConfig();
    const raw = all[ENV_KEY]?.value;
    return raw === undefined ? undefined : JSON.parse(raw);
}

function gitSha(): string | undefined {
    try {
        return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: PROJECT_DIR, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return undefined;
    }
}

/** Preview steps from the engine's events, in the shape of `pulumi preview --json`. */
function stepsFrom(events: any[]): PreviewJson {
    const steps = events.filter((e) => e.resourcePreEvent).map((e) => {
        const m = e.resourcePreEvent.metadata;
        return { op: m.op, urn: m.urn, oldState: m.old, newState: m.new, detailedDiff: m.detailedDiff ?? null, diffReasons: m.diffs };
    });
    const diagnostics = events.filter((e) => e.diagnosticEvent).map((e) => ({ urn: e.diagnosticEvent.urn, message: e.diagnosticEvent.message, severity: e.diagnosticEvent.severity }));
    return { steps, diagnostics };
}

export async function reviewCommand(stackName: string, opts: { out?: string; savePlan?: boolean; policy?: boolean }): Promise<number> {
    const stack = await openStack(stackName);
    const env = await environmentOf(stack);
    const policy = policyOptions(stackName, env, opts.policy !== false);
    const outDir = path.resolve(opts.out ?? path.join(stateDir(PROJECT_DIR), "reviews"));
    fs.mkdirSync(outDir, { recursive: true });
    const planFile = path.join(outDir, `plan-${stackName}.json`);
    // Update plans are behind Pulumi's experimental switch.
    if (opts.savePlan) process.env.PULUMI_EXPERIMENTAL = "true";
    // What the state holds before this preview's refresh: a recorded resource created again is drift.
    const recorded = new Set<string>(((await stack.exportStack()).deployment?.resources ?? []).map((r: { urn: string }) => r.urn));
    const events: any[] = [];
    let failure: string | undefined;
    try {
        await stack.preview({ onEvent: (e) => events.push(e), plan: opts.savePlan ? planFile : undefined, ...policy });
    } catch (e: any) {
        failure = String(e.stderr ?? e.message ?? e).trim();
    }
    const preview = stepsFrom(events);
    const violations = violationsFrom(events);
    if (failure && !preview.diagnostics?.some((d) => d.severity === "error") && !violations.some((v) => v.level === "mandatory")) {
        preview.diagnostics = [...(preview.diagnostics ?? []), { message: failure.split("\n").slice(-5).join("\n"), severity: "error" }];
    }
    const r = review(preview, { stack: stackName, production: env?.production === true || stackName === "prod", recorded, violations });
    const pinned = (await stack.getAllConfig())[PINS_KEY]?.value;
    const md = renderMarkdown(r) + (pinned ? `\nNote: this stack is pinned to the images of a rolled-back release (${pinned}); code changes to those images are not built until \`deploy\` removes the pins.\n` : "") + (opts.savePlan && !failure ? `\nPlan saved: apply exactly this with \`npm run deploy -- ${stackName} --plan ${path.relative(PROJECT_DIR, planFile)}\`.\n` : "");
    fs.writeFileSync(path.join(outDir, `review-${stackName}.md`), md);
    fs.writeFileSync(path.join(outDir, `review-${stackName}.json`), JSON.stringify(r, null, 2) + "\n");
    process.stdout.write(md);
    return r.exitCode;
}

/** Run `pulumi up` under the lock and record the release; returns the release. */
async function applyAndRecord(stack: Stack, kind: string, opts: { plan?: string; message?: string; policy?: ReturnType<typeof policyOptions> }): Promise<Release> {
    let result: Release["result"] = "succeeded";
    let error: string | undefined;
    let output = "";
    try {
        await stack.up({ onOutput: (o) => { output += o; process.stdout.write(o); }, parallel: DEPLOY_PARALLELISM, plan: opts.plan, message: opts.message ?? `dockyard ${kind}`, ...opts.policy });
    } catch (e: any) {
        result = "failed";
        error = failureSummary(`${output}\n${e.stderr ?? ""}\n${e.message ?? e}`);
    }
    const outputs = await stack.outputs();
    const history = await stack.history(1).catch(() => []);
    const release = appendRelease(PROJECT_DIR, stack.name, {
        time: new Date().toISOString(),
        gitSha: gitSha(),
        result,
        kind,
        pulumiVersion: history[0]?.version,
        manifest: outputs.releaseManifest?.value ?? {},
        images: outputs.imageRefs?.value ?? {},
        environment: await environmentOf(stack),
        message: error,
    });
    if (result === "failed") {
        console.error(`\ndockyard: release ${release.number} of ${stack.name} FAILED; it is recorded as failed. Why:\n${error}\n` +
            "dockyard: Swarm rolls back any service update that fails, so the services keep running the last good release's images.");
    } else {
        console.log(`\ndockyard: release ${release.number} of ${stack.name} recorded (${kind}).`);
    }
    return release;
}

/**
 * Preview with the policy pack before an update: `pulumi up` checks each resource only as it
 * reaches it, after earlier ones changed. Returns the mandatory violations, printed.
 */
async function policyGate(stack: Stack, policy: ReturnType<typeof policyOptions>): Promise<number> {
    if (!policy.policyPacks) return 0;
    const events: any[] = [];
    await stack.preview({ onEvent: (e) => events.push(e), ...policy }).catch(() => undefined);
    const violations = violationsFrom(events);
    for (const v of violations) console.error(`dockyard: policy ${v.level === "mandatory" ? "VIOLATION" : "advisory"}: ${v.rule} on ${v.resource}: ${v.message}`);
    return violations.filter((v) => v.level === "mandatory").length;
}

export async function deployCommand(stackName: string, opts: { plan?: string; policy?: boolean }): Promise<number> {
    const lock = lockStack(PROJECT_DIR, stackName, "deploy");
    try {
        const stack = await openStack(stackName, lock);
        const policy = policyOptions(stackName, await environmentOf(stack), opts.policy !== false);
        if (opts.plan) {
            // Apply exactly what was reviewed (pins included); Pulumi refuses if anything differs.
            process.env.PULUMI_EXPERIMENTAL = "true";
        } else if ((await stack.getAllConfig())[PINS_KEY]) {
            // A deploy ships the current code: drop the pins a rollback left.
            await stack.removeConfig(PINS_KEY);
        }
        // A reviewed plan ran the pack when it was made.
        const blocking = opts.plan ? 0 : await policyGate(stack, policy);
        if (blocking) {
            console.error(`dockyard: NOT DEPLOYING ${stackName}: ${blocking} mandatory polic${blocking === 1 ? "y is" : "ies are"} violated (above). Nothing was changed.`);
            return 3;
        }
        await backupBeforeDeploy(stackName, await environmentOf(stack));
        const apply = { plan: opts.plan && path.resolve(opts.plan), policy };
        let release = await applyAndRecord(stack, "deploy", apply);
        // A reviewed plan cannot be applied twice: then the operator deploys again.
        if (isInterrupted(release) && !opts.plan) {
            // Swarm rolled back because a node's drain or loss stopped a new task, not because the
            // release failed: once more, on the nodes that are left.
            console.log(`dockyard: a node's drain or loss interrupted the rollout (above), which says nothing about the release; deploying ${stackName} once more to finish it`);
            release = await applyAndRecord(stack, "deploy", apply);
        }
        if (release.result === "succeeded" && (await environmentOf(stack))?.gc === true) {
            // The release is done and recorded whatever the clean-up does: a failure is a warning.
            await gcCommand(stackName, { stack }).catch((e) => console.error(`dockyard: warning: registry hygiene after release ${release.number} failed (run \`gc ${stackName}\` again): ${e instanceof Error ? e.message : String(e)}`));
        }
        return release.result === "succeeded" ? 0 : 1;
    } finally {
        lock.release();
    }
}

export function releasesText(stackName: string): string {
    const releases = readReleases(PROJECT_DIR, stackName);
    const env = (releases.at(-1)?.environment ?? {}) as { backupDir?: string };
    const backups = backupsText(listBackups(backupDir(PROJECT_DIR, stackName, env)));
    if (releases.length === 0) return `No releases recorded for ${stackName}.\n${backups}`;
    const { current, rolledBackFrom } = rollbackHistory(releases);
    const rows = releases.flatMap((r, i) => {
        const images = [...new Set(Object.values(r.manifest).map((s) => s.image.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+/, "@sha256:$1")))].join(" ");
        const notes = [r.number === current?.number ? "running now" : "", rolledBackFrom.has(r.number) ? "rolled back from" : ""].filter(Boolean).join(", ");
        const row = `${String(r.number).padEnd(4)} ${r.time.slice(0, 19).replace("T", " ")}  ${r.result.padEnd(9)} ${r.kind.padEnd(14)} ${(r.gitSha ?? "-").padEnd(12)}  ${describeChanges(releases[i - 1], r)}  ${images}${notes ? `  (${notes})` : ""}`;
        // A failed release says why, from the engine's own record of its tasks.
        const why = r.result === "failed" && r.message ? r.message.split("\n").map((l) => `       ${l}`) : [];
        return [row, ...why];
    });
    return [`#    time                 result    kind           git sha       changes  images`, ...rows].join("\n") + "\n" + backups;
}

/** Ask on the terminal; without one, refuse and say what to pass. */
async function confirm(question: string, refusal: string): Promise<void> {
    if (!process.stdin.isTTY) throw new UsageError(refusal);
    const rl = (await import("readline")).createInterface({ input: process.stdin, output: process.stdout });
    const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError("not confirmed; nothing was changed");
}

function imageAvailable(ref: string): boolean {
    const run = (args: string[]) => {
        try {
            execFileSync("docker", args, { stdio: "ignore", timeout: 120_000 });
            return true;
        } catch {
            return false;
        }
    };
    return run(["image", "inspect", ref]) || run(["pull", "-q", ref]);
}

export async function rollbackCommand(stackName: string, opts: { to?: number; yes?: boolean; withData?: boolean }): Promise<number> {
    const lock = lockStack(PROJECT_DIR, stackName, "rollback");
    const restarts: Array<() => Promise<void>> = [];
    try {
        const releases = readReleases(PROJECT_DIR, stackName);
        const target = rollbackTarget(releases, opts.to);
        if (rollbackHistory(releases).rolledBackFrom.has(target.number) && !opts.yes) {
            await confirm(
                `release ${target.number} of ${stackName} was rolled back from before. Deploy it again?`,
                `release ${target.number} was rolled back from before; pass --yes to deploy it again anyway`,
            );
        }
        // --with-data: every backup recorded with the release, each checked before anything changes.
        let restores: Array<{ manifest: ReturnType<typeof findBackup>["manifest"]; archive: string }> = [];
        if (opts.withData) {
            const dir = backupDir(PROJECT_DIR, stackName, backupEnvironmentOf(target.environment));
            const all = listBackups(dir);
            const chosen = [...backupsOfRelease(all, target.number).values()];
            if (chosen.length === 0) {
                const withBackups = [...new Set(all.map((b) => b.release).filter((r) => r !== undefined))];
                throw new Error(`release ${target.number} has no volume backup recorded, so --with-data cannot restore its data; releases with backups: ${withBackups.join(", ") || "none"} (take one with \`backup ${stackName}\`)`);
            }
            restores = chosen.map((manifest) => ({ manifest, archive: path.join(dir, manifest.file) }));
            for (const r of restores) verifyBackup(r.manifest, r.archive);
        }
        const missing = [...new Set([...Object.values(target.images), ...Object.values(target.manifest).map((s) => s.image)])].filter((ref) => !imageAvailable(ref));
        if (missing.length) {
            throw new Error(`release ${target.number} cannot be restored: its image${missing.length > 1 ? "s are" : " is"} no longer available: ${missing.join(", ")}`);
        }
        const stack = await openStack(stackName, lock);
        await stack.setAllConfigJson(JSON.stringify({
            [ENV_KEY]: { value: JSON.stringify(target.environment), objectValue: target.environment, secret: false },
            [PINS_KEY]: { value: JSON.stringify(target.images), objectValue: target.images, secret: false },
        }));
        console.log(`dockyard: rolling ${stackName} back to release ${target.number} (${target.time}${target.gitSha ? `, git ${target.gitSha}` : ""})`);
        const secretsNote = rollbackSecretsNote(target);
        if (secretsNote) console.log(`dockyard: ${secretsNote}`);
        if (!opts.yes) {
            await stack.preview({ onOutput: (o) => process.stdout.write(o), diff: true });
        }
        // The data goes back while its services are stopped; the update then starts them on the
        // release's images, and whatever the update did not touch is started again after it.
        for (const r of restores) {
            restarts.push(await restoreVolume(r.manifest, r.archive, r.manifest.dockerVolume, { hold: true, log: (m) => console.log(`dockyard: ${m}`) }));
        }
        const release = await applyAndRecord(stack, `rollback to ${target.number}${opts.withData ? " with data" : ""}`, {});
        return release.result === "succeeded" ? 0 : 1;
    } finally {
        for (const restart of restarts) await restart();
        lock.release();
    }
}

export async function main(argv: string[]): Promise<number> {
    const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            help: { type: "boolean", short: "h" },
            out: { type: "string" },
            "save-plan": { type: "boolean" },
            plan: { type: "string" },
            to: { type: "string" },
            yes: { type: "boolean", short: "y" },
            file: { type: "string", short: "f", multiple: true },
            stack: { type: "string" },
            "allow-unsupported": { type: "boolean" },
            "allow-unset": { type: "boolean" },
            "env-file": { type: "string", multiple: true },
            profile: { type: "string", multiple: true },
            "set-secrets": { type: "boolean" },
            force: { type: "boolean" },
            "no-policy": { type: "boolean" },
            "with-data": { type: "boolean" },
            from: { type: "string" },
            "dry-run": { type: "boolean" },
        },
    });
    const [command, stack, ...rest] = positionals;
    if (values.help || !command) {
        process.stdout.write(HELP);
        return command || values.help ? 0 : 1;
    }
    if (command === "import") {
        if (!stack) throw new UsageError("import: name the Compose file, e.g. `import compose.yaml --stack shop`");
        if (!values.stack) throw new UsageError("import: name the stack to write with --stack <name>");
        // npm runs scripts in the project directory; paths are the caller's.
        const cwd = process.env.INIT_CWD ?? process.cwd();
        const here = (f: string) => path.resolve(cwd, f);
        return importCompose({
            files: [stack, ...(values.file ?? []), ...positionals.slice(2)].map(here),
            stack: values.stack,
            projectDir: PROJECT_DIR,
            cwd,
            out: values.out && here(values.out),
            allowUnsupported: values["allow-unsupported"],
            allowUnset: values["allow-unset"],
            envFiles: (values["env-file"] ?? []).map(here),
            profiles: values.profile,
            setSecrets: values["set-secrets"],
            force: values.force,
        }).exitCode;
    }
    if (!stack) throw new UsageError(`${command}: name the stack, e.g. \`${command} dev\``);
    switch (command) {
        case "review":
            return reviewCommand(stack, { out: values.out, savePlan: values["save-plan"], policy: !values["no-policy"] });
        case "deploy":
            return deployCommand(stack, { plan: values.plan, policy: !values["no-policy"] });
        case "policy": {
            const file = writePackConfig(path.join(stateDir(PROJECT_DIR), "policy"), stack, await environmentOf(await openStack(stack)));
            console.log(`dockyard: wrote ${path.relative(process.cwd(), file)}; run: pulumi preview --stack ${stack} --policy-pack policy --policy-pack-config ${path.relative(process.cwd(), file)}`);
            return 0;
        }
        case "releases":
            process.stdout.write(releasesText(stack));
            return 0;
        case "rollback": {
            const to = values.to === undefined ? undefined : Number(values.to);
            if (to !== undefined && !Number.isInteger(to)) throw new UsageError(`--to: expected a release number, got ${JSON.stringify(values.to)}`);
            return rollbackCommand(stack, { to, yes: values.yes, withData: values["with-data"] });
        }
        case "backup":
            return backupCommand(stack, rest);
        case "restore":
            return restoreCommand(stack, rest[0], values.from);
        case "gc":
            return gcCommand(stack, { dryRun: values["dry-run"] });
        default:
            throw new UsageError(`unknown command ${JSON.stringify(command)}; expected review, deploy, policy, releases, rollback, backup, restore, gc or import (see --help)`);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            console.error(`dockyard: ${e instanceof Error ? e.message : String(e)}`);
            process.exit(1);
        },
    );
}
