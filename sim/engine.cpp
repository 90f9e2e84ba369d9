#include "sim/engine.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>

#include <sys/mman.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include "models/cash_flow.h"
#include "models/value_models.h"
#include "sim/buffer.h"
#include "sim/results_fields.h"
#include "sim/rng.h"
#include "sim/sampler.h"
#include "sim/simd.h"
#include "sim/trace.h"
#include "sim/statistics.h"

namespace roisim {

namespace {

constexpr std::size_t kSampleBlock = 256;              // trials per task when sampling uniforms
constexpr std::size_t kTrialBlock = 256;               // trials per task when simulating (at most)
constexpr std::size_t kBlockBytes = 1u << 20;          // a task's project streams and partial sums
constexpr std::size_t kRowPad = 8;                      // doubles after each month's row of a block (simulate)
constexpr double kBandLevels[4] = {0.05, 0.15, 0.85, 0.95};  // tornado: the input near its P10 / P90
constexpr std::size_t kBatchBytes = 192u << 20;        // per-trial result buffers of one batch

// Sums one trial's project streams into the portfolio's ROI, NPV and payback month, and every
// month's portfolio total into total[0..H]: replay's reference, which the engine's block sums
// (sum_block) reproduce bit for bit - the same additions in the same order.
struct TrialOutcome { double roi, npv, payback; };
TrialOutcome combine(std::size_t k, const double* const* pv_value, const double* const* pv_cost,
                     const double* const* cum, int horizon, double* total) {
  double v = 0, c = 0;
  for (std::size_t i = 0; i < k; ++i) {
    v += *pv_value[i];
    c += *pv_cost[i];
  }
  const std::size_t months = static_cast<std::size_t>(horizon) + 1;
  double payback = std::numeric_limits<double>::infinity();
  const double* t = cum[0];
  if (k > 1) {
    for (std::size_t m = 0; m < months; ++m) total[m] = cum[0][m] + cum[1][m];
    for (std::size_t i = 2; i < k; ++i)
      for (std::size_t m = 0; m < months; ++m) total[m] += cum[i][m];
    t = total;
  } else {
    std::copy(t, t + months, total);
  }
  for (std::size_t m = 0; m < months; ++m)
    if (t[m] >= 0) {
      payback = static_cast<double>(m);
      break;
    }
  return {v / c - 1.0, v - c, payback};
}

// The parameters of one project in one trial, from its slot values.
ProjectDraw make_draw(const Project& p, const double* in, double u_success) {
  const int vs = p.value_slots();
  ProjectDraw d;
  d.annual_value = annual_value(p.kind, in);
  d.initial_cost = in[vs + kInitialCost];
  d.maintenance_share = in[vs + kMaintenanceShare];
  d.infra_annual = in[vs + kInfraAnnual];
  d.launch_month = in[vs + kLaunchMonth];
  d.ramp_months = in[vs + kRampMonths];
  d.decay = in[vs + kDecay];
  const double ps = std::clamp(in[vs + kPSuccess], 0.0, 1.0);
  d.success = u_success > 1.0 - ps;  // Bernoulli(p) by inverse transform of the success uniform
  return d;
}


// A node of a batch's prefix tree of variant sequences (see Engine::Impl::BatchWork).
struct TreeNode {
  int variant, depth;
  std::vector<int> scenarios;  // those whose sequence ends here
  bool leaf = false;           // no sequence goes on from here
};

// One block of trials [at, at + blen) of the simulated range, for sum_block.
struct BlockSums {
  const std::vector<TreeNode>* nodes;
  std::size_t B, L, blen, stride, len, at, kept, cash_ld;  // L: a month's row in cum and total (see simulate)
  const double *pv_value, *pv_cost, *cum;  // [variant][B], [variant][B], [variant][month][L]
  double *value_sum, *cost_sum, *total;    // [depth][B], [depth][B], [depth][month][L]
  const double** totals;                   // [depth]
  double *roi, *npv, *pay, *cash;          // the range's outputs (see simulate)
};

// The first month with a non-negative portfolio total, or +inf, for trials [0, blen) of monthly
// totals sum[m * L + k]. Eight trials at a time in registers, months inner; a group stops early
// once all eight have paid back. (Months only grow, so the first non-negative month is the smallest
// candidate: any order of evaluation gives the same value.)
// With `up`, the totals are up + sum, added here (the same additions a stored total would make).
// Always inlined into sum_block's clones: GCC's heuristics left it a call in the x86-64-v4 clone,
// where the scenario sums then took 3.4x as long.
__attribute__((always_inline)) inline void payback_months(const double* up, const double* sum, std::size_t L,
                                                          std::size_t blen, std::size_t stride, double* pay) {
  using simd::V4d;
  const double inf = std::numeric_limits<double>::infinity();
  const V4d vinf = {inf, inf, inf, inf}, zero = {};
  std::size_t k = 0;
  for (; k + 8 <= blen; k += 8) {
    V4d p0 = vinf, p1 = vinf;
    for (std::size_t m = 0; m < stride; ++m) {
      const double md = static_cast<double>(m);
      const V4d vm = {md, md, md, md};
      V4d r0, r1;
      simd::load(r0, &sum[m * L + k]);
      simd::load(r1, &sum[m * L + k + 4]);
      if (up) {
        V4d u0, u1;
        simd::load(u0, &up[m * L + k]);
        simd::load(u1, &up[m * L + k + 4]);
        r0 = u0 + r0;
        r1 = u1 + r1;
      }
      const V4d c0 = r0 >= zero ? vm : vinf, c1 = r1 >= zero ? vm : vinf;
      p0 = c0 < p0 ? c0 : p0;
      p1 = c1 < p1 ? c1 : p1;
      if (m % 4 == 3) {
        const auto open = (p0 == vinf) | (p1 == vinf);
        if (!(open[0] | open[1] | open[2] | open[3])) break;
      }
    }
    simd::store(&pay[k], p0);
    simd::store(&pay[k + 4], p1);
  }
  for (; k < blen; ++k) {
    double p = inf;
    for (std::size_t m = 0; m < stride; ++m)
      if ((up ? up[m * L + k] + sum[m * L + k] : sum[m * L + k]) >= 0) {
        p = static_cast<double>(m);
        break;
      }
    pay[k] = p;
  }
}

// Walks the prefix tree: each node's sums are its parent's plus its variant's streams; each
// scenario's ROI, NPV, payback month (and kept cash flows) follow from its node's sums. A free
// function so that it is also compiled for AVX2 and picked at load time by the CPU: the same bits
// either way (additions, a division, comparisons; no fused multiply-add).
ROISIM_CLONES
void sum_block(const BlockSums& a) {
  const std::size_t B = a.B, L = a.L, blen = a.blen, stride = a.stride;
  for (const TreeNode& node : *a.nodes) {
    const std::size_t d = static_cast<std::size_t>(node.depth), vi = static_cast<std::size_t>(node.variant);
    const double* __restrict pv = &a.pv_value[vi * B];
    const double* __restrict pc = &a.pv_cost[vi * B];
    const double* __restrict row = &a.cum[vi * stride * L];
    double* __restrict vs = &a.value_sum[d * B];
    double* __restrict cs = &a.cost_sum[d * B];
    if (d == 0) {
      for (std::size_t k = 0; k < blen; ++k) {
        vs[k] = 0.0 + pv[k];
        cs[k] = 0.0 + pc[k];
      }
      a.totals[0] = row;
    } else {
      const double* __restrict uv = &a.value_sum[(d - 1) * B];
      const double* __restrict uc = &a.cost_sum[(d - 1) * B];
      for (std::size_t k = 0; k < blen; ++k) {
        vs[k] = uv[k] + pv[k];
        cs[k] = uc[k] + pc[k];
      }
      const double* __restrict up = a.totals[d - 1];
      if (node.leaf && node.scenarios.size() == 1 && !a.kept) {
        // Nobody else needs this total: the payback scan adds it as it goes (and may stop early).
        const int si = node.scenarios[0];
        const std::size_t o = static_cast<std::size_t>(si) * a.len + a.at;
        for (std::size_t k = 0; k < blen; ++k) {
          a.roi[o + k] = vs[k] / cs[k] - 1.0;
          a.npv[o + k] = vs[k] - cs[k];
        }
        payback_months(up, row, L, blen, stride, &a.pay[o]);
        continue;
      }
      double* __restrict tot = &a.total[d * stride * L];
      for (std::size_t m = 0; m < stride; ++m)
        for (std::size_t k = 0; k < blen; ++k) tot[m * L + k] = up[m * L + k] + row[m * L + k];
      a.totals[d] = tot;
    }
    for (int si : node.scenarios) {
      const std::size_t o = static_cast<std::size_t>(si) * a.len + a.at;
      for (std::size_t k = 0; k < blen; ++k) {
        a.roi[o + k] = vs[k] / cs[k] - 1.0;
        a.npv[o + k] = vs[k] - cs[k];
      }
      const double* sum = a.totals[d];
      if (a.kept)
        for (std::size_t m = 0; m < stride; ++m)
          std::copy(&sum[m * L], &sum[m * L] + a.kept, &a.cash[(static_cast<std::size_t>(si) * stride + m) * a.cash_ld + a.at]);
      payback_months(nullptr, sum, L, blen, stride, &a.pay[o]);
    }
  }
}

std::string funded_string(const Plan& plan, const std::vector<int>& funded) {
  std::string s;
  for (int p : funded) s += (s.empty() ? "" : "+") + plan.projects()[p].name;
  return s;
}

}  // namespace

std::uint64_t run_threads(const RunOptions& opt) {
  return static_cast<std::uint64_t>(opt.threads > 0 ? opt.threads : std::max(1, tbb::info::default_concurrency()));
}

// Scenarios per batch: at most kBatchBytes of per-trial results, and at most `cap`.
std::uint64_t batch_within(std::uint64_t n, const RunOptions& opt, std::uint64_t cap) {
  if (opt.batch_scenarios) return opt.batch_scenarios;
  const std::uint64_t by_memory = std::max<std::uint64_t>(1, kBatchBytes / (3 * 8 * std::max<std::uint64_t>(n, 1)));
  return std::clamp<std::uint64_t>(by_memory, 1, cap);
}
// The engine's batch: at most 64 scenarios, and 32 on one or two threads, where a batch's
// statistics need fewer scenarios to keep every thread busy. On the seed file (2026-12-06, 8-10
// alternating end-to-end rounds) two threads are slower at 64 than at 32 (summary-only 0.24 vs
// 0.21 s) and no faster at 20 or 24; one thread is -1% to +5% faster at 64 (fewer batches
// evaluate the variants they share) for 19-23 MiB more (summary-only peak 40 -> 59 MiB, full
// 45 -> 68), so it keeps 32 too; 16 is slower (the variants a batch shares are evaluated more
// often). Many threads keep 64 so that each batch's statistics still give every
// thread several scenarios. The results do not depend on it: each scenario's statistics read
// only its own trials.
std::uint64_t batch_for(std::uint64_t n, const RunOptions& opt) {
  return batch_within(n, opt, run_threads(opt) <= 2 ? 32 : 64);
}
// The batch the results file's chunk rows are aligned to: the same for every thread count, so
// that the file's layout does not depend on it (batches need not match it: sim/results_file.cpp).
std::uint64_t layout_batch_for(std::uint64_t n, const RunOptions& opt) { return batch_within(n, opt, 64); }
std::uint64_t cash_trials_for(std::uint64_t n, const RunOptions& opt) {
  return opt.cashflow_trials == 0 ? n : std::min<std::uint64_t>(n, opt.cashflow_trials);
}
// The buffer sets run() keeps: per-trial outcomes for the batch simulated and the one summarised
// beside it, and a third while the sink stage reads a batch's trials (full output); one on one
// thread, where the stages run one after another. Cash-flow trials: one set at any thread count,
// as a batch's fan chart is computed before the next batch is simulated (fan_chart).
// memory_estimate counts the same.
struct BufferSets {
  std::size_t outcomes, cash;
};
BufferSets buffer_sets(const RunOptions& opt) {
  if (run_threads(opt) == 1) return {1, 1};
  return {opt.overlap_sink && opt.sink_needs_trials ? std::size_t{3} : std::size_t{2}, 1};
}

// Bytes a batch's results hold (SinkQueue's bound).
std::uint64_t results_bytes(const BatchResults& r) {
  std::uint64_t bytes = sizeof r + r.summary.size() * sizeof(ScenarioSummary) + r.cashflow_quantile.size() * 8;
  for (const auto* names : {&r.names, &r.funded})
    for (const auto& s : *names) bytes += sizeof s + s.capacity();
  for (const auto& field : results_fields::kInputFields) bytes += (r.drivers.*(field.member)).size() * 8;
  return bytes;
}

// The sink stage of Engine::run for sinks that read no trials (summary-only): summarised batches
// wait here, in order, for one task at a time to sink them (drain), started by the calling thread
// once the prologue is done (ready): when a batch arrives, or in Engine::run's flush. The main
// loop waits (flush) only when more than RunOptions::sink_queue_bytes of results are waiting
// (Engine::memory_estimate counts them) and at the end. A failure of the prologue or of a sink is
// kept here and rethrown on the calling thread.
struct SinkQueue {
  using SinkOne = std::function<void(const BatchResults&, std::uint64_t)>;
  struct Item {
    BatchResults results;
    std::uint64_t batch;
    Progress progress;
    std::uint64_t bytes;
  };
  const bool on;  // false: Engine::run delivers as before and nothing here is used
  std::atomic<bool> stop{false};  // the run failed: drain() returns without sinking the rest
  SinkQueue(bool on_, bool prologue, std::uint64_t max_bytes, const std::atomic<bool>* cancel_, SinkOne sink)
      : on(on_), max_held(max_bytes), cancel(cancel_), sink_one(std::move(sink)), ready(!prologue) {}

