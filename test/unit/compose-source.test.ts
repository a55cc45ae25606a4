// The user's Compose files before Docker's loader (ops/compose-source.ts): variables, YAML as Docker
// reads it, the rewriting of what the loader cannot read, and the loader's messages as findings.
// Pure: no Docker CLI (test/integration/compose-import.test.ts runs the same cases through it).
import * as assert from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { Finding } from "../../ops/compose";
import { COMPOSE_YAML, ComposeFileError, dumpCompose, envFileDifferences, interpolate, loaderFindings, outOfProfiles, prepareForLoader, prepareProject, readComposeFile, readVariables, droppedPorts, mergedPortIndex, portPlaces, unsetIn, unsetVariables, userPath, volumeIndex } from "../../ops/compose-source";

const lines = (fs: readonly Finding[]) => fs.map((f) => `${f.severity} ${f.path}: ${f.why}`);
const load = (text: string) => yaml.load(text, { schema: COMPOSE_YAML }) as Record<string, any>;

describe("compose source: variables", () => {
    const env = { SET: "x", EMPTY: "" };
    const unset = (v: string) => unsetIn(v, env).map((u) => (u.required === undefined ? u.name : `${u.name}?${u.required}`));

    it("finds unset variables in every form Compose interpolates, and none behind a default or an escape", () => {
        assert.deepStrictEqual(
            ["${A}", "$A", "a-$A-b", "${SET}", "$SET", "${EMPTY}", "$$A", "$${A}", "${A:-d}", "${A-d}", "${EMPTY:-d}", "${EMPTY-d}", "${A:+alt}", "${SET:+$B}", "${A+$B}", "${SET+$B}"].map(unset),
            [["A"], ["A"], ["A"], [], [], [], [], [], [], [], [], [], [], ["B"], [], ["B"]],
        );
    });
    it("reads a default's own variables only when the default is used", () => {
        assert.deepStrictEqual(["${A:-${B}}", "${SET:-${B}}", "${EMPTY:-$B}", "${EMPTY-$B}", "${A:-${B:-c}}"].map(unset), [["B"], [], ["B"], [], []]);
    });
    it("reports required variables with their message", () => {
        assert.deepStrictEqual(["${A:?set A}", "${A?}", "${EMPTY:?no empty}", "${EMPTY?fine}", "${SET:?x}"].map(unset), [["A?set A"], ["A?"], ["EMPTY?no empty"], [], []]);
    });

    it("names the path of each value that reads one, lists as their KEY, and skips top-level x-* fields", () => {
        const doc = load([
            "x-env: &env",
            "  FROM_ANCHOR: ${ANCHORED}",
            "services:",
            "  db:",
            "    image: postgres:${PG_TAG:-16}",
            "    environment:",
            "      <<: *env",
            "      POSTGRES_PASSWORD: ${DB_PASSWORD}",
            "  web:",
            "    environment:",
            "      - URL=http://$HOST:${PORT}/",
            "    command: [serve, $FLAGS]",
            "",
        ].join("\n"));
        const how = (v: string) => `set it, put it in .env or an --env-file, give a default (\${${v}:-<value>}), or pass --allow-unset`;
        assert.deepStrictEqual(lines(unsetVariables(doc, {}, false)), [
            `error services.db.environment.FROM_ANCHOR: the variable ANCHORED is not set (Compose would use an empty value); ${how("ANCHORED")}`,
            `error services.db.environment.POSTGRES_PASSWORD: the variable DB_PASSWORD is not set (Compose would use an empty value); ${how("DB_PASSWORD")}`,
            `error services.web.environment.URL: the variable HOST is not set (Compose would use an empty value); ${how("HOST")}`,
            `error services.web.environment.URL: the variable PORT is not set (Compose would use an empty value); ${how("PORT")}`,
            `error services.web.command[1]: the variable FLAGS is not set (Compose would use an empty value); ${how("FLAGS")}`,
        ]);
        assert.deepStrictEqual(lines(unsetVariables(doc, { ANCHORED: "", DB_PASSWORD: "p", HOST: "h", PORT: "1" }, true)), [
            "warning services.web.command[1]: the variable FLAGS is not set: imported as empty (--allow-unset)",
        ]);
    });

    it("reads --env-file files in order, else the project's .env; the environment wins", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-vars-"));
        try {
            fs.writeFileSync(path.join(dir, ".env"), "# comment\nA=dotenv\nB='quoted value'\nexport C=3\n");
            fs.writeFileSync(path.join(dir, "one.env"), "A=one\nD=one\n");
            fs.writeFileSync(path.join(dir, "two.env"), "D=two\n");
            assert.deepStrictEqual(readVariables([], dir, { C: "shell" }, dir), { env: { A: "dotenv", B: "quoted value", C: "shell" }, read: [path.join(dir, ".env")], findings: [] });
            assert.deepStrictEqual(readVariables([path.join(dir, "one.env"), path.join(dir, "two.env")], dir, {}, dir).env, { A: "one", D: "two" });
            assert.deepStrictEqual(readVariables([], os.tmpdir() + "/dockyard-no-such-dir", { X: "1" }), { env: { X: "1" }, read: [], findings: [] });
            assert.throws(() => readVariables([path.join(dir, "none.env")], dir, {}, dir), (e: Error) => e instanceof ComposeFileError && e.message === "--env-file none.env: no such file");
        } finally {
            fs.rmSync(dir, { recursive: true });
        }
    });

    it("interpolates as Compose does: the value with its defaults, alternatives and escapes", () => {
        const env: Record<string, string> = { SET: "x", EMPTY: "" };
        const value = (v: string) => interpolate(v, (n) => env[n]).value;
        assert.deepStrictEqual(["a-${SET}-$SET", "${A:-d}", "${EMPTY:-d}", "${EMPTY-d}", "${SET:+alt}", "${A:+alt}", "${A+alt}", "$$SET", "$${SET}", "${A:-${SET}}", "cost: $", "${1}"].map(value),
            ["a-x-x", "d", "d", "", "alt", "", "", "$SET", "${SET}", "x", "cost: $", "${1}"]);
    });

    it("interpolates .env values as docker compose does: earlier keys and the environment, which wins, and single quotes are literal", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-vars-"));
        try {
            fs.writeFileSync(path.join(dir, ".env"), [
                "HOST=db",
                "PORT=5432",
                "URL=postgres://${HOST}:${PORT:-1}/$NAME",
                "NAME=shop",
                "LATER=$NAME",
                "DEFAULTED=${MISSING:-fallback}",
                "LITERAL='${HOST} $$'",
                'QUOTED="${HOST}"',
                "ESCAPED=$${HOST}",
                "",
            ].join("\n"));
            // PORT from the environment wins, in the file's own values too; NAME is not set yet when URL reads it.
            const r = readVariables([], dir, { PORT: "6432", NAME: undefined }, dir);
            assert.deepStrictEqual(r.env, {
                HOST: "db", PORT: "6432", URL: "postgres://db:6432/", NAME: "shop", LATER: "shop", DEFAULTED: "fallback", LITERAL: "${HOST} $$", QUOTED: "db", ESCAPED: "${HOST}",
            });
            assert.deepStrictEqual(lines(r.findings), [
                "error (.env).URL: the variable NAME is not set (Compose would use an empty value); set it, put it in .env or an --env-file, give a default (${NAME:-<value>}), or pass --allow-unset",
            ]);
            assert.deepStrictEqual(lines(readVariables([], dir, { NAME: "env" }, dir).findings), []);
            assert.strictEqual(readVariables([], dir, { NAME: "env" }, dir).env.URL, "postgres://db:5432/env");
            assert.deepStrictEqual(lines(readVariables([], dir, {}, dir, true).findings), ["warning (.env).URL: the variable NAME is not set: imported as empty (--allow-unset)"]);
            // A later --env-file reads an earlier one's values.
            fs.writeFileSync(path.join(dir, "two.env"), "GREETING=hello ${NAME}\n");
            assert.strictEqual(readVariables([path.join(dir, ".env"), path.join(dir, "two.env")], dir, {}, dir).env.GREETING, "hello shop");
        } finally {
            fs.rmSync(dir, { recursive: true });
        }
    });
});

