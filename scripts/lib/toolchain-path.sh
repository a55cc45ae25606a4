# Sourced, not run: puts the Pulumi toolchain that setup built on PATH (when there is one).
DOCKYARD_CACHE="${DOCKYARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockyard}"
export DOCKYARD_CACHE
for _dir in "$DOCKYARD_CACHE/pulumi-v3.248.0/bin"; do
  case ":$PATH:" in *":$_dir:"*) ;; *) [ -d "$_dir" ] && PATH="$_dir:$PATH" ;; esac
done
unset _dir
export PATH
