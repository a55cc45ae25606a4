// The policy pack's rules: each fires on a resource that breaks it, with a message naming the
// resource and the fix, and all stay silent on the committed stacks (the program run under mocks,
// every registered resource fed to the pack at the stack's own levels).
import * as assert from "assert";
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { mockState, registered, resetRecorder, reveal, setConfig, settle, valueOf } from "./harness";
import { stackEnvironment } from "./stacks";
import { CONTAINER, RULES, Rule, SERVICE, VOLUME, policies, secretLooking, workloadOf } from "../../policy/rules";
import { PackConfig, PolicyConfigError, packConfig, violationsFrom } from "../../ops/policy";
import { CONVERGE_SCRIPT } from "../../components/converge";

const DIGEST = "sha256:" + "ab".repeat(32);
const IMAGE = `registry.example.com/shop/app@${DIGEST}`;

interface Resource {
    type: string;
    name: string;
    props: Record<string, any>;
    protect?: boolean;
}

/** Run every enabled policy over the resources, as the pack's server would; returns `rule: message` lines. */
function violations(resources: readonly Resource[], config: Partial<PackConfig> = {}): string[] {
    const out: string[] = [];
    const urn = (r: Resource) => `urn:pulumi:t::p::${r.type}::${r.name}`;
    for (const p of policies) {
        const c = config[p.name];
        const level = c?.enforcementLevel ?? p.enforcementLevel;
        if (level === "disabled") continue;
        const { enforcementLevel: _, ...settings } = c ?? ({} as any);
        const getConfig = <T extends object>() => settings as T;
        const opts = (r: Resource) => ({ protect: r.protect ?? false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 } });
        const validate = (p as ResourceValidationPolicy).validateResource;
        if (typeof validate === "function") {
            for (const r of resources) {
                const args = { type: r.type, name: r.name, urn: urn(r), props: r.props, opts: opts(r), stackTags: new Map(), getConfig } as unknown as ResourceValidationArgs;
                void validate(args, (m: string) => out.push(`${p.name}: ${m}`));
            }
        }
        if ("validateStack" in p) {
            const all = resources.map((r) => ({ type: r.type, name: r.name, urn: urn(r), props: r.props, opts: opts(r) })) as unknown as PolicyResource[];
            void (p as StackValidationPolicy).validateStack({ resources: all, stackTags: new Map(), getConfig } as any, (m: string) => out.push(`${p.name}: ${m}`));
        }
    }
    return out;
}

/** A Swarm service as Dockyard registers it: passes every rule, at every level. */
function goodService(overrides: (s: any) => void = () => undefined): Resource {
    const props: any = {
        name: "web",
        taskSpec: {
            containerSpec: {
                image: IMAGE,
                env: { KV_URL: "http://kv:8080" },
                healthcheck: { tests: ["CMD", "wget", "-q", "http://127.0.0.1:8080/healthz"] },
                mounts: [{ type: "volume", source: "kv-data", target: "/data" }],
            },
            resources: { limits: { memoryBytes: 512 * 1024 ** 2 } },
            networksAdvanceds: [{ id: "backend-id" }],
        },
        updateConfig: { failureAction: "rollback" },
        endpointSpec: { ports: [{ targetPort: 8080, publishedPort: 80, publishMode: "ingress" }] },
    };
    overrides(props);
    return { type: SERVICE, name: "web-service", props };
}

function goodContainer(overrides: (c: any) => void = () => undefined): Resource {
    const props: any = {
        name: "worker",
        image: IMAGE,
        envs: ["MODE=batch"],
        healthcheck: { tests: ["CMD", "true"] },
        memory: 256,
        privileged: false,
        ports: [],
    };
    overrides(props);
    return { type: CONTAINER, name: "worker-container", props };
}

const kvVolume = (protect: boolean): Resource => ({ type: VOLUME, name: "kv-data-volume", props: { name: "kv-data" }, protect });

/** Production levels with port 80 of web declared public. */
const PROD: PackConfig = packConfig({ ...stackEnvironment("prod") });

