// Backup bookkeeping without Docker: which volumes, where, manifests, checksums, release links.
import * as assert from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    BackupManifest,
    backupDir,
    backupsOfRelease,
    backupsText,
    dockerVolumeName,
    findBackup,
    listBackups,
    plannedVolumes,
    sha256File,
    verifyBackup,
} from "../../../ops/backup";

function manifest(over: Partial<BackupManifest>): BackupManifest {
    return { stack: "dev", release: 1, volume: "kv-data", dockerVolume: "kv-data", file: "kv-data-1.tar.gz", size: 3, sha256: "0".repeat(64), time: "2026-01-01T00:00:00.000Z", quiesce: "stop", reason: "backup", ...over };
}

describe("backups", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-backup-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Write an archive with its manifest, as `backup` does. */
    function write(m: BackupManifest, content = "abc"): string {
        const archive = path.join(dir, m.file);
        fs.writeFileSync(archive, content);
        fs.writeFileSync(`${archive}.json`, JSON.stringify({ ...m, size: content.length, sha256: createHash("sha256").update(content).digest("hex") }));
        return archive;
    }

    describe("plannedVolumes", () => {
        const env = {
            prefix: "pb",
            volumes: { "kv-data": { backup: true as const }, cache: {}, logs: { backup: { quiesce: "pause" as const } }, scratch: { backup: { quiesce: "none" as const } } },
        };

        it("without names: exactly the marked volumes, `true` meaning stop, with prefixed Docker names", () => {
            assert.deepStrictEqual(plannedVolumes(env), [
                { volume: "kv-data", dockerVolume: "pb-kv-data", quiesce: "stop" },
                { volume: "logs", dockerVolume: "pb-logs", quiesce: "pause" },
                { volume: "scratch", dockerVolume: "pb-scratch", quiesce: "none" },
            ]);
        });

        it("with names: only those, an unmarked one copied live", () => {
            assert.deepStrictEqual(plannedVolumes(env, ["cache", "cache"]), [{ volume: "cache", dockerVolume: "pb-cache", quiesce: "none" }]);
        });

        it("refuses names the stack file does not have, listing them all and the volumes there are", () => {
            assert.throws(() => plannedVolumes(env, ["kv", "data", "cache"]), {
                message: 'no volume "kv", "data" in the stack file; its volumes are kv-data, cache, logs, scratch',
            });
        });

        it("Docker names follow the program: the prefix, or the name alone", () => {
            assert.strictEqual(dockerVolumeName({ prefix: "it" }, "kv-data"), "it-kv-data");
            assert.strictEqual(dockerVolumeName({}, "kv-data"), "kv-data");
        });
    });

    it("backupDir: $DOCKYARD_BACKUP_DIR, else the stack file's backupDir (project-relative), else .dockyard/backups; one folder per stack", () => {
        const saved = { b: process.env.DOCKYARD_BACKUP_DIR, r: process.env.DOCKYARD_RELEASES_DIR };
        try {
            delete process.env.DOCKYARD_BACKUP_DIR;
            delete process.env.DOCKYARD_RELEASES_DIR;
            assert.strictEqual(backupDir("/p", "dev", {}), "/p/.dockyard/backups/dev");
            assert.strictEqual(backupDir("/p", "dev", { backupDir: "../b" }), "/b/dev");
            process.env.DOCKYARD_BACKUP_DIR = "/srv/backups";
            assert.strictEqual(backupDir("/p", "dev", { backupDir: "../b" }), "/srv/backups/dev");
        } finally {
            for (const [k, v] of [["DOCKYARD_BACKUP_DIR", saved.b], ["DOCKYARD_RELEASES_DIR", saved.r]] as const) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
        }
    });

    it("sha256File is the SHA-256 of the file's bytes, across read-buffer boundaries", () => {
        const big = Buffer.alloc((1 << 20) + 17, 7);
        fs.writeFileSync(path.join(dir, "f"), big);
        assert.strictEqual(sha256File(path.join(dir, "f")), createHash("sha256").update(big).digest("hex"));
    });

    describe("verifyBackup", () => {
        it("accepts an archive that matches its manifest", () => {
            const archive = write(manifest({}));
            assert.doesNotThrow(() => verifyBackup(findBackup(dir, "kv-data-1.tar.gz").manifest, archive));
        });

        it("refuses one changed byte, naming both checksums", () => {
            const archive = write(manifest({}));
            const { manifest: m } = findBackup(dir, archive);
            fs.writeFileSync(archive, "abd");
            const bad = createHash("sha256").update("abd").digest("hex");
            assert.throws(() => verifyBackup(m, archive), {
                message: `backup kv-data-1.tar.gz is corrupt: its sha256 is ${bad} (3 bytes), the manifest recorded ${m.sha256} (3 bytes); refusing to restore it`,
            });
        });

        it("refuses a truncated archive and a missing one", () => {
            const archive = write(manifest({}));
            const { manifest: m } = findBackup(dir, archive);
            fs.writeFileSync(archive, "ab");
            assert.throws(() => verifyBackup(m, archive), /is corrupt: .* \(2 bytes\), the manifest recorded .* \(3 bytes\)/);
            fs.rmSync(archive);
            assert.throws(() => verifyBackup(m, archive), { message: `backup kv-data-1.tar.gz is missing its archive ${archive}` });
        });
    });

    it("findBackup takes the archive path, the manifest path or the file name; anything else is refused", () => {
        const archive = write(manifest({}));
        for (const from of [archive, `${archive}.json`, "kv-data-1.tar.gz", "/elsewhere/kv-data-1.tar.gz"]) {
            assert.deepStrictEqual(findBackup(dir, from).archive, archive, from);
        }
        assert.throws(() => findBackup(dir, "nope.tar.gz"), {
            message: `no backup "nope.tar.gz": expected an archive with its .json manifest next to it, or the name of one in ${dir} (see \`releases\`)`,
        });
    });

    it("listBackups: oldest first, skipping manifests that do not parse; none for a missing folder", () => {
        write(manifest({ file: "b.tar.gz", time: "2026-01-02T00:00:00.000Z" }));
        write(manifest({ file: "a.tar.gz", time: "2026-01-01T00:00:00.000Z" }));
        fs.writeFileSync(path.join(dir, "c.tar.gz.json"), "{");
        assert.deepStrictEqual(listBackups(dir).map((b) => b.file), ["a.tar.gz", "b.tar.gz"]);
        assert.deepStrictEqual(listBackups(path.join(dir, "missing")), []);
    });

    it("backupsOfRelease: the latest backup of each volume recorded with that release, and nothing of others", () => {
        const all = [
            manifest({ file: "1", release: 1, time: "1" }),
            manifest({ file: "2", release: 1, time: "2" }),
            manifest({ file: "3", release: 1, volume: "uploads", time: "3" }),
            manifest({ file: "4", release: 2, time: "4" }),
            manifest({ file: "5", release: undefined, time: "5" }),
        ];
        assert.deepStrictEqual([...backupsOfRelease(all, 1).entries()].map(([v, b]) => [v, b.file]), [["kv-data", "2"], ["uploads", "3"]]);
        assert.deepStrictEqual([...backupsOfRelease(all, 3).keys()], []);
    });

    it("backupsText: a section `releases` appends, one row per backup; nothing when there are none", () => {
        assert.strictEqual(backupsText([]), "");
        const text = backupsText([manifest({ size: 2048, sha256: "ab".repeat(32), release: 4, reason: "before release 5" }), manifest({ release: undefined, size: 10 })]);
        assert.strictEqual(text, [
            "",
            "backups:",
            "release  time                 volume               size  sha256        reason             file",
            "4        2026-01-01 00:00:00  kv-data           2.0 KiB  abababababab  before release 5   kv-data-1.tar.gz",
            "-        2026-01-01 00:00:00  kv-data              10 B  000000000000  backup             kv-data-1.tar.gz",
        ].join("\n") + "\n");
    });
});
