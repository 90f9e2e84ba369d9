#pragma once
// The results file of SPEC §6: HDF5, netCDF-4 compatible (flat root, dimension scales on every
// axis), written to a temporary name beside the target and renamed into place when complete.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <Eigen/Dense>

namespace roisim {

// The results format this build writes (root attribute format_version, "MAJOR.MINOR"). Readers
// take any file of the same major version (a minor version adds datasets or attributes that older
// readers may ignore) and refuse another major version, or a file without a readable version.
inline constexpr const char* kFormatVersion = "1.0";
inline constexpr int kFormatMajor = 1;

// The quantile levels stored in every file (the `quantile` dimension).
inline constexpr double kQuantiles[] = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95};
inline constexpr int kNumQuantiles = 7;

// Per-scenario summary statistics (SPEC §6 "per scenario").
struct ScenarioSummary {
  double roi_mean = 0, roi_sd = 0, roi_se = 0, prob_loss = 0, cvar10 = 0, npv_mean = 0;
  double payback_p50 = 0, prob_payback = 0;
  double roi_quantile[kNumQuantiles] = {};
  double npv_quantile[kNumQuantiles] = {};
  // 95% intervals: distribution-free (binomial order statistics) for the ROI quantiles, Wilson
  // for the probabilities; the standard error of the mean NPV.
  double roi_quantile_lo[kNumQuantiles] = {}, roi_quantile_hi[kNumQuantiles] = {};
  double prob_loss_lo = 0, prob_loss_hi = 0, prob_payback_lo = 0, prob_payback_hi = 0;
  double npv_se = 0;
};

// What drives the risk, per scenario and input ([count * K] each, NaN where the input is absent
// from the scenario or constant in it).
struct Drivers {
  std::vector<double> spearman;               // rank correlation with ROI
  std::vector<double> variance_contribution;  // spearman^2 / sum of spearman^2 (as @RISK)
  std::vector<double> tornado_low, tornado_high;  // ROI P50 given the input near its P10 / P90
  std::vector<double> downside_shift;         // mean percentile of the input in the worst 10% of trials, minus 0.5
};

using AttrValue = std::variant<std::string, std::int64_t, double>;

// What the whole file looks like; known before the first batch is written.
struct ResultsLayout {
  std::uint64_t scenarios = 0;             // S
  std::uint64_t trials = 0;                // N
  std::vector<std::string> inputs;         // K input names (the `input` dimension)
  bool summary_only = false;               // omit roi/npv/payback_month [scenario, trial]
  int compression = 1;                     // deflate level 0-9 (0: stored deflate blocks; the
                                           // filter chain is shuffle + deflate + fletcher32 always)
  std::uint64_t scenarios_per_batch = 64;  // rows per write_batch call (except the last)
  int horizon_months = 36;                 // H: the `month` dimension is 0..H
  // Root attributes (SPEC §6), written in this order's key order.
  std::map<std::string, AttrValue> attributes;
  // Correlation matrices (Spearman), stored when correlations exist:
  // correlation_spearman [corr_input, corr_input_to] and, when repaired,
  // correlation_spearman_repaired. Both dimension scales hold the input names.
  std::vector<std::string> correlated_inputs;
  std::optional<Eigen::MatrixXd> correlation_original;
  std::optional<Eigen::MatrixXd> correlation_repaired;
};

// One batch of consecutive scenarios [first, first + count).
struct BatchResults {
  std::uint64_t first = 0;
  std::uint64_t count = 0;
  std::vector<std::string> names;    // [count]
  std::vector<std::string> funded;   // [count], project names joined by "+"
  // [count * N], row-major by scenario; empty when summary_only.
  const double* roi = nullptr;
  const double* npv = nullptr;
  const double* payback = nullptr;
  std::vector<ScenarioSummary> summary;  // [count]
  Drivers drivers;                       // [count * K] each
  // Quantiles (kQuantiles) of the portfolio's cumulative discounted net cash flow at each month
  // 0..H: [count * (H + 1) * kNumQuantiles], scenario-major, then month; empty = not computed (NaN).
  std::vector<double> cashflow_quantile;
};

