// dockyard import against the real Docker CLI, Pulumi CLI and engine: the recorded fixtures are what
// `docker stack config` prints, the import writes a valid stack and sets its secrets, and what
// Dockyard deploys from an imported Compose file matches what `docker stack deploy` deploys.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { importCompose } from "../../ops/import";
import { CASES, FIXTURES, normaliseCase, recordedPath } from "../fixtures/compose/cases";
import { dockerCliMissing, dockerObjects, eventually, pluginMissing, pulumiMissing, requireOrSkip, ROOT, Sandbox, sandbox, sh, swarmMissing } from "./prereqs";

describe("integration: compose import, recorded fixtures", function () {
    before(function () {
        requireOrSkip(this, dockerCliMissing());
    });
    for (const c of CASES) {
        it(`${c.name}: the recording is what docker stack config prints today`, () => {
            assert.strictEqual(normaliseCase(c), fs.readFileSync(recordedPath(c), "utf8"));
        });
    }
});

describe("integration: dockyard import writes a stack and sets its secrets", function () {
    this.timeout(5 * 60_000);
    let box: Sandbox;
    const lines: string[] = [];
    before(function () {
        requireOrSkip(this, dockerCliMissing(), pulumiMissing());
        box = sandbox({ "Pulumi.yaml": "name: dockyard\nruntime: nodejs\nstackConfigDir: stacks\n" });
    });
    after(() => box?.cleanup());

    it("fails on unsupported settings and writes nothing", () => {
        const out = importCompose({
            files: ["compose.yaml", "override.yaml"].map((f) => path.join(FIXTURES, "kitchen-sink", f)),
            stack: "ks", projectDir: box.dir, env: { ...box.env, API_KEY: "k", BANNER: "b" }, log: (l) => lines.push(l),
        });
        assert.strictEqual(out.exitCode, 1);
        assert.strictEqual(fs.existsSync(path.join(box.dir, "stacks/Pulumi.ks.yaml")), false);
        assert.strictEqual(lines.at(-1), "import: 7 settings cannot be imported without changing behaviour (listed above); nothing written. Pass --allow-unsupported to import without them.");
        assert.ok(lines.includes("unsupported: services.legacy.privileged: Dockyard runs no privileged containers (docker stack deploy ignores it too)"));
    });

    it("with --set-secrets, sets the secret config keys and keeps the values out of the stack file", () => {
        fs.cpSync(path.join(FIXTURES, "wordpress-secrets"), path.join(box.dir, "wp"), { recursive: true });
        const out = importCompose({ files: [path.join(box.dir, "wp/compose.yaml")], stack: "wp", projectDir: box.dir, env: box.env, setSecrets: true, log: () => undefined });
        assert.strictEqual(out.exitCode, 0);
        const file = fs.readFileSync(path.join(box.dir, "stacks/Pulumi.wp.yaml"), "utf8");
        assert.ok(!file.includes("fixture-db-password") && !file.includes("fixture-root-password"));
        const config = JSON.parse(box.pulumi(["config", "--json", "--show-secrets", "--stack", "wp"]).stdout);
        assert.deepStrictEqual(
            Object.fromEntries(Object.entries<any>(config).filter(([k]) => k !== "dockyard:environment").map(([k, v]) => [k, [v.value, v.secret]])),
            { "dockyard:dbPassword": ["fixture-db-password", true], "dockyard:dbRootPassword": ["fixture-root-password", true] },
        );
        assert.deepStrictEqual(JSON.parse(config["dockyard:environment"].value).secrets, { db_password: { fromConfig: "dbPassword" }, db_root_password: { fromConfig: "dbRootPassword" } });
    });
});

const SERVICES = ["web", "idle"];