  // Queues batch b's results; true when the caller must start a task that calls drain().
  bool push(BatchResults&& r, std::uint64_t b, const Progress& p) {
    const std::uint64_t bytes = results_bytes(r);
    std::lock_guard lock(m);
    items.push_back({std::move(r), b, p, bytes});
    held += bytes;
    return claim_locked();
  }
  // True when the caller must start a task that calls drain() (ready, something queued, none running).
  bool claim_drain() {
    std::lock_guard lock(m);
    return claim_locked();
  }
  // The batches queued meanwhile are drained from the next delivery, or by Engine::run's flush.
  void prologue_done() {
    std::lock_guard lock(m);
    ready = true;
  }
  void fail(std::exception_ptr e) {
    std::lock_guard lock(m);
    if (!error) error = std::move(e);
  }
  void rethrow_if_failed() {
    std::lock_guard lock(m);
    if (error) std::rethrow_exception(error);
  }
  // Sinks the queued batches in order until none is left (or the run failed or was cancelled).
  void drain() {
    for (;;) {
      Item* item;
      {
        std::lock_guard lock(m);
        if (items.empty() || stop || (cancel && cancel->load(std::memory_order_relaxed))) {
          draining = false;
          return;
        }
        item = &items.front();  // stays put: deque::push_back keeps references to its elements
      }
      try {
        sink_one(item->results, item->batch);
      } catch (...) {
        fail(std::current_exception());  // draining stays set: nothing is sunk past the failed batch
        return;
      }
      std::lock_guard lock(m);
      held -= item->bytes;
      sunk = item->progress;
      items.pop_front();
    }
  }
  // The progress of the last batch sunk since the previous call, if any.
  std::optional<Progress> take_progress() {
    std::lock_guard lock(m);
    return std::exchange(sunk, std::nullopt);
  }
  bool full() {
    std::lock_guard lock(m);
    return held > max_held;
  }

 private:
  bool claim_locked() {
    if (!ready || draining || items.empty() || error) return false;
    draining = true;
    return true;
  }
  const std::uint64_t max_held;
  const std::atomic<bool>* const cancel;
  SinkOne sink_one;
  std::mutex m;
  std::deque<Item> items;  // guarded by m, as are the fields below
  std::uint64_t held = 0;
  bool ready;              // the prologue is done (or there is none)
  bool draining = false;   // a task is in drain() (or about to be)
  std::exception_ptr error;
  std::optional<Progress> sunk;
};

struct Engine::Impl {
  const Plan& plan;
  RunOptions opt;
  Timeline timeline;
  std::size_t n;
  int h;
  tbb::task_arena arena;
  UniformSampler uniforms;

  // Sampled values of every (variable, definition); constants need no array.
  std::vector<std::vector<int>> value_id;       // [var][def] -> index in values, -1 = constant
  // Sampled inputs and (beyond kMaxSmallRankTrials trials) their ranks, n doubles each, in one
  // buffer (huge pages: see NoInit).
  Buffer input_pool;
  std::vector<double*> values;                  // [id] -> n values
  std::vector<double*> ranks;                   // [id] -> n average ranks (1-based); null = not an input, or small_ranks instead
  // [id] -> the same as twice centred ranks (twice_rank_dot), up to kMaxSmallRankTrials trials.
  std::vector<std::int16_t, NoInit<std::int16_t>> small_rank_pool;
  std::vector<std::int16_t*> small_ranks;
  std::vector<double> rank_norm;                // [id] sqrt of the ranks' sum of squared deviations
  std::vector<std::vector<std::uint32_t>> band_low, band_high;  // [id] trials with the input in [P5, P15] / [P85, P95]
  OrderStatInterval intervals[kNumQuantiles] = {};  // order statistics of the quantile intervals
  bool sampled = false;
  // One worker's project streams and prefix-tree sums of a block of trials (see simulate()).
  struct BlockScratch {
    double *pv_value = nullptr, *pv_cost = nullptr, *cum = nullptr;  // [variant][trial], [variant][trial], [variant][month][trial]
    double *value_sum = nullptr, *cost_sum = nullptr, *total = nullptr;  // [depth][trial], [depth][trial], [depth][month][trial]
    // The six in one buffer of at least 1 MiB, so on a 2 MiB huge page (sim/buffer.h): as six
    // buffers (~1 MiB together) they took ~250 page faults of 4 KiB a seed run, and more as they
    // grew; the price is ~1 MiB more resident per worker. (AddressSanitizer no longer sees an
    // overrun from one of the six into the next; the tests compare every trial with replay.)
    Buffer all;
    void size_for(std::size_t V, std::size_t D, std::size_t stride, std::size_t B, std::size_t L) {
      const std::size_t need = (2 * V + 2 * D) * B + (V + D) * stride * L;
      if (all.size() < need)  // nothing to keep: no copy, and exactly this size
        Buffer(std::max(need, NoInit<double>::kHugeFrom / sizeof(double))).swap(all);
      pv_value = all.data();
      pv_cost = pv_value + V * B;
      cum = pv_cost + V * B;
      value_sum = cum + V * stride * L;
      cost_sum = value_sum + D * B;
      total = cost_sum + D * B;
    }
    // A variant's draws as columns (DrawColumns): each slot's values for the block's trials, then
    // the annual values and the success flags.
    std::vector<double> slots, value;
    std::vector<const double*> slot;  // slot j's column
    std::vector<unsigned char> success;
    std::vector<const double*> totals;  // the current path's monthly sums, by depth
    double evaluation = 0, portfolio = 0;  // seconds spent in each part
  };
  tbb::enumerable_thread_specific<BlockScratch> block_scratch;
  // One batch's per-trial outcomes (one allocation: whole huge pages, one rounding, not three) and,
  // apart, its cash-flow trials' cumulative cash flows. run() keeps two sets of outcomes, as a
  // batch's statistics run beside the next batch's simulation, and a third when the sink stage
  // reads a batch's trials while the next two are simulated and summarised. It keeps one buffer of
  // cash flows: a batch's fan chart is computed (fan_chart, on every thread) before the next batch
  // is simulated into it, and no sink reads them. On the seed file each set of cash flows is 10 MB
  // of fresh memory, and a first touch of memory costs 2-3 ms a MB on this project's VMs whenever
  // the host has taken back the pages the kernel hands out (README "Performance": free page
  // reporting); 0.1-1.7 ms a MB otherwise.
  struct BatchBuffers {
    Buffer all;
    double *roi = nullptr, *npv = nullptr, *pay = nullptr;
    void size_for(std::size_t trials) {
      all.resize(3 * trials);
      roi = all.data();
      npv = roi + trials;
      pay = npv + trials;
    }
  };
  BatchBuffers batch_buf[3];
  Buffer cash_buf;
  // Identical scenarios (see RunOptions::reuse_bytes), planned by plan_reuse() for run()'s range:
  // same_as[s - first] is the earlier scenario whose statistics scenario s copies (or -1), and
  // uses[s - first] how many later scenarios copy scenario s's (0: not kept).
  struct Reuse {
    std::uint64_t first = 0;
    std::vector<std::int64_t> same_as;
    std::vector<std::uint32_t> uses;
  } reuse;
  // The statistics of a scenario kept for its later copies, by scenario; removed after the last
  // copy. Only statistics() touches it, one batch at a time.
  struct KeptStats {
    ScenarioSummary summary;
    std::vector<double> values;  // the kInputFields' K values each, then (H + 1) x kNumQuantiles
    std::uint32_t uses = 0;      // copies still to make
  };
  std::unordered_map<std::uint64_t, KeptStats> kept_stats;
  tbb::enumerable_thread_specific<StatsScratch> stats_scratch;  // per worker, kept across batches
  std::size_t cashflow_trials() const { return cash_trials_for(n, opt); }
  EngineTimings timings;

