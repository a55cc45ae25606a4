// The foundation works for real: the Pulumi CLI built by setup drives the command provider against
// the Docker engine through preview, up, history and destroy, on a throw-away stack.
import * as assert from "assert";
import { Sandbox, dockerMissing, pluginMissing, requireOrSkip, sandbox, sh } from "./prereqs";

const PROGRAM = `
const command = require("@pulumi/command");
const pulumi = require("@pulumi/pulumi");
const name = new pulumi.Config().require("volumeName");
// Create a real Docker volume on create, remove it on delete.
const volume = new command.local.Command("volume", {
    create: "docker volume create --label dockyard.test=engine " + name,
    delete: "docker volume rm " + name,
});
const engine = new command.local.Command("engine", {
    create: "docker info --format '{{.ServerVersion}}'",
}, { dependsOn: [volume] });
exports.volume = volume.stdout;
exports.engineVersion = engine.stdout;
`;

describe("integration: Pulumi engine with the command provider and Docker", function () {
    this.timeout(10 * 60_000);
    let box: Sandbox;
    const volumeName = `dockyard-it-${process.pid}-${Date.now()}`;

    before(function () {
        requireOrSkip(this, dockerMissing(), pluginMissing("command"));
        box = sandbox({
            "Pulumi.yaml": "name: engine-check\nruntime: nodejs\nmain: index.js\n",
            "index.js": PROGRAM,
        });
        box.pulumi(["stack", "init", "it"]);
        box.pulumi(["config", "set", "volumeName", volumeName]);
    });

    after(function () {
        if (!box) return;
        box.pulumi(["destroy", "--yes"], { allowFailure: true });
        try {
            sh("docker", ["volume", "rm", "-f", volumeName]);
        } catch {
            /* already gone */
        }
        box.cleanup();
    });

    it("previews two creates and touches nothing", () => {
        const preview = JSON.parse(box.pulumi(["preview", "--json"]).stdout);
        const creates = preview.steps
            .filter((s: any) => s.op === "create" && s.urn.includes("command:local:Command"))
            .map((s: any) => s.urn.split("::").pop())
            .sort();
        assert.deepStrictEqual(creates, ["engine", "volume"]);
        assert.throws(() => sh("docker", ["volume", "inspect", volumeName]), /no such volume/i);
    });

    it("applies with up: the volume exists and the outputs carry what Docker reported", () => {
        box.pulumi(["up", "--yes", "--skip-preview"]);
        const outputs = JSON.parse(box.pulumi(["stack", "output", "--json"]).stdout);
        assert.strictEqual(outputs.volume, volumeName);
        assert.strictEqual(outputs.engineVersion, sh("docker", ["info", "--format", "{{.ServerVersion}}"]).trim());
        const labels = JSON.parse(sh("docker", ["volume", "inspect", "--format", "{{json .Labels}}", volumeName]));
        assert.deepStrictEqual(labels, { "dockyard.test": "engine" });
    });

    it("records the update in the stack history", () => {
        const history = JSON.parse(box.pulumi(["stack", "history", "--json"]).stdout);
        assert.strictEqual(history.length, 1);
        assert.strictEqual(history[0].kind, "update");
        assert.strictEqual(history[0].result, "succeeded");
        assert.deepStrictEqual(history[0].resourceChanges, { create: 3 });
    });

    it("destroys: the volume is gone and the stack is empty", () => {
        box.pulumi(["destroy", "--yes", "--skip-preview"]);
        assert.throws(() => sh("docker", ["volume", "inspect", volumeName]), /no such volume/i);
        const resources = JSON.parse(box.pulumi(["stack", "export"]).stdout).deployment.resources ?? [];
        assert.deepStrictEqual(resources, []);
    });
});
