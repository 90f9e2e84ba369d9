#!/usr/bin/env bash
# Wall-clock seconds (median of 3, mpirun's start-up included) of single-process and MPI runs, for
# README "Running on a cluster (MPI)". Usage:
#   bench/mpi_scaling.sh [SERIAL_ROISIM] [MPI_ROISIM] [RANKSxTHREADS ...]
# defaults: build/roisim build-mpi/roisim 1x1 2x1 1x2. Two workloads: the seed portfolio (563
# scenarios) at 100,000 trials --summary-only, and two of its scenarios at 1,000,000 trials
# --summary-only (few large scenarios), each with the automatic split and with trial blocks forced
# (ROISIM_MPI_SPLIT=trials).
set -euo pipefail
cd "$(dirname "$0")/.."
serial=${1:-build/roisim}
par=${2:-build-mpi/roisim}
shift $(( $# >= 2 ? 2 : $# ))
configs=("$@")
((${#configs[@]})) || configs=(1x1 2x1 1x2)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - scenarios/seed_portfolio.yaml "$tmp/large.yaml" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
del d["sweep"]
d["scenarios"] = d["scenarios"][:2]
d["settings"]["trials"] = 1000000
yaml.safe_dump(d, open(sys.argv[2], "w"), sort_keys=False)
PY
median3() {  # command...: median wall seconds of three runs
  local t=()
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    t+=("$(echo "$e - $s" | bc)")
  done
  printf '%s\n' "${t[@]}" | sort -g | sed -n 2p
}
printf '%-40s %12s %12s\n' "run" "seed 100k" "2 x 1M"
row() {  # label, threads, command prefix...
  local label=$1 threads=$2
  shift 2
  local a b
  a=$(median3 "$@" run scenarios/seed_portfolio.yaml -o "$tmp/a.h5" --trials 100000 --summary-only --quiet --threads "$threads")
  b=$(median3 "$@" run "$tmp/large.yaml" -o "$tmp/b.h5" --summary-only --quiet --threads "$threads")
  printf '%-40s %12.2f %12.2f\n' "$label" "$a" "$b"
}
row "single process, 1 thread" 1 "$serial"
row "single process, 2 threads" 2 "$serial"
for c in "${configs[@]}"; do
  R=${c%x*} T=${c#*x}
  row "MPI ${R} x ${T} (auto split)" "$T" mpirun --oversubscribe --bind-to none -n "$R" "$par"
  if ((R > 1)); then
    row "MPI ${R} x ${T} (trial blocks forced)" "$T" mpirun --oversubscribe --bind-to none -x ROISIM_MPI_SPLIT=trials \
      -n "$R" "$par"
  fi
done
