import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    Release, appendRelease, describeChanges, failureSummary, isInterrupted, lockStack, readReleases, rollbackHistory, rollbackSecretsNote, rollbackTarget,
} from "../../../ops/releases";

function rel(number: number, result: Release["result"], web: string, kv = "kv1", kind = "deploy"): Release {
    return {
        number, result, time: `2026-11-22T10:0${number}:00.000Z`, kind, images: { app: web }, environment: {},
        manifest: { web: { image: web, specHash: "a" }, kv: { image: kv, specHash: "b" } },
    };
}

describe("release records", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-rel-"));
        process.env.DOCKYARD_RELEASES_DIR = path.join(dir, ".dockyard");
    });
    afterEach(() => {
        delete process.env.DOCKYARD_RELEASES_DIR;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("numbers releases in order and reads them back", () => {
        const { number: _, ...first } = rel(0, "succeeded", "w1");
        assert.strictEqual(appendRelease(dir, "dev", first).number, 1);
        assert.strictEqual(appendRelease(dir, "dev", first).number, 2);
        assert.deepStrictEqual(readReleases(dir, "dev").map((r) => r.number), [1, 2]);
        assert.deepStrictEqual(readReleases(dir, "prod"), []);
    });

    it("rolls back to the last successful release that differs from the current one", () => {
        const releases = [rel(1, "succeeded", "w1"), rel(2, "succeeded", "w2"), rel(3, "failed", "w3")];
        assert.strictEqual(rollbackTarget(releases).number, 1);
        // A new deploy of w1's code is a release of its own: the one before it is 2.
        assert.strictEqual(rollbackTarget([...releases, rel(4, "succeeded", "w1")]).number, 2);
        assert.strictEqual(rollbackTarget(releases, 2).number, 2);
    });

    it("refuses unknown, failed and missing targets with the fix in the message", () => {
        const releases = [rel(1, "succeeded", "w1"), rel(2, "failed", "w2")];
        assert.throws(() => rollbackTarget(releases, 7), { message: "release 7 does not exist; recorded releases: 1, 2" });
        assert.throws(() => rollbackTarget(releases, 2), { message: "release 2 failed when it was deployed; pick a successful one (see `releases`)" });
        assert.throws(() => rollbackTarget(releases), { message: "there is no successful release before release 1 (running now) that was not rolled back from; see `releases`" });
        assert.throws(() => rollbackTarget([rel(1, "failed", "w1")]), { message: "no release has succeeded yet, so there is nothing to roll back to" });
        assert.throws(() => rollbackTarget([]), { message: "no releases are recorded for this stack yet; deploy one with `deploy` first" });
    });

    describe("rollback target over release histories", () => {
        // [history as "number:result:image[:rollback to n]", the target of a plain rollback, or the error]
        const d = (n: number, image: string) => rel(n, "succeeded", image);
        const f = (n: number, image: string) => rel(n, "failed", image);
        const rb = (n: number, to: number, image: string, result: Release["result"] = "succeeded") => rel(n, result, image, "kv1", `rollback to ${to}`);
        const table: Array<[string, Release[], number | string]> = [
            ["1, 2, 3: back to 2", [d(1, "w1"), d(2, "w2"), d(3, "w3")], 2],
            ["1, 2, 3, rolled back to 2: a second rollback goes to 1, never forward to 3", [d(1, "w1"), d(2, "w2"), d(3, "w3"), rb(4, 2, "w2")], 1],
            ["... and a third has nowhere to go", [d(1, "w1"), d(2, "w2"), d(3, "w3"), rb(4, 2, "w2"), rb(5, 1, "w1")], "there is no successful release before release 1 (running now) that was not rolled back from; see `releases`"],
            ["a failed release is skipped: 1, 2, 3 failed → 1", [d(1, "w1"), d(2, "w2"), f(3, "w3")], 1],
            ["a failed rollback changes nothing: 1, 2, 3, rollback to 2 failed → 2", [d(1, "w1"), d(2, "w2"), d(3, "w3"), rb(4, 2, "w2", "failed")], 2],
            ["a deploy after a rollback starts afresh: 1, 2, 3, rb→2, deploy 5 → 2 (3 stays rolled back from)", [d(1, "w1"), d(2, "w2"), d(3, "w3"), rb(4, 2, "w2"), d(5, "w5")], 2],
            ["the same code as now is no rollback: 1, 2, 3 (same as 2) → 1", [d(1, "w1"), d(2, "w2"), d(3, "w2")], 1],
            ["rolled back to 1 with --to, then again: nothing before 1", [d(1, "w1"), d(2, "w2"), rb(3, 1, "w1")], "there is no successful release before release 1 (running now) that was not rolled back from; see `releases`"],
            ["after rb→1 and a new deploy 4, a rollback goes to 1, skipping 2 that was rolled back from", [d(1, "w1"), d(2, "w2"), rb(3, 1, "w1"), d(4, "w4")], 1],
            ["a rollback --with-data counts as a rollback: 1, 2, 3, rb→2 with data → 1", [d(1, "w1"), d(2, "w2"), d(3, "w3"), rel(4, "succeeded", "w2", "kv1", "rollback to 2 with data")], 1],
        ];
        for (const [what, history, expected] of table) {
            it(what, () => {
                if (typeof expected === "number") assert.strictEqual(rollbackTarget(history).number, expected);
                else assert.throws(() => rollbackTarget(history), { message: expected });
            });
        }

        it("lists which releases were rolled back from", () => {
            assert.deepStrictEqual([...rollbackHistory([d(1, "w1"), d(2, "w2"), d(3, "w3"), rb(4, 2, "w2"), rb(5, 1, "w1")]).rolledBackFrom].sort(), [2, 3]);
        });

        it("--to a rollback release means the release it restored", () => {
            assert.strictEqual(rollbackTarget([d(1, "w1"), d(2, "w2"), rb(3, 1, "w1"), d(4, "w4")], 3).number, 1);
            assert.strictEqual(rollbackTarget([d(1, "w1"), d(2, "w2"), rel(3, "succeeded", "w1", "kv1", "rollback to 1 with data"), d(4, "w4")], 3).number, 1);
        });
    });

    it("records why a deploy failed: each convergence diagnosis once, however often Pulumi repeats it", () => {
        const diagnosis = [
            "dockyard: service web did not converge: Swarm rolled the update back (update rolled back due to failure)",
            "  task web.1 (abc123456789): failed: task: non-zero exit (3)",
            "    exit code 3",
            "    last log lines:",
            "      crash",
        ];
        const indented = (n: number) => diagnosis.map((l) => " ".repeat(n) + l).join("\n");
        const output = [
            "Updating (it):",
            " ~  command:local:Command web-converged updating (12s) error: exit status 1: running \"node -e \\\"$DOCKYARD_SCRIPT\\\"\":",
            indented(4),
            "Diagnostics:",
            "  command:local:Command (web-converged):",
            indented(4),
            "",
            "Resources:",
        ].join("\n");
        assert.strictEqual(failureSummary(output), diagnosis.join("\n"));
        // Without a diagnosis, the last lines of the output.
        assert.strictEqual(failureSummary("a\n\nb\nerror: something else\n"), "a\nb\nerror: something else");
    });

    it("tells a rollout a node's drain interrupted from a failed release: only the first is deployed again", () => {
        const interrupted = "dockyard: service web: the rollout was interrupted, not failed: its task web.2 (wpra51capcsr) was stopped because node worker2 is being drained, and Swarm rolled the update back; deploying again finishes it";
        const failed = "dockyard: service kv did not converge: Swarm rolled the update back (update rolled back due to failure)";
        const output = `Updating (it):\nDiagnostics:\n  command:local:Command (web-converged):\n    ${interrupted}\n\nResources:\n`;
        assert.strictEqual(failureSummary(output), interrupted);
        assert.strictEqual(isInterrupted({ result: "failed", message: interrupted }), true);
        // One service that really failed makes it a failed release.
        assert.strictEqual(isInterrupted({ result: "failed", message: `${interrupted}\n${failed}` }), false);
        assert.strictEqual(isInterrupted({ result: "failed", message: "error: something else" }), false);
        assert.strictEqual(isInterrupted({ result: "succeeded", message: undefined }), false);
    });

    it("describes what changed between releases", () => {
        assert.strictEqual(describeChanges(undefined, rel(1, "succeeded", "w1")), "first release");
        assert.strictEqual(describeChanges(rel(1, "succeeded", "w1"), rel(2, "succeeded", "w2")), "web image");
        assert.strictEqual(describeChanges(rel(1, "succeeded", "w1"), rel(2, "succeeded", "w1")), "no service changes");
        const spec = rel(2, "succeeded", "w1");
        assert.strictEqual(describeChanges(rel(1, "succeeded", "w1"), { ...spec, manifest: { ...spec.manifest, kv: { image: "kv1", specHash: "c" } } }), "kv spec");
    });

    it("locks a stack once, names the holder, and takes over a dead holder's lock", () => {
        const lock = lockStack(dir, "dev", "deploy");
        assert.throws(() => lockStack(dir, "dev", "rollback"), (e: Error) => e.message.startsWith(`stack dev is locked: \`deploy\` (pid ${process.pid} on ${os.hostname()})`));
        const other = lockStack(dir, "prod", "deploy");
        lock.release();
        other.release();
        const file = path.join(dir, ".dockyard/locks/dev.lock");
        fs.writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), command: "deploy", since: "x" }));
        const taken = lockStack(dir, "dev", "deploy");
        // The deploy says whose lock it took over, so it can release that process's Pulumi lock too.
        assert.deepStrictEqual(taken.tookOverFrom, { pid: 2 ** 22 + 12345, command: "deploy", since: "x" });
        taken.release();
        assert.strictEqual(fs.existsSync(file), false);
        const fresh = lockStack(dir, "dev", "deploy");
        assert.strictEqual(fresh.tookOverFrom, undefined, "a lock taken normally took over nothing");
        fresh.release();
        assert.strictEqual(fs.existsSync(file), false);
    });

    it("takes over the lock of a killed deploy that its parent has not reaped yet (a zombie)", () => {
        const child = spawn("sleep", ["100"], { stdio: "ignore" });
        child.kill("SIGKILL");
        // Until the event loop runs, Node does not reap it: it stays a zombie, as under spawnSync.
        const deadline = Date.now() + 5000;
        while (!/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${child.pid}/stat`, "utf8")) && Date.now() < deadline);
        const file = path.join(dir, ".dockyard/locks/dev.lock");
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, JSON.stringify({ pid: child.pid, host: os.hostname(), command: "deploy", since: "x" }));
        lockStack(dir, "dev", "rollback").release();
        assert.strictEqual(fs.existsSync(file), false);
    });
});

describe("rollbackSecretsNote", () => {
    it("says the values are the current ones, read now from each source the release names", () => {
        const environment = { secrets: { app_token: { env: "APP_TOKEN" }, db: { fromConfig: "dbPassword" }, key: { command: ["op", "read", "op://prod/key"], trim: true } } };
        assert.strictEqual(rollbackSecretsNote({ number: 3, environment }),
            "secret values are the current ones, not release 3's: each is read now from its source " +
            '(app_token from env APP_TOKEN, db from config key dbPassword, key from command ["op","read","op://prod/key"])');
    });
    it("says nothing for a release without secrets", () => {
        assert.strictEqual(rollbackSecretsNote({ number: 1, environment: { services: {} } }), undefined);
        assert.strictEqual(rollbackSecretsNote({ number: 1, environment: undefined }), undefined);
    });
});
