// The one rule for what exposes the Docker socket, used by the library's validation, the Compose
// import and the policy pack: every spelling of the socket's path and every directory holding it.
import * as assert from "assert";
import { dockerSocketIn } from "../../../components/socket";

describe("dockerSocketIn", () => {
    const rows: Array<[string, string | undefined]> = [
        ["/var/run/docker.sock", "is the Docker socket"],
        ["/run/docker.sock", "is the Docker socket"],
        ["//var/run/docker.sock", "is the Docker socket"],
        ["/var/run//docker.sock", "is the Docker socket"],
        ["/var/run/docker.sock/", "is the Docker socket"],
        ["/var/lib/../run/./docker.sock", "is the Docker socket"],
        ["/var/run", "holds the Docker socket (/var/run/docker.sock)"],
        ["/var/run/", "holds the Docker socket (/var/run/docker.sock)"],
        ["/run", "holds the Docker socket (/run/docker.sock)"],
        ["/var", "holds the Docker socket (/var/run/docker.sock)"],
        ["/", "holds the Docker socket (/var/run/docker.sock)"],
        ["//", "holds the Docker socket (/var/run/docker.sock)"],
        ["/var/run/docker.sock.d", undefined],
        ["/var/run/docker", undefined],
        ["/run/user/1000/docker.sock", undefined],
        ["/srv/var/run/docker.sock", undefined],
        ["/var/lib/docker", undefined],
        ["/variable", undefined],
        ["data", undefined],
        ["", undefined],
    ];
    for (const [hostPath, expected] of rows) {
        it(`${JSON.stringify(hostPath)}: ${expected ?? "no socket"}`, () => assert.strictEqual(dockerSocketIn(hostPath), expected));
    }
});