  // Adds the seconds since `since` to `into` and restarts the clock.
  static void lap(double& into, std::chrono::steady_clock::time_point& since) {
    const auto now = std::chrono::steady_clock::now();
    into += std::chrono::duration<double>(now - since).count();
    since = now;
  }

  Impl(const Plan& p, RunOptions o)
      : plan(p),
        opt(std::move(o)),
        timeline(p.settings().horizon_months, p.settings().discount_rate),
        n(p.settings().trials),
        h(p.settings().horizon_months),
        arena(opt.threads > 0 ? opt.threads : tbb::task_arena::automatic),
        uniforms(p) {}

  bool cancelled() const { return opt.cancel && opt.cancel->load(std::memory_order_relaxed); }
  // Parallel bodies return early once cancelled(); the caller then throws here.
  void check_cancel() const {
    if (cancelled()) throw Cancelled();
  }

  const double* source(const SlotBinding& b, double& constant) const {
    const int id = value_id[b.var][b.def];
    if (id < 0) constant = plan.variables()[b.var].defs[b.def].dist.quantile(0.5);
    return id < 0 ? nullptr : values[id];
  }

  // Phase 0: uniforms of every variable (correlated through the copula), mapped through every
  // definition; normalised ranks of the inputs for sensitivity.
  void sample() {
    const auto& vars = plan.variables();
    // Small blocks: 10,000 trials must still keep 16 cores busy (the bits do not depend on them).
    const std::size_t nblocks = (n + kSampleBlock - 1) / kSampleBlock;
    // This process's trials [lo, hi): blocks clipped to them.
    const SampleSharing* share = opt.sharing && opt.sharing->parts > 1 ? opt.sharing.get() : nullptr;
    const std::size_t parts = share ? static_cast<std::size_t>(share->parts) : 1, part = share ? static_cast<std::size_t>(share->part) : 0;
    const std::size_t lo = n * part / parts, hi = n * (part + 1) / parts;
    const auto clip = [&](std::size_t blk, std::size_t& t0, std::size_t& len) {
      t0 = std::max(blk * kSampleBlock, lo);
      const std::size_t end = std::min(std::min(n, (blk + 1) * kSampleBlock), hi);
      len = end > t0 ? end - t0 : 0;
      return len > 0;
    };
    // Uniforms: u[v] -> n for each independent uncertain variable, then the copula variables'
    // (cu, input-major), in one buffer, freed once mapped.
    const GaussianCopula* cop = plan.copula();
    const auto& cvars = plan.copula_vars();
    std::vector<double*> u(vars.size(), nullptr);
    std::size_t nu = 0;
    for (std::size_t v = 0; v < vars.size(); ++v) nu += vars[v].uncertain() && vars[v].copula_index < 0;
    Buffer upool((nu + cvars.size()) * n);
    for (std::size_t v = 0, k = 0; v < vars.size(); ++v)
      if (vars[v].uncertain() && vars[v].copula_index < 0) u[v] = &upool[k++ * n];
    double* const cu = upool.data() + nu * n;
    tbb::parallel_for(std::size_t{0}, nblocks, [&](std::size_t blk) {
      if (cancelled()) return;
      std::size_t t0, len;
      if (!clip(blk, t0, len)) return;
      for (std::size_t v = 0; v < vars.size(); ++v) {
        if (!vars[v].uncertain()) continue;
        double* dst = vars[v].copula_index >= 0 ? &cu[vars[v].copula_index * n + t0] : u[v] + t0;
        uniforms.fill(static_cast<int>(v), t0, len, dst);
      }
      if (cop) cop->correlate_block(cu + t0, n, len);
    });
    check_cancel();
    // Definitions to evaluate.
    value_id.assign(vars.size(), {});
    struct Job { int var, def, id; };
    std::vector<Job> jobs;
    for (std::size_t v = 0; v < vars.size(); ++v) {
      value_id[v].assign(vars[v].defs.size(), -1);
      if (!vars[v].uncertain()) continue;
      for (std::size_t d = 0; d < vars[v].defs.size(); ++d) {
        if (vars[v].defs[d].dist.is_constant()) continue;
        value_id[v][d] = static_cast<int>(jobs.size());
        jobs.push_back({static_cast<int>(v), static_cast<int>(d), static_cast<int>(jobs.size())});
      }
    }
    // Ranks of the inputs (not success draws): with sharing, process k % parts ranks the k-th.
    const auto ranked = [&](const Job& j) { return vars[j.var].input_index >= 0 && vars[j.var].success_of < 0; };
    const std::size_t nranked = static_cast<std::size_t>(std::count_if(jobs.begin(), jobs.end(), ranked));
    // Up to kMaxSmallRankTrials trials the statistics read the ranks as int16 (small_ranks): the
    // doubles are then needed only until those are made, in a buffer of their own freed at the end
    // (on the seed, 2 MB less memory for the run: the batches' buffers reuse its pages).
    const bool small = n <= kMaxSmallRankTrials;
    input_pool.resize((jobs.size() + (small ? 0 : nranked)) * n);
    values.assign(jobs.size(), nullptr);
    ranks.assign(jobs.size(), nullptr);
    for (std::size_t i = 0; i < jobs.size(); ++i) values[jobs[i].id] = &input_pool[i * n];
    rank_norm.assign(jobs.size(), 0.0);
    band_low.assign(jobs.size(), {});
    band_high.assign(jobs.size(), {});
    tbb::parallel_for(std::size_t{0}, jobs.size() * nblocks, [&](std::size_t i) {
      if (cancelled()) return;
      const Job& j = jobs[i / nblocks];
      std::size_t t0, len;
      if (!clip(i % nblocks, t0, len)) return;
      const Variable& var = vars[j.var];
      const double* src = var.copula_index >= 0 ? &cu[var.copula_index * n + t0] : u[j.var] + t0;
      var.defs[j.def].dist.quantile(src, &values[j.id][t0], len);
    });
    Buffer().swap(upool);
    check_cancel();
    Buffer rank_pool(small ? nranked * n : 0);  // allocated after the uniforms are freed: their pages
    for (std::size_t i = 0, k = 0; i < jobs.size(); ++i)
      if (ranked(jobs[i])) ranks[jobs[i].id] = small ? &rank_pool[k++ * n] : &input_pool[(jobs.size() + k++) * n];
    if (share)
      for (double* v : values) share->gather(v, n);
    std::vector<std::size_t> ranker(jobs.size(), 0);
    for (std::size_t i = 0, k = 0; i < jobs.size(); ++i)
      if (ranked(jobs[i])) ranker[i] = k++ % parts;
    std::vector<std::array<double, 4>> bands(jobs.size());
    tbb::parallel_for(std::size_t{0}, jobs.size(), [&](std::size_t i) {
      if (cancelled()) return;
      const Job& j = jobs[i];
      if (!ranked(j) || ranker[i] != part) return;
      StatsScratch& scratch = stats_scratch.local();  // the statistics reuse it
      rank_norm[j.id] = std::sqrt(average_ranks(values[j.id], n, scratch, ranks[j.id]));
      for (int b = 0; b < 4; ++b) bands[i][b] = quantile_type7(scratch.sorted.data(), n, kBandLevels[b]);
    });
    check_cancel();
    if (share)
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (!ranked(jobs[i])) continue;
        const int from = static_cast<int>(ranker[i]);
        share->broadcast(ranks[jobs[i].id], n, from);
        share->broadcast(&rank_norm[jobs[i].id], 1, from);
        share->broadcast(bands[i].data(), 4, from);
      }
    small_ranks.assign(jobs.size(), nullptr);
    small_rank_pool.resize(small ? nranked * n : 0);
    for (std::size_t i = 0, k = 0; small && i < jobs.size(); ++i)
      if (ranked(jobs[i])) small_ranks[jobs[i].id] = &small_rank_pool[k++ * n];
    tbb::parallel_for(std::size_t{0}, jobs.size(), [&](std::size_t i) {
      if (!ranked(jobs[i])) return;
      const int id = jobs[i].id;
      band_trials(values[id], bands[i].data(), band_low[id], band_high[id]);
      if (small) twice_centred_ranks(ranks[id], n, small_ranks[id]);
    });
    if (small) std::fill(ranks.begin(), ranks.end(), nullptr);  // rank_pool is freed on return
    for (int q = 0; q < kNumQuantiles; ++q) intervals[q] = quantile_interval(n, kQuantiles[q]);
    check_cancel();
    sampled = true;
  }

  // A distinct (project, slot bindings), evaluated once per block of trials of a batch.
  struct Variant {
    int project;
    std::vector<SlotBinding> bind;
    std::vector<const double*> src;
    std::vector<double> constant, scale;
    const double* u_success;
  };

  Variant make_variant(int project, std::vector<SlotBinding> bind) const {
    Variant v{project, std::move(bind), {}, {}, {}, nullptr};
    for (const auto& b : v.bind) {
      double c = 0;
      v.src.push_back(source(b, c));
      v.constant.push_back(c);
      v.scale.push_back(b.scale);
    }
    const int sv = plan.projects()[project].success_var;
    v.u_success = values[value_id[sv][0]];
    return v;
  }

  // A variant's slot values for trials [t0, t0 + len): slot j's, scale * the sampled value (or the
  // constant), in buf[j * ld ..], col[j] pointing there.
  static void slot_columns(const Variant& v, std::size_t t0, std::size_t len, std::size_t ld, std::vector<double>& buf,
                           std::vector<const double*>& col) {
    const std::size_t S = v.src.size();
    if (buf.size() < S * ld) buf.resize(S * ld);
    col.resize(S);
    for (std::size_t j = 0; j < S; ++j) {
      double* out = &buf[j * ld];
      col[j] = out;
      const double scale = v.scale[j];
      if (const double* x = v.src[j]) {
        for (std::size_t k = 0; k < len; ++k) out[k] = scale * x[t0 + k];
      } else {
        std::fill(out, out + len, scale * v.constant[j]);
      }
    }
  }

