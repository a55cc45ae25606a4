// One real-engine test run at a time on a machine, and nothing an interrupted run left behind in the
// way of the next one.
//
// The engine, its ports and the test cluster belong to the machine, not to a clone: two runs at once
// (two clones, or a CI run beside a developer's) would deploy the same names and ports. So a run that
// includes real-engine suites takes the machine's lock first, and a second run waits for it, saying
// whose it is. The lock is held by a `flock` child reading a pipe from this process: it goes when
// this process does, however it ends.
//
// A run that is killed cannot clean up. So each suite claims the name prefixes it creates objects
// under, in a journal next to the lock, and a clean finish drops the claims whose objects are gone.
// The next run, holding the lock, knows that every claim left in the journal belongs to a run that
// is over, and removes that run's objects before any suite starts.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");

/** How long a run waits for another to finish: longer than a whole CI run takes. */
export const LOCK_WAIT_MINUTES = 80;

/** This machine's Dockyard state directory, decided where the scripts decide it. */
function stateDir(): string {
    const r = spawnSync("bash", ["-c", '. scripts/lib/local-backend.sh && printf %s "$DOCKYARD_STATE_DIR"'], {
        cwd: ROOT, encoding: "utf8",
        // Only the directory is wanted: no backend directory is made for it.
        env: { ...process.env, root: ROOT, PULUMI_BACKEND_URL: process.env.PULUMI_BACKEND_URL || "file:///nonexistent" },
    });
    if (r.status !== 0 || !r.stdout) throw new Error(`dockyard tests: cannot tell this machine's state directory: ${r.stderr.trim()}`);
    return r.stdout;
}

