// Distributed runs (issue 8): MPI across ranks, oneTBB within each rank, one results file written
// collectively with parallel HDF5. See sim/mpi_run.h and README "Running on a cluster (MPI)".
//
// The run, in four steps:
//  1. Rank 0 prepares: the auto-stop search (--target-ci), the resource check, the batch size, the
//     work split and the temporary file "<target>.tmp-<pid>-<6 hex>" with the complete SPEC §6
//     skeleton (every dataset, dimension scale, attribute and constant axis; the same creation order
//     and properties as sim/results_file.cpp), made in memory and written out (create_skeleton). It
//     broadcasts the outcome; an error here is thrown on rank 0 and QuietExit on the others.
//  2. Every rank opens the file with the MPI-IO driver (from inside its folder: InFolder) and
//     simulates its contiguous range
//     [first, last) of scenarios with its own Engine (same bits as inside the full run), or its
//     trial block of every scenario (below). Each batch's
//     per-trial rows are written with one collective H5Dwrite per dataset; HDF5 applies the filters
//     (shuffle + deflate + fletcher32, collective filtered writes, HDF5 >= 1.10.2). Ranks take part
//     in write rounds until every rank is done (an all-reduce per round), with empty selections once
//     their own range is written, so every rank makes the same number of collective calls.
//  3. The per-scenario statistics, kept in memory (small), are written once per dataset collectively.
//     The file is closed collectively.
//  4. The variable-length string datasets `scenario` and `funded` (parallel HDF5 1.10 cannot write
//     variable-length data) are gathered to rank 0, which writes them with the serial driver, closes,
//     fsyncs and renames the file onto the target.
// A failure after step 1, on any rank, prints "roisim: rank K failed: WHY", removes the temporary
// file (the folder is shared by every rank) and calls MPI_Abort: the target never appears.
//
// The work split. By default scenarios are the unit: each scenario costs about trials x (funded
// projects + 1) (the value models of each funded project, plus the sort for its quantiles); rank 0
// splits the cumulative cost into R contiguous ranges of equal cost, aligned to the per-trial
// chunk rows (trial_chunk_shape), so that each rank writes whole chunks. When that split is uneven
// (few or huge scenarios: the largest share above kMaxImbalance times an even one), every
// scenario's trials are split instead (run_trial_blocks): each rank evaluates trials
// [N r / R, N (r + 1) / R) of every scenario of a batch, the ranks exchange the per-trial results
// so that each holds all the trials of an even share of the batch's scenarios, and each computes
// and writes those. ROISIM_MPI_SPLIT=auto|scenarios|trials overrides the choice.
#include "sim/mpi_run.h"
#include "sim/hdf5.h"
#include "sim/replaced_file.h"
#include "sim/results_datasets.h"
#include "sim/results_fields.h"

#include <fcntl.h>
#include <hdf5.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <exception>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <utility>

#include "sim/engine.h"
#include "sim/errors.h"

#ifndef H5_HAVE_PARALLEL
#error "sim/mpi_run.cpp needs the parallel HDF5 (Debian: libhdf5-openmpi-dev); configure with -DROISIM_WITH_MPI=ON"
#endif

namespace roisim::mpi {
namespace {

bool g_initialised = false;
// h5::g_collective (sim/hdf5.h) is true while the file is open with the MPI-IO driver: closing an
// HDF5 object is then a collective call, which a rank unwinding from an error must not make (the
// other ranks are elsewhere and it would wait forever); it leaves the handles open and aborts instead.

// ------------------------------------------------------------------------------------------------
// MPI helpers

void mpi_check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw Error(std::string("MPI ") + what + " failed: " + std::string(msg, static_cast<std::size_t>(len)));
}

// Waits for a non-blocking operation without spinning a core (OpenMPI's blocking collectives
// busy-poll, which would steal CPU from the TBB workers of ranks that share the node).
void wait_gently(MPI_Request* req, const char* what) {
  int done = 0;
  for (int i = 0;; ++i) {
    mpi_check(MPI_Test(req, &done, MPI_STATUS_IGNORE), what);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::microseconds(i < 100 ? 20 : 500));
  }
}

void bcast_gently(void* buf, int count, MPI_Datatype type, const char* what) {
  MPI_Request req;
  mpi_check(MPI_Ibcast(buf, count, type, 0, MPI_COMM_WORLD, &req), what);
  wait_gently(&req, what);
}

void bcast_string(std::string& s, const char* what) {
  std::uint64_t n = s.size();
  bcast_gently(&n, 1, MPI_UINT64_T, what);
  s.resize(n);
  if (n) bcast_gently(s.data(), static_cast<int>(n), MPI_CHAR, what);
}

// True when any rank passes true.
bool any_rank(bool mine) {
  int in = mine ? 1 : 0, out = 0;
  MPI_Request req;
  mpi_check(MPI_Iallreduce(&in, &out, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD, &req), "all-reduce");
  wait_gently(&req, "all-reduce");
  return out != 0;
}

