// End-to-end scenarios with the real Pulumi engine and the real Docker engine that the integration
// suites do not already cover: a rolling update under load, an interrupted deploy, and a broken
// stack file that touches nothing. (Deploy from nothing and destroy, a bad release, a named
// rollback, secret rotation and secrets in state/inspect run in test/integration.)
import * as assert from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as os from "os";
import * as fs from "fs";
import * as path from "path";
import {
    Sandbox, dockerObjects, editEnvironment, eventually, pluginMissing, projectSandbox, removeVolumes, requireOrSkip, sh, swarmMissing,
} from "../integration/prereqs";

function cli(box: Sandbox, args: string[]) {
    return box.dockyard(args);
}

// The static busybox's wget crashes resolving names; its nc does not, so HTTP is spoken with nc.
const HTTP_GET = (urlPath: string) => `printf 'GET ${urlPath} HTTP/1.0\\r\\n\\r\\n' | nc -w 3 web 8080`;

/**
 * Run `action` while a container on the overlay network calls the web service's health endpoint
 * in a loop; returns the action's result and the answered and failed request counts.
 */
async function underLoad<T>(prefix: string, action: () => T): Promise<[T, number, number]> {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-load-"));
    const count = () => (fs.existsSync(path.join(out, "count")) ? fs.readFileSync(path.join(out, "count"), "utf8").trim().split(" ").map(Number) : [0, 0]);
    sh("docker", ["run", "-d", "--name", `${prefix}-load`, "--network", `${prefix}-backend`, "-v", `${out}:/out`, "dockyard/busybox:1.35.0", "sh", "-c",
        `ok=0; fail=0; while [ ! -f /out/stop ]; do if ${HTTP_GET("/healthz")} | head -n 1 | grep -q " 200 "; then ok=$((ok+1)); else fail=$((fail+1)); fi; echo "$ok $fail" > /out/count; done`]);
    try {
        await eventually("the load generator to get answers", () => count()[0] > 10);
        const result = action();
        fs.writeFileSync(path.join(out, "stop"), "");
        await eventually("the load generator to stop", () => sh("docker", ["inspect", "--format", "{{.State.Running}}", `${prefix}-load`]).trim() === "false");
        const [ok, failed] = count();
        return [result, ok, failed];
    } finally {
        spawnSync("docker", ["rm", "-f", `${prefix}-load`]);
        fs.rmSync(out, { recursive: true, force: true });
    }
}

/** Version the web tasks report, asked from inside the overlay network. */
function versionInside(prefix: string): string {
    return sh("docker", ["run", "--rm", "--network", `${prefix}-backend`, "dockyard/busybox:1.35.0", "sh", "-c", `${HTTP_GET("/")} | tail -n 1`])
        .replace(/ host=.*$/, "").trim();
}

