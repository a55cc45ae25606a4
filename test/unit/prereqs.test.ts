// The real-engine suites' prerequisites: a provider plugin of another version than the installed
// npm package asks for fails the suite; only a plugin that is not installed at all skips it.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pluginMissing, providerVersion } from "../integration/prereqs";

describe("real-engine prerequisites", () => {
    let dir: string;
    const savedPath = process.env.PATH;
    /** A fake `pulumi` (and language host) on PATH whose `plugin ls --json` lists these plugins. */
    function fakePulumi(plugins: Array<{ name: string; version: string }>) {
        const list = JSON.stringify(plugins.map((p) => ({ ...p, kind: "resource" })));
        fs.writeFileSync(path.join(dir, "pulumi"), `#!/bin/sh\n[ "$1" = version ] && { echo v3.248.0; exit 0; }\necho '${list}'\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "pulumi-language-nodejs"), "#!/bin/sh\n", { mode: 0o755 });
        process.env.PATH = `${dir}:${savedPath}`;
    }
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"))));
    afterEach(() => {
        process.env.PATH = savedPath;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("reads the versions from the installed packages", () => {
        assert.strictEqual(providerVersion("docker"), require("@pulumi/docker/package.json").version);
        assert.strictEqual(providerVersion("command"), require("@pulumi/command/package.json").version);
    });

    it("passes when the matching plugin is installed", () => {
        fakePulumi([{ name: "docker", version: providerVersion("docker") }]);
        assert.strictEqual(pluginMissing("docker"), undefined);
    });

    it("skips, saying so, when no version of the plugin is installed", () => {
        fakePulumi([]);
        assert.strictEqual(pluginMissing("docker"), `the Pulumi provider plugin resource docker ${providerVersion("docker")} is not installed`);
    });

    it("fails, never skips, when only another version is installed", () => {
        fakePulumi([{ name: "docker", version: "4.5.0" }]);
        const v = providerVersion("docker");
        assert.throws(() => pluginMissing("docker"), {
            message: `@pulumi/docker ${v} needs the provider plugin docker ${v}, but only 4.5.0 is installed; install it: pulumi plugin install resource docker ${v} [--file <binary>]`,
        });
    });
});
