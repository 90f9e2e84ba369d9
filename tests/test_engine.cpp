// The engine: exact results for fixed inputs, bitwise reproducibility (threads, batches,
// scenario subsets), replay, and statistical checks with tolerances from standard errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <tbb/global_control.h>

#include "sim/engine.h"
#include "sim/scenario.h"
#include "sim/statistics.h"

using namespace roisim;

namespace {

// Everything the engine produced for each scenario, by name.
struct Captured {
  std::vector<double> roi, npv, pay, spearman, cash;  // cash: cashflow_quantile [(H + 1) x quantile]
  ScenarioSummary s;
  std::string funded;
};
using Results = std::map<std::string, Captured>;

Results run(const Plan& plan, RunOptions o = {}, std::uint64_t first = 0, std::uint64_t last = UINT64_MAX) {
  Results out;
  const std::size_t n = plan.settings().trials, k = plan.input_vars().size();
  Engine e(plan, o);
  e.run([&](const BatchResults& b) {
    for (std::uint64_t i = 0; i < b.count; ++i) {
      Captured& c = out[b.names[i]];
      c.roi.assign(b.roi + i * n, b.roi + (i + 1) * n);
      c.npv.assign(b.npv + i * n, b.npv + (i + 1) * n);
      c.pay.assign(b.payback + i * n, b.payback + (i + 1) * n);
      c.spearman.assign(b.drivers.spearman.begin() + i * k, b.drivers.spearman.begin() + (i + 1) * k);
      const std::size_t cq = b.cashflow_quantile.size() / b.count;
      c.cash.assign(b.cashflow_quantile.begin() + i * cq, b.cashflow_quantile.begin() + (i + 1) * cq);
      c.s = b.summary[i];
      c.funded = b.funded[i];
    }
  }, first, last);
  return out;
}

// Every field of each summary (all doubles), appended for a bitwise comparison.
void append_fields(std::vector<double>& out, const std::vector<ScenarioSummary>& summaries) {
  static_assert(sizeof(ScenarioSummary) % sizeof(double) == 0);
  for (const auto& s : summaries) {
    const auto* p = reinterpret_cast<const double*>(&s);
    out.insert(out.end(), p, p + sizeof s / sizeof(double));
  }
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}
bool same_bits(const ScenarioSummary& a, const ScenarioSummary& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void expect_identical(const Results& a, const Results& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, x] : a) {
    const Captured& y = b.at(name);
    EXPECT_TRUE(same_bits(x.roi, y.roi)) << name;
    EXPECT_TRUE(same_bits(x.npv, y.npv)) << name;
    EXPECT_TRUE(same_bits(x.pay, y.pay)) << name;
    EXPECT_TRUE(same_bits(x.spearman, y.spearman)) << name;
    EXPECT_TRUE(same_bits(x.cash, y.cash)) << name;
    EXPECT_TRUE(same_bits(x.s, y.s)) << name;
  }
}

Plan seed(std::uint64_t trials) {
  Plan p = Plan::load_file(ROISIM_SOURCE_DIR "/scenarios/seed_portfolio.yaml");
  p.settings().trials = trials;
  return p;
}

const char* kWorked = R"(roisim: 1
settings: {trials: 3, horizon_months: 24, discount_rate: 0.10}
projects:
  recs:
    kind: revenue
    initial_cost: 500000
    maintenance_share: 0.3
    infra_annual: 60000
    launch_month: 3
    ramp_months: 4
    decay: 0.2
    inputs: {sessions_per_month: 5000000, baseline_ctr: 0.2, offline_ctr_lift: 0.4, online_ratio: 0.3,
             conversion_rate: 0.1, avg_order_value: 50, margin: 0.3}
  triage:
    kind: automation
    initial_cost: 200000
    maintenance_share: 0.25
    launch_month: 6
    inputs: {tasks_per_month: 100000, manual_cost_per_task: 0.5, automation_rate: 0.8, accuracy: 0.95,
             review_cost_per_error: 2.0}
scenarios:
  - name: both
  - name: recs
    projects: [recs]
  - name: triage
    projects: [triage]
)";

// The type-7 median of v (NumPy's default), by sorting.
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const double h = static_cast<double>(v.size() - 1) * 0.5;
  const std::size_t lo = static_cast<std::size_t>(h);
  return v[lo] + (h - static_cast<double>(lo)) * (v[std::min(lo + 1, v.size() - 1)] - v[lo]);
}

// The batches a run has simulated (RunOptions::batch_simulated), for tests that wait for them.
struct SimulatedBatches {
  std::mutex m;
  std::condition_variable cv;
  std::uint64_t count = 0;
  void note(std::uint64_t i) {
    std::lock_guard lock(m);
    count = i + 1;
    cv.notify_all();
  }
  void hook(RunOptions& o) {
    o.batch_simulated = [this](std::uint64_t i) { note(i); };
  }
  // True once k batches are simulated; false after 60 s.
  bool wait_for(std::uint64_t k) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, std::chrono::seconds(60), [&] { return count >= k; });
  }
};

}  // namespace

TEST(Engine, SpecWorkedCheckThroughTheScenarioFile) {
  Plan plan = Plan::load_text(kWorked, "worked.yaml");
  Results r = run(plan);
  auto check = [&](const std::string& name, double roi, double npv, double payback) {
    const Captured& c = r.at(name);
    for (std::size_t t = 0; t < 3; ++t) {
      EXPECT_NEAR(c.roi[t], roi, 1e-9 * std::abs(roi)) << name;
      EXPECT_NEAR(c.npv[t], npv, 1e-9 * std::abs(npv)) << name;
      EXPECT_EQ(c.pay[t], payback) << name;
    }
    EXPECT_NEAR(c.s.roi_mean, roi, 1e-9 * std::abs(roi));
    EXPECT_EQ(c.s.prob_loss, 0.0);
    EXPECT_EQ(c.s.payback_p50, payback);
    EXPECT_EQ(c.s.prob_payback, 1.0);
  };
  check("both", 1.827174498087083, 2001806.854158668, 9);
  check("recs", 2.120658063069892, 1758462.862675308, 9);
  check("triage", 0.9135602058338941, 243343.9914833594, 14);
  EXPECT_EQ(r.at("both").funded, "recs+triage");
}

TEST(Engine, BitwiseIdenticalForAnyThreadCount) {
  Plan plan = seed(1500);
  RunOptions one;
  one.threads = 1;
  Results a = run(plan, one);
  for (int t : {2, 3, 8}) {
    RunOptions o;
    o.threads = t;
    expect_identical(a, run(plan, o));
  }
}

TEST(Engine, BitwiseIdenticalForAnyBatchSize) {
  Plan plan = seed(700);
  RunOptions a, b;
  a.batch_scenarios = 1;
  b.batch_scenarios = 97;
  expect_identical(run(plan, a), run(plan, b));
}

