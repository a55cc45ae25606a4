// Volume backups and restores with plain `docker` CLI calls.
//
// A backup is a gzip'd tar of a volume's files, streamed out of a throw-away helper container
// (the local image dockyard/busybox, the volume mounted read-only) into
// `<backup dir>/<stack>/<volume>-<time>.tar.gz`, next to a manifest `<same>.json`: stack, release,
// volume, size, sha256, time. The archive is written under a temporary name and the manifest last,
// so a backup exists only once it is complete.
//
// Consistency: a volume marked `backup: true` (or `{ quiesce: "stop" }`) in the stack file has
// every workload that mounts it stopped for the copy (Swarm services scaled to 0, plain containers
// stopped; they exit cleanly on SIGTERM and flush what they hold), so the archive is the state a
// clean shutdown left. `{ quiesce: "pause" }` freezes them instead (cgroup freezer): shorter, and
// crash-consistent (everything they wrote is in the copy, nothing changes during it, but what a
// process held in memory is not). A volume that is not marked is copied live, with a warning.
// A restore always stops the workloads, verifies the archive's checksum against its manifest
// before touching anything, empties the volume, unpacks, and starts them again. Only the volumes
// named (or, for `deploy` and `rollback --with-data`, the marked ones) are ever touched.
import { spawn, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { stateDir } from "./releases";

export const HELPER_IMAGE = "dockyard/busybox:1.35.0";

export type Quiesce = "stop" | "pause" | "none";

export interface BackupManifest {
    readonly stack: string;
    /** The release running when the data was copied (undefined before the first release). */
    readonly release?: number;
    /** The volume's name in the stack file. */
    readonly volume: string;
    readonly dockerVolume: string;
    /** The archive's file name, in the same directory as the manifest. */
    readonly file: string;
    /** The archive's size in bytes. */
    readonly size: number;
    /** SHA-256 of the archive, hex. */
    readonly sha256: string;
    readonly time: string;
    readonly quiesce: Quiesce;
    /** Why it was taken: `backup`, or `before release <n>`. */
    readonly reason: string;
}

/** The subset of a stack's environment backups read. */
export interface BackupEnvironment {
    readonly prefix?: string;
    readonly backupDir?: string;
    readonly volumes: Readonly<Record<string, { readonly backup?: true | { readonly quiesce?: Quiesce } }>>;
}

/** Where a stack's backups live: $DOCKYARD_BACKUP_DIR, the stack file's backupDir, or .dockyard/backups. */
export function backupDir(projectDir: string, stack: string, env: Pick<BackupEnvironment, "backupDir">): string {
    const base = process.env.DOCKYARD_BACKUP_DIR ?? (env.backupDir ? path.resolve(projectDir, env.backupDir) : path.join(stateDir(projectDir), "backups"));
    return path.join(base, stack);
}

/** The Docker volume a stack-file volume becomes (index.ts: the environment's prefix, then the name). */
export function dockerVolumeName(env: Pick<BackupEnvironment, "prefix">, volume: string): string {
    return env.prefix ? `${env.prefix}-${volume}` : volume;
}

export interface VolumePlan {
    readonly volume: string;
    readonly dockerVolume: string;
    readonly quiesce: Quiesce;
}

/**
 * The volumes to work on: those asked for (all must exist in the stack file), or else every
 * volume marked `backup`. Each with how its users are quiesced.
 */
export function plannedVolumes(env: BackupEnvironment, asked: readonly string[] = []): VolumePlan[] {
    const unknown = asked.filter((v) => !(v in env.volumes));
    if (unknown.length) {
        throw new Error(`no volume ${unknown.map((v) => JSON.stringify(v)).join(", ")} in the stack file; its volumes are ${Object.keys(env.volumes).join(", ") || "none"}`);
    }
    const names = asked.length ? [...new Set(asked)] : Object.keys(env.volumes).filter((v) => env.volumes[v].backup !== undefined);
    return names.map((volume) => {
        const mark = env.volumes[volume].backup;
        const quiesce: Quiesce = mark === undefined ? "none" : mark === true ? "stop" : (mark.quiesce ?? "stop");
        return { volume, dockerVolume: dockerVolumeName(env, volume), quiesce };
    });
}

export function sha256File(file: string): string {
    const h = createHash("sha256");
    const fd = fs.openSync(file, "r");
    try {
        const buf = Buffer.alloc(1 << 20);
        for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
    } finally {
        fs.closeSync(fd);
    }
    return h.digest("hex");
}

/** Every backup of a stack, oldest first. Manifests that do not parse are skipped. */
export function listBackups(dir: string): BackupManifest[] {
    if (!fs.existsSync(dir)) return [];
    const out: BackupManifest[] = [];
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".tar.gz.json"))) {
        try {
            out.push(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")));
        } catch {
            // a manifest being written, or not ours
        }
    }
    return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

/** The manifest of a backup given as an archive path, a manifest path, or a file name in `dir`. */
export function findBackup(dir: string, from: string): { manifest: BackupManifest; archive: string } {
    const candidates = [from, path.join(dir, from), path.join(dir, path.basename(from))];
    for (const c of candidates) {
        const isManifest = c.endsWith(".json");
        const manifestFile = isManifest ? c : `${c}.json`;
        if (fs.existsSync(manifestFile)) {
            const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as BackupManifest;
            return { manifest, archive: isManifest ? path.join(path.dirname(manifestFile), manifest.file) : c };
        }
    }
    throw new Error(`no backup ${JSON.stringify(from)}: expected an archive with its .json manifest next to it, or the name of one in ${dir} (see \`releases\`)`);
}

/** Throws unless the archive is there and matches its manifest's size and checksum. */
export function verifyBackup(manifest: BackupManifest, archive: string): void {
    const name = path.basename(archive);
    if (!fs.existsSync(archive)) throw new Error(`backup ${manifest.file} is missing its archive ${archive}`);
    const size = fs.statSync(archive).size;
    const sum = sha256File(archive);
    if (size !== manifest.size || sum !== manifest.sha256) {
        throw new Error(`backup ${name} is corrupt: its sha256 is ${sum} (${size} bytes), the manifest recorded ${manifest.sha256} (${manifest.size} bytes); refusing to restore it`);
    }
}

/** The latest backup of each volume recorded with a release, by volume. */
export function backupsOfRelease(backups: readonly BackupManifest[], release: number): Map<string, BackupManifest> {
    const out = new Map<string, BackupManifest>();
    for (const b of backups) if (b.release === release) out.set(b.volume, b); // oldest first: the last wins
    return out;
}

/** Rows for `releases`: one per backup. */
export function backupsText(backups: readonly BackupManifest[]): string {
    if (backups.length === 0) return "";
    const rows = backups.map((b) =>
        `${String(b.release ?? "-").padEnd(8)} ${b.time.slice(0, 19).replace("T", " ")}  ${b.volume.padEnd(16)} ${humanSize(b.size).padStart(8)}  ${b.sha256.slice(0, 12)}  ${b.reason.padEnd(18)} ${b.file}`);
    return ["", "backups:", `release  time                 volume               size  sha256        reason             file`, ...rows].join("\n") + "\n";
}

function humanSize(n: number): string {
    const units = ["B", "KiB", "MiB", "GiB"];
    let i = 0;
    let v = n;
    while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
    }
    return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

// --- Docker ---

function docker(args: string[], timeoutMs = 120_000): string {
    const r = spawnSync("docker", args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`docker ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
}

async function until(what: string, check: () => boolean, timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 1000));
    }
}

/** The workloads that mount a volume: Swarm services (with their replicas) and plain containers. */
interface Users {
    readonly services: Array<{ id: string; name: string; replicas: number | "global" }>;
    readonly containers: string[];
}

function usersOf(dockerVolume: string): Users {
    const ids = docker(["service", "ls", "-q"]).split("\n").filter(Boolean);
    const specs = ids.length ? (JSON.parse(docker(["service", "inspect", ...ids])) as any[]) : [];
    const services = specs
        .filter((s) => (s.Spec?.TaskTemplate?.ContainerSpec?.Mounts ?? []).some((m: any) => m.Type === "volume" && m.Source === dockerVolume))
        .map((s) => ({ id: s.ID as string, name: s.Spec.Name as string, replicas: s.Spec.Mode?.Global ? ("global" as const) : Number(s.Spec.Mode?.Replicated?.Replicas ?? 1) }));
    const running = docker(["ps", "-q", "--filter", `volume=${dockerVolume}`]).split("\n").filter(Boolean);
    const inspected = running.length ? (JSON.parse(docker(["inspect", ...running])) as any[]) : [];
    const containers = inspected.filter((c) => !c.Config?.Labels?.["com.docker.swarm.service.id"]).map((c) => c.Name.replace(/^\//, ""));
    return { services, containers };
}

function runningUsers(dockerVolume: string): string[] {
    return docker(["ps", "-q", "--filter", `volume=${dockerVolume}`]).split("\n").filter(Boolean);
}

/** Stop (or pause) what mounts the volume; returns how to undo it. */
async function quiesce(dockerVolume: string, how: Quiesce, log: (m: string) => void): Promise<() => Promise<void>> {
    if (how === "none") return async () => undefined;
    if (how === "pause") {
        const ids = runningUsers(dockerVolume);
        if (ids.length) {
            log(`pausing ${ids.length} container${ids.length > 1 ? "s" : ""} that mount ${dockerVolume}`);
            docker(["pause", ...ids]);
        }
        return async () => {
            if (ids.length) docker(["unpause", ...ids]);
        };
    }
    const users = usersOf(dockerVolume);
    const global = users.services.filter((s) => s.replicas === "global");
    if (global.length) throw new Error(`cannot stop the global service${global.length > 1 ? "s" : ""} ${global.map((s) => s.name).join(", ")} that mount ${dockerVolume}; mark the volume backup: { quiesce: pause } instead`);
    const start = async () => {
        // A service an update changed meanwhile (rollback --with-data) already runs its new spec.
        const stillStopped = (id: string) => JSON.parse(docker(["service", "inspect", id]))[0]?.Spec?.Mode?.Replicated?.Replicas === 0;
        for (const s of users.services) if (stillStopped(s.id)) docker(["service", "scale", "--detach", `${s.id}=${s.replicas}`]);
        if (users.containers.length) docker(["start", ...users.containers]);
        for (const s of users.services) {
            await until(`service ${s.name} to run ${s.replicas} task(s) again`, () => docker(["service", "ls", "--filter", `id=${s.id}`, "--format", "{{.Replicas}}"]).trim().startsWith(`${s.replicas}/${s.replicas}`));
        }
        if (users.services.length || users.containers.length) log(`started ${[...users.services.map((s) => s.name), ...users.containers].join(", ")} again`);
    };
    if (users.services.length || users.containers.length) {
        log(`stopping ${[...users.services.map((s) => `${s.name} (${s.replicas} replica${s.replicas === 1 ? "" : "s"})`), ...users.containers].join(", ")}: they mount ${dockerVolume}`);
    }
    try {
        for (const s of users.services) docker(["service", "scale", "--detach", `${s.id}=0`]);
        if (users.containers.length) docker(["stop", ...users.containers]);
        await until(`the containers that mount ${dockerVolume} to stop`, () => runningUsers(dockerVolume).length === 0);
    } catch (e) {
        await start();
        throw e;
    }
    return start;
}

/** Stream a command's stdout into a file, hashing it; resolves to its size and sha256. */
function streamOut(args: string[], file: string): Promise<{ size: number; sha256: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn("docker", args, { stdio: ["ignore", "pipe", "pipe"] });
        const out = fs.createWriteStream(file);
        const h = createHash("sha256");
        let size = 0;
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => {
            h.update(chunk);
            size += chunk.length;
        });
        child.stdout.pipe(out);
        child.stderr.on("data", (c) => (stderr += c));
        const written = new Promise<void>((ok, fail) => {
            out.on("close", ok);
            out.on("error", fail);
        });
        child.on("error", reject);
        child.on("close", (code) => {
            written.then(
                () => (code === 0 ? resolve({ size, sha256: h.digest("hex") }) : reject(new Error(`docker ${args.join(" ")} failed: ${stderr.trim()}`))),
                reject,
            );
        });
    });
}

/** Feed a file to a command's stdin. */
function streamIn(args: string[], file: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn("docker", args, { stdio: ["pipe", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (c) => (stderr += c));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`docker ${args.join(" ")} failed: ${stderr.trim()}`))));
        fs.createReadStream(file).pipe(child.stdin);
    });
}

function requireVolume(dockerVolume: string): void {
    try {
        docker(["volume", "inspect", dockerVolume]);
    } catch {
        throw new Error(`the Docker volume ${dockerVolume} does not exist on this engine (deploy the stack first)`);
    }
}

function helper(dockerVolume: string, readOnly: boolean, stdin: boolean): string[] {
    return ["run", "--rm", ...(stdin ? ["-i"] : []), "--network", "none", "--label", "dockyard.helper=backup", "-v", `${dockerVolume}:/data${readOnly ? ":ro" : ""}`, HELPER_IMAGE];
}

/** Back up one volume; returns its manifest. */
export async function backupVolume(
    dir: string,
    stack: string,
    plan: VolumePlan,
    meta: { release?: number; reason: string },
    log: (m: string) => void = console.log,
): Promise<BackupManifest> {
    requireVolume(plan.dockerVolume);
    fs.mkdirSync(dir, { recursive: true });
    const time = new Date().toISOString();
    const file = `${plan.volume}-${time.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}.tar.gz`;
    const archive = path.join(dir, file);
    if (fs.existsSync(archive)) throw new Error(`backup ${archive} already exists; try again in a second`);
    if (plan.quiesce === "none") log(`warning: ${plan.volume} is not marked for backup in the stack file; copying it live (mark it backup: true for a consistent copy)`);
    const resume = await quiesce(plan.dockerVolume, plan.quiesce, log);
    let sum: { size: number; sha256: string };
    try {
        sum = await streamOut([...helper(plan.dockerVolume, true, false), "tar", "-czf", "-", "-C", "/data", "."], `${archive}.partial`);
    } catch (e) {
        fs.rmSync(`${archive}.partial`, { force: true });
        throw e;
    } finally {
        await resume();
    }
    fs.renameSync(`${archive}.partial`, archive);
    const manifest: BackupManifest = { stack, release: meta.release, volume: plan.volume, dockerVolume: plan.dockerVolume, file, size: sum.size, sha256: sum.sha256, time, quiesce: plan.quiesce, reason: meta.reason };
    fs.writeFileSync(`${archive}.json`, JSON.stringify(manifest, null, 2) + "\n");
    log(`backed up ${plan.volume} (${plan.dockerVolume}) to ${archive} (${humanSize(sum.size)}, sha256 ${sum.sha256.slice(0, 12)})`);
    return manifest;
}

/**
 * Stop what mounts the volume, put the backup's files back (nothing else stays), start them again
 * (or, with `hold`, leave them stopped and return the function that starts them). Refuses, before
 * touching anything, a backup whose archive does not match its manifest.
 */
export async function restoreVolume(
    manifest: BackupManifest,
    archive: string,
    dockerVolume: string,
    opts: { hold?: boolean; log?: (m: string) => void } = {},
): Promise<() => Promise<void>> {
    const log = opts.log ?? console.log;
    verifyBackup(manifest, archive);
    requireVolume(dockerVolume);
    const resume = await quiesce(dockerVolume, "stop", log);
    try {
        const script = "cd /data && rm -rf -- ./* ./.[!.]* ./..?* && tar -xzf - -C /data";
        await streamIn([...helper(dockerVolume, false, true), "sh", "-c", script], archive);
        log(`restored ${dockerVolume} from ${manifest.file} (release ${manifest.release ?? "-"}, ${manifest.time})`);
    } catch (e) {
        await resume();
        throw e;
    }
    if (opts.hold) return resume;
    await resume();
    return async () => undefined;
}
