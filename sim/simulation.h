#pragma once
// One run from plan to results file: the engine's batches streamed into the writer.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/engine.h"
#include "sim/results_file.h"
#include "sim/scenario.h"

namespace roisim {

struct RunRequest {
  std::string output;             // target path of the results file
  bool summary_only = false;
  int compression = 1;            // deflate level 0-9
  std::string command_line;       // recorded in the file
  RunOptions engine;
  std::size_t keep_first = 10;    // summaries of the first scenarios returned for display
  // Auto-stop (--target-ci): when > 0, the trial count is the first of 2000, 4000, 8000, ...
  // (capped at max_trials) at which, in every scenario, the 95% intervals of P10, P50 and P90 ROI
  // and of prob_loss reach no further than target_ci from the estimate.
  double target_ci = 0;
  std::uint64_t max_trials = 1'000'000;
  // Called before each run of the engine, whose progress engine.progress then reports: each trial
  // count an auto-stop search tries (search = true), then the run that writes the file.
  std::function<void(bool search)> stage_started;
};

// The result of an auto-stop search.
struct AutoStop {
  std::uint64_t trials = 0;
  bool met = false;
  double widest = 0;            // the largest half-width at that trial count
  std::string widest_where;     // "scenario: statistic"
  std::vector<std::uint64_t> tried;
};
// Runs the engine (no file) at growing trial counts until the target is met or max_trials is
// reached; deterministic: the same file, seed and target always stop at the same count.
AutoStop find_trial_count(const Plan& plan, const RunRequest& request);

struct RunReport {
  std::uint64_t scenarios = 0, trials = 0;
  std::vector<std::string> names;          // first keep_first scenarios
  std::vector<ScenarioSummary> summaries;  // likewise
  double seconds = 0;
  EngineTimings timings;  // where the time went (output = writing the file)
  double commit_seconds = 0;  // closing, syncing and renaming the file
  std::optional<AutoStop> auto_stop;
  std::string distribution;  // MPI runs: ranks and how the work was split; empty otherwise
};

// "dir/name.yaml" -> "dir/name.h5".
std::string default_output_path(const std::string& scenario_file);
// Refuses (InputError) an output whose folder is missing or not writable, that is the input, or
// that exists and is not a regular file (a folder, device, pipe or socket: -o /dev/null).
void check_output_path(const std::string& output, const std::string& input);
// "a character device", "a folder", ...: for messages about a path that is not a regular file.
std::string file_kind(const std::filesystem::file_status& st);
// Why writing to `path` must not replace it (write beside, then rename), or nullopt when it is
// missing or a regular file (or a chain of links ending at one): it is, or leads through links to,
// a folder, device, pipe or socket, or a process's file descriptor (/dev/stdout, /dev/fd/1,
// /proc/self/fd/1), which must be written through whatever it is open on.
std::optional<std::string> not_replaceable(const std::string& path);
// The file layout and root attributes for a plan.
ResultsLayout make_layout(const Plan& plan, const RunRequest& request, std::uint64_t batch);
// What a run needs: memory (bytes, upper estimate) and results-file size (bytes, before
// compression), and what the machine has (0 when unknown).
struct ResourceEstimate {
  std::uint64_t memory = 0, file = 0;
  std::uint64_t memory_available = 0, disk_available = 0;
};
// extra_memory: bytes the caller holds beside the engine (a distributed run's rank).
ResourceEstimate estimate_resources(const Plan& plan, const RunRequest& request, std::uint64_t extra_memory = 0);
// Refuses (InputError, with the estimate and what to change) a run that would not fit.
void check_resources(const Plan& plan, const RunRequest& request, std::uint64_t extra_memory = 0);
// "1.5 GiB" style.
std::string human_bytes(double bytes);

// Simulates every scenario and writes the results file atomically.
RunReport simulate_to_file(const Plan& plan, const RunRequest& request);

}  // namespace roisim
