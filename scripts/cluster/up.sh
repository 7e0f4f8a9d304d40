#!/usr/bin/env bash
# Starts a local Kubernetes control plane with fake nodes and the External Secrets Operator:
# etcd, kube-apiserver (RBAC, client-certificate identities), kube-controller-manager,
# kube-scheduler, kwok (nodes and pod lifecycles) and ESO out of cluster against the AWS endpoint
# in AWS_SECRETSMANAGER_ENDPOINT (e.g. moto). Everything listens on 127.0.0.1, free ports.
# Writes STATE_DIR/env (source it), STATE_DIR/kubeconfig (admin) and STATE_DIR/rotator.kubeconfig
# (the orchestrator's identity: user "rotator", group "secret-rotation-orchestrator").
# EKS bearer tokens work too, as in EKS: a token webhook (eks-authenticator.ts) checks them, asks the
# local STS (AWS_STS_ENDPOINT, default AWS_SECRETSMANAGER_ENDPOINT) who signed, and maps that ARN
# to groups. Tokens must be signed for cluster ROTATOR_EKS_CLUSTER_NAME (default "local").
# Usage: AWS_SECRETSMANAGER_ENDPOINT=http://127.0.0.1:PORT scripts/cluster/up.sh STATE_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

state="${1:?usage: up.sh STATE_DIR}"
: "${AWS_SECRETSMANAGER_ENDPOINT:?set AWS_SECRETSMANAGER_ENDPOINT to the local AWS endpoint}"
started=$SECONDS
mkdir -p "$state"/{pids,logs,pki,etcd,kwok}
trap 'status=$?; if [[ $status -ne 0 ]]; then log "start failed; stopping what was started (logs in $state/logs)"; stop_all "$state"; fi' EXIT

"$here/build.sh"

repo="$(cd "$here/../.." && pwd)"
node=("$repo/node_modules/.bin/node" --import "$repo/node_modules/tsx/dist/loader.mjs")

# start NAME COMMAND…: runs a component in the background with its log and pid file.
start() {
  local name=$1
  shift
  "$@" >"$state/logs/$name.log" 2>&1 &
  echo $! >"$state/pids/$name.pid"
  disown $! # stopped by pid (stop_all): no job notices from this shell when it is
}

# The components wait_for watches: when one of them exits, waiting on is pointless.
watched=()
# wait_for DESCRIPTION SECONDS COMMAND…: polls until COMMAND succeeds. Returns 1 on timeout, and at
# once when a watched component has exited: 2 if its log says a port was taken, else 1.
wait_for() {
  local what=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    watched_alive "$what" || return $?
    if ((SECONDS > deadline)); then log "timed out waiting for $what"; return 1; fi
    sleep 0.2
  done
  # Checked once more after success: another cluster's component on a port we picked could have
  # answered for one of ours that has exited.
  watched_alive "$what"
}
# watched_alive DESCRIPTION: 0 when every watched component runs; else says which exited and why,
# and returns 2 if its log says a port was taken, 1 otherwise.
watched_alive() {
  local name
  for name in "${watched[@]}"; do
    if ! kill -0 "$(cat "$state/pids/$name.pid")" 2>/dev/null; then
      local taken
      taken="$(grep -m1 -o '[^"]*address already in use' "$state/logs/$name.log" || true)"
      if [[ -n "$taken" ]]; then
        log "$name exited while waiting for $1: $taken"
        return 2
      fi
      log "$name exited while waiting for $1: $(tail -c 400 "$state/logs/$name.log" | tr '\n' ' ')"
      return 1
    fi
  done
}

pki="$state/pki"
cert() { # cert NAME SUBJECT [SAN]
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$1.key" -subj "$2" -out "$pki/$1.csr" 2>/dev/null
  local ext=()
  if [[ -n "${3:-}" ]]; then printf 'subjectAltName=%s\n' "$3" >"$pki/$1.ext"; ext=(-extfile "$pki/$1.ext"); fi
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
    -out "$pki/$1.crt" "${ext[@]}" 2>/dev/null
}
kubeconfig() { # kubeconfig NAME → $state/NAME.kubeconfig using pki/NAME.{crt,key}
  cat >"$state/$1.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$server", certificate-authority: "$pki/ca.crt"}}]
users: [{name: $1, user: {client-certificate: "$pki/$1.crt", client-key: "$pki/$1.key"}}]
contexts: [{name: local, context: {cluster: local, user: $1}}]
current-context: local
KUBECONFIG
}

