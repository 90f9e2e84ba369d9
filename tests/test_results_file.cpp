// Tests of the results file (SPEC §6): round trips, atomic commit, clean-up without commit, and
// the official layout checker (tools/check_results_layout.py, path in ROISIM_LAYOUT_CHECKER).
#include <gtest/gtest.h>
#include <hdf5.h>
#include <libdeflate.h>
#include <zlib.h>

#include <functional>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#if __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sim/data_syncer.h"
#include "sim/errors.h"
#include "sim/replaced_file.h"
#include "sim/results_file.h"
#include "sim/results_fields.h"

namespace fs = std::filesystem;
using namespace roisim;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kHorizon = 36.0;

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("roisim_results_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  // Files in the folder whose name contains ".tmp-" (temporary results files).
  std::vector<std::string> temp_files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_))
      if (e.path().filename().string().find(".tmp-") != std::string::npos) out.push_back(e.path().string());
    return out;
  }

 private:
  fs::path path_;
};

// numpy.quantile's default ("linear", type 7), including numpy's lerp:
// a + (b - a) t for t < 0.5, b - (b - a)(1 - t) otherwise.
double quantile7(const std::vector<double>& sorted, double q) {
  const std::size_t n = sorted.size();
  const double h = static_cast<double>(n - 1) * q;
  const double lo_f = std::floor(h);
  const std::size_t lo = static_cast<std::size_t>(lo_f);
  const std::size_t hi = std::min(lo + 1, n - 1);
  const double t = h - lo_f;
  const double a = sorted[lo], b = sorted[hi];
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

ScenarioSummary summarize(const double* roi, const double* npv, const double* payback, std::size_t n) {
  ScenarioSummary s;
  std::vector<double> r(roi, roi + n), v(npv, npv + n), p(payback, payback + n);
  double sum = 0, loss = 0, npv_sum = 0, paid = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sum += r[i];
    loss += r[i] < 0;
    npv_sum += v[i];
    paid += p[i] <= kHorizon;
  }
  s.roi_mean = sum / n;
  double ss = 0;
  for (double x : r) ss += (x - s.roi_mean) * (x - s.roi_mean);
  s.roi_sd = std::sqrt(ss / (n - 1));
  s.roi_se = s.roi_sd / std::sqrt(static_cast<double>(n));
  s.prob_loss = loss / n;
  s.npv_mean = npv_sum / n;
  s.prob_payback = paid / n;
  std::sort(r.begin(), r.end());
  std::sort(v.begin(), v.end());
  std::sort(p.begin(), p.end());
  const std::size_t k10 = std::max<std::size_t>(1, n / 10);
  double low = 0;
  for (std::size_t i = 0; i < k10; ++i) low += r[i];
  s.cvar10 = low / k10;
  for (int q = 0; q < kNumQuantiles; ++q) {
    s.roi_quantile[q] = quantile7(r, kQuantiles[q]);
    s.npv_quantile[q] = quantile7(v, kQuantiles[q]);
  }
  // The median payback is +inf when either order statistic it interpolates is +inf.
  const double h = (n - 1) * 0.5;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h)), hi = std::min(lo + 1, n - 1);
  s.payback_p50 = (std::isinf(p[lo]) || std::isinf(p[hi])) ? kInf : quantile7(p, 0.5);
  return s;
}

// A complete in-memory results set, written batch by batch.
struct Fixture {
  ResultsLayout layout;
  std::vector<std::string> names, funded;
  std::vector<double> roi, npv, payback;  // [S * N]
  std::vector<ScenarioSummary> summary;   // [S]
  std::vector<double> spearman;           // [S * K]

  Fixture(std::uint64_t S, std::uint64_t N, std::vector<std::string> inputs, bool summary_only,
          int compression = 1, bool correlations = true) {
    layout.scenarios = S;
    layout.trials = N;
    layout.inputs = std::move(inputs);
    layout.summary_only = summary_only;
    layout.compression = compression;
    layout.scenarios_per_batch = 2;
    layout.attributes = {
        {"filetype", std::string("roisim-results")},
        {"format_version", std::string(kFormatVersion)},
        {"roisim_version", std::string("0.1.0")},
        {"git_sha", std::string("0123456789ab")},
        {"build_type", std::string("Release")},
        {"created_utc", std::string("2024-05-01T12:00:00Z")},
        {"command_line", std::string("roisim run portfolio.yaml --trials 1000")},
        {"seed", std::int64_t{-1234567890123}},
        {"trials", static_cast<std::int64_t>(N)},
        {"sampler", std::string("mc")},
        {"rng", std::string("philox4x32-10")},
        {"horizon_months", std::int64_t{36}},
        {"discount_rate", 0.0725},
        {"quantile_method", std::string("type7 (numpy linear)")},
        {"config", std::string("projects:\n  - name: café € 日本\n    cost: 1e6\n")},
        {"config_sha256", std::string(64, 'a')},
    };
    const std::size_t K = layout.inputs.size();
    if (correlations && K >= 2) {
      layout.correlated_inputs = {layout.inputs[0], layout.inputs[1]};
      Eigen::MatrixXd m(2, 2);
      m << 1.0, 0.7, 0.7, 1.0;
      layout.correlation_original = m;
      Eigen::MatrixXd r(2, 2);
      r << 1.0, 0.6999999999999, 0.6999999999999, 1.0;
      layout.correlation_repaired = r;
    }

    std::mt19937_64 gen(42);
    std::normal_distribution<double> normal(0.1, 0.5);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    roi.resize(S * N);
    npv.resize(S * N);
    payback.resize(S * N);
    for (std::uint64_t s = 0; s < S; ++s) {
      names.push_back("scenario " + std::to_string(s) + (s % 2 ? " – ünïcode" : ""));
      funded.push_back(s == 0 ? std::string() : "alpha+beta" + std::string(s % 3 ? "+γ" : ""));
      // Scenario 1 pays back in under half of its trials, so its median payback is +inf.
      const double inf_share = s == 1 ? 0.6 : 0.2;
      for (std::uint64_t t = 0; t < N; ++t) {
        const std::size_t i = s * N + t;
        roi[i] = normal(gen) + 0.05 * s;
        npv[i] = 1e6 * roi[i] + 1e4 * normal(gen);
        payback[i] = uni(gen) < inf_share ? kInf : 1.0 + 60.0 * uni(gen);
      }
      summary.push_back(summarize(&roi[s * N], &npv[s * N], &payback[s * N], N));
      for (std::size_t k = 0; k < K; ++k)
        spearman.push_back(k == 1 && s == 2 ? std::numeric_limits<double>::quiet_NaN() : uni(gen) * 2 - 1);
    }
  }

  BatchResults batch(std::uint64_t first, std::uint64_t count) const {
    BatchResults b;
    b.first = first;
    b.count = count;
    const std::size_t N = layout.trials, K = layout.inputs.size();
    b.names.assign(names.begin() + first, names.begin() + first + count);
    b.funded.assign(funded.begin() + first, funded.begin() + first + count);
    if (!layout.summary_only) {
      b.roi = roi.data() + first * N;
      b.npv = npv.data() + first * N;
      b.payback = payback.data() + first * N;
    }
    b.summary.assign(summary.begin() + first, summary.begin() + first + count);
    b.drivers.spearman.assign(spearman.begin() + first * K, spearman.begin() + (first + count) * K);
    // The other per-input fields: distinct values derived from the same data.
    for (auto* v : {&b.drivers.variance_contribution, &b.drivers.tornado_low, &b.drivers.tornado_high,
                    &b.drivers.downside_shift}) {
      *v = b.drivers.spearman;
      for (auto& x : *v) x = x * 0.5 + static_cast<double>(v - &b.drivers.variance_contribution);
    }
    return b;
  }

  void write_all(ResultsWriter& w, std::uint64_t per_batch = 2) const {
    for (std::uint64_t first = 0; first < layout.scenarios; first += per_batch)
      w.write_batch(batch(first, std::min(per_batch, layout.scenarios - first)));
  }

  void write(const std::string& path, std::uint64_t per_batch = 2) const {
    ResultsWriter w(path, layout);
    write_all(w, per_batch);
    w.commit();
  }
};

