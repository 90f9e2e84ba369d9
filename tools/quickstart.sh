#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds roisim and runs the seed portfolio.
# Usage: tools/quickstart.sh [extra `roisim run` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)"
"$build/roisim" run scenarios/seed_portfolio.yaml "$@"
