// Another Pulumi project uses the component library exactly as a user would: it installs the packed
// package (`npm pack`) and its peer dependencies from the npm registry, and nothing else from this
// repository; type-checks a program that composes the components; runs it under mocks; and, where
// the provider plugins are installed, deploys it on the real engine and destroys it.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT, Sandbox, claimPrefix, dockerObjects, eventually, pluginMissing, pulumiMissing, requireOrSkip, sandbox, sh, swarmMissing } from "./prereqs";

const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const versionOf = (name: string) => rootPackage.dependencies[name] ?? rootPackage.devDependencies[name];

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import * as dy from "@dockyard/components";

const cfg = new pulumi.Config();
const registry = new dy.Registry("op-registry", {
    kind: dy.RegistryKind.SelfHosted, port: 15500, publishMode: dy.PublishMode.Host, endpointMode: dy.EndpointMode.Dnsrr,
});
const image = new dy.Image("op-app", { context: "./app", repository: "outside/app", registry, testTarget: "test" });
const network = new dy.Network("op-net");
const data = new dy.Volume("op-data", { deletion: dy.VolumeDeletion.Delete });
const token = new dy.Secret("op-token", { data: cfg.requireSecret("token") });
const settings = new dy.Config("op-conf", { data: "greeting: hello\\n" });