// Gathers every rank's strings, in rank order, to rank 0 (NUL-separated).
std::vector<std::string> gather_strings(const std::vector<std::string>& mine, int nranks, int me) {
  std::string packed;
  for (const auto& s : mine) packed.append(s).push_back('\0');
  if (packed.size() > static_cast<std::size_t>(INT32_MAX)) throw Error("MPI gather: too many scenario names");
  int len = static_cast<int>(packed.size());
  std::vector<int> lens(me == 0 ? nranks : 0), displs(me == 0 ? nranks : 0);
  mpi_check(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, MPI_COMM_WORLD), "gather");
  std::string all;
  if (me == 0) {
    std::size_t total = 0;
    for (int r = 0; r < nranks; ++r) displs[r] = static_cast<int>(total), total += static_cast<std::size_t>(lens[r]);
    if (total > static_cast<std::size_t>(INT32_MAX)) throw Error("MPI gather: too many scenario names");
    all.resize(total);
  }
  mpi_check(MPI_Gatherv(packed.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(), MPI_CHAR, 0,
                        MPI_COMM_WORLD),
            "gatherv");
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < all.size();) {
    const std::size_t end = all.find('\0', pos);
    out.emplace_back(all, pos, end - pos);
    pos = end + 1;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Failure: the temporary file's name, for the error path and the signal handler.

char g_temp[4096] = {};

// Kept as an absolute path: while the file is open for MPI-IO the working directory is its folder
// (InFolder, below), and the handlers may run then.
void set_temp(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(path, ec);
  std::snprintf(g_temp, sizeof g_temp, "%s", ec ? path.c_str() : abs.c_str());
}

extern "C" void on_fatal_signal(int sig) {
  // mpirun sends SIGTERM to the surviving ranks when one dies (and to all on Ctrl-C); a rank may be
  // blocked in a collective call, so remove the temporary file and leave at once.
  if (g_temp[0]) ::unlink(g_temp);
  ::_exit(128 + sig);
}

void install_fatal_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// ------------------------------------------------------------------------------------------------
// Open MPI and long names. Open MPI's default MPI-IO layer (OMPIO) makes files of its own, named
// after the name given to MPI_File_open, at every open: its lockedfile component writes
// "<name>.locktest.<rank>" into a 256-byte buffer (a longer name overflowed it: glibc aborted the
// rank, leaving the temporary file), its sm component makes "<base name>_cid-<cid>-<pid>.sm" (a base
// name of ~225 bytes or more passes NAME_MAX: the open failed, or hung). So every rank opens the
// temporary file by its name alone, at most kMpiNameMax bytes (temporary_path cuts a longer target
// name), from inside its folder: the working directory is the file's folder from the collective
// open to the collective close (OMPIO removes its files by those names when the file is closed),
// and the earlier one again afterwards. Nothing else in a rank uses a relative path meanwhile.
constexpr std::size_t kMpiNameMax = 200;

// The folder of `path` (empty for a bare name) and its last component.
std::pair<std::string, std::string> folder_and_name(const std::string& path) {
  const std::filesystem::path p(path);
  return {p.parent_path().string(), p.filename().string()};
}

class InFolder {
 public:
  // Makes the folder of `path` the working directory (if path names one); name(): the file's name.
  InFolder(const std::string& path, const std::string& fn) {
    std::string folder;
    std::tie(folder, name_) = folder_and_name(path);
    if (folder.empty()) return;  // in the working directory already
    saved_ = ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (saved_ < 0)
      throw IoError("results file '" + fn + "': opening the working directory failed (" + std::strerror(errno) + ")");
    if (::chdir(folder.c_str()) != 0) {
      const int e = errno;
      ::close(saved_);
      saved_ = -1;
      throw IoError("results file '" + fn + "': entering its folder failed (" + std::strerror(e) + ")");
    }
  }
  InFolder(const InFolder&) = delete;
  InFolder& operator=(const InFolder&) = delete;
  ~InFolder() {
    if (saved_ >= 0) {
      (void)::fchdir(saved_);
      ::close(saved_);
    }
  }
  const std::string& name() const { return name_; }
  // The earlier working directory again.
  void leave(const std::string& fn) {
    if (saved_ < 0) return;
    const int rc = ::fchdir(saved_), e = errno;
    ::close(saved_);
    saved_ = -1;
    if (rc != 0)
      throw IoError("results file '" + fn + "': returning to the working directory failed (" + std::strerror(e) + ")");
  }

 private:
  std::string name_;
  int saved_ = -1;
};

// OMPIO also makes the name absolute (the folder's physical path, getcwd, plus the name); where
// that reaches PATH_MAX its open fails and Open MPI 4.1 then crashes in its own clean-up (SIGSEGV,
// the temporary file left). Such a path is refused before the run instead (kMpiPathMargin: room
// for the names OMPIO derives from it).
constexpr std::size_t kMpiPathMargin = 64;
void check_mpi_path(const std::string& temp, const std::string& fn) {
  const auto [folder, base] = folder_and_name(temp);
  const std::size_t name = base.size();
  std::error_code ec;
  const std::filesystem::path real = std::filesystem::canonical(folder.empty() ? "." : folder, ec);
  const bool beyond = ec == std::errc::filename_too_long;  // the folder's physical path alone passes PATH_MAX
  if (ec && !beyond) return;  // the folder's other errors are reported where it is used
  const std::size_t length = beyond ? PATH_MAX : real.native().size() + 1 + name;
  if (length + kMpiPathMargin >= PATH_MAX)
    throw IoError("results file '" + fn + "': its absolute path (" + (beyond ? "over " : "") + std::to_string(length) +
                  " bytes, the folder's physical path and the temporary name) is too long for Open MPI's MPI-IO (at most " +
                  std::to_string(PATH_MAX - kMpiPathMargin - 1) + "); use a shorter path");
}

// code: mpirun's exit status (MPI_Abort's error code); 130 for an interrupted rank, as without MPI.
[[noreturn]] void fail_rank(int me, const char* why, int code = 1) {
  std::fprintf(stderr, "roisim: rank %d failed: %s\n", me, why);
  std::fflush(stderr);
  if (g_temp[0]) ::unlink(g_temp);  // every rank sees the same (shared) folder
  g_temp[0] = '\0';
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // not reached
}

// ------------------------------------------------------------------------------------------------
// HDF5: sim/hdf5.h (errors, handles; h5::g_collective while the file is open for MPI-IO)

using namespace h5;

// ------------------------------------------------------------------------------------------------
// The dataset tables are sim/results_fields.h, shared with sim/results_file.cpp (and
// tests/test_mpi.sh compares every dataset and attribute with the single-process file).

using namespace results_fields;
constexpr const char* kTrialNames[3] = {"roi", "npv", "payback_month"};
// [scenario, month, quantile]; NaN rows where the engine did not compute them.
constexpr const char* kCashflowName = "cashflow_quantile";

// Step 1: the whole file but the per-scenario values and the scenario / funded strings, made by
// create_results_datasets as ResultsWriter makes it (rank 0 alone).
// path: the file to create; fn: the name its messages give (the results file asked for).
// The file is built in memory (HDF5's core driver, no backing store) and its image written out here:
// a write that fails (a full disk) is then this function's error, reported with the file removed.
// Written by HDF5's sec2 driver, such a failure surfaced in H5Fclose, and HDF5 1.10's clean-up
// (H5close, which parallel HDF5 also runs from MPI_Finalize) then died with SIGSEGV on the
// half-closed file: rank 0 exited 139 after reporting the error.
void create_skeleton(const std::string& path, const std::string& fn, const ResultsLayout& layout) {
  std::vector<unsigned char> image;
  {
    Hid fapl = make_plist(H5P_FILE_ACCESS, fn);
    check(H5Pset_fapl_core(fapl.get(), std::size_t{1} << 20, false), fn, "selecting HDF5's in-memory driver");
    Hid file = create_temporary_file(path, fn, fapl.get());
    Hid vlen = make_vlen_utf8(fn);
    create_results_datasets(file.get(), fn, layout, vlen.get());  // every dataset closed again
    vlen.reset();
    check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), fn, "flushing the file's layout");
    const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
    if (size <= 0) check(-1, fn, "reading the file's layout back");
    image.resize(static_cast<std::size_t>(size));
    if (H5Fget_file_image(file.get(), image.data(), image.size()) != size) check(-1, fn, "reading the file's layout back");
    check(file.close(), fn, "closing the in-memory file");
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    throw IoError("results file '" + fn + "': creating '" + path + "' (written there, then renamed) failed (" +
                  std::strerror(errno) + ")");
  std::size_t done = 0;
  int err = 0;
  while (done < image.size() && !err) {
    const ssize_t n = ::write(fd, image.data() + done, image.size() - done);
    if (n > 0) done += static_cast<std::size_t>(n);
    else if (n < 0 && errno == EINTR) continue;
    else err = n < 0 ? errno : EIO;
  }
  if (::close(fd) != 0 && !err) err = errno;
  if (err) {
    ::unlink(path.c_str());
    throw IoError("results file '" + fn + "': writing '" + path + "' failed (" + std::strerror(err) + ")");
  }
}

