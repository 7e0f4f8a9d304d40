#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what it needs (npm packages with Node 24, a
# moto venv and the local cluster's binaries in the cache folder), then lint, typecheck, unit,
# integration (moto), cluster (moto + a local control plane with ESO) and end-to-end tests.
# Usage: scripts/test.sh [vitest args…]   e.g. scripts/test.sh --project unit
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/ensure-deps.sh

started=$SECONDS
echo "== lint (biome)"
biome check .
echo "== typecheck (tsc $(tsc --version | awk '{print $2}'))"
tsc --noEmit -p tsconfig.json
echo "== local cluster binaries (built from Go modules on the first run, about 10 minutes on 2 cores; cached after)"
bash scripts/cluster/build.sh
echo "== Argo Rollouts controller for its cluster test (built from its Go module on the first run, about 5 minutes; cached after)"
bash scripts/cluster/build-argo-rollouts.sh >/dev/null
echo "== tests (vitest on Node $(node --version))"
mkdir -p .test-results
status=0
vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json "$@" || status=$?
node scripts/lib/test-summary.mjs .test-results/vitest.json "$((SECONDS - started))"
exit "$status"
