import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { DOCKER_NAME_HINT, Problems, childName, enumValues, isDockerName, known, labelList } from "./internal";

/** What happens to a volume's data when the volume leaves the stack. */
export enum VolumeDeletion {
    /** Pulumi forgets the volume but Docker keeps it and its data (`retainOnDelete`). */
    Retain = "retain",
    /** Pulumi refuses to delete or replace the volume until it is unprotected (`protect`); Docker keeps it too. */
    Protect = "protect",
    /** The Docker volume and its data are removed with the stack. Opt-in only. */
    Delete = "delete",
}

export interface VolumeArgs {
    /**
     * Docker volume name.
     * @default the component's name
     */
    readonly volumeName?: string;
    /**
     * Volume driver.
     * @default "local"
     */
    readonly driver?: pulumi.Input<string>;
    /**
     * Driver options (e.g. `{ type: "nfs", o: "addr=10.0.0.1", device: ":/export" }` for `local`).
     * @default none
     */
    readonly driverOptions?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Extra labels; Dockyard's ownership labels are always added.
     * @default none
     */
    readonly labels?: Readonly<Record<string, string>>;
    /**
     * What happens to the data when the volume is removed from the stack or the stack is destroyed.
     * @default VolumeDeletion.Retain - the data survives `pulumi destroy`
     */
    readonly deletion?: VolumeDeletion;
}

/**
 * A named Docker volume for stateful services. Its data survives updates, rollbacks and, unless
 * `deletion: VolumeDeletion.Delete` is chosen, the destruction of the stack.
 */
export class Volume extends pulumi.ComponentResource {
    /** The Docker volume name services mount. */
    public readonly volumeName: pulumi.Output<string>;
    /** The underlying provider resource. */
    public readonly volume: docker.Volume;

    constructor(name: string, args: VolumeArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:volume:Volume", name, {}, opts);
        const deletion = args.deletion ?? VolumeDeletion.Retain;
        const volumeName = args.volumeName ?? name;

        const problems = new Problems("Volume", name);
        problems.check(isDockerName(volumeName), "volumeName", volumeName, DOCKER_NAME_HINT);
        problems.check(
            Object.values(VolumeDeletion).includes(deletion),
            "deletion",
            deletion,
            `one of ${enumValues(VolumeDeletion)}`,
        );
        if (known(args.driver)) problems.check(args.driver.length > 0, "driver", args.driver, "a volume driver name");
        problems.throwIfAny(this);

        this.volume = new docker.Volume(
            childName(name, "volume"),
            {
                name: volumeName,
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
        this.registerOutputs({ volumeName: this.volumeName, volume: this.volume });
    }
}