  // A project's success draw as a sensitivity input: its average ranks (a 0/1 indicator: (n0 + 1)/2
  // and n0 + (n1 + 1)/2), their norm about the mean rank, and the trials in its tornado bands.
  struct SuccessInput {
    std::vector<double> ranks;
    std::vector<std::int16_t> small_ranks;  // twice centred, up to kMaxSmallRankTrials trials
    double norm = 0;
    std::vector<std::uint32_t> low, high;
  };

  struct ScenarioWork {
    std::vector<int> variants;                    // per funded project
    std::vector<std::pair<int, double>> inputs;   // per input: value id (or -1) and the sign
    std::vector<int> success_variant;             // per input: variant whose success draw it is, or -1
  };

  // A pipeline: batch i is simulated (main thread, parallel loops) while batch i-1's statistics
  // run as a task beside it, so that the threads left idle by one stage's last tasks (and by the
  // serial parts) find work in the other. The sink of a batch runs
  //  - without overlap_sink: on the calling thread, beside the next batch's statistics;
  //  - with overlap_sink: as a third stage of its own, a batch behind (one sink at a time), so
  //    that a serial sink holds up neither the next simulation nor the next statistics. When the
  //    sink reads the batch's trials (sink_needs_trials: full output), batch i-2's buffers are
  //    still in use by its sink while batch i is simulated and batch i-1 summarised: a third set.
  // On one thread there is nothing to overlap: each batch is simulated, summarised and sunk in
  // turn, in one set of buffers (a third of the memory of two sets, and less of it faulted in:
  // summary-only peak 58 -> 40 MiB on the seed file; the time changes within the VM's noise).
  // With overlap_sink and a sink that reads no trials (summary-only), a summarised batch's results
  // are queued for the sink stage (SinkQueue) instead: the main loop goes on simulating while the
  // prologue lays out the file and while the serial sink lags, up to sink_queue_bytes of results.
  // (Waiting in a parallel loop, the calling thread could run the prologue's task from its own pool
  // and be held by it, but only while no worker has taken it: a worker steals the oldest task first.)
  // Sinks are called in batch order, one at a time. Results do not depend on any of this (each
  // statistic reads only its own scenario's complete trials).
  void run(const std::function<void(const BatchResults&)>& sink, std::uint64_t first, std::uint64_t last) {
    // Allow more workers than cores when asked for (the default limit is the core count).
    within_arena([&] {
      const std::uint64_t total = plan.scenario_count();
      last = std::min(last, total);
      const std::uint64_t bs = batch_scenarios();
      const std::size_t stride = static_cast<std::size_t>(h) + 1, cash_n = cashflow_trials();
      const bool chained = opt.overlap_sink;
      const bool serial = run_threads(opt) == 1;
      const BufferSets sets = buffer_sets(opt);
      const std::size_t nbuf = sets.outcomes;
      BatchWork works[2];         // batch i: works[i % 2], batch_buf[i % nbuf] (and cash_buf)
      BatchResults results[3];    // batch i: results[i % 3] (the third for the sink stage)
      tbb::task_group tail, writing;
      const auto sink_one = [&](const BatchResults& r, std::uint64_t b) {
        auto clock = std::chrono::steady_clock::now();
        sink(r);
        lap(timings.output, clock);
        trace("batch written", static_cast<long>(b));
      };
      const auto to_sink = [&](std::uint64_t b) { sink_one(results[b % 3], b); };
      SinkQueue queue(chained && !opt.sink_needs_trials && !serial, static_cast<bool>(opt.prologue),
                      opt.sink_queue_bytes, opt.cancel, sink_one);
      // The prologue runs beside the sampling and the first batches, in the sink stage's group:
      // every sink call comes after a writing.wait() (queued: after it marked the queue ready).
      if (opt.prologue)
        writing.run([this, &queue] {
          trace("prologue start");
          if (!queue.on) {
            opt.prologue();
          } else {
            try {
              opt.prologue();
            } catch (...) {
              queue.fail(std::current_exception());
              return;
            }
          }
          trace("prologue done");
          queue.prologue_done();
        });
      // Queued: waits until everything queued is written (or the run failed or was cancelled). The
      // first wait is for the prologue too, which the calling thread runs itself if no worker has
      // taken it (none may ever come: a global_control limit of one thread, or other arenas
      // holding every worker).
      const auto flush = [&] {
        writing.wait();
        queue.rethrow_if_failed();
        if (!queue.claim_drain()) return;
        writing.run([&queue] { queue.drain(); });
        writing.wait();
        queue.rethrow_if_failed();
      };
      // Scenarios simulated up to and including batch i: simulated[i % 3], beside results[i % 3].
      std::uint64_t simulated[3] = {}, simulated_so_far = 0;
      const auto progress_of = [&](std::uint64_t b) -> Progress {
        return {results[b % 3].first + results[b % 3].count - first, last - first, n, simulated[b % 3] * n};
      };
      const auto progress = [&](std::uint64_t b) {
        if (opt.progress) opt.progress(progress_of(b));
      };
      // Batch b, summarised: to the sink (chained: queued in the sink stage) and reported.
      const auto deliver = [&](std::uint64_t b) {
        if (queue.on) {
          queue.rethrow_if_failed();  // the prologue's or a sink's error
          const Progress p = progress_of(b);  // before its results move into the queue
          if (queue.push(std::move(results[b % 3]), b, p)) writing.run([&queue] { queue.drain(); });
          if (opt.progress)
            if (const auto done = queue.take_progress()) opt.progress(*done);
          if (queue.full()) flush();  // the sink stage lags: let it catch up (all of it: simpler)
          return;
        }
        writing.wait();  // the prologue; chained: batch b - 1 (one at a time, in order)
        if (chained) {
          if (b > 0) progress(b - 1);
          writing.run([&to_sink, b] { to_sink(b); });
          return;
        }
        to_sink(b);
        progress(b);
      };
      try {
        ensure_sampled();
        auto clock = std::chrono::steady_clock::now();
        plan_reuse(first, last);
        lap(timings.statistics, clock);  // it serves the statistics
        std::uint64_t i = 0;
        for (std::uint64_t s0 = first; s0 < last; s0 += bs, ++i) {
          check_cancel();
          const std::size_t k = i % 2, kb = i % nbuf;
          const std::uint64_t count = std::min(bs, last - s0);
          works[k] = prepare(s0, count, /*with_reuse=*/true);
          simulated[i % 3] = simulated_so_far += works[k].simulated;
          BatchBuffers& buf = batch_buf[kb];
          buf.size_for(count * n);
          // The cash-flow trials by variant where a batch has no more variants than scenarios (the
          // seed's batches: 5-17 variants for 15-32 scenarios; 10 MB -> 5 MB), else by scenario.
          const bool by_variant = works[k].variants.size() <= count;
          const std::size_t cash_size = (by_variant ? works[k].variants.size() : count) * stride * cash_n;
          // Grown empty: resize() would copy the last batch's cash flows, which nobody reads, into
          // the new buffer while both are held (two sets at once, over memory_estimate's one).
          if (cash_size > cash_buf.capacity()) Buffer().swap(cash_buf);
          cash_buf.resize(cash_size);
          double* const cash = cash_n ? cash_buf.data() : nullptr;
          simulate(works[k], 0, n, buf.roi, buf.npv, buf.pay, cash, cash_n, by_variant);
          trace("batch simulated", static_cast<long>(i));
          if (opt.batch_simulated) opt.batch_simulated(i);
          // Batch i's results: the statistics need only the work lists.
          const auto begin_results = [&]() -> BatchResults& {
            BatchResults& out = results[i % 3];
            out = BatchResults{};
            out.first = s0;
            out.count = count;
            out.names = std::move(works[k].names);
            out.funded = std::move(works[k].funded);
            if (opt.sink_needs_trials) {
              out.roi = buf.roi;
              out.npv = buf.npv;
              out.payback = buf.pay;
            }
            return out;
          };
          if (serial) {  // one buffer set: summarised and written before the next batch
            check_cancel();
            BatchResults& out = begin_results();
            fan_chart(works[k], cash, by_variant, out);
            statistics(works[k], buf.roi, buf.npv, buf.pay, out);
            trace("batch summarised", static_cast<long>(i));
            writing.wait();  // the prologue
            to_sink(i);
            progress(i);
            works[k] = BatchWork{};  // its success inputs: not beside the next batch's (memory_estimate)
            continue;
          }
          tail.wait();  // batch i-1's statistics
          check_cancel();
          // Chained: batch i-1 to the sink stage, once it is done with batch i-2 (so batch i-2's
          // buffers, which batch i+1 will fill, are free); results[i % 3] last held batch i-3,
          // whose sink finished before batch i-2's began.
          if (i > 0 && chained) deliver(i - 1);
          // The fan chart first, on every thread: the next batch's simulation reuses the cash buffer.
          fan_chart(works[k], cash, by_variant, begin_results());
          tail.run([this, k, kb, i, &works, &results] {
            check_cancel();
            const BatchBuffers& b = batch_buf[kb];
            statistics(works[k], b.roi, b.npv, b.pay, results[i % 3]);
            trace("batch summarised", static_cast<long>(i));
          });
          if (i > 0 && !chained) deliver(i - 1);
        }
        tail.wait();
        check_cancel();
        if (i > 0 && !serial) deliver(i - 1);
        if (queue.on)
          flush();
        else
          writing.wait();
        check_cancel();
        if (queue.on) {
          if (opt.progress)
            if (const auto done = queue.take_progress()) opt.progress(*done);
        } else if (chained && i > 0 && !serial) {
          progress(i - 1);
        }
      } catch (...) {
        queue.stop = true;  // what is queued is not written
        for (auto* g : {&tail, &writing}) try {
            g->wait();
          } catch (...) {  // the first error wins
          }
        throw;
      }
    }, /*sample_first=*/false);
  }

  std::uint64_t batch_scenarios() const { return batch_for(n, opt); }

