#!/usr/bin/env bash
# Prints kwok's stage configuration: the module's fast node stages (heartbeats through Leases, as
# kubelets do; run kwok with --node-lease-duration-seconds) and pod stages, with pod readiness
# split in two so tests can make a rollout fail. Pods labelled rotator.test/fail-on-restart=true
# become Ready only until their workload is restarted (their pod template then carries kubectl's
# kubectl.kubernetes.io/restartedAt, which every restart writes); the restarted pods never become Ready.
# Usage: kwok-stages.sh KWOK_MODULE_STAGE_DIR
set -euo pipefail
stages="${1:?usage: kwok-stages.sh STAGE_DIR}"
for file in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml pod/fast/pod-complete.yaml \
  pod/fast/pod-delete.yaml; do
  echo '---'
  cat "$stages/$file"
done

# pod_ready NAME RULE…: the module's pod-ready stage under NAME with extra selector rules
# (each rule is "KEY|OPERATOR").
pod_ready() {
  local name=$1
  shift
  echo '---'
  awk -v name="$name" -v rules="$*" '
    /^  name: pod-ready$/ { print "  name: " name; next }
    { print }
    /^    matchExpressions:$/ && !done {
      n = split(rules, list, " ")
      for (i = 1; i <= n; i++) {
        split(list[i], part, "|")
        printf "    - key: '"'"'%s'"'"'\n      operator: '"'"'%s'"'"'\n", part[1], part[2]
      }
      done = 1
    }
  ' "$stages/pod/fast/pod-ready.yaml"
}
pod_ready pod-ready '.metadata.labels."rotator.test/fail-on-restart"|DoesNotExist'
pod_ready pod-ready-until-restart '.metadata.labels."rotator.test/fail-on-restart"|Exists' \
  '.metadata.annotations."kubectl.kubernetes.io/restartedAt"|DoesNotExist'
