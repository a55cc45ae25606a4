import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Release, appendRelease, describeChanges, lockStack, readReleases, rollbackTarget } from "../../../ops/releases";

function rel(number: number, result: Release["result"], web: string, kv = "kv1"): Release {
    return {
        number, result, time: `2026-11-22T10:0${number}:00.000Z`, kind: "deploy", images: { app: web }, environment: {},
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
        // After a rollback to 1 the current release runs w1, so the previous different one is 2.
        assert.strictEqual(rollbackTarget([...releases, rel(4, "succeeded", "w1")]).number, 2);
        assert.strictEqual(rollbackTarget(releases, 2).number, 2);
    });

    it("refuses unknown, failed and missing targets with the fix in the message", () => {
        const releases = [rel(1, "succeeded", "w1"), rel(2, "failed", "w2")];
        assert.throws(() => rollbackTarget(releases, 7), { message: "release 7 does not exist; recorded releases: 1, 2" });
        assert.throws(() => rollbackTarget(releases, 2), { message: "release 2 failed when it was deployed; pick a successful one (see `releases`)" });
        assert.throws(() => rollbackTarget(releases), { message: "there is no successful release before the current one to roll back to" });
        assert.throws(() => rollbackTarget([]), { message: "no releases are recorded for this stack yet; deploy one with `deploy` first" });
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
        lockStack(dir, "dev", "deploy").release();
        assert.strictEqual(fs.existsSync(file), false);
    });
});
