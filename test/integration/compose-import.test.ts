// `dockyard import` end to end on small Compose files, through the real `docker stack config`
// (the Docker CLI only, no engine): each case's exact messages and exact written stack; then every
// project under test/fixtures/compose/ imported twice (byte-identical) and its stack checked by the
// validation `deploy` runs.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { parseEnvironment } from "../../config/parse";
import { ImportOptions, importCompose } from "../../ops/import";
import { CASES, FIXTURES, RECORD_ENV } from "../fixtures/compose/cases";
import { ROOT, dockerCliMissing, requireOrSkip } from "./prereqs";

/** What the import says about every one-shot service's rollouts (the text, as a user reads it). */
const ONE_SHOT_WARNING = "a one-shot service (restart condition none): Dockyard rolls it out with failure_action continue and no monitor period, " +
    "and takes a task that exited 0 as done (docker stack deploy would pause every update of it, as Swarm counts its tasks' exit as a failure)";
const ONE_SHOT_ROLLBACK_WARNING = "a one-shot service (restart condition none): Dockyard rolls it back with failure_action continue and no monitor period, " +
    "and takes a task that exited 0 as done (docker stack deploy would pause every rollback of it, as Swarm counts its tasks' exit as a failure)";

/** Only what the Docker CLI needs: nothing from the machine's variables reaches the import. */
const BASE_ENV = { PATH: process.env.PATH, HOME: process.env.HOME };

const dirs: string[] = [];
/** A throw-away project directory with these files. */
function project(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-import-case-"));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), text);
    }
    return dir;
}

interface Run {
    readonly code: number;
    readonly lines: string[];
    /** The stack file written, if any. */
    readonly text?: string;
    /** Its dockyard:environment. */
    readonly environment?: any;
}

/** Import <dir>/compose.yaml (or `files`) into <dir>/out.yaml. */
function run(dir: string, opts: Partial<ImportOptions> = {}): Run {
    const lines: string[] = [];
    const out = path.join(dir, "out.yaml");
    const r = importCompose({ files: [path.join(dir, "compose.yaml")], stack: "t", projectDir: dir, out, cwd: dir, env: BASE_ENV, force: true, log: (l) => lines.push(l), ...opts });
    const text = r.file ? fs.readFileSync(r.file, "utf8") : undefined;
    return { code: r.exitCode, lines, text, environment: text ? (yaml.load(text) as any).config["dockyard:environment"] : undefined };
}

/** A service's written settings. */
const svc = (r: Run, name = "app") => r.environment.services[name];

/** The lines that are findings (not the summary or "wrote" lines). */
const findingLines = (r: Run) => r.lines.filter((l) => /^(unsupported|warning): /.test(l));

