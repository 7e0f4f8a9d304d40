#!/usr/bin/env bash
# Builds the local test cluster's binaries from Go modules (no Docker, no binary downloads) into a
# cache outside the clone, keyed by version: kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, etcd, kwok and the External Secrets Operator (AWS provider only).
# Cached binaries are reused, so a warm run takes well under a second.
#
# A cold build is arranged for 2 cores. "core" is Kubernetes, etcd and kwok from one wrapper module,
# so the packages they share compile once; "eso" is ESO with its AWS provider only. Both fetch their
# modules at once at the start (network-bound) and compile side by side, so one's single-threaded
# links overlap the other's compiles. Every 30 s one progress line gives each component's state,
# the time since the build started and when its last cold build was done.
# Measured on the 2-core development machine with empty Go caches (README): all done in 570 s.
# Usage: scripts/cluster/build.sh [component…]   components: core (Kubernetes, etcd, kwok), eso
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${ROTATOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secret-rotation-orchestrator}"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
state="$cache/build/state"
times="$cache/build/times"
logs="$cache/build/logs"
progress_every="${ROTATOR_BUILD_PROGRESS_SECONDS:-30}"

# When each component was done in a cold build on the 2-core development machine, in seconds from
# the build's start (README): the estimate until this machine has built a component once.
declare -A measured=([core]=570 [eso]=342)
declare -A version=([core]="$KUBERNETES_VERSION+$ETCD_VERSION+$KWOK_VERSION" [eso]=$ESO_VERSION)

log() { printf '[cluster-build] %s\n' "$*" >&2; }

binaries_of() {
  case $1 in
  core)
    echo "$cache/bin/etcd-$ETCD_VERSION/etcd"
    echo "$cache/bin/kwok-$KWOK_VERSION/kwok"
    for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
      echo "$cache/bin/kubernetes-$KUBERNETES_VERSION/$c"
    done
    ;;
  eso) echo "$cache/bin/external-secrets-$ESO_VERSION-aws/external-secrets" ;;
  esac
}

is_built() {
  local binary
  for binary in $(binaries_of "$1"); do [[ -x "$binary" ]] || return 1; done
}

# set_state COMPONENT STATE: what a component is doing now (read by the progress line).
set_state() { printf '%s %s\n' "$2" "$(date +%s)" >"$state/$1"; }
# elapsed: seconds since this build started.
elapsed() { echo $(($(date +%s) - build_started)); }

estimate_of() {
  local file="$times/$1-${version[$1]}"
  if [[ -f "$file" ]]; then cat "$file"; else echo "${measured[$1]}"; fi
}

# ---- fetch: each component's work folder, and the modules its build needs (network-bound) ----

# core: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd and kwok from ONE
# wrapper module. One module graph means one version of every shared dependency (client-go,
# apimachinery, grpc, otel…), so each shared package compiles once instead of once per component;
# KWOK_VERSION is chosen to require the same k8s.io modules as KUBERNETES_VERSION (versions.env).
fetch_core() {
  local work="$cache/build/core-${version[core]}" minor="${KUBERNETES_VERSION#v1.}" module
  rm -rf "$work" && mkdir -p "$work"
  {
    printf 'module local/cluster-build\n\ngo %s\n\ngodebug default=go%s\n\n' "$GO_VERSION" "${GO_VERSION%.*}"
    printf 'require (\n\tk8s.io/kubernetes %s\n\tgo.etcd.io/etcd/server/v3 %s\n\tsigs.k8s.io/kwok %s\n)\n\n' \
      "$KUBERNETES_VERSION" "$ETCD_VERSION" "$KWOK_VERSION"
    # k/k requires its staging modules at v0.0.0 and replaces them locally: point them at the proxy.
    for module in $KUBERNETES_STAGING; do printf 'replace k8s.io/%s => k8s.io/%s v0.%s\n' "$module" "$module" "$minor"; done
  } >"$work/go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for package in $CORE_COMMANDS; do printf '\t_ "%s"\n' "$package"; done
    printf ')\n'
  } >"$work/tools.go"
  cd "$work"
  go mod tidy
  # shellcheck disable=SC2086
  go list -deps $CORE_COMMANDS >/dev/null
}

fetch_eso() {
  local work="$cache/build/external-secrets-$ESO_VERSION-aws"
  # A writable copy of ESO's own module, so its go.mod, go.sum and replace lines (a sprig fork)
  # apply; a wrapper module's `go mod tidy` would also verify test-only dependencies, some of which
  # the checksum database here does not serve.
  rm -rf "$work" && mkdir -p "$(dirname "$work")"
  cp -r "$(GOFLAGS= go mod download -json "github.com/external-secrets/external-secrets@$ESO_VERSION" |
    sed -n 's/.*"Dir": "\(.*\)".*/\1/p')" "$work"
  chmod -R u+w "$work"
  # Only the AWS provider: the tests and the demo read Secrets Manager, and the other 39 providers'
  # SDKs (Azure, GCP, Vault, Oracle, IBM…) were most of ESO's modules and compile time. The same for
  # the generators, none of which the tests use.
  cat >"$work/pkg/provider/register/register.go" <<'GO'
// Package register imports the providers this build of ESO serves: AWS only (local test cluster).
package register