  // What a scenario's trials and statistics depend on (besides the plan's settings and the sampled
  // inputs): its projects in order, each with what its slots read. Scales compare by their bits.
  using ScenarioKey = std::vector<std::pair<int, std::vector<SlotBinding>>>;
  ScenarioKey scenario_key(std::uint64_t s) const {
    const ScenarioSpec spec = plan.scenario(s);
    ScenarioKey key;
    for (int p : spec.funded) key.emplace_back(p, bind_project(plan, p, spec.overrides));
    return key;
  }
  static bool same_key(const ScenarioKey& a, const ScenarioKey& b) {
    const auto same_binding = [](const SlotBinding& x, const SlotBinding& y) {
      return x.var == y.var && x.def == y.def && std::bit_cast<std::uint64_t>(x.scale) == std::bit_cast<std::uint64_t>(y.scale);
    };
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [&](const auto& x, const auto& y) {
      return x.first == y.first && std::equal(x.second.begin(), x.second.end(), y.second.begin(), y.second.end(), same_binding);
    });
  }
  static std::uint64_t key_hash(const ScenarioKey& key) {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL;
    const auto mix = [&h](std::uint64_t x) {  // splitmix64's finaliser over the running state
      h = (h ^ x) * 0xbf58476d1ce4e5b9ULL;
      h ^= h >> 31;
      h *= 0x94d049bb133111ebULL;
      h ^= h >> 29;
    };
    for (const auto& [p, bind] : key) {
      mix(static_cast<std::uint64_t>(p) ^ (std::uint64_t{bind.size()} << 32));
      for (const auto& b : bind) {
        mix(static_cast<std::uint64_t>(static_cast<std::uint32_t>(b.var)) | std::uint64_t{static_cast<std::uint32_t>(b.def)} << 32);
        mix(std::bit_cast<std::uint64_t>(b.scale));
      }
    }
    return h;
  }

  // Finds the scenarios of [first, last) identical to an earlier one (the same key; a hash
  // match is confirmed by comparing the keys) and decides which statistics to keep for them:
  // scenario order, a kept scenario's statistics live from its batch until its last copy, and a
  // new one is kept only while the kept ones fit in opt.reuse_bytes (otherwise its copies are
  // computed anew). O(scenarios) memory: a few bytes each.
  void plan_reuse(std::uint64_t first, std::uint64_t last) {
    reuse = Reuse{};
    reuse.first = first;
    kept_stats.clear();
    const std::size_t m = last > first ? static_cast<std::size_t>(last - first) : 0;
    const std::size_t K = plan.input_vars().size(), stride = static_cast<std::size_t>(h) + 1;
    const std::size_t entry = sizeof(KeptStats) + 64 + (static_cast<std::size_t>(results_fields::kNumInputFields) * K + stride * kNumQuantiles) * sizeof(double);
    const std::uint64_t max_kept = opt.reuse_bytes / entry;
    if (m < 2 || max_kept == 0) return;
    trace("reuse start");
    std::vector<std::uint64_t> hash(m);
    tbb::parallel_for(std::size_t{0}, m, [&](std::size_t i) {
      if (!cancelled()) hash[i] = key_hash(scenario_key(first + i));
    });
    check_cancel();
    reuse.same_as.assign(m, -1);
    reuse.uses.assign(m, 0);
    std::vector<std::size_t> last_use(m, 0);  // of a scenario with later copies: the last one
    {
      std::unordered_map<std::uint64_t, std::size_t> seen;
      seen.reserve(m);
      for (std::size_t i = 0; i < m; ++i) {
        const auto [it, added] = seen.try_emplace(hash[i], i);
        if (added) continue;
        const std::size_t r = it->second;
        if (!same_key(scenario_key(first + r), scenario_key(first + i))) continue;  // a collision: computed
        reuse.same_as[i] = static_cast<std::int64_t>(r);  // relative for now
        last_use[r] = i;
      }
    }
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> open;  // last uses of kept ones
    std::vector<char> kept(m, 0);
    for (std::size_t i = 0; i < m; ++i) {
      while (!open.empty() && open.top() < i) open.pop();
      const std::int64_t r = reuse.same_as[i];
      if (r >= 0) {
        if (kept[static_cast<std::size_t>(r)]) {
          ++reuse.uses[static_cast<std::size_t>(r)];
          reuse.same_as[i] = static_cast<std::int64_t>(first) + r;
        } else {
          reuse.same_as[i] = -1;
        }
      } else if (last_use[i] > i && open.size() < max_kept) {
        kept[i] = 1;
        open.push(last_use[i]);
      }
    }
    trace("reuse done");
  }

  // The project variants a batch of scenarios needs and how each scenario uses them.
  struct BatchWork {
    std::vector<Variant> variants;
    std::vector<ScenarioWork> work;  // [count]
    std::vector<std::string> names, funded;
    // The scenarios' variant sequences as a prefix tree, nodes in depth-first order: a node's
    // sums are its parent's plus its variant's streams, so a scenario funding A, B, C adds C to
    // the sums of A + B that its sibling funding A, B, D shares - the same additions in the same
    // order as combine() (replay) makes for each scenario alone, hence the same bits.
    std::vector<TreeNode> nodes;
    int depth = 0;  // deepest node + 1
    // Per variant whose success draw is an input of some scenario of the batch (empty otherwise):
    // the draw as an input, computed once per batch by statistics() and shared by every scenario
    // that funds the variant (it depends on the variant alone).
    std::vector<SuccessInput> success;
    // Per scenario: the earlier identical scenario whose statistics it copies, or -1; how many later
    // scenarios copy its own (see plan_reuse). A copy without variants is not simulated.
    std::uint64_t first = 0;  // the batch's first scenario
    std::vector<std::int64_t> copy_of;
    std::vector<std::uint32_t> keep_for;
    std::uint64_t simulated = 0;  // scenarios whose trials are simulated (for Progress)
  };

  // with_reuse: as planned by plan_reuse() (run() only).
  BatchWork prepare(std::uint64_t s0, std::uint64_t count, bool with_reuse = false) const {
    const auto& vars = plan.variables();
    const auto& inputs = plan.input_vars();
    BatchWork b;
    std::map<std::pair<int, std::vector<SlotBinding>>, int> variant_index;
    std::vector<unsigned char> read_signs;  // per input: 1 read with a positive scale, 2 negative
    b.first = s0;
    b.work.resize(count);
    b.copy_of.assign(count, -1);
    b.keep_for.assign(count, 0);
    if (with_reuse && !reuse.same_as.empty())
      for (std::uint64_t i = 0; i < count; ++i) {
        b.copy_of[i] = reuse.same_as[s0 + i - reuse.first];
        b.keep_for[i] = reuse.uses[s0 + i - reuse.first];
      }
    for (std::uint64_t i = 0; i < count; ++i) {
      const ScenarioSpec spec = plan.scenario(s0 + i);
      b.names.push_back(spec.name);
      b.funded.push_back(funded_string(plan, spec.funded));
      ScenarioWork& w = b.work[i];
      w.inputs.assign(inputs.size(), {-1, 0.0});
      w.success_variant.assign(inputs.size(), -1);
      if (b.copy_of[i] >= 0 && !opt.sink_needs_trials) continue;  // a copy whose trials nobody reads
      ++b.simulated;
      // An input's drivers are those of its value as the scenario reads it: reversed when every
      // project that reads it scales it by a negative factor, absent when every one scales it by
      // 0, and its own sampled value when the readers' scales differ in sign (a factor scaled to 0
      // or below for one project only is still the factor the others read).
      read_signs.assign(inputs.size(), 0);
      for (int p : spec.funded) {
        auto bind = bind_project(plan, p, spec.overrides);
        for (const auto& sb : bind) {
          const int k = vars[sb.var].input_index;
          if (k < 0 || value_id[sb.var][sb.def] < 0) continue;
          w.inputs[k].first = value_id[sb.var][sb.def];  // one definition per input in a scenario
          read_signs[k] |= sb.scale > 0 ? 1 : (sb.scale < 0 ? 2 : 0);
        }
        auto key = std::make_pair(p, bind);
        auto it = variant_index.find(key);
        if (it == variant_index.end()) {
          it = variant_index.emplace(key, static_cast<int>(b.variants.size())).first;
          b.variants.push_back(make_variant(p, std::move(bind)));
        }
        w.variants.push_back(it->second);
        const int sk = vars[plan.projects()[p].success_var].input_index;
        if (sk >= 0) w.success_variant[sk] = it->second;
      }
      for (std::size_t k = 0; k < inputs.size(); ++k)
        w.inputs[k].second = read_signs[k] == 2 ? -1.0 : (read_signs[k] == 0 ? 0.0 : 1.0);
    }
    build_tree(b);
    return b;
  }

  static void build_tree(BatchWork& b) {
    struct Tmp {
      int variant, depth;
      std::vector<int> kids, scenarios;
    };
    std::vector<Tmp> tmp;
    std::vector<int> roots;
    std::map<std::pair<int, int>, int> child;  // (parent node or -1, variant) -> node
    for (std::size_t i = 0; i < b.work.size(); ++i) {
      if (b.work[i].variants.empty()) continue;  // a copy, not simulated (see prepare)
      int node = -1;
      for (std::size_t j = 0; j < b.work[i].variants.size(); ++j) {
        const int v = b.work[i].variants[j];
        auto [it, added] = child.try_emplace({node, v}, static_cast<int>(tmp.size()));
        if (added) {
          tmp.push_back({v, static_cast<int>(j), {}, {}});
          (node < 0 ? roots : tmp[node].kids).push_back(it->second);
        }
        node = it->second;
      }
      tmp[node].scenarios.push_back(static_cast<int>(i));  // every scenario funds a project
    }
    b.nodes.clear();
    b.depth = 0;
    std::vector<int> stack(roots.rbegin(), roots.rend());
    while (!stack.empty()) {
      Tmp& t = tmp[stack.back()];
      stack.pop_back();
      b.nodes.push_back({t.variant, t.depth, std::move(t.scenarios), t.kids.empty()});
      b.depth = std::max(b.depth, t.depth + 1);
      stack.insert(stack.end(), t.kids.rbegin(), t.kids.rend());
    }
  }

  // The outcomes of trials [t0, t1) of every scenario of the batch: roi/npv/pay[scenario][t - t0],
  // and for the trials below cashflow_trials() in the range, [t0, t0 + cash_ld), every month's
  // portfolio cumulative cash flow in cash[(scenario * (H + 1) + month) * cash_ld + t - t0] or,
  // with by_variant, every month's cumulative cash flow of each project variant in
  // cash[(variant * (H + 1) + month) * cash_ld + t - t0], which fan_chart adds up along each
  // scenario's variants (the same additions in the same order as the scenario's sums here).
  // Every trial is computed alone, so the bits do not depend on the range.
  //
  // A task takes a block of trials: it evaluates every project variant of the batch on them (value
  // model, cash flows) into its own scratch, then walks the batch's prefix tree adding those
  // streams into each scenario's portfolio sums while they are still in cache (the block is sized
  // so that the streams and the partial sums stay within about kBlockBytes).
  void simulate(const BatchWork& bw, std::size_t t0, std::size_t t1, double* roi, double* npv, double* pay,
                double* cash, std::size_t cash_ld, bool by_variant = false) {
    if (bw.nodes.empty()) return;  // every scenario a copy (see prepare)
    const auto& variants = bw.variants;
    const std::size_t len = t1 - t0, V = variants.size(), D = static_cast<std::size_t>(bw.depth);
    const std::size_t stride = static_cast<std::size_t>(h) + 1;
    if (!cash) cash_ld = 0;
    std::size_t B = kTrialBlock;
    while (B > 8 && (V + D) * (stride + 2) * B * 8 > kBlockBytes) B /= 2;
    // A month's row of the streams and sums: the block's trials and, for rows of 512 bytes or
    // more, one cache line more. With rows 2 KiB apart, project_flows_block's stores (four trials,
    // every month, then the next four) fell into two of L1's 64 sets and went to L2: evaluating
    // the streams took 1.7x as long as with the padding (at most 1/8 more memory: within
    // memory_estimate's huge page of slack per thread).
    const std::size_t L = B >= 64 ? B + kRowPad : B;
    const std::size_t nblocks = (len + B - 1) / B;
    for (auto& sc : block_scratch) sc.evaluation = sc.portfolio = 0;
    auto clock = std::chrono::steady_clock::now();
    tbb::parallel_for(std::size_t{0}, nblocks, [&](std::size_t blk) {
      if (cancelled()) return;
      BlockScratch& sc = block_scratch.local();
      sc.size_for(V, D, stride, B, L);
      sc.value.resize(B);
      sc.success.resize(B);
      const std::size_t c0 = t0 + blk * B, blen = std::min(B, t1 - c0), at = c0 - t0;
      const auto e0 = std::chrono::steady_clock::now();
      for (std::size_t vi = 0; vi < V; ++vi) {
        const Variant& v = variants[vi];
        const Project& p = plan.projects()[v.project];
        // What make_draw does for each trial, a column at a time (the same operations).
        slot_columns(v, c0, blen, B, sc.slots, sc.slot);
        const double* const* in = sc.slot.data();
        const int vs = p.value_slots();
        annual_value_block(p.kind, in, blen, sc.value.data());
        const double* ps = in[vs + kPSuccess];
        for (std::size_t k = 0; k < blen; ++k) sc.success[k] = v.u_success[c0 + k] > 1.0 - std::clamp(ps[k], 0.0, 1.0);
        const DrawColumns draws{sc.value.data(),        in[vs + kInitialCost], in[vs + kMaintenanceShare],
                                in[vs + kInfraAnnual], in[vs + kLaunchMonth], in[vs + kRampMonths],
                                in[vs + kDecay],       sc.success.data()};
        project_flows_block(timeline, draws, blen, sc.cum + vi * stride * L, L, sc.pv_value + vi * B, sc.pv_cost + vi * B);
        if (by_variant && at < cash_ld) {
          const std::size_t kept = std::min(blen, cash_ld - at);
          const double* row = sc.cum + vi * stride * L;
          for (std::size_t m = 0; m < stride; ++m)
            std::copy(&row[m * L], &row[m * L] + kept, &cash[(vi * stride + m) * cash_ld + at]);
        }
      }
      const auto e1 = std::chrono::steady_clock::now();
      sc.totals.resize(D);
      const std::size_t kept = !by_variant && at < cash_ld ? std::min(blen, cash_ld - at) : 0;
      sum_block({&bw.nodes, B, L, blen, stride, len, at, kept, cash_ld, sc.pv_value, sc.pv_cost, sc.cum,
                 sc.value_sum, sc.cost_sum, sc.total, sc.totals.data(), roi, npv, pay, cash});
      const auto e2 = std::chrono::steady_clock::now();
      sc.evaluation += std::chrono::duration<double>(e1 - e0).count();
      sc.portfolio += std::chrono::duration<double>(e2 - e1).count();
    });
    check_cancel();
    // One parallel loop does both parts: its wall time is split in proportion to their CPU time.
    double ev = 0, pf = 0;
    for (auto& sc : block_scratch) ev += sc.evaluation, pf += sc.portfolio;
    double wall = 0;
    lap(wall, clock);
    timings.evaluation += ev + pf > 0 ? wall * ev / (ev + pf) : 0;
    timings.portfolio += ev + pf > 0 ? wall * pf / (ev + pf) : 0;
  }

  // The payback fan chart of every scenario of the batch that is not a copy (see reuse_statistics):
  // each month's quantiles of the cumulative cash flows of its cash-flow trials, into
  // out.cashflow_quantile, from cash as simulate() left it: the scenarios' cash flows, or with
  // by_variant the variants', added up here along each scenario's variants (depth 0 alone, then
  // ((v0 + v1) + v2) + ..., as simulate's prefix tree and replay's combine() add them: the same bits).
  // run() calls it as soon as a batch is simulated, before the next batch's simulation overwrites
  // the one cash buffer it keeps (statistics() then summarises the rest beside that simulation).
  void fan_chart(const BatchWork& bw, const double* cash, bool by_variant, BatchResults& out) {
    auto clock = std::chrono::steady_clock::now();
    const std::size_t count = bw.work.size(), cash_n = cashflow_trials();
    const std::size_t stride = static_cast<std::size_t>(h) + 1;
    out.cashflow_quantile.resize(count * stride * kNumQuantiles);
    tbb::parallel_for(std::size_t{0}, count, [&](std::size_t si) {
      if (cancelled() || bw.copy_of[si] >= 0) return;
      StatsScratch& scratch = stats_scratch.local();
      const std::vector<int>& path = bw.work[si].variants;
      if (by_variant && path.size() > 1) scratch.fan_row.resize(cash_n);
      for (std::size_t m = 0; m < stride; ++m) {
        // By variant the buffer has a row per variant, not per scenario: si's row is only formed
        // in the per-scenario layout (beyond the buffer's end otherwise).
        const double* x;
        if (!by_variant) {
          x = &cash[(si * stride + m) * cash_n];
        } else {
          const auto row = [&](std::size_t j) { return &cash[(static_cast<std::size_t>(path[j]) * stride + m) * cash_n]; };
          x = row(0);
          if (path.size() > 1) {
            double* __restrict sum = scratch.fan_row.data();
            const double* __restrict a = row(0);
            const double* __restrict b = row(1);
            for (std::size_t t = 0; t < cash_n; ++t) sum[t] = a[t] + b[t];
            for (std::size_t j = 2; j < path.size(); ++j) {
              const double* __restrict c = row(j);
              for (std::size_t t = 0; t < cash_n; ++t) sum[t] += c[t];
            }
            x = sum;
          }
        }
        quantiles_type7(x, cash_n, kQuantiles, kNumQuantiles, scratch,
                        &out.cashflow_quantile[(si * stride + m) * kNumQuantiles]);
      }
    });
    check_cancel();
    lap(timings.statistics, clock);
  }

  // The other statistics of every scenario of the batch from all their trials (roi/npv/pay
  // [scenario][n]) into out, after fan_chart(): then the copies' (reuse_statistics).
  void statistics(BatchWork& bw, const double* roi, const double* npv, const double* pay, BatchResults& out) {
    auto clock = std::chrono::steady_clock::now();
    const std::size_t count = bw.work.size();
    out.summary.resize(count);
    const std::size_t K = plan.input_vars().size();
    for (auto* v : {&out.drivers.spearman, &out.drivers.variance_contribution, &out.drivers.tornado_low,
                    &out.drivers.tornado_high, &out.drivers.downside_shift})
      v->assign(count * K, std::numeric_limits<double>::quiet_NaN());
    success_inputs(bw);
    tbb::parallel_for(std::size_t{0}, count, [&](std::size_t si) {
      if (cancelled() || bw.copy_of[si] >= 0) return;
      StatsScratch& scratch = stats_scratch.local();  // reused: no allocation per scenario
      summarize(&roi[si * n], &npv[si * n], &pay[si * n], n, scratch, out.summary[si], intervals);
      scenario_drivers(bw.work[si], bw.success, scratch, out.drivers, si * K);
    });
    check_cancel();
    reuse_statistics(bw, out);
    lap(timings.statistics, clock);
  }

  // Keeps the statistics of the batch's scenarios that later ones copy, then fills in the copies
  // (from this batch or an earlier one; see plan_reuse).
  void reuse_statistics(const BatchWork& bw, BatchResults& out) {
    using results_fields::kInputFields;
    const std::size_t count = bw.work.size(), K = plan.input_vars().size();
    const std::size_t cq = (static_cast<std::size_t>(h) + 1) * kNumQuantiles;
    for (std::size_t si = 0; si < count; ++si) {
      if (!bw.keep_for[si]) continue;
      KeptStats& k = kept_stats[bw.first + si];
      k.summary = out.summary[si];
      k.uses = bw.keep_for[si];
      k.values.clear();
      for (const auto& field : kInputFields) {
        const auto& v = out.drivers.*(field.member);
        k.values.insert(k.values.end(), v.begin() + static_cast<std::ptrdiff_t>(si * K), v.begin() + static_cast<std::ptrdiff_t>((si + 1) * K));
      }
      k.values.insert(k.values.end(), out.cashflow_quantile.begin() + static_cast<std::ptrdiff_t>(si * cq),
                      out.cashflow_quantile.begin() + static_cast<std::ptrdiff_t>((si + 1) * cq));
    }
    for (std::size_t si = 0; si < count; ++si) {
      if (bw.copy_of[si] < 0) continue;
      const auto it = kept_stats.find(static_cast<std::uint64_t>(bw.copy_of[si]));
      if (it == kept_stats.end()) throw Error("internal error: the statistics of scenario " + std::to_string(bw.copy_of[si]) + " were not kept");
      KeptStats& k = it->second;
      out.summary[si] = k.summary;
      const double* v = k.values.data();
      for (const auto& field : kInputFields) {
        std::copy_n(v, K, (out.drivers.*(field.member)).begin() + static_cast<std::ptrdiff_t>(si * K));
        v += K;
      }
      std::copy_n(v, cq, out.cashflow_quantile.begin() + static_cast<std::ptrdiff_t>(si * cq));
      ++timings.reused;
      if (--k.uses == 0) kept_stats.erase(it);
    }
  }

  void simulate_trials(std::uint64_t s0, std::uint64_t count, std::uint64_t t0, std::uint64_t t1, TrialRows& out) {
    if (s0 > plan.scenario_count() || count > plan.scenario_count() - s0 || t0 > t1 || t1 > n)
      throw Error("simulate_trials: scenarios or trials out of range");
    within_arena([&] {
      const BatchWork bw = prepare(s0, count);
      const std::size_t len = t1 - t0, cash_n = cashflow_trials();
      out.first_trial = t0;
      out.cash_trials = t0 < cash_n ? std::min<std::size_t>(t1, cash_n) - t0 : 0;
      out.roi.resize(count * len);
      out.npv.resize(count * len);
      out.payback.resize(count * len);
      out.cash.resize(count * (static_cast<std::size_t>(h) + 1) * out.cash_trials);
      simulate(bw, t0, t1, out.roi.data(), out.npv.data(), out.payback.data(),
               out.cash_trials ? out.cash.data() : nullptr, out.cash_trials);
    });
  }

  BatchResults summarize_trials(std::uint64_t s0, std::uint64_t count, const double* roi, const double* npv,
                                const double* pay, const double* cash) {
    if (s0 > plan.scenario_count() || count > plan.scenario_count() - s0)
      throw Error("summarize_trials: scenarios out of range");
    BatchResults out;
    within_arena([&] {
      BatchWork bw = prepare(s0, count);
      out.first = s0;
      out.count = count;
      out.names = bw.names;
      out.funded = bw.funded;
      fan_chart(bw, cash, /*by_variant=*/false, out);
      statistics(bw, roi, npv, pay, out);
    });
    return out;
  }

  // Runs f in the engine's arena (thread count), sampling the inputs first if not done yet
  // (unless sample_first is false: f then calls ensure_sampled() itself).
  template <class F>
  void within_arena(F&& f, bool sample_first = true) {
    std::optional<tbb::global_control> limit;
    if (opt.threads > 0) limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(opt.threads));
    arena.execute([&] {
      if (sample_first) ensure_sampled();
      f();
    });
  }
  void ensure_sampled() {
    if (sampled) return;
    trace("sampling start");
    auto t0 = std::chrono::steady_clock::now();
    sample();
    lap(timings.sampling, t0);
    trace("sampling done");
  }

  // The trials whose value lies in [band[0], band[1]] and in [band[2], band[3]] (tornado bands).
  void band_trials(const double* x, const double* band, std::vector<std::uint32_t>& low,
                   std::vector<std::uint32_t>& high) const {
    low.clear();
    high.clear();
    for (std::size_t t = 0; t < n; ++t) {
      if (x[t] >= band[0] && x[t] <= band[1]) low.push_back(static_cast<std::uint32_t>(t));
      if (x[t] >= band[2] && x[t] <= band[3]) high.push_back(static_cast<std::uint32_t>(t));
    }
  }

  // Type-7 median ROI of a set of trials: their positions in the ROI order are marked in a bitset
  // and the middle ones found by counting bits (O(set + n/64) instead of a selection). Cloned for
  // AVX2, whose target has the POPCNT instruction: the baseline build calls libgcc's __popcountdi2
  // for each word (0.5% of a seed run, perf).
  ROISIM_CLONES static double median_roi(const std::vector<std::uint32_t>& trials, const std::vector<std::uint32_t>& position,
                           const std::vector<double>& roi_sorted, std::vector<std::uint64_t>& bits) {
    const std::size_t m = trials.size();
    if (m == 0) return std::numeric_limits<double>::quiet_NaN();
    for (std::uint32_t t : trials) bits[position[t] >> 6] |= std::uint64_t{1} << (position[t] & 63);
    const double h = static_cast<double>(m - 1) * 0.5;
    const std::size_t k0 = static_cast<std::size_t>(std::floor(h)), k1 = std::min(k0 + 1, m - 1);
    double a = 0, b = 0;
    std::size_t seen = 0;
    for (std::size_t w = 0; w < bits.size() && seen <= k1; ++w) {
      std::uint64_t word = bits[w];
      const std::size_t c = static_cast<std::size_t>(__builtin_popcountll(word));
      if (seen + c <= k0) {
        seen += c;
        continue;
      }
      while (word && seen <= k1) {
        const std::size_t pos = w * 64 + static_cast<std::size_t>(__builtin_ctzll(word));
        if (seen == k0) a = roi_sorted[pos];
        if (seen == k1) b = roi_sorted[pos];
        ++seen;
        word &= word - 1;
      }
    }
    // Cleared whole (a sequential fill of n/64 words) rather than word by word for each trial
    // (a scattered store each): a band holds about a tenth of the trials, n/10 stores > n/64 words.
    std::fill(bits.begin(), bits.end(), std::uint64_t{0});
    return interpolate_type7(a, b, h - static_cast<double>(k0));
  }

  // What drives the risk in one scenario: for each input present, its Spearman correlation with
  // ROI, the ROI P50 of the trials with the input in its P5-P15 and P85-P95 bands (tornado), and
  // its mean percentile among the worst 10% of trials (downside); then the variance contributions.
  void scenario_drivers(const ScenarioWork& w, const std::vector<SuccessInput>& success, StatsScratch& scratch,
                        Drivers& d, std::size_t at) const {
    const std::size_t K = plan.input_vars().size();
    const bool small = n <= kMaxSmallRankTrials;  // the ranks as small integers (twice_rank_dot)
    const double* rr = scratch.roi_ranks.data();  // centred ROI ranks, or
    const std::int16_t* rr2 = scratch.roi_ranks2.data();  // twice those
    const std::size_t k10 = std::max<std::size_t>(1, n / 10);
    const double mean_rank = (static_cast<double>(n) + 1) / 2;
    std::vector<std::uint32_t>& position = scratch.position;  // trial -> its place in the ROI order
    position.resize(n);
    for (std::size_t i = 0; i < n; ++i) position[scratch.index[i]] = static_cast<std::uint32_t>(i);
    std::vector<std::uint64_t>& bits = scratch.bits;
    bits.assign((n + 63) / 64, 0);
    // The worst k10 trials by ROI for the downside shift. Trials tied with the k10-th worst,
    // [tie_lo, tie_hi) in the ROI order, count each with the weight (k10 - tie_lo) / (tie_hi -
    // tie_lo): the average over every order of the ties, which the result then does not depend on
    // (it took the ties of lowest trial index: with 76% of trials at ROI -1 because a project
    // failed, that project's value read as a driver of the downside, its sign set by the draw).
    const double* sr = scratch.roi_sorted.data();
    std::size_t tie_lo = k10 - 1, tie_hi = k10;
    while (tie_lo > 0 && sr[tie_lo - 1] == sr[k10 - 1]) --tie_lo;
    while (tie_hi < n && sr[tie_hi] == sr[k10 - 1]) ++tie_hi;
    const double tie_w = static_cast<double>(k10 - tie_lo) / static_cast<double>(tie_hi - tie_lo);
    double sum_sq = 0;
    for (std::size_t k = 0; k < K; ++k) {
      const double* rk;
      const std::int16_t* rk2;  // small: twice rk, centred
      const std::vector<std::uint32_t>* low;
      const std::vector<std::uint32_t>* high;
      double norm, sign;
      if (w.success_variant[k] >= 0) {
        const SuccessInput& si = success[w.success_variant[k]];
        rk = si.ranks.data();
        rk2 = si.small_ranks.data();
        norm = si.norm;
        low = &si.low;
        high = &si.high;
        sign = 1;
      } else {
        const auto [id, s] = w.inputs[k];
        if (id < 0) continue;
        rk = ranks[id];
        rk2 = small_ranks[id];
        norm = rank_norm[id];
        sign = s;
        // With a negative scale the input's low values are the scaled input's high values.
        low = sign > 0 ? &band_low[id] : &band_high[id];
        high = sign > 0 ? &band_high[id] : &band_low[id];
      }
      if (!(norm > 0) || sign == 0 || !(scratch.roi_rank_norm > 0)) continue;
      const double dot = small ? twice_rank_dot(rk2, rr2, n) : rank_dot(rk, mean_rank, rr, n);
      const double rho = sign * dot / (norm * scratch.roi_rank_norm);
      d.spearman[at + k] = rho;
      sum_sq += rho * rho;
      d.tornado_low[at + k] = median_roi(*low, position, scratch.roi_sorted, bits);
      d.tornado_high[at + k] = median_roi(*high, position, scratch.roi_sorted, bits);
      // The worst trials' ranks: small, from the int16 ranks the dot product has just read (the
      // same values: rank = (twice centred + n + 1) / 2, exact), not from the doubles, 4x the
      // memory and no longer in cache (gathered from them, this loop took 4.5% of a seed run).
      const double shift = static_cast<double>(n) + 1;
      const auto rank_of = [&](std::uint32_t t) { return small ? (rk2[t] + shift) * 0.5 : rk[t]; };
      double pct = 0, tied = 0;
      for (std::size_t i = 0; i < tie_lo; ++i) pct += (rank_of(scratch.index[i]) - 0.5) / static_cast<double>(n);
      for (std::size_t i = tie_lo; i < tie_hi; ++i) tied += (rank_of(scratch.index[i]) - 0.5) / static_cast<double>(n);
      pct += tie_w * tied;  // without ties: the k10-th alone, weight 1 (the same bits as a plain sum)
      d.downside_shift[at + k] = sign * (pct / static_cast<double>(k10) - 0.5);
    }
    for (std::size_t k = 0; k < K; ++k)
      if (!std::isnan(d.spearman[at + k]) && sum_sq > 0) d.variance_contribution[at + k] = d.spearman[at + k] * d.spearman[at + k] / sum_sq;
  }

  // bw.success for every variant whose success draw some scenario of the batch uses as an input.
  void success_inputs(BatchWork& bw) {
    const std::size_t V = bw.variants.size();
    std::vector<char> used(V, 0);
    for (const auto& w : bw.work)
      for (int v : w.success_variant)
        if (v >= 0) used[v] = 1;
    auto& cache = bw.success;
    cache.assign(V, {});
    const double mean_rank = (static_cast<double>(n) + 1) / 2;
    tbb::parallel_for(std::size_t{0}, V, [&](std::size_t vi) {
      if (!used[vi] || cancelled()) return;
      const Variant& v = bw.variants[vi];
      SuccessInput& si = cache[vi];
      const int ps = plan.projects()[v.project].cost_slot(kPSuccess);
      // Tornado bands of a 0/1 input: its failures and its successes (README "Results file"), found
      // as the draw is made. (The P5-P15 / P85-P95 bands of ordinary inputs would take every trial
      // into the low band when fewer than ~15% fail: P15 is then 1.)
      // Sorted into one array (failures from the front, successes from the back) and copied out, so
      // that each list is allocated once at its size: grown by push_back, the lists of the batch's
      // variants, built side by side in the one heap (sim/heap.h), left holes of every
      // intermediate size behind them (a sweep of 63 variants at 150,000 trials, two threads,
      // summary-only: peak RSS 421 MiB, against 394 MiB now).
      std::vector<std::uint32_t> split(n);
      std::size_t front = 0, back = n;
      for (std::size_t t = 0; t < n; ++t) {
        const double p = std::clamp(v.scale[ps] * (v.src[ps] ? v.src[ps][t] : v.constant[ps]), 0.0, 1.0);
        split[v.u_success[t] > 1.0 - p ? --back : front++] = static_cast<std::uint32_t>(t);
      }
      si.low.assign(split.begin(), split.begin() + static_cast<std::ptrdiff_t>(front));
      si.high.assign(split.rbegin(), split.rend() - static_cast<std::ptrdiff_t>(front));  // ascending
      const std::size_t zeros = si.low.size(), ones = si.high.size();
      const double r0 = (static_cast<double>(zeros) + 1) / 2, r1 = static_cast<double>(zeros) + (static_cast<double>(ones) + 1) / 2;
      si.ranks.assign(n, r0);
      for (std::uint32_t t : si.high) si.ranks[t] = r1;
      if (n <= kMaxSmallRankTrials) {
        si.small_ranks.resize(n);
        twice_centred_ranks(si.ranks.data(), n, si.small_ranks.data());
      }
      si.norm = std::sqrt(static_cast<double>(zeros) * (r0 - mean_rank) * (r0 - mean_rank) +
                          static_cast<double>(ones) * (r1 - mean_rank) * (r1 - mean_rank));
    });
    check_cancel();
  }

  TrialDetail replay(std::uint64_t scenario, std::uint64_t trial) const {
    if (scenario >= plan.scenario_count()) throw InputError("scenario index " + std::to_string(scenario) + " is out of range");
    if (trial >= n) throw InputError("trial " + std::to_string(trial) + " is out of range (the run has " + count_of(n, "trial") + ")");
    const auto& vars = plan.variables();
    // Uniforms of this one trial, straight from the streams.
    std::vector<double> u(vars.size());
    for (std::size_t v = 0; v < vars.size(); ++v)
      u[v] = vars[v].uncertain() ? uniforms.at(static_cast<int>(v), trial) : 0.5;
    if (const GaussianCopula* cop = plan.copula()) {
      std::vector<double> cu(plan.copula_vars().size());
      for (std::size_t k = 0; k < cu.size(); ++k) cu[k] = u[plan.copula_vars()[k]];
      cop->correlate_block(cu.data(), 1, 1);
      for (std::size_t k = 0; k < cu.size(); ++k) u[plan.copula_vars()[k]] = cu[k];
    }
    const ScenarioSpec spec = plan.scenario(scenario);
    TrialDetail out;
    std::vector<double> pvv, pvc, cums;
    const std::size_t stride = static_cast<std::size_t>(h) + 1;
    cums.resize(spec.funded.size() * stride);
    for (std::size_t i = 0; i < spec.funded.size(); ++i) {
      const int pid = spec.funded[i];
      const Project& p = plan.projects()[pid];
      const auto bind = bind_project(plan, pid, spec.overrides);
      std::vector<double> in(bind.size());
      TrialDetail::ProjectValue pv;
      pv.name = p.name;
      for (std::size_t j = 0; j < bind.size(); ++j) {
        const Distribution& d = vars[bind[j].var].defs[bind[j].def].dist;
        in[j] = bind[j].scale * (d.is_constant() ? d.quantile(0.5) : d.quantile(u[bind[j].var]));
        pv.params.push_back({p.slot_name[j], in[j]});
      }
      const ProjectDraw d = make_draw(p, in.data(), u[p.success_var]);
      const ProjectFlows f = project_flows(timeline, d, &cums[i * stride]);
      pv.success = d.success;
      pv.annual_value = d.annual_value;
      pv.pv_value = f.pv_value;
      pv.pv_cost = f.pv_cost;
      pvv.push_back(f.pv_value);
      pvc.push_back(f.pv_cost);
      out.projects.push_back(std::move(pv));
    }
    std::vector<const double*> a, b, c;
    for (std::size_t i = 0; i < spec.funded.size(); ++i) {
      a.push_back(&pvv[i]);
      b.push_back(&pvc[i]);
      c.push_back(&cums[i * stride]);
    }
    std::vector<double> total(stride);
    const TrialOutcome o = combine(a.size(), a.data(), b.data(), c.data(), h, total.data());
    out.roi = o.roi;
    out.npv = o.npv;
    out.payback_month = o.payback;
    return out;
  }
};

