import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { childrenOf, isSecretValue, mockState, one, registered, resetRecorder, reveal, settle, valueOf } from "../harness";
import { cleanTempDirs, problemText, rejection, runScript, tempDir, urnOfError, writeFile } from "./helpers";
// Internals the package does not export, tested from their source.
import * as impl from "../../../components/image";

const COMMAND = "command:local:Command";
const DIGEST_REF = "127.0.0.1:5000/shop/api@sha256:" + "ab".repeat(32);

describe("Image", () => {
    let c: typeof import("../../../components");
    /** What the mocked build command prints; its last line is the image reference. */
    let buildStdout = "";
    before(async () => {
        c = await import("../../../components");
        mockState(COMMAND, (args) => (args.name.endsWith("-build") ? { stdout: buildStdout } : { stdout: "" }));
    });
    after(() => {
        mockState(COMMAND, undefined);
        cleanTempDirs();
    });
    beforeEach(() => {
        resetRecorder();
        buildStdout = `Successfully built\n${DIGEST_REF}\n`;
    });

    const dockerfileOnly = () => tempDir({ Dockerfile: "FROM scratch\n" });

    async function build(name: string, args: import("../../../components").ImageArgs) {
        const img = new c.Image(name, args);
        await valueOf(img.imageRef);
        await settle();
        return {
            img,
            component: one("dockyard:image:Image", name),
            build: one(COMMAND, `${name}-build`),
            prune: one(COMMAND, `${name}-prune`),
        };
    }

    describe("resources", () => {
        it("has exactly a build and a prune command, parented to the component", async () => {
            const dir = dockerfileOnly();
            const r = await build("api", { context: dir, repository: "shop/api" });
            assert.deepStrictEqual(childrenOf(r.component.urn), [`${COMMAND} api-build`, `${COMMAND} api-prune`]);
            assert.deepStrictEqual([r.build.parent, r.prune.parent], [r.component.urn, r.component.urn]);
            assert.deepStrictEqual(registered().map((x) => `${x.type} ${x.name}`), ["dockyard:image:Image api", `${COMMAND} api-build`, `${COMMAND} api-prune`]);
        });

        it("without a registry: builds locally with a plain environment and every key present", async () => {
            const dir = dockerfileOnly();
            const r = await build("api", { context: dir, repository: "shop/api" });
            const tag = `c-${impl.contextHash({ context: dir })}`;
            assert.deepStrictEqual(Object.keys(r.build.inputs).sort(), ["create", "environment", "logging", "triggers"]);
            assert.strictEqual(r.build.inputs.create, 'sh -c "$DOCKYARD_SCRIPT"');
            assert.strictEqual(r.build.inputs.logging, "stderr");
            assert.strictEqual(isSecretValue(r.build.inputs.environment), false);
            assert.deepStrictEqual(r.build.inputs.environment, {
                DOCKYARD_SCRIPT: impl.BUILD_SCRIPT,
                IMAGE_REF: `shop/api:${tag}`,
                IMAGE_OWNER: "dockyard.unittest.api",
                CONTEXT: dir,
                DOCKERFILE: path.join(dir, "Dockerfile"),
                BUILD_ARGS: "",
                TARGET: "",
                TEST_TARGET: "",
                PLATFORM: "",
                REGISTRY_SERVER: "",
                REGISTRY_USERNAME: "",
                REGISTRY_PASSWORD: "",
            });
            assert.deepStrictEqual(r.build.inputs.triggers, [`shop/api:${tag}`]);
            assert.deepStrictEqual(r.build.additionalSecretOutputs, ["environment"]);
            assert.strictEqual(r.build.deleteBeforeReplace, false);
            assert.deepStrictEqual(r.build.dependencies, []);
            assert.strictEqual(r.img.registry, undefined);
        });

        it("with a registry: pushes there, with the password (and so the environment) secret", async () => {
            const dir = dockerfileOnly();
            const registry = new c.Registry("reg", { kind: c.RegistryKind.External, server: "127.0.0.1:5000", username: "u", password: "p4ss" });
            const r = await build("api", {
                context: dir, repository: "shop/api", registry, testTarget: "test", target: "runtime", platform: "linux/amd64",
                buildArgs: { V: "1", MODE: "prod" }, keep: 3,
            });
            const tag = `c-${impl.contextHash({ context: dir, testTarget: "test", target: "runtime", platform: "linux/amd64", buildArgs: { V: "1", MODE: "prod" } })}`;
            assert.strictEqual(r.img.tag, tag);
            assert.strictEqual(isSecretValue(r.build.inputs.environment), true);
            assert.deepStrictEqual(reveal(r.build.inputs.environment), {
                DOCKYARD_SCRIPT: impl.BUILD_SCRIPT,
                IMAGE_REF: `127.0.0.1:5000/shop/api:${tag}`,
                IMAGE_OWNER: "dockyard.unittest.api",
                CONTEXT: dir,
                DOCKERFILE: path.join(dir, "Dockerfile"),
                BUILD_ARGS: "V=1 MODE=prod",
                TARGET: "runtime",
                TEST_TARGET: "test",
                PLATFORM: "linux/amd64",
                REGISTRY_SERVER: "127.0.0.1:5000",
                REGISTRY_USERNAME: "u",
                REGISTRY_PASSWORD: "p4ss",
            });
            assert.deepStrictEqual(r.build.inputs.triggers, [`127.0.0.1:5000/shop/api:${tag}`]);
            assert.strictEqual(await valueOf(r.img.taggedRef), `127.0.0.1:5000/shop/api:${tag}`);
            assert.strictEqual(r.img.registry, registry);
            // The push waits for the credentials check.
            assert.deepStrictEqual(r.build.dependencies, [one(COMMAND, "reg-login").urn]);
            assert.deepStrictEqual(reveal(r.prune.inputs.environment), { DOCKYARD_SCRIPT: impl.PRUNE_SCRIPT, IMAGE_OWNER: "dockyard.unittest.api", KEEP: "3" });
        });

        it("with a self-hosted registry: the build waits for the registry service", async () => {
            const dir = dockerfileOnly();
            const registry = new c.Registry("reg", { kind: c.RegistryKind.SelfHosted });
            const r = await build("api", { context: dir, repository: "shop/api", registry });
            assert.deepStrictEqual(r.build.dependencies, [one("docker:index/service:Service", "reg-service").urn]);
            assert.strictEqual(reveal(r.build.inputs.environment).REGISTRY_SERVER, "127.0.0.1:5000");
            assert.strictEqual(reveal(r.build.inputs.environment).IMAGE_REF, `127.0.0.1:5000/shop/api:${r.img.tag}`);
        });

        it("prunes after the build, keeping 5 builds by default, re-run when the image changes", async () => {
            const dir = dockerfileOnly();
            const r = await build("api", { context: dir, repository: "shop/api" });
            assert.deepStrictEqual(Object.keys(r.prune.inputs).sort(), ["create", "environment", "logging", "triggers"]);
            assert.strictEqual(r.prune.inputs.create, 'sh -c "$DOCKYARD_SCRIPT"');
            assert.strictEqual(r.prune.inputs.logging, "stderr");
            assert.deepStrictEqual(r.prune.inputs.environment, { DOCKYARD_SCRIPT: impl.PRUNE_SCRIPT, IMAGE_OWNER: "dockyard.unittest.api", KEEP: "5" });
            assert.deepStrictEqual(r.prune.inputs.triggers, [DIGEST_REF]);
            assert.deepStrictEqual(r.prune.dependencies, [r.build.urn]);
        });

        it("deploys the last line the build printed, not secret", async () => {
            buildStdout = "step 1\nstep 2\n" + DIGEST_REF + "\n\n";
            const { img } = await build("api", { context: dockerfileOnly(), repository: "shop/api" });
            assert.strictEqual(await valueOf(img.imageRef), DIGEST_REF);
            assert.strictEqual(await pulumi.isSecret(img.imageRef), false);
        });

        it("deploys repo:tag when the build printed only that (no registry)", async () => {
            buildStdout = "tool:v1\n";
            const { img } = await build("tool", { context: dockerfileOnly(), repository: "tool", tag: "v1" });
            assert.strictEqual(await valueOf(img.imageRef), "tool:v1");
        });

        it("tags by content by default: c- and the context hash", async () => {
            const dir = tempDir({ Dockerfile: "FROM scratch\n", "a.txt": "a" });
            const { img } = await build("api", { context: dir, repository: "shop/api" });
            assert.match(img.tag, /^c-[0-9a-f]{12}$/);
            assert.strictEqual(img.tag, `c-${impl.contextHash({ context: dir })}`);
            assert.strictEqual(await valueOf(img.taggedRef), `shop/api:${img.tag}`);
        });

        it("uses an explicit tag verbatim", async () => {
            const { img, build: b } = await build("tool", { context: dockerfileOnly(), repository: "tools/tool", tag: "git-abc123" });
            assert.strictEqual(img.tag, "git-abc123");
            assert.strictEqual(await valueOf(img.taggedRef), "tools/tool:git-abc123");
            assert.strictEqual(b.inputs.environment.IMAGE_REF, "tools/tool:git-abc123");
            assert.deepStrictEqual(b.inputs.triggers, ["tools/tool:git-abc123"]);
        });

        it("resolves the context and a Dockerfile path relative to it", async () => {
            const dir = tempDir({ "docker/app.Dockerfile": "FROM scratch\n" });
            const { build: b } = await build("api", { context: dir, dockerfile: "docker/app.Dockerfile", repository: "api" });
            assert.deepStrictEqual([b.inputs.environment.CONTEXT, b.inputs.environment.DOCKERFILE], [dir, path.join(dir, "docker/app.Dockerfile")]);
        });

        it("names the owner label after project, stack and component, so two images prune separately", async () => {
            const dir = dockerfileOnly();
            new c.Image("web", { context: dir, repository: "web" });
            await build("worker", { context: dir, repository: "worker" });
            assert.deepStrictEqual(registered().filter((x) => x.name.endsWith("-prune")).map((x) => x.inputs.environment.IMAGE_OWNER).sort(),
                ["dockyard.unittest.web", "dockyard.unittest.worker"]);
        });
    });

    describe("contextHash", () => {
        function project() {
            return tempDir({
                Dockerfile: "FROM scratch\nCOPY . /\n",
                "src/main.go": "package main\n",
                "README.md": "read me\n",
                "node_modules/x/index.js": "x",
                ".dockerignore": "*.md\nnode_modules\n**/*.log\n",
            });
        }

        it("is 12 hex characters and stable for an unchanged context", () => {
            const dir = project();
            const h = impl.contextHash({ context: dir });
            assert.match(h, /^[0-9a-f]{12}$/);
            assert.strictEqual(impl.contextHash({ context: dir }), h);
        });

        it("is the same for identical contexts in different directories", () => {
            assert.strictEqual(impl.contextHash({ context: project() }), impl.contextHash({ context: project() }));
        });

        it("changes when a file in the context changes", () => {
            const dir = project();
            const before = impl.contextHash({ context: dir });
            writeFile(dir, "src/main.go", "package main // changed\n");
            assert.notStrictEqual(impl.contextHash({ context: dir }), before);
        });

        it("changes when a file is added, and when one is renamed", () => {
            const dir = project();
            const before = impl.contextHash({ context: dir });
            writeFile(dir, "src/util.go", "package main\n");
            const added = impl.contextHash({ context: dir });
            assert.notStrictEqual(added, before);
            fs.renameSync(path.join(dir, "src/util.go"), path.join(dir, "src/helpers.go"));
            const renamed = impl.contextHash({ context: dir });
            assert.notStrictEqual(renamed, added);
            assert.notStrictEqual(renamed, before);
        });

        it("changes when a file becomes executable", () => {
            const dir = project();
            const before = impl.contextHash({ context: dir });
            fs.chmodSync(path.join(dir, "src/main.go"), 0o755);
            assert.notStrictEqual(impl.contextHash({ context: dir }), before);
        });

        it("changes when the Dockerfile changes", () => {
            const dir = project();
            const before = impl.contextHash({ context: dir });
            writeFile(dir, "Dockerfile", "FROM scratch\nCOPY . /app\n");
            assert.notStrictEqual(impl.contextHash({ context: dir }), before);
        });

        it("changes when a Dockerfile the .dockerignore excludes changes", () => {
            const dir = tempDir({ Dockerfile: "FROM scratch\n", ".dockerignore": "Dockerfile\n" });
            const before = impl.contextHash({ context: dir });
            writeFile(dir, "Dockerfile", "FROM busybox\n");
            assert.notStrictEqual(impl.contextHash({ context: dir }), before);
        });

        it("changes when another Dockerfile is chosen", () => {
            const dir = tempDir({ Dockerfile: "FROM scratch\n", "Dockerfile.dev": "FROM busybox\n" });
            assert.notStrictEqual(impl.contextHash({ context: dir, dockerfile: "Dockerfile.dev" }), impl.contextHash({ context: dir }));
        });

        it("changes when build args, target, platform or test target change", () => {
            const dir = project();
            const base = impl.contextHash({ context: dir, buildArgs: { V: "1" } });
            const variants = [
                impl.contextHash({ context: dir, buildArgs: { V: "2" } }),
                impl.contextHash({ context: dir, buildArgs: { V: "1", W: "1" } }),
                impl.contextHash({ context: dir }),
                impl.contextHash({ context: dir, buildArgs: { V: "1" }, target: "runtime" }),
                impl.contextHash({ context: dir, buildArgs: { V: "1" }, platform: "linux/arm64" }),
                impl.contextHash({ context: dir, buildArgs: { V: "1" }, testTarget: "test" }),
            ];
            assert.strictEqual(new Set([base, ...variants]).size, 7, "every variant hashes differently");
        });

        it("does not change when a .dockerignore'd file or directory changes", () => {
            const dir = project();
            const before = impl.contextHash({ context: dir });
            writeFile(dir, "README.md", "edited\n");
            writeFile(dir, "node_modules/x/index.js", "y");
            writeFile(dir, "node_modules/y/new.js", "new");
            writeFile(dir, "src/logs/debug.log", "new ignored file\n");
            assert.strictEqual(impl.contextHash({ context: dir }), before);
        });

        it("follows Docker's pattern rules: a root-level pattern does not ignore nested files", () => {
            const dir = project();
            const before = impl.contextHash({ context: dir });
            writeFile(dir, "docs/NOTES.md", "Docker sends this file: *.md matches only at the root\n");
            assert.notStrictEqual(impl.contextHash({ context: dir }), before);
        });

        it("changes when a file a '!' exception brings back from an ignored directory changes", () => {
            const dir = tempDir({ Dockerfile: "FROM scratch\n", ".dockerignore": "vendor\n!vendor/keep.txt\n", "vendor/keep.txt": "1", "vendor/other.txt": "1" });
            const before = impl.contextHash({ context: dir });
            writeFile(dir, "vendor/other.txt", "2");
            assert.strictEqual(impl.contextHash({ context: dir }), before, "still ignored");
            writeFile(dir, "vendor/keep.txt", "2");
            assert.notStrictEqual(impl.contextHash({ context: dir }), before, "Docker sends vendor/keep.txt");
        });

        it("changes when the .dockerignore itself changes what is sent", () => {
            const dir = project();
            const before = impl.contextHash({ context: dir });
            writeFile(dir, ".dockerignore", "node_modules\n");
            assert.notStrictEqual(impl.contextHash({ context: dir }), before);
        });

        it("sets the default tag, so a changed context is a new tag and a new build", async () => {
            const dir = project();
            const first = (await build("api", { context: dir, repository: "api" })).img.tag;
            resetRecorder();
            writeFile(dir, "README.md", "ignored edit\n");
            assert.strictEqual((await build("api", { context: dir, repository: "api" })).img.tag, first);
            resetRecorder();
            writeFile(dir, "src/main.go", "package main // v2\n");
            const r = await build("api", { context: dir, repository: "api" });
            assert.notStrictEqual(r.img.tag, first);
            assert.deepStrictEqual(r.build.inputs.triggers, [`api:${r.img.tag}`]);
        });
    });

    describe("validation", () => {
        it("rejects a missing context, a bad repository, latest and keep 0 at once, registering only the component", async () => {
            const err = rejection(() => new c.Image("x", { context: "/nonexistent/dir", repository: "Shop/API", tag: "latest", keep: 0 }));
            assert.ok(err instanceof pulumi.ResourceError);
            assert.strictEqual(err.message, problemText("Image", "x", [
                'context: expected an existing directory, got "/nonexistent/dir"',
                'repository: expected a lower-case repository path without registry or tag, such as "shop/api", got "Shop/API"',
                'tag: expected an immutable tag such as a version or git sha, not "latest" (or leave tag unset for a content hash), got "latest"',
                "keep: expected a whole number of 1 or more, got 0",
            ]));
            assert.strictEqual(await urnOfError(err), "urn:pulumi:unittest::dockyard::dockyard:image:Image::x");
            await settle();
            assert.deepStrictEqual(registered().map((r) => `${r.type} ${r.name}`), ["dockyard:image:Image x"]);
        });

        it("rejects a missing Dockerfile, a repository with a registry, a bad tag, a spaced build arg and a test stage that is the target", () => {
            const dir = tempDir({ "a.txt": "a" });
            const err = rejection(() => new c.Image("y", {
                context: dir, repository: "ghcr.io:443/shop/api", tag: "v1 final", buildArgs: { OK: "1", "BAD-NAME": "x", SPACED: "a b" },
                target: "test", testTarget: "test",
            }));
            assert.strictEqual(err.message, problemText("Image", "y", [
                `dockerfile: expected a Dockerfile inside ${dir}, got "Dockerfile"`,
                'repository: expected a lower-case repository path without registry or tag, such as "shop/api", got "ghcr.io:443/shop/api"',
                `tag: expected a Docker tag (letters, digits, '_', '.', '-'), got "v1 final"`,
                `buildArgs.BAD-NAME: expected a build argument name of letters, digits and '_', got "BAD-NAME"`,
                'buildArgs.SPACED: expected a value without spaces, got "a b"',
                'testTarget: "test" is also the target; the test stage must be a separate stage',
            ]));
        });

        it("rejects a context that is a file", () => {
            const dir = dockerfileOnly();
            const file = path.join(dir, "Dockerfile");
            assert.strictEqual(rejection(() => new c.Image("z", { context: file, repository: "z" })).message,
                problemText("Image", "z", [`context: expected an existing directory, got ${JSON.stringify(file)}`]));
        });
    });

    describe("build script (run against a fake docker)", () => {
        const base = {
            IMAGE_REF: "127.0.0.1:5000/shop/api:c-1", IMAGE_OWNER: "p.s.api", CONTEXT: "/ctx", DOCKERFILE: "/ctx/Dockerfile",
            BUILD_ARGS: "A=1 B=2", TARGET: "", TEST_TARGET: "", PLATFORM: "", REGISTRY_SERVER: "", REGISTRY_USERNAME: "", REGISTRY_PASSWORD: "",
        };
        const common = ["--label", "dockyard.image=p.s.api", "-f", "/ctx/Dockerfile", "--build-arg", "A=1", "--build-arg", "B=2"];
        const inspect = ["image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", "127.0.0.1:5000/shop/api:c-1"];
        const digests = "127.0.0.1:5000/other@sha256:0000\n127.0.0.1:5000/shop/api@sha256:feed\n";

        it("without a registry: builds once, pushes nothing and prints the tagged reference", () => {
            const r = runScript(impl.BUILD_SCRIPT, base);
            assert.deepStrictEqual([r.status, r.stderr], [0, ""]);
            assert.deepStrictEqual(r.calls, [
                ["buildx", "version"],
                ["build", "--force-rm", ...common, "-t", "127.0.0.1:5000/shop/api:c-1", "/ctx"],
            ]);
            assert.strictEqual(r.stdout, "127.0.0.1:5000/shop/api:c-1\n");
        });

        it("builds the test stage before the image, then pushes and prints the digest", () => {
            const r = runScript(impl.BUILD_SCRIPT, { ...base, TEST_TARGET: "test", REGISTRY_SERVER: "127.0.0.1:5000" }, { repoDigests: digests });
            assert.deepStrictEqual([r.status, r.stderr], [0, ""]);
            assert.deepStrictEqual(r.calls, [
                ["buildx", "version"],
                ["build", "--force-rm", ...common, "--target", "test", "/ctx"],
                ["build", "--force-rm", ...common, "-t", "127.0.0.1:5000/shop/api:c-1", "/ctx"],
                ["push", "127.0.0.1:5000/shop/api:c-1"],
                inspect,
            ]);
            assert.strictEqual(r.stdout, "127.0.0.1:5000/shop/api@sha256:feed\n");
        });

        it("passes target and platform to the final build, and the platform to the test build", () => {
            const r = runScript(impl.BUILD_SCRIPT, { ...base, BUILD_ARGS: "", TEST_TARGET: "test", TARGET: "runtime", PLATFORM: "linux/arm64" });
            assert.strictEqual(r.status, 0, r.stderr);
            const head = ["--label", "dockyard.image=p.s.api", "-f", "/ctx/Dockerfile", "--platform", "linux/arm64"];
            assert.deepStrictEqual(r.calls.slice(1), [
                ["build", "--force-rm", ...head, "--target", "test", "/ctx"],
                ["build", "--force-rm", ...head, "--target", "runtime", "-t", "127.0.0.1:5000/shop/api:c-1", "/ctx"],
            ]);
        });

        it("uses BuildKit when buildx is installed and the legacy builder otherwise", () => {
            const legacy = runScript(impl.BUILD_SCRIPT, base);
            const buildkit = runScript(impl.BUILD_SCRIPT, base, { buildx: true });
            assert.deepStrictEqual(legacy.env.map((e) => e.buildkit), ["unset", "0"]);
            assert.deepStrictEqual(buildkit.env.map((e) => e.buildkit), ["unset", "unset"]);
        });

        it("stops when the tests fail: no image build, no push, and the end of the log on stderr", () => {
            const r = runScript(impl.BUILD_SCRIPT, { ...base, TEST_TARGET: "test", REGISTRY_SERVER: "127.0.0.1:5000" }, {
                fail: "build",
                failOutput: "DEPRECATED: The legacy builder is deprecated\nStep 3/5 : RUN go test ./...\n--- FAIL: TestAdd\nFAIL\n",
            });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stdout, "");
            assert.strictEqual(r.stderr, [
                "dockyard: the tests in stage test of 127.0.0.1:5000/shop/api:c-1 (nothing was pushed) failed:",
                "Step 3/5 : RUN go test ./...",
                "--- FAIL: TestAdd",
                "FAIL",
                "",
            ].join("\n"));
            assert.deepStrictEqual(r.calls.map((x) => x[0]), ["buildx", "build"]);
        });

        it("stops when the image build fails, naming the image", () => {
            const r = runScript(impl.BUILD_SCRIPT, { ...base, REGISTRY_SERVER: "127.0.0.1:5000" }, { fail: "build", failOutput: "COPY failed: file not found\n" });
            assert.deepStrictEqual([r.status, r.stdout], [1, ""]);
            assert.strictEqual(r.stderr, "dockyard: building 127.0.0.1:5000/shop/api:c-1 failed:\nCOPY failed: file not found\n");
            assert.deepStrictEqual(r.calls.map((x) => x[0]), ["buildx", "build"]);
        });

        it("tries a refused push again (a registry read-only for its garbage collection), waiting longer each time", () => {
            const refused = "unsupported: The operation is unsupported.\n";
            const r = runScript(impl.BUILD_SCRIPT, { ...base, REGISTRY_SERVER: "127.0.0.1:5000", PUSH_RETRY_SECONDS: "0" }, { repoDigests: digests, fail: "push", failTimes: 2, failOutput: refused });
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(r.stderr, [
                "dockyard: pushing 127.0.0.1:5000/shop/api:c-1 to 127.0.0.1:5000 failed (attempt 1 of 7: unsupported: The operation is unsupported.; the registry is read-only, probably for its garbage collection); trying again in 0s",
                "dockyard: pushing 127.0.0.1:5000/shop/api:c-1 to 127.0.0.1:5000 failed (attempt 2 of 7: unsupported: The operation is unsupported.; the registry is read-only, probably for its garbage collection); trying again in 0s",
                "",
            ].join("\n"));
            assert.deepStrictEqual(r.calls.map((x) => x[0]), ["buildx", "build", "push", "push", "push", "image"]);
            assert.strictEqual(r.stdout, "127.0.0.1:5000/shop/api@sha256:feed\n");
        });

        it("fails after the last push attempt, naming image and registry, with the registry's answer and no digest", () => {
            const r = runScript(impl.BUILD_SCRIPT, { ...base, REGISTRY_SERVER: "127.0.0.1:5000", PUSH_RETRY_SECONDS: "0", PUSH_ATTEMPTS: "2" }, { fail: "push", failOutput: "connection refused\n" });
            assert.deepStrictEqual([r.status, r.stdout], [1, ""]);
            assert.strictEqual(r.stderr, [
                "dockyard: pushing 127.0.0.1:5000/shop/api:c-1 to 127.0.0.1:5000 failed (attempt 1 of 2: connection refused); trying again in 0s",
                "dockyard: pushing 127.0.0.1:5000/shop/api:c-1 to 127.0.0.1:5000 failed (2 attempts):",
                "connection refused",
                "",
            ].join("\n"));
            assert.deepStrictEqual(r.calls.map((x) => x[0]), ["buildx", "build", "push", "push"]);
        });

        it("logs in with the password on stdin and a throw-away config before pushing, then removes the config", () => {
            const r = runScript(impl.BUILD_SCRIPT, { ...base, REGISTRY_SERVER: "127.0.0.1:5000", REGISTRY_USERNAME: "u", REGISTRY_PASSWORD: "p4ss" }, { repoDigests: digests });
            assert.deepStrictEqual([r.status, r.stderr], [0, ""]);
            assert.deepStrictEqual(r.calls.map((x) => x.slice(0, 2)), [["buildx", "version"], ["build", "--force-rm"], ["login", "--username"], ["push", "127.0.0.1:5000/shop/api:c-1"], ["image", "inspect"]]);
            assert.deepStrictEqual(r.calls[2], ["login", "--username", "u", "--password-stdin", "127.0.0.1:5000"]);
            assert.deepStrictEqual(r.stdin, { 2: "p4ss" });
            const [login, push] = [r.env[2].config, r.env[3].config];
            assert.notStrictEqual(login, "unset");
            assert.strictEqual(push, login, "the push uses the login's config");
            assert.deepStrictEqual(r.leftoverConfigDirs, []);
            assert.strictEqual(r.stdout, "127.0.0.1:5000/shop/api@sha256:feed\n");
        });

        it("fails before pushing when the registry rejects the credentials", () => {
            const r = runScript(impl.BUILD_SCRIPT, { ...base, REGISTRY_SERVER: "ghcr.io", REGISTRY_USERNAME: "bot", REGISTRY_PASSWORD: "wrong" }, {
                fail: "login",
                failOutput: "Error response from daemon: Get \"https://ghcr.io/v2/\": unauthorized: authentication required\n",
            });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, "dockyard: authentication to registry ghcr.io failed for user bot: check the username and password\n");
            assert.deepStrictEqual(r.calls.map((x) => x[0]), ["buildx", "build", "login"]);
        });

        it("pushes without logging in when there is no user", () => {
            const r = runScript(impl.BUILD_SCRIPT, { ...base, REGISTRY_SERVER: "127.0.0.1:5000" }, { repoDigests: digests });
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(r.calls.map((x) => x[0]), ["buildx", "build", "push", "image"]);
            assert.deepStrictEqual(r.env.map((e) => e.config), ["unset", "unset", "unset", "unset"]);
        });

        it("fails when the pushed image has no digest for this repository", () => {
            const r = runScript(impl.BUILD_SCRIPT, { ...base, REGISTRY_SERVER: "127.0.0.1:5000" }, { repoDigests: "127.0.0.1:5000/other@sha256:0000\n" });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, "dockyard: 127.0.0.1:5000/shop/api:c-1 was pushed but the registry reported no digest\n");
            assert.strictEqual(r.stdout, "");
        });
    });

    describe("prune script (run against a fake docker)", () => {
        const listing = "r/api:c-5\nr/api:c-4\n<none>:<none>\nr/api:c-3\nr/api:c-2\n";

        it("removes only this image's builds beyond KEEP, newest first kept, then its dangling layers", () => {
            const r = runScript(impl.PRUNE_SCRIPT, { IMAGE_OWNER: "p.s.api", KEEP: "2" }, { imageList: listing });
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(r.calls, [
                ["image", "ls", "--filter", "label=dockyard.image=p.s.api", "--format", "{{.Repository}}:{{.Tag}}"],
                ["image", "rm", "r/api:c-3"],
                ["image", "rm", "r/api:c-2"],
                ["image", "prune", "-f", "--filter", "label=dockyard.image=p.s.api"],
            ]);
            assert.strictEqual(r.stderr, "dockyard: removed old image r/api:c-3\ndockyard: removed old image r/api:c-2\n");
            assert.strictEqual(r.stdout, "");
        });

        it("removes nothing when there are no more than KEEP builds", () => {
            const r = runScript(impl.PRUNE_SCRIPT, { IMAGE_OWNER: "p.s.api", KEEP: "4" }, { imageList: listing });
            assert.deepStrictEqual([r.status, r.stderr], [0, ""]);
            assert.deepStrictEqual(r.calls.map((x) => x.slice(0, 2).join(" ")), ["image ls", "image prune"]);
        });

        it("never fails a deploy when the engine's prune is busy (images built in parallel): tries 5 times, then warns", () => {
            const r = runScript(impl.PRUNE_SCRIPT, { IMAGE_OWNER: "p.s.api", KEEP: "4" }, {
                imageList: listing, fail: "image prune", failOutput: "Error response from daemon: a prune operation is already running",
            });
            assert.strictEqual(r.status, 0);
            assert.deepStrictEqual(r.calls.map((x) => x.slice(0, 2).join(" ")), ["image ls", "image prune", "image prune", "image prune", "image prune", "image prune"]);
            assert.strictEqual(r.stderr, "dockyard: warning: could not prune dangling layers of p.s.api (left for the next build): Error response from daemon: a prune operation is already running\n");
        });

        it("carries on when an image cannot be removed (e.g. a container still uses it)", () => {
            const r = runScript(impl.PRUNE_SCRIPT, { IMAGE_OWNER: "p.s.api", KEEP: "1" }, { imageList: "r/api:c-2\nr/api:c-1\n", fail: "image rm" });
            assert.deepStrictEqual([r.status, r.stderr], [0, ""]);
            assert.deepStrictEqual(r.calls.map((x) => x.slice(0, 3).join(" ")), ["image ls --filter", "image rm r/api:c-1", "image prune -f"]);
        });
    });
});
