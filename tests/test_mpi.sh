#!/usr/bin/env bash
# Issue 8: the MPI build gives exactly the single-process results, and fails cleanly.
# Usage: tests/test_mpi.sh [SERIAL_ROISIM] [MPI_ROISIM]   (default build/roisim, build-mpi/roisim)
# Needs mpirun (openmpi-bin) and /usr/bin/python3 with h5py. Runs as root too (CI).
#  1. scenarios/seed_portfolio.yaml, 300 trials: the serial run vs `mpirun -n R` for R = 1, 2, 3
#     (one thread per rank) and R = 2 x 2 threads: every dataset compared byte for byte
#     (tests/mpi_compare.py), plus a --summary-only run on 3 ranks; then trial blocks (each
#     scenario's trials split across ranks): forced on the sweep for 2 and 3 ranks, and chosen
#     by itself for a file of two large scenarios on 3 ranks; one scenario on 3 ranks, where one
#     rank's part of the cash-flow exchange is empty; a bad ROISIM_MPI_SPLIT is refused.
#  2. A rank that fails (test hook ROISIM_MPI_FAIL_RANK=1): non-zero exit, "rank 1 failed" on
#     stderr, no file at the target name, no temporary file left.
#  3. A rank killed with SIGKILL mid-run: non-zero exit, no file at the target name, no temporary file.
#     A signal to one rank before the run begins: the job ends (it hung). A 600-byte results path
#     with a 249-byte name: bit-identical to the serial run; with a failing rank, nothing left (Open
#     MPI's own file names had made the open fail, hang or abort). A path whose absolute form nears
#     PATH_MAX: refused. A full disk on rank 0, in the skeleton and in the run: exit 1, no file.
#  4. Bad input, a bad output, a usage error: said once; a scenario file bad on some ranks only
#     (it can differ between nodes): exit 1 without hanging, said once, no file.
#  5. The memory estimate bounds every rank's peak resident memory (trial blocks and scenario
#     shares, one thread).
set -euo pipefail
cd "$(dirname "$0")/.."
serial=${1:-build/roisim}
par=${2:-build-mpi/roisim}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# --oversubscribe: 3 ranks on a 2-core machine; --bind-to none: let each rank's TBB threads float.
mpirun=(mpirun --oversubscribe --bind-to none)
seed=scenarios/seed_portfolio.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "  ok    $*"; }
bad() { echo "  FAIL  $*"; failed=1; }

echo "test_mpi: serial $serial vs MPI $par"
"$serial" run "$seed" -o "$tmp/serial.h5" --trials 300 --quiet
"$serial" run "$seed" -o "$tmp/serial-summary.h5" --trials 300 --summary-only --quiet

compare() {  # name, serial file, mpirun arguments... (out=PATH before it: the results file)
  local name=$1 ref=$2 out=${out:-$tmp/$1.h5}
  shift 2
  # A hang is a failure, not a stuck suite: at most 5 minutes a run.
  if ! timeout -k 10 300 "${mpirun[@]}" "$@" -o "$out" >"$tmp/$name.log" 2>&1; then
    bad "$name: mpirun failed or hung"; sed 's/^/        /' "$tmp/$name.log"; return
  fi
  if /usr/bin/python3 tests/mpi_compare.py "$ref" "$out"; then ok "$name: bit-identical to the serial run"
  else bad "$name: differs from the serial run"; fi
}
for R in 1 2 3; do
  compare "ranks$R" "$tmp/serial.h5" -n "$R" "$par" run "$seed" --trials 300 --threads 1 --quiet
done
compare "ranks2-threads2" "$tmp/serial.h5" -n 2 "$par" run "$seed" --trials 300 --threads 2 --quiet
compare "ranks3-summary" "$tmp/serial-summary.h5" -n 3 "$par" run "$seed" --trials 300 --threads 1 --summary-only --quiet

