# shellcheck shell=bash
# Shared helpers for up.sh and down.sh (sourced): where build.sh puts each binary, logging, stop_all.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${ROTATOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secret-rotation-orchestrator}"
bin_kube="$cache/bin/kubernetes-$KUBERNETES_VERSION"
kubectl="$bin_kube/kubectl"
bin_etcd="$cache/bin/etcd-$ETCD_VERSION/etcd"
bin_kwok="$cache/bin/kwok-$KWOK_VERSION/kwok"
bin_eso="$cache/bin/external-secrets-$ESO_VERSION-aws/external-secrets"
gomodcache="$(go env GOMODCACHE)"

log() { printf '[cluster] %s\n' "$*" >&2; }

# stop_all STATE: TERM then KILL every process with a pid file in STATE/pids. Idempotent.
stop_all() {
  local pidfile pid
  for pidfile in "$1"/pids/*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pidfile in "$1"/pids/*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}