// A contiguous range of scenarios (rows): [first, first + count).
struct Rows {
  std::uint64_t first = 0, count = 0;
};

// Writes the rows of `rows` (ascending, disjoint; buf holds them one after another) x cols of a
// [rows, cols] (rank 2) or [rows] (rank 1) dataset collectively; no rows takes part with an empty
// selection. A rank-3 dataset takes its last two extents from the file.
void write_ranges_collective(hid_t dset, hid_t dxpl, const std::vector<Rows>& rows, int rank, hsize_t cols,
                             const double* buf, const std::string& name, const std::string& fn) {
  const std::string op = "writing rows of '" + name + "'";
  Hid fspace = make(H5Dget_space(dset), H5Sclose, fn, op);
  hsize_t size[3] = {0, cols, 0};
  if (rank == 3) {
    hsize_t dims[3];
    check(H5Sget_simple_extent_dims(fspace.get(), dims, nullptr), fn, op);
    size[1] = dims[1];
    size[2] = dims[2];
  }
  const hsize_t one[3] = {1, std::max<hsize_t>(1, size[1]), std::max<hsize_t>(1, size[2])};
  hsize_t total = 0;
  bool any = false;
  for (const Rows& r : rows) {
    if (r.count == 0) continue;
    const hsize_t start[3] = {r.first, 0, 0};
    hsize_t block[3] = {r.count, size[1], size[2]};
    check(H5Sselect_hyperslab(fspace.get(), any ? H5S_SELECT_OR : H5S_SELECT_SET, start, nullptr, block, nullptr),
          fn, op);
    any = true;
    total += r.count;
  }
  Hid mspace;
  if (!any) {
    check(H5Sselect_none(fspace.get()), fn, op);
    mspace = make(H5Screate_simple(rank, one, nullptr), H5Sclose, fn, op);
    check(H5Sselect_none(mspace.get()), fn, op);
  } else {
    size[0] = total;
    mspace = make(H5Screate_simple(rank, size, nullptr), H5Sclose, fn, op);
  }
  static const double dummy = 0;
  check(H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace.get(), fspace.get(), dxpl, buf ? buf : &dummy), fn, op);
}

void write_rows_collective(hid_t dset, hid_t dxpl, std::uint64_t first, std::uint64_t count, int rank,
                           hsize_t cols, const double* buf, const std::string& name, const std::string& fn) {
  write_ranges_collective(dset, dxpl, {Rows{first, count}}, rank, cols, buf, name, fn);
}

// Splits [0, S) into `ranks` contiguous ranges of about equal cost, boundaries on multiples of
// `unit` scenarios. cost(i) = funded projects of scenario i + 1 (x trials, the same for all).
std::vector<std::uint64_t> split_by_cost(const Plan& plan, std::uint64_t unit, int ranks) {
  const std::uint64_t S = plan.scenario_count();
  unit = std::max<std::uint64_t>(1, unit);
  const std::uint64_t units = (S + unit - 1) / unit;
  std::vector<double> prefix(units + 1, 0.0);  // cost of units [0, u)
  for (std::uint64_t u = 0; u < units; ++u) {
    double c = 0;
    for (std::uint64_t i = u * unit; i < std::min(S, (u + 1) * unit); ++i)
      c += static_cast<double>(plan.scenario(i).funded.size() + 1);
    prefix[u + 1] = prefix[u] + c;
  }
  std::vector<std::uint64_t> bounds(static_cast<std::size_t>(ranks) + 1, 0);
  std::uint64_t u = 0;
  for (int r = 1; r < ranks; ++r) {
    const double target = prefix[units] * r / ranks;
    while (u < units && prefix[u + 1] <= target) ++u;
    // u: the first unit boundary with prefix[u] <= target < prefix[u + 1]; take the nearer end.
    std::uint64_t b = u;
    if (u < units && target - prefix[u] > prefix[u + 1] - target) b = u + 1;
    bounds[r] = std::min(S, b * unit);
    bounds[r] = std::max(bounds[r], bounds[r - 1]);
  }
  bounds[ranks] = S;
  return bounds;
}

