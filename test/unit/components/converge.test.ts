// The convergence wait's own failures, against a fake docker: one line that names the service and
// the command that failed, never a stack trace.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CONVERGE_SCRIPT } from "../../../components/converge";

describe("convergence wait", () => {
    it("says in one line why it cannot follow the rollout when the engine does not answer", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-"));
        try {
            fs.writeFileSync(path.join(dir, "docker"), "#!/bin/sh\necho 'Error response from daemon: service web-id not found' >&2\nexit 1\n", { mode: 0o755 });
            const r = spawnSync(process.execPath, ["-e", CONVERGE_SCRIPT], {
                encoding: "utf8",
                env: { PATH: `${dir}:${process.env.PATH}`, SERVICE_ID: "web-id", SERVICE_NAME: "web", TIMEOUT: "5s" },
            });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr,
                "dockyard: service web: could not follow its rollout: `docker service inspect web-id` failed: Error response from daemon: service web-id not found\n");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