describe("e2e: scenarios on the real engines", function () {
    this.timeout(30 * 60_000);
    const prefix = `dye${process.pid % 100000}`;
    let box: Sandbox;

    before(function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
        box = projectSandbox(prefix, { web: 18100, registry: 15100 });
        // Three web replicas behind DNS round-robin on the overlay network, updated start-first:
        // the load comes from inside the network, as host ports hold one task per node.
        editEnvironment(box, (env) => {
            delete env.services.web.ports;
            env.services.web.replicas = 3;
            env.services.web.update = { order: "start-first", delay: "2s", monitor: "5s" };
        });
        box.pulumi(["stack", "init", "it", "--secrets-provider", "passphrase"]);
        box.pulumi(["config", "set", "--secret", "appToken"], { input: "e2e-token" });
    });

    after(async function () {
        if (!box) return;
        spawnSync("docker", ["rm", "-f", `${prefix}-load`]);
        box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        await removeVolumes(prefix);
        box.cleanup();
    });

    it("7. a broken stack file fails before any resource is touched", () => {
        const file = path.join(box.dir, "stacks/Pulumi.it.yaml");
        const good = fs.readFileSync(file, "utf8");
        editEnvironment(box, (env) => (env.services.web.replicas = -3));
        try {
            const r = box.pulumi(["up", "--yes", "--skip-preview"], { allowFailure: true });
            assert.notStrictEqual(r.code, 0);
            assert.ok(r.stdout.includes("services.web.replicas: expected a whole number, 0 or more, got -3"), r.stdout);
            assert.deepStrictEqual(dockerObjects(prefix), { services: [], secrets: [], configs: [], networks: [], volumes: [], containers: [] });
            const resources = JSON.parse(box.pulumi(["stack", "export"]).stdout).deployment.resources ?? [];
            assert.deepStrictEqual(resources.filter((r: any) => r.type !== "pulumi:pulumi:Stack"), []);
        } finally {
            fs.writeFileSync(file, good);
        }
    });

    it("deploys three web replicas", () => {
        assert.strictEqual(cli(box, ["deploy", "it"]).code, 0);
        assert.strictEqual(versionInside(prefix), "dockyard sample app version=dev");
    });

    it("2. a rolling update under continuous load fails no request", async () => {
        const [deploy, ok, failed] = await underLoad(prefix, () => {
            editEnvironment(box, (env) => (env.images.app.buildArgs.APP_VERSION = "v2"));
            return cli(box, ["deploy", "it"]);
        });
        console.log(`      load during the rolling update: ${ok} requests answered, ${failed} failed`);
        assert.strictEqual(deploy.code, 0, deploy.stderr);
        assert.strictEqual(versionInside(prefix), "dockyard sample app version=v2");
        assert.ok(ok > 50, `only ${ok} requests were made`);
        assert.strictEqual(failed, 0);
    });

    it("5. a secret rotation under continuous load: the new value is read, no request fails, the old secret is gone", async () => {
        const before = dockerObjects(`${prefix}-app_token`).secrets;
        const [deploy, ok, failed] = await underLoad(prefix, () => {
            box.pulumi(["config", "set", "--secret", "appToken"], { input: "e2e-token-rotated" });
            return cli(box, ["deploy", "it"]);
        });
        console.log(`      load during the secret rotation: ${ok} requests answered, ${failed} failed`);
        assert.strictEqual(deploy.code, 0, deploy.stderr);
        const after = dockerObjects(`${prefix}-app_token`).secrets;
        assert.strictEqual(after.length, 1);
        assert.notDeepStrictEqual(after, before);
        const sha = require("crypto").createHash("sha256").update("e2e-token-rotated").digest("hex");
        const check = sh("docker", ["run", "--rm", "--network", `${prefix}-backend`, "dockyard/busybox:1.35.0", "sh", "-c", `${HTTP_GET("/secret-check")} | tail -n 1`]).trim();
        assert.strictEqual(check, `app_token present sha256=${sha}`);
        assert.strictEqual(failed, 0);
    });

    it("6. an interrupted deploy is finished by the next deploy, with no state surgery", async () => {
        editEnvironment(box, (env) => (env.images.app.buildArgs.APP_VERSION = "v3"));
        const child: ChildProcess = spawn(path.join(box.dir, "node_modules/.bin/ts-node"), ["--transpile-only", "ops/cli.ts", "deploy", "it"], {
            cwd: box.dir, env: box.env, stdio: "ignore", detached: true,
        });
        // Kill the whole deploy (CLI, engine, providers) while Swarm is rolling web out.
        await eventually("the rollout to start", () =>
            sh("docker", ["service", "inspect", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}", `${prefix}-web`]).trim() === "updating", 300_000);
        const exited = new Promise((resolve) => child.once("exit", resolve));
        process.kill(-child.pid!, "SIGKILL");
        await exited;
        const r = cli(box, ["deploy", "it"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        await eventually("v3 to serve", () => versionInside(prefix) === "dockyard sample app version=v3");
        assert.strictEqual(box.pulumi(["preview", "--expect-no-changes"], { allowFailure: true }).code, 0);
    });
    it("8. a stack with a worker kept at replicas: 0 and a global service no node is eligible for deploys in normal time, is recorded succeeded, and rolls back", () => {
        const sleeper = { image: "dockyard/busybox:1.35.0", command: ["sleep", "3600"] };
        editEnvironment(box, (env) => {
            env.services.idle = { ...sleeper, replicas: 0 };
            env.services.agent = { ...sleeper, global: true, constraints: ["node.labels.dockyard-shape==nowhere"] };
        });
        const latest = () => cli(box, ["releases", "it"]).stdout.trim().split("\n").filter((l) => /^\d/.test(l)).pop() ?? "";
        const started = Date.now();
        const first = cli(box, ["deploy", "it"]);
        assert.strictEqual(first.code, 0, first.stdout + first.stderr);
        assert.ok(Date.now() - started < 120_000, `the deploy took ${(Date.now() - started) / 1000} s`);
        assert.match(latest(), /^\d+ +\S+ \S+ +succeeded deploy /);
        const release = latest().split(" ")[0];
        editEnvironment(box, (env) => (env.services.idle.env = { REV: "2" }));
        const second = cli(box, ["deploy", "it"]);
        assert.strictEqual(second.code, 0, second.stdout + second.stderr);
        const back = cli(box, ["rollback", "it", "--yes"]);
        assert.strictEqual(back.code, 0, back.stdout + back.stderr);
        assert.ok(back.stdout.includes(`dockyard: rolling it back to release ${release}`), back.stdout);
        assert.match(latest(), /^\d+ +\S+ \S+ +succeeded rollback /);
        assert.doesNotMatch(sh("docker", ["service", "inspect", "--format", "{{json .Spec.TaskTemplate.ContainerSpec.Env}}", `${prefix}-idle`]), /REV=2/);
        assert.strictEqual(sh("docker", ["service", "ps", "-q", "--filter", "desired-state=running", `${prefix}-idle`, `${prefix}-agent`]).trim(), "");
    });
});
