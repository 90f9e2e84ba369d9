#!/usr/bin/env bash
# SPEC §5 across instruction sets: the hot kernels' AVX-512 and AVX2 clones (sim/simd.h) give the
# same bits as their x86-64 baseline form. Runs a baseline build (cmake -DROISIM_CLONES=OFF: SSE2
# throughout) and one or more cloned builds (ON: AVX-512 + AVX2 clones; AVX2: the AVX2 clone only),
# each cloned build on the widest clone this CPU has, and compares their results files byte for
# byte in every dataset, root attributes too but for created_utc, command_line and git_sha
# (tests/mpi_compare.py, whose exit status counts): the seed portfolio twice and two variants of
# it (full output and summary-only, 1 and 2 threads, mc / lhs / sobol, an 8% discount rate, a
# 60-month horizon at 5%, 1,001 trials, every trial in the fan chart, --no-reuse).
# Each binary's clones are checked first (nm): a "cloned" build without them, or a baseline with
# them, fails; a clone this CPU cannot run is said (that comparison then tests nothing new).
# glibc's libm (exp, log, pow, which pick FMA or SSE2 code by CPU themselves) is the same library
# for both builds here: not covered.
# Usage: tests/cross_isa.sh BASELINE_ROISIM CLONED_ROISIM...
#   (CI: build-noclones/roisim build/roisim build-avx2/roisim)
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: tests/cross_isa.sh BASELINE_ROISIM CLONED_ROISIM..."
base=${1:?$usage}
shift
[[ $# -ge 1 ]] || { echo "$usage" >&2; exit 2; }
seed=scenarios/seed_portfolio.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
has() { grep -qw "$1" /proc/cpuinfo; }
cpu_v4=0
has avx512f && has avx512vl && has avx512bw && has avx512dq && has avx512cd && cpu_v4=1
cpu_avx2=0
has avx2 && cpu_avx2=1
# The clones of sum_block, one of the kernels, name the build's kind.
clones_of() {
  { nm -C "$1" | grep -o 'sum_block(.*) \[clone \.[a-z0-9_]*\]' || true; } | sed 's/.*clone \.//; s/\]//' | sort -u | tr '\n' ' '
}
bclones=$(clones_of "$base")
if [[ -n "$bclones" ]]; then
  echo "  FAIL  $base is not a baseline build: it has the clones $bclones(build it with -DROISIM_CLONES=OFF)"
  exit 1
fi
for bin in "$@"; do
  c=$(clones_of "$bin")
  if [[ " $c " == *" arch_x86_64_v4 "* && $cpu_v4 == 1 ]]; then
    echo "cross_isa: $bin runs its AVX-512 (x86-64-v4) clones here"
  elif [[ " $c " == *" avx2 "* && $cpu_avx2 == 1 ]]; then
    echo "cross_isa: $bin runs its AVX2 clones here"
  elif [[ " $c " == *" avx2 "* ]]; then
    echo "cross_isa: $bin has the clones $c but this CPU runs none of them: its comparison tests nothing new"
  else
    echo "  FAIL  $bin has no clones (nm: '$c'): not a cloned build"
    exit 1
  fi
done
echo "cross_isa: against $base (baseline)"
sed 's/^  discount_rate: 0.0$/  discount_rate: 0.08/' "$seed" > "$tmp/discount.yaml"
sed 's/^  horizon_months: 36$/  horizon_months: 60/; s/^  discount_rate: 0.0$/  discount_rate: 0.05/' "$seed" > "$tmp/h60.yaml"
grep -q "^  discount_rate: 0.08$" "$tmp/discount.yaml" && grep -q "^  horizon_months: 60$" "$tmp/h60.yaml" &&
  grep -q "^  discount_rate: 0.05$" "$tmp/h60.yaml" ||
  { echo "  FAIL  the variants of $seed were not made (its settings lines changed?)"; exit 1; }
n=0
check_case() {  # file, arguments...
  local file=$1
  shift
  n=$((n + 1))
  "$base" run "$file" -o "$tmp/base$n.h5" "$@" --quiet
  local k=0 bin diff rc
  for bin in "${binaries[@]}"; do
    k=$((k + 1))
    "$bin" run "$file" -o "$tmp/c$n-$k.h5" "$@" --quiet
    rc=0
    diff=$(/usr/bin/python3 tests/mpi_compare.py "$tmp/base$n.h5" "$tmp/c$n-$k.h5" 2>&1) || rc=$?
    if [[ $rc == 0 && -z "$diff" ]]; then
      echo "  ok    $bin: $(basename "$file") $*"
    else
      echo "  FAIL  $bin: $(basename "$file") $* (tests/mpi_compare.py exit $rc)"
      echo "$diff" | head -5 | sed 's/^/        /'
      failed=1
    fi
  done
}
binaries=("$@")
check_case "$seed" --trials 2000 --threads 1
check_case "$seed" --trials 1001 --threads 2 --summary-only --sampler lhs
check_case "$tmp/discount.yaml" --trials 2048 --threads 2 --sampler sobol --cashflow-trials 0
check_case "$tmp/h60.yaml" --trials 300 --threads 1 --no-reuse
[[ $failed == 0 ]] && echo "cross_isa: all passed" || echo "cross_isa: FAILED"
exit "$failed"
