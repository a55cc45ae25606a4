// The bench's prototype provider (issue 21) without Docker: its checks, its field-by-field diff, and
// what create, update, read and delete ask of the Engine API (a recording fake) and of the wait.
import * as assert from "assert";
import { Engine, makeProvider, Wait } from "../../../bench/prototype/provider";
import { changedFields, checkInputs, diffInputs, project, withTaskDefaults } from "../../../bench/prototype/spec";

const URN = "urn:pulumi:bench::bench::dockyard:bench:Service$dockyard:swarm:Service::p21-a";
const DIGEST = `sha256:${"a".repeat(64)}`;
const spec = (over: Record<string, unknown> = {}) => ({
    Name: "p21-a",
    Mode: { Replicated: { Replicas: 1 } },
    TaskTemplate: { ContainerSpec: { Image: `127.0.0.1:5000/bench/busybox@${DIGEST}`, Env: ["REV=1"] } },
    ...over,
});

function fake(live?: any) {
    const calls: string[] = [];
    const engine: Engine = {
        createService: async (s) => { calls.push(`create ${s.Name} ${s.TaskTemplate.ContainerSpec.Image}`); return "svc1"; },
        inspectService: async (id) => { calls.push(`inspect ${id}`); return live; },
        updateService: async (id, version, s) => { calls.push(`update ${id} v${version} ${s.TaskTemplate.ContainerSpec.Env.join(",")}`); },
        removeService: async (id) => { calls.push(`remove ${id}`); },
        digestOf: async (image) => { calls.push(`distribution ${image}`); return DIGEST; },
    };
    return { engine, calls };
}
const waitOk: Wait = async (id, name, timeout) => [`waited ${id} ${name} ${timeout}`];

describe("bench prototype provider: inputs", () => {
    it("accepts an Engine API ServiceSpec", () => {
        assert.deepStrictEqual(checkInputs({ spec: spec(), convergeTimeout: "10m" }), []);
    });

    it("reports every problem at once, naming the property and the bad value", () => {
        const failures = checkInputs({
            spec: { Name: "-bad", Mode: { Replicated: {}, Global: {} }, TaskTemplate: { ContainerSpec: {} } },
            convergeTimeout: "soon",
        });
        assert.deepStrictEqual(failures.map((f) => f.property), ["spec.Name", "spec.TaskTemplate.ContainerSpec.Image", "spec.Mode", "convergeTimeout"]);
        assert.match(failures[0].reason, /^"-bad" is not a service name/);
        assert.match(failures[3].reason, /^"soon" is not a duration/);
    });

    it("refuses secret values, which it would store unmarked", () => {
        const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "x" };
        const failures = checkInputs({ spec: spec({ TaskTemplate: { ContainerSpec: { Image: "busybox", Env: [secret] } } }) });
        assert.deepStrictEqual(failures.map((f) => f.property), ["spec.TaskTemplate.ContainerSpec.Env[0]"]);
    });
});

describe("bench prototype provider: diff", () => {
    it("names each changed field, lists whole, absent and null alike", () => {
        assert.deepStrictEqual(changedFields({ a: { b: [1, 2], c: 1, d: null } }, { a: { b: [2, 1], c: 1 }, e: "x" }), ["a.b", "e"]);
        assert.deepStrictEqual(changedFields({ a: 1 }, { a: 1 }), []);
    });

    it("updates in place for an env change; nothing changed is no change", () => {
        const olds = { spec: spec(), convergeTimeout: "10m", image: "ignored", endpoints: [] };
        assert.deepStrictEqual(diffInputs(olds, { spec: spec(), convergeTimeout: "10m" }), { changed: [], replaces: [] });
        const news = { spec: spec({ TaskTemplate: { ContainerSpec: { Image: spec().TaskTemplate.ContainerSpec.Image, Env: ["REV=2"] } } }), convergeTimeout: "10m" };
        assert.deepStrictEqual(diffInputs(olds, news), { changed: ["spec.TaskTemplate.ContainerSpec.Env"], replaces: [] });
    });

    it("replaces the service for a new name or a switch to global mode", () => {
        assert.deepStrictEqual(diffInputs({ spec: spec() }, { spec: spec({ Name: "p21-b" }) }).replaces, ["spec.Name"]);
        const global = diffInputs({ spec: spec() }, { spec: spec({ Mode: { Global: {} } }) });
        assert.deepStrictEqual(global, { changed: ["spec.Mode.Global", "spec.Mode.Replicated"], replaces: ["spec.Mode"] });
    });

    it("reads the live spec through the shape it sent: Swarm's defaults are no drift", () => {
        const live = { ...spec(), TaskTemplate: { ContainerSpec: { ...spec().TaskTemplate.ContainerSpec, Isolation: "default" }, ForceUpdate: 0, Runtime: "container" } };
        assert.deepStrictEqual(project(live, spec()), spec());
    });
});