// The sink's three modes (calling thread; a task after each batch's statistics; a stage of its own
// when it needs no per-trial data) and the prologue: every batch arrives once, in order, never two
// sinks at once, after the prologue, with the same summaries; errors from either end the run.
TEST(Engine, SinkModesAndPrologue) {
  Plan plan = seed(300);
  RunOptions base;
  base.batch_scenarios = 7;  // many batches
  const Results want = run(plan, base);
  for (int mode = 0; mode < 3; ++mode) {
    for (int threads : {1, 4}) {
      SCOPED_TRACE("mode " + std::to_string(mode) + ", " + std::to_string(threads) + " threads");
      RunOptions o = base;
      o.threads = threads;
      o.overlap_sink = mode > 0;
      o.sink_needs_trials = mode < 2;
      std::atomic<bool> prologue_done{false};
      std::atomic<int> inside{0};
      o.prologue = [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        prologue_done = true;
      };
      std::uint64_t next = 0;
      bool in_order = true, overlapped = false, early = false, intact = true;
      const std::uint64_t n = plan.settings().trials;
      Results got;
      Engine e(plan, o);
      e.run([&](const BatchResults& b) {
        overlapped |= inside.fetch_add(1) != 0;
        early |= !prologue_done;
        in_order &= b.first == next;
        next = b.first + b.count;
        EXPECT_EQ(b.roi == nullptr, mode == 2);
        const std::size_t cq = b.cashflow_quantile.size() / b.count;
        for (std::uint64_t i = 0; i < b.count; ++i) {
          got[b.names[i]].s = b.summary[i];
          got[b.names[i]].cash.assign(b.cashflow_quantile.begin() + i * cq, b.cashflow_quantile.begin() + (i + 1) * cq);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        // The batch's trials are still its own (not yet overwritten by a later batch's simulation,
        // which runs beside this sink): their mean, computed as summarize() computes it, is its roi_mean.
        if (b.roi)
          for (std::uint64_t i = 0; i < b.count; ++i) {
            double sum = 0, ss = 0;
            for (std::uint64_t t = 0; t < n; ++t) sum += b.roi[i * n + t];
            double mean = sum / static_cast<double>(n);
            corrected_two_pass(&b.roi[i * n], n, mean, ss);
            intact &= std::memcmp(&mean, &b.summary[i].roi_mean, sizeof mean) == 0;
          }
        inside.fetch_sub(1);
      });
      EXPECT_TRUE(in_order);
      EXPECT_TRUE(intact);
      EXPECT_FALSE(overlapped);
      EXPECT_FALSE(early);
      EXPECT_EQ(next, plan.scenario_count());
      ASSERT_EQ(got.size(), want.size());
      for (const auto& [name, c] : want) {
        EXPECT_TRUE(same_bits(got.at(name).s, c.s)) << name;
        // The fan chart too: its cash-flow trials have buffers of their own (two sets, not three).
        EXPECT_TRUE(same_bits(got.at(name).cash, c.cash)) << name;
      }

      RunOptions bad = o;
      bad.prologue = [] { throw IoError("prologue failed"); };
      Engine e2(plan, bad);
      EXPECT_THROW(e2.run([](const BatchResults&) {}), IoError);
      Engine e3(plan, o);
      int calls = 0;
      EXPECT_THROW(e3.run([&](const BatchResults&) {
        if (++calls == 3) throw IoError("sink failed");
      }), IoError);
      EXPECT_EQ(calls, 3);  // no sink after the failing one
    }
  }
}

// A summary-only sink stage queues summarised batches (SinkQueue in sim/engine.cpp): the simulation
// goes on while the prologue lays out the file, and while a sink lags, until sink_queue_bytes of
// results wait. The prologue below returns only once batch 3 has been simulated: with two
// threads, the calling thread must have simulated batches 0-3 (and summarised those the worker,
// held by the prologue, could not) without waiting for it, or the prologue gives up after 60 s
// and the test fails. With a queue of one byte the loop waits for the sink stage at every batch it
// delivers (batch 0 after batch 1 is simulated: the prologue waits for that one only). Each batch
// still reaches the sink once, in order, after the prologue, with the same statistics; progress
// is reported as batches are written, up to the whole range.
TEST(Engine, SummaryOnlySinkQueueRunsAheadOfThePrologue) {
  Plan plan = seed(300);
  RunOptions base;
  base.batch_scenarios = 7;
  const Results want = run(plan, base);
  const std::uint64_t S = plan.scenario_count(), batches = (S + 6) / 7;
  for (std::uint64_t queue_bytes : {std::uint64_t{16} << 20, std::uint64_t{1}}) {
    SCOPED_TRACE("sink_queue_bytes " + std::to_string(queue_bytes));
    RunOptions o = base;
    o.threads = 2;
    o.overlap_sink = true;
    o.sink_needs_trials = false;
    o.sink_queue_bytes = queue_bytes;
    SimulatedBatches simulated;
    std::atomic<std::uint64_t> written{0};
    bool lag_ok = true;
    o.batch_simulated = [&](std::uint64_t i) {
      // With a queue of one byte the loop waits for the sink after every delivery: batch i - 2
      // (delivered after batch i - 1 was simulated) is written before batch i is simulated.
      if (queue_bytes == 1 && i >= 2) lag_ok &= written.load() >= i - 1;
      simulated.note(i);
    };
    bool ran_ahead = false;
    std::atomic<bool> prologue_done{false};
    o.prologue = [&] {
      ran_ahead = simulated.wait_for(queue_bytes == 1 ? 2 : 4);
      prologue_done = true;
    };
    std::vector<Progress> reports;
    o.progress = [&](const Progress& p) { reports.push_back(p); };
    std::uint64_t next = 0;
    bool in_order = true, early = false;
    Results got;
    Engine e(plan, o);
    e.run([&](const BatchResults& b) {
      early |= !prologue_done;
      in_order &= b.first == next;
      next = b.first + b.count;
      EXPECT_EQ(b.roi, nullptr);
      for (std::uint64_t i = 0; i < b.count; ++i) got[b.names[i]].s = b.summary[i];
      written.fetch_add(1);
    });
    EXPECT_TRUE(ran_ahead);
    EXPECT_TRUE(in_order);
    EXPECT_FALSE(early);
    EXPECT_TRUE(lag_ok);
    EXPECT_EQ(written.load(), batches);
    EXPECT_EQ(next, S);
    ASSERT_EQ(got.size(), want.size());
    for (const auto& [name, c] : want) EXPECT_TRUE(same_bits(got.at(name).s, c.s)) << name;
    ASSERT_FALSE(reports.empty());
    for (std::size_t i = 1; i < reports.size(); ++i) EXPECT_GT(reports[i].done, reports[i - 1].done);
    EXPECT_EQ(reports.back().done, S);
    EXPECT_EQ(reports.back().total, S);
  }
}

// The queued sink stage when no worker can join the engine's arena (here a global_control limit
// of one thread, whatever the engine asks for; other arenas holding every worker would do the
// same): the calling thread runs the prologue's task itself when it waits for the writer (the
// prologue below returns at once then, batch 3 being simulated), and everything is written. The
// run is watched from another thread: a hang fails the test after 120 s instead of holding ctest.
TEST(Engine, SummaryOnlySinkQueueWithoutWorkers) {
  Plan plan = seed(300);
  RunOptions base;
  base.batch_scenarios = 7;
  const Results want = run(plan, base);
  for (int threads : {2, 0}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    RunOptions o = base;
    o.threads = threads;
    o.overlap_sink = true;
    o.sink_needs_trials = false;
    SimulatedBatches simulated;
    simulated.hook(o);
    bool ran_ahead = false;
    o.prologue = [&] { ran_ahead = simulated.wait_for(4); };
    Results got;
    std::uint64_t next = 0;
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> finished = done->get_future();
    std::thread runner([&, done] {
      tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
      Engine e(plan, o);
      e.run([&](const BatchResults& b) {
        EXPECT_EQ(b.first, next);
        next = b.first + b.count;
        for (std::uint64_t i = 0; i < b.count; ++i) got[b.names[i]].s = b.summary[i];
      });
      done->set_value();
    });
    if (finished.wait_for(std::chrono::seconds(120)) != std::future_status::ready) {
      ADD_FAILURE() << "the run hangs without workers";
      std::_Exit(1);  // the runner cannot be joined
    }
    runner.join();
    EXPECT_TRUE(ran_ahead);
    EXPECT_EQ(next, plan.scenario_count());
    ASSERT_EQ(got.size(), want.size());
    for (const auto& [name, c] : want) EXPECT_TRUE(same_bits(got.at(name).s, c.s)) << name;
  }
}

// Cancelling a run stops its queued sink stage at the next batch: what is queued is not written.
// The third sink call waits until batch 8 is simulated (so that batches 3-7 are queued behind it),
// then cancels. And a prologue that fails once batches are queued ends the run with its error,
// nothing written.
TEST(Engine, SummaryOnlySinkQueueCancelledOrFailing) {
  Plan plan = seed(300);
  RunOptions o;
  o.batch_scenarios = 3;
  o.threads = 2;
  o.overlap_sink = true;
  o.sink_needs_trials = false;
  SimulatedBatches simulated;
  simulated.hook(o);
  {
    std::atomic<bool> cancel{false};
    o.cancel = &cancel;
    int calls = 0;
    bool queued = false;
    Engine e(plan, o);
    EXPECT_THROW(e.run([&](const BatchResults&) {
      if (++calls == 3) {
        queued = simulated.wait_for(9);
        cancel = true;
      }
    }), Cancelled);
    EXPECT_TRUE(queued);
    EXPECT_EQ(calls, 3);
    o.cancel = nullptr;
  }
  {
    bool queued = false;
    o.prologue = [&] {
      queued = simulated.wait_for(4);
      throw IoError("prologue failed");
    };
    int calls = 0;
    Engine e(plan, o);
    EXPECT_THROW(e.run([&](const BatchResults&) { ++calls; }), IoError);
    EXPECT_TRUE(queued);
    EXPECT_EQ(calls, 0);
  }
}

// Distributed runs split a scenario's trials across processes (sim/mpi_run.cpp): the trial blocks,
// put back together and summarised, must be exactly what run() gives, whatever the split (blocks
// across the cash-flow trials' boundary, uneven, one trial) and with another engine (another rank).
TEST(Engine, TrialBlocksReassembleToTheRunBitForBit) {
  Plan plan = seed(2500);
  const std::uint64_t first = 100, count = 40, n = 2500, K = plan.input_vars().size();
  const std::size_t months = static_cast<std::size_t>(plan.settings().horizon_months) + 1;
  std::vector<double> roi, npv, pay, cashq, summary_bits;
  Drivers drivers;
  RunOptions o;
  o.batch_scenarios = 16;
  Engine whole(plan, o);
  whole.run([&](const BatchResults& b) {
    roi.insert(roi.end(), b.roi, b.roi + b.count * n);
    npv.insert(npv.end(), b.npv, b.npv + b.count * n);
    pay.insert(pay.end(), b.payback, b.payback + b.count * n);
    cashq.insert(cashq.end(), b.cashflow_quantile.begin(), b.cashflow_quantile.end());
    drivers.spearman.insert(drivers.spearman.end(), b.drivers.spearman.begin(), b.drivers.spearman.end());
    drivers.tornado_low.insert(drivers.tornado_low.end(), b.drivers.tornado_low.begin(), b.drivers.tornado_low.end());
    append_fields(summary_bits, b.summary);
  }, first, first + count);
  ASSERT_EQ(whole.cashflow_trials(), 1000u);

  for (const std::vector<std::uint64_t>& cuts : {std::vector<std::uint64_t>{0, 700, 1900, 2500},
                                                 std::vector<std::uint64_t>{0, 1, 1000, 1001, 2500},
                                                 std::vector<std::uint64_t>{0, 2500}}) {
    RunOptions two;
    two.threads = 2;
    Engine part(plan, two);  // a different engine, as on another rank
    std::vector<double> r(count * n), v(count * n), p(count * n), cash(count * months * 1000);
    for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
      Engine::TrialRows rows;
      part.simulate_trials(first, count, cuts[c], cuts[c + 1], rows);
      const std::uint64_t len = cuts[c + 1] - cuts[c];
      ASSERT_EQ(rows.roi.size(), count * len);
      EXPECT_EQ(rows.cash_trials, cuts[c] < 1000 ? std::min<std::uint64_t>(cuts[c + 1], 1000) - cuts[c] : 0u);
      for (std::uint64_t s = 0; s < count; ++s) {
        std::copy_n(&rows.roi[s * len], len, &r[s * n + cuts[c]]);
        std::copy_n(&rows.npv[s * len], len, &v[s * n + cuts[c]]);
        std::copy_n(&rows.payback[s * len], len, &p[s * n + cuts[c]]);
        for (std::size_t m = 0; m < months && rows.cash_trials > 0; ++m)
          std::copy_n(&rows.cash[(s * months + m) * rows.cash_trials], rows.cash_trials,
                      &cash[(s * months + m) * 1000 + cuts[c]]);
      }
    }
    EXPECT_TRUE(same_bits(r, roi));
    EXPECT_TRUE(same_bits(v, npv));
    EXPECT_TRUE(same_bits(p, pay));
    std::vector<double> got_summary;
    Drivers got;
    std::vector<double> got_cashq;
    for (std::uint64_t s0 = 0; s0 < count; s0 += 16) {  // statistics in other groups than the run's batches
      const std::uint64_t c = std::min<std::uint64_t>(16, count - s0);
      const BatchResults b = part.summarize_trials(first + s0, c, &r[s0 * n], &v[s0 * n], &p[s0 * n],
                                                   &cash[s0 * months * 1000]);
      EXPECT_EQ(b.roi, nullptr);
      got_cashq.insert(got_cashq.end(), b.cashflow_quantile.begin(), b.cashflow_quantile.end());
      got.spearman.insert(got.spearman.end(), b.drivers.spearman.begin(), b.drivers.spearman.end());
      got.tornado_low.insert(got.tornado_low.end(), b.drivers.tornado_low.begin(), b.drivers.tornado_low.end());
      append_fields(got_summary, b.summary);
    }
    EXPECT_TRUE(same_bits(got_summary, summary_bits)) << cuts.size();
    EXPECT_TRUE(same_bits(got.spearman, drivers.spearman));
    EXPECT_TRUE(same_bits(got.tornado_low, drivers.tornado_low));
    EXPECT_TRUE(same_bits(got_cashq, cashq));
    EXPECT_EQ(got.spearman.size(), count * K);
  }
  Engine::TrialRows bad;
  EXPECT_THROW(whole.simulate_trials(0, 1, 10, 2501, bad), Error);
}