describe("policy pack rules", () => {
    it("has one policy per rule", () => {
        assert.deepStrictEqual(policies.map((p) => p.name).sort(), [...RULES].sort());
    });

    it("a service and container that follow every rule, with a protected volume: no violation at production levels", () => {
        assert.deepStrictEqual(violations([goodService(), goodContainer(), kvVolume(true)], PROD), []);
    });

    it("a service's convergence wait (command:local:Command <name>-converged) is no workload: no rule reads it", () => {
        // As components/service.ts registers it; its environment would trip no-secrets-in-env if a rule read it.
        const converged: Resource = {
            type: "command:local:Command",
            name: "web-converged",
            props: {
                create: 'node -e "$DOCKYARD_SCRIPT"',
                environment: { DOCKYARD_SCRIPT: CONVERGE_SCRIPT, SERVICE_ID: "abc", SERVICE_NAME: "web", TIMEOUT: "5m", SPEC: "0123456789abcdef", API_TOKEN: "x" },
                logging: "stderr",
            },
        };
        const everyRuleMandatory = Object.fromEntries(RULES.map((r) => [r, { ...PROD[r], enforcementLevel: "mandatory" }])) as PackConfig;
        assert.deepStrictEqual(violations([converged], everyRuleMandatory), []);
        assert.deepStrictEqual(violations([goodService(), converged, kvVolume(true)], everyRuleMandatory), []);
    });

    describe("each rule fires on a resource that breaks it", () => {
        const cases: Array<[Rule, Resource[], string[]]> = [
            [Rule.ImageByDigest, [goodService((s) => (s.taskSpec.containerSpec.image = "nginx:latest"))], [
                'service "web" (web-service) runs image "nginx:latest" by the mutable tag "latest". Deploy it by digest: build it in the stack (images:) or pin it as "<repository>@sha256:<digest>" (`docker buildx imagetools inspect <image>` prints it).',
            ]],
            [Rule.ImageByDigest, [goodContainer((c) => (c.image = "127.0.0.1:5000/shop/app:1.2"))], [
                'container "worker" (worker-container) runs image "127.0.0.1:5000/shop/app:1.2" by the tag "1.2", which can be pushed again. Deploy it by digest: build it in the stack (images:) or pin it as "<repository>@sha256:<digest>" (`docker buildx imagetools inspect <image>` prints it).',
            ]],
            [Rule.HealthCheck, [goodService((s) => delete s.taskSpec.containerSpec.healthcheck), goodContainer((c) => (c.healthcheck = { tests: ["NONE"] }))], [
                'service "web" (web-service) has no health check, so a broken release looks healthy and is not rolled back. Add healthCheck: { command: [...] } to the service in the stack file.',
                'container "worker" (worker-container) has no health check, so a broken release looks healthy and is not rolled back. Add healthCheck: { command: [...] } to the service in the stack file.',
            ]],
            [Rule.RollbackOnFailure, [goodService((s) => (s.updateConfig.failureAction = "pause"))], [
                'service "web" (web-service) updates with failure action "pause", so a failed rollout is left half done. Set update.failureAction: rollback (Dockyard\'s default) in the stack file.',
            ]],
            [Rule.NoSecretsInEnv, [goodService((s) => Object.assign(s.taskSpec.containerSpec.env, { DB_PASSWORD: "hunter2", STRIPE_KEY: "sk", NOTE: "AKIAIOSFODNN7EXAMPLE", DB_PASSWORD_FILE: "/run/secrets/db" }))], [
                'service "web" (web-service) sets DB_PASSWORD in a plain environment variable, visible to anyone who can run `docker inspect`. Store it as a secret (secrets: in the stack file, `pulumi config set --secret`) and read it from /run/secrets/<name>, or pass a *_FILE variable pointing there.',
                'service "web" (web-service) sets STRIPE_KEY in a plain environment variable, visible to anyone who can run `docker inspect`. Store it as a secret (secrets: in the stack file, `pulumi config set --secret`) and read it from /run/secrets/<name>, or pass a *_FILE variable pointing there.',
                'service "web" (web-service) sets NOTE to what looks like an AWS access key id, in a plain environment variable. Store it as a secret (secrets: in the stack file, `pulumi config set --secret`) and read it from /run/secrets/<name>, or pass a *_FILE variable pointing there.',
            ]],
            [Rule.NoSecretsInEnv, [goodContainer((c) => c.envs.push("API_TOKEN=abc"))], [
                'container "worker" (worker-container) sets API_TOKEN in a plain environment variable, visible to anyone who can run `docker inspect`. Store it as a secret (secrets: in the stack file, `pulumi config set --secret`) and read it from /run/secrets/<name>, or pass a *_FILE variable pointing there.',
            ]],
            [Rule.NoPrivileged, [goodService((s) => (s.taskSpec.containerSpec.capAdds = ["SYS_ADMIN"])), goodContainer((c) => (c.privileged = true))], [
                'service "web" (web-service) adds the capability SYS_ADMIN, which gives it root on the host. Remove that, or list the service in policy.allowPrivileged in the stack file if it truly needs it.',
                'container "worker" (worker-container) runs privileged, which gives it root on the host. Remove that, or list the service in policy.allowPrivileged in the stack file if it truly needs it.',
            ]],
            [Rule.NoDockerSocket, [goodService((s) => s.taskSpec.containerSpec.mounts.push({ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock" })), goodContainer((c) => (c.volumes = [{ hostPath: "/run/docker.sock", containerPath: "/d.sock" }]))], [
                'service "web" (web-service) mounts /var/run/docker.sock, which is the Docker socket: that gives it root on the host. Remove the mount, or list the service in policy.allowDockerSocket in the stack file if it truly needs it.',
                'container "worker" (worker-container) mounts /run/docker.sock, which is the Docker socket: that gives it root on the host. Remove the mount, or list the service in policy.allowDockerSocket in the stack file if it truly needs it.',
            ]],
            [Rule.NoDockerSocket, [goodService((s) => s.taskSpec.containerSpec.mounts.push({ type: "bind", source: "//var/run/docker.sock/", target: "/d.sock" })), goodContainer((c) => (c.volumes = [{ hostPath: "/", containerPath: "/host", readOnly: true }]))], [
                'service "web" (web-service) mounts //var/run/docker.sock/, which is the Docker socket: that gives it root on the host. Remove the mount, or list the service in policy.allowDockerSocket in the stack file if it truly needs it.',
                'container "worker" (worker-container) mounts /, which holds the Docker socket (/var/run/docker.sock): that gives it root on the host. Remove the mount, or list the service in policy.allowDockerSocket in the stack file if it truly needs it.',
            ]],
            [Rule.NoHostNetwork, [goodService((s) => s.taskSpec.networksAdvanceds.push({ name: "host" })), goodContainer((c) => (c.networkMode = "host"))], [
                'service "web" (web-service) uses the host\'s network, bypassing network isolation and port declarations. Attach it to a stack network instead, or list the service in policy.allowHostNetwork in the stack file.',
                'container "worker" (worker-container) uses the host\'s network, bypassing network isolation and port declarations. Attach it to a stack network instead, or list the service in policy.allowHostNetwork in the stack file.',
            ]],
            [Rule.MemoryLimits, [goodService((s) => delete s.taskSpec.resources), goodContainer((c) => delete c.memory)], [
                'service "web" (web-service) has no memory limit, so one leak can starve everything else on the node. Set limits: { memory: "512m" } on it or in defaults: in the stack file.',
                'container "worker" (worker-container) has no memory limit, so one leak can starve everything else on the node. Set limits: { memory: "512m" } on it or in defaults: in the stack file.',
            ]],
            [Rule.DeclaredPublicPorts, [goodService((s) => s.endpointSpec.ports.push({ targetPort: 9090, publishedPort: 9090 })), goodContainer((c) => c.ports.push({ internal: 5432, external: 5432 }))], [
                'service "web" (web-service) publishes port 9090 on the host, which is not declared public. Declare it in policy.publicPorts (service: [ports]) in the stack file, or stop publishing it.',
                'container "worker" (worker-container) publishes port 5432 on the host, which is not declared public. Declare it in policy.publicPorts (service: [ports]) in the stack file, or stop publishing it.',
            ]],
            [Rule.DeclaredPublicPorts, [goodService((s) => s.endpointSpec.ports.push({ targetPort: 9000, protocol: "tcp", publishMode: "host" }))], [
                'service "web" (web-service) publishes its container port 9000 on a host port Swarm picks, which cannot be declared public. Give it a published port and declare that in policy.publicPorts (service: [ports]) in the stack file, or stop publishing it.',
            ]],
            [Rule.StatefulVolumeProtected, [goodService(), kvVolume(false), { type: VOLUME, name: "scratch-volume", props: { name: "scratch" } }], [
                'volume "kv-data" (kv-data-volume) holds the data of service "web" (web-service) but is not protected, so `pulumi destroy` or a replacement can remove it. Set deletion: protect on the volume in the stack file (retain is not visible to policies: the analyzer protocol carries protect, not retainOnDelete).',
            ]],
        ];
        for (const [rule, resources, messages] of cases) {
            it(`${rule}: ${messages.length} violation${messages.length > 1 ? "s" : ""}, nothing from any other rule`, () => {
                const extra = rule === Rule.StatefulVolumeProtected ? [] : [kvVolume(true)];
                assert.deepStrictEqual(violations([...resources, ...extra], PROD), messages.map((m) => `${rule}: ${m}`));
            });
        }
    });

    describe("settings", () => {
        it("version tags pass outside production, `latest` and untagged images do not", () => {
            const dev = packConfig(stackEnvironment("dev"));
            const tagged = (image: string) => violations([goodService((s) => (s.taskSpec.containerSpec.image = image))], dev);
            assert.deepStrictEqual(tagged("dockyard/registry:2.8.2"), []);
            assert.deepStrictEqual(tagged("localhost:5000/app").map((v) => v.split(":")[0]), ["image-by-digest"]);
            assert.deepStrictEqual(tagged("app:latest").map((v) => v.split(":")[0]), ["image-by-digest"]);
        });

        it("exceptions by name: allowed services pass, others still fail", () => {
            const env = { ...stackEnvironment("prod"), policy: { publicPorts: { web: [80] }, allowPrivileged: ["web"], allowHostNetwork: ["web"] } };
            const config = packConfig(env);
            const r = [goodService((s) => { s.taskSpec.containerSpec.capAdds = ["ALL"]; s.taskSpec.networksAdvanceds = [{ name: "host" }]; }), goodContainer((c) => (c.privileged = true)), kvVolume(true)];
            assert.deepStrictEqual(violations(r, config).map((v) => v.split(": ")[0]), ["no-privileged"]);
        });

        it("variables allowed by name are not secrets; a random 40-character key is", () => {
            assert.strictEqual(secretLooking("http://kv:8080"), undefined);
            assert.strictEqual(secretLooking("Zx81kQp0Lm2vB7nR4tYw9sE3aD6fG5hJ1cV8uI0o"), "a long random key");
            assert.strictEqual(secretLooking("postgres://app:s3cret@db:5432/app"), "a URL with a password in it");
            const env = { ...stackEnvironment("prod"), policy: { publicPorts: { web: [80] }, allowEnvNames: ["SORT_KEY"] } };
            assert.deepStrictEqual(violations([goodService((s) => (s.taskSpec.containerSpec.env.SORT_KEY = "name")), kvVolume(true)], packConfig(env)), []);
        });

        it("production makes every rule mandatory; dev keeps production-only rules off; the stack file overrides", () => {
            const levels = (c: PackConfig) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.enforcementLevel]));
            assert.deepStrictEqual(new Set(Object.values(levels(PROD))), new Set(["mandatory"]));
            assert.deepStrictEqual(levels(packConfig(stackEnvironment("dev"))), {
                "image-by-digest": "advisory", "health-check": "advisory", "rollback-on-failure": "advisory",
                "no-secrets-in-env": "mandatory", "no-privileged": "mandatory", "no-docker-socket": "mandatory", "no-host-network": "mandatory",
                "memory-limits": "disabled", "stateful-volume-protected": "disabled", "declared-public-ports": "disabled",
            });
            const relaxed = packConfig({ ...stackEnvironment("prod"), policy: { rules: { "memory-limits": "advisory" } } });
            assert.strictEqual(relaxed["memory-limits"].enforcementLevel, "advisory");
            assert.deepStrictEqual(packConfig({ ...stackEnvironment("dev"), prefix: "pb", policy: { publicPorts: { web: [8080] } } })["declared-public-ports"], { enforcementLevel: "advisory", public: { "pb-web": [8080] } });
        });

        it("tells a port left to Swarm from one whose published port is unknown until deploy", () => {
            class UnknownValueError extends Error {}
            const unknownPort = new Proxy({ targetPort: 80 }, { get: (t, k) => { if (k === "publishedPort") throw new UnknownValueError("unknown"); return (t as any)[k]; } });
            const props = { name: "web", taskSpec: { containerSpec: { image: "i" } }, endpointSpec: { ports: [unknownPort, { targetPort: 90 }, { targetPort: 70, publishedPort: 7000 }] } };
            assert.deepStrictEqual(workloadOf(SERVICE, "web-service", props)!.published, [{ any: 90 }, 7000]);
        });

        it("refuses unknown rules and unknown service names, listing all of them", () => {
            assert.throws(() => packConfig({ ...stackEnvironment("dev"), policy: { rules: { "no-root": "mandatory" }, allowPrivileged: ["wbe"] } }), (e: Error) => {
                assert.ok(e instanceof PolicyConfigError);
                assert.strictEqual(e.message, [
                    "invalid policy settings in the stack file:",
                    '  - policy.allowPrivileged: expected the name of one of the services (web, kv, registry), got "wbe"',
                    `  - policy.rules.no-root: unknown rule; the rules are ${RULES.join(", ")}`,
                ].join("\n"));
                return true;
            });
        });
    });

    it("reads violations from engine events: once each, mandatory first, without the rule's description line", () => {
        const event = (level: string, name: string, urn?: string) => ({ policyEvent: { policyName: name, enforcementLevel: level, resourceUrn: urn, message: `Description.\nThe ${name} message.` } });
        const events = [event("advisory", "health-check", "urn:pulumi:s::p::docker:index/service:Service::web-service"), event("mandatory", "image-by-digest", "urn:pulumi:s::p::x::kv-service"), event("mandatory", "image-by-digest", "urn:pulumi:s::p::x::kv-service"), { diagnosticEvent: {} }];
        assert.deepStrictEqual(violationsFrom(events), [
            { rule: "image-by-digest", level: "mandatory", resource: "kv-service", message: "The image-by-digest message." },
            { rule: "health-check", level: "advisory", resource: "web-service", message: "The health-check message." },
        ]);
    });
});

