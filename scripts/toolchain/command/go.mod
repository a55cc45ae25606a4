// Wrapper that pins the Pulumi command provider 1.2.1 (see scripts/lib/pulumi-toolchain.sh).
//
// The provider module has no release tags of its own (upstream tags only the repository root, v1.2.1,
// and the Go SDK, sdk/v1.2.1), so it is required at the pseudo-version of the commit tagged v1.2.1:
// 7f3eb6f3b77cd0fa3895ba437a695dd393f7dd25, committed 2026-03-03T23:59:22Z. Its go.mod has no
// replace directives.
//
// There is no go.sum: the Go module proxy reachable from these machines refuses this module
// ("403 This module version is not available"), so it could not be resolved here. The set-up builds a
// temporary copy of this directory with -mod=mod, so Go resolves and checks the dependencies against
// the checksum database on a machine whose proxy does serve it, and this directory is never changed.
module dockyard.local/toolchain/command

go 1.25.0

require github.com/pulumi/pulumi-command/provider v0.0.0-20260303235922-7f3eb6f3b77c
