// Dockyard's policy pack for Docker workloads (CrossGuard). Run by `review` and `deploy` with the
// pack config of the stack (ops/policy.ts), or by hand:
//   pulumi preview --policy-pack policy --policy-pack-config .dockyard/policy/<stack>.json
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("dockyard-docker", { policies, enforcementLevel: "advisory" });
