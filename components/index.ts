// @dockyard/components: Pulumi components that deploy Docker workloads to Docker hosts and Swarm
// clusters. This is the package's whole public surface; everything else is internal.
export { Config, ConfigArgs } from "./config";
export { ROLLOUT_INTERRUPTED } from "./converge";
export { Container, ContainerArgs, ContainerPortMapping, ContainerPortMappingSchema, ContainerSettingsSchema, RestartPolicy } from "./container";
export { Image, ImageArgs, ImageSettings, ImageSettingsSchema } from "./image";
export { NODE_LABELS_KEY, NodeLabels, NodeLabelsArgs, NodeSettings, NodeSettingsSchema } from "./node";
export { Network, NetworkArgs, NetworkDriver, NetworkSettings, NetworkSettingsSchema } from "./network";
export {
    ExternalRegistryArgs,
    ExternalRegistrySettingsSchema,
    Registry,
    RegistryArgs,
    RegistryAuth,
    RegistryKind,
    SelfHostedRegistryArgs,
    SelfHostedRegistrySettingsSchema,
} from "./registry";
export { Secret, SecretArgs, SwarmObjectName } from "./secret";
export {
    ConfigMount,
    Constraint,
    EndpointMode,
    EnvSchema,
    FailureAction,
    HealthCheck,
    HealthCheckSchema,
    Mount,
    PortMapping,
    PortMappingSchema,
    Preference,
    PublishMode,
    Resources,
    ResourcesSchema,
    RestartCondition,
    RolloutPolicy,
    RolloutPolicySchema,
    SecretMount,
    Service,
    ServiceArgs,
    ServiceRestart,
    ServiceRestartSchema,
    ServiceSettingsShape,
    UpdateOrder,
    isOneShot,
    mountSchema,
    publishedPort,
} from "./service";
export { DOCKER_SOCKETS, dockerSocketIn } from "./socket";
export { Volume, VolumeArgs, VolumeDeletion, VolumeSettings, VolumeSettingsSchema, isNodeLocal } from "./volume";
export { ArgumentError, COMPONENT_LABEL, DockerName, Duration, FileMode, MANAGED_LABEL, NumericId, issueTexts, validate } from "./internal";
