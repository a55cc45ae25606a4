// Registry hygiene through Dockyard's own deploy and rollback, on the real engine: the dev stack with
// `gc: true` and the app image's `keep: 2`, five releases (2 and 3 fail their health checks, so
// Swarm rolls them back). After each successful deploy gc runs; after release 5 the registry holds
// exactly the builds of releases 1, 4 and 5, and a rollback to release 1, older than the newest 2,
// works because its record keeps its build.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { RegistryApi } from "../../ops/gc-run";
import type { Release } from "../../ops/releases";
import { Sandbox, editEnvironment, eventually, pluginMissing, projectSandbox, removeVolumes, requireOrSkip, sh, swarmMissing } from "../integration/prereqs";

const WEB_PORT = 18093;
const REGISTRY_PORT = 15093;

describe("e2e: deploy with gc: true, then rollback past the kept builds", function () {
    this.timeout(40 * 60_000);
    const prefix = `gcr${process.pid % 100000}`;
    let box: Sandbox;
    const served = () => {
        try {
            return sh("curl", ["-s", "--max-time", "5", `http://127.0.0.1:${WEB_PORT}/`]).replace(/ host=.*$/, "");
        } catch {
            return "";
        }
    };
    const releases = () => JSON.parse(fs.readFileSync(path.join(box.dir, ".dockyard/releases/it.json"), "utf8")) as Release[];

    before(function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
        box = projectSandbox(prefix, { web: WEB_PORT, registry: REGISTRY_PORT });
        editEnvironment(box, (env) => {
            env.gc = true;
            env.images.app.keep = 2;
        });
        box.pulumi(["stack", "init", "it", "--secrets-provider", "passphrase"]);
        box.pulumi(["config", "set", "--secret", "appToken"], { input: "gc-test-token" });
    });

    after(async function () {
        if (!box) return;
        box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        await removeVolumes(prefix);
        const mine = sh("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).split("\n").filter((i) => i.startsWith(`127.0.0.1:${REGISTRY_PORT}/`));
        for (const image of mine) {
            try {
                sh("docker", ["image", "rm", image]);
            } catch { /* in use or gone */ }
        }
        box.cleanup();
    });

    it("five releases (two failed), keep 2: the registry keeps releases 1, 4 and 5; gc --dry-run, then gc, from the command line remove just a later failed build; rollback to release 1 works", async () => {
        const deploy = (change: (env: any) => void, expect: number) => {
            editEnvironment(box, change);
            const r = box.dockyard(["deploy", "it"]);
            assert.strictEqual(r.code, expect, r.stdout + r.stderr);
            return r;
        };
        const first = deploy(() => undefined, 0);
        assert.ok(first.stdout.includes("dockyard: registry hygiene for it\n"), first.stdout);
        await eventually("release 1 to serve", () => served() === "dockyard sample app version=dev");
        deploy((env) => Object.assign(env.images.app.buildArgs, { APP_VERSION: "v2", BREAK_HEALTH: "1" }), 1);
        deploy((env) => Object.assign(env.images.app.buildArgs, { APP_VERSION: "v3", BREAK_HEALTH: "1" }), 1);
        deploy((env) => Object.assign(env.images.app.buildArgs, { APP_VERSION: "v4", BREAK_HEALTH: "0" }), 0);
        const fifth = deploy((env) => (env.images.app.buildArgs.APP_VERSION = "v5"), 0);
        await eventually("release 5 to serve", () => served() === "dockyard sample app version=v5");

        const recorded = releases();
        assert.deepStrictEqual(recorded.map((r) => r.result), ["succeeded", "failed", "failed", "succeeded", "succeeded"]);
        const digestOf = (r: Release) => r.manifest.web.image.split("@")[1];
        const api = new RegistryApi(`http://127.0.0.1:${REGISTRY_PORT}`);
        const stored = (await api.stored("dockyard/app")).map((m) => m.digest).sort();
        assert.deepStrictEqual(stored, [...new Set([recorded[0], recorded[3], recorded[4]].map(digestOf))].sort(), fifth.stdout);
        assert.match(fifth.stdout, /dockyard: registry 127\.0\.0\.1:\d+, dockyard\/app \(keep 2\): \d+ manifests; keeping /);

        // `gc <stack>` from the command line: with gc off, a failed release 6 and releases 7 and 8
        // leave release 6's build behind; a dry run names it and removes nothing, then gc removes it.
        deploy((env) => { env.gc = false; Object.assign(env.images.app.buildArgs, { APP_VERSION: "v6", BREAK_HEALTH: "1" }); }, 1);
        deploy((env) => Object.assign(env.images.app.buildArgs, { APP_VERSION: "v7", BREAK_HEALTH: "0" }), 0);
        deploy((env) => (env.images.app.buildArgs.APP_VERSION = "v8"), 0);
        const all = releases();
        assert.deepStrictEqual(all.map((r) => r.result).slice(5), ["failed", "succeeded", "succeeded"]);
        const before = (await api.stored("dockyard/app")).map((m) => m.digest).sort();
        // What stays: the builds of the succeeded releases (the newest two among them); what goes: the failed release 6's.
        const good = new Set(all.filter((r) => r.result === "succeeded").map(digestOf));
        const leftOver = before.filter((d) => !good.has(d));
        assert.strictEqual(leftOver.length, 1, JSON.stringify({ before, good: [...good] }));
        const dry = box.dockyard(["gc", "it", "--dry-run"]);
        assert.strictEqual(dry.code, 0, dry.stdout + dry.stderr);
        assert.ok(dry.stdout.includes("dockyard: registry hygiene for it (dry run: nothing is removed)\n"), dry.stdout);
        assert.match(dry.stdout, new RegExp(`would remove 1, up to [^:]+: ${leftOver[0].slice(0, 19)}`));
        assert.deepStrictEqual((await api.stored("dockyard/app")).map((m) => m.digest).sort(), before);
        const gc = box.dockyard(["gc", "it"]);
        assert.strictEqual(gc.code, 0, gc.stdout + gc.stderr);
        assert.deepStrictEqual((await api.stored("dockyard/app")).map((m) => m.digest).sort(), before.filter((d) => d !== leftOver[0]), gc.stdout);

        // Release 1 is older than the newest 2 builds; its record kept it, so rollback works.
        const back = box.dockyard(["rollback", "it", "--to", "1", "--yes"]);
        assert.strictEqual(back.code, 0, back.stdout + back.stderr);
        await eventually("release 1 (dev) to serve again", () => served() === "dockyard sample app version=dev");
    });
});