# 1b. trial blocks: every scenario's trials split across the ranks (ROISIM_MPI_SPLIT=trials forces
# it on the sweep; 1300 trials put the 1000 cash-flow trials on every rank), then a file of two
# large scenarios, where the default (auto) must choose it by itself.
"$serial" run "$seed" -o "$tmp/serial-1300.h5" --trials 1300 --quiet
for R in 2 3; do
  compare "trials-ranks$R" "$tmp/serial-1300.h5" -n "$R" -x ROISIM_MPI_SPLIT=trials "$par" run "$seed" --trials 1300 \
    --threads 1
  if grep -q "$R MPI ranks, split by trial blocks" "$tmp/trials-ranks$R.log"; then ok "trials-ranks$R: split by trial blocks"
  else bad "trials-ranks$R: not split by trial blocks"; sed 's/^/        /' "$tmp/trials-ranks$R.log"; fi
done
"$serial" run "$seed" -o "$tmp/serial-sobol.h5" --trials 700 --sampler sobol --quiet
compare "trials-ranks3-sobol" "$tmp/serial-sobol.h5" -n 3 -x ROISIM_MPI_SPLIT=trials "$par" run "$seed" --trials 700 \
  --sampler sobol --threads 1 --quiet
"$serial" run "$seed" -o "$tmp/serial-1300-summary.h5" --trials 1300 --summary-only --quiet
compare "trials-ranks2-threads2-summary" "$tmp/serial-1300-summary.h5" -n 2 -x ROISIM_MPI_SPLIT=trials "$par" run \
  "$seed" --trials 1300 --threads 2 --summary-only --quiet
large="$tmp/large.yaml"
/usr/bin/python3 - "$seed" "$large" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
del d["sweep"]
d["scenarios"] = d["scenarios"][:2]
d["settings"]["trials"] = 20000
yaml.safe_dump(d, open(sys.argv[2], "w"), sort_keys=False)
PY
"$serial" run "$large" -o "$tmp/serial-large.h5" --quiet
compare "large-ranks3" "$tmp/serial-large.h5" -n 3 "$par" run "$large" --threads 1
if grep -q "3 MPI ranks, split by trial blocks" "$tmp/large-ranks3.log"; then ok "two large scenarios on 3 ranks: split by trial blocks"
else bad "two large scenarios on 3 ranks: not split by trial blocks"; sed 's/^/        /' "$tmp/large-ranks3.log"; fi
# One scenario on 3 ranks in trial blocks: rank 1's trials (1666-3333 of 5000) are all past the
# 1000 cash-flow trials and it owns no scenario, so its part of the cash-flow exchange is empty
# (this hung after the file was written, in the commit broadcast, with Open MPI 4.1's libnbc).
one="$tmp/one.yaml"
/usr/bin/python3 - "$large" "$one" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
d["scenarios"] = d["scenarios"][:1]
d["settings"]["trials"] = 5000
yaml.safe_dump(d, open(sys.argv[2], "w"), sort_keys=False)
PY
"$serial" run "$one" -o "$tmp/serial-one.h5" --quiet
compare "one-scenario-ranks3" "$tmp/serial-one.h5" -n 3 -x ROISIM_MPI_SPLIT=trials "$par" run "$one" --threads 1 --quiet
"$serial" run "$one" -o "$tmp/serial-one-summary.h5" --summary-only --quiet
compare "one-scenario-ranks3-summary" "$tmp/serial-one-summary.h5" -n 3 -x ROISIM_MPI_SPLIT=trials "$par" run "$one" \
  --threads 1 --summary-only --quiet
set +e
ROISIM_MPI_SPLIT=sideways timeout -k 10 300 "${mpirun[@]}" -x ROISIM_MPI_SPLIT -n 2 "$par" run "$large" -o "$tmp/bad-split.h5" --quiet \
  >"$tmp/bad-split.log" 2>&1
rc=$?
set -e
if [[ $rc -ne 0 ]] && grep -q "ROISIM_MPI_SPLIT is 'sideways'; expected auto, scenarios or trials" "$tmp/bad-split.log" &&
   [[ -z $(find "$tmp" -name 'bad-split.h5*') ]]; then ok "bad ROISIM_MPI_SPLIT: exit $rc, said why, no file"