bool same_bits(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

void expect_same_bits(const std::vector<double>& got, const double* want, std::size_t n,
                      const std::string& what) {
  ASSERT_EQ(got.size(), n) << what;
  for (std::size_t i = 0; i < n; ++i) {
    if (!same_bits(got[i], want[i])) {
      ADD_FAILURE() << what << "[" << i << "]: " << got[i] << " != " << want[i];
      return;
    }
  }
}

void expect_same_summary(const ScenarioSummary& a, const ScenarioSummary& b, std::size_t s) {
  const std::string at = " of scenario " + std::to_string(s);
  EXPECT_TRUE(same_bits(a.roi_mean, b.roi_mean)) << "roi_mean" << at;
  EXPECT_TRUE(same_bits(a.roi_sd, b.roi_sd)) << "roi_sd" << at;
  EXPECT_TRUE(same_bits(a.roi_se, b.roi_se)) << "roi_se" << at;
  EXPECT_TRUE(same_bits(a.prob_loss, b.prob_loss)) << "prob_loss" << at;
  EXPECT_TRUE(same_bits(a.cvar10, b.cvar10)) << "cvar10" << at;
  EXPECT_TRUE(same_bits(a.npv_mean, b.npv_mean)) << "npv_mean" << at;
  EXPECT_TRUE(same_bits(a.payback_p50, b.payback_p50)) << "payback_p50" << at;
  EXPECT_TRUE(same_bits(a.prob_payback, b.prob_payback)) << "prob_payback" << at;
  for (int q = 0; q < kNumQuantiles; ++q) {
    EXPECT_TRUE(same_bits(a.roi_quantile[q], b.roi_quantile[q])) << "roi_quantile " << q << at;
    EXPECT_TRUE(same_bits(a.npv_quantile[q], b.npv_quantile[q])) << "npv_quantile " << q << at;
  }
}

void expect_round_trip(const Fixture& fx, const std::string& path) {
  const ResultsSummary r = read_results_summary(path);
  EXPECT_EQ(r.attributes, fx.layout.attributes);
  EXPECT_EQ(r.scenarios, fx.names);
  EXPECT_EQ(r.funded, fx.funded);
  EXPECT_EQ(r.inputs, fx.layout.inputs);
  expect_same_bits(r.quantiles, kQuantiles, kNumQuantiles, "quantiles");
  EXPECT_EQ(r.trials, fx.layout.trials);
  EXPECT_EQ(r.has_trials, !fx.layout.summary_only);
  ASSERT_EQ(r.summary.size(), fx.summary.size());
  for (std::size_t s = 0; s < r.summary.size(); ++s) expect_same_summary(r.summary[s], fx.summary[s], s);
  expect_same_bits(r.drivers.spearman, fx.spearman.data(), fx.spearman.size(), "spearman");
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the official layout checker on `path`; skips the test when it is not available.
void run_checker(const std::string& path, bool summary_only) {
  const char* env = std::getenv("ROISIM_LAYOUT_CHECKER");
  if (!env || !*env || !fs::exists(env)) GTEST_SKIP() << "ROISIM_LAYOUT_CHECKER not set or missing";
  const char* py_env = std::getenv("ROISIM_PYTHON");
  const std::string python = py_env && *py_env ? py_env : "/usr/bin/python3";
  const std::string probe = python + " -c 'import h5py, numpy, xarray, h5netcdf' >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0) GTEST_SKIP() << python << " lacks h5py/numpy/xarray/h5netcdf";
  const std::string log = path + ".checker.log";
  const std::string cmd = python + " '" + env + "' '" + path + "'" + (summary_only ? " --summary-only" : "") +
                          " >'" + log + "' 2>&1";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << cmd;
  EXPECT_EQ(WEXITSTATUS(status), 0) << cmd << "\n" << slurp(log);
}

const std::vector<std::string> kInputs = {"alpha.adoption", "beta.cost_overrun", "γ.value"};

}  // namespace

// A target name of 241-255 bytes is valid, but "<name>.tmp-<pid>-<hex>" would pass NAME_MAX
// (ENAMETOOLONG): the temporary name then cuts the target's name short (never inside a UTF-8
// character), keeps ".tmp-", the pid and the random part, and stays in the target's folder.
TEST(ResultsFile, LongTargetNamesGetATemporaryNameThatFits) {
  TempDir dir;
  const std::size_t name_max = static_cast<std::size_t>(::pathconf(dir.path().c_str(), _PC_NAME_MAX));
  ASSERT_GE(name_max, 64u);
  const std::string pid = ".tmp-" + std::to_string(::getpid()) + "-";
  for (const std::string& name : {std::string(name_max - 3, 'y') + ".h5", std::string(name_max - 20, 'y') + ".h5",
                                  std::string(name_max - 30, 'y') + std::string(10, '\xc3') + ".h5",
                                  std::string(name_max - 31, 'y') + std::string(10, '\xc3') + ".h5"}) {
    std::string ok = name;  // the last two: "é" (C3 A9) repeated, so that the cut falls inside one
    for (std::size_t i = 0; i < ok.size(); ++i)
      if (static_cast<unsigned char>(ok[i]) == 0xC3) ok.insert(++i, "\xa9");
    const std::string target = (dir.path() / ok).string();
    const std::string a = temporary_path(target), b = temporary_path(target);
    const std::string fa = fs::path(a).filename().string();
    EXPECT_EQ(fs::path(a).parent_path(), dir.path());
    EXPECT_LE(fa.size(), name_max) << fa;
    EXPECT_NE(fa.find(pid), std::string::npos) << fa;
    EXPECT_EQ(ok.rfind(fa.substr(0, fa.find(pid)), 0), 0u) << fa;  // a prefix of the target's name
    EXPECT_NE((static_cast<unsigned char>(fa[fa.find(pid) - 1]) & 0xC0), 0xC0u) << fa;  // no cut-off lead byte
    EXPECT_NE(a, b);
  }
  // A short name keeps the whole target name; one that is itself too long stays too long (it fails
  // when created, not at the rename after the run).
  EXPECT_EQ(temporary_path((dir.path() / "out.h5").string()).rfind((dir.path() / ("out.h5" + pid)).string(), 0), 0u);
  const std::string too_long(name_max + 1, 'z');
  EXPECT_EQ(fs::path(temporary_path((dir.path() / too_long).string())).filename().string().rfind(too_long + pid, 0), 0u);
  // A cap below NAME_MAX (the MPI writer's 200 bytes) cuts every longer name the same way; a short
  // name is kept whole.
  for (const std::size_t len : {std::size_t{150}, std::size_t{199}, std::size_t{230}, name_max - 3}) {
    const std::string name(len, 'c');
    const std::string f = fs::path(temporary_path((dir.path() / (name + ".h5")).string(), 200)).filename().string();
    EXPECT_LE(f.size(), 200u) << f;
    EXPECT_NE(f.find(pid), std::string::npos) << f;
    EXPECT_EQ((name + ".h5").rfind(f.substr(0, f.find(pid)), 0), 0u) << f;
  }
  EXPECT_EQ(fs::path(temporary_path((dir.path() / "out.h5").string(), 200)).filename().string().rfind("out.h5" + pid, 0), 0u);
  // And the writer creates and commits such a file.
  Fixture fx(2, 10, kInputs, false);
  const std::string path = (dir.path() / (std::string(name_max - 3, 'w') + ".h5")).string();
  {
    ResultsWriter w(path, fx.layout);
    EXPECT_NE(w.temp_path().find(pid), std::string::npos);
    fx.write_all(w);
    w.commit();
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_TRUE(dir.temp_files().empty());
}

TEST(ResultsFile, RoundTripsSummaryAndTrials) {
  TempDir dir;
  const std::string path = (dir.path() / "out.h5").string();
  Fixture fx(5, 1000, kInputs, false);
  std::string temp;
  {
    ResultsWriter w(path, fx.layout);
    temp = w.temp_path();
    EXPECT_EQ(fs::path(temp).parent_path(), dir.path());
    EXPECT_EQ(fs::path(temp).filename().string().rfind("out.h5.tmp-" + std::to_string(::getpid()) + "-", 0),
              0u)
        << temp;
    EXPECT_TRUE(fs::exists(temp));
    EXPECT_FALSE(fs::exists(path));
    fx.write_all(w);
    w.commit();
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_TRUE(fs::exists(path));
  }
  EXPECT_TRUE(dir.temp_files().empty());
  EXPECT_TRUE(fs::exists(path));
  EXPECT_TRUE(std::isinf(fx.summary[1].payback_p50));  // the fixture exercises an infinite median

  expect_round_trip(fx, path);
  for (std::uint64_t s = 0; s < 5; ++s) {
    const std::size_t off = s * 1000;
    expect_same_bits(read_trial_row(path, "roi", s), fx.roi.data() + off, 1000, "roi row");
    expect_same_bits(read_trial_row(path, "npv", s), fx.npv.data() + off, 1000, "npv row");
    expect_same_bits(read_trial_row(path, "payback_month", s), fx.payback.data() + off, 1000, "payback row");
  }
  EXPECT_THROW(read_trial_row(path, "roi", 5), IoError);
  EXPECT_THROW(read_trial_row(path, "roi_mean", 0), IoError);
}

TEST(ResultsFile, CommitReplacesAnExistingTarget) {
  TempDir dir;
  const std::string path = (dir.path() / "out.h5").string();
  { std::ofstream(path) << "old contents"; }
  Fixture fx(3, 50, kInputs, false);
  fx.write(path);
  expect_round_trip(fx, path);
  EXPECT_TRUE(dir.temp_files().empty());
}

TEST(ResultsFile, UncommittedWriterLeavesNoTempAndKeepsTarget) {
  TempDir dir;
  const std::string path = (dir.path() / "out.h5").string();
  const std::string sentinel = "sentinel: not an HDF5 file\n";
  { std::ofstream(path) << sentinel; }
  Fixture fx(5, 100, kInputs, false);
  std::string temp;
  {
    ResultsWriter w(path, fx.layout);
    temp = w.temp_path();
    w.write_batch(fx.batch(0, 2));
    EXPECT_TRUE(fs::exists(temp));
  }
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_TRUE(dir.temp_files().empty());
  EXPECT_EQ(slurp(path), sentinel);
}

// ---- ReplacedFileHold (sim/replaced_file.h)

// What the io_uring instances of this process hold: for each, the files registered with it as its
// /proc fdinfo lists them (fdinfo_path(path), with " (deleted)" once unlinked), in descriptor order.
std::vector<std::vector<std::string>> io_uring_files() {
  std::vector<std::pair<int, std::string>> rings;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(e.path(), ec).string() == "anon_inode:[io_uring]")
      rings.emplace_back(std::stoi(e.path().filename().string()), e.path().filename().string());
  }
  std::sort(rings.begin(), rings.end());
  std::vector<std::vector<std::string>> out;
  for (const auto& [fd, name] : rings) {
    std::ifstream info("/proc/self/fdinfo/" + name);
    std::vector<std::string> files;
    bool in_files = false;
    for (std::string line; std::getline(info, line);) {
      if (line.rfind("UserFiles:", 0) == 0) in_files = true;
      else if (in_files && line.rfind("    ", 0) == 0) files.push_back(line.substr(line.find(": ") + 2));
      else in_files = false;
    }
    out.push_back(files);
  }
  return out;
}

