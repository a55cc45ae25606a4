# Sourced, not run: puts the Pulumi CLI and Node.js language host that scripts/lib/pulumi-toolchain.sh
# built on PATH, when it built them. Prints nothing. Keep the version in step with that script.
# The command provider's cache dir stays off PATH on purpose: the CLI would use a `pulumi-resource-*`
# found on PATH for every version and warn about it; the provider is installed as a plugin instead.
DOCKYARD_CACHE="${DOCKYARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockyard}"
export DOCKYARD_CACHE
_dockyard_bin="$DOCKYARD_CACHE/pulumi-v3.248.0/bin"
case ":$PATH:" in
  *":$_dockyard_bin:"*) ;;
  *) if [ -d "$_dockyard_bin" ]; then PATH="$_dockyard_bin:$PATH"; fi ;;
esac
unset _dockyard_bin
export PATH