else bad "bad ROISIM_MPI_SPLIT: exit $rc"; sed 's/^/        /' "$tmp/bad-split.log"; fi

# 2. a failing rank
target="$tmp/fail.h5"
set +e
ROISIM_MPI_FAIL_RANK=1 timeout -k 10 300 "${mpirun[@]}" -x ROISIM_MPI_FAIL_RANK -n 3 "$par" run "$seed" -o "$target" --trials 300 \
  --threads 1 --quiet >"$tmp/fail.log" 2>&1
rc=$?
set -e
leftover=$(find "$tmp" -name 'fail.h5*')
if [[ $rc -ne 0 && -z "$leftover" ]] && grep -q "roisim: rank 1 failed: test hook" "$tmp/fail.log"; then
  ok "failing rank: exit $rc, 'rank 1 failed' reported, no file"
else
  bad "failing rank: exit $rc, files: ${leftover:-none}"; sed 's/^/        /' "$tmp/fail.log"
fi

# 2b. the same in a trial-block run
target="$tmp/fail-trials.h5"
set +e
ROISIM_MPI_FAIL_RANK=2 timeout -k 10 300 "${mpirun[@]}" -x ROISIM_MPI_FAIL_RANK -n 3 "$par" run "$large" -o "$target" --threads 1 \
  --quiet >"$tmp/fail-trials.log" 2>&1
rc=$?
set -e
leftover=$(find "$tmp" -name 'fail-trials.h5*')
if [[ $rc -ne 0 && -z "$leftover" ]] && grep -q "roisim: rank 2 failed: test hook" "$tmp/fail-trials.log"; then
  ok "failing rank in a trial-block run: exit $rc, 'rank 2 failed' reported, no file"
else
  bad "failing rank in a trial-block run: exit $rc, files: ${leftover:-none}"; sed 's/^/        /' "$tmp/fail-trials.log"
fi

# Waits for an mpirun started in the background (pid $1), then stops its watchdog (pid $2); sets rc
# to mpirun's exit status.
reap() {
  set +e
  wait "$1"
  rc=$?
  kill "$2" 2>/dev/null
  wait "$2" 2>/dev/null
  set -e
}

# 3. a killed rank (SIGKILL once the run is under way: the temporary file exists), in a scenario-split
# and in a trial-block run
kill_test() {  # name, mpirun arguments before the program...
  local name=$1 target="$tmp/$1.h5"
  shift
  "${mpirun[@]}" -n 2 "$@" "$par" run "$seed" -o "$target" --trials 50000 --threads 1 --summary-only --quiet \
    >"$tmp/$name.log" 2>&1 &
  local launcher=$!
  # A time limit that leaves mpirun the launcher's child (pgrep -P below finds the ranks): a hang
  # fails the test instead of the CI job.
  (sleep 300 && kill -TERM "$launcher" 2>/dev/null) &
  local watchdog=$!
  for _ in $(seq 300); do
    compgen -G "$target.tmp-*" >/dev/null && break
    sleep 0.1
  done
  sleep 0.5
  local victim rc leftover
  victim=$(pgrep -P "$launcher" | tail -n 1 || true)
  if [[ -n "$victim" ]]; then kill -9 "$victim"; fi
  reap "$launcher" "$watchdog"
  leftover=$(find "$tmp" -name "$name.h5*")
  if [[ -n "$victim" && $rc -ne 0 && -z "$leftover" ]]; then
    ok "$name: killed rank (pid $victim): exit $rc, no file"
  else
    bad "$name: killed rank (pid ${victim:-none found}): exit $rc, files: ${leftover:-none}"; sed 's/^/        /' "$tmp/$name.log"
  fi
}
kill_test kill
kill_test kill-trials -x ROISIM_MPI_SPLIT=trials

