// Secret sources read for real: an environment variable, a file, a command (a tiny node script).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ReadSource, SecretSourceError, readSource, readSources } from "../../../config";

const node = process.execPath;
/** A command source that runs `script` with node. */
const script = (code: string, more: Partial<Extract<ReadSource, { kind: "command" }>> = {}): ReadSource =>
    ({ kind: "command", argv: [node, "-e", code], trim: false, timeout: "30s", ...more });

describe("secret sources", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "sources-"));
        fs.writeFileSync(path.join(dir, "token"), "file-value\n");
        fs.writeFileSync(path.join(dir, "empty"), "");
    });
    after(() => fs.rmSync(dir, { recursive: true }));
    const read = (s: ReadSource, env: NodeJS.ProcessEnv = {}) => readSource(s, { projectDir: dir, env });
    /** The error reading `s` fails with. */
    const failure = (s: ReadSource, env: NodeJS.ProcessEnv = {}): string => {
        try {
            read(s, env);
        } catch (e) {
            return (e as Error).message;
        }
        throw new Error("expected the source to fail");
    };

    describe("env", () => {
        it("reads the variable exactly", () => {
            assert.strictEqual(read({ kind: "env", name: "APP_TOKEN" }, { APP_TOKEN: " v a l u e\n" }), " v a l u e\n");
        });
        it("fails when it is not set, or set empty", () => {
            assert.strictEqual(failure({ kind: "env", name: "APP_TOKEN" }), "env APP_TOKEN is not set");
            assert.strictEqual(failure({ kind: "env", name: "APP_TOKEN" }, { APP_TOKEN: "" }), "env APP_TOKEN is empty");
        });
    });

    describe("file", () => {
        it("reads the file exactly (its newline kept), a relative path from the project directory", () => {
            assert.strictEqual(read({ kind: "file", path: path.join(dir, "token") }), "file-value\n");
            assert.strictEqual(read({ kind: "file", path: "token" }), "file-value\n");
        });
        it("fails when it is missing, a directory or empty", () => {
            assert.strictEqual(failure({ kind: "file", path: "/nonexistent/key" }), "file /nonexistent/key cannot be read: no such file or directory");
            assert.strictEqual(failure({ kind: "file", path: dir }), `file ${dir} cannot be read: illegal operation on a directory`);
            assert.strictEqual(failure({ kind: "file", path: "empty" }), "file empty is empty");
        });
    });

    describe("command", () => {
        it("takes stdout exactly, without a shell, in the project directory, with the deploy's environment", () => {
            assert.strictEqual(read(script("process.stdout.write(' s3cret\\n')")), " s3cret\n");
            assert.strictEqual(read(script("process.stdout.write(process.cwd() + ' ' + process.env.X)"), { X: "$HOME" }), `${fs.realpathSync(dir)} $HOME`);
            assert.strictEqual(read({ kind: "command", argv: ["echo", "$HOME", "|", "x"], trim: false, timeout: "30s" }), "$HOME | x\n");
        });
        it("trims stdout at both ends with trim: true", () => {
            assert.strictEqual(read(script("process.stdout.write('\\n  s3cret \\n')", { trim: true })), "s3cret");
        });
        it("fails on an exit code other than 0 with the exit code and stderr's first lines, never stdout", () => {
            const code = "process.stdout.write(['the', 'value'].join('-')); console.error('[ERROR] not signed in\\n\\nline 2\\nline 3\\nline 4\\nline 5\\nline 6\\nline 7'); process.exit(3)";
            const message = failure(script(code));
            assert.strictEqual(message, `command ${JSON.stringify([node, "-e", code])} exited with code 3; its stderr:\n` +
                "    [ERROR] not signed in\n    line 2\n    line 3\n    line 4\n    line 5\n    (2 more lines)");
            assert.ok(!message.includes("the-value"));
            assert.strictEqual(failure(script("process.exit(1)")), `command ${JSON.stringify([node, "-e", "process.exit(1)"])} exited with code 1; it wrote nothing to stderr`);
        });
        it("fails when it prints nothing", () => {
            assert.strictEqual(failure(script("", { trim: true })), `command ${JSON.stringify([node, "-e", ""])} is empty`);
        });
        it("stops a command that outlives its timeout", () => {
            const started = Date.now();
            const code = "setTimeout(() => {}, 60000)";
            assert.strictEqual(failure(script(code, { timeout: "300ms" })), `command ${JSON.stringify([node, "-e", code])} did not finish within 300ms and was stopped`);
            assert.ok(Date.now() - started < 10_000);
        });
        it("fails when the program does not exist", () => {
            assert.strictEqual(failure({ kind: "command", argv: ["no-such-program-dockyard"], trim: false, timeout: "30s" }),
                'command ["no-such-program-dockyard"] could not start: no-such-program-dockyard was not found');
        });
    });

    describe("readSources", () => {
        it("reads every source but config keys, once each", () => {
            const counter = path.join(dir, "count");
            const once = `require('fs').appendFileSync(${JSON.stringify(counter)}, 'x'); process.stdout.write('c')`;
            const value = readSources({
                a: { env: "A" }, b: { config: "appToken" }, c: { command: [node, "-e", once] }, d: { command: [node, "-e", once] },
            }, { projectDir: dir, env: { A: "a-value" } });
            assert.strictEqual(value({ kind: "env", name: "A" }), "a-value");
            assert.strictEqual(value(script(once)), "c");
            assert.strictEqual(fs.readFileSync(counter, "utf8"), "x");
        });
        it("names each secret that failed and its source, then says nothing was changed", () => {
            assert.throws(() => readSources({ ok: { env: "A" }, token: { env: "APP_TOKEN" }, key: { file: "/nonexistent/key" } }, { projectDir: dir, env: { A: "a" } }), (e: Error) => {
                assert.ok(e instanceof SecretSourceError);
                assert.strictEqual(e.message, "secret token: env APP_TOKEN is not set\nsecret key: file /nonexistent/key cannot be read: no such file or directory\n" +
                    "nothing was changed: every secret is read before any resource is touched");
                return true;
            });
        });
    });
});
