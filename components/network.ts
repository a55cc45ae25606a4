import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { DOCKER_NAME_HINT, Problems, childName, enumValues, isDockerName, labelList } from "./internal";

export enum NetworkDriver {
    /** A network on one host; for plain containers. */
    Bridge = "bridge",
    /** A Swarm-wide network spanning every node; for services. */
    Overlay = "overlay",
}

export interface NetworkArgs {
    /**
     * Docker network name.
     * @default the component's name
     */
    readonly networkName?: string;
    /**
     * Network driver.
     * @default NetworkDriver.Overlay - services on any Swarm node can join it
     */
    readonly driver?: NetworkDriver;
    /**
     * Whether plain containers (not only services) may attach. Only meaningful for overlay networks.
     * @default true for overlay networks
     */
    readonly attachable?: boolean;
    /**
     * Cut the network off from the outside world (no default route).
     * @default false
     */
    readonly internal?: boolean;
    /**
     * IPv4 subnet in CIDR notation, e.g. `"10.20.0.0/24"`.
     * @default chosen by Docker
     */
    readonly subnet?: string;
    /**
     * Gateway inside `subnet`.
     * @default chosen by Docker
     */
    readonly gateway?: string;
    /**
     * Encrypt overlay traffic between nodes (IPsec).
     * @default false
     */
    readonly encrypted?: boolean;
    /**
     * Extra labels; Dockyard's ownership labels are always added.
     * @default none
     */
    readonly labels?: Readonly<Record<string, string>>;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const IP = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
function octetsOk(m: RegExpExecArray | null, count: number): boolean {
    return !!m && m.slice(1, 1 + count).every((o) => Number(o) <= 255);
}

/** A Docker network. Most arguments cannot change in place: changing them replaces the network. */
export class Network extends pulumi.ComponentResource {
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
        const driver = args.driver ?? NetworkDriver.Overlay;
        const networkName = args.networkName ?? name;

        const problems = new Problems("Network", name);
        problems.check(isDockerName(networkName), "networkName", networkName, DOCKER_NAME_HINT);
        problems.check(Object.values(NetworkDriver).includes(driver), "driver", driver, `one of ${enumValues(NetworkDriver)}`);
        if (args.subnet !== undefined) {
            const m = CIDR.exec(args.subnet);
            problems.check(octetsOk(m, 4) && Number(m![5]) <= 32, "subnet", args.subnet, 'an IPv4 CIDR such as "10.20.0.0/24"');
        }
        if (args.gateway !== undefined) {
            problems.check(octetsOk(IP.exec(args.gateway), 4), "gateway", args.gateway, 'an IPv4 address such as "10.20.0.1"');
            if (args.subnet === undefined) problems.conflict(`gateway: ${JSON.stringify(args.gateway)} needs a subnet to live in; set subnet too`);
        }
        if (args.attachable !== undefined && driver !== NetworkDriver.Overlay) {
            problems.conflict(`attachable: only overlay networks take it, but driver is ${JSON.stringify(driver)}`);
        }
        if (args.encrypted && driver !== NetworkDriver.Overlay) {
            problems.conflict(`encrypted: only overlay networks can be encrypted, but driver is ${JSON.stringify(driver)}`);
        }
        problems.throwIfAny(this);

        const overlay = driver === NetworkDriver.Overlay;
        this.driver = driver;
        this.attachable = overlay ? (args.attachable ?? true) : true;
        this.network = new docker.Network(
            childName(name, "network"),
            {
                name: networkName,
                driver,
                attachable: overlay ? this.attachable : undefined,
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