# 3b. A signal to one rank before the run begins (its SIGINT handler installed, the others on their
# way to the collective open): it ends the job, rather than waiting in MPI_Finalize for ranks that
# wait for it. The rank is stopped as soon as it handles SIGINT (SigCgt bit 2), so that the signal
# lands before the run; stopped, it also holds the others back until the signal arrives.
target="$tmp/early.h5"
"${mpirun[@]}" -n 2 "$par" run "$seed" -o "$target" --trials 300 --threads 1 --quiet >"$tmp/early.log" 2>&1 &
launcher=$!
(sleep 120 && touch "$tmp/early.hung" && kill -TERM "$launcher" 2>/dev/null) &
watchdog=$!
victim=
for _ in $(seq 5000); do
  victim=$(pgrep -P "$launcher" | tail -n 1 || true)
  # The rank itself, not mpirun's child between fork and exec (which has mpirun's handlers).
  if [[ -n "$victim" && /proc/$victim/exe -ef $par ]] &&
     (( 0x$(awk '/^SigCgt/ {print $2}' "/proc/$victim/status" 2>/dev/null || echo 0) & 2 )); then
    kill -STOP "$victim"; break
  fi
  victim=
  sleep 0.002
done
sleep 1
if [[ -n "$victim" ]]; then kill -INT "$victim"; kill -CONT "$victim"; fi
reap "$launcher" "$watchdog"
leftover=$(find "$tmp" -name 'early.h5*')
hung=no
[[ -e "$tmp/early.hung" ]] && hung="yes (killed after 120 s)"
if [[ -n "$victim" && $rc -eq 130 && $hung == no && -z "$leftover" ]] && grep -q "failed: interrupted" "$tmp/early.log"; then
  ok "signal to one rank before the run: exit $rc, 'interrupted', no file"
else
  bad "signal to one rank before the run (pid ${victim:-none found}): exit $rc, hung: $hung, files: ${leftover:-none}"
  sed 's/^/        /' "$tmp/early.log"
fi

# 3c. A results path far longer than Open MPI's own names allow (a 600-byte path, a 249-byte file
# name): each rank opens the file by its (shortened) temporary name from inside the folder.
long="$tmp/$(printf 'd%.0s' $(seq 200))/$(printf 'e%.0s' $(seq 200))"
mkdir -p "$long"
lname=$(printf 'r%.0s' $(seq 246)).h5
out="$long/$lname" compare "long-path" "$tmp/serial.h5" -n 3 "$par" run "$seed" --trials 300 --threads 1 --quiet
rm -f "$long/$lname"
set +e
ROISIM_MPI_FAIL_RANK=1 timeout -k 10 300 "${mpirun[@]}" -x ROISIM_MPI_FAIL_RANK -n 2 "$par" run "$seed" -o "$long/$lname" \
  --trials 300 --threads 1 --quiet >"$tmp/long-fail.log" 2>&1
rc=$?
set -e
leftover=$(ls -A "$long")
if [[ $rc -ne 0 && -z "$leftover" ]] && grep -q "roisim: rank 1 failed: test hook" "$tmp/long-fail.log"; then
  ok "failing rank, long path: exit $rc, no file"
else
  bad "failing rank, long path: exit $rc, files: ${leftover:-none}"; sed 's/^/        /' "$tmp/long-fail.log"
fi

# 3d. A full disk on rank 0 (an LD_PRELOAD library makes its writes to the temporary file fail
# with ENOSPC after N bytes): while it writes the file's skeleton (N = 2000: the skeleton's image
# goes out in one write), the error is said once, exit 1, no file (written by HDF5, the failure had
# surfaced in H5Fclose and HDF5's clean-up then died with SIGSEGV: exit 139); later, in the
# collective writes (N = 200000), the rank fails as any failing rank does. Skipped without a C compiler.
if command -v cc >/dev/null; then
  cc -shared -fPIC -O1 -o "$tmp/enospc_shim.so" tests/enospc_shim.c -ldl
  for case in "2000 No space left on device" "200000 roisim: rank 0 failed: "; do
    read -r after text <<<"$case"
    set +e
    ENOSPC_AFTER=$after LD_PRELOAD="$tmp/enospc_shim.so" timeout -k 10 120 "${mpirun[@]}" -x ENOSPC_AFTER -x LD_PRELOAD \
      -n 2 "$par" run "$seed" -o "$tmp/full.h5" --trials 300 --threads 1 --quiet >"$tmp/full.log" 2>&1
    rc=$?
    set -e
    said=$(grep -c -F -- "$text" "$tmp/full.log" || true)
    if [[ $rc -eq 1 && $said -eq 1 && -z $(find "$tmp" -name 'full.h5*') ]]; then
      ok "full disk on rank 0 after $after bytes: exit 1, '$text' said once, no file"
    else
      bad "full disk on rank 0 after $after bytes: exit $rc, '$text' said $said times"; sed 's/^/        /' "$tmp/full.log"
    fi
  done
