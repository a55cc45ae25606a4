// The Compose mapping never changes behaviour silently (issue 24): what it writes for restart: "no",
// capabilities, settings Swarm ignores, bridge networks, env names and secret targets the stack cannot
// hold, and shared builds, each with its exact finding; and what it writes passes Dockyard's validation.
// Pure: normalised documents as `docker stack config` prints them (test/integration/compose-import.test.ts
// runs the same cases from Compose files through it).
import * as assert from "assert";
import { ComposeImport, mapCompose } from "../../ops/compose";
import { secretCommand } from "../../ops/import";
import { findings, problems } from "./compose-check";

/** What the import says about every one-shot service's rollouts (the text, as a user reads it). */
const ONE_SHOT_WARNING = "a one-shot service (restart condition none): Dockyard rolls it out with failure_action continue and no monitor period, " +
    "and takes a task that exited 0 as done (docker stack deploy would pause every update of it, as Swarm counts its tasks' exit as a failure)";
const ONE_SHOT_ROLLBACK_WARNING = "a one-shot service (restart condition none): Dockyard rolls it back with failure_action continue and no monitor period, " +
    "and takes a task that exited 0 as done (docker stack deploy would pause every rollback of it, as Swarm counts its tasks' exit as a failure)";

function map(doc: Record<string, any>): ComposeImport {
    return mapCompose({ version: "3.13", ...doc }, { projectDir: "/p", composeDir: "/p", stack: "shop", env: {}, readFile: () => "" });
}

