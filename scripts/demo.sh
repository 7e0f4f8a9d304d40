#!/usr/bin/env bash
# Runs the orchestrator's main job locally on the embedded default, from a fresh clone:
# installs what it needs, starts local AWS (moto) and a local cluster with ESO, and runs the whole
# story with the synthesized stack's own bundles: sweep → rotation → workflow → emergency → a
# database credential (the local PostgreSQL, alternating users, revoked after the move) → status.
# ensure-deps.sh also installs PostgreSQL when missing (scripts/databases/ensure.sh, apt-get as root).
# Usage: scripts/demo.sh [--verbose]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/ensure-deps.sh
if [[ " $* " == *" --verbose "* ]]; then exec tsx scripts/demo.ts "$@"; fi
# CDK and esbuild report each function they bundle on stderr; the story says it in one line.
exec tsx scripts/demo.ts "$@" 2> >(grep --line-buffered -vE '^(Bundling asset .*\.\.\.|  \.\.\..*|⚡ Done in .*|)$' >&2)
