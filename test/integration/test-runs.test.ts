// The machine's test lock and the journal of name prefixes (test-runs.ts), each in a process of its own
// with a journal of its own, so that this run's lock and claims are not involved.
import * as assert from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, baseImageMissing, dockerMissing, eventually, requireOrSkip, sh } from "./prereqs";

const MODULE = path.join(__dirname, "test-runs.ts");

/** Run `body` (TypeScript, with `runs` bound to test-runs.ts) in a node process of its own. */
function script(body: string): string {
    return `const runs = require(${JSON.stringify(MODULE)}); (async () => { ${body} })().catch((e) => { console.log("ERROR " + e.message); process.exit(1); });`;
}

function run(dir: string, body: string): { code: number; out: string } {
    const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script(body)], {
        cwd: ROOT, env: { ...process.env, DOCKYARD_TEST_RUNS_DIR: dir }, encoding: "utf8", timeout: 180_000,
    });
    return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function start(dir: string, body: string): { child: ChildProcess; out: () => string } {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script(body)], {
        cwd: ROOT, env: { ...process.env, DOCKYARD_TEST_RUNS_DIR: dir }, stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    return { child, out: () => out };
}

describe("integration: one test run at a time on a machine, and an interrupted run's leftovers", function () {
    this.timeout(5 * 60_000);
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-runs-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("a second run waits for the first, names it, gives up after its wait, and gets the lock once the first is killed", async () => {
        const first = start(dir, `await runs.takeLock(); console.log("HELD " + process.pid); setInterval(() => undefined, 1000);`);
        try {
            await eventually("the first run to hold the lock", () => first.out().includes("HELD"), 60_000);
            const pid = first.child.pid!;
            const second = run(dir, `await runs.takeLock(0.05); console.log("HELD");`);
            assert.strictEqual(second.code, 1, second.out);
            assert.match(second.out, new RegExp(`another test run is using this machine's Docker engine \\(pid ${pid} in ${ROOT.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}, since \\d{4}-`));
            assert.match(second.out, new RegExp(`ERROR dockyard tests: another test run still holds this machine's engine after 0.05 minutes \\(pid ${pid} in `));
            assert.doesNotMatch(second.out, /HELD/);
            // Killed, it cannot release anything itself: the lock goes with its process.
            first.child.kill("SIGKILL");
            const third = run(dir, `await runs.takeLock(0.5); console.log("HELD");`);
            assert.strictEqual(third.code, 0, third.out);
            assert.match(third.out, /^HELD$/m);
        } finally {
            first.child.kill("SIGKILL");
        }
    });

    it("a run removes what a run that is over claimed and left, and nothing it did not claim", async function () {
        requireOrSkip(this, dockerMissing(), baseImageMissing());
        const tag = `trl${process.pid % 100000}`;
        const claimed = `${tag}a-`;
        const unclaimed = `${tag}b-`;
        const names = (prefix: string) => [
            ...sh("docker", ["network", "ls", "--format", "{{.Name}}"]).split("\n"),
            ...sh("docker", ["volume", "ls", "--format", "{{.Name}}"]).split("\n"),
            ...sh("docker", ["ps", "-a", "--format", "{{.Names}}"]).split("\n"),
        ].filter((n) => n.startsWith(prefix)).sort();
        try {
            // A run that claims, creates, and is killed before it cleans up.
            const killed = run(dir, `runs.claimPrefix(${JSON.stringify(claimed)}); process.kill(process.pid, "SIGKILL");`);
            assert.strictEqual(killed.code, -1, killed.out);
            for (const prefix of [claimed, unclaimed]) {
                sh("docker", ["network", "create", `${prefix}net`]);
                sh("docker", ["volume", "create", `${prefix}vol`]);
                sh("docker", ["create", "--name", `${prefix}ctr`, "--network", `${prefix}net`, "-v", `${prefix}vol:/data`, "dockyard/busybox:1.35.0", "true"]);
            }
            assert.strictEqual(fs.readdirSync(dir).filter((f) => f.startsWith("claim.")).length, 1);
            // Removing needs the lock.
            assert.match(run(dir, `await runs.removeLeftovers();`).out, /ERROR dockyard tests: leftovers are removed only while holding the machine's test lock/);
            // The next run, holding the lock, with a claim of its own on the same prefix's neighbour.
            const next = run(dir, `await runs.takeLock(0.5); runs.claimPrefix(${JSON.stringify(unclaimed)}); for (const l of await runs.removeLeftovers()) console.log(l);`);
            assert.strictEqual(next.code, 0, next.out);
            assert.match(next.out, new RegExp(`^dockyard tests: removed 3 Docker objects named ${claimed}\\* that the test run of pid \\d+ in .*, since \\d{4}-.* left behind$`, "m"));
            assert.deepStrictEqual(names(claimed), []);
            assert.deepStrictEqual(names(unclaimed), [`${unclaimed}ctr`, `${unclaimed}net`, `${unclaimed}vol`]);
            // The killed run's claim is gone; the next run's own (whose objects remain, and it never
            // finished cleanly) is left for the run after it.
            const left = fs.readdirSync(dir).filter((f) => f.startsWith("claim.")).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")).prefix);
            assert.deepStrictEqual(left, [unclaimed]);
            // A clean finish drops a claim only when its objects are gone.
            sh("docker", ["rm", "-f", `${unclaimed}ctr`]);
            sh("docker", ["network", "rm", `${unclaimed}net`]);
            sh("docker", ["volume", "rm", `${unclaimed}vol`]);
            const tidy = run(dir, `await runs.takeLock(0.5); for (const l of await runs.removeLeftovers()) console.log(l); runs.claimPrefix(${JSON.stringify(unclaimed)}); runs.dropClaims(); console.log("DONE");`);
            assert.strictEqual(tidy.code, 0, tidy.out);
            assert.match(tidy.out, /^DONE$/m);
            assert.doesNotMatch(tidy.out, /dockyard tests: (removed|could not)/, "a claim whose objects are gone is dropped without a word");
            assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.startsWith("claim.")), []);
        } finally {
            for (const prefix of [claimed, unclaimed]) {
                spawnSync("docker", ["rm", "-f", `${prefix}ctr`]);
                spawnSync("docker", ["network", "rm", `${prefix}net`]);
                spawnSync("docker", ["volume", "rm", "-f", `${prefix}vol`]);
            }
        }
    });
});