Engine::Engine(const Plan& plan, RunOptions options) : impl_(std::make_unique<Impl>(plan, std::move(options))) {}
Engine::~Engine() = default;

void Engine::run(const std::function<void(const BatchResults&)>& sink, std::uint64_t first, std::uint64_t last) {
  impl_->run(sink, first, last);
}

TrialDetail Engine::replay(std::uint64_t scenario, std::uint64_t trial) const { return impl_->replay(scenario, trial); }

void Engine::simulate_trials(std::uint64_t first, std::uint64_t count, std::uint64_t first_trial,
                             std::uint64_t last_trial, TrialRows& out) {
  impl_->simulate_trials(first, count, first_trial, last_trial, out);
}

BatchResults Engine::summarize_trials(std::uint64_t first, std::uint64_t count, const double* roi, const double* npv,
                                      const double* payback, const double* cash) {
  return impl_->summarize_trials(first, count, roi, npv, payback, cash);
}

std::uint64_t Engine::cashflow_trials() const { return impl_->cashflow_trials(); }

void Engine::sample_inputs() {
  impl_->within_arena([] {});
}

std::uint64_t Engine::batch_scenarios() const { return impl_->batch_scenarios(); }
std::uint64_t Engine::layout_batch() const { return layout_batch_for(impl_->n, impl_->opt); }
std::uint64_t Engine::layout_batch_of(const Plan& plan, const RunOptions& opt) {
  return layout_batch_for(plan.settings().trials, opt);
}
std::uint64_t Engine::batch_of(const Plan& plan, const RunOptions& opt) { return batch_for(plan.settings().trials, opt); }