import (
	_ "github.com/external-secrets/external-secrets/pkg/provider/aws"
)
GO
  printf '// Package register: no generators in this build of ESO (local test cluster).\npackage register\n' \
    >"$work/pkg/generator/register/register.go"
  cd "$work"
  GOFLAGS=-mod=readonly go list -deps . >/dev/null
}

# ---- compile (CPU-bound) ----

compile_core() {
  local work="$cache/build/core-${version[core]}" out="$cache/build/core-out" minor="${KUBERNETES_VERSION#v1.}"
  minor="${minor%%.*}"
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  rm -rf "$out" && mkdir -p "$out"
  # shellcheck disable=SC2086
  (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$out/" $CORE_COMMANDS)
  mv "$out/server" "$out/etcd"
  local kube="$cache/bin/kubernetes-$KUBERNETES_VERSION" etcd="$cache/bin/etcd-$ETCD_VERSION" kwok="$cache/bin/kwok-$KWOK_VERSION"
  rm -rf "$kube" "$etcd" "$kwok" && mkdir -p "$kube" "$etcd" "$kwok"
  mv "$out/etcd" "$etcd/" && mv "$out/kwok" "$kwok/" && mv "$out"/* "$kube/"
}

compile_eso() {
  local out="$cache/bin/external-secrets-$ESO_VERSION-aws"
  mkdir -p "$out.partial"
  (cd "$cache/build/external-secrets-$ESO_VERSION-aws" &&
    GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$out.partial/external-secrets" .)
  rm -rf "$out" && mv "$out.partial" "$out"
}

# ---- orchestration ----

# fetch COMPONENT: in the background from the start; marks the component fetched or failed.
fetch() {
  local c=$1
  set_state "$c" fetching
  if ("fetch_$c") >"$logs/$c.log" 2>&1; then
    set_state "$c" "waiting"
    touch "$state/$c.fetched"
    log "$c ${version[$c]}: modules fetched at $(elapsed) s"
  else
    touch "$state/$c.failed"
  fi
}

# compile COMPONENT: waits for its modules, then builds with low priority and records the time.
compile() {
  local c=$1 compile_started
  until [[ -f "$state/$c.fetched" ]]; do
    if [[ -f "$state/$c.failed" ]]; then
      set_state "$c" failed
      return 1
    fi
    sleep 1
  done
  set_state "$c" compiling
  compile_started=$(elapsed)
  # At low priority, so the machine stays usable (and the demo's own steps go on) meanwhile.
  if ! (renice -n 10 -p "$BASHPID" >/dev/null && "compile_$c") >>"$logs/$c.log" 2>&1; then
    set_state "$c" failed
    return 1
  fi
  elapsed >"$times/$c-${version[$c]}"
  set_state "$c" done
  log "$c ${version[$c]}: built at $(elapsed) s (compile $(($(elapsed) - compile_started)) s)"
}

# progress_line: one line, every component's state, elapsed time and the estimate from its last build.
progress_line() {
  local c parts=() what since
  for c in "${components[@]}"; do
    read -r what since <"$state/$c" || continue
    case $what in
    done) parts+=("$c done") ;;
    failed) parts+=("$c FAILED") ;;
    *) parts+=("$c $what $(elapsed)s/~$(estimate_of "$c")s") ;;
    esac
  done
  log "progress $(printf '%s · ' "${parts[@]}" | sed 's/ · $//')"
}

components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(core eso)
todo=()
for c in "${components[@]}"; do
  [[ -n "${version[$c]:-}" ]] || { log "unknown component $c (core eso)"; exit 2; }
  is_built "$c" || todo+=("$c")
done
# The fault-injection tier's toxiproxy (test/faults), cached beside these binaries.
[[ $# -gt 0 ]] || bash "$here/../faults/build.sh" >/dev/null
if [[ ${#todo[@]} -eq 0 ]]; then exit 0; fi

rm -rf "$state" && mkdir -p "$state" "$times" "$logs"
components=("${todo[@]}")
build_started=$(date +%s)
for c in "${components[@]}"; do set_state "$c" queued; done
log "building ${components[*]} from Go modules into $cache/bin (logs in $logs)"
log "last cold builds were done after $(for c in "${components[@]}"; do printf '%s ~%ss, ' "$c" "$(estimate_of "$c")"; done | sed 's/, $//')"

pids=()
for c in "${components[@]}"; do
  fetch "$c" &
  pids+=($!)
done
# Both compile at once: one's single-threaded links and slow packages overlap the other's work.
lanes=()
for c in "${components[@]}"; do
  compile "$c" &
  lanes+=($!)
done

status=0
while :; do
  running=0
  for pid in "${lanes[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
  [[ $running -eq 1 ]] || break
  for _ in $(seq "$progress_every"); do
    sleep 1
    running=0
    for pid in "${lanes[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
    [[ $running -eq 1 ]] || break
  done
  [[ $running -eq 0 ]] || progress_line
done
for pid in "${lanes[@]}"; do wait "$pid" || status=1; done
for pid in "${pids[@]}"; do wait "$pid" || true; done

for c in "${components[@]}"; do
  if ! is_built "$c"; then
    status=1
    log "$c ${version[$c]} failed; the last lines of $logs/$c.log:"
    tail -n 25 "$logs/$c.log" >&2 || true
  fi
done
if [[ $status -ne 0 ]]; then exit 1; fi
log "all built in $(elapsed) s; binaries in $cache/bin"
