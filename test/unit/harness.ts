// Shared unit-test harness: Pulumi mocks that record every registered resource.
//
// Import this module before any code under test (it installs the mocks at import time) and load
// the code under test with `await import(...)` inside `before`, as Pulumi's mock docs require.
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";

export const PROJECT = "dockyard";
export const STACK = "unittest";

/** One resource registration, as the engine would have received it. */
export interface Registration {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** Inputs after serialization; secret values stay wrapped (see `isSecretValue`). */
    readonly inputs: Record<string, any>;
    /** URN of the parent; the stack's URN for top-level resources. */
    readonly parent: string;
    readonly custom: boolean;
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    readonly deleteBeforeReplace: boolean;
    readonly dependencies: string[];
    readonly ignoreChanges: string[];
    readonly replaceOnChanges: string[];
    readonly additionalSecretOutputs: string[];
}

const registrations: Registration[] = [];

/** Outputs a mocked resource reports, by type; anything else echoes its inputs. */
export type StateFactory = (args: pulumi.runtime.MockResourceArgs) => Record<string, any>;
const stateFactories = new Map<string, StateFactory>();

/** Let a test decide the outputs of resources of one type (e.g. a command's stdout). */
export function mockState(type: string, factory: StateFactory | undefined): void {
    if (factory) stateFactories.set(type, factory);
    else stateFactories.delete(type);
}

function installMocks(preview: boolean): void {
    pulumi.runtime.setMocks(
        {
            newResource(args) {
                let extra: Record<string, any> = {};
                try {
                    extra = stateFactories.get(args.type)?.(args) ?? {};
                } catch (e) {
                    // A throwing factory would otherwise leave the program waiting forever.
                    console.error(`mockState factory for ${args.type} ${args.name} threw:`, e);
                    throw e;
                }
                return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
            },
            call(args) {
                return args.inputs;
            },
        },
        PROJECT,
        STACK,
        preview,
    );
    // The mock monitor drops resource options before calling `newResource`; wrap it to keep them.
    const monitor: any = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        register(req, (err: any, resp: any) => {
            if (!err) registrations.push(fromRequest(req, resp.getUrn()));
            callback(err, resp);
        });
    };
}

function fromRequest(req: any, urn: string): Registration {
    const { deserializeProperties } = require("@pulumi/pulumi/runtime/rpc");
    return {
        type: req.getType(),
        name: req.getName(),
        urn,
        inputs: deserializeProperties(req.getObject()),
        parent: req.getParent(),
        custom: req.getCustom(),
        protect: req.getProtect() ?? false,
        retainOnDelete: req.getRetainondelete() ?? false,
        deleteBeforeReplace: req.getDeletebeforereplace(),
        dependencies: req.getDependenciesList(),
        ignoreChanges: req.getIgnorechangesList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    };
}

installMocks(false);

/** Forget what was recorded (call in `beforeEach`). */
export function resetRecorder(): void {
    registrations.length = 0;
}

/** Re-install the mocks, e.g. in preview mode. Clears the recorder. */
export function useMocks(opts: { preview?: boolean } = {}): void {
    resetRecorder();
    installMocks(opts.preview ?? false);
}

/** Every registration so far, in order. */
export function registered(): readonly Registration[] {
    return registrations;
}

/** Registrations of one type. */
export function ofType(type: string): Registration[] {
    return registrations.filter((r) => r.type === type);
}

/** The one registration with this type and name; throws listing what exists otherwise. */
export function one(type: string, name: string): Registration {
    const hits = registrations.filter((r) => r.type === type && r.name === name);
    if (hits.length !== 1) {
        const seen = registrations.map((r) => `${r.type} ${r.name}`).join("\n  ");
        throw new Error(`expected exactly one ${type} named ${name}, found ${hits.length}; registered:\n  ${seen}`);
    }
    return hits[0];
}

/** `type name` of every direct child of a resource, sorted. */
export function childrenOf(urn: string): string[] {
    return registrations
        .filter((r) => r.parent === urn)
        .map((r) => `${r.type} ${r.name}`)
        .sort();
}

/** True if a recorded input value was sent as a Pulumi secret. */
export function isSecretValue(v: unknown): boolean {
    return typeof v === "object" && v !== null && (v as any)[specialSigKey] === specialSecretSig;
}

/** Where a plaintext value appears in recorded inputs outside a Pulumi secret (empty: nowhere). */
export function plaintextLeaks(value: string): string[] {
    const leaks: string[] = [];
    const walk = (v: any, where: string) => {
        if (isSecretValue(v)) return;
        if (typeof v === "string" && v.includes(value)) leaks.push(where);
        else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`);
    };
    for (const r of registrations) walk(r.inputs, `${r.type} ${r.name}`);
    return leaks;
}

/** Unwrap recorded secret values (recursively) so their content can be compared. */
export function reveal(v: any): any {
    if (isSecretValue(v)) return reveal(v.value);
    if (Array.isArray(v)) return v.map(reveal);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
    return v;
}

/** Resolve an Output in a test (mocks resolve synchronously-ish; never use `done` inside `apply`). */
export function valueOf<T>(o: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v as T)));
}

/** Resolve an Output together with its secrecy. */
export async function secretnessOf<T>(o: pulumi.Output<T>): Promise<{ value: T; secret: boolean }> {
    return { value: await valueOf(o), secret: await pulumi.isSecret(o) };
}

/** Wait for every registration in flight to reach the mock monitor. */
export async function settle(): Promise<void> {
    await (settings as any).waitForRPCs();
}

/**
 * Config for a program under test: keys without a namespace get the project's.
 * Secret keys are listed by their short name.
 */
export function setConfig(values: Record<string, unknown>, secretKeys: string[] = []): void {
    const full = (k: string) => (k.includes(":") ? k : `${PROJECT}:${k}`);
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) all[full(k)] = typeof v === "string" ? v : JSON.stringify(v);
    pulumi.runtime.setAllConfig(all, secretKeys.map(full));
}

/** Capture the engine's error for a resource constructor call that must be rejected. */
export function errorOf(fn: () => unknown): string {
    try {
        fn();
    } catch (e) {
        return (e as Error).message;
    }
    throw new Error("expected an error, but none was thrown");
}