const EngineTimings& Engine::timings() const { return impl_->timings; }

std::uint64_t Engine::batch_bytes(const Plan& plan, const RunOptions& opt) {
  return trial_bytes(plan, opt) + cash_bytes(plan, opt);
}
std::uint64_t Engine::trial_bytes(const Plan& plan, const RunOptions& opt) {
  const std::uint64_t n = plan.settings().trials, b = batch_for(n, opt);
  return 3 * 8 * b * n + NoInit<double>::kHugePage;
}
std::uint64_t Engine::cash_bytes(const Plan& plan, const RunOptions& opt) {
  const std::uint64_t n = plan.settings().trials, b = batch_for(n, opt);
  const std::uint64_t stride = static_cast<std::uint64_t>(plan.settings().horizon_months) + 1;
  return b * stride * cash_trials_for(n, opt) * 8 + NoInit<double>::kHugePage;
}

// The int16 copies of the input ranks (twice_rank_dot): one buffer, whole huge pages from 1 MiB.
static std::uint64_t small_rank_bytes(std::uint64_t n, std::uint64_t ranked) {
  if (n > kMaxSmallRankTrials) return 0;
  const std::uint64_t bytes = 2 * n * ranked;
  return bytes < NoInit<std::int16_t>::kHugeFrom ? bytes : NoInit<std::int16_t>::whole_pages(bytes);
}