describe("compose mapping: no silent change of behaviour", () => {
    it("writes restart: \"no\" as condition none, with a warning, and the other values as docker stack deploy reads them", () => {
        const r = map({ services: Object.fromEntries(["no", "always", "unless-stopped", "on-failure", "on-failure:5"].map((v, i) => [`s${i}`, { image: "busybox:1.35.0", restart: v }])) });
        assert.deepStrictEqual(Object.values<any>(r.environment.services).map((s) => s.restart), [
            { condition: "none" }, { condition: "any" }, { condition: "any" }, { condition: "on-failure" }, { condition: "on-failure", maxAttempts: 5 },
        ]);
        assert.deepStrictEqual(findings(r), [
            'warning services.s0.restart: "no" is written as condition none, as docker compose runs it (docker stack deploy would restart it on any exit)',
            `warning services.s0.deploy.update_config: ${ONE_SHOT_WARNING}`,
            `warning services.s0.deploy.rollback_config: ${ONE_SHOT_ROLLBACK_WARNING}`,
        ]);
        assert.deepStrictEqual(problems(r), []);
    });

    it("says, for a one-shot service, each of its update and rollback settings Dockyard gives it (failure action, monitor), and nothing when Compose sets them all", () => {
        const job = (deploy: Record<string, any>) => findings(map({ services: { job: { image: "busybox:1.35.0", deploy: { restart_policy: { condition: "none" }, ...deploy } } } }));
        assert.deepStrictEqual(job({ update_config: { failure_action: "continue" }, rollback_config: { monitor: "0s" } }), [
            "warning services.job.deploy.update_config: a one-shot service (restart condition none): Dockyard rolls it out with no monitor period, and takes a task that exited 0 as done (docker stack deploy would watch each task for 5s)",
            "warning services.job.deploy.rollback_config: a one-shot service (restart condition none): Dockyard rolls it back with failure_action continue, and takes a task that exited 0 as done (docker stack deploy would pause every rollback of it, as Swarm counts its tasks' exit as a failure)",
        ]);
        const all = { failure_action: "continue", monitor: "0s" };
        assert.deepStrictEqual(job({ update_config: all, rollback_config: all }), []);
        // Not one-shot: Swarm's own settings, nothing to say.
        assert.deepStrictEqual(findings(map({ services: { web: { image: "busybox:1.35.0", deploy: { restart_policy: { condition: "on-failure" } } } } })), []);
    });

    it("maps cap_add and cap_drop, which docker stack deploy applies, to capabilities", () => {
        const r = map({ services: { app: { image: "busybox:1.35.0", cap_add: ["NET_ADMIN"], cap_drop: ["ALL"] } } });
        assert.deepStrictEqual(findings(r), []);
        assert.deepStrictEqual(r.environment.services.app.capabilities, { add: ["NET_ADMIN"], drop: ["ALL"] });
        assert.deepStrictEqual(problems(r), []);
    });

    it("warns about x-* extension fields at every level and expose, which Swarm ignores", () => {
        const r = map({ "x-common": { a: 1 }, services: { app: { image: "busybox:1.35.0", expose: ["80"], "x-team": "shop" } }, networks: { back: { "x-note": "n" } } });
        const ext = "an extension field: Compose and Swarm ignore it too (what YAML anchors take from it is imported where it lands)";
        assert.deepStrictEqual(findings(r), [
            `warning (top level).x-common: ${ext}`,
            `warning networks.back.x-note: ${ext}`,
            "warning services.app.expose: Swarm ignores it too: services on a shared network reach each other on every port",
            `warning services.app.x-team: ${ext}`,
        ]);
        assert.deepStrictEqual(r.environment.networks, { back: { attachable: false }, default: { attachable: false } });
    });

    it("writes a bridge network as an overlay network, which Swarm services can join", () => {
        const r = map({ services: { app: { image: "busybox:1.35.0", networks: { net: null } } }, networks: { net: { driver: "bridge", attachable: true } } });
        assert.deepStrictEqual(r.environment.networks, { net: { attachable: true } });
        assert.deepStrictEqual(findings(r), [
            "warning networks.net.driver: written as an overlay network: Swarm services cannot join a bridge network (it is local to one node); services reach each other by name on it as before",
        ]);
        assert.deepStrictEqual(problems(r), []);
    });

    it("takes the env names Docker takes (spring.profiles.active); one with a space is reported with the library's rule and not written", () => {
        const r = map({ services: { app: { image: "busybox:1.35.0", environment: { "spring.profiles.active": "prod", "OK_NAME": "1", "BAD NAME": "x" } } } });
        assert.deepStrictEqual(r.environment.services.app.env, { "spring.profiles.active": "prod", OK_NAME: "1" });
        assert.deepStrictEqual(findings(r), [
            "error services.app.environment.BAD NAME: expected a variable name without '=' or spaces, such as LOG_LEVEL or discovery.type, got \"BAD NAME\"; not imported",
        ]);
        assert.deepStrictEqual(problems(r), []);
    });

    it("does not write a secret target it reports", () => {
        const r = map({ services: { app: { image: "busybox:1.35.0", secrets: [{ source: "tls", target: "/etc/ssl/key.pem" }] } }, secrets: { tls: { file: "/p/key.pem" } } });
        assert.deepStrictEqual(r.environment.services.app.secrets, ["tls"]);
        assert.deepStrictEqual(findings(r), [
            'error services.app.secrets[0].target: no stack key for it yet (needs a stack schema addition: secret files outside /run/secrets), got "/etc/ssl/key.pem"; without it the file is /run/secrets/tls',
        ]);
        assert.deepStrictEqual(problems(r), []);
    });

    it("builds one image for services with the same build and image name, and two for different names", () => {
        const build = { context: "/p/app", args: { V: "1" } };
        const shared = map({ services: { web: { build, image: "shop/app:1.0" }, worker: { build: { args: { V: "1" }, context: "/p/app" }, image: "shop/app:1.0" } } });
        assert.deepStrictEqual(shared.environment.images, { web: { context: "app", repository: "shop/app", tag: "1.0", buildArgs: { V: "1" } } });
        assert.deepStrictEqual(Object.values<any>(shared.environment.services).map((s) => s.image), ["web", "web"]);
        assert.deepStrictEqual(findings(shared), ["warning services.worker.build: the same build and image as services.web: both deploy the image web"]);
        const named = map({ services: { web: { build, image: "shop/web:1.0" }, worker: { build, image: "shop/worker:1.0" } } });
        assert.deepStrictEqual(Object.keys(named.environment.images), ["web", "worker"]);
        const args = map({ services: { web: { build }, worker: { build: { ...build, args: { V: "2" } } } } });
        assert.deepStrictEqual(Object.keys(args.environment.images), ["web", "worker"]);
    });
});

describe("compose import: printed commands", () => {
    const secret = { secret: "db", key: "db", from: { file: "/p/compose/db.txt" } };
    it("are valid from the caller's directory, inside the project or outside it", () => {
        assert.deepStrictEqual(["/p", "/p/compose", "/elsewhere"].map((cwd) => secretCommand(secret, "shop", cwd, "/p")), [
            "npm run pulumi -- config set --secret db --stack shop < compose/db.txt",
            "npm run pulumi -- config set --secret db --stack shop < db.txt",
            "npm --prefix ../p run pulumi -- config set --secret db --stack shop < ../p/compose/db.txt",
        ]);
    });
});