describe("compose source: reading the files", () => {
    it("reads YAML as Docker's loader does: 0444 is octal, no/yes are strings, dates stay text", () => {
        const doc = load("a: 0444\nb: \"0444\"\nc: no\nd: 2024-01-01\ne: 0o17\nf: 8080\ng: 1.5\nh: true\ni: ~\n");
        assert.deepStrictEqual(doc, { a: 292, b: "0444", c: "no", d: "2024-01-01", e: 15, f: 8080, g: 1.5, h: true, i: null });
        // Written again for the loader, each keeps its meaning.
        assert.deepStrictEqual(load(dumpCompose(doc)), doc);
        assert.strictEqual(dumpCompose({ mode: 292, s: "0444", restart: "no" }), "mode: 292\ns: '0444'\nrestart: 'no'\n");
    });

    it("names the file in one line when it is missing, not YAML, or not a mapping", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-read-"));
        try {
            fs.writeFileSync(path.join(dir, "bad.yaml"), "services:\n  web: [\n");
            fs.writeFileSync(path.join(dir, "list.yaml"), "- a\n");
            fs.writeFileSync(path.join(dir, "empty.yaml"), "");
            const message = (f: string) => {
                try {
                    readComposeFile(path.join(dir, f), dir);
                    return "read";
                } catch (e) {
                    return e instanceof ComposeFileError ? e.message : `not a ComposeFileError: ${e}`;
                }
            };
            assert.deepStrictEqual(["nope.yaml", "bad.yaml", "list.yaml", "empty.yaml", "."].map(message), [
                "nope.yaml: no such file",
                "bad.yaml: not valid YAML: unexpected end of the stream within a flow collection (line 3, column 1)",
                'list.yaml: expected a Compose file (a mapping with services:), got ["a"]',
                "empty.yaml: expected a Compose file (a mapping with services:), got an empty file",
                `${dir}: a directory, expected a Compose file`,
            ]);
        } finally {
            fs.rmSync(dir, { recursive: true });
        }
    });
});