log "generating certificates"
openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -subj "/CN=local-ca" -days 2 -out "$pki/ca.crt" 2>/dev/null
cert apiserver "/CN=kube-apiserver" "IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc"
cert admin "/O=system:masters/CN=admin"
cert rotator "/O=secret-rotation-orchestrator/CN=rotator"
# Without --use-service-account-credentials every controller runs as this identity, which the
# bootstrap RBAC does not let manage workloads; a local test cluster gives it full access.
cert controller-manager "/O=system:masters/CN=system:kube-controller-manager"
cert scheduler "/CN=system:kube-scheduler"
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
# A bearer token for the same group, as EKS maps an IAM role: exercises the token path of the Lambdas.
bearer_token="$(openssl rand -hex 24)"
printf '%s,eks-rotator,eks-rotator,"secret-rotation-orchestrator"\n' "$bearer_token" >"$pki/tokens.csv"

# The EKS way in, like an access entry for the propagation role: moto answers GetCallerIdentity for
# the local test credentials (LOCAL_AWS in harness/moto-server.ts: testing/testing) with its
# default identity, arn:aws:sts::123456789012:user/moto, mapped here to the orchestrator's group.
# signingKeys stand in for STS's own check of the token's signature, which moto does not make.
eks_cluster_name="${ROTATOR_EKS_CLUSTER_NAME:-local}"
eks_principal_arn="arn:aws:sts::123456789012:user/moto"
cat >"$state/eks-authenticator.json" <<JSON
{
  "clusterName": "$eks_cluster_name",
  "stsEndpoint": "${AWS_STS_ENDPOINT:-$AWS_SECRETSMANAGER_ENDPOINT}",
  "signingKeys": [{ "accessKeyId": "testing", "secretAccessKey": "testing" }],
  "accessEntries": [{ "principalArn": "$eks_principal_arn", "groups": ["secret-rotation-orchestrator"] }]
}
JSON
# The processes that listen on picked ports start in a loop: a picked port can still be taken by
# another process before the component binds it (two clusters started side by side pick from the
# same range), so a component that exits with "address already in use" is retried on new ports.
# ROTATOR_CLUSTER_FIRST_PORTS ("ETCD ETCD_PEER API AUTHENTICATOR", tests only) fixes the first
# attempt's ports, so a test can hand it a taken one.
for attempt in 1 2 3; do
  if [[ $attempt -eq 1 && -n "${ROTATOR_CLUSTER_FIRST_PORTS:-}" ]]; then
    ports="$ROTATOR_CLUSTER_FIRST_PORTS"
  else
    ports="$("${node[@]}" "$here/free-ports.ts" 4)" # assigned alone, so set -e sees the picker fail
  fi
  if [[ ! "$ports" =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]]; then
    log "expected 4 ports, got '$ports'"
    exit 1
  fi
  read -r etcd_port etcd_peer_port api_port authenticator_port <<<"$ports"
  server="https://127.0.0.1:$api_port"
  for identity in admin rotator controller-manager scheduler; do kubeconfig "$identity"; done
  cp "$state/admin.kubeconfig" "$state/kubeconfig"
  cat >"$state/eks-authenticator.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: eks-authenticator, cluster: {server: "http://127.0.0.1:$authenticator_port/authenticate"}}]
users: [{name: kube-apiserver, user: {}}]
contexts: [{name: webhook, context: {cluster: eks-authenticator, user: kube-apiserver}}]
current-context: webhook
KUBECONFIG
  log "starting the EKS token authenticator on http://127.0.0.1:$authenticator_port"
  start eks-authenticator "${node[@]}" "$here/eks-authenticator.ts" --config "$state/eks-authenticator.json" --port "$authenticator_port"

  log "starting etcd on 127.0.0.1:$etcd_port"
  start etcd "$bin_etcd" --data-dir "$state/etcd" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "default=http://127.0.0.1:$etcd_peer_port" --log-level warn

  log "starting kube-apiserver on $server"
  start kube-apiserver "$bin_kube/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$pki/sa.pub" \
    --service-account-signing-key-file "$pki/sa.key" --service-cluster-ip-range 10.96.0.0/24 \
    --token-auth-file "$pki/tokens.csv" --authorization-mode RBAC --endpoint-reconciler-type none --disable-admission-plugins ServiceAccount \
    --authentication-token-webhook-config-file "$state/eks-authenticator.kubeconfig" \
    --authentication-token-webhook-version v1 --authentication-token-webhook-cache-ttl 10s \
    --cert-dir "$pki" --v 1

  watched=(eks-authenticator etcd kube-apiserver)
  status=0
  wait_for "EKS token authenticator" 30 curl -fsS "http://127.0.0.1:$authenticator_port/healthz" || status=$?
  if [[ $status -eq 0 ]]; then
    wait_for "kube-apiserver readiness" 90 "$kubectl" --kubeconfig "$state/kubeconfig" get --raw /readyz || status=$?
  fi
  if [[ $status -eq 0 ]]; then break; fi
  if [[ $status -ne 2 || $attempt -eq 3 ]]; then exit 1; fi
  log "a picked port was taken before its component bound it; starting again on new ports (attempt $((attempt + 1)) of 3)"
  stop_all "$state"
  rm -rf "${state:?}/etcd" && mkdir -p "$state/etcd"