TEST(Engine, AScenarioAloneGivesTheSameBitsAsInsideTheSweep) {
  Plan plan = seed(800);
  Results all = run(plan);
  // The same scenarios computed on their own, in a different batch.
  for (std::uint64_t i : {3ULL, 100ULL, 562ULL}) {
    Results one = run(plan, {}, i, i + 1);
    ASSERT_EQ(one.size(), 1u);
    const auto& [name, c] = *one.begin();
    EXPECT_TRUE(same_bits(c.roi, all.at(name).roi)) << name;
    EXPECT_TRUE(same_bits(c.pay, all.at(name).pay)) << name;
    EXPECT_TRUE(same_bits(c.s, all.at(name).s)) << name;
  }
  // A file with only one explicit scenario equal to a sweep scenario gives its bits too.
  std::string text = plan.config_text();
  text = text.substr(0, text.find("scenarios:\n  - name: base"));
  text += R"(scenarios:
  - name: alone
    projects: [recommendations, search]
    scale: {recommendations.sessions_per_month: 0.85, search.sessions_per_month: 0.85, fraud.fraud_rate: 1.3}
    set: {online_ratio: {dist: uniform, min: 0.10, max: 0.30}, maintenance_share: {dist: uniform, min: 0.30, max: 0.40}}
)";
  Plan single = Plan::load_text(text, "alone.yaml");
  single.settings().trials = 800;
  Results alone = run(single);
  const auto& sweep = all.at("macro=recession/translation=low/maintenance=heavy/funded=recommendations+search");
  EXPECT_TRUE(same_bits(alone.at("alone").roi, sweep.roi));
  EXPECT_TRUE(same_bits(alone.at("alone").npv, sweep.npv));
  EXPECT_TRUE(same_bits(alone.at("alone").pay, sweep.pay));
}

