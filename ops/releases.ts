// Release records and the per-stack deploy lock. A release is what `deploy` or `rollback` applied:
// its number, time, git sha, result, the stack's release manifest (image digest and spec hash per
// service), the image references, and the environment config it was deployed with.
import { ROLLOUT_INTERRUPTED } from "@dockyard/components";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describeSource, sourceOf } from "../config/sources";
import type { SecretConfig } from "../config/schema";

export interface ServiceRelease {
    readonly image: string;
    readonly specHash: string;
}

export interface Release {
    readonly number: number;
    readonly time: string;
    readonly gitSha?: string;
    /** `succeeded`, or `failed` (Swarm rolled the services back to the release before). */
    readonly result: "succeeded" | "failed";
    /** `deploy`, or `rollback to <n>` (`rollback to <n> with data` when it restored volume backups). */
    readonly kind: string;
    /** The Pulumi update version this release's `pulumi up` produced, if known. */
    readonly pulumiVersion?: number;
    readonly manifest: Readonly<Record<string, ServiceRelease>>;
    readonly images: Readonly<Record<string, string>>;
    /** The `dockyard:environment` config object it was deployed with (no secret values in it). */
    readonly environment: unknown;
    readonly message?: string;
}

/** Where release records and locks live: `.dockyard/` in the project, or $DOCKYARD_RELEASES_DIR. */
export function stateDir(projectDir: string): string {
    return process.env.DOCKYARD_RELEASES_DIR ?? path.join(projectDir, ".dockyard");
}

function releasesFile(projectDir: string, stack: string): string {
    return path.join(stateDir(projectDir), "releases", `${stack}.json`);
}

export function readReleases(projectDir: string, stack: string): Release[] {
    const file = releasesFile(projectDir, stack);
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Release[]) : [];
}

export function appendRelease(projectDir: string, stack: string, release: Omit<Release, "number">): Release {
    const all = readReleases(projectDir, stack);
    const record = { number: (all.at(-1)?.number ?? 0) + 1, ...release };
    const file = releasesFile(projectDir, stack);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify([...all, record], null, 2) + "\n");
    fs.renameSync(`${file}.tmp`, file);
    return record;
}

// `rollback --with-data` records `rollback to <n> with data`: a rollback all the same.
const ROLLBACK_KIND = /^rollback to (\d+)(?: with data)?$/;

/** The release whose code a release runs: itself for a deploy, the target for `rollback to <n>`. */
export function originOf(releases: readonly Release[], r: Release): Release {
    const m = ROLLBACK_KIND.exec(r.kind);
    const target = m ? releases.find((x) => x.number === Number(m[1])) : undefined;
    return target && target.number < r.number ? originOf(releases, target) : r;
}

/** What each release means for rollbacks: which is deployed now and which were rolled back from. */
export function rollbackHistory(releases: readonly Release[]): { current?: Release; rolledBackFrom: ReadonlySet<number> } {
    const rolledBackFrom = new Set<number>();
    let current: Release | undefined;
    for (const r of releases) {
        if (r.result !== "succeeded") continue;
        // A successful rollback leaves the release that was running before it: it was rolled back from.
        if (ROLLBACK_KIND.test(r.kind) && current) rolledBackFrom.add(originOf(releases, current).number);
        current = r;
    }
    return { current: current && originOf(releases, current), rolledBackFrom };
}

/**
 * The release `rollback` returns to: `to`, or else the last successful release deployed before the
 * one running now, skipping every release that was rolled back from (so rolling back twice goes
 * further back, never forward to a release that was left).
 */
export function rollbackTarget(releases: readonly Release[], to?: number): Release {
    if (releases.length === 0) throw new Error("no releases are recorded for this stack yet; deploy one with `deploy` first");
    if (to !== undefined) {
        const hit = releases.find((r) => r.number === to);
        if (!hit) throw new Error(`release ${to} does not exist; recorded releases: ${releases.map((r) => r.number).join(", ")}`);
        if (hit.result !== "succeeded") throw new Error(`release ${to} failed when it was deployed; pick a successful one (see \`releases\`)`);
        return originOf(releases, hit);
    }
    const { current, rolledBackFrom } = rollbackHistory(releases);
    const before = current && [...releases].reverse().find((r) =>
        r.result === "succeeded" && !ROLLBACK_KIND.test(r.kind) && r.number < current.number && !rolledBackFrom.has(r.number) && !sameAs(r, current));
    if (!before) {
        throw new Error(current
            ? `there is no successful release before release ${current.number} (running now) that was not rolled back from; see \`releases\``
            : "no release has succeeded yet, so there is nothing to roll back to");
    }
    return before;
}

function sameAs(a: Release, b: Release): boolean {
    return JSON.stringify(a.manifest) === JSON.stringify(b.manifest);
}

