#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds roisim and runs the whole test suite
# through ctest. Usage: tools/test.sh   (BUILD_DIR=build by default)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
build=${BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DROISIM_CLONES=ON >/dev/null
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs"

# CI only (CI=true as CI services set it, or ROISIM_FULL_CI=1): the suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/), then the scenario-loader fuzzer
# (build-fuzz/: regression + seed corpus replay, then ROISIM_FUZZ_SECONDS of fuzzing, 120 by
# default), the MPI build's tests and the clones' bits against a baseline build. A developer's
# plain `tools/test.sh` skips them.
ci=${CI:-}
if [[ ( -n "$ci" && "$ci" != "false" && "$ci" != "0" ) || "${ROISIM_FULL_CI:-0}" == "1" ]]; then
  failed=0
  # A Release build of the roisim binary alone in folder $1, with the CMake options that follow.
  binary_build() {
    local dir=$1
    shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DROISIM_BUILD_TESTS=OFF -DROISIM_BUILD_BENCH=OFF "$@" >/dev/null &&
      cmake --build "$dir" -j"$jobs" --target roisim
  }
  bash tools/sanitize.sh || failed=1
  bash tools/fuzz.sh "${ROISIM_FUZZ_SECONDS:-120}" || failed=1  # runs even when the above failed
  # --- issue 8 (README "Running on a cluster (MPI)"): the MPI build (build-mpi/: OpenMPI + parallel HDF5, the roisim binary
  # only) run on 1, 2 and 3 ranks and compared bit for bit with the serial run, plus rank failures.
  { bash tools/install-deps.sh --mpi &&
    binary_build build-mpi -DROISIM_WITH_MPI=ON &&
    bash tests/test_mpi.sh "$build/roisim" build-mpi/roisim; } || failed=1
  # --- end issue 8
  # SPEC §5 across instruction sets: builds without the hot kernels' AVX-512 clone (build-avx2/)
  # and without any clone (build-noclones/: SSE2 throughout), the roisim binary only; the results
  # of this build and of build-avx2/, each on the widest clone the machine has, compared byte for
  # byte with the baseline's (tests/cross_isa.sh).
  { binary_build build-avx2 -DROISIM_CLONES=AVX2 && binary_build build-noclones -DROISIM_CLONES=OFF &&
    bash tests/cross_isa.sh build-noclones/roisim "$build/roisim" build-avx2/roisim; } || failed=1
  exit "$failed"
fi