// Cost of each rank's range of split_by_cost, over the cost of an even share (1 = balanced).
double imbalance(const Plan& plan, const std::vector<std::uint64_t>& bounds) {
  const int ranks = static_cast<int>(bounds.size()) - 1;
  std::vector<double> cost(static_cast<std::size_t>(ranks), 0.0);
  double total = 0;
  for (int r = 0; r < ranks; ++r) {
    for (std::uint64_t i = bounds[r]; i < bounds[r + 1]; ++i)
      cost[r] += static_cast<double>(plan.scenario(i).funded.size() + 1);
    total += cost[r];
  }
  if (!(total > 0)) return 1.0;
  return *std::max_element(cost.begin(), cost.end()) / (total / ranks);
}

// How the work is split: whole scenarios per rank, or every scenario's trials across the ranks.
enum class Split : std::uint64_t { Scenarios = 0, Trials = 1 };
constexpr double kMaxImbalance = 1.25;          // auto: trial blocks beyond this scenario imbalance
constexpr std::uint64_t kMinTrialsPerRank = 1024;  // auto: ... if every rank gets this many trials

// ROISIM_MPI_SPLIT=auto|scenarios|trials (default auto).
Split choose_split(const Plan& plan, const std::vector<std::uint64_t>& bounds, int ranks, double& ratio) {
  ratio = imbalance(plan, bounds);
  const char* env = std::getenv("ROISIM_MPI_SPLIT");
  const std::string want = env && *env ? env : "auto";
  if (want == "scenarios") return Split::Scenarios;
  if (want == "trials") return ranks > 1 ? Split::Trials : Split::Scenarios;
  if (want != "auto")
    throw InputError("ROISIM_MPI_SPLIT is '" + want + "'; expected auto, scenarios or trials");
  const std::uint64_t n = plan.settings().trials;
  return ranks > 1 && ratio > kMaxImbalance && n >= kMinTrialsPerRank * static_cast<std::uint64_t>(ranks)
             ? Split::Trials
             : Split::Scenarios;
}

// Trial blocks: [0, N) in `ranks` contiguous ranges of equal size (every rank evaluates every
// scenario of a batch on its range, so equal trials are equal cost).
std::vector<std::uint64_t> split_trials(std::uint64_t n, int ranks) {
  std::vector<std::uint64_t> b(static_cast<std::size_t>(ranks) + 1);
  for (int r = 0; r <= ranks; ++r) b[r] = n * static_cast<std::uint64_t>(r) / static_cast<std::uint64_t>(ranks);
  return b;
}

// Trial blocks: the scenarios of a batch [s0, s0 + count) whose statistics (and per-trial rows)
// rank r computes and writes: an even, contiguous share.
Rows batch_share(std::uint64_t s0, std::uint64_t count, int r, int ranks) {
  const std::uint64_t a = count * static_cast<std::uint64_t>(r) / static_cast<std::uint64_t>(ranks);
  const std::uint64_t b = count * static_cast<std::uint64_t>(r + 1) / static_cast<std::uint64_t>(ranks);
  return {s0 + a, b - a};
}

int mpi_count(std::uint64_t n, const char* what) {
  if (n > static_cast<std::uint64_t>(INT32_MAX))
    throw Error(std::string("MPI exchange of ") + what + ": more than 2^31 values in one message (use smaller batches)");
  return static_cast<int>(n);
}

// Sends each rank r the part of `src` it needs (send_count[r] values from send_displ[r]) and
// receives recv_count[r] values from each rank r into dst at recv_displ[r]: MPI_Alltoallv, waited
// for gently.
void exchange(const double* src, const std::vector<int>& send_count, const std::vector<int>& send_displ, double* dst,
              const std::vector<int>& recv_count, const std::vector<int>& recv_displ, const char* what) {
  // A rank with nothing to send or receive sends one value to itself instead: with Open MPI 4.1's
  // libnbc, trial-block runs in which one rank's part of the last exchange was empty (its trials
  // all past --cashflow-trials, no scenario of its own) hung in the next non-blocking collective
  // on that rank alone, after the file was written.
  const bool empty = std::all_of(send_count.begin(), send_count.end(), [](int c) { return c == 0; }) &&
                     std::all_of(recv_count.begin(), recv_count.end(), [](int c) { return c == 0; });
  double dummy_out = 0, dummy_in = 0;
  std::vector<int> self, zero;
  if (empty) {
    int me = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    self.assign(send_count.size(), 0);
    zero.assign(send_count.size(), 0);
    self[static_cast<std::size_t>(me)] = 1;
  }
  MPI_Request req;
  mpi_check(empty ? MPI_Ialltoallv(&dummy_out, self.data(), zero.data(), MPI_DOUBLE, &dummy_in, self.data(), zero.data(),
                                   MPI_DOUBLE, MPI_COMM_WORLD, &req)
                  : MPI_Ialltoallv(src ? src : &dummy_out, send_count.data(), send_displ.data(), MPI_DOUBLE,
                                   dst ? dst : &dummy_in, recv_count.data(), recv_displ.data(), MPI_DOUBLE,
                                   MPI_COMM_WORLD, &req),
            what);
  wait_gently(&req, what);
}

// The engine's sampling split over the ranks: each samples its part of the trials and ranks every
// R-th input, then all-gathers / broadcasts them (so sampling divides over ranks too).
std::shared_ptr<const SampleSharing> sample_sharing(int R, int me) {
  auto s = std::make_shared<SampleSharing>();
  s->part = me;
  s->parts = R;
  s->gather = [R](double* data, std::size_t n) {
    std::vector<int> count(R), displ(R);
    for (int r = 0; r < R; ++r) {
      const std::uint64_t a = n * static_cast<std::uint64_t>(r) / static_cast<std::uint64_t>(R);
      const std::uint64_t b = n * static_cast<std::uint64_t>(r + 1) / static_cast<std::uint64_t>(R);
      count[r] = mpi_count(b - a, "sampled inputs");
      displ[r] = mpi_count(a, "sampled inputs");
    }
    MPI_Request req;
    mpi_check(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, count.data(), displ.data(), MPI_DOUBLE,
                              MPI_COMM_WORLD, &req),
              "all-gather of sampled inputs");
    wait_gently(&req, "all-gather of sampled inputs");
  };
  s->broadcast = [](double* data, std::size_t n, int from) {
    MPI_Request req;
    mpi_check(MPI_Ibcast(data, mpi_count(n, "input ranks"), MPI_DOUBLE, from, MPI_COMM_WORLD, &req),
              "broadcast of input ranks");
    wait_gently(&req, "broadcast of input ranks");
  };
  return s;
}

