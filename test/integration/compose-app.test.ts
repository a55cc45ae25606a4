// An imported Compose stack previews, deploys, reviews, releases and rolls back like a hand-written
// one: DockerCoins (five services: one global, one with 10 replicas, health-checked rolling updates
// that roll back on failure) imported with an override for this machine, then driven through the
// review/deploy/releases/rollback CLI on the real engine, and torn down leaving nothing behind.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { FIXTURES } from "../fixtures/compose/cases";
import { baseImageMissing, claimPrefix, dockerCliMissing, dockerObjects, editEnvironment, eventually, pluginMissing, PROGRAM_FILES, removeVolumes, requireOrSkip, ROOT, Sandbox, sandbox, sh, swarmMissing, taskContainer } from "./prereqs";

const PREFIX = "dc";
const WEBUI_PORT = 17080;
const REGISTRY_PORT = 17500;
const SERVICES = ["hasher", "redis", "rng", "webui", "worker"];

// What this machine needs and the fixture does not say: no IPVS here, so host-mode ports and DNS
// round-robin endpoints instead of the routing mesh and virtual IPs; a local stand-in for redis (no
// Docker Hub), with a volume to prove data survives; the hasher's health check every second and
// fewer replicas, so its rolling update (parallelism 1, monitor 5s) takes seconds, not minutes.
// The port keeps the fixture's published 8000 so it replaces it in Docker's merge; the stack file
// then moves it to WEBUI_PORT.
const OVERRIDE = `version: "3"
services:
  rng:
    deploy:
      endpoint_mode: dnsrr
  hasher:
    healthcheck:
      interval: 1s
      timeout: 2s
      retries: 3
    deploy:
      endpoint_mode: dnsrr
      replicas: 2
  webui:
    ports:
      - target: 80
        published: 8000
        mode: host
    deploy:
      endpoint_mode: dnsrr
  worker:
    deploy:
      endpoint_mode: dnsrr
  redis:
    image: dockyard/busybox:1.35.0
    command: ["sh", "-c", "mkdir -p /data && exec sleep 1000000"]
    volumes:
      - redis-data:/data
    deploy:
      endpoint_mode: dnsrr
volumes:
  redis-data:
`;

/** `docker service ls` as name → replicas ("2/2") and mode. */
function serviceList(): Record<string, { replicas: string; mode: string }> {
    const out = sh("docker", ["service", "ls", "--filter", `name=${PREFIX}-`, "--format", "{{.Name}} {{.Replicas}} {{.Mode}}"]);
    return Object.fromEntries(out.trim().split("\n").filter(Boolean).map((l) => l.split(" ")).filter(([n]) => n.startsWith(`${PREFIX}-`))
        .map(([n, replicas, mode]) => [n, { replicas, mode }]));
}

function serviceImage(name: string): string {
    return JSON.parse(sh("docker", ["service", "inspect", `${PREFIX}-${name}`]))[0].Spec.TaskTemplate.ContainerSpec.Image;
}

function webui(): string {
    try {
        return sh("curl", ["-s", "--max-time", "5", `http://127.0.0.1:${WEBUI_PORT}/`]).trim();
    } catch {
        return "";
    }
}

/** What a running hasher task serves (it publishes no port: asked from inside its container). */
function hasher(): string {
    try {
        return sh("docker", ["exec", taskContainer(`${PREFIX}-hasher`), "wget", "-q", "-O", "-", "http://127.0.0.1/"]).trim();
    } catch {
        return "";
    }
}

