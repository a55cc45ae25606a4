// The component library against the real engine: create, update in place (with a secret rotation)
// and delete Network, Volume, Secret, Config, Service and Container through the real Pulumi engine.
import * as assert from "assert";
import {
    ROOT, Sandbox, claimPrefix, dockerObjects, eventually, pluginMissing, removeVolumes, requireOrSkip, sandbox, sh, swarmMissing, taskContainer,
} from "./prereqs";

const PROGRAM = `
require("ts-node").register({ transpileOnly: true, compilerOptions: { module: "commonjs" } });
const pulumi = require("@pulumi/pulumi");
const dy = require(process.env.DOCKYARD_ROOT + "/components");
const cfg = new pulumi.Config();
const p = cfg.require("prefix");
const net = new dy.Network(p + "-net");
const vol = new dy.Volume(p + "-vol");
const token = new dy.Secret(p + "-token", { data: cfg.requireSecret("token") });
const conf = new dy.Config(p + "-conf", { data: cfg.require("conf") });
const svc = new dy.Service(p + "-svc", {
    image: "dockyard/busybox:1.35.0",
    command: ["sh", "-c", "while true; do sleep 1; done"],
    env: { GREETING: cfg.require("greeting") },
    secrets: [{ secret: token, target: "token" }],
    configs: [{ config: conf, target: "/etc/app.conf" }],
    networks: [net],
    mounts: [{ volume: vol, target: "/data" }],
    endpointMode: dy.EndpointMode.Dnsrr,
    healthCheck: { command: ["test", "-s", "/run/secrets/token"], interval: "1s", timeout: "1s", retries: 2, startPeriod: "1s" },
    update: { delay: "1s", monitor: "2s" },
    rollback: { delay: "1s", monitor: "2s" },
    convergeTimeout: "90s",
});
const ctr = new dy.Container(p + "-ctr", {
    image: "dockyard/busybox:1.35.0",
    command: ["sh", "-c", "echo $GREETING > /tmp/g; while true; do sleep 1; done"],
    env: { GREETING: cfg.require("greeting") },
});
exports.secretName = token.secretName;
exports.configName = conf.configName;
exports.serviceId = svc.serviceId;
exports.containerName = ctr.containerName;
`;

describe("integration: components against the real Docker engine", function () {
    this.timeout(15 * 60_000);
    const prefix = `dyit${process.pid % 100000}`;
    let box: Sandbox;
    const outputs = () => JSON.parse(box.pulumi(["stack", "output", "--json", "--show-secrets"]).stdout);

    before(function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
        claimPrefix(`${prefix}-`);
        box = sandbox({ "Pulumi.yaml": "name: components-it\nruntime: nodejs\nmain: index.js\n", "index.js": PROGRAM });
        box.env.DOCKYARD_ROOT = ROOT;
        box.pulumi(["stack", "init", "it"]);
        box.pulumi(["config", "set", "prefix", prefix]);
        box.pulumi(["config", "set", "greeting", "hello"]);
        box.pulumi(["config", "set", "conf", "level=1"]);
        box.pulumi(["config", "set", "--secret", "token"], { input: "first-token-value" });
    });

    after(async function () {
        if (!box) return;
        box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        await removeVolumes(prefix);
        box.cleanup();
    });

    it("creates every component's Docker object", () => {
        box.pulumi(["up", "--yes", "--skip-preview"]);
        const out = outputs();
        const objects = dockerObjects(prefix);
        assert.deepStrictEqual(objects.services, [`${prefix}-svc`]);
        assert.deepStrictEqual(objects.secrets, [out.secretName]);
        assert.deepStrictEqual(objects.configs, [out.configName]);
        assert.deepStrictEqual(objects.networks, [`${prefix}-net`]);
        assert.deepStrictEqual(objects.volumes, [`${prefix}-vol`]);
        assert.ok(objects.containers.some((c) => c === out.containerName), JSON.stringify(objects.containers));
        const task = taskContainer(`${prefix}-svc`);
        assert.strictEqual(sh("docker", ["exec", task, "cat", "/run/secrets/token"]), "first-token-value");
        assert.strictEqual(sh("docker", ["exec", task, "cat", "/etc/app.conf"]), "level=1");
        const labels = JSON.parse(sh("docker", ["service", "inspect", "--format", "{{json .Spec.Labels}}", `${prefix}-svc`]));
        assert.deepStrictEqual(labels, { "dockyard.component": `${prefix}-svc`, "dockyard.managed": "true" });
    });

    it("keeps the secret out of the task's environment", () => {
        const env: string[] = JSON.parse(sh("docker", ["inspect", "--format", "{{json .Config.Env}}", taskContainer(`${prefix}-svc`)]));
        assert.ok(!env.some((e) => e.includes("first-token-value")), env.join("\n"));
        assert.ok(env.includes("GREETING=hello"), env.join("\n"));
    });

    it("previews a secret rotation as a replaced secret and a service updated in place", () => {
        box.pulumi(["config", "set", "--secret", "token"], { input: "second-token-value" });
        box.pulumi(["config", "set", "greeting", "bonjour"]);
        const preview = JSON.parse(box.pulumi(["preview", "--json"]).stdout);
        const ops = Object.fromEntries(
            preview.steps.filter((s: any) => s.op !== "same").map((s: any) => [s.urn.split("::").pop(), s.op]),
        );
        assert.strictEqual(ops[`${prefix}-token-secret`], "replace");
        assert.strictEqual(ops[`${prefix}-svc-service`], "update");
        assert.strictEqual(ops[`${prefix}-ctr-container`], "replace");
        assert.ok(!JSON.stringify(preview).includes("second-token-value"), "the preview never shows the secret");
    });

    it("rotates the secret with a rolling update: same service, new secret only", async () => {
        const before = outputs();
        box.pulumi(["up", "--yes", "--skip-preview"]);
        const after = outputs();
        assert.strictEqual(after.serviceId, before.serviceId, "the service was updated, not replaced");
        assert.notStrictEqual(after.secretName, before.secretName);
        assert.deepStrictEqual(dockerObjects(prefix).secrets, [after.secretName]);
        await eventually("the new task to read the new secret", () => {
            try {
                return sh("docker", ["exec", taskContainer(`${prefix}-svc`), "cat", "/run/secrets/token"]) === "second-token-value";
            } catch {
                return false;
            }
        });
        assert.strictEqual(sh("docker", ["exec", after.containerName, "cat", "/tmp/g"]).trim(), "bonjour");
    });

    it("keeps no secret in plaintext in the state", () => {
        const state = box.pulumi(["stack", "export"]).stdout;
        assert.ok(!state.includes("second-token-value") && !state.includes("first-token-value"));
        assert.ok(!state.includes(Buffer.from("second-token-value").toString("base64")));
    });

    it("deletes everything on destroy but the retained volume", async () => {
        box.pulumi(["destroy", "--yes", "--skip-preview"]);
        await eventually("Swarm to remove the task containers and the network", () => {
            const left = dockerObjects(prefix);
            return left.networks.length === 0 && left.containers.length === 0;
        });
        assert.deepStrictEqual(dockerObjects(prefix), {
            services: [], secrets: [], configs: [], networks: [], volumes: [`${prefix}-vol`], containers: [],
        });
    });
});