describe("integration: compose import, case by case", function () {
    this.timeout(60_000);
    before(function () {
        requireOrSkip(this, dockerCliMissing());
    });
    after(() => {
        for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });

    describe("1b. environment entries without a value (passed through from where you import)", () => {
        const compose = 'services:\n  app:\n    image: busybox:1.35.0\n    environment:\n      - GF_ROOT_URL\n      - PLAIN=yes\n';
        it("stops on one whose variable is not set, naming it and --allow-unset", () => {
            const r = run(project({ "compose.yaml": compose }));
            assert.strictEqual(r.code, 1);
            assert.deepStrictEqual(findingLines(r), [
                "unsupported: services.app.environment.GF_ROOT_URL: no value, and the variable is not set where you import (its value would be written into the stack); set it, give a value, or pass --allow-unset to leave it out as docker stack deploy does",
            ]);
        });
        it("with --allow-unset, leaves it out with a warning, as docker stack deploy does", () => {
            const r = run(project({ "compose.yaml": compose }), { allowUnset: true });
            assert.strictEqual(r.code, 0);
            assert.deepStrictEqual(findingLines(r), ["warning: services.app.environment.GF_ROOT_URL: the variable is not set: left out (--allow-unset), as docker stack deploy leaves it out"]);
            assert.deepStrictEqual(svc(r).env, { PLAIN: "yes" });
        });
        it("takes the value of one that is set", () => {
            const r = run(project({ "compose.yaml": compose }), { env: { ...BASE_ENV, GF_ROOT_URL: "https://g.example.com/" } });
            assert.strictEqual(r.code, 0);
            assert.deepStrictEqual(svc(r).env, { GF_ROOT_URL: "https://g.example.com/", PLAIN: "yes" });
        });
    });

    describe("1. unset variables", () => {
        const compose = [
            "services:",
            "  db:",
            "    image: postgres:16.4",
            "    environment:",
            "      POSTGRES_PASSWORD: ${DB_PASSWORD}",
            "      POSTGRES_USER: ${DB_USER:-app}",
            "      POSTGRES_DB: $DB_NAME",
            "      LITERAL: $$HOME",
            "",
        ].join("\n");

        it("lists each unset variable with its path and writes nothing", () => {
            const dir = project({ "compose.yaml": compose });
            const r = run(dir);
            assert.strictEqual(r.code, 1);
            assert.strictEqual(fs.existsSync(path.join(dir, "out.yaml")), false);
            const how = (v: string) => `set it, put it in .env or an --env-file, give a default (\${${v}:-<value>}), or pass --allow-unset`;
            assert.deepStrictEqual(r.lines, [
                `unsupported: services.db.environment.POSTGRES_PASSWORD: the variable DB_PASSWORD is not set (Compose would use an empty value); ${how("DB_PASSWORD")}`,
                `unsupported: services.db.environment.POSTGRES_DB: the variable DB_NAME is not set (Compose would use an empty value); ${how("DB_NAME")}`,
                "import: 2 values read unset variables (listed above); nothing written. Set them, or pass --allow-unset to import them as empty.",
            ]);
        });

        it("--allow-unsupported does not import them; --allow-unset imports them as empty, with a warning each", () => {
            const dir = project({ "compose.yaml": compose });
            assert.strictEqual(run(dir, { allowUnsupported: true }).code, 1);
            const r = run(dir, { allowUnset: true });
            assert.strictEqual(r.code, 0);
            assert.deepStrictEqual(findingLines(r), [
                "warning: services.db.environment.POSTGRES_PASSWORD: the variable DB_PASSWORD is not set: imported as empty (--allow-unset)",
                "warning: services.db.environment.POSTGRES_DB: the variable DB_NAME is not set: imported as empty (--allow-unset)",
            ]);
            assert.deepStrictEqual(svc(r, "db").env, { LITERAL: "$HOME", POSTGRES_DB: "", POSTGRES_PASSWORD: "", POSTGRES_USER: "app" });
        });

        it("reads .env beside the Compose file as docker compose does; the environment wins over it", () => {
            const dir = project({ "compose.yaml": compose, ".env": "DB_PASSWORD=from-dotenv\nDB_NAME=shop\nDB_USER=dotenv-user\n" });
            const r = run(dir, { env: { ...BASE_ENV, DB_USER: "shell-user" } });
            assert.strictEqual(r.code, 0);
            assert.strictEqual(r.lines[0], "import: variables from .env");
            assert.deepStrictEqual(findingLines(r), []);
            assert.deepStrictEqual(svc(r, "db").env, { LITERAL: "$HOME", POSTGRES_DB: "shop", POSTGRES_PASSWORD: "from-dotenv", POSTGRES_USER: "shell-user" });
        });

        it("interpolates .env's values as docker compose does, the environment first", () => {
            const dir = project({ "compose.yaml": compose, ".env": "DB_USER=app-${STAGE:-dev}\nDB_NAME=${DB_USER}_db\nDB_PASSWORD='${literal}'\n" });
            const r = run(dir, { env: { ...BASE_ENV, STAGE: "prod" } });
            assert.strictEqual(r.code, 0, r.lines.join("\n"));
            assert.deepStrictEqual(svc(r, "db").env, { LITERAL: "$HOME", POSTGRES_DB: "app-prod_db", POSTGRES_PASSWORD: "${literal}", POSTGRES_USER: "app-prod" });
            const unset = run(project({ "compose.yaml": compose, ".env": "DB_USER=u\nDB_NAME=n\nDB_PASSWORD=${VAULT_PW}\n" }));
            assert.deepStrictEqual(unset.lines.slice(1), [
                "unsupported: (.env).DB_PASSWORD: the variable VAULT_PW is not set (Compose would use an empty value); set it, put it in .env or an --env-file, give a default (${VAULT_PW:-<value>}), or pass --allow-unset",
                "import: 1 value reads an unset variable (listed above); nothing written. Set it, or pass --allow-unset to import it as empty.",
            ]);
        });

        it("--env-file replaces .env; a later file wins over an earlier one", () => {
            const dir = project({
                "compose.yaml": compose,
                ".env": "DB_PASSWORD=from-dotenv\n",
                "env/base.env": "DB_PASSWORD=base\nDB_NAME=base\n",
                "env/prod.env": "DB_NAME=prod\n",
            });
            const r = run(dir, { envFiles: ["env/base.env", "env/prod.env"].map((f) => path.join(dir, f)) });
            assert.deepStrictEqual(r.lines.slice(0, 2), ["import: variables from env/base.env", "import: variables from env/prod.env"]);
            assert.deepStrictEqual(svc(r, "db").env, { LITERAL: "$HOME", POSTGRES_DB: "prod", POSTGRES_PASSWORD: "base", POSTGRES_USER: "app" });
            assert.throws(() => run(dir, { envFiles: [path.join(dir, "missing.env")] }), { message: "--env-file missing.env: no such file" });
        });

        it("a required variable (${X:?message}) is an error with its message, whatever --allow-unset says", () => {
            const dir = project({ "compose.yaml": "services:\n  app:\n    image: busybox:1.35.0\n    environment:\n      TOKEN: ${TOKEN:?set TOKEN to the API token}\n" });
            const r = run(dir, { allowUnset: true, allowUnsupported: true });
            assert.strictEqual(r.code, 1);
            assert.deepStrictEqual(r.lines, [
                "unsupported: services.app.environment.TOKEN: the variable TOKEN is required and not set: set TOKEN to the API token",
                "import: Docker's Compose loader (docker stack config) cannot read the file (listed above); nothing written",
            ]);
        });
    });

    describe("2. host IPs in ports, and the loader's messages", () => {
        const compose = [
            "services:",
            "  app:",
            "    image: node:22.11.0",
            "    ports:",
            '      - "127.0.0.1:9229:9229"',
            '      - "8080:80"',
            "      - target: 81",
            "        published: 8081",
            "        host_ip: 127.0.0.1",
            "",
        ].join("\n");

        it("stops the import, naming the port and why", () => {
            const r = run(project({ "compose.yaml": compose }));
            assert.strictEqual(r.code, 1);
            assert.deepStrictEqual(r.lines, [
                "unsupported: services.app.ports[0]: \"127.0.0.1:9229:9229\" publishes on 127.0.0.1 only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported",
                "unsupported: services.app.ports[2].host_ip: publishes on 127.0.0.1 only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported",
                "import: 2 settings cannot be imported without changing behaviour (listed above); nothing written. Pass --allow-unsupported to import without them.",
            ]);
        });

        it("with --allow-unsupported leaves those ports out (never public), and the stack file has no loader log line", () => {
            const r = run(project({ "compose.yaml": compose }), { allowUnsupported: true });
            assert.strictEqual(r.code, 0);
            assert.deepStrictEqual(svc(r).ports, [{ target: 80, published: 8080, protocol: "tcp", mode: "ingress" }]);
            assert.ok(!/time=|level=|msg=/.test(r.text!), r.text);
        });

        it("takes 0.0.0.0, [::] and :: as every interface, as no IP: imported as they are, with nothing to say", () => {
            const r = run(project({ "compose.yaml": 'services:\n  app:\n    image: node:22.11.0\n    ports:\n      - "0.0.0.0:8080:80"\n      - "[::]:8443:443"\n      - { target: 81, published: "8081", host_ip: "::" }\n' }));
            assert.strictEqual(r.code, 0, r.lines.join("\n"));
            assert.deepStrictEqual(findingLines(r), []);
            assert.deepStrictEqual(svc(r).ports, [
                { target: 80, published: 8080, protocol: "tcp", mode: "ingress" },
                { target: 443, published: 8443, protocol: "tcp", mode: "ingress" },
                { target: 81, published: 8081 },
            ]);
        });

        it("a key the loader refuses becomes a finding with its path", () => {
            const r = run(project({ "compose.yaml": "services:\n  app:\n    image: busybox:1.35.0\n    platform: linux/arm64\n" }));
            assert.deepStrictEqual(r.lines, [
                "unsupported: services.app.platform: not a key the loader of docker stack config (Compose file format 3) reads; remove it to import the file",
                "import: Docker's Compose loader (docker stack config) cannot read the file (listed above); nothing written",
            ]);
        });
    });

    describe("3. restart", () => {
        it("maps no, always, unless-stopped and on-failure[:N] as docker compose runs them; deploy.restart_policy wins", () => {
            const compose = [
                "services:",
                "  job:",
                "    image: busybox:1.35.0",
                "    restart: no", // YAML 1.1's false to some readers; Docker's loader reads the string "no".
                "  web:",
                "    image: busybox:1.35.0",
                "    restart: always",
                "  worker:",
                "    image: busybox:1.35.0",
                "    restart: unless-stopped",
                "  retry:",
                "    image: busybox:1.35.0",
                '    restart: "on-failure:3"',
                "  policy:",
                "    image: busybox:1.35.0",
                '    restart: "no"',
                "    deploy:",
                "      restart_policy:",
                "        condition: on-failure",
                "        max_attempts: 2",
                "",
            ].join("\n");
            const r = run(project({ "compose.yaml": compose }));
            assert.strictEqual(r.code, 0);
            assert.deepStrictEqual(Object.fromEntries(Object.entries<any>(r.environment.services).map(([n, s]) => [n, s.restart])), {
                job: { condition: "none" },
                web: { condition: "any" },
                worker: { condition: "any" },
                retry: { condition: "on-failure", maxAttempts: 3 },
                policy: { condition: "on-failure", maxAttempts: 2 },
            });
            assert.deepStrictEqual(findingLines(r), [
                "warning: services.job.restart: \"no\" is written as condition none, as docker compose runs it (docker stack deploy would restart it on any exit)",
                `warning: services.job.deploy.update_config: ${ONE_SHOT_WARNING}`,
                `warning: services.job.deploy.rollback_config: ${ONE_SHOT_ROLLBACK_WARNING}`,
                "warning: services.policy.restart: deploy.restart_policy is given, so docker stack deploy ignores it too",
            ]);
        });

        it("writes exactly this stack file for a one-shot job", () => {
            const r = run(project({ "compose.yaml": "services:\n  job:\n    image: busybox:1.35.0\n    command: [\"echo\", \"done\"]\n    restart: \"no\"\n" }));
            assert.strictEqual(r.text, [
                "# Imported from compose.yaml by `dockyard import`.",
                "# Swarm's own rollout defaults are written in `defaults`, so nothing changes on import; delete them",
                "# for Dockyard's start-first updates that roll back on failure.",
                "# Not imported, or imported with a difference:",
                "#   warning services.job.restart: \"no\" is written as condition none, as docker compose runs it (docker stack deploy would restart it on any exit)",
                `#   warning services.job.deploy.update_config: ${ONE_SHOT_WARNING}`,
                `#   warning services.job.deploy.rollback_config: ${ONE_SHOT_ROLLBACK_WARNING}`,
                "config:",
                "  dockyard:environment:",
                "    prefix: t",
                "    networks:",
                "      default:",
                "        attachable: false",
                "    volumes: {}",
                "    secrets: {}",
                "    configs: {}",
                "    images: {}",
                "    defaults:",
                "      update:",
                "        parallelism: 1",
                "        delay: 0s",
                "        monitor: 5s",
                "        maxFailureRatio: 0",
                "        order: stop-first",
                "        failureAction: pause",
                "      rollback:",
                "        parallelism: 1",
                "        delay: 0s",
                "        monitor: 5s",
                "        maxFailureRatio: 0",
                "        order: stop-first",
                "        failureAction: pause",
                "    services:",
                "      job:",
                "        image: busybox:1.35.0",
                "        args:",
                "          - echo",
                "          - done",
                "        networks:",
                "          - default",
                "        restart:",
                "          condition: none",
                "",
            ].join("\n"));
        });
    });

    describe("4. modern Compose syntax and settings Swarm ignores", () => {
        const compose = [
            "name: shop",
            "x-logging: &logging",
            "  LOG_LEVEL: info",
            "services:",
            "  web:",
            "    image: nginx:1.27.2",
            "    environment:",
            "      <<: *logging",
            "    expose: [\"80\"]",
            "    x-team: shop",
            "    develop:",
            "      watch: [{ action: sync, path: ./src, target: /src }]",
            "    pull_policy: always",
            "    depends_on:",
            "      db:",
            "        condition: service_healthy",
            "        restart: true",
            "      cache:",
            "        condition: service_started",
            "      debug:",
            "        condition: service_started",
            "        required: false",
            "    env_file:",
            "      - path: ./web.env",
            "      - path: ./missing.env",
            "        required: false",
            "    ports:",
            "      - name: http",
            "        target: 80",
            '        published: "8080"',
            "        app_protocol: http",
            "  db:",
            "    image: postgres:16.4",
            "  cache:",
            "    image: redis:7.4.1",
            "  debug:",
            "    image: busybox:1.35.0",
            "    profiles: [debug]",
            "",
        ].join("\n");

        it("normalises what the loader cannot read and warns about what Swarm ignores, each with its path", () => {
            const r = run(project({ "compose.yaml": compose, "web.env": "FROM_FILE=yes\n" }));
            assert.strictEqual(r.code, 0, r.lines.join("\n"));
            assert.deepStrictEqual(findingLines(r), [
                'warning: (top level).name: the Compose project name "shop" is not used: Docker objects are named <prefix>-<name>, with the --stack name as prefix',
                "warning: services.debug.profiles: not imported: docker compose starts it only with --profile debug (pass the same to import it)",
                "warning: services.web.develop: docker compose watch settings; Swarm has no use for them",
                "warning: services.web.pull_policy: Swarm pulls the image when it schedules a task (docker stack deploy has no pull policy)",
                "warning: services.web.depends_on.db.condition: service_healthy is not waited for: Swarm starts services in any order, so web must retry until db is ready",
                "warning: services.web.depends_on.db.restart: Swarm does not restart web when db restarts",
                "warning: services.web.depends_on.debug: debug is not imported: docker compose starts it only with --profile debug; web is imported without it, as docker compose starts web without it (required: false)",
                "warning: services.web.env_file[1]: ./missing.env does not exist: skipped, as docker compose skips it (required: false)",
                "warning: services.web.ports[0].name: docker compose's label for the port; Swarm has no use for it",
                "warning: services.web.ports[0].app_protocol: docker compose's label for the port; Swarm has no use for it",
                "warning: (top level).x-logging: an extension field: Compose and Swarm ignore it too (what YAML anchors take from it is imported where it lands)",
                "warning: services.web.depends_on: Swarm ignores it too: services start in any order and must retry their dependencies",
                "warning: services.web.env_file: already read into environment by Docker's loader",
                "warning: services.web.expose: Swarm ignores it too: services on a shared network reach each other on every port",
                "warning: services.web.x-team: an extension field: Compose and Swarm ignore it too (what YAML anchors take from it is imported where it lands)",
            ]);
            assert.deepStrictEqual(Object.keys(r.environment.services), ["cache", "db", "web"]);
            assert.deepStrictEqual(svc(r, "web").env, { FROM_FILE: "yes", LOG_LEVEL: "info" });
            assert.deepStrictEqual(svc(r, "web").ports, [{ target: 80, published: 8080 }]);
        });

        it("--profile imports a profile's services", () => {
            const r = run(project({ "compose.yaml": compose, "web.env": "FROM_FILE=yes\n" }), { profiles: ["debug"] });
            assert.deepStrictEqual(Object.keys(r.environment.services), ["cache", "db", "debug", "web"]);
        });

        it("decides profiles on the merged files, and --profile \"*\" imports every service", () => {
            const dir = project({
                "compose.yaml": "services:\n  web:\n    image: nginx:1.27.2\n  admin:\n    image: adminer:4.8.1\n",
                "override.yaml": "services:\n  admin:\n    profiles: [tools]\n",
            });
            const files = ["compose.yaml", "override.yaml"].map((f) => path.join(dir, f));
            const r = run(dir, { files });
            assert.deepStrictEqual(Object.keys(r.environment.services), ["web"]);
            assert.deepStrictEqual(findingLines(r), ["warning: services.admin.profiles: not imported: docker compose starts it only with --profile tools (pass the same to import it)"]);
            assert.deepStrictEqual(Object.keys(run(dir, { files, profiles: ["*"] }).environment.services), ["admin", "web"]);
        });

        it("a key Docker's stack loader forbids is an error naming it with Docker's hint, not the loader's one line without a path", () => {
            const r = run(project({ "compose.yaml": "services:\n  app:\n    image: busybox:1.35.0\n    mem_limit: 512m\n    restart: always\n" }));
            assert.deepStrictEqual(r.lines, [
                "unsupported: services.app.mem_limit: Docker's stack loader refuses it; set deploy.resources.limits.memory",
                "import: 1 setting cannot be imported without changing behaviour (listed above); nothing written. Pass --allow-unsupported to import without them.",
            ]);
        });
    });

    describe("5. what the import writes passes Dockyard's validation", () => {
        const compose = [
            "services:",
            "  agent:",
            "    image: portainer/agent:2.21.4",
            "    volumes:",
            "      - /var/run/docker.sock:/var/run/docker.sock",
            "    environment:",
            "      spring.profiles.active: prod",
            "      PLAIN: yes",
            "    secrets:",
            "      - source: token",
            "        target: /etc/agent/token",
            "    networks: [back]",
            "networks:",
            "  back:",
            "    driver: bridge",
            "secrets:",
            "  token:",
            "    file: ./token.txt",
            "",
        ].join("\n");

        it("names each setting the stack could not hold, and writes nothing", () => {
            const r = run(project({ "compose.yaml": compose, "token.txt": "t" }));
            assert.strictEqual(r.code, 1);
            assert.deepStrictEqual(r.lines, [
                "warning: networks.back.driver: written as an overlay network: Swarm services cannot join a bridge network (it is local to one node); services reach each other by name on it as before",
                "warning: services.agent.volumes[0]: bind mount of /var/run/docker.sock: the path must exist on every node the service can run on",
                "unsupported: services.agent.secrets[0].target: no stack key for it yet (needs a stack schema addition: secret files outside /run/secrets), got \"/etc/agent/token\"; without it the file is /run/secrets/token",
                "unsupported: services.agent.volumes[0]: mounts /var/run/docker.sock, which is the Docker socket: that gives root on the node; --allow-unsupported writes allowDockerSocket: true and policy.allowDockerSocket for agent",
                "import: 2 settings cannot be imported without changing behaviour (listed above); nothing written. Pass --allow-unsupported to import without them.",
            ]);
        });

        it("with --allow-unsupported writes a stack Dockyard accepts, with the Docker socket's allow-list entries", () => {
            const dir = project({ "compose.yaml": compose, "token.txt": "t" });
            const r = run(dir, { allowUnsupported: true });
            assert.strictEqual(r.code, 0, r.lines.join("\n"));
            const { defaults, ...rest } = r.environment;
            assert.deepStrictEqual(rest, {
                prefix: "t",
                networks: { back: { attachable: false } },
                volumes: {},
                secrets: { token: { fromConfig: "token" } },
                configs: {},
                images: {},
                services: {
                    agent: {
                        image: "portainer/agent:2.21.4",
                        env: { "spring.profiles.active": "prod", PLAIN: "yes" },
                        networks: ["back"],
                        mounts: [{ target: "/var/run/docker.sock", hostPath: "/var/run/docker.sock" }],
                        secrets: ["token"],
                        restart: { condition: "any" },
                        allowDockerSocket: true,
                    },
                },
                policy: { allowDockerSocket: ["agent"] },
            });
            assert.doesNotThrow(() => parseEnvironment(r.environment, { keys: { isSecret: () => true }, projectDir: dir }));
        });
    });

    describe("6. paths, modes, names, messages", () => {
        it("reports findings at the user's own port index after a range the loader expands", () => {
            const r = run(project({ "compose.yaml": 'services:\n  app:\n    image: busybox:1.35.0\n    ports:\n      - "8000-8002:8000-8002"\n      - "9000/sctp"\n      - "9100-9101/sctp"\n' }));
            assert.deepStrictEqual(findingLines(r), [
                'unsupported: services.app.ports[1].protocol: Dockyard publishes tcp or udp, got "sctp"; the port is not imported',
                'unsupported: services.app.ports[2].protocol: Dockyard publishes tcp or udp, got "sctp"; the port is not imported',
            ]);
            // With --allow-unsupported the sctp ports are left out, never published as tcp.
            const allowed = run(project({ "compose.yaml": 'services:\n  app:\n    image: busybox:1.35.0\n    ports:\n      - "8000:8000"\n      - "9000:9000/sctp"\n' }), { allowUnsupported: true });
            assert.deepStrictEqual(svc(allowed).ports, [{ target: 8000, published: 8000, protocol: "tcp", mode: "ingress" }]);
        });

        it("warns of a fixed network address, which Swarm ignores too, and imports the rest", () => {
            const r = run(project({ "compose.yaml": "services:\n  app:\n    image: busybox:1.35.0\n    networks:\n      back:\n        ipv4_address: 172.28.0.10\n        aliases: [db]\nnetworks:\n  back:\n    ipam:\n      config:\n        - subnet: 172.28.0.0/16\n" }));
            assert.strictEqual(r.code, 0);
            assert.deepStrictEqual(findingLines(r), [
                "warning: services.app.networks.back.ipv4_address: a Swarm service cannot have a fixed address (docker stack deploy ignores it too): its tasks get addresses from the network",
            ]);
            assert.deepStrictEqual([svc(r).networks, svc(r).aliases], [["back"], ["db"]]);
        });

        it("imports a port without a published port as one Swarm picks, ranges included", () => {
            const r = run(project({ "compose.yaml": 'services:\n  app:\n    image: busybox:1.35.0\n    ports:\n      - "9000"\n      - "9100-9101/udp"\n      - "8080:80"\n' }));
            assert.deepStrictEqual(findingLines(r), []);
            assert.deepStrictEqual((r.environment as any).services.app.ports, [
                { target: 9000, published: "any", protocol: "tcp", mode: "ingress" },
                { target: 9100, published: "any", protocol: "udp", mode: "ingress" },
                { target: 9101, published: "any", protocol: "udp", mode: "ingress" },
                { target: 80, published: 8080, protocol: "tcp", mode: "ingress" },
            ]);
        });

        it("prints the config set commands with paths from the caller's directory", () => {
            const dir = project({ "app/compose.yaml": "services:\n  app:\n    image: busybox:1.35.0\n    secrets: [db]\nsecrets:\n  db:\n    file: ./secrets/db.txt\n", "app/secrets/db.txt": "pw" });
            const r = run(dir, { files: [path.join(dir, "app/compose.yaml")], cwd: path.join(dir, "app") });
            assert.deepStrictEqual(r.lines.slice(-3), [
                "import: wrote ../out.yaml",
                "Set the secrets (their values never go into the stack file):",
                "  npm run pulumi -- config set --secret db --stack t < secrets/db.txt",
            ]);
        });

        it("keeps octal modes' meaning when the file is rewritten for the loader (0444 as a number or a string)", () => {
            const compose = [
                "services:",
                "  app:",
                "    image: busybox:1.35.0",
                "    secrets:",
                "      - source: a",
                "        mode: 0444",
                "      - source: b",
                '        mode: "0444"',
                "      - source: c",
                "        mode: 0400",
                "secrets:",
                "  a:",
                "    environment: A", // Rewritten for the loader: the file goes through YAML again.
                "  b:",
                "    environment: B",
                "  c:",
                "    environment: C",
                "",
            ].join("\n");
            const r = run(project({ "compose.yaml": compose }));
            assert.deepStrictEqual(findingLines(r), []);
            // 0444 is Docker's mode (left out); 0400 stays 0400.
            assert.deepStrictEqual((r.environment as any).services.app.secrets, ["a", "b", { name: "c", mode: 0o400 }]);
        });

        it("names the Docker socket mount by the user's own entry, short or long, in merged files too", () => {
            const dir = project({
                "compose.yaml": "services:\n  agent:\n    image: portainer/agent:2.21.4\n    volumes:\n      - /srv/data:/data\n      - /var/run/docker.sock:/var/run/docker.sock\n",
                "override.yaml": "services:\n  agent:\n    volumes:\n      - type: bind\n        source: /var/run/docker.sock\n        target: /a/docker.sock\n",
            });
            const r = run(dir, { files: ["compose.yaml", "override.yaml"].map((f) => path.join(dir, f)) });
            assert.deepStrictEqual(findingLines(r).filter((l) => l.includes("the Docker socket")).map((l) => l.split(": mounts")[0]), [
                "unsupported: services.agent.volumes[0] (in override.yaml)",
                "unsupported: services.agent.volumes[1] (in compose.yaml)",
            ]);
        });

        it("stops at an env_file value the loader would read otherwise than docker compose", () => {
            const r = run(project({ "compose.yaml": "services:\n  app:\n    image: busybox:1.35.0\n    env_file: [app.env]\n", "app.env": "MODE=\"fast\"\nPLAIN=1\n" }));
            assert.deepStrictEqual(r.lines, [
                'unsupported: services.app.env_file[0]: MODE: docker stack config reads app.env as written, "\\"fast\\"", where docker compose reads "fast"; write the value without quotes or variables, set it under environment:, or give the file format: raw',
                "warning: services.app.env_file: already read into environment by Docker's loader",
                "import: 1 setting cannot be imported without changing behaviour (listed above); nothing written. Pass --allow-unsupported to import without them.",
            ]);
        });

        it("refuses a --stack that cannot be the Docker object prefix, naming it and the rule", () => {
            const dir = project({ "compose.yaml": "services:\n  app:\n    image: busybox:1.35.0\n" });
            assert.throws(() => run(dir, { stack: "My_Shop" }), { message: "import: --stack \"My_Shop\": expected up to 20 lower-case letters, digits or '-' (it prefixes every Docker object's name)" });
        });

        it("imports cap_add and cap_drop, which docker stack deploy applies, and a tmpfs without a size, with nothing to say", () => {
            const r = run(project({ "compose.yaml": "services:\n  app:\n    image: busybox:1.35.0\n    cap_add: [NET_ADMIN]\n    cap_drop: [ALL]\n" +
                "    volumes:\n      - type: tmpfs\n        target: /tmp\n" }));
            assert.deepStrictEqual([r.code, findingLines(r)], [0, []]);
            assert.deepStrictEqual([svc(r).capabilities, svc(r).mounts], [{ add: ["NET_ADMIN"], drop: ["ALL"] }, [{ target: "/tmp", tmpfs: {} }]]);
        });

        it("builds one image for two services with the same build", () => {
            const dir = project({ "compose.yaml": "services:\n  web:\n    build: ./app\n  worker:\n    build: ./app\n    command: [\"work\"]\n", "app/Dockerfile": "FROM busybox:1.35.0\n" });
            const r = run(dir);
            assert.strictEqual(r.code, 0, r.lines.join("\n"));
            assert.deepStrictEqual(r.environment.images, { web: { context: "app", repository: "t/web" } });
            assert.deepStrictEqual([svc(r, "web").image, svc(r, "worker").image], ["web", "web"]);
            assert.deepStrictEqual(findingLines(r), [
                "warning: services.web.build: no image: given; the image is pushed as t/web",
                "warning: services.worker.build: the same build and image as services.web: both deploy the image web",
            ]);
        });

        it("a missing file or bad YAML is one line naming the file, from the CLI too", () => {
            const dir = project({ "compose.yaml": "services:\n  app:\n    image: [busybox\n" });
            assert.throws(() => run(dir), { message: "compose.yaml: not valid YAML: unexpected end of the stream within a flow collection (line 4, column 1)" });
            assert.throws(() => run(dir, { files: [path.join(dir, "nope.yaml")] }), { message: "nope.yaml: no such file" });
            const cli = spawnSync(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), path.join(ROOT, "ops/cli.ts"), "import", "nope.yaml", "--stack", "t"],
                { cwd: dir, env: { ...BASE_ENV, INIT_CWD: dir, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") }, encoding: "utf8" });
            assert.deepStrictEqual([cli.status, cli.stderr], [1, "dockyard: nope.yaml: no such file\n"]);
        });
    });
});

/**
 * The fixture projects that use a key that truly changes behaviour, and so import only with
 * --allow-unsupported (the README's corpus list says the same).
 */
const NEEDS_ALLOW_UNSUPPORTED: Record<string, string> = {
    "kitchen-sink": "every key the import cannot map, on purpose",
    "node-exporter": "mounts /, which holds the Docker socket",
    "reverse-proxy": "Traefik mounts the Docker socket",
    "search-logs": "Elasticsearch's ulimits, which the Docker provider cannot set on a service",
};

/** The Compose file names `docker compose` looks for, in its order. */
const COMPOSE_NAMES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

/** Every project under test/fixtures/compose/ with its files: those of its recorded case, or its Compose file. */
function fixtureProjects(): Array<{ name: string; dir: string; files: string[] }> {
    return fs.readdirSync(FIXTURES, { withFileTypes: true }).filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1)).flatMap((e) => {
        const dir = path.join(FIXTURES, e.name);
        const recorded = CASES.find((c) => c.name === e.name)?.files;
        const files = recorded ?? COMPOSE_NAMES.filter((f) => fs.existsSync(path.join(dir, f))).slice(0, 1);
        return files.length ? [{ name: e.name, dir, files: files.map((f) => path.join(dir, f)) }] : [];
    });
}