// The rows rank r summarises and writes, ascending.
std::vector<Rows> owned_rows(Split split, const std::vector<std::uint64_t>& bounds, std::uint64_t scenarios,
                             std::uint64_t batch, int r, int ranks) {
  if (split == Split::Scenarios) return {Rows{bounds[r], bounds[r + 1] - bounds[r]}};
  std::vector<Rows> out;
  for (std::uint64_t s0 = 0; s0 < scenarios; s0 += batch) {
    const Rows b = batch_share(s0, std::min(batch, scenarios - s0), r, ranks);
    if (b.count) out.push_back(b);
  }
  return out;
}

// Trial split (large scenarios, few of them): for each batch of scenarios, every rank evaluates
// its trials [tb[me], tb[me + 1]) of every scenario (Engine::simulate_trials), then each rank
// gathers all the trials of its share of the batch's scenarios (batch_share) from every rank
// (four all-to-all exchanges: ROI, NPV, payback, cash-flow trials), computes their statistics
// (Engine::summarize_trials: the same bits as the single-process run) and writes their per-trial
// rows collectively. Every rank takes part in every batch.
void run_trial_blocks(Engine& engine, const Plan& plan, std::uint64_t batch, const std::vector<std::uint64_t>& tb,
                      int R, int me, const Hid* trial_ds, hid_t dxpl, const std::string& fn,
                      const std::function<void(const Progress&)>& progress, bool fail_here,
                      const std::function<void(const BatchResults&)>& keep) {
  const std::uint64_t S = plan.scenario_count(), N = plan.settings().trials;
  const std::uint64_t months = static_cast<std::uint64_t>(plan.settings().horizon_months) + 1;
  const std::uint64_t cash_n = engine.cashflow_trials();
  std::vector<std::uint64_t> len(R), cash_len(R);  // each rank's trials, and those below cash_n
  for (int r = 0; r < R; ++r) {
    len[r] = tb[r + 1] - tb[r];
    cash_len[r] = tb[r] < cash_n ? std::min(tb[r + 1], cash_n) - tb[r] : 0;
  }
  Engine::TrialRows rows;
  std::vector<double> recv, roi, npv, pay, cash;
  std::vector<int> sc(R), sd(R), rc(R), rd(R);
  for (std::uint64_t s0 = 0; s0 < S; s0 += batch) {
    const std::uint64_t count = std::min(batch, S - s0);
    engine.simulate_trials(s0, count, tb[me], tb[me + 1], rows);
    const Rows share = batch_share(s0, count, me, R);
    // One exchange per quantity: `per` values per scenario on rank r (per(r)); the received
    // blocks [share.count][per(r)] are put back in trial order into full[share.count][width].
    auto gather = [&](const std::vector<double>& src, const std::function<std::uint64_t(int)>& per,
                      std::uint64_t width, std::uint64_t inner, std::vector<double>& full, const char* what) {
      std::uint64_t total = 0;
      for (int r = 0; r < R; ++r) {
        const Rows theirs = batch_share(s0, count, r, R);
        sc[r] = mpi_count(theirs.count * per(me), what);
        sd[r] = mpi_count((theirs.first - s0) * per(me), what);
        rc[r] = mpi_count(share.count * per(r), what);
        rd[r] = mpi_count(total, what);
        total += share.count * per(r);
      }
      recv.resize(total);
      exchange(src.data(), sc, sd, recv.data(), rc, rd, what);
      // per(r) = inner rows of (per(r) / inner) values each; rank r's values go to columns
      // [tb[r], tb[r] + per(r) / inner) of each inner row.
      full.resize(share.count * inner * width);
      for (int r = 0; r < R; ++r) {
        const std::uint64_t w = per(r) / inner;
        if (w == 0) continue;
        for (std::uint64_t i = 0; i < share.count * inner; ++i)
          std::copy_n(&recv[static_cast<std::size_t>(rd[r]) + i * w], w, &full[i * width + tb[r]]);
      }
    };
    const auto trials_of = [&](int r) { return len[r]; };
    const auto cash_of = [&](int r) { return cash_len[r] * months; };
    gather(rows.roi, trials_of, N, 1, roi, "ROI trials");
    gather(rows.npv, trials_of, N, 1, npv, "NPV trials");
    gather(rows.payback, trials_of, N, 1, pay, "payback trials");
    gather(rows.cash, cash_of, cash_n, months, cash, "cash-flow trials");
    if (share.count) keep(engine.summarize_trials(share.first, share.count, roi.data(), npv.data(), pay.data(), cash.data()));
    if (trial_ds) {
      const double* src[3] = {roi.data(), npv.data(), pay.data()};
      for (int d = 0; d < 3; ++d)
        write_rows_collective(trial_ds[d].get(), dxpl, share.first, share.count, 2, N, share.count ? src[d] : nullptr,
                              kTrialNames[d], fn);
    }
    if (progress) progress({s0 + count, S, N, (s0 + count) * N});  // identical scenarios are simulated too
    if (fail_here) throw Error("test hook ROISIM_MPI_FAIL_RANK=" + std::to_string(me));
  }
}

}  // namespace

void init(int* argc, char*** argv) {
  int already = 0;
  MPI_Initialized(&already);
  if (already) return;
  // No atexit clean-up by HDF5: after a failure a rank leaves files open on purpose (see
  // g_collective) and MPI_Abort may run exit handlers; finalize() calls H5close itself.
  H5dont_atexit();
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    std::fprintf(stderr, "roisim: MPI_Init_thread failed\n");
    std::exit(1);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  g_initialised = true;
}

void finalize() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (g_initialised && !finalized) {
    H5close();
    MPI_Finalize();
  }
  g_initialised = false;
}