// A path as fdinfo prints it (seq_path escapes space, tab, newline and backslash in octal).
std::string fdinfo_path(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::size_t open_descriptors() {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
}

void write_bytes(const std::string& path, std::size_t n, char fill) {
  std::ofstream(path, std::ios::binary) << std::string(n, fill);
}

// Why a hold cannot take a file in `folder` here, or "" when it can: it checks what
// ReplacedFileHold needs (ROISIM_NO_IO_URING unset, a local file system, io_uring_setup and file
// registration allowed: not under some seccomp profiles, io_uring_disabled, older kernels, gVisor)
// and what these tests read (the registered files listed in /proc's fdinfo, Linux 5.6 on).
std::string hold_unavailable(const fs::path& folder) {
  if (const char* off = std::getenv("ROISIM_NO_IO_URING"); off && *off && std::string(off) != "0")
    return "ROISIM_NO_IO_URING is set";
  if (!ReplacedFileHold::local_file_system(folder.string())) return folder.string() + " is not on a local file system";
#if defined(__linux__) && defined(__NR_io_uring_setup) && defined(__NR_io_uring_register)
  const std::string probe = (folder / "probe").string();
  write_bytes(probe, 1, 'p');
  io_uring_params params{};
  const long ring = ::syscall(__NR_io_uring_setup, 1, &params);
  if (ring < 0) return "io_uring_setup is refused here";
  const int fd = ::open(probe.c_str(), O_RDONLY | O_CLOEXEC);
  const bool registered = ::syscall(__NR_io_uring_register, static_cast<int>(ring), IORING_REGISTER_FILES, &fd, 1) == 0;
  ::close(fd);
  const bool listed = io_uring_files() == std::vector<std::vector<std::string>>{{fdinfo_path(probe)}};
  ::close(static_cast<int>(ring));
  fs::remove(probe);
  if (!registered) return "io_uring file registration is refused here";
  if (!listed) return "this kernel's fdinfo does not list an io_uring instance's files";
  return "";
#else
  return "no io_uring in this build's headers";
#endif
}

TEST(ReplacedFileHold, KeepsTheReplacedFileUntilReleased) {
  TempDir dir;
  if (const std::string why = hold_unavailable(dir.path()); !why.empty()) GTEST_SKIP() << why;
  const std::string path = (dir.path() / "out.h5").string(), next = (dir.path() / "next.h5").string();
  write_bytes(path, ReplacedFileHold::kMinBytes, 'o');
  write_bytes(next, 100, 'n');
  const std::size_t descriptors = open_descriptors();
  ASSERT_TRUE(io_uring_files().empty());
  ReplacedFileHold hold = ReplacedFileHold::prepared();
  ASSERT_TRUE(hold.ready());
  EXPECT_FALSE(hold.holding());
  ASSERT_EQ(io_uring_files(), (std::vector<std::vector<std::string>>{{}}));  // nothing held before take()
  ASSERT_TRUE(hold.take(path));
  ASSERT_EQ(io_uring_files(), (std::vector<std::vector<std::string>>{{fdinfo_path(path)}}));
  EXPECT_EQ(open_descriptors(), descriptors + 1);  // the instance only: take() closed its own
  ASSERT_EQ(std::rename(next.c_str(), path.c_str()), 0);
  // The replaced file is still referred to (not freed by the rename), under no name.
  EXPECT_EQ(io_uring_files(), (std::vector<std::vector<std::string>>{{fdinfo_path(path) + "\\040(deleted)"}}));
  EXPECT_EQ(slurp(path), std::string(100, 'n'));
  ReplacedFileHold moved = std::move(hold);
  EXPECT_FALSE(hold.ready());
  EXPECT_FALSE(hold.holding());
  EXPECT_TRUE(moved.holding());
  moved.release();
  EXPECT_FALSE(moved.ready());
  EXPECT_FALSE(moved.holding());
  EXPECT_TRUE(io_uring_files().empty());
  EXPECT_EQ(open_descriptors(), descriptors);
  moved.release();  // twice: nothing
  EXPECT_FALSE(moved.take(path));  // released: takes nothing
}

TEST(ReplacedFileHold, HoldsNothingARenameWouldNotFree) {
  TempDir dir;
  const fs::path d = dir.path();
  write_bytes((d / "big").string(), ReplacedFileHold::kMinBytes, 'b');
  write_bytes((d / "small").string(), ReplacedFileHold::kMinBytes - 1, 's');
  write_bytes((d / "linked").string(), ReplacedFileHold::kMinBytes, 'l');
  fs::create_hard_link(d / "linked", d / "linked2");  // the rename would only drop one of two links
  fs::create_symlink(d / "big", d / "symlink");       // the rename replaces the link, not the file
  fs::create_directory(d / "folder");
  ASSERT_EQ(::mkfifo((d / "fifo").c_str(), 0600), 0);  // must not wait for a writer
  const std::size_t descriptors = open_descriptors();
  for (const char* name : {"missing", "small", "linked", "symlink", "folder", "fifo"}) {
    ReplacedFileHold hold = ReplacedFileHold::prepared();
    EXPECT_FALSE(hold.take((d / name).string())) << name;
    EXPECT_FALSE(hold.holding()) << name;
    EXPECT_TRUE(io_uring_files().empty() || io_uring_files() == std::vector<std::vector<std::string>>{{}}) << name;
  }
  EXPECT_EQ(open_descriptors(), descriptors);
  EXPECT_FALSE(ReplacedFileHold().take((d / "big").string()));  // not prepared
  const bool available = hold_unavailable(d).empty();
  EXPECT_EQ(ReplacedFileHold::prepared().take((d / "big").string()), available);
  // ROISIM_NO_IO_URING: nothing prepared (the caller's value put back after).
  const char* before = std::getenv("ROISIM_NO_IO_URING");
  const std::optional<std::string> saved = before ? std::optional<std::string>(before) : std::nullopt;
  ::setenv("ROISIM_NO_IO_URING", "1", 1);
  EXPECT_FALSE(ReplacedFileHold::prepared().ready());
  if (available) {
    ::setenv("ROISIM_NO_IO_URING", "0", 1);
    EXPECT_TRUE(ReplacedFileHold::prepared().take((d / "big").string()));
  }
  if (saved) ::setenv("ROISIM_NO_IO_URING", saved->c_str(), 1);
  else ::unsetenv("ROISIM_NO_IO_URING");
}

TEST(ReplacedFileHold, RenameOntoTakesTheFileOnlyForTheRename) {
  TempDir dir;
  const std::string path = (dir.path() / "out.h5").string(), next = (dir.path() / "next.h5").string();
  write_bytes(path, ReplacedFileHold::kMinBytes, 'o');
  write_bytes(next, 100, 'n');
  const std::size_t descriptors = open_descriptors();
  ReplacedFileHold hold = ReplacedFileHold::prepared();
  EXPECT_EQ(hold.rename_onto((dir.path() / "missing").string(), path), ENOENT);  // failed: target untouched
  EXPECT_FALSE(hold.ready());
  EXPECT_EQ(slurp(path), std::string(ReplacedFileHold::kMinBytes, 'o'));
  EXPECT_EQ(ReplacedFileHold::prepared().rename_onto(next, path), 0);
  EXPECT_EQ(slurp(path), std::string(100, 'n'));
  EXPECT_FALSE(fs::exists(next));
  EXPECT_TRUE(io_uring_files().empty());
  EXPECT_EQ(open_descriptors(), descriptors);
}

// The writer prepares its hold before it creates anything and takes the file only for commit's
// rename: a file removed during the run is not kept from being freed, and nothing is left held
// after the commit or after a writer that never commits (whose target stays untouched).
TEST(ResultsFile, WriterHoldsTheFileItReplacesOnlyForTheRename) {
  TempDir dir;
  if (const std::string why = hold_unavailable(dir.path()); !why.empty()) GTEST_SKIP() << why;
  const std::string path = (dir.path() / "out.h5").string();
  const std::string old_contents(ReplacedFileHold::kMinBytes, 'o');
  write_bytes(path, old_contents.size(), 'o');
  const std::size_t descriptors = open_descriptors();
  Fixture fx(5, 100, kInputs, false);
  {
    ResultsWriter w(path, fx.layout);
    EXPECT_EQ(io_uring_files(), (std::vector<std::vector<std::string>>{{}}));
    w.write_batch(fx.batch(0, 2));
    EXPECT_EQ(io_uring_files(), (std::vector<std::vector<std::string>>{{}}));
  }
  EXPECT_TRUE(io_uring_files().empty());
  EXPECT_EQ(slurp(path), old_contents);
  {
    ResultsWriter w(path, fx.layout);
    fx.write_all(w);
    w.commit();
    EXPECT_TRUE(io_uring_files().empty());
  }
  expect_round_trip(fx, path);
  EXPECT_TRUE(dir.temp_files().empty());
  EXPECT_EQ(open_descriptors(), descriptors);
}

TEST(ResultsFile, CommitWithMissingScenariosThrows) {
  TempDir dir;
  const std::string path = (dir.path() / "out.h5").string();
  Fixture fx(5, 100, kInputs, false);
  {
    ResultsWriter w(path, fx.layout);
    w.write_batch(fx.batch(0, 2));
    w.write_batch(fx.batch(2, 2));
    EXPECT_THROW(w.commit(), IoError);
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(dir.temp_files().empty());
}

TEST(ResultsFile, RejectsMalformedBatches) {
  TempDir dir;
  const std::string path = (dir.path() / "out.h5").string();
  Fixture fx(5, 100, kInputs, false);
  ResultsWriter w(path, fx.layout);
  EXPECT_THROW(w.write_batch(fx.batch(2, 2)), IoError);  // not contiguous
  BatchResults b = fx.batch(0, 2);
  b.names.pop_back();
  EXPECT_THROW(w.write_batch(b), IoError);
  b = fx.batch(0, 2);
  b.drivers.spearman.push_back(0.5);
  EXPECT_THROW(w.write_batch(b), IoError);
  b = fx.batch(0, 2);
  b.summary.pop_back();
  EXPECT_THROW(w.write_batch(b), IoError);
  b = fx.batch(0, 2);
  b.roi = nullptr;
  EXPECT_THROW(w.write_batch(b), IoError);
  w.write_batch(fx.batch(0, 2));
  w.write_batch(fx.batch(2, 2));
  b = fx.batch(3, 2);
  b.first = 4;
  EXPECT_THROW(w.write_batch(b), IoError);  // past the last scenario
  w.write_batch(fx.batch(4, 1));
  w.commit();
  expect_round_trip(fx, path);
}

TEST(ResultsFile, MissingFolderThrows) {
  TempDir dir;
  Fixture fx(2, 10, kInputs, false);
  EXPECT_THROW(ResultsWriter((dir.path() / "no" / "such" / "out.h5").string(), fx.layout), IoError);
  EXPECT_THROW(read_results_summary((dir.path() / "missing.h5").string()), IoError);
  { std::ofstream(dir.path() / "text.h5") << "not hdf5"; }
  EXPECT_THROW(read_results_summary((dir.path() / "text.h5").string()), IoError);
}

TEST(ResultsFile, SummaryOnlyOmitsTrials) {
  TempDir dir;
  const std::string path = (dir.path() / "summary.h5").string();
  Fixture fx(5, 1000, kInputs, true);
  fx.write(path);
  expect_round_trip(fx, path);
  EXPECT_FALSE(read_results_summary(path).has_trials);
  EXPECT_THROW(read_trial_row(path, "roi", 0), IoError);
}

TEST(ResultsFile, NoInputsGivesAnEmptyInputDimension) {
  TempDir dir;
  const std::string path = (dir.path() / "noinputs.h5").string();
  Fixture fx(3, 200, {}, false);
  fx.write(path);
  expect_round_trip(fx, path);
  run_checker(path, false);
}

TEST(ResultsFile, CompressionLevelZeroAndNine) {
  TempDir dir;
  for (int level : {0, 9}) {
    const std::string path = (dir.path() / ("level" + std::to_string(level) + ".h5")).string();
    Fixture fx(4, 300, kInputs, false, level);
    fx.write(path, 3);
    expect_round_trip(fx, path);
    expect_same_bits(read_trial_row(path, "payback_month", 3), fx.payback.data() + 3 * 300, 300,
                     "payback row");
  }
  Fixture bad(1, 10, kInputs, false, 10);
  EXPECT_THROW(ResultsWriter((dir.path() / "bad.h5").string(), bad.layout), IoError);
  run_checker((dir.path() / "level0.h5").string(), false);
}

TEST(ResultsFile, PassesTheLayoutChecker) {
  TempDir dir;
  const std::string full = (dir.path() / "full.h5").string();
  const std::string summary = (dir.path() / "summary.h5").string();
  Fixture(5, 1000, kInputs, false).write(full);
  Fixture(5, 1000, kInputs, true).write(summary);
  run_checker(full, false);
  run_checker(summary, true);
}

// ------------------------------------------------------------------------------------------------
// Per-trial chunks are filtered by roisim (shuffle, deflate with libdeflate, fletcher32) and written
// with H5Dwrite_chunk. These tests check them against HDF5's own pipeline (zlib) chunk by chunk:
// the same offsets and, once inflated, the same shuffled bytes; and read every value back (HDF5
// verifies each chunk's fletcher32 on read).

namespace {

struct H5Handle {
  hid_t id;
  herr_t (*closer)(hid_t);
  ~H5Handle() {
    if (id >= 0) closer(id);
  }
};

// Reads a whole [S, N] float64 dataset.
std::vector<double> read_all(hid_t file, const char* name, std::size_t n) {
  H5Handle d{H5Dopen2(file, name, H5P_DEFAULT), H5Dclose};
  EXPECT_GE(d.id, 0) << name;
  std::vector<double> out(n);
  EXPECT_GE(H5Dread(d.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), 0) << name;
  return out;
}

// A stored chunk (payload, then the 4-byte fletcher32 when `checksum`: HDF5 verifies it when
// expect_trials_read_back reads the values) back to its shuffled bytes: inflated unless the mask
// says deflate was skipped.
std::vector<unsigned char> unfilter_chunk(const std::vector<unsigned char>& stored, unsigned mask, std::size_t nbytes,
                                          bool checksum = true) {
  const std::size_t tail = checksum ? 4 : 0;
  EXPECT_GE(stored.size(), tail);
  const std::size_t len = stored.size() - tail;
  if (mask & (1u << 1)) return std::vector<unsigned char>(stored.begin(), stored.begin() + static_cast<std::ptrdiff_t>(len));
  std::vector<unsigned char> out(nbytes);
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  std::size_t got = 0;
  EXPECT_EQ(libdeflate_zlib_decompress(d, stored.data(), len, out.data(), nbytes, &got), LIBDEFLATE_SUCCESS);
  libdeflate_free_decompressor(d);
  EXPECT_EQ(got, nbytes);
  return out;
}

// Writes the values of every filtered float64 dataset of roisim's file - the fixture's per-trial
// data (when written) and every per-scenario statistic (read back from the file) - through HDF5's
// own filter pipeline (H5Dwrite, with the creation properties of roisim's dataset) into `ref_path`,
// then compares every stored chunk of roisim's file with HDF5's: same offsets and the same bytes once
// unfiltered. (The compressed bytes differ: HDF5 deflates with zlib, roisim with libdeflate; both are
// zlib streams.)
void expect_chunks_match_hdf5(const Fixture& fx, const std::string& path, const std::string& ref_path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  H5Handle ours{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  ASSERT_GE(ours.id, 0);
  H5Handle ref{H5Fcreate(ref_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
  ASSERT_GE(ref.id, 0);
  std::vector<std::string> names;
  if (!fx.layout.summary_only) names = {"roi", "npv", "payback_month"};
  using namespace results_fields;
  for (const auto& f : kScalarFields) names.emplace_back(f.name);
  for (const auto& f : kQuantileFields) names.emplace_back(f.name);
  if (!fx.layout.inputs.empty())
    for (const auto& f : kInputFields) names.emplace_back(f.name);
  names.emplace_back("cashflow_quantile");
  for (const std::string& name_s : names) {
    const char* name = name_s.c_str();
    H5Handle d{H5Dopen2(ours.id, name, H5P_DEFAULT), H5Dclose};
    ASSERT_GE(d.id, 0) << name;
    H5Handle dcpl{H5Dget_create_plist(d.id), H5Pclose};
    H5Handle space{H5Dget_space(d.id), H5Sclose};
    const int rank = H5Sget_simple_extent_ndims(space.id);
    ASSERT_TRUE(rank >= 1 && rank <= 3) << name;
    ASSERT_GE(H5Pget_nfilters(dcpl.id), 2) << name << ": shuffle and deflate expected";
    const bool checksum = H5Pget_nfilters(dcpl.id) == 3;
    std::vector<double> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.id)));
    ASSERT_GE(H5Dread(d.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0) << name;
    H5Handle r{H5Dcreate2(ref.id, name, H5T_IEEE_F64LE, space.id, H5P_DEFAULT, dcpl.id, H5P_DEFAULT), H5Dclose};
    ASSERT_GE(r.id, 0) << name;
    ASSERT_GE(H5Dwrite(r.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0) << name;
    ASSERT_GE(H5Dflush(r.id), 0);

    H5Handle rspace{H5Dget_space(r.id), H5Sclose};
    hsize_t n_ours = 0, n_ref = 0;
    ASSERT_GE(H5Dget_num_chunks(d.id, space.id, &n_ours), 0);
    ASSERT_GE(H5Dget_num_chunks(r.id, rspace.id, &n_ref), 0);
    ASSERT_EQ(n_ours, n_ref) << name;
    for (hsize_t i = 0; i < n_ours; ++i) {
      hsize_t off[3] = {}, off_ref[3] = {};
      unsigned mask = 0, mask_ref = 0;
      haddr_t addr;
      hsize_t size = 0, size_ref = 0;
      ASSERT_GE(H5Dget_chunk_info(d.id, space.id, i, off, &mask, &addr, &size), 0);
      ASSERT_GE(H5Dget_chunk_info(r.id, rspace.id, i, off_ref, &mask_ref, &addr, &size_ref), 0);
      for (int a = 0; a < rank; ++a) ASSERT_EQ(off[a], off_ref[a]) << name << " chunk " << i << " axis " << a;
      std::vector<unsigned char> a(size), b(size_ref);
      uint32_t fa = 0, fb = 0;
      ASSERT_GE(H5Dread_chunk(d.id, H5P_DEFAULT, off, &fa, a.data()), 0);
      ASSERT_GE(H5Dread_chunk(r.id, H5P_DEFAULT, off_ref, &fb, b.data()), 0);
      EXPECT_EQ(fa, mask);
      // Deflate is skipped only where it does not fit (as HDF5 does): never where HDF5's fits.
      EXPECT_FALSE((fa & 2u) && !(fb & 2u)) << name << " chunk " << i << ": stored without deflate";
      hsize_t chunk[3] = {1, 1, 1};
      ASSERT_EQ(H5Pget_chunk(dcpl.id, 3, chunk), rank);
      const std::size_t nbytes = static_cast<std::size_t>(chunk[0] * chunk[1] * chunk[2] * 8);
      EXPECT_TRUE(unfilter_chunk(a, fa, nbytes, checksum) == unfilter_chunk(b, fb, nbytes, checksum))
          << name << " chunk at " << off[0] << "," << off[1] << " differs from HDF5's once unfiltered";
    }
  }
}

// The filter pipeline of a per-trial dataset: shuffle, deflate(level), fletcher32, in this order.
void expect_pipeline(const std::string& path, int level) {
  H5Handle f{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  ASSERT_GE(f.id, 0);
  for (const char* name : {"roi", "npv", "payback_month"}) {
    H5Handle d{H5Dopen2(f.id, name, H5P_DEFAULT), H5Dclose};
    H5Handle dcpl{H5Dget_create_plist(d.id), H5Pclose};
    ASSERT_EQ(H5Pget_nfilters(dcpl.id), 3) << name;
    const H5Z_filter_t want[] = {H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE, H5Z_FILTER_FLETCHER32};
    for (unsigned i = 0; i < 3; ++i) {
      unsigned flags = 0, cd[8] = {};
      size_t ncd = 8;
      char fname[64];
      EXPECT_EQ(H5Pget_filter2(dcpl.id, i, &flags, &ncd, cd, sizeof fname, fname, nullptr), want[i]) << name;
      if (want[i] == H5Z_FILTER_DEFLATE) {
        ASSERT_GE(ncd, 1u);
        EXPECT_EQ(cd[0], static_cast<unsigned>(level)) << name;
      }
    }
  }
}

// Reads every per-trial value back with H5Dread (checksums verified) and compares bit for bit.
void expect_trials_read_back(const Fixture& fx, const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  H5Handle f{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  ASSERT_GE(f.id, 0);
  const std::size_t n = fx.roi.size();
  expect_same_bits(read_all(f.id, "roi", n), fx.roi.data(), n, "roi");
  expect_same_bits(read_all(f.id, "npv", n), fx.npv.data(), n, "npv");
  expect_same_bits(read_all(f.id, "payback_month", n), fx.payback.data(), n, "payback_month");
}

// h5py reads the same values (skipped when python3 lacks h5py/numpy).
void expect_h5py_reads(const Fixture& fx, const std::string& path) {
  const char* py_env = std::getenv("ROISIM_PYTHON");
  const std::string python = py_env && *py_env ? py_env : "/usr/bin/python3";
  if (std::system((python + " -c 'import h5py, numpy' >/dev/null 2>&1").c_str()) != 0) {
    std::cout << "(h5py check skipped: " << python << " lacks h5py/numpy)\n";
    return;
  }
  const std::string raw = path + ".raw";
  {
    std::ofstream out(raw, std::ios::binary);
    for (const auto* v : {&fx.roi, &fx.npv, &fx.payback})
      out.write(reinterpret_cast<const char*>(v->data()), static_cast<std::streamsize>(v->size() * 8));
  }
  const std::string script =
      "import sys, h5py, numpy as np\n"
      "f = h5py.File(sys.argv[1], 'r')\n"
      "want = np.fromfile(sys.argv[2], dtype='<f8').reshape(3, *f['roi'].shape)\n"
      "for i, k in enumerate(['roi', 'npv', 'payback_month']):\n"
      "    d = f[k]\n"
      "    assert d.compression == 'gzip' and d.shuffle and d.fletcher32, k\n"
      "    assert d[...].tobytes() == want[i].tobytes(), k\n";
  const std::string py = path + ".py";
  { std::ofstream(py) << script; }
  const std::string log = path + ".py.log";
  const int status = std::system((python + " '" + py + "' '" + path + "' '" + raw + "' >'" + log + "' 2>&1").c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(log);
}

struct ChunkCase {
  std::uint64_t S, N, hint, per_batch;
  int level;
};

}  // namespace

TEST(ResultsFile, TrialChunkShapeAlignsWithBatches) {
  ResultsLayout l;
  l.scenarios = 563;
  l.trials = 10000;
  l.scenarios_per_batch = 64;
  EXPECT_EQ(trial_chunk_shape(l), (std::array<std::uint64_t, 2>{4, 10000}));  // 4 divides 64
  l.scenarios_per_batch = 61;  // prime: 1 row would be too small, so 6 rows (buffered)
  EXPECT_EQ(trial_chunk_shape(l), (std::array<std::uint64_t, 2>{6, 10000}));
  l.scenarios_per_batch = 3;
  EXPECT_EQ(trial_chunk_shape(l), (std::array<std::uint64_t, 2>{3, 10000}));
  l.trials = 1000000;
  EXPECT_EQ(trial_chunk_shape(l), (std::array<std::uint64_t, 2>{1, 65536}));
  l.scenarios = 3;
  l.trials = 1000;
  l.scenarios_per_batch = 64;
  EXPECT_EQ(trial_chunk_shape(l), (std::array<std::uint64_t, 2>{3, 1000}));  // never more than S
  l.scenarios = 0;
  l.trials = 0;
  EXPECT_EQ(trial_chunk_shape(l), (std::array<std::uint64_t, 2>{1, 1}));
}

TEST(ResultsFile, DirectChunksMatchHdf5PipelineAndReadBack) {
  TempDir dir;
  const ChunkCase cases[] = {
      {13, 10000, 4, 4, 1},    // S not a multiple of the 4 chunk rows; partial last batch of 1
      {13, 10000, 4, 3, 1},    // batches not aligned with chunk rows: rows buffered across batches
      {11, 10000, 61, 5, 6},   // 6-row chunks (61 is prime), batches of 5
      {3, 70001, 1, 1, 1},     // N not a multiple of the 65536 chunk columns (odd edge width)
      {5, 999, 2, 2, 0},       // level 0: stored deflate blocks
      {7, 1234, 3, 2, 9},      // level 9
      {1, 1, 1, 1, 1},         // one element
      {2, 3, 64, 64, 1},       // tiny, one batch
      {30, 40000, 30, 30, 1},  // 90 chunks in one batch: filtered in several waves
      {4, 1020, 2, 2, 1},      // rows of 1020 = 63 x 16 + 8 + 4: every loop of the byte shuffle
  };
  int i = 0;
  for (const ChunkCase& c : cases) {
    SCOPED_TRACE("S=" + std::to_string(c.S) + " N=" + std::to_string(c.N) + " hint=" + std::to_string(c.hint) +
                 " per_batch=" + std::to_string(c.per_batch) + " level=" + std::to_string(c.level));
    const std::string path = (dir.path() / ("case" + std::to_string(i) + ".h5")).string();
    const std::string ref = (dir.path() / ("ref" + std::to_string(i) + ".h5")).string();
    ++i;
    Fixture fx(c.S, c.N, kInputs, false, c.level);
    fx.layout.scenarios_per_batch = c.hint;
    fx.write(path, c.per_batch);
    expect_round_trip(fx, path);
    expect_pipeline(path, c.level);
    expect_trials_read_back(fx, path);
    expect_chunks_match_hdf5(fx, path, ref);
    expect_h5py_reads(fx, path);
  }
}

// The leading byte planes of a chunk are encoded by kind (sim/results_file.cpp, zlib_planes): one
// byte repeated -> a block of fixed Huffman codes with distance-1 matches; a near-uniform histogram
// (random mantissa bytes) -> stored blocks; from the first other plane on, libdeflate. Data of each
// shape below must come back through HDF5 (zlib) with the same bits, with the first deflate block
// of the kind expected; together they cover a run ending the stream, stored blocks ending it, a run
// after stored planes, and libdeflate's stream after runs (byte-aligned by an empty stored block).
TEST(ResultsFile, BytePlanesEncodedByKindReadBack) {
  TempDir dir;
  std::mt19937_64 gen(7);
  const auto random_bits = [&] {  // every byte uniform except the top exponent bits: finite
    for (;;) {
      const double x = std::bit_cast<double>(gen());
      if (std::isfinite(x)) return x;
    }
  };
  enum First { kStoredFirst, kRunFirst, kNotStored };
  struct Case {
    const char* what;
    std::function<double(double)> roi;
    First first;
  };
  const Case cases[] = {
      {"all planes random", [&](double) { return random_bits(); }, kStoredFirst},
      {"low planes random", [&](double) { return 1.0 + std::ldexp(static_cast<double>(gen() >> 12), -52); }, kStoredFirst},
      {"first plane neither", [&](double) { return 1.0 + std::ldexp(static_cast<double>(gen() % 16), -52); }, kNotStored},
      {"whole months", [&](double) { return std::floor(static_cast<double>(gen() % 37)); }, kRunFirst},
      {"one value", [&](double) { return 42.0; }, kRunFirst},
      {"random, top byte constant", [&](double) { return std::bit_cast<double>((gen() >> 8) | (0x3Full << 56)); }, kStoredFirst},
      // 30% of trials at -1 (failed): the low planes are coded by their bytes' Huffman codes at
      // level 1 (HuffmanPlane), which zlib must inflate when HDF5 reads them.
      {"an atom among random values", [&](double) { return gen() % 10 < 3 ? -1.0 : random_bits(); }, kNotStored},
      // Whole months, 3% of them above 32: the sixth byte is zero but for those (a sparse plane of
      // fixed codes at level 1), the seventh coded by its Huffman codes, the eighth deflated.
      {"months, a few above 32", [&](double) { return static_cast<double>(gen() % 100 < 3 ? 33 + gen() % 4 : gen() % 32); },
       kRunFirst},
  };
  int i = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    for (int level : {1, 6}) {
      Fixture fx(3, 65536, kInputs, false, level);
      fx.layout.scenarios_per_batch = 1;  // chunks of one row: planes of 65536 bytes
      for (double& x : fx.roi) x = c.roi(x);
      const std::string path = (dir.path() / ("planes" + std::to_string(i) + ".h5")).string();
      const std::string ref = (dir.path() / ("planes_ref" + std::to_string(i) + ".h5")).string();
      ++i;
      fx.write(path, 1);
      expect_trials_read_back(fx, path);
      expect_chunks_match_hdf5(fx, path, ref);
      H5Handle f{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
      H5Handle d{H5Dopen2(f.id, "roi", H5P_DEFAULT), H5Dclose};
      H5Handle space{H5Dget_space(d.id), H5Sclose};
      hsize_t chunks = 0;
      ASSERT_GE(H5Dget_num_chunks(d.id, space.id, &chunks), 0);
      ASSERT_EQ(chunks, 3u);
      for (hsize_t k = 0; k < chunks; ++k) {
        hsize_t off[2];
        unsigned mask = 0;
        haddr_t addr;
        hsize_t size = 0;
        ASSERT_GE(H5Dget_chunk_info(d.id, space.id, k, off, &mask, &addr, &size), 0);
        EXPECT_EQ(mask, 0u) << "deflate skipped for chunk " << k;
        // zlib header and adler32 (6), a 5-byte header per stored block, the fletcher32 (4)
        EXPECT_LE(size, 65536u * 8 + 6 + 5 * 16 + 4) << "chunk " << k;
        std::vector<unsigned char> raw(size);
        std::uint32_t filters = 0;
        ASSERT_GE(H5Dread_chunk(d.id, H5P_DEFAULT, off, &filters, raw.data()), 0);
        ASSERT_GE(raw.size(), 7u);
        // The first deflate block's header: BFINAL, then BTYPE (00 stored: then LEN, NLEN; 01 fixed codes).
        const unsigned btype = (raw[2] >> 1) & 3;
        if (c.first == kStoredFirst) {
          EXPECT_EQ(btype, 0u) << "chunk " << k;
          EXPECT_EQ(raw[3] | raw[4] << 8, 65535) << "chunk " << k;
        } else if (c.first == kRunFirst) {
          EXPECT_EQ(btype, 1u) << "chunk " << k;
        } else {
          EXPECT_NE(btype, 0u) << "chunk " << k;
        }
        if (std::string(c.what) == "an atom among random values" && level == 1)  // dynamic codes
          EXPECT_EQ(btype, 2u) << "chunk " << k;
        if (std::string(c.what) == "all planes random")  // 16 stored blocks: each plane 65535 + 1 bytes
          EXPECT_EQ(size, 2 + 65536u * 8 + 5 * 16 + 4 + 4) << "chunk " << k;
        if (std::string(c.what) == "one value")  // eight runs of 65536 bytes: ~420 bytes each
          EXPECT_LT(size, 8u * 512) << "chunk " << k;
      }
    }
  }
}

// Planes of at least 2 bits a byte that are not random (an atom among random bytes, a skewed
// histogram) become one block of Huffman codes each with `huffman` (zlib_planes, HuffmanPlane), or
// stored blocks where those are smaller, wherever they stand; a plane of one byte but for 1/16
// of others, unless it is the last, one block of fixed codes (sparse_walk); libdeflate takes the
// rest from the first other plane. Every stream must inflate to its planes (libdeflate and zlib), its
// first block of the type expected, no larger than the planes' entropy allows plus the code's
// header; with a smaller limit, nothing is written past it.
TEST(ResultsFile, HuffmanCodedPlanesInflate) {
  std::mt19937_64 gen(11);
  using Planes = std::vector<std::vector<unsigned char>>;
  const auto shuffled = [](const std::vector<double>& x) {  // byte b of element i -> plane b
    Planes p(8, std::vector<unsigned char>(x.size()));
    for (std::size_t i = 0; i < x.size(); ++i)
      for (int b = 0; b < 8; ++b) p[b][i] = static_cast<unsigned char>(std::bit_cast<std::uint64_t>(x[i]) >> (8 * b));
    return p;
  };
  const auto random_plane = [&](std::size_t n, int values) {
    std::vector<unsigned char> p(n);
    for (auto& b : p) b = static_cast<unsigned char>(gen() % static_cast<unsigned>(values));
    return p;
  };
  // Counts 1, 1, 2, 4, ..., 4096 (a chain in Huffman's tree, 8,192 bytes in all) beside 16 values
  // of 8,192 each: the tree would be 17 deep (with the end-of-block code), deflate allows 15.
  std::vector<unsigned char> deep(1, 0);
  for (int k = 0; k <= 12; ++k) deep.insert(deep.end(), std::size_t{1} << k, static_cast<unsigned char>(k + 1));
  for (int v = 0; v < 16; ++v) deep.insert(deep.end(), 8192, static_cast<unsigned char>(100 + v));
  std::shuffle(deep.begin(), deep.end(), gen);
  std::vector<double> roi(40000);
  std::uniform_real_distribution<double> u(-1.0, 3.0);
  for (double& x : roi) x = gen() % 10 < 3 ? -1.0 : u(gen);  // 30% of projects failed: ROI exactly -1
  std::vector<unsigned char> skewed(30000);  // 95% zeros: below 2 bits, libdeflate's
  for (auto& b : skewed) b = gen() % 20 == 0 ? static_cast<unsigned char>(1 + gen() % 3) : 0;
  // Runs of byte 7 of every length from 1 to 300 between single other bytes (every match length
  // code, and the 1-2 bytes a run's matches leave), 45,450 bytes, 300 of them others: sparse.
  std::vector<unsigned char> runs;
  for (std::size_t len = 1; len <= 300; ++len) {
    runs.insert(runs.end(), len, 7);
    runs.push_back(static_cast<unsigned char>(gen() % 7 == 0 ? 200 : 8 + gen() % 100));
  }
  const std::size_t nruns = runs.size();
  struct Case {
    const char* what;
    Planes planes;
    double stored_entropy;
    unsigned first_btype;  // 0 stored, 2 dynamic Huffman codes
    double max_bytes;      // of the stream
  };
  const std::vector<Case> cases = {
      {"a histogram whose codes must be limited to 15 bits", {deep}, 7.5, 2, 139264 * 4.3 / 8 + 200},
      // Eight values: 3 bits each, but the end-of-block code takes one of them to 4 (3.125 a byte).
      {"eight values", {random_plane(65536, 8)}, 7.5, 2, 65536 * 3.125 / 8 + 200},
      {"roi with an atom at -1", shuffled(roi), 7.5, 2, 40000 * 8 * 0.9},
      {"two coded planes, the last ending the stream", {random_plane(30000, 8), random_plane(30000, 16)}, 7.5, 2,
       30000 * (3.125 + 4.0625) / 8 + 400},
      {"a coded plane, then libdeflate", {random_plane(30000, 8), skewed}, 7.5, 2, 30000 * 3.125 / 8 + 30000 / 4},
      {"random bytes never stored: codes no smaller, so stored", {random_plane(65536, 256)}, 9.0, 0, 65536 + 64},
      // Fixed codes (01): runs as distance-1 matches, the other bytes as literals.
      {"a sparse plane, then a coded one", {runs, random_plane(nruns, 8)}, 7.5, 1, nruns * (0.25 + 3.125 / 8) + 400},
      {"a sparse plane last: libdeflate's", {random_plane(nruns, 8), runs}, 7.5, 2, nruns * (0.25 + 3.125 / 8) + 400},
      {"four bytes: the code's header outweighs them", {random_plane(4, 256), random_plane(4, 256)}, 9.0, 0, 64},
  };
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  // Inflated by both libdeflate and zlib to exactly the chunk's bytes.
  const auto expect_inflates = [&](const std::vector<unsigned char>& z, std::size_t size,
                                   const std::vector<unsigned char>& data) {
    std::vector<unsigned char> back(data.size() + 1);
    std::size_t got = 0;
    ASSERT_EQ(libdeflate_zlib_decompress(d, z.data(), size, back.data(), back.size(), &got), LIBDEFLATE_SUCCESS);
    ASSERT_EQ(got, data.size());
    ASSERT_TRUE(std::equal(data.begin(), data.end(), back.begin()));
    uLongf zgot = static_cast<uLongf>(back.size());
    ASSERT_EQ(uncompress(back.data(), &zgot, z.data(), static_cast<uLong>(size)), Z_OK);
    ASSERT_EQ(zgot, data.size());
    ASSERT_TRUE(std::equal(data.begin(), data.end(), back.begin()));
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::size_t plane = c.planes[0].size(), planes = c.planes.size();
    std::vector<unsigned char> data;
    for (const auto& p : c.planes) data.insert(data.end(), p.begin(), p.end());
    std::vector<unsigned char> out(data.size() * 2 + 1024);
    const std::size_t size = zlib_planes_for_tests(data.data(), plane, planes, 1, c.stored_entropy, true, out.data(), out.size());
    ASSERT_GT(size, 0u);
    expect_inflates(out, size, data);
    EXPECT_EQ((out[2] >> 1) & 3u, c.first_btype);
    EXPECT_LE(static_cast<double>(size), c.max_bytes);
    // Limits at and below the stream's size: a stream within the limit, or 0, and nothing
    // written past it (guard bytes).
    for (std::size_t limit : {size, size - 1, size / 2, std::size_t{7}}) {
      std::vector<unsigned char> tight(limit + 64, 0xA5);
      const std::size_t n = zlib_planes_for_tests(data.data(), plane, planes, 1, c.stored_entropy, true, tight.data(), limit);
      EXPECT_LE(n, limit) << limit;
      EXPECT_TRUE(std::all_of(tight.begin() + static_cast<std::ptrdiff_t>(limit), tight.end(), [](unsigned char b) { return b == 0xA5; }))
          << "written past a limit of " << limit;
      if (n) expect_inflates(tight, n, data);
    }
  }
  // And 300 chunks of 1-8 planes of 1-20,000 bytes, each plane of a random shape: k values
  // uniform, a power law, an atom among random bytes, random bytes, one byte but for 2% others
  // (sparse where another plane follows).
  for (int k = 0; k < 300; ++k) {
    const std::size_t plane = 1 + gen() % (k < 150 ? 300 : 20000), planes = 1 + gen() % 8;
    std::vector<unsigned char> data(plane * planes);
    for (std::size_t q = 0; q < planes; ++q) {
      const unsigned shape = static_cast<unsigned>(gen() % 5), values = 1 + static_cast<unsigned>(gen() % 256);
      const double power = 1 + static_cast<double>(gen() % 100) / 10;
      for (std::size_t i = 0; i < plane; ++i) {
        const double x = static_cast<double>(gen() % 1000000) / 1e6;
        const unsigned v = shape == 0   ? static_cast<unsigned>(gen() % values)
                           : shape == 1 ? static_cast<unsigned>(std::pow(x, power) * values)
                           : shape == 2 ? (gen() % 10 < 3 ? 0u : static_cast<unsigned>(gen() % 256))
                           : shape == 3 ? static_cast<unsigned>(gen() % 256)
                                        : (gen() % 50 == 0 ? static_cast<unsigned>(gen() % 256) : 7u);
        data[q * plane + i] = static_cast<unsigned char>(std::min(v, 255u));
      }
    }
    std::vector<unsigned char> out(data.size() * 2 + 1024);
    const double stored_entropy = gen() % 3 == 0 ? 9.0 : 7.5;
    const std::size_t size = zlib_planes_for_tests(data.data(), plane, planes, 1, stored_entropy, true, out.data(), out.size());
    ASSERT_GT(size, 0u) << k;
    SCOPED_TRACE(k);
    expect_inflates(out, size, data);
  }
  // A last plane of 0.5-2 bits a byte (the sign-and-exponent byte of ROI and NPV) is Huffman-coded
  // at level 1, a bit a byte at least, even where libdeflate's matches would shrink it far more
  // (here a repeating pattern of two bytes: a few hundred bytes deflated): the trade level 1 makes
  // for the match finder's time. Below 0.5 bits (`skewed` above, 0.37) it stays libdeflate's.
  {
    std::vector<unsigned char> pattern(32768);
    for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<unsigned char>((i % 7) < 3 ? 0x40 : 0xBF);
    std::vector<unsigned char> out(pattern.size() * 2 + 1024);
    const std::size_t size = zlib_planes_for_tests(pattern.data(), pattern.size(), 1, 1, 7.5, true, out.data(), out.size());
    EXPECT_GE(size, pattern.size() / 8);
    EXPECT_LE(size, pattern.size() * 3 / 16 + 200);  // codes of 1 and 2 bits (the end of block takes a 2-bit one)
    expect_inflates(out, size, pattern);
    const std::size_t deflated = zlib_planes_for_tests(pattern.data(), pattern.size(), 1, 6, 7.5, false, out.data(), out.size());
    EXPECT_LT(deflated, pattern.size() / 64);  // what the matches would have given
    std::vector<unsigned char> low(skewed);
    const std::size_t z_low = zlib_planes_for_tests(low.data(), low.size(), 1, 1, 7.5, true, out.data(), out.size());
    EXPECT_LT(z_low, low.size() / 8);  // libdeflate's: below Huffman's bit a byte
    expect_inflates(out, z_low, low);
  }
  std::vector<unsigned char> none(64);
  EXPECT_EQ(zlib_planes_for_tests(none.data(), 0, 8, 1, 7.5, true, none.data(), none.size()), 0u);  // no bytes
  libdeflate_free_decompressor(d);
}

// Scenarios with the same per-trial results (an override of a project they do not fund) make
// chunks whose planes look random but repeat within deflate's reach: they must be deflated, not
// stored. Chunks of 8 rows x 4096 trials, rows 4-7 copies of rows 0-3.
TEST(ResultsFile, RepeatedRowsAreDeflatedNotStored) {
  TempDir dir;
  Fixture fx(8, 4096, kInputs, false, 1);
  fx.layout.scenarios_per_batch = 8;
  for (std::size_t r = 4; r < 8; ++r)
    for (std::size_t t = 0; t < 4096; ++t) {
      fx.roi[r * 4096 + t] = fx.roi[(r - 4) * 4096 + t];
      fx.npv[r * 4096 + t] = fx.npv[(r - 4) * 4096 + t];
      fx.payback[r * 4096 + t] = fx.payback[(r - 4) * 4096 + t];
    }
  const std::string path = (dir.path() / "repeated.h5").string();
  fx.write(path, 8);
  expect_trials_read_back(fx, path);
  expect_chunks_match_hdf5(fx, path, (dir.path() / "repeated_ref.h5").string());
  H5Handle f{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  H5Handle d{H5Dopen2(f.id, "roi", H5P_DEFAULT), H5Dclose};
  H5Handle space{H5Dget_space(d.id), H5Sclose};
  hsize_t off[2];
  unsigned mask = 0;
  haddr_t addr;
  hsize_t size = 0;
  ASSERT_GE(H5Dget_chunk_info(d.id, space.id, 0, off, &mask, &addr, &size), 0);
  EXPECT_EQ(mask, 0u);
  EXPECT_LT(size, 8u * 4096 * 8 * 6 / 10) << "the repeated half should cost next to nothing";
}

// The per-scenario statistics take the same direct-chunk path: chunks that span several batches
// (rows buffered), a partial last chunk, several scalar chunks (4096 scenarios each), no inputs.
TEST(ResultsFile, StatisticsChunksMatchHdf5PipelineAcrossBatches) {
  TempDir dir;
  const struct { std::uint64_t S, N, per_batch; bool summary_only; std::vector<std::string> inputs; int level; } cases[] = {
      {70, 10, 9, false, kInputs, 1},      // cash-flow chunks of 32 rows across batches of 9
      {9000, 2, 1000, true, kInputs, 0},   // three scalar chunks, the last one partial
      {5, 3, 2, true, {}, 9},              // no inputs: the per-input datasets stay empty
  };
  int i = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE("S=" + std::to_string(c.S) + " per_batch=" + std::to_string(c.per_batch));
    const std::string path = (dir.path() / ("stats" + std::to_string(i) + ".h5")).string();
    const std::string ref = (dir.path() / ("stats_ref" + std::to_string(i) + ".h5")).string();
    ++i;
    Fixture fx(c.S, c.N, c.inputs, c.summary_only, c.level);
    fx.write(path, c.per_batch);
    expect_round_trip(fx, path);
    expect_chunks_match_hdf5(fx, path, ref);
  }
}

TEST(ResultsFile, DirectChunksPassTheLayoutChecker) {
  TempDir dir;
  for (int level : {0, 1, 9}) {
    const std::string path = (dir.path() / ("odd" + std::to_string(level) + ".h5")).string();
    Fixture fx(13, 1001, kInputs, false, level);
    fx.layout.scenarios_per_batch = 4;
    fx.write(path, 3);
    run_checker(path, false);
  }
}

TEST(DataSyncer, ServesRequestsAndKeepsTheFirstError) {
  // A regular file: every request served, no error.
  char path[] = "/tmp/roisim-sync-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "roisim", 6), 6);
  {
    DataSyncer s(fd);
    s.request();
    EXPECT_EQ(s.drain(), 0);
    s.request();
    s.request();
    EXPECT_EQ(s.drain(), 0);
    EXPECT_EQ(s.finish(), 0);
    EXPECT_EQ(s.finish(), 0);  // a second finish (commit, then the destructor) is harmless
  }
  { DataSyncer s(fd); }  // destroyed with nothing asked: joins at once
  {
    DataSyncer s(fd);
    s.request();  // destroyed with a request perhaps pending: joins
  }
  // A pipe cannot be synced (EINVAL): the error is kept, for drain() and for finish().
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  {
    DataSyncer s(p[1]);
    s.request();
    EXPECT_EQ(s.drain(), EINVAL);
    s.request();
    EXPECT_EQ(s.drain(), EINVAL);
    EXPECT_EQ(s.finish(), EINVAL);
  }
  ::close(p[0]);
  ::close(p[1]);
  ::close(fd);
  ::unlink(path);
}

// ---- What the reader refuses --------------------------------------------------------------------

namespace {

// The message of the IoError `f` throws ("" when it throws none).
template <class F>
std::string io_error(F&& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// format_version was written and never read: a file of a later major version (whose datasets may
// mean something else) was read as this one's.
TEST(ResultsFile, RefusesAnotherMajorFormatVersion) {
  TempDir dir;
  const auto with_version = [&](const std::string& tag, std::optional<AttrValue> v) {
    const std::string path = (dir.path() / (tag + ".h5")).string();
    Fixture fx(3, 20, kInputs, false);
    if (v) fx.layout.attributes["format_version"] = *v;
    else fx.layout.attributes.erase("format_version");
    fx.write(path);
    return path;
  };
  const std::string newer = with_version("newer", std::string("2.0"));
  std::string msg = io_error([&] { read_results_summary(newer); });
  EXPECT_NE(msg.find(newer), std::string::npos) << msg;
  EXPECT_NE(msg.find("format_version 2.0 is newer than this roisim's 1.0"), std::string::npos) << msg;
  EXPECT_THROW(read_trial_row(newer, "roi", 0), IoError);
  EXPECT_THROW(read_cashflow_quantiles(newer, 0), IoError);

  const std::string missing = with_version("missing", std::nullopt);
  msg = io_error([&] { read_results_summary(missing); });
  EXPECT_NE(msg.find("no root attribute 'format_version'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("reads format 1.x and writes 1.0"), std::string::npos) << msg;

  for (const auto& bad : {AttrValue(std::string("abc")), AttrValue(std::string("1.")), AttrValue(std::string("")),
                          AttrValue(std::string("-1.0")), AttrValue(std::string("1.0 ")), AttrValue(std::int64_t{1})}) {
    const std::string path = with_version("garbled", bad);
    msg = io_error([&] { read_results_summary(path); });
    EXPECT_TRUE(msg.find("is not a version") != std::string::npos ||
                msg.find("is not a text") != std::string::npos) << msg;
    fs::remove(path);
  }
  const std::string older = with_version("older", std::string("0.9"));
  msg = io_error([&] { read_results_summary(older); });
  EXPECT_NE(msg.find("format_version 0.9 is older than 1.0"), std::string::npos) << msg;

  // A later minor version of the same major version reads (it may only add to the file).
  EXPECT_NO_THROW(read_results_summary(with_version("minor", std::string("1.7"))));
  EXPECT_NO_THROW(read_results_summary(with_version("current", std::string(kFormatVersion))));
}

// A file without roi_mean read as "an older layout": every ROI figure n/a, exit 0. Only the
// datasets added after format 1.0 may be absent.
TEST(ResultsFile, RefusesAFileWithoutADatasetEveryFileHolds) {
  TempDir dir;
  Fixture fx(3, 20, kInputs, false);
  const std::string good = (dir.path() / "good.h5").string();
  fx.write(good);
  const auto without = [&](const char* name) {
    const std::string path = (dir.path() / (std::string("no_") + name + ".h5")).string();
    fs::copy_file(good, path);
    H5Handle f{H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose};
    EXPECT_GE(H5Ldelete(f.id, name, H5P_DEFAULT), 0) << name;
    return path;
  };
  std::vector<std::string> required = {"scenario", "input", "funded", "trial", "quantile"};
  for (const auto& f : results_fields::kScalarFields)
    if (f.in_every_file) required.push_back(f.name);
  for (const auto& f : results_fields::kQuantileFields)
    if (f.in_every_file) required.push_back(f.name);
  for (const auto& f : results_fields::kInputFields)
    if (f.in_every_file) required.push_back(f.name);
  // What format 1.0 (the first commit's writer) wrote.
  EXPECT_EQ(required, (std::vector<std::string>{"scenario", "input", "funded", "trial", "quantile", "roi_mean", "roi_sd",
                                                "roi_se", "prob_loss", "cvar10", "npv_mean", "payback_p50",
                                                "prob_payback", "roi_quantile", "npv_quantile", "spearman"}));
  for (const auto& name : required) {
    const std::string path = without(name.c_str());
    const std::string msg = io_error([&] { read_results_summary(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("dataset '" + name + "' is missing"), std::string::npos) << msg;
  }
  // Added later: absent from older files, NaN then.
  for (const char* name : {"npv_se", "prob_loss_lo", "roi_quantile_hi", "tornado_low", "cashflow_quantile"}) {
    const std::string path = without(name);
    EXPECT_NO_THROW(read_results_summary(path)) << name;
  }
  EXPECT_TRUE(std::isnan(read_results_summary((dir.path() / "no_npv_se.h5").string()).summary[0].npv_se));
}

// A file of no scenarios said "not a scenario index 0-0" in compare.
TEST(ResultsFile, RefusesAFileOfNoScenarios) {
  TempDir dir;
  Fixture fx(0, 20, kInputs, false);
  const std::string path = (dir.path() / "none.h5").string();
  fx.write(path);
  const std::string msg = io_error([&] { read_results_summary(path); });
  EXPECT_NE(msg.find("holds no scenarios"), std::string::npos) << msg;
}
