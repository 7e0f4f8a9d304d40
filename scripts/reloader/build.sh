#!/usr/bin/env bash
# Builds stakater/Reloader from a source tree you supply (a clone of the public repository at a
# release tag), for bench/reloader.ts. Reloader's source never enters this repository: the tree is
# copied into a work folder in the cache and built there, so the clone stays untouched.
#
# Same toolchain and settings as scripts/cluster/build.sh: the machine's Go (GOTOOLCHAIN=local; at
# least the tag's go.mod version, 1.26.4 for v1.4.21), CGO off, modules from the Go module proxy
# into Go's own module cache.
# One deviation from the tag's go.mod, printed when applied: github.com/openshift/api is pinned
# to a pseudo-version the module proxy does not serve (v1.4.21 pins v0.0.0-20260402111718-…), so it
# is replaced by the one its master branch resolved to on 2026-11-30 (OPENSHIFT_API below). Only
# OpenShift DeploymentConfig support uses it; bench/reloader.ts runs Reloader on plain Kubernetes.
#
# Output: ROTATOR_CACHE_DIR/bin/reloader-<version>/reloader (version from the tree's VERSION file),
# and its path on stdout; progress on stderr. A binary already there is reused (--force rebuilds).
# RELOADER_COMMIT names the commit when SOURCE_DIR is not a git clone (e.g. an exported archive).
# Usage: scripts/reloader/build.sh [--force] SOURCE_DIR
set -euo pipefail

OPENSHIFT_API="github.com/openshift/api@v0.0.0-20260420151639-34e60874783e"

force=0
if [[ "${1:-}" == "--force" ]]; then force=1; shift; fi
source_dir="${1:?usage: scripts/reloader/build.sh [--force] SOURCE_DIR (a clone of stakater/Reloader at a tag)}"
[[ -f "$source_dir/go.mod" && -f "$source_dir/main.go" ]] ||
  { echo "[reloader-build] $source_dir is not a Reloader source tree (no go.mod and main.go)" >&2; exit 2; }
grep -q '^module github.com/stakater/Reloader$' "$source_dir/go.mod" ||
  { echo "[reloader-build] $source_dir/go.mod is not module github.com/stakater/Reloader" >&2; exit 2; }

cache="${ROTATOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secret-rotation-orchestrator}"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
log() { printf '[reloader-build] %s\n' "$*" >&2; }

version="$(tr -d '[:space:]' <"$source_dir/VERSION" 2>/dev/null || true)"
[[ -n "$version" ]] || { log "no VERSION file in $source_dir"; exit 2; }
commit="${RELOADER_COMMIT:-$(git -C "$source_dir" rev-parse HEAD 2>/dev/null || echo unknown)}"
out="$cache/bin/reloader-$version"
if [[ $force -eq 0 && -x "$out/reloader" ]]; then
  echo "$out/reloader"
  exit 0
fi

work="$cache/build/reloader-$version"
log "building Reloader $version (commit $commit) with $(go version | cut -d' ' -f3) in $work"
rm -rf "$work" && mkdir -p "$(dirname "$work")"
cp -r "$source_dir" "$work"
rm -rf "$work/.git"
chmod -R u+w "$work"
cd "$work"
pinned="$(grep -m1 -oE 'github.com/openshift/api v[^ ]+' go.mod | cut -d' ' -f2 || true)"
if [[ -n "$pinned" ]] && ! GOFLAGS= go mod download "github.com/openshift/api@$pinned" 2>/dev/null; then
  log "github.com/openshift/api $pinned is not served by the module proxy: replace => $OPENSHIFT_API"
  go mod edit -replace "github.com/openshift/api=$OPENSHIFT_API"
fi
ldflags="-s -w -X github.com/stakater/Reloader/pkg/common.Version=$version"
ldflags+=" -X github.com/stakater/Reloader/pkg/common.Commit=$commit"
ldflags+=" -X github.com/stakater/Reloader/pkg/common.Edition=oss"
mkdir -p "$out.partial"
go build -trimpath -ldflags "$ldflags" -o "$out.partial/reloader" .
rm -rf "$out" && mv "$out.partial" "$out"
log "built in ${SECONDS}s"
echo "$out/reloader"
