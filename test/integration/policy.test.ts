// The policy pack through the real Pulumi CLI: plain `pulumi preview --policy-pack`, and `review`
// and `deploy` of a stack that breaks a mandatory rule (exit 3, the rule named, nothing deployed).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Sandbox, dockerObjects, editEnvironment, pluginMissing, projectSandbox, requireOrSkip, swarmMissing } from "./prereqs";

/** Why the analyzer plugin that runs the pack is missing, or undefined. */
function analyzerMissing(): string | undefined {
    const missing = pluginMissing("docker");
    if (missing) return missing;
    const list = spawnSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8" }).stdout;
    const found = (JSON.parse(list || "[]") as Array<{ name: string; kind: string }>).some((p) => p.name === "policy-dockyard-nodejs" && p.kind === "analyzer");
    return found ? undefined : "the analyzer plugin policy-dockyard-nodejs is not installed (run `npm run setup`)";
}

describe("integration: policy pack", function () {
    this.timeout(15 * 60_000);
    const prefix = `pbp${process.pid % 100000}`;
    let box: Sandbox;
    const cli = (args: string[]) => box.dockyard(args);

    before(function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"), analyzerMissing());
        box = projectSandbox(prefix, { web: 18190, registry: 18191 });
        box.pulumi(["stack", "init", "it", "--secrets-provider", "passphrase"]);
        box.pulumi(["config", "set", "--secret", "appToken"], { input: "policy-test-token" });
        // A password in a plain environment variable: mandatory on every stack.
        editEnvironment(box, (env) => (env.services.web.env.DB_PASSWORD = "hunter2"));
    });

    after(function () {
        if (box) box.cleanup();
    });

    it("review exits 3 and names the violated rule and the resource", () => {
        const r = cli(["review", "it"]);
        assert.strictEqual(r.code, 3, r.stdout + r.stderr);
        assert.ok(r.stdout.includes("### :no_entry: Policy violations"), r.stdout);
        assert.ok(r.stdout.includes(`- **mandatory** \`no-secrets-in-env\` on \`${prefix}-web-service\`: service "${prefix}-web" (${prefix}-web-service) sets DB_PASSWORD in a plain environment variable`), r.stdout);
        assert.ok(r.stdout.endsWith("Exit code 3: a mandatory policy is violated.\n"), r.stdout);
        const json = JSON.parse(fs.readFileSync(path.join(box.dir, ".dockyard/reviews/review-it.json"), "utf8"));
        assert.deepStrictEqual(json.violations.map((v: any) => [v.rule, v.level, v.resource]), [["no-secrets-in-env", "mandatory", `${prefix}-web-service`]]);
        assert.deepStrictEqual(json.errors, []);
    });

    it("plain `pulumi preview --policy-pack policy` with the written pack config fails on the same rule", () => {
        assert.strictEqual(cli(["policy", "it"]).code, 0);
        const r = box.pulumi(["preview", "--policy-pack", "policy", "--policy-pack-config", ".dockyard/policy/it.json"], { allowFailure: true });
        assert.strictEqual(r.code, 1);
        assert.match(r.stdout, /\[mandatory\] +no-secrets-in-env +\(docker:index\/service:Service: \S+-web-service\)/);
        assert.ok(!/using pulumi-analyzer/.test(r.stdout + r.stderr), "no ambient-plugin warning");
    });

    it("deploy refuses with exit 3 before anything is created; --no-policy review is back to exit 2", () => {
        const r = cli(["deploy", "it"]);
        assert.strictEqual(r.code, 3, r.stdout + r.stderr);
        assert.ok(r.stderr.includes(`dockyard: NOT DEPLOYING it: 1 mandatory policy is violated (above). Nothing was changed.`), r.stderr);
        assert.deepStrictEqual(Object.values(dockerObjects(prefix)).flat(), []);
        assert.ok(!fs.existsSync(path.join(box.dir, ".dockyard/releases/it.json")), "no release recorded");
        assert.strictEqual(cli(["review", "it", "--no-policy"]).code, 2);
    });
});
