#pragma once
// Distributed runs (issue 8): `mpirun -n R roisim run FILE -o OUT.h5` splits the scenarios (or, when
// they are few and large, every scenario's trials) across R MPI ranks (oneTBB stays the parallelism inside each rank) and writes one results file collectively
// with parallel HDF5, bit for bit the data the single-process run writes. Built only with
// -DROISIM_WITH_MPI=ON (which links the OpenMPI flavour of HDF5); see README "Running on a cluster (MPI)".
#include <exception>
#include <string>

#include "sim/simulation.h"

namespace roisim::mpi {

// MPI_Init_thread (MPI_THREAD_FUNNELED: only the thread that calls MPI uses it; TBB workers never
// do). Safe to call when not started by mpirun (a singleton world of one rank).
void init(int* argc, char*** argv);
// MPI_Finalize, once, if init ran.
void finalize();
int rank();
int size();

// Thrown on ranks other than 0 for an error that rank 0 reports itself (e.g. bad input found
// while preparing the run): the process prints nothing and exits with code().
class QuietExit : public std::exception {
 public:
  explicit QuietExit(int code) : code_(code) {}
  int code() const { return code_; }
  const char* what() const noexcept override { return "error reported by rank 0"; }

 private:
  int code_;
};

// Before the run's first collective step (every rank loads the scenario file and checks the
// output itself): each rank passes what stopped it (null: nothing). If some rank failed, the
// lowest such rank rethrows its error, for main to report (naming the rank unless it is rank 0),
// and every other rank throws QuietExit(1): one message, one exit code, no rank left waiting in a
// collective call for a rank that has gone (the scenario file may differ between nodes).
void agree_to_start(std::exception_ptr error);

// simulate_to_file across every rank of MPI_COMM_WORLD; every rank calls it with the same plan and
// request. Rank 0 prepares the run (auto-stop search, resource check, work split, file skeleton),
// every rank simulates its contiguous range of scenarios (balanced by estimated cost) or its block
// of every scenario's trials (exchanging them so that each rank summarises a share of the
// scenarios) and writes its rows collectively; rank 0 commits (fsync + rename) once every rank has succeeded.
// Errors found while preparing are thrown on rank 0 (QuietExit on the others); a failure after
// that, on any rank, prints "roisim: rank K failed: WHY", removes the temporary file and calls
// MPI_Abort (exit 1): no file at the target name. The returned report is complete on rank 0 only.
// Test hook: ROISIM_MPI_FAIL_RANK=K makes rank K fail after its first batch.
RunReport simulate_to_file(const Plan& plan, const RunRequest& request);

}  // namespace roisim::mpi