fi

# 3e. A results path whose absolute form (the working directory's physical path plus the name)
# nears PATH_MAX: OMPIO's own open failed and Open MPI crashed (SIGSEGV, the temporary file left);
# now refused before the run, once, exit 1, nothing written. The working directory is ~3,850 bytes
# deep (made one folder at a time: no single path given to mkdir is that long).
deep=$(
  cd "$tmp" && mkdir deep && cd deep
  d=$(printf 'x%.0s' $(seq 240))
  while (( $(pwd -P | wc -c) < 3830 )); do mkdir "$d" && cd "$d"; done
  mkdir "$(printf 'f%.0s' $(seq 250))"
  pwd -P
)
par_abs=$(realpath "$par") seed_abs=$(realpath "$seed")
set +e
(cd "$deep" && timeout -k 10 120 "${mpirun[@]}" -n 2 "$par_abs" run "$seed_abs" -o "$(printf 'f%.0s' $(seq 250))/ok.h5" \
  --trials 300 --threads 1 --quiet) >"$tmp/deep.log" 2>&1
rc=$?
set -e
said=$(grep -c "is too long for Open MPI's MPI-IO" "$tmp/deep.log" || true)
if [[ $rc -eq 1 && $said -eq 1 && -z $(find "$tmp/deep" -name 'ok.h5*') ]]; then ok "absolute path near PATH_MAX: refused once, exit 1, no file"
else bad "absolute path near PATH_MAX: exit $rc, said $said times"; sed 's/^/        /' "$tmp/deep.log" | cut -c1-300; fi

# 4. errors found before the run starts: said once, by one rank; a scenario file that is bad on
# some ranks only (it may differ between nodes) ends the job instead of hanging it
badf="$tmp/bad.yaml"
sed 's/^roisim: 1$/roisim: 1\nbogus_key: 1/' "$seed" >"$badf"
mkdir -p "$tmp/good" "$tmp/badnode"
cp "$seed" "$tmp/good/f.yaml"
cp "$badf" "$tmp/badnode/f.yaml"
start_error() {  # name, expected text, mpirun arguments...
  local name=$1 text=$2
  shift 2
  set +e
  timeout -k 10 120 "${mpirun[@]}" "$@" >"$tmp/$name.log" 2>&1
  local rc=$?
  set -e
  local said
  said=$(grep -c -F -- "$text" "$tmp/$name.log" || true)
  if [[ $rc -ne 0 && $rc -ne 124 && $rc -ne 137 && $said -eq 1 && -z $(find "$tmp" -name "$name.h5*") ]]; then
    ok "$name: exit $rc, said once, no file"
  else
    bad "$name: exit $rc, said $said times"; sed 's/^/        /' "$tmp/$name.log"
  fi
}
start_error bad-input "unknown key 'bogus_key'" -n 3 "$par" run "$badf" -o "$tmp/bad-input.h5" --trials 300 --quiet
start_error folder-output "is a folder" -n 3 "$par" run "$seed" -o "$tmp/good" --trials 300 --quiet
start_error usage "--trials: must be a whole number" -n 3 "$par" run "$seed" -o "$tmp/usage.h5" --trials 0
pabs=$(realpath "$par")  # --wdir: the program's path must not depend on the folder
start_error bad-on-ranks-1-2 "seen by rank 1 only" -n 1 --wdir "$tmp/good" "$pabs" run f.yaml -o "$tmp/bad-on-ranks-1-2.h5" \
  --trials 300 --quiet : -n 2 --wdir "$tmp/badnode" "$pabs" run f.yaml -o "$tmp/bad-on-ranks-1-2.h5" --trials 300 --quiet