describe("compose source: before the loader", () => {
    it("leaves out top-level name: and services outside the active profiles, and what depends on them", () => {
        const doc = load("name: shop\nservices:\n  web:\n    image: a\n    depends_on: [debug, db]\n  db:\n    image: b\n  debug:\n    image: c\n    profiles: [debug, dev]\n  tools:\n    image: d\n    profiles: [tools]\n");
        const p = prepareForLoader(doc, ["tools"], "/p");
        assert.deepStrictEqual(p.doc, { services: { web: { image: "a", depends_on: ["db"] }, db: { image: "b" }, tools: { image: "d" } } });
        assert.strictEqual(p.changed, true);
        assert.deepStrictEqual(lines(p.findings), [
            'warning (top level).name: the Compose project name "shop" is not used: Docker objects are named <prefix>-<name>, with the --stack name as prefix',
            "warning services.debug.profiles: not imported: docker compose starts it only with --profile debug or --profile dev (pass the same to import it)",
            "error services.web.depends_on[0]: debug is not imported: docker compose starts it only with --profile debug or --profile dev, and refuses to start web without it; pass the same to import it, or set required: false",
        ]);
        // The input is not changed.
        assert.strictEqual(doc.name, "shop");
    });

    it("turns long-form depends_on into the list form, warning about what Swarm does not wait for", () => {
        const p = prepareForLoader(load("services:\n  web:\n    image: a\n    depends_on:\n      db: { condition: service_healthy, restart: true }\n      init: { condition: service_completed_successfully }\n      cache: { condition: service_started, required: false }\n"), [], "/p");
        assert.deepStrictEqual(p.doc.services.web.depends_on, ["db", "init", "cache"]);
        assert.deepStrictEqual(lines(p.findings), [
            "warning services.web.depends_on.db.condition: service_healthy is not waited for: Swarm starts services in any order, so web must retry until db is ready",
            "warning services.web.depends_on.db.restart: Swarm does not restart web when db restarts",
            "warning services.web.depends_on.init.condition: service_completed_successfully is not waited for: Swarm starts services in any order, so web must retry until init is ready",
        ]);
    });

    it("stops on host IPs in ports, leaving the port out, and maps the loader's port indices to the user's", () => {
        const p = prepareForLoader(load([
            "services:",
            "  app:",
            "    image: a",
            "    ports:",
            '      - "8000-8002:8000-8002"',
            '      - "127.0.0.1:9229:9229"',
            '      - "[::1]:81:81"',
            '      - "7000-7001:80/udp"',
            "      - { target: 80, published: \"8080\", host_ip: 10.0.0.5 }",
            "      - { target: 90, published: \"9090\", name: web }",
            "      - 5432",
            "",
        ].join("\n")), [], "/p");
        assert.deepStrictEqual(p.doc.services.app.ports, ["8000-8002:8000-8002", "7000-7001:80/udp", { target: 90, published: 9090 }, 5432]);
        assert.deepStrictEqual(p.ports, { app: [0, 0, 0, 3, 3, 5, 6] });
        assert.deepStrictEqual(lines(p.findings), [
            "error services.app.ports[1]: \"127.0.0.1:9229:9229\" publishes on 127.0.0.1 only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported",
            "error services.app.ports[2]: \"[::1]:81:81\" publishes on [::1] only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported",
            "error services.app.ports[4].host_ip: publishes on 10.0.0.5 only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported",
            "warning services.app.ports[5].name: docker compose's label for the port; Swarm has no use for it",
        ]);
        assert.deepStrictEqual([3, 5, 6].map((i) => userPath(`services.app.ports[${i}].published`, portPlaces(p.ports))), [
            "services.app.ports[3].published", "services.app.ports[5].published", "services.app.ports[6].published",
        ]);
        assert.strictEqual(userPath("services.app.ports[2]", portPlaces(p.ports)), "services.app.ports[0]");
        assert.strictEqual(userPath("services.other.ports[2]", portPlaces(p.ports)), "services.other.ports[2]");
    });

    it("reads octal-string modes as docker compose does, long-form env_file as paths, and reports keys the loader forbids", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-prep-"));
        try {
            fs.writeFileSync(path.join(dir, "here.env"), "A=1\n");
            const p = prepareForLoader(load([
                "services:",
                "  app:",
                "    image: a",
                "    mem_limit: 1g",
                "    extends: { service: base }",
                "    pull_policy: always",
                "    secrets: [{ source: s, mode: \"0440\" }, { source: t, mode: 0444 }]",
                "    env_file: [{ path: here.env }, { path: gone.env, required: false }, other.env]",
                "",
            ].join("\n")), [], dir);
            assert.deepStrictEqual(p.doc.services.app, { image: "a", secrets: [{ source: "s", mode: 0o440 }, { source: "t", mode: 0o444 }], env_file: ["here.env", "other.env"] });
            assert.deepStrictEqual(lines(p.findings), [
                "error services.app.extends: Docker's stack loader does not implement extends; merge the files with -f instead",
                "error services.app.mem_limit: Docker's stack loader refuses it; set deploy.resources.limits.memory",
                "warning services.app.pull_policy: Swarm pulls the image when it schedules a task (docker stack deploy has no pull policy)",
                "warning services.app.env_file[1]: gone.env does not exist: skipped, as docker compose skips it (required: false)",
            ]);
        } finally {
            fs.rmSync(dir, { recursive: true });
        }
    });

    it("decides profiles on the merged project: a profile given in either file, --profile \"*\" for all", () => {
        const base = load("services:\n  web:\n    image: a\n    depends_on: [tools]\n  tools:\n    image: t\n  debug:\n    image: d\n    profiles: [debug]\n");
        const override = load("services:\n  tools:\n    profiles: [ops]\n  debug:\n    profiles: [dev]\n    environment: { A: '1' }\n");
        assert.deepStrictEqual([...outOfProfiles([base, override], [])], [["tools", ["ops"]], ["debug", ["debug", "dev"]]]);
        assert.deepStrictEqual([...outOfProfiles([base, override], ["dev"])], [["tools", ["ops"]]]);
        assert.deepStrictEqual([...outOfProfiles([base, override], ["*"])], []);
        // Profiles in the base file hold when an override changes the service without them.
        assert.deepStrictEqual([...outOfProfiles([load("services:\n  w:\n    image: w\n    profiles: [jobs]\n"), load("services:\n  w:\n    command: [run]\n")], [])], [["w", ["jobs"]]]);
        const [b, o] = prepareProject([base, override], { baseDir: "/p" });
        // Left out of both files, and reported once.
        assert.deepStrictEqual([b.doc, o.doc], [{ services: { web: { image: "a", depends_on: [] } } }, { services: {} }]);
        assert.deepStrictEqual([lines(b.findings), lines(o.findings)], [[
            "warning services.tools.profiles: not imported: docker compose starts it only with --profile ops (pass the same to import it)",
            "warning services.debug.profiles: not imported: docker compose starts it only with --profile debug or --profile dev (pass the same to import it)",
            "error services.web.depends_on[0]: tools is not imported: docker compose starts it only with --profile ops, and refuses to start web without it; pass the same to import it, or set required: false",
        ], []]);
        const all = prepareProject([base, override], { profiles: ["*"], baseDir: "/p" });
        assert.deepStrictEqual(all.map((p) => p.doc), [
            { services: { web: { image: "a", depends_on: ["tools"] }, tools: { image: "t" }, debug: { image: "d" } } },
            { services: { tools: {}, debug: { environment: { A: "1" } } } },
        ]);
        assert.deepStrictEqual(all.flatMap((p) => p.findings), []);
    });

    it("reports a dependency left out by profiles where it is named: an error, a warning when required: false", () => {
        const p = prepareForLoader(load([
            "services:",
            "  web:",
            "    image: a",
            "    depends_on:",
            "      debug: { condition: service_started }",
            "      tools: { condition: service_started, required: false }",
            "  debug: { image: d, profiles: [debug] }",
            "  tools: { image: t, profiles: [tools] }",
            "",
        ].join("\n")), [], "/p");
        assert.deepStrictEqual(p.doc.services, { web: { image: "a", depends_on: [] } });
        assert.deepStrictEqual(lines(p.findings).slice(2), [
            "error services.web.depends_on.debug: debug is not imported: docker compose starts it only with --profile debug, and refuses to start web without it; pass the same to import it, or set required: false",
            "warning services.web.depends_on.tools: tools is not imported: docker compose starts it only with --profile tools; web is imported without it, as docker compose starts web without it (required: false)",
        ]);
    });

    it("reads long-form depends_on as docker compose does: no condition is service_started (the list form, silently), other keys and values are errors", () => {
        const p = prepareForLoader(load([
            "services:",
            "  web:",
            "    image: a",
            "    depends_on:",
            "      db: {}",
            "      cache: { required: true, restart: false }",
            "      init: { condition: service_complete }",
            "      queue: { conditon: service_healthy }",
            "      bad: { required: 'no' }",
            "      none:",
            "",
        ].join("\n")), [], "/p");
        assert.deepStrictEqual(p.doc.services.web.depends_on, ["db", "cache", "init", "queue", "bad"]);
        assert.deepStrictEqual(lines(p.findings), [
            'error services.web.depends_on.init.condition: expected one of service_started, service_healthy, service_completed_successfully, got "service_complete"',
            "error services.web.depends_on.queue.conditon: not a depends_on key; expected condition, restart or required",
            'error services.web.depends_on.bad.required: expected true or false, got "no"',
            "error services.web.depends_on.none: expected a mapping of condition, restart and required, got null",
        ]);
        // The same dependencies as the list form: nothing to say.
        assert.deepStrictEqual(lines(prepareForLoader(load("services:\n  web:\n    image: a\n    depends_on: { db: {}, cache: { condition: service_started } }\n"), [], "/p").findings), []);
    });

    it("takes host IPs meaning every interface (0.0.0.0, ::, [::]) as no IP, short and long, saying nothing; any other IP stops the import", () => {
        const p = prepareForLoader(load([
            "services:",
            "  app:",
            "    image: a",
            "    ports:",
            '      - "0.0.0.0:8080:80"',
            '      - "[::]:8443:443/tcp"',
            '      - "0.0.0.0:9000-9001:9000-9001"',
            "      - { target: 81, published: 8081, host_ip: 0.0.0.0 }",
            '      - { target: 82, published: 8082, host_ip: "::" }',
            '      - { target: 83, published: 8083, host_ip: "[::]" }',
            '      - { target: 84, published: 8084, host_ip: "" }',
            '      - "192.168.1.2:7000:70"',
            '      - "[fe80::1]:7001:71"',
            '      - { target: 72, published: 7002, host_ip: "::1" }',
            "",
        ].join("\n")), [], "/p");
        assert.deepStrictEqual(p.doc.services.app.ports, [
            "8080:80", "8443:443/tcp", "9000-9001:9000-9001",
            { target: 81, published: 8081 }, { target: 82, published: 8082 }, { target: 83, published: 8083 }, { target: 84, published: 8084 },
        ]);
        assert.strictEqual(p.changed, true);
        assert.deepStrictEqual(p.ports, { app: [0, 1, 2, 2, 3, 4, 5, 6] });
        assert.deepStrictEqual(lines(p.findings), [
            "error services.app.ports[7]: \"192.168.1.2:7000:70\" publishes on 192.168.1.2 only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported",
            "error services.app.ports[8]: \"[fe80::1]:7001:71\" publishes on [fe80::1] only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported",
            "error services.app.ports[9].host_ip: publishes on ::1 only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported",
        ]);
    });

    it("keeps the meaning of what it rewrites silently: modes \"0444\" and \"444\" are octal, ports \"8080\" are numbers", () => {
        const p = prepareForLoader(load([
            "services:",
            "  app:",
            "    image: a",
            '    secrets: [{ source: s, mode: "0444" }, { source: t, mode: "440" }, { source: u, mode: 0440 }, { source: v, mode: "0o444" }]',
            '    configs: [{ source: c, mode: "0644" }]',
            '    ports: [{ target: "80", published: "8080" }, { target: 81, published: "8000-8001" }]',
            "",
        ].join("\n")), [], "/p");
        assert.deepStrictEqual(p.doc.services.app, {
            image: "a",
            // "0o444" is not a mode docker compose reads: left for the loader, which refuses it with its path.
            secrets: [{ source: "s", mode: 0o444 }, { source: "t", mode: 0o440 }, { source: "u", mode: 0o440 }, { source: "v", mode: "0o444" }],
            configs: [{ source: "c", mode: 0o644 }],
            ports: [{ target: 80, published: 8080 }, { target: 81, published: "8000-8001" }],
        });
        assert.deepStrictEqual(p.findings, []);
        // A mode from a variable too, as docker compose reads it once interpolated; an unset one is left for the variables' check.
        const vars = prepareForLoader(load('services:\n  app:\n    image: a\n    secrets: [{ source: s, mode: "${MODE}" }, { source: t, mode: "${T_MODE:-0400}" }, { source: u, mode: "${UNSET}" }]\n'), [], "/p", { MODE: "0440" });
        assert.deepStrictEqual(vars.doc.services.app.secrets, [{ source: "s", mode: 0o440 }, { source: "t", mode: 0o400 }, { source: "u", mode: "${UNSET}" }]);
    });

    it("reads env_file as docker compose does: a missing optional file is skipped with a warning, format raw as written, other formats and keys are errors", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-prep-"));
        try {
            fs.writeFileSync(path.join(dir, "plain.env"), "A=1\n# comment\n  B=two words\n");
            fs.writeFileSync(path.join(dir, "raw.env"), "Q=\"kept\"\n");
            const p = prepareForLoader(load([
                "services:",
                "  app:",
                "    image: a",
                "    env_file:",
                "      - plain.env",
                "      - { path: gone.env, required: false }",
                "      - { path: raw.env, format: raw }",
                "      - { path: plain.env, required: true }",
                "      - { path: plain.env, format: json }",
                "      - { path: plain.env, requird: false }",
                "      - { path: plain.env, required: maybe }",
                "",
            ].join("\n")), [], dir);
            assert.deepStrictEqual(p.doc.services.app.env_file, ["plain.env", "raw.env", "plain.env", "plain.env", "plain.env", "plain.env"]);
            assert.deepStrictEqual(lines(p.findings), [
                "warning services.app.env_file[1]: gone.env does not exist: skipped, as docker compose skips it (required: false)",
                'error services.app.env_file[4].format: expected raw or no format (docker compose\'s own), got "json"',
                "error services.app.env_file[5].requird: not an env_file key; expected path, required or format",
                'error services.app.env_file[6].required: expected true or false, got "maybe"',
            ]);
        } finally {
            fs.rmSync(dir, { recursive: true });
        }
    });

    it("names each env_file value docker stack config would read otherwise than docker compose (quotes, variables, export)", () => {
        const text = "PLAIN=a b\nQUOTED=\"x\"\nSINGLE='y'\nVAR=${HOME_DIR}/bin\nexport EXPORTED=1\nSPACED = 2\nEMPTY=\n";
        assert.deepStrictEqual(envFileDifferences(text, { HOME_DIR: "/h" }), [
            { key: "QUOTED", asWritten: "\"x\"", compose: "x" },
            { key: "SINGLE", asWritten: "'y'", compose: "y" },
            { key: "VAR", asWritten: "${HOME_DIR}/bin", compose: "/h/bin" },
            { key: "EXPORTED", asWritten: undefined, compose: "1" },
            { key: "SPACED", asWritten: undefined, compose: "2" },
        ]);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-prep-"));
        try {
            fs.writeFileSync(path.join(dir, "app.env"), "TOKEN=\"t\"\n");
            const p = prepareForLoader(load("services:\n  app:\n    image: a\n    env_file: [app.env]\n"), [], dir);
            assert.deepStrictEqual(lines(p.findings), [
                'error services.app.env_file[0]: TOKEN: docker stack config reads app.env as written, "\\"t\\"", where docker compose reads "t"; write the value without quotes or variables, set it under environment:, or give the file format: raw',
            ]);
            assert.strictEqual(p.changed, false);
        } finally {
            fs.rmSync(dir, { recursive: true });
        }
    });

    it("finds the user's volume entry for each of the loader's, short or long syntax, across merged files", () => {
        const base = load("services:\n  a:\n    volumes:\n      - data:/data\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n      - { type: bind, source: /srv, target: /srv }\n  b:\n    volumes: [\"${SOCK:-/run/docker.sock}:${TARGET}\"]\n");
        const override = load("services:\n  a:\n    volumes: [\"/x:/aaa\"]\n");
        // As docker stack config prints them: merged ones sorted by target.
        const loaded = { services: {
            a: { volumes: ["/aaa", "/data", "/srv", "/var/run/docker.sock"].map((target) => ({ type: "bind", target })) },
            b: { volumes: [{ type: "bind", source: "/run/docker.sock", target: "/s" }] },
        } };
        const index = volumeIndex([base, override], ["compose.yaml", "override.yaml"], loaded, { TARGET: "/s" });
        assert.deepStrictEqual(index, {
            a: [{ index: 0, file: "override.yaml" }, { index: 0, file: "compose.yaml" }, { index: 2, file: "compose.yaml" }, { index: 1, file: "compose.yaml" }],
            b: [{ index: 0 }],
        });
        assert.deepStrictEqual(["services.a.volumes[3]", "services.a.volumes[0].bind", "services.b.volumes[0]", "services.c.volumes[1]"].map((p) => userPath(p, {}, index)), [
            "services.a.volumes[1] (in compose.yaml)", "services.a.volumes[0].bind (in override.yaml)", "services.b.volumes[0]", "services.c.volumes[1]",
        ]);
    });

    it("places ports merged from several files as the loader merges them: by published port, sorted, ranges expanded, the last unpublished one kept", () => {
        const base = load('services:\n  a:\n    ports: ["9000:90", "8000-8001:80-81", "70"]\n  b:\n    ports: ["${P}:80", { target: 81, published: 8081 }]\n');
        const override = load('services:\n  a:\n    ports: ["7500:75", "9000:91", "60"]\n  c:\n    ports: ["1:1"]\n');
        // What docker stack config (Docker CLI 28) prints for these two files.
        const port = (target: number, published?: number) => ({ mode: "ingress", target, ...(published === undefined ? {} : { published }), protocol: "tcp" });
        const loaded = { services: {
            a: { ports: [port(60), port(75, 7500), port(80, 8000), port(81, 8001), port(91, 9000)] },
            b: { ports: [port(80, 8080), port(81, 8081)] },
            c: { ports: [port(1, 1)] },
        } };
        const index = mergedPortIndex([base, override], ["compose.yaml", "override.yaml"], loaded, { P: "8080" });
        // Only services whose ports several files define: the others keep their own file's index.
        assert.deepStrictEqual(index, {
            a: [{ index: 2, file: "override.yaml" }, { index: 0, file: "override.yaml" }, { index: 1, file: "compose.yaml" }, { index: 1, file: "compose.yaml" }, { index: 1, file: "override.yaml" }],
        });
        // The loader drops every unpublished port but the last: said, with the one it keeps.
        assert.deepStrictEqual(lines(droppedPorts([base, override], ["compose.yaml", "override.yaml"], { P: "8080" })), [
            'warning services.a.ports[2] (in compose.yaml): not deployed: when it merges files, the loader of docker stack config keeps one unpublished port per service, the last ("60" in override.yaml); publish it, or list the ports in one file',
        ]);
        assert.deepStrictEqual(["services.a.ports[3].published", "services.a.ports[4]", "services.b.ports[1]"].map((p) => userPath(p, { ...portPlaces({ b: [0, 1] }), ...index })), [
            "services.a.ports[1].published (in compose.yaml)", "services.a.ports[1] (in override.yaml)", "services.b.ports[1]",
        ]);
    });

    it("changes nothing in a file the loader reads as it is", () => {
        const doc = load("services:\n  app:\n    image: a\n    ports: [\"80:80\"]\n    depends_on: [b]\n  b:\n    image: b\n");
        const p = prepareForLoader(doc, [], "/p");
        assert.deepStrictEqual([p.changed, p.doc, p.findings], [false, doc, []]);
    });
});