void agree_to_start(std::exception_ptr error) {
  int R = 1, me = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &R);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  int mine = error ? me : R, first = R;
  MPI_Request req;
  mpi_check(MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &req), "all-reduce of the start");
  wait_gently(&req, "all-reduce of the start");
  if (first == R) return;
  if (me != first) throw QuietExit(1);
  if (me == 0) std::rethrow_exception(error);
  try {
    std::rethrow_exception(error);
  } catch (const InputError& e) {
    // The same diagnostics, and a last one saying where they were seen.
    std::vector<Diagnostic> d = e.diagnostics();
    Diagnostic where;
    where.message = "seen by rank " + std::to_string(me) + " only: rank 0 found no problem (is the file the same on every node?)";
    d.push_back(std::move(where));
    throw InputError(std::move(d));
  } catch (const Cancelled&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(std::string(e.what()) + " (seen by rank " + std::to_string(me) + " only: rank 0 found no problem)");
  }
}

int rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

namespace {
// What a rank holds beside its engine: the MPI library and its buffers (a rank's resident memory
// at one trial is ~16 MiB above a plain process's) and, with gathered_rows (trial blocks), the
// batch's gathered rows (run_trial_blocks: one more set of a batch's per-trial buffers).
std::uint64_t rank_bytes(const Plan& plan, const RunRequest& request, bool gathered_rows) {
  return (std::uint64_t{32} << 20) + (gathered_rows ? Engine::batch_bytes(plan, request.engine) : 0);
}
// The resources check of the ranks' run (sim/simulation.h), counted as they run it: their engines
// take the file layout's batch (step 2 below), 64 scenarios where a one-process run on one or two
// threads takes 32 (the check had counted 32), and only trial blocks gather rows. (It still counts
// the writer stage's third set of outcomes with full output, which ranks, whose engines run no
// sink stage, do not keep: an over-count of one set.)
void check_rank_resources(const Plan& plan, RunRequest request, Split split) {
  request.engine.batch_scenarios = Engine::layout_batch_of(plan, request.engine);
  check_resources(plan, request, rank_bytes(plan, request, split == Split::Trials));
}
}  // namespace

