import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { childrenOf, one, registered, resetRecorder, settle } from "../harness";
import { cleanTempDirs, problemText, rejection, tempDir } from "./helpers";
// The script is internal to the package, tested from its source.
import { LABEL_SCRIPT } from "../../../components/node";

const COMMAND = "command:local:Command";

describe("NodeLabels", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);
    after(cleanTempDirs);

    it("sets the labels with one command, parented to the component; deleting runs it with no labels", async () => {
        new c.NodeLabels("node-worker1", { node: "worker1", labels: { zone: "b", disk: "ssd" } });
        await settle();
        const component = one("dockyard:swarm:NodeLabels", "node-worker1");
        assert.deepStrictEqual(childrenOf(component.urn), [`${COMMAND} node-worker1-labels`]);
        assert.deepStrictEqual(registered().length, 2);
        const { environment, ...rest } = one(COMMAND, "node-worker1-labels").inputs;
        assert.deepStrictEqual(rest, { create: 'sh -c "$DOCKYARD_SCRIPT"', delete: 'LABELS= sh -c "$DOCKYARD_SCRIPT"', logging: "stderr" });
        // Sorted by key, so the same labels never show as a change.
        assert.deepStrictEqual(environment, { DOCKYARD_SCRIPT: LABEL_SCRIPT, NODE: "worker1", LABELS: "disk=ssd\nzone=b" });
    });

    it("rejects a bad node name, a bad key, Dockyard's own key and a multi-line value together", async () => {
        const err = rejection(() => new c.NodeLabels("n", { node: "-x y", labels: { "a b": "1", "dockyard.labels": "x", zone: "a\nb" } }));
        assert.strictEqual(err.message, problemText("NodeLabels", "n", [
            'node: expected a Swarm node\'s hostname or id, such as "worker1", got "-x y"',
            'labels.a b: expected a label key of letters, digits, \'.\', \'_\' or \'-\', such as "zone" or "disk.type", got "a b"',
            'labels.dockyard.labels: expected a key other than "dockyard.labels", which Dockyard keeps for itself, got "dockyard.labels"',
            'labels.zone: expected a label value on one line, got "a\\nb"',
        ]));
        await settle();
        assert.deepStrictEqual(registered().map((r) => r.type), ["dockyard:swarm:NodeLabels"]);
    });

    describe("its script, against a fake docker", () => {
        /** Runs the label script with the node's current labels; returns the `docker node update` arguments. */
        function run(current: Record<string, string>, labels: string, node = "worker1", have = current["dockyard.labels"] ? `${current["dockyard.labels"]} dockyard.labels` : "") {
            const dir = tempDir();
            const log = path.join(dir, "calls");
            fs.writeFileSync(path.join(dir, "docker"), `#!/bin/sh
case "$*" in
  "node inspect worker1") echo '[]' ;;
  "node inspect --format {{range"*worker1) echo '${have}' ;;
  "node inspect --format {{index"*worker1) echo '${current["dockyard.labels"] ?? "<no value>"}' ;;
  "node ls"*) printf 'manager\\nworker1\\n' ;;
  "node update"*) echo "$*" >> ${log} ;;
  *) echo "Error: No such node: $*" >&2; exit 1 ;;
esac
`, { mode: 0o755 });
            const r = spawnSync("sh", ["-c", LABEL_SCRIPT], { encoding: "utf8", env: { PATH: `${dir}:${process.env.PATH}`, NODE: node, LABELS: labels } });
            return { status: r.status, stderr: r.stderr, calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim() : "" };
        }

        it("adds the wanted labels and records their keys", () => {
            assert.deepStrictEqual(run({}, "disk=ssd\nzone=b"), { status: 0, stderr: "", calls: "node update --label-add disk=ssd --label-add zone=b --label-add dockyard.labels=disk zone worker1" });
        });

        it("removes only the keys it set before and no longer wants", () => {
            assert.deepStrictEqual(run({ "dockyard.labels": "disk zone" }, "zone=c"),
                { status: 0, stderr: "", calls: "node update --label-add zone=c --label-rm disk --label-add dockyard.labels=zone worker1" });
        });

        it("does not remove a key that is no longer on the node (removed by hand), which docker would refuse", () => {
            assert.deepStrictEqual(run({ "dockyard.labels": "disk zone" }, "", "worker1", "zone dockyard.labels"),
                { status: 0, stderr: "", calls: "node update --label-rm zone --label-rm dockyard.labels worker1" });
        });

        it("on delete of a node that has left the Swarm, succeeds with nothing to do", () => {
            assert.deepStrictEqual(run({}, "", "worker9"), { status: 0, stderr: "", calls: "" });
        });

        it("on delete (no labels) removes its own keys and its record", () => {
            assert.deepStrictEqual(run({ "dockyard.labels": "disk zone" }, ""),
                { status: 0, stderr: "", calls: "node update --label-rm disk --label-rm zone --label-rm dockyard.labels worker1" });
        });

        it("names the Swarm's nodes when the node is not one of them", () => {
            const r = run({}, "zone=a", "worker9");
            assert.deepStrictEqual(r, { status: 1, stderr: "dockyard: node worker9 is not in this Swarm; its nodes: manager worker1 \n", calls: "" });
        });
    });
});