// Scenarios with the same project variants in the same order (in the seed sweep, 80 of 563: e.g.
// funded=doc_classification under every macro and translation axis value, which it does not read)
// have the same trials; run() computes their statistics once and copies them (RunOptions::
// reuse_bytes), and with a summary-only sink does not simulate the copies. Every statistic must
// equal the run that computes each scenario, whatever the batches, threads and budget.
TEST(Engine, IdenticalScenariosComputedOnceGiveTheSameBits) {
  Plan plan = seed(600);
  struct All {
    std::vector<double> summary, drivers[5], cashq, roi;
    std::vector<std::string> names;
    std::uint64_t reused = 0;
  };
  const auto capture = [&](RunOptions o) {
    All a;
    Engine e(plan, o);
    e.run([&](const BatchResults& b) {
      append_fields(a.summary, b.summary);
      int f = 0;
      for (const auto* v : {&b.drivers.spearman, &b.drivers.variance_contribution, &b.drivers.tornado_low,
                            &b.drivers.tornado_high, &b.drivers.downside_shift})
        a.drivers[f].insert(a.drivers[f].end(), v->begin(), v->end()), ++f;
      a.cashq.insert(a.cashq.end(), b.cashflow_quantile.begin(), b.cashflow_quantile.end());
      a.names.insert(a.names.end(), b.names.begin(), b.names.end());
      if (b.roi) a.roi.insert(a.roi.end(), b.roi, b.roi + b.count * 600);
    });
    a.reused = e.timings().reused;
    return a;
  };
  RunOptions off;
  off.reuse_bytes = 0;
  const All want = capture(off);
  EXPECT_EQ(want.reused, 0u);
  ASSERT_EQ(want.names.size(), 563u);
  // The seed's identical scenarios really are identical (so the copies below are not vacuous).
  const std::size_t n = 600;
  const auto row = [&](const std::string& name) {
    const auto i = static_cast<std::size_t>(std::find(want.names.begin(), want.names.end(), name) - want.names.begin());
    return std::vector<double>(want.roi.begin() + static_cast<std::ptrdiff_t>(i * n), want.roi.begin() + static_cast<std::ptrdiff_t>((i + 1) * n));
  };
  EXPECT_TRUE(same_bits(row("macro=base/translation=low/maintenance=lean/funded=doc_classification"),
                        row("macro=boom/translation=high/maintenance=lean/funded=doc_classification")));
  EXPECT_FALSE(same_bits(row("macro=base/translation=low/maintenance=lean/funded=doc_classification"),
                         row("macro=base/translation=low/maintenance=heavy/funded=doc_classification")));

  RunOptions full;  // the default budget, per-trial sink
  RunOptions summary;  // trials of the copies not simulated
  summary.sink_needs_trials = false;
  summary.overlap_sink = true;
  summary.threads = 2;
  RunOptions small;  // small batches, two threads, room for two kept scenarios at a time
  small.batch_scenarios = 5;
  small.threads = 2;
  small.reuse_bytes = 2 * (sizeof(ScenarioSummary) + 64 + 64 + (5 * plan.input_vars().size() + 37 * kNumQuantiles) * 8);
  for (const RunOptions& o : {full, summary, small}) {
    const All got = capture(o);
    EXPECT_TRUE(same_bits(got.summary, want.summary));
    for (int f = 0; f < 5; ++f) EXPECT_TRUE(same_bits(got.drivers[f], want.drivers[f])) << f;
    EXPECT_TRUE(same_bits(got.cashq, want.cashq));
    EXPECT_EQ(got.names, want.names);
    if (o.sink_needs_trials) EXPECT_TRUE(same_bits(got.roi, want.roi));
    if (o.reuse_bytes == full.reuse_bytes) EXPECT_EQ(got.reused, 80u);
    else EXPECT_TRUE(got.reused > 0 && got.reused < 80) << got.reused;
  }
}

TEST(Engine, ReplayEqualsTheEngineBitForBit) {
  Plan plan = seed(600);
  Engine e(plan);
  Results r = run(plan);
  for (std::uint64_t s : {0ULL, 1ULL, 2ULL, 3ULL, 40ULL, 562ULL}) {
    const std::string name = plan.scenario_name(s);
    for (std::uint64_t t : {0ULL, 17ULL, 599ULL}) {
      TrialDetail d = e.replay(s, t);
      EXPECT_EQ(std::memcmp(&d.roi, &r.at(name).roi[t], 8), 0) << name << " trial " << t;
      EXPECT_EQ(std::memcmp(&d.npv, &r.at(name).npv[t], 8), 0) << name << " trial " << t;
      EXPECT_EQ(std::memcmp(&d.payback_month, &r.at(name).pay[t], 8), 0) << name << " trial " << t;
    }
  }
}

