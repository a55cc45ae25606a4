// The dev environment for real: deploy it from a copy of this project, call the app, change the
// app and deploy again (data kept), take the secret from an env source and rotate it, then destroy,
// leaving only the retained volumes.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
    Sandbox, dockerObjects, editEnvironment, eventually, pluginMissing, projectSandbox, removeVolumes, requireOrSkip, sh, swarmMissing,
} from "./prereqs";

const WEB_PORT = 18080;
/** The env source of app_token, from the test's fourth step on. */
const TOKEN_VAR = "DOCKYARD_IT_APP_TOKEN";
const ROTATED = "integration-env-token-rotated";
const REGISTRY_PORT = 15000;

function http(method: string, urlPath: string, body?: string): { status: number; body: string } {
    const out = sh("curl", ["-s", "-X", method, "-o", "-", "-w", "\n%{http_code}", ...(body !== undefined ? ["--data-binary", body] : []),
        `http://127.0.0.1:${WEB_PORT}${urlPath}`]);
    const lines = out.split("\n");
    return { status: Number(lines.pop()), body: lines.join("\n") };
}

describe("integration: the dev environment deployed for real", function () {
    this.timeout(20 * 60_000);
    const prefix = `dyp${process.pid % 100000}`;
    let box: Sandbox;

    before(function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
        box = projectSandbox(prefix, { web: WEB_PORT, registry: REGISTRY_PORT });
        box.pulumi(["stack", "init", "it", "--secrets-provider", "passphrase"]);
        box.pulumi(["config", "set", "--secret", "appToken"], { input: "integration-app-token" });
    });

    after(async function () {
        if (!box) return;
        box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        await removeVolumes(prefix);
        box.cleanup();
    });

    it("deploys: the app answers healthy and reads its secret from /run/secrets", async () => {
        box.pulumi(["up", "--yes", "--skip-preview"]);
        await eventually("the web service to answer", () => {
            try {
                return http("GET", "/healthz").status === 200;
            } catch {
                return false;
            }
        });
        assert.deepStrictEqual(http("GET", "/healthz"), { status: 200, body: "ok" });
        assert.match(http("GET", "/").body, /^dockyard sample app version=dev host=/);
        const check = http("GET", "/secret-check");
        assert.strictEqual(check.status, 200);
        assert.match(check.body, /^app_token present sha256=[0-9a-f]{64}$/);
        const outputs = JSON.parse(box.pulumi(["stack", "output", "--json"]).stdout);
        // The single-node Swarm advertises 127.0.0.1; a host-mode port answers on the node running the task.
        assert.deepStrictEqual(outputs.serviceEndpoints, { web: [`127.0.0.1:${WEB_PORT}`], kv: [] });
        assert.match(outputs.releaseManifest.web.image, new RegExp(`^127\\.0\\.0\\.1:${REGISTRY_PORT}/dockyard/app@sha256:[0-9a-f]{64}$`));
    });

    it("builds and pushes nothing when nothing changed", () => {
        const r = box.pulumi(["preview", "--expect-no-changes"], { allowFailure: true });
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
    });

    it("keeps data written to the kv volume across a new release of the app", async () => {
        assert.deepStrictEqual(http("PUT", "/kv/release", "written-before-v2"), { status: 200, body: "stored release" });
        editEnvironment(box, (env) => (env.images.app.buildArgs.APP_VERSION = "v2"));
        const preview = JSON.parse(box.pulumi(["preview", "--json"]).stdout);
        const replaced = preview.steps.filter((s: any) => s.op === "replace").map((s: any) => s.urn.split("::").pop()).sort();
        assert.deepStrictEqual(replaced, [`${prefix}-app-build`, `${prefix}-app-prune`], "only the build is replaced; services update in place");
        box.pulumi(["up", "--yes", "--skip-preview"]);
        await eventually("version v2 to serve", () => {
            try {
                return http("GET", "/").body.startsWith("dockyard sample app version=v2 ");
            } catch {
                return false;
            }
        });
        assert.deepStrictEqual(http("GET", "/kv/release"), { status: 200, body: "written-before-v2" });
    });

    it("takes the secret from an env source: the same value is no change, a new one a rotation that review shows as such", async () => {
        box.env[TOKEN_VAR] = "integration-app-token";
        editEnvironment(box, (env) => (env.secrets.app_token = { env: TOKEN_VAR }));
        const same = box.pulumi(["preview", "--expect-no-changes"], { allowFailure: true });
        assert.strictEqual(same.code, 0, same.stdout + same.stderr);

        box.env[TOKEN_VAR] = ROTATED;
        const r = box.dockyard(["review", "it", "--no-policy"]);
        assert.strictEqual(r.code, 2, r.stdout + r.stderr);
        const report = JSON.parse(fs.readFileSync(path.join(box.dir, ".dockyard/reviews/review-it.json"), "utf8"));
        assert.deepStrictEqual(report.changes.map((c: any) => `${c.resource} ${c.change}`).sort(), [
            `${prefix}-app_token-secret replace`, `${prefix}-web-converged update`, `${prefix}-web-service update`,
        ]);
        assert.ok(!r.stdout.includes(ROTATED) && !JSON.stringify(report).includes(ROTATED), r.stdout);
        assert.ok(r.stdout.includes("[secret]"), r.stdout);

        box.pulumi(["up", "--yes", "--skip-preview"]);
        const sha = crypto.createHash("sha256").update(ROTATED).digest("hex");
        await eventually("web to read the rotated secret", () => {
            try {
                return http("GET", "/secret-check").body === `app_token present sha256=${sha}`;
            } catch {
                return false;
            }
        });
    });

    it("stops before anything changes when the source fails, with one line naming the secret and the source", () => {
        delete box.env[TOKEN_VAR];
        const r = box.pulumi(["up", "--yes", "--skip-preview"], { allowFailure: true });
        const out = r.stdout + r.stderr;
        assert.notStrictEqual(r.code, 0, out);
        assert.ok(out.includes(`secret app_token: env ${TOKEN_VAR} is not set\n`), out);
        assert.ok(!/^\s+at /m.test(out), `no stack trace:\n${out}`);
        box.env[TOKEN_VAR] = ROTATED;
        const after = box.pulumi(["preview", "--expect-no-changes"], { allowFailure: true });
        assert.strictEqual(after.code, 0, after.stdout + after.stderr);
    });

    it("never writes the secret into the state or a container's environment", () => {
        const state = box.pulumi(["stack", "export"]).stdout;
        for (const value of ["integration-app-token", ROTATED]) {
            assert.ok(!state.includes(value) && !state.includes(Buffer.from(value).toString("base64")), value);
            for (const id of sh("docker", ["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${prefix}-web`]).trim().split("\n")) {
                assert.ok(!sh("docker", ["inspect", "--format", "{{json .Config.Env}}", id]).includes(value));
            }
        }
    });

    it("destroys everything but the retained volumes", async () => {
        box.pulumi(["destroy", "--yes", "--skip-preview"]);
        await eventually("Swarm to remove tasks and networks", () => {
            const left = dockerObjects(prefix);
            return left.networks.length === 0 && left.containers.length === 0;
        });
        assert.deepStrictEqual(dockerObjects(prefix), {
            services: [], secrets: [], configs: [], networks: [], containers: [],
            volumes: [`${prefix}-kv-data`, `${prefix}-registry-data`],
        });
    });
});
