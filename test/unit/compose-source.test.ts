// The user's Compose files before Docker's loader (ops/compose-source.ts): variables, YAML as Docker
// reads it, the rewriting of what the loader cannot read, and the loader's messages as findings.
// Pure: no Docker CLI (test/integration/compose-import.test.ts runs the same cases through it).
import * as assert from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { Finding } from "../../ops/compose";
import { COMPOSE_YAML, ComposeFileError, dumpCompose, loaderFindings, prepareForLoader, readComposeFile, readVariables, unsetIn, unsetVariables, userPath } from "../../ops/compose-source";

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
            assert.deepStrictEqual(readVariables([], dir, { C: "shell" }, dir), { env: { A: "dotenv", B: "quoted value", C: "shell" }, read: [path.join(dir, ".env")] });
            assert.deepStrictEqual(readVariables([path.join(dir, "one.env"), path.join(dir, "two.env")], dir, {}, dir).env, { A: "one", D: "two" });
            assert.deepStrictEqual(readVariables([], os.tmpdir() + "/dockyard-no-such-dir", { X: "1" }), { env: { X: "1" }, read: [] });
            assert.throws(() => readVariables([path.join(dir, "none.env")], dir, {}, dir), (e: Error) => e instanceof ComposeFileError && e.message === "--env-file none.env: no such file");
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
            "      - { target: 80, published: \"8080\", host_ip: 0.0.0.0 }",
            "      - { target: 90, published: \"9090\", name: web }",
            "      - 5432",
            "",
        ].join("\n")), [], "/p");
        assert.deepStrictEqual(p.doc.services.app.ports, ["8000-8002:8000-8002", "7000-7001:80/udp", { target: 90, published: 9090 }, 5432]);
        assert.deepStrictEqual(p.ports, { app: [0, 0, 0, 3, 3, 5, 6] });
        assert.deepStrictEqual(lines(p.findings), [
            "error services.app.ports[1]: \"127.0.0.1:9229:9229\" publishes on 127.0.0.1 only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported",
            "error services.app.ports[2]: \"[::1]:81:81\" publishes on [::1] only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported",
            "error services.app.ports[4].host_ip: publishes on 0.0.0.0 only; Swarm publishes a service's ports on every node's 0.0.0.0, so the port is not imported",
            "warning services.app.ports[5].name: docker compose's label for the port; Swarm has no use for it",
        ]);
        assert.deepStrictEqual([3, 5, 6].map((i) => userPath(`services.app.ports[${i}].published`, p.ports)), [
            "services.app.ports[3].published", "services.app.ports[5].published", "services.app.ports[6].published",
        ]);
        assert.strictEqual(userPath("services.app.ports[2]", p.ports), "services.app.ports[0]");
        assert.strictEqual(userPath("services.other.ports[2]", p.ports), "services.other.ports[2]");
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
            ]);
        } finally {
            fs.rmSync(dir, { recursive: true });
        }
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