std::uint64_t Engine::memory_estimate(const Plan& plan, const RunOptions& opt) {
  const std::uint64_t n = plan.settings().trials;
  std::uint64_t arrays = 0, ranked = 0, uncertain = 0, success_projects = 0;
  for (const auto& v : plan.variables()) {
    if (v.success_of >= 0 && v.input_index >= 0) ++success_projects;  // one "project.success" each
    if (!v.uncertain()) continue;
    ++uncertain;
    for (const auto& d : v.defs)
      if (!d.dist.is_constant()) {
        ++arrays;
        if (v.input_index >= 0 && v.success_of < 0) ++ranked;
      }
  }
  const std::uint64_t threads = run_threads(opt);
  const std::uint64_t b = batch_for(n, opt);
  // A batch evaluates at most one variant per scenario and project (a sweep axis that scales an
  // input gives each scenario its own).
  const std::uint64_t variants = b * plan.projects().size();
  const std::uint64_t stride = static_cast<std::uint64_t>(plan.settings().horizon_months) + 3;
  const BufferSets sets = buffer_sets(opt);  // as run() keeps them
  // lhs keeps a 4-byte permutation per input, sobol an 8-byte point per input (sim/sampler.h).
  const Sampler s = plan.settings().sampler;
  const std::uint64_t sampler = s == Sampler::LatinHypercube ? 4 * n * uncertain : s == Sampler::Sobol ? 8 * n * uncertain : 0;
  // The live batches' success inputs (ranks and band lists, ~12 bytes a trial and 2 more for the
  // int16 ranks up to kMaxSmallRankTrials; two batches, one on
  // one thread, where run() frees a batch's work before the next is prepared) for at most one
  // variant per scenario of a batch and project whose success draw is an input.
  const std::uint64_t success = (threads == 1 ? 1 : 2) * (n <= kMaxSmallRankTrials ? 14 : 12) * n * b * success_projects;
  // Summarised batches waiting for a summary-only sink stage (SinkQueue): at most sink_queue_bytes
  // and one batch more, and never more than every scenario's results.
  std::uint64_t queued = 0;
  if (opt.overlap_sink && !opt.sink_needs_trials && threads > 1) {
    const std::uint64_t per_scenario = sizeof(ScenarioSummary) + 2 * 64 + 8 * (results_fields::kNumInputFields * plan.input_vars().size() + (stride - 2) * kNumQuantiles);
    queued = std::min(opt.sink_queue_bytes, plan.scenario_count() * per_scenario) + b * per_scenario;
  }
  return queued + sets.outcomes * trial_bytes(plan, opt) + sets.cash * cash_bytes(plan, opt) + sampler + 8 * n * (arrays + 2 * ranked + plan.copula_vars().size())  // batch sets; inputs, ranks, bands
         + small_rank_bytes(n, ranked)  // the ranks as int16
         + NoInit<double>::kHugePage  // the input pool, rounded to whole huge pages
         + success + threads * (std::max<std::uint64_t>(kBlockBytes, (variants + 40) * stride * 8 * 8) + NoInit<double>::kHugePage)  // project streams (a buffer of them from 1 MiB: whole huge pages)
         + 64 * n * threads  // statistics scratch
         + opt.reuse_bytes + (opt.reuse_bytes ? 96 * plan.scenario_count() : 0);  // identical scenarios (plan_reuse)
}

}  // namespace roisim