describe("integration: compose import of every fixture project", function () {
    this.timeout(60_000);
    let out: string;
    before(function () {
        requireOrSkip(this, dockerCliMissing());
        out = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-import-fixtures-"));
    });
    after(() => out && fs.rmSync(out, { recursive: true, force: true }));

    const projects = fixtureProjects();
    it("finds the projects", () => assert.ok(projects.length >= 5, projects.map((p) => p.name).join(", ")));
    for (const p of projects) {
        /** Import with everything allowed, so each project writes a stack. */
        const importOnce = () => {
            const lines: string[] = [];
            const r = importCompose({
                files: p.files, stack: "fx", projectDir: p.dir, cwd: p.dir, out: path.join(out, `${p.name}.yaml`), force: true,
                env: { ...BASE_ENV, ...RECORD_ENV }, allowUnsupported: true, allowUnset: true, log: (l) => lines.push(l),
            });
            return { r, lines, bytes: r.file ? fs.readFileSync(r.file) : undefined };
        };

        it(`${p.name}: imported twice, writes byte-identical stacks and says the same`, () => {
            const first = importOnce();
            const second = importOnce();
            assert.strictEqual(first.r.exitCode, 0, first.lines.join("\n"));
            assert.ok(first.bytes && second.bytes && first.bytes.equals(second.bytes), "the two stack files differ");
            assert.deepStrictEqual(second.lines, first.lines);
        });

        it(`${p.name}: ${p.name in NEEDS_ALLOW_UNSUPPORTED ? "stops without --allow-unsupported" : "imports without --allow-unsupported"}`, () => {
            const r = importCompose({
                files: p.files, stack: "fx", projectDir: p.dir, cwd: p.dir, out: path.join(out, `${p.name}-strict.yaml`), force: true,
                env: { ...BASE_ENV, ...RECORD_ENV, API_KEY: "k", STRIPE_KEY: "k" }, log: () => undefined,
            });
            assert.strictEqual(r.exitCode, p.name in NEEDS_ALLOW_UNSUPPORTED ? 1 : 0);
        });

        it(`${p.name}: the written stack passes the validation deploy runs`, () => {
            const { r, bytes } = importOnce();
            const environment = (yaml.load(bytes!.toString("utf8")) as any).config["dockyard:environment"];
            const keys = new Set(r.result!.secrets.map((s) => s.key));
            // As loadEnvironment calls it, with the secret keys set (as --secret) once the printed commands ran.
            assert.doesNotThrow(() => parseEnvironment(environment, { keys: { isSecret: (k) => (keys.has(k) ? true : undefined) }, projectDir: p.dir, pins: {} }));
        });
    }
});
