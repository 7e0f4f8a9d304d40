#!/usr/bin/env bash
# Builds Argo Rollouts' controller (rollouts-controller) from its Go module into the same cache as
# build.sh's binaries, keyed by version, for the Argo Rollouts cluster test. Not part of build.sh's
# default (cold) build: that one has a 10-minute budget, and only one test file needs this.
# A cached binary is reused, so a warm run takes well under a second. Prints the binary's path.
# A cold build took about 5 minutes on the 2-core development machine (docs/argo-rollouts.md).
# `crds` prints the folder of the module's CRD manifests instead (fetching the module if needed).
# Usage: scripts/cluster/build-argo-rollouts.sh [crds]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
version="$ARGO_ROLLOUTS_VERSION"
cache="${ROTATOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secret-rotation-orchestrator}"
out="$cache/bin/argo-rollouts-$version"
binary="$out/rollouts-controller"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod

log() { printf '[argo-rollouts-build] %s\n' "$*" >&2; }
module_dir() {
  GOFLAGS= go mod download -json "github.com/argoproj/argo-rollouts@$version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'
}

if [[ "${1:-}" == crds ]]; then
  echo "$(module_dir)/manifests/crds"
  exit 0
fi

if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi

started=$(date +%s)
work="$cache/build/argo-rollouts-$version"
mkdir -p "$cache/build/logs"
build_log="$cache/build/logs/argo-rollouts.log"
log "building rollouts-controller $version from its Go module (log in $build_log)"
# A writable copy of the module, so its own go.mod, go.sum and replace lines apply.
rm -rf "$work" && mkdir -p "$(dirname "$work")"
cp -r "$(module_dir)" "$work"
chmod -R u+w "$work"
mkdir -p "$out.partial"
if ! (cd "$work" && nice -n 10 go build -trimpath -ldflags "-s -w" \
  -o "$out.partial/rollouts-controller" ./cmd/rollouts-controller) >"$build_log" 2>&1; then
  log "build failed; the last lines of $build_log:"
  tail -n 25 "$build_log" >&2
  rm -rf "$out.partial"
  exit 1
fi
rm -rf "$out" && mv "$out.partial" "$out"
rm -rf "$work"
log "built in $(($(date +%s) - started)) s: $binary"
echo "$binary"
