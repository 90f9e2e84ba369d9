#!/bin/sh
# Throughput of roisim (one thread) against the NumPy peer on the same file and trials.
#   bench/peers/compare.sh [ROISIM] [FILE] [TRIALS]
# defaults: build/roisim, scenarios/seed_portfolio.yaml, 10000.  Both report
# scenario x trial evaluations per second; the peer runs with its per-project cache
# (default) and without it (--no-cache).  Needs Debian's /usr/bin/python3 with
# numpy, scipy (python3-scipy) and yaml (python3-yaml).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ROISIM=${1:-$root/build/roisim}
FILE=${2:-$root/scenarios/seed_portfolio.yaml}
TRIALS=${3:-10000}
PY=${PYTHON:-/usr/bin/python3}

echo "file: $FILE, trials: $TRIALS"
bench_out=$("$ROISIM" bench "$FILE" --trials "$TRIALS" --threads 1)
echo "$bench_out"
# the table row whose first column is the thread count 1; third column is trials/s
r=$(echo "$bench_out" | awk '$1 == "1" && NF >= 3 { print $3; exit }')
[ -n "$r" ] || { echo "compare.sh: could not parse roisim bench output" >&2; exit 1; }

# "numpy_peer: S scenarios x N trials in T s = R scenario-trials/s (...)"
rate() { echo "$1" | sed -n 's/.* = \([0-9.eE+-]*\) scenario-trials\/s.*/\1/p'; }
out_cache=$("$PY" "$here/numpy_peer.py" "$FILE" --trials "$TRIALS")
echo "$out_cache"
out_nocache=$("$PY" "$here/numpy_peer.py" "$FILE" --trials "$TRIALS" --no-cache)
echo "$out_nocache"
p_cache=$(rate "$out_cache")
p_nocache=$(rate "$out_nocache")
[ -n "$p_cache" ] && [ -n "$p_nocache" ] || { echo "compare.sh: could not parse the peer's output" >&2; exit 1; }

awk -v r="$r" -v pc="$p_cache" -v pn="$p_nocache" 'BEGIN {
    printf "\n%-34s %14s %12s\n", "engine", "scen-trials/s", "roisim / x"
    printf "%-34s %14.4g %12s\n", "roisim (1 thread)", r, "1.00"
    printf "%-34s %14.4g %12.2f\n", "numpy peer (per-project cache)", pc, r / pc
    printf "%-34s %14.4g %12.2f\n", "numpy peer (no cache)", pn, r / pn
}'