export function runsDir(): string {
    const dir = process.env.DOCKYARD_TEST_RUNS_DIR || path.join(stateDir(), "test-runs");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let holder: ChildProcess | undefined;

/** Whether this process holds the machine's test lock. */
export function holdsLock(): boolean {
    return holder !== undefined;
}

/** Wait for the machine's test lock (saying whose it is while waiting), then hold it until this process ends. */
export async function takeLock(waitMinutes = LOCK_WAIT_MINUTES, say: (line: string) => void = (l) => console.log(l)): Promise<void> {
    if (holder) return;
    const dir = runsDir();
    const lockFile = path.join(dir, "engine.lock");
    const ownerFile = path.join(dir, "engine.owner");
    const heldFile = path.join(dir, `held.${process.pid}`);
    fs.rmSync(heldFile, { force: true });
    const owner = `pid ${process.pid} in ${process.cwd()}, since ${new Date().toISOString()}`;
    const child = spawn("flock", ["-w", String(waitMinutes * 60), lockFile, "sh", "-c", 'printf "%s\\n" "$OWNER" > "$OWNER_FILE" && : > "$HELD" && exec cat > /dev/null'], {
        env: { ...process.env, OWNER: owner, OWNER_FILE: ownerFile, HELD: heldFile },
        stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    let exited: number | null | undefined;
    child.on("exit", (code) => (exited = code));
    child.on("error", (e) => ((stderr += e.message), (exited = null)));
    const stop = () => child.kill();
    process.once("exit", stop);
    const started = Date.now();
    let said = false;
    while (!fs.existsSync(heldFile)) {
        if (exited !== undefined) {
            process.removeListener("exit", stop);
            const whose = fs.existsSync(ownerFile) ? fs.readFileSync(ownerFile, "utf8").trim() : "unknown";
            throw new Error(exited === 1 && !stderr
                ? `dockyard tests: another test run still holds this machine's engine after ${waitMinutes} minutes (${whose}); stop it or wait, then run again`
                : `dockyard tests: cannot take this machine's test lock ${lockFile}: flock exited ${exited}: ${stderr.trim()}`);
        }
        if (!said && Date.now() - started > 1000) {
            said = true;
            const whose = fs.existsSync(ownerFile) ? fs.readFileSync(ownerFile, "utf8").trim() : "unknown";
            say(`\n  dockyard tests: another test run is using this machine's Docker engine (${whose}); waiting up to ${waitMinutes} minutes for it to finish\n`);
        }
        await sleep(200);
    }
    fs.rmSync(heldFile, { force: true });
    // Neither the child nor its pipe keeps this process alive; the pipe closes when it ends.
    child.unref();
    (child.stdin as unknown as { unref(): void }).unref();
    (child.stderr as unknown as { unref(): void }).unref();
    holder = child;
    if (said) say(`  dockyard tests: took the engine after waiting ${Math.round((Date.now() - started) / 1000)} s\n`);
}

/** A journal entry: a name prefix a run creates Docker objects under, and the engine it uses. */
interface Claim {
    readonly prefix: string;
    readonly dockerHost?: string;
    readonly pid: number;
    readonly dir: string;
    readonly since: string;
}

const claimFile = (dir: string, claim: Pick<Claim, "prefix" | "dockerHost">) =>
    path.join(dir, `claim.${Buffer.from(`${claim.dockerHost ?? ""}\n${claim.prefix}`).toString("base64url")}.json`);

const claimed: Claim[] = [];

/**
 * Record that this run creates Docker objects whose names start with `prefix` (on `dockerHost`, else
 * the default engine), so that the next run removes them if this one is killed before it cleans up.
 * Claim a prefix only after checking that nothing of that name exists already.
 */
export function claimPrefix(prefix: string, dockerHost?: string): void {
    if (!prefix) throw new Error("dockyard tests: an empty prefix would claim every object");
    if (claimed.some((c) => c.prefix === prefix && c.dockerHost === dockerHost)) return;
    const claim: Claim = { prefix, ...(dockerHost ? { dockerHost } : {}), pid: process.pid, dir: process.cwd(), since: new Date().toISOString() };
    fs.writeFileSync(claimFile(runsDir(), claim), JSON.stringify(claim) + "\n");
    claimed.push(claim);
}

function docker(args: string[], dockerHost?: string): { ok: boolean; out: string } {
    const env = { ...process.env };
    if (dockerHost) env.DOCKER_HOST = dockerHost;
    const r = spawnSync("docker", args, { env, encoding: "utf8", timeout: 120_000 });
    return { ok: r.status === 0, out: r.stdout ?? "" };
}

type Objects = Array<[kind: string, names: string[]]>;

/** Every object on an engine, by kind, in the order they can be removed; undefined when the engine does not answer. */
function objectsOn(dockerHost: string | undefined): Objects | undefined {
    if (!docker(["info", "--format", "{{.ID}}"], dockerHost).ok) return undefined;
    const names = (args: string[]) => docker(args, dockerHost).out.split("\n").filter(Boolean);
    return [
        ["service", names(["service", "ls", "--format", "{{.Name}}"])],
        ["container", names(["ps", "-a", "--format", "{{.Names}}"])],
        ["secret", names(["secret", "ls", "--format", "{{.Name}}"])],
        ["config", names(["config", "ls", "--format", "{{.Name}}"])],
        ["network", names(["network", "ls", "--format", "{{.Name}}"])],
        ["volume", names(["volume", "ls", "--format", "{{.Name}}"])],
    ];
}

/** The objects a claim covers, out of an engine's. */
const coveredBy = (claim: Pick<Claim, "prefix">, all: Objects): Objects => all.map(([kind, names]) => [kind, names.filter((n) => n.startsWith(claim.prefix))]);

function objectsOf(claim: Pick<Claim, "prefix" | "dockerHost">): Objects | undefined {
    const all = objectsOn(claim.dockerHost);
    return all && coveredBy(claim, all);
}

const REMOVE: Record<string, string[]> = {
    service: ["service", "rm"], container: ["rm", "-f"], secret: ["secret", "rm"], config: ["config", "rm"], network: ["network", "rm"], volume: ["volume", "rm", "-f"],
};

/**
 * Remove what runs that are over left behind: every claim in the journal not made by this process.
 * Call only while holding the lock. Returns one line per claim handled.
 */
export async function removeLeftovers(timeoutMs = 120_000): Promise<string[]> {
    if (!holder) throw new Error("dockyard tests: leftovers are removed only while holding the machine's test lock");
    const dir = runsDir();
    const lines: string[] = [];
    for (const file of fs.readdirSync(dir).filter((f) => f.startsWith("claim.")).sort()) {
        let claim: Claim;
        try {
            claim = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
        } catch {
            fs.rmSync(path.join(dir, file), { force: true });
            continue;
        }
        // This run's own claims (made before, as the tests of this module do) are not leftovers.
        if (claimed.some((c) => claimFile(dir, c) === path.join(dir, file))) continue;
        const deadline = Date.now() + timeoutMs;
        let removed = 0;
        let left: string[] = [];
        for (;;) {
            const objects = objectsOf(claim);
            // An engine that is gone (a test cluster taken down) took its objects with it.
            if (!objects) break;
            left = objects.flatMap(([kind, names]) => names.map((n) => `${kind} ${n}`));
            if (left.length === 0) break;
            // Services first: their tasks hold networks, secrets, configs and volumes until they stop.
            for (const [kind, names] of objects) {
                for (const name of names) if (docker([...REMOVE[kind], name], claim.dockerHost).ok) removed++;
            }
            if (Date.now() > deadline) break;
            await sleep(1000);
        }
        const where = `${claim.prefix}*${claim.dockerHost ? ` on ${claim.dockerHost}` : ""}`;
        const run = `the test run of pid ${claim.pid} in ${claim.dir}, since ${claim.since}`;
        if (left.length > 0 && Date.now() > deadline) {
            lines.push(`dockyard tests: could not remove what ${run} left under ${where}: ${left.join(", ")}`);
            continue;
        }
        fs.rmSync(path.join(dir, file), { force: true });
        if (removed > 0) lines.push(`dockyard tests: removed ${removed} Docker objects named ${where} that ${run} left behind`);
    }
    return lines;
}

/** At a clean finish: drop this run's claims whose objects are all gone; the rest are the next run's to remove. */
export function dropClaims(): void {
    if (claimed.length === 0) return;
    const dir = runsDir();
    const engines = new Map<string | undefined, Objects | undefined>();
    for (const claim of claimed.splice(0)) {
        if (!engines.has(claim.dockerHost)) engines.set(claim.dockerHost, objectsOn(claim.dockerHost));
        const all = engines.get(claim.dockerHost);
        if (!all || coveredBy(claim, all).every(([, names]) => names.length === 0)) fs.rmSync(claimFile(dir, claim), { force: true });
    }
}