done

# Client rate limits well above the defaults (20 QPS): thousands of objects are created at once in
# the benchmark, and restarts must not queue behind that backlog.
log "starting kube-controller-manager, kube-scheduler and kwok"
start kube-controller-manager "$bin_kube/kube-controller-manager" --kubeconfig "$state/controller-manager.kubeconfig" \
  --leader-elect=false --bind-address 127.0.0.1 --secure-port 0 --root-ca-file "$pki/ca.crt" \
  --service-account-private-key-file "$pki/sa.key" --controllers '*,-nodeipam' --v 1 \
  --kube-api-qps 300 --kube-api-burst 600
start kube-scheduler "$bin_kube/kube-scheduler" --kubeconfig "$state/scheduler.kubeconfig" \
  --leader-elect=false --bind-address 127.0.0.1 --secure-port 0 --v 1 --kube-api-qps 300 --kube-api-burst 600
"$here/kwok-stages.sh" "$gomodcache/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage" >"$state/kwok.yaml"
# Leases keep fake nodes alive well inside the controller-manager's 50 s grace period; the plain
# 20-45 s status heartbeat came too close to it. KWOK_WORKDIR keeps kwok off ~/.kwok.
KWOK_WORKDIR="$state/kwok" start kwok "$bin_kwok" --kubeconfig "$state/kubeconfig" --config "$state/kwok.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds 40 --node-ip 127.0.0.1 --cidr 10.244.0.0/16

for n in 1 2 3; do
  "$kubectl" --kubeconfig "$state/kubeconfig" apply -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$n
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: kwok-node-$n, type: kwok}
NODE
done
wait_for "fake nodes to be Ready" 60 "$kubectl" --kubeconfig "$state/kubeconfig" wait --for=condition=Ready node --all --timeout=1s

log "installing External Secrets Operator $ESO_VERSION CRDs and starting its controller"
"$kubectl" --kubeconfig "$state/kubeconfig" apply --server-side -f \
  "$gomodcache/github.com/external-secrets/external-secrets@$ESO_VERSION/deploy/crds/bundle.yaml" >/dev/null
wait_for "ESO CRDs" 60 "$kubectl" --kubeconfig "$state/kubeconfig" wait --for=condition=Established \
  crd/externalsecrets.external-secrets.io crd/secretstores.external-secrets.io --timeout=1s
# AWS_EC2_METADATA_DISABLED: the SDK must never try the link-local instance metadata address.
KUBECONFIG="$state/kubeconfig" AWS_SECRETSMANAGER_ENDPOINT="$AWS_SECRETSMANAGER_ENDPOINT" AWS_EC2_METADATA_DISABLED=true \
  AWS_STS_ENDPOINT="${AWS_STS_ENDPOINT:-$AWS_SECRETSMANAGER_ENDPOINT}" \
  start external-secrets "$bin_eso" --enable-leader-election=false --metrics-addr 0 \
  --live-addr 0 --concurrent 4 --loglevel info
wait_for "ESO controller to start" 30 grep -q -i "starting workers\|Starting Controller" "$state/logs/external-secrets.log"

cat >"$state/env" <<ENV
export KUBECONFIG="$state/kubeconfig"
export ROTATOR_KUBECONFIG="$state/rotator.kubeconfig"
export ROTATOR_CLUSTER_SERVER="$server"
export ROTATOR_CLUSTER_STATE="$state"
export ROTATOR_CLUSTER_CA="$pki/ca.crt"
export ROTATOR_CLUSTER_TOKEN="$bearer_token"
export ROTATOR_KUBECTL="$kubectl"
export ROTATOR_CLUSTER_EKS_NAME="$eks_cluster_name"
export ROTATOR_CLUSTER_EKS_PRINCIPAL_ARN="$eks_principal_arn"
export ROTATOR_CLUSTER_EKS_AUTHENTICATOR_CONFIG="$state/eks-authenticator.json"
ENV
trap - EXIT
log "ready in $((SECONDS - started))s: source $state/env; stop with scripts/cluster/down.sh $state"
