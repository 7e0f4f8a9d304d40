#!/usr/bin/env bash
# Runs the orchestrator's main job locally on the embedded default, from a fresh clone:
# installs what it needs, starts a local AWS (moto), and rotates a sample secret end to end.
# Usage: scripts/demo.sh [--verbose]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/ensure-deps.sh
exec tsx scripts/demo.ts "$@"
