// A broken set-up step says what is missing and how to fix it, without a stack trace.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./prereqs";

/** A directory of symlinks to just the named tools, to stand in for a machine that lacks the rest. */
function pathWith(tools: string[]): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-path-"));
    for (const t of tools) {
        const found = spawnSync("sh", ["-c", `command -v ${t}`], { encoding: "utf8" }).stdout.trim();
        if (found) fs.symlinkSync(found, path.join(dir, t));
    }
    return dir;
}

const BASICS = ["bash", "sh", "dirname", "mkdir", "mktemp", "cat", "grep", "sed", "rm", "id", "dpkg", "tail", "tr", "seq", "sleep"];

describe("set-up failures", () => {
    let cache: string;
    beforeEach(() => (cache = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-cache-"))));
    afterEach(() => fs.rmSync(cache, { recursive: true, force: true }));

    it("without pulumi and without Go, says how to install either", () => {
        const bin = pathWith(BASICS);
        const r = spawnSync("bash", [path.join(ROOT, "scripts/lib/pulumi-toolchain.sh")], {
            env: { PATH: bin, HOME: os.tmpdir(), DOCKYARD_CACHE: cache }, encoding: "utf8",
        });
        fs.rmSync(bin, { recursive: true });
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stdout, "");
        assert.strictEqual(r.stderr, [
            "dockyard: cannot set up Pulumi: no `pulumi` on PATH and no Go to build it with.",
            "dockyard: fix one of:",
            "dockyard:   - install the Pulumi CLI (https://www.pulumi.com/docs/install/) and put it on PATH, or",
            "dockyard:   - install Go 1.25 or later (https://go.dev/dl/) so setup can build Pulumi v3.248.0.",
            "",
        ].join("\n"));
    });

    it("with DOCKER_HOST pointing at nothing, says no engine answers there", () => {
        const r = spawnSync("bash", [path.join(ROOT, "scripts/lib/docker-engine.sh")], {
            env: { ...process.env, DOCKER_HOST: "tcp://127.0.0.1:9", DOCKYARD_CACHE: cache }, encoding: "utf8",
        });
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stderr, "dockyard: no Docker engine answers at DOCKER_HOST=tcp://127.0.0.1:9; start it or unset DOCKER_HOST\n");
    });

    it("without docker and without apt-get, says what to install", () => {
        const bin = pathWith(BASICS.filter((t) => t !== "dpkg"));
        const r = spawnSync("bash", [path.join(ROOT, "scripts/lib/docker-engine.sh")], {
            env: { PATH: bin, HOME: os.tmpdir(), DOCKYARD_CACHE: cache }, encoding: "utf8",
        });
        fs.rmSync(bin, { recursive: true });
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stderr,
            "dockyard: missing docker.io busybox-static docker-registry and no apt-get to install them; install Docker Engine (https://docs.docker.com/engine/install/), busybox-static and docker-registry, or set DOCKER_HOST to a reachable engine\n");
    });
});

describe("local state and passphrase (scripts/lib/local-backend.sh)", () => {
    let tmp: string;
    let stateDir: string;
    beforeEach(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-state-"));
        stateDir = path.join(tmp, "state");
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    /** A copy of the project's scripts at `name`, standing in for one clone. */
    function clone(name: string): string {
        const dir = path.join(tmp, name);
        fs.mkdirSync(dir);
        fs.cpSync(path.join(ROOT, "scripts"), path.join(dir, "scripts"), { recursive: true });
        return dir;
    }
    /** What dockyard-env.sh hands a command, from a clone, with only `extra` of Pulumi's settings. */
    function envOf(dir: string, extra: Record<string, string> = {}): { backend: string; passphraseFile: string } {
        const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: tmp, DOCKYARD_STATE_DIR: stateDir, ...extra };
        const r = spawnSync("bash", [path.join(dir, "scripts/dockyard-env.sh"), "sh", "-c",
            'printf "%s\\n%s" "$PULUMI_BACKEND_URL" "${PULUMI_CONFIG_PASSPHRASE_FILE:-}"'], { env, encoding: "utf8" });
        assert.strictEqual(r.stderr, "");
        assert.strictEqual(r.status, 0);
        const [backend, passphraseFile] = r.stdout.split("\n");
        return { backend, passphraseFile };
    }

    it("gives every clone on the machine the same backend and passphrase", () => {
        const a = clone("a");
        const b = clone("b");
        assert.deepStrictEqual(envOf(a), { backend: `file://${stateDir}/backend`, passphraseFile: "" });
        fs.writeFileSync(path.join(stateDir, "passphrase"), "p", { mode: 0o600 });
        const expected = { backend: `file://${stateDir}/backend`, passphraseFile: path.join(stateDir, "passphrase") };
        assert.deepStrictEqual(envOf(a), expected);
        assert.deepStrictEqual(envOf(b), expected);
    });

    it("keeps a clone whose stacks an earlier Dockyard put in its .pulumi-state on them", () => {
        const old = clone("old");
        fs.mkdirSync(path.join(old, ".pulumi-state/.pulumi/stacks/dockyard"), { recursive: true });
        fs.writeFileSync(path.join(old, ".pulumi-state/.pulumi/stacks/dockyard/dev.json"), "{}");
        fs.writeFileSync(path.join(old, ".pulumi-passphrase"), "p");
        assert.deepStrictEqual(envOf(old), {
            backend: `file://${old}/.pulumi-state`, passphraseFile: path.join(old, ".pulumi-passphrase"),
        });
        // An empty .pulumi-state (what `npm run setup` used to create before any stack) does not count.
        const fresh = clone("fresh");
        fs.mkdirSync(path.join(fresh, ".pulumi-state"));
        assert.strictEqual(envOf(fresh).backend, `file://${stateDir}/backend`);
    });

    it("leaves a backend and passphrase the environment names alone", () => {
        const a = clone("a");
        fs.mkdirSync(stateDir, { recursive: true });
        fs.writeFileSync(path.join(stateDir, "passphrase"), "p");
        assert.deepStrictEqual(envOf(a, { PULUMI_BACKEND_URL: "s3://bucket/dockyard", PULUMI_CONFIG_PASSPHRASE: "x" }),
            { backend: "s3://bucket/dockyard", passphraseFile: "" });
        assert.deepStrictEqual(envOf(a, { PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secrets/p" }),
            { backend: `file://${stateDir}/backend`, passphraseFile: "/run/secrets/p" });
    });
});