RunReport simulate_to_file(const Plan& given, const RunRequest& request_in) {
  const auto start = std::chrono::steady_clock::now();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const int me = rank(), R = size();
  Plan plan = given;
  RunRequest request = request_in;
  if (me != 0) {
    request.engine.progress = nullptr;
    request.stage_started = nullptr;
  }
  // From here SIGINT/SIGTERM end this rank at once (removing the temporary file once it exists):
  // a rank may be blocked in a collective call and never see the engine's cancel flag.
  install_fatal_signal_handlers();
  if (request.engine.cancel && request.engine.cancel->load()) {  // signalled before
    // The other ranks are in (or on their way to) step 1's broadcast; leaving through main would
    // wait for them in MPI_Finalize, and they for this rank: end the job.
    if (R > 1) fail_rank(me, "interrupted", 130);
    throw Cancelled();
  }

  // ---- step 1: rank 0 prepares
  struct Setup {
    std::uint64_t trials = 0, batch = 0;
    std::int64_t status = 0;  // 0 ok; else the exit code the other ranks use
    Split split = Split::Scenarios;
  } setup;
  std::vector<std::uint64_t> bounds(static_cast<std::size_t>(R) + 1, 0);
  std::string temp, distribution;
  std::exception_ptr error;
  std::optional<AutoStop> stop;
  if (me == 0) {
    try {
      if (request.target_ci > 0) {
        Plan largest = plan;
        largest.settings().trials = std::max<std::uint64_t>(1, request.max_trials);
        RunRequest summary = request;
        summary.summary_only = true;
        // The search runs on rank 0 as one process does (its batch), beside the MPI library.
        check_resources(largest, summary, rank_bytes(largest, summary, true));
        stop = find_trial_count(plan, request);
        plan.settings().trials = stop->trials;
      }
      setup.batch = Engine::layout_batch_of(plan, request.engine);  // as a one-process run lays out its file
      setup.trials = plan.settings().trials;
      ResultsLayout layout = make_layout(plan, request, setup.batch);
      if (stop) {
        layout.attributes["target_ci"] = request.target_ci;
        layout.attributes["target_ci_met"] = static_cast<std::int64_t>(stop->met);
        layout.attributes["target_ci_widest"] = stop->widest;
      }
      if (request.output.empty()) throw IoError("results file: empty output path");
      if (request.compression < 0 || request.compression > 9)
        throw IoError("results file '" + request.output + "': compression level " +
                      std::to_string(request.compression) + " is not in 0-9");
      const std::uint64_t unit =
          layout.summary_only || layout.trials == 0 ? 1 : trial_chunk_shape(layout)[0];
      bounds = split_by_cost(plan, unit, R);
      double ratio = 1;
      setup.split = choose_split(plan, bounds, R, ratio);
      if (setup.split == Split::Trials) bounds = split_trials(setup.trials, R);
      check_rank_resources(plan, request, setup.split);
      char what[160];
      std::snprintf(what, sizeof what, "%d MPI rank%s, split by %s (scenario split: largest share %.2fx an even one)", R,
                    R == 1 ? "" : "s", setup.split == Split::Trials ? "trial blocks" : "scenarios", ratio);
      distribution = what;
      temp = temporary_path(request.output, kMpiNameMax);
      check_mpi_path(temp, request.output);
      set_temp(temp);
      try {
        create_skeleton(temp, request.output, layout);
      } catch (...) {
        ::unlink(temp.c_str());
        throw;
      }
    } catch (const Cancelled&) {
      error = std::current_exception();
      setup.status = 130;
    } catch (...) {
      error = std::current_exception();
      setup.status = 1;
    }
  }
  static_assert(sizeof(Setup) == 4 * 8);
  bcast_gently(&setup, 4, MPI_UINT64_T, "broadcast of the run setup");
  if (setup.status != 0) {
    if (me == 0) std::rethrow_exception(error);
    throw QuietExit(static_cast<int>(setup.status));
  }
  bcast_gently(bounds.data(), R + 1, MPI_UINT64_T, "broadcast of the work split");
  bcast_string(temp, "broadcast of the file name");
  set_temp(temp);
  plan.settings().trials = setup.trials;

  RunReport report;
  report.scenarios = plan.scenario_count();
  report.trials = setup.trials;
  report.auto_stop = stop;
  report.distribution = distribution;
  if (request.stage_started) request.stage_started(false);
  try {
    // ---- step 2: every rank simulates [first, last) and writes its per-trial rows collectively
    const std::uint64_t S = plan.scenario_count(), N = setup.trials, K = plan.input_names().size();
    const bool by_trials = setup.split == Split::Trials;
    // Scenario split: this rank's scenarios [first, last). Trial split: its trials [first, last) of
    // every scenario.
    const std::uint64_t first = bounds[me], last = bounds[me + 1];
    const bool trials_out = !request.summary_only && N > 0 && S > 0;
    Hid fapl = make(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, request.output, "creating a property list");
    check(H5Pset_fapl_mpio(fapl.get(), MPI_COMM_WORLD, MPI_INFO_NULL), request.output, "selecting the MPI-IO driver");
    InFolder in_folder(temp, request.output);  // until the file is closed: "Open MPI and long names"
    Hid file = make(H5Fopen(in_folder.name().c_str(), H5F_ACC_RDWR, fapl.get()), H5Fclose, request.output,
                    "opening (MPI-IO)");
    h5::g_collective = true;
    Hid dxpl = make(H5Pcreate(H5P_DATASET_XFER), H5Pclose, request.output, "creating a property list");
    check(H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE), request.output, "selecting collective I/O");
    auto open = [&](const char* name) {
      return make(H5Dopen2(file.get(), name, H5P_DEFAULT), H5Dclose, request.output, std::string("opening '") + name + "'");
    };
    std::array<Hid, 3> trial_ds;
    if (trials_out)
      for (int d = 0; d < 3; ++d) trial_ds[d] = open(kTrialNames[d]);

    const char* fail_env = std::getenv("ROISIM_MPI_FAIL_RANK");
    const bool fail_here = fail_env && *fail_env && std::atoi(fail_env) == me;
    std::vector<ScenarioSummary> summary;
    Drivers drivers;
    std::vector<std::string> names, funded;
    const std::uint64_t months_q = std::uint64_t(plan.settings().horizon_months + 1) * kNumQuantiles;
    std::vector<double> cashflow;  // [scenario][month][quantile]
    auto write_round = [&](const BatchResults* b) {
      const double* src[3] = {b ? b->roi : nullptr, b ? b->npv : nullptr, b ? b->payback : nullptr};
      for (int d = 0; d < 3; ++d)
        write_rows_collective(trial_ds[d].get(), dxpl.get(), b ? b->first : 0, b ? b->count : 0, 2, N, src[d],
                              kTrialNames[d], request.output);
    };
    Engine engine(plan, [&] {
      RunOptions o = request.engine;
      o.batch_scenarios = setup.batch;
      o.sharing = sample_sharing(R, me);
      return o;
    }());
    engine.sample_inputs();  // collective: every rank samples its share of the trials and ranks
    // The statistics of the scenarios this rank summarises, in row order.
    std::vector<Rows> mine;
    auto keep = [&](const BatchResults& b) {
      summary.insert(summary.end(), b.summary.begin(), b.summary.end());
      for (const auto& field : kInputFields)
        (drivers.*(field.member)).insert((drivers.*(field.member)).end(), (b.drivers.*(field.member)).begin(),
                                         (b.drivers.*(field.member)).end());
      names.insert(names.end(), b.names.begin(), b.names.end());
      funded.insert(funded.end(), b.funded.begin(), b.funded.end());
      if (b.cashflow_quantile.empty()) {  // not computed: NaN, as the serial writer stores it
        cashflow.resize(cashflow.size() + b.count * months_q, std::numeric_limits<double>::quiet_NaN());
      } else {
        if (b.cashflow_quantile.size() != b.count * months_q) throw Error("cashflow_quantile has the wrong size");
        cashflow.insert(cashflow.end(), b.cashflow_quantile.begin(), b.cashflow_quantile.end());
      }
      if (!mine.empty() && mine.back().first + mine.back().count == b.first) mine.back().count += b.count;
      else if (b.count) mine.push_back({b.first, b.count});
    };
    if (!by_trials) {
      if (first < last) {
        engine.run(
            [&](const BatchResults& b) {
              if (trials_out) {
                (void)any_rank(true);  // a write round: everyone takes part
                write_round(&b);
              }
              keep(b);
              if (fail_here) throw Error("test hook ROISIM_MPI_FAIL_RANK=" + std::to_string(me));
            },
            first, last);
      } else if (fail_here) {
        throw Error("test hook ROISIM_MPI_FAIL_RANK=" + std::to_string(me));
      }
      if (trials_out)
        while (any_rank(false)) write_round(nullptr);  // empty selections until every rank is done
    } else {
      run_trial_blocks(engine, plan, setup.batch, bounds, R, me, trials_out ? trial_ds.data() : nullptr, dxpl.get(),
                       request.output, request.engine.progress, fail_here, keep);
    }
    std::uint64_t count = 0;
    for (const Rows& r : owned_rows(setup.split, bounds, S, setup.batch, me, R)) count += r.count;
    if (summary.size() != count || names.size() != count)
      throw Error("the engine returned " + std::to_string(summary.size()) + " of " + std::to_string(count) +
                  " scenarios");

    // ---- step 3: the per-scenario statistics, one collective write per dataset
    std::vector<double> scratch(count * kNumQuantiles);
    for (const auto& field : kScalarFields) {
      for (std::uint64_t r = 0; r < count; ++r) scratch[r] = summary[r].*(field.member);
      Hid ds = open(field.name);
      write_ranges_collective(ds.get(), dxpl.get(), mine, 1, 0, scratch.data(), field.name, request.output);
      check(ds.close(), request.output, std::string("closing '") + field.name + "'");
    }
    for (const auto& field : kQuantileFields) {
      for (std::uint64_t r = 0; r < count; ++r)
        std::copy_n(summary[r].*(field.member), kNumQuantiles, scratch.begin() + r * kNumQuantiles);
      Hid ds = open(field.name);
      write_ranges_collective(ds.get(), dxpl.get(), mine, 2, kNumQuantiles, scratch.data(), field.name, request.output);
      check(ds.close(), request.output, std::string("closing '") + field.name + "'");
    }
    if (K > 0)
      for (const auto& field : kInputFields) {
        const auto& v = drivers.*(field.member);
        if (v.size() != count * K) throw Error(std::string("driver '") + field.name + "' has the wrong size");
        Hid ds = open(field.name);
        write_ranges_collective(ds.get(), dxpl.get(), mine, 2, K, v.data(), field.name, request.output);
        check(ds.close(), request.output, std::string("closing '") + field.name + "'");
      }
    {
      Hid ds = open(kCashflowName);
      write_ranges_collective(ds.get(), dxpl.get(), mine, 3, 0, cashflow.data(), kCashflowName, request.output);
      check(ds.close(), request.output, std::string("closing '") + kCashflowName + "'");
    }
    for (auto& d : trial_ds) check(d.close(), request.output, "closing a per-trial dataset (flushing its chunks)");
    dxpl.reset();
    check(file.close(), request.output, "closing (MPI-IO)");
    h5::g_collective = false;
    in_folder.leave(request.output);
    fapl.reset();
    report.timings = engine.timings();
    {  // scenarios copied from an identical earlier one: each rank copies within its own share
      std::uint64_t mine = report.timings.reused, all = 0;
      MPI_Request req;
      mpi_check(MPI_Iallreduce(&mine, &all, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD, &req), "sum of the copied scenarios");
      wait_gently(&req, "sum of the copied scenarios");
      report.timings.reused = all;
    }
    if (const char* env = std::getenv("ROISIM_MPI_TIMINGS"); env && *env && std::string(env) != "0") {
      // Where each rank's time went (seconds): for choosing ranks x threads.
      const EngineTimings& t = report.timings;
      std::fprintf(stderr, "roisim: rank %d: sampling %.3f, evaluation %.3f, portfolio %.3f, statistics %.3f, "
                   "until the file is closed %.3f\n", me, t.sampling, t.evaluation, t.portfolio, t.statistics,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }

    // ---- step 4: the strings on rank 0, then fsync and rename
    const auto commit_start = std::chrono::steady_clock::now();
    std::vector<std::string> all_names = gather_strings(names, R, me);
    std::vector<std::string> all_funded = gather_strings(funded, R, me);
    if (me == 0 && by_trials && all_names.size() == S && all_funded.size() == S) {
      // Gathered in rank order: put each rank's rows back in their places.
      std::vector<std::string> n2(S), f2(S);
      std::size_t at = 0;
      for (int r = 0; r < R; ++r)
        for (const Rows& rows : owned_rows(setup.split, bounds, S, setup.batch, r, R))
          for (std::uint64_t i = rows.first; i < rows.first + rows.count; ++i, ++at) {
            n2[i] = std::move(all_names[at]);
            f2[i] = std::move(all_funded[at]);
          }
      all_names.swap(n2);
      all_funded.swap(f2);
    }
    if (me == 0) {
      if (all_names.size() != S || all_funded.size() != S)
        throw Error("gathered " + std::to_string(all_names.size()) + " scenario names for " + std::to_string(S) +
                    " scenarios");
      Hid f = make(H5Fopen(temp.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose, request.output, "reopening");
      Hid vlen = make_vlen_utf8(request.output);
      for (const auto& [name, values] : {std::pair{"scenario", &all_names}, std::pair{"funded", &all_funded}}) {
        Hid ds = make(H5Dopen2(f.get(), name, H5P_DEFAULT), H5Dclose, request.output, std::string("opening '") + name + "'");
        auto ptrs = c_strings(*values);
        if (S) write_all(ds.get(), vlen.get(), ptrs.data(), name, request.output);
        check(ds.close(), request.output, std::string("closing '") + name + "'");
      }
      vlen.reset();
      check(f.close(), request.output, "closing");
      fsync_path(temp, false, request.output);
      // A replaced file is freed after the rename, not in it (sim/replaced_file.h).
      if (const int err = ReplacedFileHold::prepared().rename_onto(temp, request.output))
        throw IoError("results file '" + request.output + "': renaming '" + temp + "' to it failed (" +
                      std::strerror(err) + ")");
      g_temp[0] = '\0';
      const std::filesystem::path folder = std::filesystem::path(request.output).parent_path();
      fsync_path(folder.empty() ? "." : folder.string(), true, request.output);
      for (std::uint64_t i = 0; !by_trials && i < std::min<std::uint64_t>(request.keep_first, S); ++i) {
        report.names.push_back(all_names[i]);
        if (i < count) {
          report.summaries.push_back(summary[i]);
        } else {
          report.names.pop_back();
          break;
        }
      }
    }
    // Everyone waits for the commit, so that no rank reports success before the file exists.
    std::uint64_t committed = 1;
    bcast_gently(&committed, 1, MPI_UINT64_T, "broadcast of the commit");
    report.commit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - commit_start).count();
  } catch (const Cancelled&) {
    // Signalled just before the handlers above were installed (the engine saw the cancel flag).
    if (R > 1) fail_rank(me, "interrupted", 130);
    if (g_temp[0]) ::unlink(g_temp);  // one rank: no collective call to miss; main reports it
    g_temp[0] = '\0';
    throw;
  } catch (const std::exception& e) {
    fail_rank(me, e.what());
  } catch (...) {
    fail_rank(me, "unknown error");
  }
  if (me == 0 && report.names.size() < std::min<std::uint64_t>(request.keep_first, report.scenarios)) {
    // Rank 0's own range was shorter than the table printed: read the first summaries back.
    ResultsSummary back = read_results_summary(request.output);
    report.names.clear();
    report.summaries.clear();
    for (std::size_t i = 0; i < std::min<std::size_t>(request.keep_first, back.scenarios.size()); ++i) {
      report.names.push_back(back.scenarios[i]);
      report.summaries.push_back(back.summary[i]);
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace roisim::mpi