describe("policy pack on the committed stacks (program under mocks)", function () {
    this.timeout(30_000);
    before(() => {
        mockState("command:local:Command", (args) =>
            args.name.endsWith("-build") ? { stdout: `building\n${reveal(args.inputs.environment).IMAGE_REF.replace(/:[^:/]+$/, "")}@${DIGEST}` } : { stdout: "" },
        );
    });
    after(() => mockState("command:local:Command", undefined));

    for (const stack of ["dev", "staging", "prod", "cluster"]) {
        it(`${stack}: every resource passes every rule at the stack's levels`, async () => {
            resetRecorder();
            const environment = stackEnvironment(stack);
            setConfig({ environment, appToken: "t0ken", registryPassword: "pw" }, ["appToken", "registryPassword"]);
            delete require.cache[require.resolve("../../index")];
            const program = await import("../../index");
            await valueOf(program.releaseManifest);
            await settle();
            const resources = registered().filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, props: reveal(r.inputs), protect: r.protect }));
            assert.ok(resources.filter((r) => r.type === SERVICE).length >= 2, "the services were registered");
            // Each service's convergence wait is registered, and fed to the pack like every other resource.
            const services = resources.filter((r) => r.type === SERVICE).map((r) => r.name.replace(/-service$/, ""));
            const waits = resources.filter((r) => r.type === "command:local:Command" && r.name.endsWith("-converged")).map((r) => r.name.replace(/-converged$/, ""));
            assert.deepStrictEqual(waits.sort(), services.sort());
            assert.deepStrictEqual(violations(resources, packConfig(environment)), []);
        });
    }

    it("prod without its declared public port: the web service's port 80 is a mandatory violation", () => {
        const config = packConfig({ ...stackEnvironment("prod"), policy: undefined });
        assert.strictEqual(config["declared-public-ports"].enforcementLevel, "mandatory");
        assert.deepStrictEqual(violations([goodService()], config).map((v) => v.split(": ")[0]), ["declared-public-ports"]);
    });
});
