#!/usr/bin/env bash
# SPEC §5 across CPUs: the hot kernels' AVX-512 and AVX2 clones (sim/simd.h) give the same bits as
# the x86-64 baseline. Compares the results files of a normal build, whose kernels run the widest
# clone this CPU has, with a build without clones (cmake -DROISIM_CLONES=OFF: SSE2 throughout),
# byte for byte in every dataset and root attribute but created_utc, command_line and git_sha
# (tests/mpi_compare.py), on the seed portfolio and
# variants: full output and summary-only, 1 and 2 threads, mc / lhs / sobol, a discount rate, a
# 60-month horizon, odd trial counts, every trial in the fan chart, --no-reuse.
# Usage: tests/cross_isa.sh CLONED_ROISIM BASELINE_ROISIM   (CI: build/roisim build-noclones/roisim)
set -euo pipefail
cd "$(dirname "$0")/.."
cloned=${1:?usage: tests/cross_isa.sh CLONED_ROISIM BASELINE_ROISIM}
base=${2:?usage: tests/cross_isa.sh CLONED_ROISIM BASELINE_ROISIM}
seed=scenarios/seed_portfolio.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
isa=baseline
grep -qw avx2 /proc/cpuinfo && isa=AVX2
grep -qw avx512f /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo &&
  grep -qw avx512dq /proc/cpuinfo && grep -qw avx512cd /proc/cpuinfo && isa="AVX-512 (x86-64-v4)"
echo "cross_isa: $cloned (this CPU: the $isa clones) vs $base (baseline)"
sed 's/^  discount_rate: 0.0$/  discount_rate: 0.08/' "$seed" > "$tmp/discount.yaml"
sed 's/^  horizon_months: 36$/  horizon_months: 60/; s/^  discount_rate: 0.0$/  discount_rate: 0.05/' "$seed" > "$tmp/h60.yaml"
grep -q "^  discount_rate: 0.08$" "$tmp/discount.yaml" && grep -q "^  horizon_months: 60$" "$tmp/h60.yaml" &&
  grep -q "^  discount_rate: 0.05$" "$tmp/h60.yaml" ||
  { echo "  FAIL  the variants of $seed were not made (its settings line changed?)"; exit 1; }
failed=0
n=0
run_pair() {  # file, arguments...
  local file=$1
  shift
  n=$((n + 1))
  "$cloned" run "$file" -o "$tmp/a$n.h5" "$@" --quiet
  "$base" run "$file" -o "$tmp/b$n.h5" "$@" --quiet
  local diff
  diff=$(/usr/bin/python3 tests/mpi_compare.py "$tmp/a$n.h5" "$tmp/b$n.h5" 2>&1) || true
  if [[ -z "$diff" ]]; then
    echo "  ok    $(basename "$file") $*"
  else
    echo "  FAIL  $(basename "$file") $*"
    echo "$diff" | head -5 | sed 's/^/        /'
    failed=1
  fi
}
run_pair "$seed" --trials 2000 --threads 1
run_pair "$seed" --trials 1001 --threads 2 --summary-only --sampler lhs
run_pair "$tmp/discount.yaml" --trials 2048 --threads 2 --sampler sobol --cashflow-trials 0
run_pair "$tmp/h60.yaml" --trials 300 --threads 1 --no-reuse
[[ $failed == 0 ]] && echo "cross_isa: all passed" || echo "cross_isa: FAILED"
exit "$failed"
