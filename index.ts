// The Dockyard program: one environment per stack, described in stacks/Pulumi.<stack>.yaml.
// Validation (config/parse.ts) checks everything before the mapping (config/map.ts) creates any
// component; the components come from the library's public entry, as in any other project.
import * as pulumi from "@pulumi/pulumi";
import { components, effectiveService, loadEnvironment, mapEnvironment, shortHashOf } from "./config";

const { env, pins, secret } = loadEnvironment(__dirname);
const built = mapEnvironment(env, { projectDir: __dirname, pins, secret }, components);

const refOf = (image: (typeof built.images)[string]) => (typeof image === "string" ? pulumi.output(image) : image.imageRef);

export const environment = pulumi.getStack();
export const production = env.production;
export const serviceEndpoints = Object.fromEntries(Object.entries(built.services).map(([k, s]) => [k, s.endpoints]));
export const networkNames = Object.fromEntries(Object.entries(built.networks).map(([k, n]) => [k, n.networkName]));
export const volumeNames = Object.fromEntries(Object.entries(built.volumes).map(([k, v]) => [k, v.volumeName]));
export const registryServer = built.registry?.server;
/** The reference each image of this environment deploys (what a rollback pins). */
export const imageRefs = Object.fromEntries(Object.entries(built.images).map(([k, i]) => [k, refOf(i)]));
/** Images pinned by a rollback, if any. */
export const pinnedImages = pins;
/** What each service runs, and a hash of its settings: the rollback tooling restores releases from this. */
export const releaseManifest = pulumi.output(Object.fromEntries(Object.entries(built.services).map(([name, s]) => [
    name,
    s.imageRef.apply((image) => ({ image, specHash: shortHashOf({ ...effectiveService(env, name), image }) })),
])));
