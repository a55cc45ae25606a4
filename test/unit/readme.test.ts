// The README's example composes real components: run it under mocks so it cannot rot.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as yaml from "js-yaml";
import * as path from "path";
import { mockState, ofType, resetRecorder, setConfig, settle } from "./harness";
import { stackEnvironment } from "./stacks";

const ROOT = path.resolve(__dirname, "../..");

describe("README example", () => {
    it("composes Registry, Image, Network, Volume, Secret and Service in a dozen lines", async () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const code = /```ts\n([\s\S]*?)```/.exec(readme)![1];
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "readme-")), "example.ts");
        fs.writeFileSync(file, code.replace('from "@dockyard/components"', `from ${JSON.stringify(path.join(ROOT, "components"))}`)
            .replace('from "@pulumi/pulumi"', `from ${JSON.stringify(path.dirname(require.resolve("@pulumi/pulumi/package.json")))}`)
            .replace('"./app"', JSON.stringify(path.join(ROOT, "app"))));
        resetRecorder();
        setConfig({ appToken: "example-token" }, ["appToken"]);
        mockState("command:local:Command", () => ({ stdout: "127.0.0.1:5000/shop/app@sha256:00" }));
        try {
            require(file);
            await settle();
        } finally {
            mockState("command:local:Command", undefined);
            fs.rmSync(path.dirname(file), { recursive: true });
        }
        const components = ofType("dockyard:swarm:Service").map((r) => r.name).sort();
        assert.deepStrictEqual(components, ["kv", "registry", "web"]);
        for (const type of ["dockyard:registry:Registry", "dockyard:image:Image", "dockyard:network:Network", "dockyard:swarm:Secret"]) {
            assert.strictEqual(ofType(type).length, 1, type);
        }
        assert.strictEqual(code.trim().split("\n").filter((l) => l.trim() && !l.trim().startsWith("//")).length <= 20, true);
    });
});

describe("README: Secret sources", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = /\n## Secret sources\n([\s\S]*?)\n## /.exec(readme)![1];

    it("shows every source kind of the schema, and its example stack file is one the schema accepts", () => {
        const { DEFAULT_COMMAND_TIMEOUT, SECRET_SOURCE_KINDS, parseEnvironment } = require("../../config") as typeof import("../../config");
        const example = yaml.load(/```yaml\n([\s\S]*?)```/.exec(section)![1]) as { secrets: Record<string, Record<string, unknown>> };
        const kinds = Object.values(example.secrets).flatMap((s) => SECRET_SOURCE_KINDS.filter((k) => k in s));
        assert.deepStrictEqual(kinds, SECRET_SOURCE_KINDS);
        assert.ok(section.includes(`(default ${DEFAULT_COMMAND_TIMEOUT})`));
        const env = stackEnvironment("dev");
        env.secrets = example.secrets;
        const parsed = parseEnvironment(env, { keys: { isSecret: () => true } });
        assert.deepStrictEqual(parsed.secrets, example.secrets);
    });
});
