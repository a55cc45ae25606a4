// Whether a bind mount gives a workload the Docker socket: the socket itself, however its path is
// spelled (`//var/run/docker.sock`, a trailing slash, `..`), or a directory that holds it (`/run`,
// `/var`, `/`). A read-only mount does not help: connecting to a socket is not a write to the
// file system. Dependency-free, so the policy pack uses the same rule as the library.
import * as path from "path";

/** Where Docker engines listen (`/var/run` is a link to `/run` on current distributions). */
export const DOCKER_SOCKETS = ["/var/run/docker.sock", "/run/docker.sock"] as const;

/**
 * What a bind mount of `hostPath` does with the Docker socket, in words ("is the Docker socket",
 * "holds the Docker socket (/run/docker.sock)"), or undefined when it exposes none.
 */
export function dockerSocketIn(hostPath: string): string | undefined {
    if (!hostPath.startsWith("/")) return undefined;
    const p = path.posix.normalize(hostPath).replace(/(.)\/+$/, "$1");
    const socket = DOCKER_SOCKETS.find((s) => s === p || s.startsWith(p === "/" ? "/" : `${p}/`));
    return socket === undefined ? undefined : socket === p ? "is the Docker socket" : `holds the Docker socket (${socket})`;
}
