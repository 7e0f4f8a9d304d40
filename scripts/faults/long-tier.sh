#!/usr/bin/env bash
# The fault-injection matrix's long tier (issue 9 item 6, docs/faults.md): the same rows as the CI
# tier (`npm run test:faults`), with the rotations of the rows whose cost is per rotation (A, B, C,
# E, H, N, the three once-per-rotation Q rows and S) multiplied by a scale, under one seed. At the
# default scale of 9 that is 1,132 rotations (121 per unit of scale, plus 43 in the rows that wait
# out a fixed fault); docs/faults.md gives the measured runs. Installs what it needs, as the CI
# tier does.
#
# The table goes to stdout and to .test-results/faults/table.md (one JSON per row beside it); a
# copy is kept as .test-results/faults-long/table-seed<seed>-scale<scale>.md.
# Usage: scripts/faults/long-tier.sh [--seed N] [--scale N] [test files…]
#   (defaults: seed 1, scale 9, every file of the faults project; files narrow it to some rows)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seed=1
scale=9
files=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seed) seed="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "long-tier: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
if ! [[ "$seed" =~ ^[0-9]+$ && "$scale" =~ ^[0-9]+$ ]] || (( scale < 1 || scale > 50 )); then
  echo "long-tier: --seed takes a whole number, --scale a whole number from 1 to 50" >&2
  exit 2
fi

source scripts/lib/ensure-deps.sh
bash scripts/cluster/build.sh
started=$SECONDS
status=0
# A table left by an earlier run must not be filed under this run's seed and scale.
rm -f .test-results/faults/table.md
FAULT_SEED="$seed" FAULT_SCALE="$scale" vitest run --project faults "${files[@]}" || status=$?
mkdir -p .test-results/faults-long
if [[ -f .test-results/faults/table.md ]]; then  # written by this run's global teardown
  cp .test-results/faults/table.md ".test-results/faults-long/table-seed${seed}-scale${scale}.md"
fi
echo "long tier: seed $seed, scale $scale, exit $status, $((SECONDS - started)) s"
exit "$status"
