#!/usr/bin/env bash
# Stops every process that up.sh started for a state dir. Idempotent.
# Usage: scripts/cluster/down.sh STATE_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
state="${1:?usage: down.sh STATE_DIR}"
stop_all "$state"
log "stopped (state in $state)"
