/** How many resource operations `pulumi up` runs at once in Dockyard's own deploys (and the bench). */
export const DEPLOY_PARALLELISM = 8;