describe("bench prototype provider: the spec sent", () => {
    it("carries the task defaults Swarm adds when read back, so tasks match the template the wait compares", () => {
        const sent = withTaskDefaults(spec({ TaskTemplate: { ContainerSpec: { Image: "busybox" }, RestartPolicy: { Condition: "on-failure" } } }));
        assert.deepStrictEqual(sent.TaskTemplate, {
            ContainerSpec: { StopGracePeriod: 10e9, DNSConfig: {}, Image: "busybox" },
            Resources: {},
            RestartPolicy: { Condition: "on-failure", Delay: 5e9, MaxAttempts: 0 },
            Placement: {},
        });
    });
});

describe("bench prototype provider: engine calls", () => {
    it("creates a digest-pinned service without asking the registry, then waits", async () => {
        const { engine, calls } = fake();
        const r = await makeProvider(engine, waitOk, "0.0.1").create(URN, { spec: spec(), convergeTimeout: "10m" });
        assert.deepStrictEqual(calls, [`create p21-a 127.0.0.1:5000/bench/busybox@${DIGEST}`]);
        assert.strictEqual(r.id, "svc1");
        assert.deepStrictEqual(r.outs.endpoints, ["waited svc1 p21-a 10m"]);
    });

    it("pins a tag reference to the registry's digest, as docker service create does", async () => {
        const { engine, calls } = fake();
        const r = await makeProvider(engine, waitOk, "0.0.1").create(URN, { spec: spec({ TaskTemplate: { ContainerSpec: { Image: "busybox:1.35.0", Env: [] } } }) });
        assert.deepStrictEqual(calls, ["distribution busybox:1.35.0", `create p21-a busybox:1.35.0@${DIGEST}`]);
        assert.strictEqual(r.outs.image, `busybox:1.35.0@${DIGEST}`);
        assert.strictEqual(r.outs.spec.TaskTemplate.ContainerSpec.Image, "busybox:1.35.0");
    });

    it("keeps a service that did not converge in the state, with the wait's diagnosis", async () => {
        const { engine } = fake();
        const failing: Wait = async () => { throw new Error("dockyard: service p21-a did not converge: 3 tasks failed"); };
        await assert.rejects(makeProvider(engine, failing, "0.0.1").create(URN, { spec: spec() }), (e: any) => {
            assert.strictEqual(e.message, "dockyard: service p21-a did not converge: 3 tasks failed");
            assert.strictEqual(e.id, "svc1");
            assert.deepStrictEqual(e.reasons, [e.message]);
            return true;
        });
    });

    it("updates at the live version by id, and skips Swarm when only the timeout changed", async () => {
        const { engine, calls } = fake({ ID: "svc1", Version: { Index: 42 }, Spec: spec() });
        const p = makeProvider(engine, waitOk, "0.0.1");
        const news = { spec: spec({ TaskTemplate: { ContainerSpec: { Image: spec().TaskTemplate.ContainerSpec.Image, Env: ["REV=2"] } } }) };
        await p.update("svc1", URN, { spec: spec() }, news);
        assert.deepStrictEqual(calls, ["inspect svc1", "update svc1 v42 REV=2"]);
        calls.length = 0;
        const r = await p.update("svc1", URN, { spec: spec(), convergeTimeout: "5m" }, { spec: spec(), convergeTimeout: "9m" });
        assert.deepStrictEqual(calls, []);
        assert.strictEqual(r.outs.convergeTimeout, "9m");
    });

    it("reads one service by id; a service gone reads as deleted", async () => {
        assert.deepStrictEqual(await makeProvider(fake(undefined).engine, waitOk, "0.0.1").read("svc1", URN, { spec: spec() }), {});
        const { engine, calls } = fake({ ID: "svc1", Spec: { ...spec(), Labels: {} } });
        const r = await makeProvider(engine, waitOk, "0.0.1").read("svc1", URN, { spec: spec(), endpoints: [] });
        assert.deepStrictEqual(calls, ["inspect svc1"]);
        assert.deepStrictEqual(r, { id: "svc1", props: { spec: spec(), endpoints: [], image: spec().TaskTemplate.ContainerSpec.Image }, inputs: { spec: spec() } });
    });

    it("reads a tag reference that runs pinned to the digest it was given as that reference", async () => {
        const tagged = spec({ TaskTemplate: { ContainerSpec: { Image: "busybox:1.35.0" } } });
        const live = { ID: "svc1", Spec: spec({ TaskTemplate: { ContainerSpec: { Image: `busybox:1.35.0@${DIGEST}` } } }) };
        const r: any = await makeProvider(fake(live).engine, waitOk, "0.0.1").read("svc1", URN, { spec: tagged, image: `busybox:1.35.0@${DIGEST}` });
        assert.deepStrictEqual(r.inputs, { spec: tagged });
        assert.strictEqual(r.props.image, `busybox:1.35.0@${DIGEST}`);
    });

    it("refuses a resource type it does not provide", async () => {
        await assert.rejects(makeProvider(fake().engine, waitOk, "0.0.1").check(URN.replace("swarm:Service", "swarm:Other"), {}, {}),
            /^Error: the dockyard prototype provider has no resource type dockyard:swarm:Other; it has dockyard:swarm:Service$/);
    });
});
