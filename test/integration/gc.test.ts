// Registry hygiene on the real engine (ops/gc-run.ts): a self-hosted registry run as the Registry
// component runs it (a Swarm service of dockyard/registry with deletes enabled, its data on a volume),
// five builds of one repository with release records (two failed), keep 2. Exactly the right
// manifests stay in the registry and on the engine, a foreign repository is untouched, the garbage
// collection frees space with the registry read-only meanwhile, and a push during it is not lost.
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BUILD_SCRIPT } from "../../components/image";
import type { Environment } from "../../config/schema";
import { READONLY_ENV, RegistryApi, garbageCollect, gcTarget, runGc, whileReadOnly } from "../../ops/gc-run";
import type { Release } from "../../ops/releases";
import { pushBuilds, recordReleases, startRegistry } from "./gc-helpers";
import { claimPrefix, eventually, requireOrSkip, sh, swarmMissing } from "./prereqs";

const PORT = 15531;

describe("integration: registry hygiene (dockyard gc) on the real engine", function () {
    this.timeout(10 * 60_000);
    const prefix = `gc${process.pid % 100000}`;
    const service = `${prefix}-registry`;
    const server = `127.0.0.1:${PORT}`;
    const repo = `${prefix}/app`;
    const ref = `${server}/${repo}`;
    const foreign = `${server}/${prefix}/foreign`;
    const api = new RegistryApi(`http://${server}`);
    const docker = (args: string[]) => sh("docker", args);
    const env = { prefix, registry: { selfHosted: { port: PORT } }, images: { app: { context: "app", repository: repo, keep: 2 } } } as unknown as Environment;
    let dir: string;
    let digests: string[];
    let releases: Release[];
    const log: string[] = [];

    before(async function () {
        requireOrSkip(this, swarmMissing());
        claimPrefix(`${prefix}-`);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-gc-"));
        startRegistry(docker, service, PORT);
        await eventually("the registry to answer", () => {
            try {
                return sh("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", `http://${server}/v2/`]) === "200";
            } catch {
                return false;
            }
        });
        digests = await pushBuilds(docker, ref, ["c-1", "c-2", "c-3", "c-4", "c-5"], dir);
        await pushBuilds(docker, foreign, ["1", "2", "3"], dir);
        // Releases 2 and 3 failed (never a rollback target); 1, 4 and 5 succeeded.
        releases = recordReleases(dir, "it", digests.map((d) => `${ref}@${d}`), [2, 3]);
    });

    after(async () => {
        if (!dir) return;
        sh("docker", ["service", "rm", service], { timeoutMs: 60_000 });
        await eventually(`${service}'s volume to be removable`, () => {
            try {
                sh("docker", ["volume", "rm", `${service}-data`]);
                return true;
            } catch {
                return false;
            }
        });
        const mine = sh("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).split("\n").filter((i) => i.startsWith(`${server}/${prefix}/`));
        const byDigest = sh("docker", ["image", "ls", "--digests", "--format", "{{.Repository}}@{{.Digest}}"]).split("\n").filter((i) => i.startsWith(`${server}/${prefix}/`) && !i.endsWith("<none>"));
        for (const image of [...mine.filter((i) => !i.endsWith(":<none>")), ...byDigest]) spawnSyncQuiet(["image", "rm", image]);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("a dry run lists what would go and removes nothing", async () => {
        const r = await runGc(gcTarget(env)!, releases, { dryRun: true, log: (m) => log.push(m) });
        assert.deepStrictEqual(r.plans.map((p) => ({ kept: p.kept.map((k) => k.digest), remove: p.remove.map((m) => m.digest) })), [
            { kept: [digests[4], digests[3], digests[0]], remove: [digests[2], digests[1]] },
        ]);
        assert.strictEqual(r.deleted, 0);
        assert.deepStrictEqual((await api.tags(repo)).sort(), ["c-1", "c-2", "c-3", "c-4", "c-5"]);
        assert.ok(log.some((l) => l.startsWith(`registry ${server}, ${repo} (keep 2): 5 manifests; keeping 3: `)), log.join("\n"));
        assert.ok(log.some((l) => /^ {2}would remove 2, up to \d/.test(l)), log.join("\n"));
    });

    it("after 5 releases with keep 2: the 2 newest and the one release 1 references stay, in the registry and on the engine; the foreign repository is untouched", async () => {
        log.length = 0;
        const configOf = async (digest: string) => (await api.manifest(repo, digest)).body.config.digest as string;
        const goneConfigs = [await configOf(digests[1]), await configOf(digests[2])];
        const r = await runGc(gcTarget(env)!, releases, { dryRun: false, log: (m) => log.push(m) });
        assert.strictEqual(r.deleted, 2);
        assert.deepStrictEqual((await api.tags(repo)).sort(), ["c-1", "c-4", "c-5"]);
        assert.deepStrictEqual((await api.stored(repo)).map((m) => m.digest).sort(), [digests[0], digests[3], digests[4]].sort());
        assert.deepStrictEqual((await api.tags(`${prefix}/foreign`)).sort(), ["1", "2", "3"]);
        // The garbage collection removed the deleted images' blobs and freed space.
        for (const config of goneConfigs) assert.strictEqual((await fetch(`http://${server}/v2/${repo}/blobs/${config}`, { method: "HEAD" })).status, 404);
        assert.ok(r.registryFreed! > 0, log.join("\n"));
        assert.ok(log.some((l) => l.startsWith(`registry ${server}: 2 manifests deleted; its garbage collection freed `)), log.join("\n"));
        // The registry is writable again: its service no longer has the read-only setting.
        assert.ok(!docker(["service", "inspect", "--format", "{{json .Spec.TaskTemplate.ContainerSpec.Env}}", service]).includes(READONLY_ENV));
        // On this engine, only the builds the registry no longer keeps went; the foreign ones stayed.
        const here = docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).split("\n").filter((i) => i.startsWith(`${server}/${prefix}/`)).sort();
        assert.deepStrictEqual(here, [`${ref}:c-1`, `${ref}:c-4`, `${ref}:c-5`, `${foreign}:1`, `${foreign}:2`, `${foreign}:3`]);
        // Release 1, older than the newest 2, can still be pulled by digest (what its rollback deploys).
        docker(["image", "rm", `${ref}:c-1`]);
        assert.throws(() => docker(["image", "inspect", `${ref}@${digests[0]}`]), /No such image/);
        docker(["pull", "-q", `${ref}@${digests[0]}`]);
    });

    it("a push during the garbage collection is refused while the registry is read-only, tried again, and lands", async () => {
        fs.writeFileSync(path.join(dir, "Dockerfile"), `FROM dockyard/busybox:1.35.0\nRUN echo during-gc > /build\n`);
        let stderr = "";
        let stdout = "";
        let pushed: Promise<number> | undefined;
        const freed = await whileReadOnly(service, () => undefined, async (container) => {
            const child = spawn("sh", ["-c", BUILD_SCRIPT], {
                env: {
                    ...process.env, IMAGE_REF: `${ref}:c-6`, IMAGE_OWNER: `${prefix}.it.app`, CONTEXT: dir, DOCKERFILE: path.join(dir, "Dockerfile"), BUILD_ARGS: "",
                    TARGET: "", TEST_TARGET: "", PLATFORM: "", REGISTRY_SERVER: server, REGISTRY_USERNAME: "", REGISTRY_PASSWORD: "", PUSH_RETRY_SECONDS: "2",
                },
            });
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            pushed = new Promise((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
            // The push is refused while the registry is read-only; the garbage collection runs then.
            await eventually("the push to be refused", () => stderr.includes("(attempt 1 of 7: "), 120_000);
            return garbageCollect(container);
        });
        assert.strictEqual(await pushed, 0, stderr);
        assert.match(stderr, new RegExp(`^dockyard: pushing ${ref}:c-6 to ${server} failed \\(attempt 1 of 7: .*405.*; the registry is read-only, probably for its garbage collection\\); trying again in 2s\n`), stderr);
        assert.ok(freed.before > 0);
        const digest = stdout.trim().split("@")[1];
        assert.strictEqual((await api.manifest(repo, "c-6")).digest, digest);
        docker(["image", "rm", `${ref}:c-6`]);
        docker(["pull", "-q", `${ref}@${digest}`]);
    });
});

function spawnSyncQuiet(args: string[]): void {
    try {
        sh("docker", args);
    } catch {
        // already gone
    }
}