/**
 * What `rollback` says about secrets: their values are not recorded, so each is read now from the
 * source the release names (the current value, not the release's). Undefined without secrets.
 */
export function rollbackSecretsNote(release: Pick<Release, "number" | "environment">): string | undefined {
    const secrets = Object.entries(((release.environment ?? {}) as { secrets?: Record<string, SecretConfig> }).secrets ?? {});
    if (secrets.length === 0) return undefined;
    const sources = secrets.map(([name, s]) => `${name} from ${describeSource(sourceOf(s))}`).join(", ");
    return `secret values are the current ones, not release ${release.number}'s: each is read now from its source (${sources})`;
}

/** What changed between two releases' manifests, as short phrases. */
export function describeChanges(prev: Release | undefined, cur: Release): string {
    if (!prev) return "first release";
    const out: string[] = [];
    for (const [svc, s] of Object.entries(cur.manifest)) {
        const p = prev.manifest[svc];
        if (!p) out.push(`${svc} added`);
        else if (p.image !== s.image) out.push(`${svc} image`);
        else if (p.specHash !== s.specHash) out.push(`${svc} spec`);
    }
    for (const svc of Object.keys(prev.manifest)) if (!(svc in cur.manifest)) out.push(`${svc} removed`);
    return out.length ? out.join(", ") : "no service changes";
}

/**
 * The reason a deploy failed, from its output: each service's convergence diagnosis (printed by the
 * components' convergence wait, once per service even though Pulumi repeats it), or else the last
 * lines of the output.
 */
export function failureSummary(output: string): string {
    const lines = output.split("\n");
    const blocks: string[] = [];
    for (let i = 0; i < lines.length; i++) {
        const start = lines[i].indexOf("dockyard: service ");
        if (start < 0 || !(lines[i].includes("did not converge") || lines[i].includes(ROLLOUT_INTERRUPTED))) continue;
        const block = [lines[i].slice(start).trimEnd()];
        const indent = lines[i].length - lines[i].trimStart().length;
        // The lines that follow belong to it while they are indented deeper than its own.
        for (let j = i + 1; j < lines.length && lines[j].trim() && lines[j].length - lines[j].trimStart().length > indent; j++) {
            block.push(lines[j].slice(indent).trimEnd());
        }
        const text = block.join("\n");
        if (!blocks.includes(text)) blocks.push(text);
    }
    if (blocks.length) return blocks.join("\n");
    return output.trim().split("\n").filter((l) => l.trim()).slice(-8).join("\n");
}

/**
 * A failed release whose only failures are rollouts a node's drain or loss interrupted (Swarm rolled
 * them back for that, not for the release): deploying again finishes it.
 */
export function isInterrupted(release: Pick<Release, "result" | "message">): boolean {
    if (release.result !== "failed" || !release.message) return false;
    const verdicts = release.message.split("\n").filter((l) => l.startsWith("dockyard: service "));
    return verdicts.length > 0 && verdicts.every((l) => l.includes(ROLLOUT_INTERRUPTED));
}

export interface Lock {
    release(): void;
    /** The holder this lock was taken over from, when it died holding it (a killed deploy). */
    readonly tookOverFrom?: { readonly pid: number; readonly command: string; readonly since: string };
}

/**
 * Take the deploy lock of a stack, or throw saying who holds it. A lock whose process is gone
 * (same host) is taken over.
 */
export function lockStack(projectDir: string, stack: string, command: string): Lock {
    const file = path.join(stateDir(projectDir), "locks", `${stack}.lock`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const mine = JSON.stringify({ pid: process.pid, host: os.hostname(), command, since: new Date().toISOString() });
    let dead: Lock["tookOverFrom"];
    for (let attempt = 0; attempt < 2; attempt++) {
        try {
            fs.writeFileSync(file, mine, { flag: "wx" });
            return { release: () => fs.rmSync(file, { force: true }), ...(dead ? { tookOverFrom: dead } : {}) };
        } catch (e: any) {
            if (e.code !== "EEXIST") throw e;
            let holder: { pid: number; host: string; command: string; since: string };
            try {
                holder = JSON.parse(fs.readFileSync(file, "utf8"));
            } catch {
                continue; // being written right now; try once more
            }
            if (holder.host === os.hostname() && !alive(holder.pid)) {
                dead = { pid: holder.pid, command: holder.command, since: holder.since };
                fs.rmSync(file, { force: true });
                continue;
            }
            throw new Error(
                `stack ${stack} is locked: \`${holder.command}\` (pid ${holder.pid} on ${holder.host}) has been running since ${holder.since}. ` +
                    `Wait for it to finish; if that process is gone, remove ${file}.`,
            );
        }
    }
    throw new Error(`could not take the lock ${file}`);
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch (e: any) {
        return e.code === "EPERM";
    }
    // A killed process whose parent has not reaped it yet (a zombie) still answers signal 0.
    try {
        return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
        return true;
    }
}
