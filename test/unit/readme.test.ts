// The README's example composes real components: run it under mocks so it cannot rot.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { mockState, ofType, resetRecorder, setConfig, settle } from "./harness";

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
