// Review and release for real: releases recorded by `deploy`, a failed release that leaves the
// previous one serving, rollback to the previous and to a named release (volume data kept), a
// refused unknown release, and the per-stack lock.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEPLOY_PARALLELISM } from "../../ops/parallelism";
import { Sandbox, editEnvironment, eventually, pluginMissing, projectSandbox, removeVolumes, requireOrSkip, sh, swarmMissing } from "./prereqs";

const WEB_PORT = 18090;
const REGISTRY_PORT = 15090;

function body(urlPath: string): string {
    try {
        return sh("curl", ["-s", "--max-time", "5", `http://127.0.0.1:${WEB_PORT}${urlPath}`]);
    } catch {
        return "";
    }
}

describe("integration: review, release and rollback", function () {
    this.timeout(30 * 60_000);
    const prefix = `dyr${process.pid % 100000}`;
    let box: Sandbox;
    const cli = (args: string[]) => box.dockyard(args);
    const setVersion = (change: (env: any) => void) => editEnvironment(box, change);
    const served = () => body("/").replace(/ host=.*$/, "");

    before(function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
        box = projectSandbox(prefix, { web: WEB_PORT, registry: REGISTRY_PORT });
        box.pulumi(["stack", "init", "it", "--secrets-provider", "passphrase"]);
        box.pulumi(["config", "set", "--secret", "appToken"], { input: "release-test-token" });
    });

    after(async function () {
        if (!box) return;
        box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        await removeVolumes(prefix);
        box.cleanup();
    });

    it("review of a new stack: exit 2 and a Markdown and JSON report", () => {
        const r = cli(["review", "it"]);
        assert.strictEqual(r.code, 2, r.stderr);
        assert.ok(r.stdout.startsWith("## Dockyard review of `it`\n"), r.stdout);
        const json = JSON.parse(fs.readFileSync(path.join(box.dir, ".dockyard/reviews/review-it.json"), "utf8"));
        assert.strictEqual(json.exitCode, 2);
        // 9 Docker objects and commands, a convergence wait for each of the 3 services, and the
        // look-up of the node holding each of the 2 node-local volumes.
        assert.strictEqual(json.counts.create, 14);
        assert.strictEqual(fs.readFileSync(path.join(box.dir, ".dockyard/reviews/review-it.md"), "utf8"), r.stdout);
    });

    it("deploy records release 1, running pulumi up with Dockyard's parallelism; an unchanged stack then reviews as exit 0", async () => {
        // A pulumi on PATH that logs its arguments, then runs the real one.
        const bin = path.join(box.dir, "logging-bin");
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\necho "$*" >> ${bin}/calls.log\nexec ${sh("which", ["pulumi"]).trim()} "$@"\n`, { mode: 0o755 });
        const r = box.dockyard(["deploy", "it"], { ...box.env, PATH: `${bin}:${box.env.PATH}` });
        assert.strictEqual(r.code, 0, r.stderr);
        const ups = fs.readFileSync(path.join(bin, "calls.log"), "utf8").split("\n").filter((c) => c.startsWith("up "));
        assert.strictEqual(ups.length, 1, ups.join("\n"));
        assert.match(ups[0], new RegExp(`--parallel ${DEPLOY_PARALLELISM}( |$)`));
        assert.ok(r.stdout.includes("dockyard: release 1 of it recorded (deploy)."), r.stdout);
        await eventually("the app to serve", () => served() === "dockyard sample app version=dev");
        assert.strictEqual(cli(["review", "it"]).code, 0);
    });

    it("deploy of a new version records release 2; data written then survives everything after", async () => {
        setVersion((env) => (env.images.app.buildArgs.APP_VERSION = "v2"));
        assert.strictEqual(cli(["deploy", "it"]).code, 0);
        await eventually("v2 to serve", () => served() === "dockyard sample app version=v2");
        assert.strictEqual(sh("curl", ["-s", "-X", "PUT", "--data-binary", "precious", `http://127.0.0.1:${WEB_PORT}/kv/data`]), "stored data");
    });

    it("services, a network and a secret removed behind Dockyard's back show as drift and are put back by the next deploy", async () => {
        sh("docker", ["service", "rm", `${prefix}-web`, `${prefix}-kv`]);
        await eventually("the services' tasks to be gone", () => sh("docker", ["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${prefix}-web`]).trim() === "");
        const secret = sh("docker", ["secret", "ls", "--format", "{{.Name}}"]).split("\n").find((n) => n.startsWith(`${prefix}-app_token-`))!;
        sh("docker", ["secret", "rm", secret]);
        await eventually("the network to be removable", () => {
            try {
                sh("docker", ["network", "rm", `${prefix}-backend`]);
                return true;
            } catch {
                return false;
            }
        });
        const review = cli(["review", "it"]);
        assert.strictEqual(review.code, 2, review.stdout + review.stderr);
        assert.ok(review.stdout.includes("### Drift: changed outside Dockyard"), review.stdout);
        for (const gone of ["web-service", "kv-service", "app_token-secret", "backend-network"]) {
            assert.match(review.stdout, new RegExp(`- \`${prefix}-${gone}\` \\(docker \\w+\\): removed outside Dockyard: created again`), review.stdout);
        }
        const r = cli(["deploy", "it"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        await eventually("v2 to serve again", () => served() === "dockyard sample app version=v2");
        assert.strictEqual(body("/kv/data"), "precious", "the volume was never touched");
        assert.strictEqual(cli(["review", "it"]).code, 0);
    });

    it("a release whose health check fails is recorded as failed, says why, and v2 keeps serving", async () => {
        setVersion((env) => (env.images.app.buildArgs.BREAK_HEALTH = "1"));
        const r = cli(["deploy", "it"]);
        assert.strictEqual(r.code, 1, r.stdout);
        assert.match(r.stderr, /dockyard: release 4 of it FAILED; it is recorded as failed\. Why:\ndockyard: service \S+-web did not converge: Swarm (rolled|is rolling) the update back/);
        assert.match(r.stderr, /health check exited 1/);
        await eventually("Swarm to roll web back to v2", () => served() === "dockyard sample app version=v2");
        setVersion((env) => delete env.images.app.buildArgs.BREAK_HEALTH);
        const listed = cli(["releases", "it"]).stdout;
        assert.match(listed, /\n4 +\S+ \S+ +failed +deploy .*\n +dockyard: service \S+-web did not converge: Swarm (rolled|is rolling) the update back/);
    });

    it("deploy of v3 records release 5", async () => {
        setVersion((env) => (env.images.app.buildArgs.APP_VERSION = "v3"));
        const r = cli(["deploy", "it"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        await eventually("v3 to serve", () => served() === "dockyard sample app version=v3");
    });

    it("lists the releases with their results and changes", () => {
        const lines = cli(["releases", "it"]).stdout.trim().split("\n").filter((l) => /^\d/.test(l));
        assert.strictEqual(lines.length, 5);
        assert.match(lines[0], /^1 +\S+ \S+ +succeeded deploy .* first release /);
        assert.match(lines[1], /^2 +\S+ \S+ +succeeded deploy .* kv image, web image /);
        assert.match(lines[2], /^3 +\S+ \S+ +succeeded deploy .* no service changes /);
        assert.match(lines[3], /^4 +\S+ \S+ +failed +deploy /);
        assert.match(lines[4], /^5 +\S+ \S+ +succeeded deploy .*\(running now\)$/);
    });

    it("rolling back twice goes further back, never forward: v3 → v2 → v1, volume data kept", async () => {
        const first = cli(["rollback", "it", "--yes"]);
        assert.strictEqual(first.code, 0, first.stderr);
        assert.ok(first.stdout.includes("dockyard: rolling it back to release 3"), first.stdout);
        await eventually("v2 to serve", () => served() === "dockyard sample app version=v2");
        assert.strictEqual(body("/kv/data"), "precious");
        const preview = box.pulumi(["preview", "--expect-no-changes"], { allowFailure: true });
        assert.strictEqual(preview.code, 0, "state, preview and reality agree after a rollback");

        // Release 2 runs the same code as 3, so the next one back is release 1.
        const second = cli(["rollback", "it", "--yes"]);
        assert.strictEqual(second.code, 0, second.stderr);
        assert.ok(second.stdout.includes("dockyard: rolling it back to release 1"), second.stdout);
        await eventually("release 1 (dev) to serve", () => served() === "dockyard sample app version=dev");
        assert.strictEqual(body("/kv/data"), "precious");
        assert.match(cli(["releases", "it"]).stdout, /\n5 .*\(rolled back from\)/);
    });

    it("rollback --to a release that was rolled back from asks first; --yes deploys it", async () => {
        const refused = cli(["rollback", "it", "--to", "5"]);
        assert.deepStrictEqual([refused.code, refused.stderr], [1, "dockyard: release 5 was rolled back from before; pass --yes to deploy it again anyway\n"]);
        assert.strictEqual(served(), "dockyard sample app version=dev");
        assert.strictEqual(cli(["rollback", "it", "--to", "5", "--yes"]).code, 0);
        await eventually("release 5 (v3) to serve", () => served() === "dockyard sample app version=v3");
        assert.strictEqual(body("/kv/data"), "precious");
    });

    it("refuses an unknown release and a failed one, changing nothing", () => {
        const unknown = cli(["rollback", "it", "--to", "99", "--yes"]);
        assert.deepStrictEqual([unknown.code, unknown.stderr], [1, "dockyard: release 99 does not exist; recorded releases: 1, 2, 3, 4, 5, 6, 7, 8\n"]);
        const failed = cli(["rollback", "it", "--to", "4", "--yes"]);
        assert.deepStrictEqual([failed.code, failed.stderr], [1, "dockyard: release 4 failed when it was deployed; pick a successful one (see `releases`)\n"]);
        assert.strictEqual(served(), "dockyard sample app version=v3");
    });

    it("refuses a release whose images are gone", () => {
        const file = path.join(box.dir, ".dockyard/releases/it.json");
        const releases = JSON.parse(fs.readFileSync(file, "utf8"));
        const gone = `127.0.0.1:${REGISTRY_PORT}/dockyard/app@sha256:${"0".repeat(64)}`;
        releases.push({ ...releases[0], number: 99, images: { app: gone }, manifest: { web: { image: gone, specHash: "x" } } });
        fs.writeFileSync(file, JSON.stringify(releases));
        try {
            const r = cli(["rollback", "it", "--to", "99", "--yes"]);
            assert.deepStrictEqual([r.code, r.stderr], [1, `dockyard: release 99 cannot be restored: its image is no longer available: ${gone}\n`]);
        } finally {
            fs.writeFileSync(file, JSON.stringify(releases.slice(0, -1)));
        }
    });

    it("a review of a pinned stack says so, and deploy unpins it", async () => {
        setVersion((env) => (env.images.app.buildArgs.APP_VERSION = "v3b"));
        const r = cli(["review", "it"]);
        assert.strictEqual(r.code, 0, "pinned images are not rebuilt, so nothing changes yet");
        assert.ok(r.stdout.includes("pinned to the images of a rolled-back release"), r.stdout);
        assert.strictEqual(cli(["deploy", "it"]).code, 0);
        await eventually("v3b to serve", () => served() === "dockyard sample app version=v3b");
    });

    it("deploy --plan applies the reviewed plan and refuses one the stack no longer matches", async () => {
        setVersion((env) => (env.images.app.buildArgs.APP_VERSION = "v4"));
        assert.strictEqual(cli(["review", "it", "--save-plan"]).code, 2);
        const plan = path.join(box.dir, ".dockyard/reviews/plan-it.json");
        setVersion((env) => (env.images.app.buildArgs.APP_VERSION = "v5"));
        const refused = cli(["deploy", "it", "--plan", plan]);
        assert.strictEqual(refused.code, 1, refused.stdout);
        assert.strictEqual(served(), "dockyard sample app version=v3b", "nothing was applied");
        setVersion((env) => (env.images.app.buildArgs.APP_VERSION = "v4"));
        const applied = cli(["deploy", "it", "--plan", plan]);
        assert.strictEqual(applied.code, 0, applied.stdout + applied.stderr);
        await eventually("v4 to serve", () => served() === "dockyard sample app version=v4");
    });

    it("refuses a second deploy while one holds the stack's lock", () => {
        const lockFile = path.join(box.dir, ".dockyard/locks/it.lock");
        fs.writeFileSync(lockFile, JSON.stringify({ pid: process.pid, host: os.hostname(), command: "deploy", since: "2026-01-01T00:00:00.000Z" }));
        try {
            const r = cli(["deploy", "it"]);
            assert.strictEqual(r.code, 1);
            assert.strictEqual(r.stderr, `dockyard: stack it is locked: \`deploy\` (pid ${process.pid} on ${os.hostname()}) has been running since 2026-01-01T00:00:00.000Z. Wait for it to finish; if that process is gone, remove ${lockFile}.\n`);
        } finally {
            fs.rmSync(lockFile);
        }
    });

    it("destroy succeeds when objects are already gone", async () => {
        sh("docker", ["service", "rm", `${prefix}-web`]);
        const r = box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
    });
});
