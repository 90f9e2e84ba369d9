#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds roisim and runs the whole test suite
# through ctest. Usage: tools/test.sh   (BUILD_DIR=build by default)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
build=${BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs"