// A discount rate near -1 over a long horizon: df(m) = (1 + r)^(-m/12) overflows to +inf after
// ~924 months. Replay gives a failed project ROI -1 (its present value 0, cost C0); the engine's
// blocks must too (0 * inf is NaN: a failed lane's present values are masked, not summed), and
// every trial keeps replay's bits.
TEST(Engine, DiscountFactorsThatOverflowKeepReplaysBits) {
  Plan plan = Plan::load_text(R"(roisim: 1
settings: {trials: 203, seed: 5, horizon_months: 1200, discount_rate: -0.9999}
projects:
  p: {kind: direct, initial_cost: 100000, p_success: 0.5, inputs: {annual_value: {dist: uniform, min: 1000, max: 2000}}}
  q: {kind: direct, initial_cost: 50000, launch_month: {dist: uniform, min: 0, max: 1300}, p_success: 0.7, inputs: {annual_value: 500}}
scenarios:
  - {name: p, projects: [p]}
  - {name: both, projects: [p, q]}
)", "overflow.yaml");
  Results r = run(plan);
  Engine e(plan);
  int failed = 0;
  for (const char* name : {"p", "both"})
    for (std::uint64_t t = 0; t < 203; ++t) {
      const TrialDetail d = e.replay(std::string(name) == "p" ? 0 : 1, t);
      EXPECT_EQ(std::memcmp(&d.roi, &r.at(name).roi[t], 8), 0) << name << " trial " << t << ": " << d.roi << " vs " << r.at(name).roi[t];
      EXPECT_EQ(std::memcmp(&d.npv, &r.at(name).npv[t], 8), 0) << name << " trial " << t;
      EXPECT_EQ(std::memcmp(&d.payback_month, &r.at(name).pay[t], 8), 0) << name << " trial " << t;
      if (std::string(name) == "p" && !d.projects[0].success) {
        ++failed;
        EXPECT_EQ(r.at(name).roi[t], -1.0) << "trial " << t;
      }
    }
  EXPECT_GT(failed, 50);  // P(failure) = 0.5
}

TEST(Engine, CommonRandomNumbersAcrossScenarios) {
  // fraud-wave changes only fraud.fraud_rate: projects other than fraud see identical inputs, so
  // "in-production-only" (no doc_classification) differs from base only through that project.
  Plan plan = seed(500);
  Engine e(plan);
  const auto base = e.replay(0, 42), wave = e.replay(2, 42);
  for (std::size_t p = 0; p < base.projects.size(); ++p) {
    if (base.projects[p].name == "fraud") continue;
    EXPECT_EQ(base.projects[p].pv_value, wave.projects[p].pv_value) << base.projects[p].name;
  }
}

TEST(Engine, SampledLaunchMonthsAreRoundedAndClampedToTheHorizon) {
  // SPEC section 2: a sampled launch month is rounded to the nearest month and clamped to [0, H].
  // A = 120 a year (10 a month), C0 = 100, nothing else: ROI = 10 (H - L) / 100 - 1 exactly
  // (sums of 10s), with L the clamped month. Distributions reaching below 0 or past H are accepted.
  Plan plan = Plan::load_text(R"(roisim: 1
settings: {trials: 400, seed: 11, horizon_months: 36}
projects:
  wide: {kind: direct, initial_cost: 100, launch_month: {dist: normal, mean: 1, sd: 30}, inputs: {annual_value: 120}}
  early: {kind: direct, initial_cost: 100, launch_month: {dist: uniform, min: -5, max: -1}, inputs: {annual_value: 120}}
  late: {kind: direct, initial_cost: 100, launch_month: {dist: uniform, min: 40, max: 50}, inputs: {annual_value: 120}}
scenarios:
  - {name: wide, projects: [wide]}
  - {name: early, projects: [early]}
  - {name: late, projects: [late]}
)", "launch.yaml");
  Results r = run(plan);
  Engine e(plan);
  const auto roi_of = [](double launch) {
    const double clamped = std::clamp(std::round(launch), 0.0, 36.0);
    return 10 * (36 - clamped) / 100 - 1;
  };
  int below = 0, above = 0;
  for (std::size_t t = 0; t < 400; ++t) {
    const auto d = e.replay(0, t);
    const auto& params = d.projects[0].params;
    const auto it = std::find_if(params.begin(), params.end(), [](const auto& p) { return p.name == "launch_month"; });
    ASSERT_NE(it, params.end());
    const double launch = it->value;
    below += launch < -0.5;
    above += launch > 36.5;
    EXPECT_EQ(r.at("wide").roi[t], roi_of(launch)) << "trial " << t << ", launch " << launch;
    EXPECT_EQ(r.at("early").roi[t], 2.6) << "trial " << t;  // launched at 0: 360 / 100 - 1
    EXPECT_EQ(r.at("late").roi[t], -1.0) << "trial " << t;  // never live within the horizon
  }
  EXPECT_GT(below, 50);  // both tails were reached (P(x < -0.5) = 0.48, P(x > 36.5) = 0.12)
  EXPECT_GT(above, 10);
  // A negative constant is a mistake, not a draw: refused where it is written.
  try {
    Plan::load_text("roisim: 1\nprojects:\n  p: {kind: direct, initial_cost: 100, launch_month: -1, inputs: {annual_value: 120}}\n", "neg.yaml");
    ADD_FAILURE() << "a negative constant launch month was accepted";
  } catch (const InputError& err) {
    EXPECT_NE(std::string(err.what()).find("neg.yaml:3:"), std::string::npos) << err.what();
    EXPECT_NE(std::string(err.what()).find("launch_month must be >= 0 (got -1)"), std::string::npos) << err.what();
  }
}

TEST(Engine, MeanRoiOfAKnownPortfolioWithinFiveStandardErrors) {
  // direct value A ~ U(100k, 300k), C0 = 100k, no running costs, 36 months: ROI = 3A/C0 - 1,
  // E[ROI] = 3 * 200k / 100k - 1 = 5; sd = 3 * 200k / sqrt(12) / 100k.
  Plan plan = Plan::load_text(R"(roisim: 1
settings: {trials: 20000, seed: 5}
projects:
  p: {kind: direct, initial_cost: 100000, inputs: {annual_value: {dist: uniform, min: 100000, max: 300000}}}
)", "k.yaml");
  Results r = run(plan);
  const Captured& c = r.at("base");
  const double sd = 3 * 200000 / std::sqrt(12.0) / 100000;
  EXPECT_NEAR(c.s.roi_mean, 5.0, 5 * sd / std::sqrt(20000.0));
  EXPECT_NEAR(c.s.roi_sd, sd, 5 * sd / std::sqrt(2 * 20000.0));
  // The only input drives ROI monotonically: its Spearman correlation is 1.
  ASSERT_EQ(c.spearman.size(), 1u);
  EXPECT_NEAR(c.spearman[0], 1.0, 1e-12);
}

TEST(Engine, ProbabilityOfFailureShowsInProbLoss) {
  // p_success 0.8 on a project that always makes money: P[loss] = 0.2 (binomial SE).
  Plan plan = Plan::load_text(R"(roisim: 1
settings: {trials: 20000, seed: 11}
projects:
  p: {kind: direct, initial_cost: 100000, p_success: 0.8, inputs: {annual_value: {dist: uniform, min: 100000, max: 300000}}}
)", "f.yaml");
  Results r = run(plan);
  const Captured& c = r.at("base");
  EXPECT_NEAR(c.s.prob_loss, 0.2, 5 * std::sqrt(0.2 * 0.8 / 20000));
  EXPECT_EQ(c.s.cvar10, -1.0);  // the worst decile are all failures: ROI = -1
  EXPECT_EQ(plan.input_names(), (std::vector<std::string>{"p.annual_value", "p.success"}));
  EXPECT_GT(c.spearman[1], 0.5);  // success drives ROI
}