start_error bad-on-rank-0 "unknown key 'bogus_key'" -n 1 --wdir "$tmp/badnode" "$pabs" run f.yaml -o "$tmp/bad-on-rank-0.h5" \
  --trials 300 --quiet : -n 2 --wdir "$tmp/good" "$pabs" run f.yaml -o "$tmp/bad-on-rank-0.h5" --trials 300 --quiet

# 4b. Commands other than run are rank 0's alone: printed once (each rank printed them).
ok_once=1
for cmd in "validate $seed" "report $tmp/serial.h5 --format csv"; do
  timeout -k 10 120 "${mpirun[@]}" -n 3 "$par" $cmd >"$tmp/once.log" 2>&1 || ok_once=0
  [[ $(grep -c -e ': ok, ' -e '^scenario,' "$tmp/once.log") -eq 1 ]] || { ok_once=0; sed 's/^/        /' "$tmp/once.log" | head -5; }
done
if ((ok_once)); then ok "validate and report under mpirun: printed once"; else bad "validate and report under mpirun: printed once per rank"; fi

# 5. The memory estimate rank 0 checks (ROISIM_TIMELINE prints it) bounds every rank's peak RSS,
#    in trial blocks at one thread too, where the gathered rows sit beside one engine buffer set,
#    and in scenario shares, whose engines run batches of the file layout's 64 scenarios (the
#    estimate had counted a one-thread process's 32).
#    (Not under AddressSanitizer, whose shadow memory is not the program's.)
if ! grep -q __asan_init "$par"; then
  for split_mode in "trials --summary-only" "trials --compression=1" "scenarios --compression=1"; do
    read -r split mode <<<"$split_mode"
    # Each rank's /usr/bin/time writes its own file (-o): on the shared stderr the ranks' lines
    # interleave mid-line ("ppeak e95196").
    rm -f "$tmp"/mem.peak.*
    ROISIM_TIMELINE=1 ROISIM_MPI_SPLIT=$split timeout -k 10 300 "${mpirun[@]}" -x ROISIM_TIMELINE -x ROISIM_MPI_SPLIT -n 2 \
      bash -c 'exec /usr/bin/time -f "peak %M" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$tmp/mem.peak" \
      "$par" run "$seed" --trials 10000 --threads 1 "$mode" -o "$tmp/mem.h5" --quiet >"$tmp/mem.log" 2>&1 || true
    est=$(awk '/memory estimate \(MiB\)/ {print $NF}' "$tmp/mem.log")
    batch=$(awk '/memory estimate batch/ {print $NF}' "$tmp/mem.log")
    peaks=$(cat "$tmp"/mem.peak.* 2>/dev/null | grep -c '^peak [0-9]*$')
    peak=$(cat "$tmp"/mem.peak.* 2>/dev/null | awk '/^peak / {if ($2 > m) m = $2} END {print int(m / 1024)}')
    # The ranks run batches of the file layout's 64 scenarios: the estimate counts those (it had
    # counted a one-process run's 32 at one thread, its slack hiding the difference).
    if [[ -n $est && $peaks -eq 2 && $peak -le $est && $batch == 64 ]]; then ok "memory estimate ($split) $mode: $est MiB >= rank peak $peak MiB, batch $batch"
    else bad "memory estimate ($split) $mode: '$est' MiB, rank peak $peak MiB ($peaks of 2 ranks measured), batch '$batch' (want 64)"
      sed 's/^/        /' "$tmp/mem.log" "$tmp"/mem.peak.* 2>/dev/null; fi
  done
fi

if ((failed)); then echo "test_mpi: FAILED"; else echo "test_mpi: all passed"; fi
exit "$failed"
