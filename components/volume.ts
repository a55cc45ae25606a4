import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { DockerName, Labels, Problems, brand, childName, hasBrand, knownPart, labelList, oneOf, rejectIfAny } from "./internal";

/** What happens to a volume's data when the volume leaves the stack. */
export enum VolumeDeletion {
    /** Pulumi forgets the volume but Docker keeps it and its data (`retainOnDelete`). */
    Retain = "retain",
    /** Pulumi refuses to delete or replace the volume until it is unprotected (`protect`); Docker keeps it too. */
    Protect = "protect",
    /** The Docker volume and its data are removed with the stack. Opt-in only. */
    Delete = "delete",
}

/** A volume's settings (everything but its name), as the stack file and `VolumeArgs` take them. */
export const VolumeSettingsSchema = z.strictObject({
    /**
     * Volume driver.
     * @default "local"
     */
    driver: z.string().min(1, { error: "expected a volume driver name" }).optional(),
    /**
     * Driver options (e.g. `{ type: "nfs", o: "addr=10.0.0.1", device: ":/export" }` for `local`).
     * @default none
     */
    driverOptions: z.record(z.string(), z.string({ error: "expected a string option value" })).optional(),
    /**
     * Extra labels; Dockyard's ownership labels are always added.
     * @default none
     */
    labels: Labels.optional(),
    /**
     * What happens to the data when the volume is removed from the stack or the stack is destroyed.
     * @default VolumeDeletion.Retain - the data survives `pulumi destroy`
     */
    deletion: oneOf(VolumeDeletion).optional(),
});
export type VolumeSettings = z.input<typeof VolumeSettingsSchema>;

export interface VolumeArgs extends Omit<VolumeSettings, "driver" | "driverOptions"> {
    /**
     * Docker volume name.
     * @default the component's name
     */
    readonly volumeName?: string;
    /** @default "local" */
    readonly driver?: pulumi.Input<string>;
    /** @default none */
    readonly driverOptions?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** `local` driver filesystem types that reach the same data from every node. */
const NETWORK_FILESYSTEMS = ["nfs", "nfs4", "cifs", "smb", "smb3"];

/**
 * Whether a volume keeps its data on one node: the `local` driver, unless it mounts a network
 * filesystem (`driverOptions.type` nfs, nfs4, cifs or smb, or an `addr=` option). Binds, block
 * devices and tmpfs are node-local. A driver or options known only at deployment time count as
 * node-local, the safe guess: a wrong pin costs placement freedom, a missing one costs data.
 */
export function isNodeLocal(args: Pick<VolumeArgs, "driver" | "driverOptions">): boolean {
    if (typeof args.driver === "string" && args.driver !== "local") return false;
    const options = args.driverOptions;
    if (!options || pulumi.Output.isInstance(options)) return true;
    const { type, o } = options as Record<string, unknown>;
    return !((typeof type === "string" && NETWORK_FILESYSTEMS.includes(type.toLowerCase())) || (typeof o === "string" && /(^|,)addr=/.test(o)));
}

/**
 * A named Docker volume for stateful services. Its data survives updates, rollbacks and, unless
 * `deletion: VolumeDeletion.Delete` is chosen, the destruction of the stack.
 *
 * A node-local volume (see `isNodeLocal`) lives on the engine Dockyard deploys through; every
 * Service that mounts it is pinned to that Swarm node (`node.id==...`), so a task never starts on
 * another node with an empty volume of the same name. A service with placement constraints of its
 * own is not pinned: it is placed where its constraints say, and Swarm makes the volume there.
 */
export class Volume extends pulumi.ComponentResource {
    /** True for a Volume of any copy of this library. */
    static isInstance(v: unknown): v is Volume {
        return hasBrand(v, "Volume");
    }

    /** Every problem with these arguments (empty when they are valid); the constructor throws them. */
    static check(name: string, args: VolumeArgs = {}): readonly string[] {
        const p = new Problems("Volume", name);
        const { volumeName, ...settings } = args;
        p.schema(z.strictObject({ volumeName: DockerName }), { volumeName: volumeName ?? name });
        p.schema(VolumeSettingsSchema.partial(), knownPart(settings));
        return p.list;
    }

    /** The Docker volume name services mount. */
    public readonly volumeName: pulumi.Output<string>;
    /** The underlying provider resource. */
    public readonly volume: docker.Volume;
    /**
     * For a node-local volume, the Swarm node id of the engine holding its data ("" on an engine
     * outside Swarm), looked up by the child `<name>-node` when the volume is created.
     */
    public readonly node?: pulumi.Output<string>;

    constructor(name: string, args: VolumeArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:volume:Volume", name, {}, opts);
        brand(this, "Volume");
        rejectIfAny(this, "Volume", name, Volume.check(name, args));
        const deletion = args.deletion ?? VolumeDeletion.Retain;

        this.volume = new docker.Volume(
            childName(name, "volume"),
            {
                name: args.volumeName ?? name,
                driver: args.driver ?? "local",
                driverOpts: args.driverOptions,
                labels: labelList(name, args.labels),
            },
            {
                parent: this,
                protect: deletion === VolumeDeletion.Protect,
                retainOnDelete: deletion !== VolumeDeletion.Delete,
            },
        );
        this.volumeName = this.volume.name;
        if (isNodeLocal(args)) {
            const lookup = new command.local.Command(
                childName(name, "node"),
                { create: 'docker info --format "{{.Swarm.NodeID}}"', triggers: [this.volume.id] },
                { parent: this, dependsOn: [this.volume] },
            );
            this.node = lookup.stdout.apply((id) => (id ?? "").trim());
        }
        this.registerOutputs({ volumeName: this.volumeName, volume: this.volume, node: this.node });
    }
}