describe("integration: an imported Compose stack (DockerCoins) reviews, deploys, releases and rolls back", function () {
    this.timeout(30 * 60_000);
    let box: Sandbox | undefined;
    const started = Date.now();
    const cli = (args: string[], env?: NodeJS.ProcessEnv) => box!.dockyard(args, env);
    const releases = () => JSON.parse(fs.readFileSync(path.join(box!.dir, ".dockyard/releases/it.json"), "utf8"));

    before(function () {
        requireOrSkip(this, swarmMissing(), dockerCliMissing(), baseImageMissing(), pluginMissing("docker"), pluginMissing("command"));
        const leftovers = Object.values(dockerObjects(`${PREFIX}-`)).flat();
        assert.deepStrictEqual(leftovers, [], `Docker objects named ${PREFIX}-* exist already, not left by an earlier test run; this test would take them over`);
        claimPrefix(`${PREFIX}-`);
        // The program, as projectSandbox copies it, but no stack: the import writes it.
        box = sandbox({});
        for (const item of PROGRAM_FILES) {
            fs.cpSync(path.join(ROOT, item), path.join(box.dir, item), { recursive: true });
        }
        // The fixture inside the sandbox, so its build contexts are the sandbox's to change.
        fs.cpSync(path.join(FIXTURES, "dockercoins"), path.join(box.dir, "dockercoins"), { recursive: true });
        fs.writeFileSync(path.join(box.dir, "dockercoins/this-machine.yaml"), OVERRIDE);
        box.env.DOCKYARD_RELEASES_DIR = path.join(box.dir, ".dockyard");
    });

    after(async function () {
        if (!box) return;
        box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        await removeVolumes(`${PREFIX}-`);
        // The images it built, which only this test pushes to its registry's port.
        const built = sh("docker", ["images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}"]).split("\n").map((l) => l.split(" "))
            .filter(([repo]) => repo.startsWith(`127.0.0.1:${REGISTRY_PORT}/`)).map(([repo, tag, id]) => (tag === "<none>" ? id : `${repo}:${tag}`));
        if (built.length) sh("docker", ["image", "rm", "-f", ...built], { timeoutMs: 60_000 });
        box.cleanup();
        console.log(`      (compose-app suite: ${Math.round((Date.now() - started) / 1000)}s)`);
    });

    it("imports the Compose files: five services, images built in the sandbox, no `latest` tags", () => {
        const r = cli(["import", "dockercoins/compose.yaml", "-f", "dockercoins/healthcheck.yaml", "-f", "dockercoins/this-machine.yaml",
            "--stack", PREFIX, "--out", "stacks/Pulumi.it.yaml"], { ...box!.env, INIT_CWD: box!.dir, REGISTRY: `127.0.0.1:${REGISTRY_PORT}` });
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        for (const s of ["hasher", "rng", "webui", "worker"]) {
            assert.ok(r.stdout.includes(`warning: services.${s}.image: tag "latest" dropped`), r.stdout);
        }
        const stackFile = path.join(box!.dir, "stacks/Pulumi.it.yaml");
        editEnvironment(box!, (env) => {
            assert.strictEqual(env.prefix, PREFIX);
            assert.deepStrictEqual(Object.keys(env.services).sort(), SERVICES);
            assert.deepStrictEqual(env.registry, { external: { server: `127.0.0.1:${REGISTRY_PORT}` } });
            for (const [name, img] of Object.entries<any>(env.images)) {
                assert.deepStrictEqual(img, { context: `dockercoins/dockercoins/${name}`, repository: name }, "no tag, a context inside the project");
                assert.ok(fs.existsSync(path.join(box!.dir, img.context, "Dockerfile")));
            }
            assert.strictEqual(env.services.rng.global, true);
            assert.strictEqual(env.services.worker.replicas, 10);
            assert.strictEqual(env.services.hasher.update.failureAction, "rollback");
            assert.deepStrictEqual(env.services.webui.ports, [{ target: 80, published: 8000, mode: "host" }]);
            // Run the registry the images are pushed to, as a hand-written stack would.
            env.registry = { selfHosted: { port: REGISTRY_PORT, publishMode: "host", endpointMode: "dnsrr" } };
            env.services.webui.ports[0].published = WEBUI_PORT;
        });
        assert.ok(fs.readFileSync(stackFile, "utf8").length > 0);
        box!.pulumi(["stack", "init", "it", "--secrets-provider", "passphrase"]);
    });

    it("review of the new stack: exit 2, the five services and the registry to create", () => {
        const r = cli(["review", "it"]);
        assert.strictEqual(r.code, 2, r.stdout + r.stderr);
        const json = JSON.parse(fs.readFileSync(path.join(box!.dir, ".dockyard/reviews/review-it.json"), "utf8"));
        assert.strictEqual(json.exitCode, 2);
        assert.strictEqual(json.counts.update + json.counts.replace + json.counts.delete, 0);
        const services = json.changes.filter((c: any) => c.type === "docker:index/service:Service").map((c: any) => c.resource).sort();
        assert.deepStrictEqual(services, ["registry", ...SERVICES].map((s) => `${PREFIX}-${s}-service`).sort(), JSON.stringify(json.changes.map((c: any) => [c.type, c.resource])));
        for (const s of SERVICES) assert.ok(r.stdout.includes(s), `the review names ${s}`);
    });

    it("deploy records release 1 and every service converges; the webui answers on its host port", async () => {
        const r = cli(["deploy", "it"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.ok(r.stdout.includes("dockyard: release 1 of it recorded (deploy)."), r.stdout);
        await eventually("every service to converge", () => {
            const ls = serviceList();
            return ls[`${PREFIX}-worker`]?.replicas === "10/10" && ls[`${PREFIX}-hasher`]?.replicas === "2/2" && ls[`${PREFIX}-rng`]?.replicas === "1/1" &&
                ls[`${PREFIX}-webui`]?.replicas === "1/1" && ls[`${PREFIX}-redis`]?.replicas === "1/1";
        }, 120_000);
        const ls = serviceList();
        assert.deepStrictEqual(Object.keys(ls).sort(), ["registry", ...SERVICES].map((s) => `${PREFIX}-${s}`).sort());
        assert.strictEqual(ls[`${PREFIX}-rng`].mode, "global");
        const rngTasks = sh("docker", ["service", "ps", `${PREFIX}-rng`, "--filter", "desired-state=running", "-q"]).trim().split("\n").filter(Boolean);
        assert.strictEqual(rngTasks.length, 1, "the global service runs one task on the one node");
        await eventually("the webui to answer", () => webui() === "webui");
        assert.strictEqual(hasher(), "hasher");
        // Deployed by digest from the stack's own registry.
        for (const s of ["hasher", "rng", "webui", "worker"]) assert.match(serviceImage(s), new RegExp(`^127\\.0\\.0\\.1:${REGISTRY_PORT}/${s}(:[^@]+)?@sha256:[0-9a-f]{64}$`));
        // Data in the redis volume, which every later step must leave alone.
        sh("docker", ["exec", taskContainer(`${PREFIX}-redis`), "sh", "-c", "echo precious > /data/coins"]);
        assert.strictEqual(cli(["review", "it"]).code, 0, "an unchanged stack reviews as no changes");
    });

    it("a change in the hasher's build context deploys as release 2, a rolling update of the hasher only", async () => {
        const dockerfile = path.join(box!.dir, "dockercoins/dockercoins/hasher/Dockerfile");
        fs.writeFileSync(dockerfile, fs.readFileSync(dockerfile, "utf8").replace("echo hasher >", "echo hasher-v2 >"));
        const before = Object.fromEntries(SERVICES.map((s) => [s, serviceImage(s)]));
        const r = cli(["deploy", "it"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.ok(r.stdout.includes("dockyard: release 2 of it recorded (deploy)."), r.stdout);
        await eventually("v2 of the hasher to serve", () => hasher() === "hasher-v2");
        assert.notStrictEqual(serviceImage("hasher"), before.hasher);
        for (const s of SERVICES.filter((x) => x !== "hasher")) assert.strictEqual(serviceImage(s), before[s], `${s} untouched`);
        const lines = cli(["releases", "it"]).stdout.trim().split("\n");
        assert.strictEqual(lines.length, 3, lines.join("\n"));
        assert.match(lines[1], /^1 +\S+ \S+ +succeeded deploy .* first release /);
        assert.match(lines[2], /^2 +\S+ \S+ +succeeded deploy .* hasher image/);
    });

    it("rollback returns to release 1: the hasher runs release 1's digest, the volume's data is kept", async () => {
        const r = cli(["rollback", "it", "--yes"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.ok(r.stdout.includes("dockyard: rolling it back to release 1"), r.stdout);
        const first = releases().find((x: any) => x.number === 1);
        assert.strictEqual(serviceImage("hasher"), first.manifest.hasher.image);
        for (const s of SERVICES) assert.strictEqual(serviceImage(s), first.manifest[s].image, `${s} is release 1's image`);
        await eventually("release 1's hasher to serve", () => hasher() === "hasher");
        await eventually("the hasher to converge", () => serviceList()[`${PREFIX}-hasher`]?.replicas === "2/2");
        assert.strictEqual(sh("docker", ["exec", taskContainer(`${PREFIX}-redis`), "cat", "/data/coins"]).trim(), "precious");
        assert.deepStrictEqual(dockerObjects(`${PREFIX}-`).volumes, [`${PREFIX}-redis-data`, `${PREFIX}-registry-data`]);
        assert.strictEqual(webui(), "webui");
        const lines = cli(["releases", "it"]).stdout.trim().split("\n");
        assert.match(lines[3], /^3 +\S+ \S+ +succeeded rollback to 1/);
        const preview = box!.pulumi(["preview", "--expect-no-changes"], { allowFailure: true });
        assert.strictEqual(preview.code, 0, `state, preview and reality agree after a rollback:\n${preview.stdout}`);
    });

    it("pulumi destroy and removing the retained volumes leave no dc- object behind", async () => {
        box!.pulumi(["destroy", "--yes", "--skip-preview"]);
        assert.deepStrictEqual(dockerObjects(`${PREFIX}-`).volumes, [`${PREFIX}-redis-data`, `${PREFIX}-registry-data`], "volumes are retained by destroy");
        await removeVolumes(`${PREFIX}-`);
        await eventually("no dc- objects to remain", () => Object.values(dockerObjects(`${PREFIX}-`)).every((names) => names.length === 0));
    });
});
