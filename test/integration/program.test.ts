// The dev environment for real: deploy it from a copy of this project, call the app, change the
// app and deploy again (data kept), then destroy, leaving only the retained volumes.
import * as assert from "assert";
import {
    Sandbox, dockerObjects, editEnvironment, eventually, pluginMissing, projectSandbox, removeVolumes, requireOrSkip, sh, swarmMissing,
} from "./prereqs";

const WEB_PORT = 18080;
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

    it("never writes the secret into the state or a container's environment", () => {
        const state = box.pulumi(["stack", "export"]).stdout;
        assert.ok(!state.includes("integration-app-token"));
        for (const id of sh("docker", ["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${prefix}-web`]).trim().split("\n")) {
            assert.ok(!sh("docker", ["inspect", "--format", "{{json .Config.Env}}", id]).includes("integration-app-token"));
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
