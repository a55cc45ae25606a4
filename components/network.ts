import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { DockerName, Labels, Problems, brand, childName, hasBrand, labelList, oneOf, rejectIfAny } from "./internal";

export enum NetworkDriver {
    /** A network on one host; for plain containers. */
    Bridge = "bridge",
    /** A Swarm-wide network spanning every node; for services. */
    Overlay = "overlay",
}

const CIDR_HINT = 'an IPv4 CIDR such as "10.20.0.0/24"';
const IP_HINT = 'an IPv4 address such as "10.20.0.1"';
const octets = (s: string, n: number) => s.split(".").length === 4 && s.split(".").slice(0, n).every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255);

/** A network's settings (everything but its name), as the stack file and `NetworkArgs` take them. */
export const NetworkSettingsSchema = z.strictObject({
    /**
     * Network driver.
     * @default NetworkDriver.Overlay - services on any Swarm node can join it
     */
    driver: oneOf(NetworkDriver).optional(),
    /**
     * Whether plain containers (not only services) may attach. Only meaningful for overlay networks.
     * @default true for overlay networks
     */
    attachable: z.boolean().optional(),
    /**
     * Cut the network off from the outside world (no default route).
     * @default false
     */
    internal: z.boolean().optional(),
    /**
     * IPv4 subnet in CIDR notation, e.g. `"10.20.0.0/24"`.
     * @default chosen by Docker
     */
    subnet: z.string().refine((s) => /^[\d.]+\/\d{1,2}$/.test(s) && octets(s.split("/")[0], 4) && Number(s.split("/")[1]) <= 32, { error: `expected ${CIDR_HINT}` }).optional(),
    /**
     * Gateway inside `subnet`.
     * @default chosen by Docker
     */
    gateway: z.string().refine((s) => /^[\d.]+$/.test(s) && octets(s, 4), { error: `expected ${IP_HINT}` }).optional(),
    /**
     * Encrypt overlay traffic between nodes (IPsec).
     * @default false
     */
    encrypted: z.boolean().optional(),
    /**
     * Extra labels; Dockyard's ownership labels are always added.
     * @default none
     */
    labels: Labels.optional(),
});
export type NetworkSettings = z.input<typeof NetworkSettingsSchema>;

/** Rules between a network's settings. */
function networkConflicts(s: NetworkSettings): string[] {
    const driver = s.driver ?? NetworkDriver.Overlay;
    const out: string[] = [];
    if (s.gateway !== undefined && s.subnet === undefined) out.push(`gateway: ${JSON.stringify(s.gateway)} needs a subnet to live in; set subnet too`);
    if (s.attachable !== undefined && driver !== NetworkDriver.Overlay) out.push(`attachable: only overlay networks take it, but driver is ${JSON.stringify(driver)}`);
    if (s.encrypted && driver !== NetworkDriver.Overlay) out.push(`encrypted: only overlay networks can be encrypted, but driver is ${JSON.stringify(driver)}`);
    return out;
}

export interface NetworkArgs extends NetworkSettings {
    /**
     * Docker network name.
     * @default the component's name
     */
    readonly networkName?: string;
}

/** A Docker network. Most arguments cannot change in place: changing them replaces the network. */
export class Network extends pulumi.ComponentResource {
    /** True for a Network of any copy of this library. */
    static isInstance(v: unknown): v is Network {
        return hasBrand(v, "Network");
    }

    /** Every problem with these arguments (empty when they are valid); the constructor throws them. */
    static check(name: string, args: NetworkArgs = {}): readonly string[] {
        const p = new Problems("Network", name);
        const { networkName, ...settings } = args;
        p.schema(z.strictObject({ networkName: DockerName }), { networkName: networkName ?? name });
        p.schema(NetworkSettingsSchema, settings);
        networkConflicts(settings).forEach((c) => p.conflict(c));
        return p.list;
    }

    /** What a network made from these arguments is: its driver, and whether plain containers may join. */
    static traits(args: NetworkArgs = {}): { readonly driver: NetworkDriver; readonly attachable: boolean } {
        const driver = args.driver ?? NetworkDriver.Overlay;
        return { driver, attachable: driver === NetworkDriver.Overlay ? (args.attachable ?? true) : true };
    }

    /** The Docker network name services and containers join. */
    public readonly networkName: pulumi.Output<string>;
    /** The network's Docker id. */
    public readonly networkId: pulumi.Output<string>;
    /** The driver, so services can check they are on a Swarm-wide network. */
    public readonly driver: NetworkDriver;
    /** Whether plain containers may join (always true for bridge networks). */
    public readonly attachable: boolean;
    public readonly network: docker.Network;

    constructor(name: string, args: NetworkArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:network:Network", name, {}, opts);
        brand(this, "Network");
        rejectIfAny(this, "Network", name, Network.check(name, args));

        const { driver, attachable } = Network.traits(args);
        const overlay = driver === NetworkDriver.Overlay;
        this.driver = driver;
        this.attachable = attachable;
        this.network = new docker.Network(
            childName(name, "network"),
            {
                name: args.networkName ?? name,
                driver,
                attachable: overlay ? attachable : undefined,
                internal: args.internal ?? false,
                ipamConfigs: args.subnet ? [{ subnet: args.subnet, gateway: args.gateway }] : undefined,
                options: args.encrypted ? { encrypted: "true" } : undefined,
                labels: labelList(name, args.labels),
            },
            { parent: this },
        );
        this.networkName = this.network.name;
        this.networkId = this.network.id;
        this.registerOutputs({ networkName: this.networkName, networkId: this.networkId });
    }
}