TEST(Engine, CorrelatedInputsHaveTheirSpearmanCorrelation) {
  Plan plan = Plan::load_text(R"(roisim: 1
settings: {trials: 20000, seed: 3}
factors:
  a: {dist: lognormal, median: 1, sigma: 0.5}
  b: {dist: triangular, min: 0, mode: 1, max: 4}
projects:
  p: {kind: direct, initial_cost: 1, inputs: {annual_value: {factor: a}}}
  q: {kind: direct, initial_cost: 1, inputs: {annual_value: {factor: b}}}
correlations:
  - [a, b, 0.7]
scenarios:
  - {name: only_p, projects: [p]}
)", "c.yaml");
  Engine e(plan);
  const std::size_t n = 20000;
  std::vector<double> a(n), b(n);
  // a's values from a scenario funding p alone; b's from a file whose default scenario funds both
  // (the uniforms depend only on the seed, the input's name and the trial).
  for (std::size_t t = 0; t < n; ++t) a[t] = e.replay(0, t).projects[0].params[0].value;
  Plan both = Plan::load_text(std::string(plan.config_text()).replace(plan.config_text().find("scenarios:"), std::string::npos, ""), "c2.yaml");
  Engine e2(both);
  for (std::size_t t = 0; t < n; ++t) b[t] = e2.replay(0, t).projects[1].params[0].value;
  StatsScratch s;
  std::vector<double> ra(n), rb(n);
  normalized_ranks(a.data(), n, s, ra.data());
  normalized_ranks(b.data(), n, s, rb.data());
  double rho = 0;
  for (std::size_t t = 0; t < n; ++t) rho += ra[t] * rb[t];
  // SE of a sample Spearman correlation ~ (1 - rho^2) / sqrt(n); 5 standard errors.
  EXPECT_NEAR(rho, 0.7, 5 * (1 - 0.49) / std::sqrt(double(n)));
}

TEST(Intervals, CoverTheTruthInAbout95PercentOf200SeededRuns) {
  // A ~ U(0, 1e6), C0 = 1e6, 36 months, no running costs: ROI = 3A/C0 - 1 ~ U(-1, 2), so the
  // q-quantile is -1 + 3q and P[ROI < 0] = 1/3. Each interval must cover the truth in 90-99% of
  // 200 runs with seeds 1..200 (deterministic).
  const char* text = R"(roisim: 1
settings: {trials: 500}
projects:
  p: {kind: direct, initial_cost: 1000000, inputs: {annual_value: {dist: uniform, min: 0, max: 1000000}}}
)";
  int cover[4] = {0, 0, 0, 0};
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Plan plan = Plan::load_text(text, "cover.yaml");
    plan.settings().seed = seed;
    Engine e(plan);
    e.run([&](const BatchResults& b) {
      const ScenarioSummary& s = b.summary[0];
      const int qs[] = {1, 3, 5};
      for (int j = 0; j < 3; ++j) {
        const double truth = -1 + 3 * kQuantiles[qs[j]];
        cover[j] += s.roi_quantile_lo[qs[j]] <= truth && truth <= s.roi_quantile_hi[qs[j]];
      }
      cover[3] += s.prob_loss_lo <= 1.0 / 3 && 1.0 / 3 <= s.prob_loss_hi;
    });
  }
  const char* what[] = {"P10", "P50", "P90", "prob_loss"};
  for (int j = 0; j < 4; ++j) {
    EXPECT_GE(cover[j], 180) << what[j];
    EXPECT_LE(cover[j], 198) << what[j];
  }
}

TEST(Drivers, TornadoDownsideAndVarianceContribution) {
  // ROI = (A1 + A2)·3/C0 - 1 with A1 ~ U(0, 3e6) dominating A2 ~ U(0, 3e5): A1's Spearman is near 1,
  // its variance contribution near 1, its tornado low/high are the ROI medians with A1 near its
  // P10 / P90, and the worst decile holds A1's lowest values (downside shift about -0.45).
  Plan plan = Plan::load_text(R"(roisim: 1
settings: {trials: 20000, seed: 4}
projects:
  a: {kind: direct, initial_cost: 1000000, inputs: {annual_value: {dist: uniform, min: 0, max: 3000000}}}
  b: {kind: direct, initial_cost: 1, inputs: {annual_value: {dist: uniform, min: 0, max: 300000}}}
)", "drivers.yaml");
  Results r = run(plan);
  const Captured& c = r.at("base");
  ASSERT_EQ(plan.input_names(), (std::vector<std::string>{"a.annual_value", "b.annual_value"}));
  EXPECT_GT(c.spearman[0], 0.99);
  // With both uniform, ROI ≈ 3 (A1 + A2)/1e6 - 1; A1 near its P10 (3e5) gives a median ROI near
  // 3 (3e5 + 1.5e5)/1e6 - 1 = 0.35; near its P90 (2.7e6): 3 (2.7e6 + 1.5e5)/1e6 - 1 = 7.55.
  Engine e(plan);
  std::vector<double> low, high;
  e.run([&](const BatchResults& b) {
    EXPECT_NEAR(b.drivers.variance_contribution[0], 0.99, 0.01);
    EXPECT_NEAR(b.drivers.variance_contribution[0] + b.drivers.variance_contribution[1], 1.0, 1e-12);
    EXPECT_NEAR(b.drivers.tornado_low[0], 0.35, 0.05);
    EXPECT_NEAR(b.drivers.tornado_high[0], 7.55, 0.05);
    EXPECT_NEAR(b.drivers.downside_shift[0], -0.45, 0.01);
    // A2 matters a little: the worst decile (A1 + A2 smallest) holds somewhat low A2 too.
    EXPECT_LT(b.drivers.downside_shift[1], 0.0);
    EXPECT_GT(b.drivers.downside_shift[1], -0.2);
  });
}

TEST(Drivers, AFactorReadWithDifferentScalesIsTheFactorTheOthersRead) {
  // Factor f is read by a and b. A project that scales its read of f (to 0, or below) does not
  // change what f is to the other: a_zero and b_zero have the same trials and the same drivers,
  // and a_neg's ROI still rises with f. Only when every reader scales f the same way does f count
  // as scaled: reversed when all scales are negative, absent when all are 0.
  Plan plan = Plan::load_text(R"(roisim: 1
settings: {trials: 2000, seed: 4, horizon_months: 12}
factors: {f: {dist: uniform, min: 50, max: 150}}
projects:
  a: {kind: direct, initial_cost: 100, inputs: {annual_value: {factor: f}}}
  b: {kind: direct, initial_cost: 100, inputs: {annual_value: {factor: f}}}
  c: {kind: direct, initial_cost: 100, inputs: {annual_value: {dist: uniform, min: 90, max: 110}}}
scenarios:
  - {name: base}
  - {name: a_zero, scale: {a.annual_value: 0}}
  - {name: b_zero, scale: {b.annual_value: 0}}
  - {name: a_neg, scale: {a.annual_value: -0.01}}
  - {name: f_neg, scale: {f: -1}}
  - {name: both_neg, scale: {a.annual_value: -1, b.annual_value: -2}}
  - {name: both_zero, scale: {a.annual_value: 0, b.annual_value: 0}}
)", "scales.yaml");
  const auto names = plan.input_names();
  const std::size_t kf = static_cast<std::size_t>(std::find(names.begin(), names.end(), "f") - names.begin());
  ASSERT_LT(kf, names.size());
  Results r = run(plan);
  ASSERT_EQ(r.at("a_zero").roi, r.at("b_zero").roi);
  EXPECT_EQ(r.at("a_zero").spearman, r.at("b_zero").spearman);
  EXPECT_GT(r.at("base").spearman[kf], 0.9);
  EXPECT_GT(r.at("a_zero").spearman[kf], 0.9);
  EXPECT_GT(r.at("a_neg").spearman[kf], 0.9);  // ROI rises with f: b reads it whole, a reads -0.01 f
  // Every reader scaling f below zero: the input is -f (times a positive number), and ROI rises with it.
  EXPECT_GT(r.at("f_neg").spearman[kf], 0.9);
  EXPECT_GT(r.at("both_neg").spearman[kf], 0.9);
  EXPECT_TRUE(std::isnan(r.at("both_zero").spearman[kf]));
  const std::size_t kc = static_cast<std::size_t>(std::find(names.begin(), names.end(), "c.annual_value") - names.begin());
  ASSERT_LT(kc, names.size());
  EXPECT_GT(r.at("both_zero").spearman[kc], 0.9);  // c is then all there is
}