/** The parts of `docker service inspect` both deployments should agree on, with the justified differences taken out. */
function comparable(name: string): any {
    const s = JSON.parse(sh("docker", ["service", "inspect", name]))[0].Spec;
    const c = s.TaskTemplate.ContainerSpec;
    return {
        image: c.Image.split("@")[0],
        command: c.Command, args: c.Args, env: c.Env, user: c.User,
        // Dockyard always sets ReadOnly; docker stack deploy leaves it out when false.
        readOnly: c.ReadOnly ?? false,
        // No health check: docker stack deploy leaves it out, Dockyard's provider writes {}; both inherit the image's.
        healthcheck: c.Healthcheck && Object.keys(c.Healthcheck).length ? c.Healthcheck : undefined,
        // Object names differ by design (<stack>_x vs <prefix>-x); what the container sees must not.
        // Docker reads a relative secret file name under /run/secrets; Dockyard writes the full path.
        secrets: (c.Secrets ?? []).map((x: any) => ({ ...x.File, Name: path.posix.resolve("/run/secrets", x.File.Name) })),
        configs: (c.Configs ?? []).map((x: any) => x.File),
        resources: s.TaskTemplate.Resources,
        // A Window of 0 (Dockyard) and none (docker stack deploy) both mean no window.
        restart: { Window: 0, ...s.TaskTemplate.RestartPolicy },
        constraints: s.TaskTemplate.Placement?.Constraints,
        preferences: s.TaskTemplate.Placement?.Preferences,
        networks: (s.TaskTemplate.Networks ?? []).map((n: any) => n.Aliases),
        mode: s.Mode,
        update: s.UpdateConfig,
        rollback: s.RollbackConfig,
        endpoint: s.EndpointSpec,
        // Each tool adds its own ownership labels (com.docker.stack.namespace, dockyard.*).
        labels: Object.fromEntries(Object.entries<string>(s.Labels ?? {}).filter(([k]) => !k.startsWith("com.docker.stack") && !k.startsWith("dockyard"))),
    };
}

describe("integration: a Compose file deployed by docker stack deploy and by Dockyard", function () {
    this.timeout(20 * 60_000);
    const dir = path.join(FIXTURES, "ci-compare");
    let box: Sandbox | undefined;
    let fromStack: any;

    before(function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
    });
    let deployed = false;
    after(async () => {
        if (deployed) sh("docker", ["stack", "rm", "ci-st"]);
        if (box) {
            box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
            box.cleanup();
        }
        if (deployed) {
            await eventually("the ci- objects to be gone", () => Object.values(dockerObjects("ci-")).every((names) => names.length === 0));
        }
    });

    it("docker stack deploy", async () => {
        deployed = true;
        sh("docker", ["stack", "deploy", "-c", path.join(dir, "compose.yaml"), "ci-st"]);
        fromStack = Object.fromEntries(SERVICES.map((n) => [n, comparable(`ci-st_${n}`)]));
        sh("docker", ["stack", "rm", "ci-st"]);
        // Sequential, so both publish the same host port.
        await eventually("the ci-st stack to be gone", () => sh("docker", ["ps", "-q", "--filter", "label=com.docker.stack.namespace=ci-st"]).trim() === "" &&
            !sh("docker", ["network", "ls", "--format", "{{.Name}}"]).split("\n").includes("ci-st_back"));
    });

    it("Dockyard, from its import, deploys the same service", () => {
        box = sandbox({});
        for (const item of ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts", "components", "config"]) {
            fs.cpSync(path.join(ROOT, item), path.join(box.dir, item), { recursive: true });
        }
        const out = importCompose({ files: [path.join(dir, "compose.yaml")], stack: "ci-dy", projectDir: box.dir, out: path.join(box.dir, "stacks/Pulumi.it.yaml"), env: box.env, log: () => undefined });
        assert.strictEqual(out.exitCode, 0);
        box.pulumi(["stack", "init", "it", "--secrets-provider", "passphrase"]);
        box.pulumi(["config", "set", "--secret", "ciToken"], { input: fs.readFileSync(path.join(dir, "token.txt"), "utf8") });
        box.pulumi(["up", "--yes", "--skip-preview"]);
        const fromDockyard = Object.fromEntries(SERVICES.map((n) => [n, comparable(`ci-dy-${n}`)]));
        const differences = SERVICES.flatMap((n) => Object.keys(fromStack[n]).filter((k) => JSON.stringify(fromStack[n][k]) !== JSON.stringify(fromDockyard[n][k]))
            .map((k) => `${n}.${k}: docker stack deploy ${JSON.stringify(fromStack[n][k])} / Dockyard ${JSON.stringify(fromDockyard[n][k])}`));
        assert.deepStrictEqual(differences, []);
        // The comparison compared something: the services as the Compose file describes them.
        const web = fromDockyard.web;
        assert.deepStrictEqual([web.mode, web.endpoint.Mode, web.env, web.labels, web.restart.Condition], [{ Replicated: { Replicas: 1 } }, "dnsrr", ["GREETING=hello"], { team: "ci" }, "on-failure"]);
        const idle = fromDockyard.idle;
        assert.deepStrictEqual([idle.readOnly, idle.preferences, idle.restart.Condition], [true, [{ Spread: { SpreadDescriptor: "node.labels.zone" } }], "any"]);
    });
});
