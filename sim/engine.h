#pragma once
// The simulation engine: samples every input once, evaluates each distinct project variant
// once per batch, sums them into scenario trials, and computes each scenario's statistics.
// Results are bitwise identical whatever the thread count and whichever other scenarios run.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/results_file.h"
#include "sim/scenario.h"

namespace roisim {

// Distributed runs: each process samples only its part of the trials (part p of `parts` holds
// trials [N p / parts, N (p + 1) / parts)) and the input ranks of every parts-th input, and these
// functions share the rest (sim/mpi_run.cpp implements them with MPI). Every process must call
// Engine::sample_inputs() (or run) at the same point, as the calls are collective.
struct SampleSharing {
  int part = 0, parts = 1;
  // In place: afterwards every process holds all of data[0, n), each part coming from its process.
  std::function<void(double* data, std::size_t n)> gather;
  // In place: afterwards every process holds process `from`'s data[0, n).
  std::function<void(double* data, std::size_t n, int from)> broadcast;
};

// What Engine::run reports after each batch.
struct Progress {
  std::uint64_t done = 0, total = 0;  // scenarios of the run's range summarised so far, of all
  std::uint64_t trials = 0;           // per scenario in this run
  // Trials simulated so far: done x trials, less those of identical scenarios whose statistics
  // were copied without simulating them (summary-only sinks; see reuse_bytes).
  std::uint64_t simulated = 0;
};

struct RunOptions {
  int threads = 0;                      // 0: all cores
  std::uint64_t batch_scenarios = 0;    // 0: automatic (bounded by memory)
  const std::atomic<bool>* cancel = nullptr;  // when set to true the run stops with Cancelled
  // cashflow_quantile is computed over the first min(N, cashflow_trials) trials (0: all trials):
  // the quantiles of every month cost a sort each, and a fan chart needs no more precision.
  std::uint64_t cashflow_trials = 1000;
  std::function<void(const Progress&)> progress;  // after each batch
  // Engine::run calls this on the calling thread once batch i's trials are simulated (before its
  // statistics and sink): for tests and monitoring.
  std::function<void(std::uint64_t i)> batch_simulated;
  std::shared_ptr<const SampleSharing> sharing;  // null: this process samples everything
  // Engine::run calls the sink of batch i as a task on the engine's threads, in a stage of its own
  // beside the statistics of batch i+1 and the simulation of batch i+2 (still in order, one at a
  // time), instead of on the calling thread; with sink_needs_trials false, as late as the queue
  // allows (sink_queue_bytes). For sinks that may run on any thread (the HDF5 writer: yes; MPI
  // collectives: no).
  bool overlap_sink = false;
  // False: the sink never reads the BatchResults' per-trial pointers (they are null). True, with
  // overlap_sink: run() keeps a third batch of per-trial buffers for the sink stage (full output).
  bool sink_needs_trials = true;
  // With overlap_sink and sink_needs_trials false, summarised batches queue for the sink stage
  // while it is busy (the prologue, a slow sink) and the simulation goes on; once more than this
  // many bytes of results wait, Engine::run waits for the queue to empty.
  std::uint64_t sink_queue_bytes = std::uint64_t{16} << 20;
  // Engine::run starts this as a task on the engine's threads before sampling, and waits for it
  // before the first sink call: work the sink needs that can overlap the simulation's start
  // (simulate_to_file lays out the results file here). An exception it throws ends the run.
  std::function<void()> prologue;
  // Engine::run computes the statistics of a scenario once when later scenarios of the range use
  // the same project variants in the same order (the same trials, bit for bit: SPEC §5's common
  // random numbers; e.g. a sweep axis that touches none of the funded projects) and copies them
  // to those; with summary-only sinks (sink_needs_trials false) their trials are not simulated
  // either. The statistics kept for later copies take at most about this many bytes (0: every
  // scenario is computed; the results are the same bits either way).
  std::uint64_t reuse_bytes = std::uint64_t{32} << 20;
};

// Thrown by Engine::run when RunOptions::cancel became true.
class Cancelled : public Error {
 public:
  Cancelled() : Error("run cancelled") {}
};

// Everything about one trial of one scenario, for replay and tests.
struct TrialDetail {
  struct InputValue { std::string name; double value; };
  struct ProjectValue {
    std::string name;
    bool success;
    double annual_value, pv_value, pv_cost;
    std::vector<InputValue> params;  // every parameter slot, after correlation, scale and set
  };
  std::vector<ProjectValue> projects;
  double roi = 0, npv = 0, payback_month = 0;
};

// Wall-clock seconds spent in each phase of Engine::run. A batch's statistics and sink run beside
// the next batch's simulation, so on several threads the phases overlap and do not add up.
struct EngineTimings {
  double sampling = 0;    // uniforms, copula, quantile functions, input ranks
  double evaluation = 0;  // project variants: value models and cash flows
  double portfolio = 0;   // scenario sums: ROI, NPV, payback month per trial
  double statistics = 0;  // per-scenario summaries and sensitivity
  double output = 0;      // the sink (e.g. the results writer)
  std::uint64_t reused = 0;  // scenarios whose statistics were copied from an identical earlier one
};

class Engine {
 public:
  Engine(const Plan& plan, RunOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Simulates scenarios [first, last) (default: all) in batches, calling sink for each batch in
  // order (see RunOptions::overlap_sink for the thread). The BatchResults' per-trial pointers are
  // valid only during the call.
  void run(const std::function<void(const BatchResults&)>& sink, std::uint64_t first = 0,
           std::uint64_t last = UINT64_MAX);

  // Trial blocks (distributed runs split a scenario's trials across processes). The per-trial
  // outcomes of trials [first_trial, last_trial) of scenarios [first, first + count), the same
  // bits run() computes for them; then the statistics of scenarios from all their trials, the
  // same as run()'s. Together: run() = simulate_trials over any split of [0, N) + summarize_trials.
  struct TrialRows {
    std::uint64_t first_trial = 0;
    std::vector<double> roi, npv, payback;  // [count][last_trial - first_trial]
    // The range's trials below cashflow_trials(): [first_trial, first_trial + cash_trials).
    // cash[(scenario * (H + 1) + month) * cash_trials + k]: portfolio cumulative cash flow.
    std::uint64_t cash_trials = 0;
    std::vector<double> cash;
  };
  void simulate_trials(std::uint64_t first, std::uint64_t count, std::uint64_t first_trial, std::uint64_t last_trial,
                       TrialRows& out);
  // roi, npv, payback: [count][N]; cash: [count][H + 1][cashflow_trials()]. The result has no
  // per-trial pointers.
  BatchResults summarize_trials(std::uint64_t first, std::uint64_t count, const double* roi, const double* npv,
                                const double* payback, const double* cash);
  // Trials whose cumulative cash flows feed cashflow_quantile: min(N, RunOptions::cashflow_trials).
  std::uint64_t cashflow_trials() const;

  // Samples every input (done by run() otherwise); a collective call when RunOptions::sharing is set.
  void sample_inputs();

  // Recomputes one trial of one scenario from scratch, with every intermediate value.
  TrialDetail replay(std::uint64_t scenario, std::uint64_t trial) const;

  // Scenarios per batch the engine uses for this plan (fewer on one or two threads).
  std::uint64_t batch_scenarios() const;
  // Scenarios per batch for laying out a results file: the same for every thread count.
  std::uint64_t layout_batch() const;
  // The same from the plan alone (an MPI run's ranks use it as their batch: sim/mpi_run.cpp).
  static std::uint64_t layout_batch_of(const Plan& plan, const RunOptions& options);
  // batch_scenarios() from the plan alone: the batch memory_estimate counts.
  static std::uint64_t batch_of(const Plan& plan, const RunOptions& options);
  // Time spent so far in each phase.
  const EngineTimings& timings() const;
  // Upper estimate of the memory a run of this plan needs, in bytes (sampled inputs, ranks, one
  // batch), computed from the plan alone: nothing is allocated, so a run too big to fit can be
  // refused before an Engine (whose lhs/sobol precomputation is O(trials x inputs)) exists.
  static std::uint64_t memory_estimate(const Plan& plan, const RunOptions& options);
  // The bytes of one set of a batch's per-trial outcomes and cash-flow trials (whole huge pages):
  // run() keeps one to three sets of outcomes and one of cash flows (see memory_estimate);
  // a distributed run's trial blocks one more of each. batch_bytes = trial_bytes + cash_bytes.
  static std::uint64_t batch_bytes(const Plan& plan, const RunOptions& options);
  static std::uint64_t trial_bytes(const Plan& plan, const RunOptions& options);
  static std::uint64_t cash_bytes(const Plan& plan, const RunOptions& options);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roisim
