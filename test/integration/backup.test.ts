// Volume backups on the real engine: data written to the key-value service, a backup, a release
// that corrupts the data, and `rollback --with-data` returning the exact bytes with the other
// volumes untouched; a corrupted backup refused.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { Sandbox, dockerObjects, editEnvironment, eventually, pluginMissing, projectSandbox, removeVolumes, requireOrSkip, sh, swarmMissing } from "./prereqs";

const WEB_PORT = 18290;
const REGISTRY_PORT = 18291;

/** `sha256  ./path` of every file in a volume (the health check's marker file aside). */
function volumeSums(volume: string): string {
    return sh("docker", ["run", "--rm", "-v", `${volume}:/data:ro`, "dockyard/busybox:1.35.0", "sh", "-c", "cd /data && find . -type f ! -name .health | sort | xargs -r sha256sum"]);
}

describe("integration: volume backup, restore and rollback --with-data", function () {
    this.timeout(30 * 60_000);
    const prefix = `pbb${process.pid % 100000}`;
    const kvVolume = `${prefix}-kv-data`;
    let box: Sandbox;
    let before1: string;
    let registryAfterRelease2: string;
    const cli = (args: string[]) => box.dockyard(args);
    const get = (key: string) => {
        try {
            return sh("curl", ["-s", "--max-time", "5", `http://127.0.0.1:${WEB_PORT}/kv/${key}`]);
        } catch {
            return "";
        }
    };
    const put = (key: string, value: string) => sh("curl", ["-s", "--max-time", "5", "-X", "PUT", "--data-binary", value, `http://127.0.0.1:${WEB_PORT}/kv/${key}`]);
    const registryVolume = () => dockerObjects(prefix).volumes.find((v) => v.includes("registry"))!;
    const backups = () => fs.readdirSync(path.join(box.dir, ".dockyard/backups/it")).filter((f) => f.endsWith(".tar.gz")).sort();

    before(function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
        box = projectSandbox(prefix, { web: WEB_PORT, registry: REGISTRY_PORT });
        box.pulumi(["stack", "init", "it", "--secrets-provider", "passphrase"]);
        box.pulumi(["config", "set", "--secret", "appToken"], { input: "backup-test-token" });
        editEnvironment(box, (env) => {
            env.volumes["kv-data"].backup = true;
            env.backupBeforeDeploy = true;
        });
    });

    after(async function () {
        if (!box) return;
        box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        await removeVolumes(prefix);
        box.cleanup();
    });

    it("release 1 serves; data written to the key-value service lands in its volume", async () => {
        const r = cli(["deploy", "it", "--no-policy"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.ok(!r.stdout.includes("backed up"), "nothing to back up before the first release");
        await eventually("kv to answer", () => put("data", "precious\nbytes\t1") === "stored data");
        assert.strictEqual(put("other", "second value"), "stored other");
        before1 = volumeSums(kvVolume);
        assert.strictEqual(before1.trim().split("\n").length, 2, before1);
    });

    it("backup writes a compressed archive and a manifest tied to release 1, with kv stopped during the copy", () => {
        const r = cli(["backup", "it"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`dockyard: stopping ${prefix}-kv \\(1 replica\\): they mount ${kvVolume}\n`));
        assert.match(r.stdout, new RegExp(`dockyard: started ${prefix}-kv again\n`));
        const [archive] = backups();
        const manifest = JSON.parse(fs.readFileSync(path.join(box.dir, ".dockyard/backups/it", `${archive}.json`), "utf8"));
        assert.deepStrictEqual([manifest.stack, manifest.release, manifest.volume, manifest.dockerVolume, manifest.quiesce, manifest.reason], ["it", 1, "kv-data", kvVolume, "stop", "backup"]);
        assert.strictEqual(manifest.size, fs.statSync(path.join(box.dir, ".dockyard/backups/it", archive)).size);
        assert.strictEqual(sh("gzip", ["-t", path.join(box.dir, ".dockyard/backups/it", archive)]), "");
        assert.strictEqual(get("data"), "precious\nbytes\t1", "kv serves again after the backup");
    });

    it("a release that corrupts the data deploys (after a backup before it) and serves the corrupted data", async () => {
        editEnvironment(box, (env) => {
            env.services.kv.command = ["sh", "-c", "printf corrupted > /data/data; rm -f /data/other; exec /app/bin/app kv"];
        });
        const r = cli(["deploy", "it", "--no-policy"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.ok(r.stdout.includes(`dockyard: backed up kv-data (${kvVolume})`), r.stdout);
        await eventually("the corrupted data", () => get("data") === "corrupted");
        assert.strictEqual(backups().length, 2);
        registryAfterRelease2 = volumeSums(registryVolume());
    });

    it("releases lists the backups with their releases", () => {
        const out = cli(["releases", "it"]).stdout;
        assert.match(out, /\nbackups:\n/);
        assert.match(out, /\n1 +\S+ \S+ +kv-data +[\d.]+ (B|KiB) +[0-9a-f]{12} +backup +kv-data-\S+\.tar\.gz\n/);
        assert.match(out, /\n1 +\S+ \S+ +kv-data +[\d.]+ (B|KiB) +[0-9a-f]{12} +before release 2 +kv-data-\S+\.tar\.gz\n/);
    });

    it("a corrupted backup is refused and nothing changes", () => {
        const dir = path.join(box.dir, ".dockyard/backups/it");
        const [first] = backups();
        const bad = path.join(dir, "corrupt.tar.gz");
        const bytes = fs.readFileSync(path.join(dir, first));
        bytes[Math.floor(bytes.length / 2)] ^= 0xff;
        fs.writeFileSync(bad, bytes);
        fs.copyFileSync(path.join(dir, `${first}.json`), `${bad}.json`);
        try {
            const r = cli(["restore", "it", "kv-data", "--from", bad]);
            assert.strictEqual(r.code, 1, r.stdout + r.stderr);
            assert.match(r.stderr, new RegExp(`^dockyard: backup corrupt\\.tar\\.gz is corrupt: its sha256 is [0-9a-f]{64} \\(\\d+ bytes\\), the manifest recorded [0-9a-f]{64} \\(\\d+ bytes\\); refusing to restore it\n$`));
            assert.strictEqual(r.stdout, "", "nothing was stopped");
            assert.strictEqual(get("data"), "corrupted");
        } finally {
            fs.rmSync(bad);
            fs.rmSync(`${bad}.json`);
        }
    });

    it("rollback --with-data returns release 1 and the exact bytes of its backup; the registry's volume is untouched", async () => {
        const r = cli(["rollback", "it", "--with-data", "--yes"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.ok(r.stdout.includes(`dockyard: restored ${kvVolume} from kv-data-`), r.stdout);
        assert.ok(r.stdout.includes("dockyard: release 3 of it recorded (rollback to 1 with data)."), r.stdout);
        await eventually("the restored data", () => get("data") === "precious\nbytes\t1");
        assert.strictEqual(get("other"), "second value");
        assert.strictEqual(volumeSums(kvVolume), before1);
        assert.strictEqual(volumeSums(registryVolume()), registryAfterRelease2);
        // A rollback with data is a rollback all the same: release 2 was rolled back from, 1 runs now.
        const releases = cli(["releases", "it"]).stdout;
        assert.match(releases, /\n1 [^\n]*\(running now\)\n/, releases);
        assert.match(releases, /\n2 [^\n]*\(rolled back from\)\n/, releases);
    });

    it("--with-data refuses a release without a backup, before changing anything", () => {
        const r = cli(["rollback", "it", "--to", "2", "--with-data", "--yes"]);
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.stderr, "dockyard: release 2 has no volume backup recorded, so --with-data cannot restore its data; releases with backups: 1 (take one with `backup it`)\n");
        assert.strictEqual(get("data"), "precious\nbytes\t1");
    });
});