const web = new dy.Service("op-web", {
    image,
    networks: [network],
    secrets: [{ secret: token, target: "token" }],
    configs: [{ config: settings, target: "/etc/app.yaml" }],
    mounts: [{ volume: data, target: "/data" }],
    ports: [{ target: 8080, published: 15580, mode: dy.PublishMode.Host }],
    endpointMode: dy.EndpointMode.Dnsrr,
    update: { order: dy.UpdateOrder.StopFirst, monitor: "5s" },
    healthCheck: { command: ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"], interval: "2s", retries: 3, startPeriod: "2s" },
    convergeTimeout: "2m",
});

export const branded = dy.Image.isInstance(image) && dy.Service.isInstance(web) && !dy.Service.isInstance(image);
export const serviceName = web.serviceName;
export const imageRef = web.imageRef;
`;

/** Runs the compiled program under Pulumi's mocks and prints what it registered. */
const MOCKS = `const pulumi = require("@pulumi/pulumi");
const seen = [];
pulumi.runtime.setMocks({
    newResource(a) {
        seen.push(a.type + " " + a.name);
        const state = { ...a.inputs };
        if (a.type === "command:local:Command" && a.name.endsWith("-build")) state.stdout = "127.0.0.1:15500/outside/app@sha256:" + "0".repeat(64);
        return { id: a.name + "-id", state };
    },
    call: (a) => a.inputs,
}, "outside", "test", false);
pulumi.runtime.setAllConfig({ "outside:token": "s3cret" }, ["outside:token"]);
const program = require("./bin/index.js");
program.serviceName.apply((name) => program.imageRef.apply((ref) =>
    process.once("beforeExit", () => console.log(JSON.stringify({ seen: seen.sort(), name, ref, branded: program.branded })))));
`;

const FILES: Record<string, string> = {
    "Pulumi.yaml": "name: outside\nruntime: nodejs\n",
    "index.ts": PROGRAM,
    "mocks.js": MOCKS,
    "tsconfig.json": JSON.stringify({ compilerOptions: { strict: true, target: "es2022", module: "commonjs", moduleResolution: "node", outDir: "bin", types: ["node"], esModuleInterop: true }, files: ["index.ts"] }),
    "app/Dockerfile": [
        "FROM dockyard/busybox:1.35.0 AS app",
        "RUN mkdir -p /www && echo ok > /www/healthz && echo hello > /www/index.html",
        'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
        "FROM app AS test",
        "RUN test \"$(cat /www/healthz)\" = ok",
        "FROM app",
    ].join("\n") + "\n",
};

describe("a separate project using the packed component library", function () {
    this.timeout(15 * 60_000);
    let box: Sandbox;
    let tarball: string;

    before(function () {
        requireOrSkip(this, pulumiMissing());
        box = sandbox(FILES, "test", { ownModules: true });
        // npm pack of the built library: exactly what a registry would serve.
        tarball = path.join(box.dir, sh("npm", ["pack", "--silent", "--pack-destination", box.dir], { cwd: path.join(ROOT, "components") }).trim().split("\n").pop()!);
        const pkg = {
            name: "outside", private: true,
            dependencies: {
                "@dockyard/components": `file:${path.basename(tarball)}`,
                "@pulumi/pulumi": versionOf("@pulumi/pulumi"),
                "@pulumi/docker": versionOf("@pulumi/docker"),
                "@pulumi/command": versionOf("@pulumi/command"),
            },
            devDependencies: { typescript: versionOf("typescript"), "@types/node": versionOf("@types/node") },
        };
        fs.writeFileSync(path.join(box.dir, "package.json"), JSON.stringify(pkg, null, 2));
        sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: box.dir, timeoutMs: 10 * 60_000 });
    });
    after(() => box?.cleanup());

    it("installs only the built library: JavaScript, type declarations, its README and package file", () => {
        const files = sh("tar", ["-tzf", tarball]).trim().split("\n").sort();
        assert.ok(files.includes("package/dist/index.js") && files.includes("package/dist/index.d.ts"), files.join("\n"));
        assert.deepStrictEqual(files.filter((f) => !/^package\/dist\/[a-z]+\.(js|d\.ts)$/.test(f)), ["package/README.md", "package/package.json"]);
        // Peers resolve to the project's own single copy of the Pulumi SDK.
        assert.strictEqual(fs.existsSync(path.join(box.dir, "node_modules/@dockyard/components/node_modules/@pulumi")), false);
    });

    it("type-checks and compiles a program that composes Registry, Image, Network, Volume, Secret, Config and Service", () => {
        sh(path.join(box.dir, "node_modules/.bin/tsc"), ["-p", "."], { cwd: box.dir });
    });

    it("runs under mocks and registers exactly the expected resources", () => {
        const out = JSON.parse(sh("node", ["mocks.js"], { cwd: box.dir }).trim().split("\n").pop()!);
        assert.deepStrictEqual(out.seen, [
            "command:local:Command op-app-build",
            "command:local:Command op-app-prune",
            "command:local:Command op-data-node",
            "command:local:Command op-registry-converged",
            "command:local:Command op-registry-data-node",
            "command:local:Command op-web-converged",
            "docker:index/network:Network op-net-network",
            "docker:index/service:Service op-registry-service",
            "docker:index/service:Service op-web-service",
            "docker:index/serviceConfig:ServiceConfig op-conf-config",
            "docker:index/secret:Secret op-token-secret",
            "docker:index/volume:Volume op-data-volume",
            "docker:index/volume:Volume op-registry-data-volume",
            "dockyard:image:Image op-app",
            "dockyard:network:Network op-net",
            "dockyard:registry:Registry op-registry",
            "dockyard:swarm:Config op-conf",
            "dockyard:swarm:Secret op-token",
            "dockyard:swarm:Service op-registry",
            "dockyard:swarm:Service op-web",
            "dockyard:volume:Volume op-data",
            "dockyard:volume:Volume op-registry-data",
        ].sort());
        assert.deepStrictEqual({ name: out.name, ref: out.ref, branded: out.branded }, {
            name: "op-web", ref: "127.0.0.1:15500/outside/app@sha256:" + "0".repeat(64), branded: true,
        });
    });

    it("deploys on the real engine, serves, and is destroyed", async function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
        claimPrefix("op-");
        box.pulumi(["stack", "init", "test"]);
        box.pulumi(["config", "set", "--secret", "token"], { input: "outside-token" });
        try {
            box.pulumi(["up", "--yes", "--skip-preview"]);
            await eventually("the web service to answer on port 15580", () => {
                try {
                    return sh("curl", ["-fsS", "--max-time", "2", "http://127.0.0.1:15580/healthz"]).trim() === "ok";
                } catch {
                    return false;
                }
            });
            const spec = JSON.parse(sh("docker", ["service", "inspect", "op-web"]))[0].Spec.TaskTemplate.ContainerSpec;
            assert.match(spec.Image, /^127\.0\.0\.1:15500\/outside\/app@sha256:[0-9a-f]{64}$/);
            assert.deepStrictEqual(spec.Secrets.map((s: any) => s.File.Name), ["/run/secrets/token"]);
            assert.deepStrictEqual(spec.Configs.map((c: any) => c.File.Name), ["/etc/app.yaml"]);
        } finally {
            box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        }
        await eventually("the op- objects to be gone", () => Object.values(dockerObjects("op-")).every((l) => l.length === 0 || l.every((n) => n.startsWith("op-registry-data"))));
        sh("docker", ["volume", "rm", "-f", "op-registry-data"]);
    });
});
