import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { childrenOf, errorOf, isSecretValue, mockState, one, resetRecorder, reveal, settle, valueOf } from "../harness";

function context(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-ctx-"));
    for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), content);
    }
    return dir;
}

/** A fake `docker` that logs its arguments, one call per line, and answers like Docker would. */
function fakeDocker(listing = ""): { bin: string; log: string } {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-"));
    const log = path.join(bin, "calls");
    fs.writeFileSync(path.join(bin, "docker"), [
        "#!/bin/sh",
        `echo "$*" >> ${log}`,
        'case "$1 $2" in',
        '  "buildx version") exit 1 ;;',
        `  "image ls") printf '${listing}' ;;`,
        '  "image inspect") echo "$IMAGE_REF" | sed "s/:[^:/]*$//" | sed "s/$/@sha256:feed/" ;;',
        "esac",
    ].join("\n"), { mode: 0o755 });
    return { bin, log };
}

describe("Image", () => {
    let c: typeof import("../../../components");
    before(async () => {
        c = await import("../../../components");
        mockState("command:local:Command", (args) => (args.name.endsWith("-build") ? { stdout: "noise\n127.0.0.1:5000/shop/api@sha256:1234" } : { stdout: "" }));
    });
    after(() => mockState("command:local:Command", undefined));
    beforeEach(resetRecorder);

    it("builds and prunes with two commands, tagging by content and deploying the digest", async () => {
        const dir = context({ Dockerfile: "FROM scratch\n", "a.txt": "a" });
        const registry = new c.Registry("reg", { kind: c.RegistryKind.External, server: "127.0.0.1:5000", username: "u", password: "p" });
        const img = new c.Image("api", { context: dir, repository: "shop/api", registry, testTarget: "test", buildArgs: { V: "1" }, keep: 3 });
        assert.strictEqual(await valueOf(img.imageRef), "127.0.0.1:5000/shop/api@sha256:1234");
        assert.strictEqual(img.tag, `c-${c.contextHash({ context: dir, testTarget: "test", buildArgs: { V: "1" } })}`);
        assert.strictEqual(await valueOf(img.taggedRef), `127.0.0.1:5000/shop/api:${img.tag}`);
        await settle();
        assert.deepStrictEqual(childrenOf(one("dockyard:image:Image", "api").urn), ["command:local:Command api-build", "command:local:Command api-prune"]);
        const build = one("command:local:Command", "api-build");
        assert.ok(isSecretValue(build.inputs.environment), "the registry password makes the build environment secret");
        assert.deepStrictEqual(reveal(build.inputs.environment), {
            DOCKYARD_SCRIPT: c.BUILD_SCRIPT,
            IMAGE_REF: `127.0.0.1:5000/shop/api:${img.tag}`,
            IMAGE_OWNER: "dockyard.unittest.api",
            CONTEXT: dir,
            DOCKERFILE: path.join(dir, "Dockerfile"),
            BUILD_ARGS: "V=1",
            TARGET: "",
            TEST_TARGET: "test",
            PLATFORM: "",
            REGISTRY_SERVER: "127.0.0.1:5000",
            REGISTRY_USERNAME: "u",
            REGISTRY_PASSWORD: "p",
        });
        assert.deepStrictEqual(build.inputs.triggers, [`127.0.0.1:5000/shop/api:${img.tag}`]);
        assert.strictEqual(build.inputs.create, 'sh -c "$DOCKYARD_SCRIPT"');
        const prune = one("command:local:Command", "api-prune");
        assert.deepStrictEqual(prune.inputs.environment, { DOCKYARD_SCRIPT: c.PRUNE_SCRIPT, IMAGE_OWNER: "dockyard.unittest.api", KEEP: "3" });
        assert.deepStrictEqual(prune.dependencies, [build.urn]);
        assert.strictEqual(await pulumi.isSecret(img.imageRef), false);
    });

    it("hashes what the build sees: files, Dockerfile and build args, not ignored files", () => {
        const dir = context({ Dockerfile: "FROM scratch\n", "src/a.txt": "a", "notes.md": "x", ".dockerignore": "*.md\n" });
        const h = () => c.contextHash({ context: dir });
        const first = h();
        assert.match(first, /^[0-9a-f]{12}$/);
        fs.writeFileSync(path.join(dir, "notes.md"), "changed");
        assert.strictEqual(h(), first, "an ignored file does not change the tag");
        fs.writeFileSync(path.join(dir, "src/a.txt"), "b");
        const second = h();
        assert.notStrictEqual(second, first);
        fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\nLABEL x=y\n");
        assert.notStrictEqual(h(), second);
        assert.notStrictEqual(c.contextHash({ context: dir, buildArgs: { A: "1" } }), h());
    });

    it("uses a given tag verbatim and stays local without a registry", async () => {
        const dir = context({ Dockerfile: "FROM scratch\n" });
        const img = new c.Image("tool", { context: dir, repository: "tool", tag: "git-abc123" });
        assert.strictEqual(await valueOf(img.taggedRef), "tool:git-abc123");
        await settle();
        const env = one("command:local:Command", "tool-build").inputs.environment;
        assert.deepStrictEqual([env.REGISTRY_SERVER, env.REGISTRY_USERNAME, env.KEEP], ["", "", undefined]);
        assert.strictEqual(one("command:local:Command", "tool-prune").inputs.environment.KEEP, "5");
    });

    it("rejects latest, a missing context and a bad repository at once", () => {
        assert.strictEqual(errorOf(() => new c.Image("x", { context: "/nonexistent/dir", repository: "Shop/API", tag: "latest", keep: 0 })), [
            'Image "x" has 4 invalid argument problems:',
            '  - context: expected an existing directory, got "/nonexistent/dir"',
            '  - repository: expected a lower-case repository path without registry or tag, such as "shop/api", got "Shop/API"',
            '  - tag: "latest" is not immutable; use a version or git sha, or leave tag unset for a content hash',
            "  - keep: expected a whole number of 1 or more, got 0",
        ].join("\n"));
    });

    describe("build script (against a fake docker)", () => {
        function run(script: string, env: Record<string, string>, listing = "") {
            const { bin, log } = fakeDocker(listing);
            const r = spawnSync("sh", ["-c", script], { env: { PATH: `${bin}:${process.env.PATH}`, ...env }, encoding: "utf8" });
            const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
            fs.rmSync(bin, { recursive: true });
            return { ...r, calls };
        }
        const base = {
            IMAGE_REF: "127.0.0.1:5000/shop/api:c-1", IMAGE_OWNER: "p.s.api", CONTEXT: "/ctx", DOCKERFILE: "/ctx/Dockerfile",
            BUILD_ARGS: "A=1 B=2", TARGET: "", TEST_TARGET: "test", PLATFORM: "", REGISTRY_SERVER: "127.0.0.1:5000", REGISTRY_USERNAME: "", REGISTRY_PASSWORD: "",
        };

        it("tests, builds, pushes and prints the digest, in that order", () => {
            const r = run(c.BUILD_SCRIPT, base);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(r.calls, [
                "buildx version",
                "build --label dockyard.image=p.s.api -f /ctx/Dockerfile --build-arg A=1 --build-arg B=2 --target test /ctx",
                "build --label dockyard.image=p.s.api -f /ctx/Dockerfile --build-arg A=1 --build-arg B=2 -t 127.0.0.1:5000/shop/api:c-1 /ctx",
                "push 127.0.0.1:5000/shop/api:c-1",
                "image inspect --format {{range .RepoDigests}}{{println .}}{{end}} 127.0.0.1:5000/shop/api:c-1",
            ]);
            assert.strictEqual(r.stdout, "127.0.0.1:5000/shop/api@sha256:feed\n");
        });

        it("does not push without a registry", () => {
            const r = run(c.BUILD_SCRIPT, { ...base, REGISTRY_SERVER: "", TEST_TARGET: "" });
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(r.calls.map((x) => x.split(" ")[0]), ["buildx", "build"]);
            assert.strictEqual(r.stdout, "127.0.0.1:5000/shop/api:c-1\n");
        });

        it("prunes only this image's builds beyond KEEP", () => {
            const r = run(c.PRUNE_SCRIPT, { IMAGE_OWNER: "p.s.api", KEEP: "2" }, "r/api:c-5\\nr/api:c-4\\n<none>:<none>\\nr/api:c-3\\nr/api:c-2\\n");
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(r.calls, [
                "image ls --filter label=dockyard.image=p.s.api --format {{.Repository}}:{{.Tag}}",
                "image rm r/api:c-3",
                "image rm r/api:c-2",
                "image prune -f --filter label=dockyard.image=p.s.api",
            ]);
        });
    });
});
