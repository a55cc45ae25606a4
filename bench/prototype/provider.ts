// A prototype Pulumi resource provider `dockyard` (issue 21): one resource type,
// `dockyard:swarm:Service`, a Swarm service created, updated, read and deleted through the Docker
// Engine API (dockerode), with the convergence wait inside create and update, as pulumi-kubernetes
// awaits a rollout. One resource per service, where the library has a docker.Service and a
// `-converged` command step; no fixed sleep after a change; the service read back by id, not by
// listing every service; no registry look-up for a digest-pinned image; a diff field by field.
//
// The wait is the library's own (components/converge.ts, `@dockyard/components/wait`), run as it
// runs today: its own Node.js process per service, with the shared poll, so the prototype measures
// the provider's cost and not a different rule. It is a bench prototype, outside the shipped library.
import { spawn } from "child_process";
import type Dockerode from "dockerode";
import { checkInputs, diffInputs, hasDigest, project, SERVICE_TYPE, touchesSwarm, withTaskDefaults } from "./spec";

/** The few Engine API calls the provider makes (a fake stands in for them in the unit tests). */
export interface Engine {
    createService(spec: any): Promise<string>;
    /** The service as `GET /services/{id}` answers, or undefined when there is none. */
    inspectService(id: string): Promise<any | undefined>;
    updateService(id: string, version: number, spec: any): Promise<void>;
    /** Removes the service; one already gone is no error. */
    removeService(id: string): Promise<void>;
    /** The digest the registry has for a reference (`GET /distribution/{name}/json`). */
    digestOf(image: string): Promise<string>;
}

const notFound = (e: any) => e?.statusCode === 404;

/**
 * The Engine API through dockerode (DOCKER_HOST as the docker CLI reads it), loaded at the first
 * call: a preview or a deploy with nothing changed makes none, and loading it takes 0.2 s.
 */
export function dockerEngine(given?: Dockerode): Engine {
    let client = given;
    const docker = () => (client ??= new (require("dockerode") as typeof Dockerode)());
    return {
        createService: async (spec) => (await docker().createService(spec)).id,
        inspectService: async (id) => {
            try {
                return await docker().getService(id).inspect();
            } catch (e) {
                if (notFound(e)) return undefined;
                throw e;
            }
        },
        updateService: async (id, version, spec) => {
            await docker().getService(id).update({ _query: { version }, _body: spec } as any);
        },
        removeService: async (id) => {
            try {
                await docker().getService(id).remove();
            } catch (e) {
                if (!notFound(e)) throw e;
            }
        },
        digestOf: async (image) => ((await docker().getImage(image).distribution()) as any).Descriptor.digest,
    };
}

/** Waits for the service to converge; resolves with its endpoints, rejects with the wait's diagnosis. */
export type Wait = (id: string, name: string, timeout: string) => Promise<string[]>;

/** The library's wait (`@dockyard/components/wait`), in a Node.js process of its own, as the `-converged` step runs it. */
export const libraryWait: Wait = (id, name, timeout) => new Promise((resolve, reject) => {
    const module = require.resolve("@dockyard/components/wait");
    const child = spawn(process.execPath, ["-e", `require(${JSON.stringify(module)}).waitForService()`], {
        env: { ...process.env, SERVICE_ID: id, SERVICE_NAME: name, TIMEOUT: timeout },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.on("error", reject);
    child.on("close", (code) => {
        if (code !== 0) return reject(new Error(err.trim() || `dockyard: service ${name}: the convergence wait exited ${code}`));
        try {
            resolve((JSON.parse(out).endpoints ?? []).map(String));
        } catch {
            resolve([]);
        }
    });
});

/** The spec as Swarm gets it: a tag reference pinned to the digest the registry has now, as `docker service create` pins it. */
async function pinned(engine: Engine, spec: any): Promise<any> {
    spec = withTaskDefaults(spec);
    const image: string = spec.TaskTemplate.ContainerSpec.Image;
    if (hasDigest(image)) return spec;
    const digest = await engine.digestOf(image);
    return { ...spec, TaskTemplate: { ...spec.TaskTemplate, ContainerSpec: { ...spec.TaskTemplate.ContainerSpec, Image: `${image}@${digest}` } } };
}

/**
 * An error for the engine that says the service exists but did not converge: it stays in the
 * state (and in Swarm, for `docker service ps`), as the library leaves a failed service in place.
 */
function notConverged(e: unknown, id: string, outs: any): Error {
    const message = e instanceof Error ? e.message : String(e);
    return Object.assign(new Error(message), { id, properties: outs, reasons: [message] });
}

export function makeProvider(engine: Engine, wait: Wait, version: string) {
    const typed = (urn: string) => {
        const type = urn.split("::")[2]?.split("$").pop();
        if (type !== SERVICE_TYPE) throw new Error(`the dockyard prototype provider has no resource type ${type}; it has ${SERVICE_TYPE}`);
    };
    const timeoutOf = (inputs: any): string => inputs.convergeTimeout ?? "5m";
    const converge = async (id: string, inputs: any, spec: any) => {
        const endpoints = await wait(id, inputs.spec.Name, timeoutOf(inputs));
        return { ...inputs, image: spec.TaskTemplate.ContainerSpec.Image, endpoints };
    };
    return {
        version,
        async check(urn: string, _olds: any, news: any) {
            typed(urn);
            return { inputs: news, failures: checkInputs(news) };
        },
        async diff(_id: string, urn: string, olds: any, news: any) {
            typed(urn);
            const d = diffInputs(olds, news);
            return { changes: d.changed.length > 0, replaces: d.replaces, deleteBeforeReplace: d.replaces.length > 0 };
        },
        async create(urn: string, inputs: any) {
            typed(urn);
            const spec = await pinned(engine, inputs.spec);
            const id = await engine.createService(spec);
            const outs = { ...inputs, image: spec.TaskTemplate.ContainerSpec.Image, endpoints: [] };
            try {
                return { id, outs: await converge(id, inputs, spec) };
            } catch (e) {
                throw notConverged(e, id, outs);
            }
        },
        async read(id: string, urn: string, props: any) {
            typed(urn);
            const live = await engine.inspectService(id);
            if (!live) return {};
            const spec: any = project(live.Spec, props?.spec ?? live.Spec);
            const image = live.Spec?.TaskTemplate?.ContainerSpec?.Image;
            // A tag reference runs pinned to the digest it had: still the reference that was given.
            if (image !== undefined && image === props?.image && spec?.TaskTemplate?.ContainerSpec) spec.TaskTemplate.ContainerSpec.Image = props.spec.TaskTemplate.ContainerSpec.Image;
            const state = { ...props, spec, image };
            const { image: _i, endpoints: _e, ...inputs } = state;
            return { id, props: state, inputs };
        },
        async update(id: string, urn: string, olds: any, news: any) {
            typed(urn);
            if (!touchesSwarm(diffInputs(olds, news))) return { outs: { ...olds, ...news } };
            const live = await engine.inspectService(id);
            if (!live) throw new Error(`dockyard: service ${news.spec.Name} (${id}) is gone from Swarm; refresh, then deploy again to create it`);
            const spec = await pinned(engine, news.spec);
            await engine.updateService(id, live.Version.Index, spec);
            const outs = { ...news, image: spec.TaskTemplate.ContainerSpec.Image, endpoints: olds.endpoints ?? [] };
            try {
                return { outs: await converge(id, news, spec) };
            } catch (e) {
                throw notConverged(e, id, outs);
            }
        },
        async delete(id: string, urn: string) {
            typed(urn);
            await engine.removeService(id);
        },
    };
}
