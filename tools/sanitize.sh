#!/usr/bin/env bash
# Builds roisim and its test suite with AddressSanitizer + UndefinedBehaviorSanitizer (g++,
# RelWithDebInfo, in build-asan/) and runs the whole suite through ctest.
# Usage: tools/sanitize.sh [extra ctest arguments, e.g. -R scenario]
#   SANITIZE_BUILD_DIR=build-asan   the build directory
#   SANITIZE_EXCLUDE=regex          tests to leave out (ctest -E); default: none
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SANITIZE_BUILD_DIR:-build-asan}
jobs=$(nproc 2>/dev/null || echo 2)
start=$SECONDS

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROISIM_SANITIZE=address,undefined \
      -DROISIM_BUILD_BENCH=OFF -DROISIM_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j"$jobs"
echo "sanitize: build took $((SECONDS - start)) s" >&2

# Leaks are errors; the first UB report stops the program with a stack trace. The CLI
# end-to-end test runs the sanitized roisim binary, so these reach it through the environment.
export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

exclude=()
[[ -n "${SANITIZE_EXCLUDE:-}" ]] && exclude=(-E "$SANITIZE_EXCLUDE")
t=$SECONDS
ctest --test-dir "$build" --output-on-failure -j"$jobs" "${exclude[@]}" "$@"
echo "sanitize: tests took $((SECONDS - t)) s (total $((SECONDS - start)) s)" >&2
