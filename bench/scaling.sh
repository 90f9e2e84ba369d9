#!/usr/bin/env bash
# Thread scaling of roisim on a many-core machine, for README "Performance". Usage:
#   bench/scaling.sh [ROISIM] [THREADS] [REPEAT]
# defaults: build/roisim, 1,2,4,8,12,16, 3.  ROISIM may be a wrapper script (e.g. one that starts a
# carried binary through its own ld-linux).  Prints the machine, then `roisim bench` on the seed
# portfolio: summary-only and full output at 10,000 trials, and summary-only at 100,000 trials
# (more work per scenario, the same fixed costs), each at every thread count, median of REPEAT runs.
# Finishes with bench/peers/compare.sh (one thread against the NumPy peer) when PYTHON has numpy,
# scipy and yaml.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ROISIM=${1:-$root/build/roisim}
THREADS=${2:-1,2,4,8,12,16}
REPEAT=${3:-3}
FILE=$root/scenarios/seed_portfolio.yaml

echo "== machine"
nproc
grep -m1 'model name' /proc/cpuinfo || true
"$ROISIM" --version

echo "== summary-only, 10,000 trials"
"$ROISIM" bench "$FILE" --threads "$THREADS" --repeat "$REPEAT"
echo "== full output (compression 1), 10,000 trials"
"$ROISIM" bench "$FILE" --threads "$THREADS" --repeat "$REPEAT" --full-output
echo "== summary-only, 100,000 trials"
"$ROISIM" bench "$FILE" --threads "$THREADS" --repeat "$REPEAT" --trials 100000

if "${PYTHON:-/usr/bin/python3}" -c 'import numpy, scipy, yaml' 2>/dev/null; then
  echo "== NumPy peer"
  "$here/peers/compare.sh" "$ROISIM" "$FILE" 10000
fi
