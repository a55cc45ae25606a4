/**
 * How many resource operations `pulumi up` runs at once in Dockyard's deploys and rollbacks (and
 * the bench). Pulumi's default is 4 per core, 8 on 2 cores; but each Service holds a slot twice, for
 * the provider's create (which sleeps 2 s in its read-back) and for its convergence wait (the update
 * monitor, or Swarm's rollout), both mostly idle, so 8 slots left a 50-service deploy waiting in
 * waves. Deploying 50 services on 2 cores, one run each (bench/RESULTS.md): with one convergence
 * poll per service, 8 → 37.1 s and 64 → 26.4 s; with the shared poll, 32 → 18.5 s and 64 → 16.8 s.
 * The engine took 64 concurrent creates without errors.
 */
export const DEPLOY_PARALLELISM = 64;
