#!/usr/bin/env bash
# Builds the local test cluster's binaries from Go modules (no Docker, no binary downloads) into
# a cache outside the clone, keyed by version: kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd, kwok and the External Secrets Operator. Cached binaries are reused, so a
# warm run takes a second. Usage: scripts/cluster/build.sh [component…]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${ROTATOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secret-rotation-orchestrator}"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod

log() { printf '[cluster-build] %s\n' "$*" >&2; }

# wrapper_module DIR MODULE_NAME: a scratch module in the cache to build other modules' commands.
wrapper_module() {
  mkdir -p "$1"
  printf 'module %s\n\ngo 1.24.0\n' "$2" >"$1/go.mod"
}

# timed NAME COMMAND…: runs a build step and reports how long it took.
timed() {
  local name=$1 started=$SECONDS
  shift
  log "building $name"
  nice -n 10 "$@"
  log "built $name in $((SECONDS - started))s"
}

build_kubernetes() {
  local out="$cache/bin/kubernetes-$KUBERNETES_VERSION" work="$cache/build/kubernetes-$KUBERNETES_VERSION"
  local commands=(kube-apiserver kube-controller-manager kube-scheduler kubectl) missing=() command
  for command in "${commands[@]}"; do [[ -x "$out/$command" ]] || missing+=("k8s.io/kubernetes/cmd/$command"); done
  if [[ ${#missing[@]} -eq 0 ]]; then return; fi
  local minor="${KUBERNETES_VERSION#v1.}" staging
  staging="v0.$minor"
  minor="${minor%%.*}"
  wrapper_module "$work" local/kubernetes-build
  {
    printf '\ngodebug default=go1.24\n\nrequire k8s.io/kubernetes %s\n\n' "$KUBERNETES_VERSION"
    for module in $KUBERNETES_STAGING; do printf 'replace k8s.io/%s => k8s.io/%s %s\n' "$module" "$module" "$staging"; done
  } >>"$work/go.mod"
  cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  (
    cd "$work"
    go mod tidy >&2
    mkdir -p "$out.partial"
    timed "kubernetes $KUBERNETES_VERSION (${missing[*]##*/})" go build -trimpath -ldflags "$ldflags" \
      -o "$out.partial/" "${missing[@]}"
  )
  mkdir -p "$out" && mv "$out.partial"/* "$out/" && rmdir "$out.partial"
}

build_etcd() {
  local out="$cache/bin/etcd-$ETCD_VERSION"
  if [[ -x "$out/etcd" ]]; then return; fi
  local work="$cache/build/etcd-$ETCD_VERSION"
  wrapper_module "$work" local/etcd-build
  (
    cd "$work"
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
    mkdir -p "$out.partial"
    timed "etcd $ETCD_VERSION" go build -trimpath -ldflags "-s -w" -o "$out.partial/etcd" go.etcd.io/etcd/server/v3
  )
  rm -rf "$out" && mv "$out.partial" "$out"
}

build_kwok() {
  local out="$cache/bin/kwok-$KWOK_VERSION"
  if [[ -x "$out/kwok" ]]; then return; fi
  mkdir -p "$out.partial"
  timed "kwok $KWOK_VERSION" env GOBIN="$out.partial" go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  rm -rf "$out" && mv "$out.partial" "$out"
}

build_eso() {
  local out="$cache/bin/external-secrets-$ESO_VERSION"
  if [[ -x "$out/external-secrets" ]]; then return; fi
  local work="$cache/build/external-secrets-$ESO_VERSION"
  # Build inside a copy of ESO's own module: its go.mod, go.sum and replace lines (a sprig fork)
  # apply, and only build dependencies are fetched (a wrapper module's `go mod tidy` would also
  # verify test-only ones, some of which the checksum database here does not serve).
  rm -rf "$work"
  mkdir -p "$(dirname "$work")"
  cp -r "$(GOFLAGS= go mod download -json "github.com/external-secrets/external-secrets@$ESO_VERSION" |
    sed -n 's/.*"Dir": "\(.*\)".*/\1/p')" "$work"
  chmod -R u+w "$work"
  (
    cd "$work"
    mkdir -p "$out.partial"
    timed "external-secrets $ESO_VERSION" env GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" \
      -o "$out.partial/external-secrets" .
  )
  rm -rf "$out" && mv "$out.partial" "$out"
}

components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(etcd kwok kubernetes eso)
for component in "${components[@]}"; do "build_$component"; done
log "binaries in $cache/bin"
