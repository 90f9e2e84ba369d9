#!/usr/bin/env bash
# Builds the libFuzzer target for the scenario loader (clang, ASan + UBSan, in build-fuzz/),
# replays the committed regression corpus and the seed corpus, then fuzzes for SECONDS.
# Usage: tools/fuzz.sh [SECONDS]     (default 60; 0 = only build and replay)
#   FUZZ_BUILD_DIR=build-fuzz   the build directory
# Exits non-zero on any crash, sanitizer report, timeout (> 10 s per input) or out-of-memory
# (> 2 GiB). The fuzzer's corpus lives in a temporary copy: nothing new is written into fuzz/.
# A failing input is saved under $FUZZ_BUILD_DIR/artifacts/ and printed (base64) to the log;
# add it to fuzz/regressions/ once the bug is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=$(nproc 2>/dev/null || echo 2)
start=$SECONDS

bash tools/install-deps.sh --fuzz
CC=${FUZZ_CC:-clang} CXX=${FUZZ_CXX:-clang++} cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DROISIM_BUILD_FUZZERS=ON -DROISIM_BUILD_TESTS=OFF -DROISIM_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target fuzz_scenario
fuzzer=$build/fuzz/fuzz_scenario
echo "fuzz: build took $((SECONDS - start)) s" >&2

artifacts=$build/artifacts
rm -rf "$artifacts" && mkdir -p "$artifacts"
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
limits=(-rss_limit_mb=2048 -timeout=10 -artifact_prefix="$artifacts/")

report() {  # prints the saved failing inputs so that a CI log is enough to reproduce them
  local f
  for f in "$artifacts"/*; do
    [[ -f "$f" ]] || continue
    echo "fuzz: failing input $f ($(stat -c %s "$f") bytes), base64:" >&2
    head -c 8192 "$f" | base64 >&2
  done
}

# 1. Replay: every committed input must load or be rejected cleanly.
t=$SECONDS
files=()
for f in fuzz/regressions/* fuzz/corpus/*; do [[ -f "$f" ]] && files+=("$f"); done
if ! "$fuzzer" "${limits[@]}" "${files[@]}" >"$build/replay.log" 2>&1; then
  tail -n 60 "$build/replay.log" >&2
  report
  echo "fuzz: FAILED replaying fuzz/regressions and fuzz/corpus (full log: $build/replay.log)" >&2
  exit 1
fi
echo "fuzz: replayed ${#files[@]} inputs in $((SECONDS - t)) s" >&2

# 2. Fuzz for a bounded time from a temporary copy of the seed corpus (the regressions are read
#    as extra seeds but never written to).
if ((seconds > 0)); then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp fuzz/corpus/* "$work/"
  t=$SECONDS
  if ! "$fuzzer" "${limits[@]}" -max_total_time="$seconds" -max_len=4096 -dict=fuzz/scenario.dict \
       -print_final_stats=1 "$work" fuzz/regressions >"$build/fuzz.log" 2>&1; then
    tail -n 80 "$build/fuzz.log" >&2
    report
    echo "fuzz: FAILED after $((SECONDS - t)) s of fuzzing (full log: $build/fuzz.log)" >&2
    exit 1
  fi
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$build/fuzz.log" >&2 || true
  echo "fuzz: fuzzed for $((SECONDS - t)) s without a finding ($(ls "$work" | wc -l) corpus inputs)" >&2
fi
echo "fuzz: total $((SECONDS - start)) s" >&2