// The chunk shape {rows, cols} of the per-trial datasets for this layout: cols = min(N, 65536);
// rows = the largest divisor of scenarios_per_batch with rows * cols <= 65536 (512 KiB of float64),
// so that each batch covers whole chunk rows, unless that is under half of the largest row count
// that fits (then the largest, and rows spanning two batches are buffered); never more than S.
std::array<std::uint64_t, 2> trial_chunk_shape(const ResultsLayout& layout);
// "<target>.tmp-<pid>-<6 random hex digits>": the name a file is written under beside its target
// before the rename (the random part: a leftover of a killed process whose pid is reused must not
// block the name). The results writer, the MPI writer and `report -o` use it. When that name would
// exceed the folder's NAME_MAX (a target name of 241-255 bytes), the target's name is cut short
// (at a character boundary) before the suffix, so that any valid target can be written.
// max_name > 0 caps the temporary file's name (without its folder) at that many bytes too, the same
// way (the MPI writer: see sim/mpi_run.cpp, "Open MPI and long names").
std::string temporary_path(const std::string& target, std::size_t max_name = 0);

// For the tests: the zlib stream the writer makes of a shuffled chunk, `planes` byte planes of
// `plane` bytes (sim/results_file.cpp, zlib_planes: planes by kind, then libdeflate at `level`),
// into out[0, limit); its size, or 0 when it does not fit.
std::size_t zlib_planes_for_tests(const unsigned char* data, std::size_t plane, std::size_t planes, int level,
                                  double stored_entropy, bool huffman, unsigned char* out, std::size_t limit);

// Chunk rows (scenarios) of the per-scenario datasets, for the serial and the MPI writer alike:
// [scenario] ones up to 4096 scenarios a chunk; [scenario, quantile] and [scenario, input] ones at
// most 64 (the layout batch) and ~128 KiB; [scenario, month, quantile] ~8 KiB. The small ones are
// completed as the run goes, so the writer filters and writes them beside the simulation instead
// of all after the last batch (where they had taken ~7 ms of the seed run's serial tail).
struct StatChunkRows {
  std::uint64_t scalar, quantile, input, cashflow;
};
StatChunkRows stat_chunk_rows(const ResultsLayout& layout);

// Writes a results file. Creates "<target>.tmp-<pid>-<random>" in the target's folder; commit()
// closes, fsyncs and renames it to the target; the destructor removes the temporary file if
// commit() was not called. Throws IoError.
class ResultsWriter {
 public:
  ResultsWriter(std::string target_path, ResultsLayout layout);
  ~ResultsWriter();
  ResultsWriter(const ResultsWriter&) = delete;
  ResultsWriter& operator=(const ResultsWriter&) = delete;

  void write_batch(const BatchResults& batch);
  void commit();
  const std::string& temp_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What `roisim report` needs: the summary of every scenario, read back from a file.
struct ResultsSummary {
  std::map<std::string, AttrValue> attributes;
  std::vector<std::string> scenarios, funded, inputs;
  std::vector<double> quantiles;
  std::vector<ScenarioSummary> summary;  // [S]
  Drivers drivers;                       // [S * K] each (empty vectors when the file lacks them)
  std::uint64_t trials = 0;
  bool has_trials = false;               // roi/npv/payback_month present
};
ResultsSummary read_results_summary(const std::string& path);
// One scenario's per-trial column (dataset "roi", "npv" or "payback_month") for tests and replay.
std::vector<double> read_trial_row(const std::string& path, const std::string& dataset,
                                   std::uint64_t scenario);
// One scenario's cashflow_quantile [(H + 1) * kNumQuantiles], month-major; empty when absent.
std::vector<double> read_cashflow_quantiles(const std::string& path, std::uint64_t scenario);
// Scenarios whose mean ROI or mean NPV is not finite (NaN or infinite: inputs beyond what a double
// holds, e.g. a normal of mean 1e308): how many, and the first's index. `run` warns of them, reading
// back the file it has just written (in every build, MPI included, rank 0 has the file, not every
// scenario's summary).
struct NonFiniteMeans {
  std::uint64_t count = 0, first = 0;
  std::vector<char> flags;  // per scenario
};
NonFiniteMeans nonfinite_means(const std::string& path);

}  // namespace roisim
