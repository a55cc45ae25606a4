export * from "./load";
export * from "./map";
export * from "./parse";
export * from "./schema";
export * from "./sources";