describe("compose source: the loader's messages", () => {
    it("are findings with document paths, and log lines lose their timestamps", () => {
        const stderr = [
            `time="2026-12-06T11:51:49Z" level=warning msg="ignoring IP-address (127.0.0.1:9229:9229/tcp) service will listen on '0.0.0.0'"`,
            "services.a.ports.0 Additional property host_ip is not allowed",
            "(root) Additional property include is not allowed",
            "services.a.secrets.1.mode must be a number",
            "services.a.depends_on must be a list",
            'invalid interpolation format for services.a.image: "a $ b"; you may need to escape any $ with another $',
            "Configuration contains forbidden properties",
        ].join("\n");
        assert.deepStrictEqual(lines(loaderFindings(stderr, true)), [
            "warning (Compose loader): ignoring IP-address (127.0.0.1:9229:9229/tcp) service will listen on '0.0.0.0'",
            "error services.a.ports[0].host_ip: not a key the loader of docker stack config (Compose file format 3) reads; remove it to import the file",
            "error (top level).include: not a key the loader of docker stack config (Compose file format 3) reads; remove it to import the file",
            "error services.a.secrets[1].mode: the loader of docker stack config says it must be a number",
            "error services.a.depends_on: the loader of docker stack config says it must be a list",
            'error services.a.image: invalid interpolation: "a $ b"; write a literal $ as $$',
            "error (Compose loader): Configuration contains forbidden properties",
        ]);
        assert.deepStrictEqual(lines(loaderFindings("something to note\n", false)), ["warning (Compose loader): something to note"]);
    });
});
