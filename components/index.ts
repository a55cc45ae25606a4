// Dockyard's component library: import from "dockyard/components" (or this folder) and compose.
export * from "./config";
export * from "./container";
export * from "./image";
export * from "./network";
export * from "./registry";
export * from "./secret";
export * from "./service";
export * from "./volume";
export { MANAGED_LABEL, COMPONENT_LABEL } from "./internal";
