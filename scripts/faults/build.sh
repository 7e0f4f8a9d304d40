#!/usr/bin/env bash
# Builds toxiproxy-server (Go module github.com/Shopify/toxiproxy/v2) for the fault-injection tier
# (test/faults), beside the local cluster's binaries in the cache outside the clone, keyed by
# version. Same toolchain and settings as scripts/cluster/build.sh: the machine's Go
# (GOTOOLCHAIN=local), CGO off, modules from the Go module proxy into Go's own module cache.
# A cached binary is reused (a warm run takes well under a second); a cold build prints its time.
#
# Output: ROTATOR_CACHE_DIR/bin/toxiproxy-<version>/toxiproxy-server, and its path on stdout;
# progress on stderr.
# Usage: scripts/faults/build.sh [--force]
set -euo pipefail

TOXIPROXY_VERSION="${TOXIPROXY_VERSION:-v2.5.0}"

force=0
if [[ "${1:-}" == "--force" ]]; then force=1; fi
cache="${ROTATOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secret-rotation-orchestrator}"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
log() { printf '[faults-build] %s\n' "$*" >&2; }

out="$cache/bin/toxiproxy-$TOXIPROXY_VERSION"
if [[ $force -eq 0 && -x "$out/toxiproxy-server" ]]; then
  echo "$out/toxiproxy-server"
  exit 0
fi

started=$SECONDS
log "building toxiproxy $TOXIPROXY_VERSION with $(go version | cut -d' ' -f3) into $out"
# `go install module/cmd@version` builds the module at that version in module mode, with its own
# go.mod and go.sum, into GOBIN; nothing is written to the clone.
rm -rf "$out.partial" && mkdir -p "$out.partial"
GOBIN="$out.partial" GOFLAGS= go install -trimpath -ldflags "-s -w -X github.com/Shopify/toxiproxy/v2.Version=$TOXIPROXY_VERSION" \
  "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION"
mv "$out.partial/server" "$out.partial/toxiproxy-server"
rm -rf "$out" && mv "$out.partial" "$out"
log "toxiproxy $TOXIPROXY_VERSION built in $((SECONDS - started)) s (cold build: modules fetched and compiled)"
echo "$out/toxiproxy-server"