namespace {
// Two projects, a's success draw uncertain, and a scenario that scales b's value: the plan of the
// drivers tests that recompute the engine's statistics from replayed trials.
Plan two_project_plan(int trials, int seed) {
  return Plan::load_text("roisim: 1\nsettings: {trials: " + std::to_string(trials) + ", seed: " + std::to_string(seed) +
                             R"(}
projects:
  a: {kind: direct, initial_cost: 100000, p_success: {dist: uniform, min: 0.5, max: 0.9},
      inputs: {annual_value: {dist: uniform, min: 50000, max: 150000}}}
  b: {kind: direct, initial_cost: 50000, inputs: {annual_value: {dist: uniform, min: 10000, max: 90000}}}
scenarios:
  - name: base
  - name: b-high
    scale: {b.annual_value: 2.0}
)",
                         "two_projects.yaml");
}

// Average ranks (1-based, ties sharing their mean) of x, and the order that sorts it (stable).
std::pair<std::vector<double>, std::vector<std::size_t>> ranks_and_order(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t p, std::size_t q) { return x[p] < x[q]; });
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && x[order[j]] == x[order[i]]) ++j;
    for (std::size_t k = i; k < j; ++k) r[order[k]] = (static_cast<double>(i + j) + 1) / 2;
    i = j;
  }
  return {r, order};
}
}  // namespace

TEST(Drivers, SuccessDrawAsAnInputMatchesItsDefinition) {
  // A project's success draw is an input (a 0/1 indicator). Its drivers are computed once per
  // batch and variant and shared by the scenarios funding it; here they are recomputed from their
  // definitions (SPEC §6) out of replayed trials, for two scenarios that share the variant.
  Plan plan = two_project_plan(3000, 21);
  const std::size_t n = plan.settings().trials, K = plan.input_vars().size();
  ASSERT_EQ(plan.input_names(), (std::vector<std::string>{"a.annual_value", "a.p_success", "a.success", "b.annual_value"}));
  constexpr std::size_t kS = 2;  // a.success
  Engine e(plan);
  std::vector<Drivers> got(2);
  e.run([&](const BatchResults& b) {
    for (std::uint64_t i = 0; i < b.count; ++i) {
      Drivers& d = got[b.first + i];
      for (auto [dst, src] : {std::pair{&d.spearman, &b.drivers.spearman}, {&d.tornado_low, &b.drivers.tornado_low},
                              {&d.tornado_high, &b.drivers.tornado_high}, {&d.downside_shift, &b.drivers.downside_shift}})
        dst->assign(src->begin() + i * K, src->begin() + (i + 1) * K);
    }
  });
  for (std::uint64_t s = 0; s < 2; ++s) {
    std::vector<double> roi(n), ok(n);
    for (std::size_t t = 0; t < n; ++t) {
      const TrialDetail d = e.replay(s, t);
      roi[t] = d.roi;
      ok[t] = d.projects.at(0).success ? 1.0 : 0.0;
    }
    const auto [rr, roi_order] = ranks_and_order(roi);
    const auto [ro, unused] = ranks_and_order(ok);
    const double mean = (static_cast<double>(n) + 1) / 2;
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t t = 0; t < n; ++t) {
      sxy += (ro[t] - mean) * (rr[t] - mean);
      sxx += (ro[t] - mean) * (ro[t] - mean);
      syy += (rr[t] - mean) * (rr[t] - mean);
    }
    EXPECT_NEAR(got[s].spearman[kS], sxy / std::sqrt(sxx * syy), 1e-12) << s;
    EXPECT_GT(got[s].spearman[kS], 0.5) << s;
    // Tornado bands of a 0/1 input: its P5-P15 are 0 (failures: P[fail] >= 10%), its P85-P95 are 1.
    std::vector<double> fail, success;
    for (std::size_t t = 0; t < n; ++t) (ok[t] > 0 ? success : fail).push_back(roi[t]);
    ASSERT_GT(fail.size(), n / 5);
    EXPECT_NEAR(got[s].tornado_low[kS], median(fail), 1e-12) << s;
    EXPECT_NEAR(got[s].tornado_high[kS], median(success), 1e-12) << s;
    // Downside shift: mean normalised rank of the input over the worst decile of ROI, less 0.5.
    double pct = 0;
    for (std::size_t i = 0; i < n / 10; ++i) pct += (ro[roi_order[i]] - 0.5) / static_cast<double>(n);
    EXPECT_NEAR(got[s].downside_shift[kS], pct / static_cast<double>(n / 10) - 0.5, 1e-12) << s;
  }
  EXPECT_NE(got[0].tornado_high[kS], got[1].tornado_high[kS]);  // the scenarios' ROI differ
}

// Every input's Spearman correlation and downside shift, recomputed in doubles from replayed
// trials, at a trial count whose ranks the engine keeps as int16 (twice_rank_dot) and at one
// beyond kMaxSmallRankTrials, where it keeps doubles (rank_dot).
TEST(Drivers, EveryInputsRankStatisticsFromReplayedTrials) {
  for (const int trials : {3000, 33000}) {
    SCOPED_TRACE(trials);
    ASSERT_EQ(trials <= static_cast<int>(kMaxSmallRankTrials), trials == 3000);
    Plan plan = two_project_plan(trials, 22);
    const std::size_t n = plan.settings().trials, K = plan.input_vars().size();
    const auto names = plan.input_names();
    Engine e(plan);
    std::vector<std::vector<double>> spearman(2), downside(2);
    e.run([&](const BatchResults& b) {
      for (std::uint64_t i = 0; i < b.count; ++i) {
        spearman[b.first + i].assign(b.drivers.spearman.begin() + i * K, b.drivers.spearman.begin() + (i + 1) * K);
        downside[b.first + i].assign(b.drivers.downside_shift.begin() + i * K, b.drivers.downside_shift.begin() + (i + 1) * K);
      }
    });
    for (std::uint64_t s = 0; s < 2; ++s) {
      std::vector<double> roi(n);
      std::map<std::string, std::vector<double>> input;  // "project.slot" and "project.success"
      for (std::size_t t = 0; t < n; ++t) {
        const TrialDetail d = e.replay(s, t);
        roi[t] = d.roi;
        for (const auto& p : d.projects) {
          for (const auto& v : p.params) input[p.name + "." + v.name].push_back(v.value);
          input[p.name + ".success"].push_back(p.success ? 1.0 : 0.0);
        }
      }
      const auto [rr, roi_order] = ranks_and_order(roi);
      const double mean = (static_cast<double>(n) + 1) / 2;
      for (std::size_t k = 0; k < K; ++k) {
        SCOPED_TRACE(names[k]);
        ASSERT_EQ(input.count(names[k]), 1u);
        const auto [ri, unused] = ranks_and_order(input.at(names[k]));
        double sxy = 0, sxx = 0, syy = 0;
        for (std::size_t t = 0; t < n; ++t) {
          sxy += (ri[t] - mean) * (rr[t] - mean);
          sxx += (ri[t] - mean) * (ri[t] - mean);
          syy += (rr[t] - mean) * (rr[t] - mean);
        }
        EXPECT_NEAR(spearman[s][k], sxy / std::sqrt(sxx * syy), 1e-12) << s;
        double pct = 0;
        for (std::size_t i = 0; i < n / 10; ++i) pct += (ri[roi_order[i]] - 0.5) / static_cast<double>(n);
        EXPECT_NEAR(downside[s][k], pct / static_cast<double>(n / 10) - 0.5, 1e-12) << s;
      }
      EXPECT_GT(spearman[s][0], 0.2) << s;  // a.annual_value drives ROI
    }
  }
}

TEST(Drivers, DownsideShiftAveragesTheTiesAtTheWorstDecile) {
  // Half the trials fail (ROI exactly -1), so the worst decile lies inside a tie of ~1,000 trials.
  // The downside shift of the annual value, which a failed project does not use, is its mean
  // percentile over all the tied trials (every order of the ties averaged), not over the 200 of
  // lowest trial number: then it read as a driver of the downside, its sign set by the draw.
  // Without ties at the boundary (scenario `b`, continuous ROI) it is the plain mean.
  Plan plan = Plan::load_text(R"(roisim: 1
settings: {trials: 2000, seed: 11, horizon_months: 24}
projects:
  coin: {kind: direct, initial_cost: 1000000, p_success: 0.5,
         inputs: {annual_value: {dist: uniform, min: 2500000, max: 3500000}}}
  b: {kind: direct, initial_cost: 50000, inputs: {annual_value: {dist: uniform, min: 10000, max: 90000}}}
scenarios:
  - {name: coin, projects: [coin]}
  - {name: b, projects: [b]}
)", "ties.yaml");
  const std::size_t n = plan.settings().trials, K = plan.input_vars().size(), k10 = n / 10;
  ASSERT_EQ(plan.input_names(), (std::vector<std::string>{"coin.annual_value", "coin.success", "b.annual_value"}));
  Engine e(plan);
  std::vector<double> shift(2 * K);
  e.run([&](const BatchResults& b) {
    for (std::uint64_t i = 0; i < b.count; ++i)
      for (std::size_t k = 0; k < K; ++k) shift[(b.first + i) * K + k] = b.drivers.downside_shift[i * K + k];
  });
  for (std::uint64_t s = 0; s < 2; ++s) {
    const std::size_t kin = s == 0 ? 0 : 2;  // the scenario's annual value
    std::vector<double> roi(n), x(n);
    for (std::size_t t = 0; t < n; ++t) {
      const TrialDetail d = e.replay(s, t);
      roi[t] = d.roi;
      x[t] = d.projects.at(0).params.at(0).value;
    }
    // Percentiles of the input (continuous: no ties), then the weighted mean over the worst k10.
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t p, std::size_t q) { return x[p] < x[q]; });
    std::vector<double> pct(n);
    for (std::size_t i = 0; i < n; ++i) pct[order[i]] = (static_cast<double>(i + 1) - 0.5) / static_cast<double>(n);
    std::vector<double> sorted = roi;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k10 - 1), sorted.end());
    const double kth = sorted[k10 - 1];
    std::size_t below = 0, tied = 0;
    double sum_below = 0, sum_tied = 0;
    for (std::size_t t = 0; t < n; ++t) {
      if (roi[t] < kth) ++below, sum_below += pct[t];
      if (roi[t] == kth) ++tied, sum_tied += pct[t];
    }
    if (s == 0) {
      ASSERT_EQ(kth, -1.0);
      ASSERT_EQ(below, 0u);
      ASSERT_GT(tied, 900u);
    } else {
      ASSERT_EQ(tied, 1u);
    }
    const double expected = (sum_below + static_cast<double>(k10 - below) / static_cast<double>(tied) * sum_tied) /
                            static_cast<double>(k10) - 0.5;
    EXPECT_NEAR(shift[s * K + kin], expected, 1e-12) << s;
    if (s == 0) EXPECT_LT(std::abs(shift[s * K + kin]), 0.03);  // ~N(0, 0.009): no driver of the downside
    if (s == 1) EXPECT_LT(shift[s * K + kin], -0.4);            // the only input: the worst decile is its lowest
  }
}

TEST(Drivers, SuccessTornadoBandsAreFailuresAndSuccessesWhenEitherIsRare) {
  // Rare failures (p 0.95) and rare successes (p 0.08): the bands of a 0/1 input are its failures
  // and its successes, not the P5-P15 / P85-P95 of the 0/1 values (which hold every trial when
  // fewer than ~15% fail, and none at all when fewer than ~5% succeed).
  Plan plan = Plan::load_text(R"(roisim: 1
settings: {trials: 2000, seed: 5}
projects:
  safe: {kind: direct, initial_cost: 100000, p_success: 0.95,
         inputs: {annual_value: {dist: uniform, min: 50000, max: 150000}}}
  longshot: {kind: direct, initial_cost: 100000, p_success: 0.08,
             inputs: {annual_value: {dist: uniform, min: 100000, max: 900000}}}
scenarios:
  - name: safe
    projects: [safe]
  - name: longshot
    projects: [longshot]
)", "rare.yaml");
  const std::size_t n = plan.settings().trials, K = plan.input_vars().size();
  const auto names = plan.input_names();
  Engine e(plan);
  std::vector<double> low(2 * K), high(2 * K);
  e.run([&](const BatchResults& b) {
    std::copy(b.drivers.tornado_low.begin(), b.drivers.tornado_low.end(), low.begin() + static_cast<std::ptrdiff_t>(b.first * K));
    std::copy(b.drivers.tornado_high.begin(), b.drivers.tornado_high.end(), high.begin() + static_cast<std::ptrdiff_t>(b.first * K));
  });
  for (std::uint64_t s = 0; s < 2; ++s) {
    const std::string input = (s == 0 ? "safe" : "longshot") + std::string(".success");
    const std::size_t k = static_cast<std::size_t>(std::find(names.begin(), names.end(), input) - names.begin());
    ASSERT_LT(k, K) << input;
    std::vector<double> fail, success;
    for (std::size_t t = 0; t < n; ++t) {
      const TrialDetail d = e.replay(s, t);
      (d.projects.at(0).success ? success : fail).push_back(d.roi);
    }
    ASSERT_LT(std::min(fail.size(), success.size()), n / 10) << input;  // one side is rare
    ASSERT_GT(std::min(fail.size(), success.size()), 0u) << input;
    EXPECT_EQ(low[s * K + k], median(fail)) << input;        // every failure has ROI -1
    EXPECT_EQ(high[s * K + k], median(success)) << input;
    EXPECT_EQ(low[s * K + k], -1.0) << input;
  }
}
