// Micro-benchmarks of the engine's parts and an end-to-end run of the seed portfolio.
// Run: build/bench/roisim_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "models/cash_flow.h"
#include "models/value_models.h"
#include "sim/distributions.h"
#include "sim/engine.h"
#include "sim/results_file.h"
#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/statistics.h"

namespace {

using namespace roisim;

void BM_PhiloxUniforms(benchmark::State& state) {
  UniformStream s(20261122, stable_hash("recommendations.sessions_per_month"));
  std::vector<double> out(4096);
  for (auto _ : state) {
    s.fill(0, out.size(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_PhiloxUniforms);

void quantile_bench(benchmark::State& state, const Distribution& d) {
  std::vector<double> u(4096), out(4096);
  UniformStream(1, 2).fill(0, u.size(), u.data());
  for (auto _ : state) {
    d.quantile(u.data(), out.data(), u.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * u.size());
}
void BM_QuantileUniform(benchmark::State& s) { quantile_bench(s, Distribution::uniform(0.1, 0.3)); }
void BM_QuantileTriangular(benchmark::State& s) { quantile_bench(s, Distribution::triangular(4.5e6, 5e6, 5.6e6)); }
void BM_QuantilePert(benchmark::State& s) { quantile_bench(s, Distribution::pert(0.3, 0.5, 0.8)); }
void BM_QuantileNormal(benchmark::State& s) { quantile_bench(s, Distribution::normal(300, 40, 150, INFINITY)); }
void BM_QuantileLognormal(benchmark::State& s) { quantile_bench(s, Distribution::lognormal(85, 0.1)); }
void BM_QuantileBeta(benchmark::State& s) { quantile_bench(s, Distribution::beta(2, 5)); }
BENCHMARK(BM_QuantileUniform);
BENCHMARK(BM_QuantileTriangular);
BENCHMARK(BM_QuantilePert);
BENCHMARK(BM_QuantileNormal);
BENCHMARK(BM_QuantileLognormal);
BENCHMARK(BM_QuantileBeta);

void BM_ProjectFlows(benchmark::State& state) {
  Timeline t(36, 0.0);
  ProjectDraw d{2.16e6, 900000, 0.3, 240000, 3, 4, 0.1, true};
  std::vector<double> cum(37);
  for (auto _ : state) {
    benchmark::DoNotOptimize(project_flows(t, d, cum.data()));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ProjectFlows);

// The engine's form: 256 draws as columns (project_flows_block with DrawColumns), months
// trial-contiguous in rows of 256 + 8 doubles, as the engine pads them (sim/engine.cpp, simulate).
void BM_ProjectFlowsBlock(benchmark::State& state) {
  Timeline t(36, 0.0);
  constexpr std::size_t kDraws = 256, kRow = 256 + 8;
  std::vector<double> value(kDraws, 2.16e6), cost(kDraws, 900000), share(kDraws, 0.3), infra(kDraws, 240000),
      launch(kDraws), ramp(kDraws, 4), decay(kDraws, 0.1);
  std::vector<unsigned char> success(kDraws);
  for (std::size_t i = 0; i < kDraws; ++i) launch[i] = static_cast<double>(i % 7), success[i] = i % 5 != 0;
  const DrawColumns draws{value.data(),  cost.data(), share.data(), infra.data(),
                          launch.data(), ramp.data(), decay.data(), success.data()};
  std::vector<double> cum(37 * kRow), pv(kDraws), pc(kDraws);
  for (auto _ : state) {
    project_flows_block(t, draws, kDraws, cum.data(), kRow, pv.data(), pc.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kDraws);
}
BENCHMARK(BM_ProjectFlowsBlock);

// Per-scenario statistics of 10,000 trials: the radix sort behind quantiles, CVaR and ranks.
void BM_RadixSortWithIndex(benchmark::State& state) {
  std::vector<double> x(static_cast<std::size_t>(state.range(0)));
  UniformStream(3, 4).fill(0, x.size(), x.data());
  StatsScratch s;
  for (auto _ : state) {
    radix_sort(x.data(), x.size(), s, true);
    benchmark::DoNotOptimize(s.sorted.data());
  }
  state.SetItemsProcessed(state.iterations() * x.size());
}
BENCHMARK(BM_RadixSortWithIndex)->Arg(10000)->Arg(1000000);

// The seven quantiles of a sample (NPV: 10,000 values; one cash-flow month: 1,000) by bucket
// selection, against sorting the sample first (BM_QuantilesBySort): the same bits.
void BM_QuantilesBySelection(benchmark::State& state) {
  std::vector<double> x(static_cast<std::size_t>(state.range(0)));
  UniformStream(7, 8).fill(0, x.size(), x.data());
  StatsScratch s;
  double out[kNumQuantiles];
  for (auto _ : state) {
    quantiles_type7(x.data(), x.size(), kQuantiles, kNumQuantiles, s, out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * x.size());
}
BENCHMARK(BM_QuantilesBySelection)->Arg(1000)->Arg(10000);

void BM_QuantilesBySort(benchmark::State& state) {
  std::vector<double> x(static_cast<std::size_t>(state.range(0)));
  UniformStream(7, 8).fill(0, x.size(), x.data());
  StatsScratch s;
  double out[kNumQuantiles];
  for (auto _ : state) {
    radix_sort(x.data(), x.size(), s, false);
    for (int q = 0; q < kNumQuantiles; ++q) out[q] = quantile_type7(s.sorted.data(), x.size(), kQuantiles[q]);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * x.size());
}
BENCHMARK(BM_QuantilesBySort)->Arg(1000)->Arg(10000);

// The Spearman numerator of one input and a scenario's ROI (10,000 trials), in doubles
// (BM_RankDot, the path beyond kMaxSmallRankTrials) and on twice centred ranks in int16
// (BM_TwiceRankDot, the seed's path): the same bits.
void rank_dot_inputs(std::vector<double>& rank, std::vector<double>& centred, std::vector<std::int16_t>& a,
                     std::vector<std::int16_t>& b) {
  const std::size_t n = 10000;
  std::vector<double> x(n), y(n);
  UniformStream(9, 10).fill(0, n, x.data());
  UniformStream(11, 12).fill(0, n, y.data());
  StatsScratch s;
  rank.resize(n), centred.resize(n), a.resize(n), b.resize(n);
  average_ranks(x.data(), n, s, rank.data());
  average_ranks(y.data(), n, s, centred.data());
  twice_centred_ranks(rank.data(), n, a.data());
  twice_centred_ranks(centred.data(), n, b.data());
  for (double& c : centred) c -= (static_cast<double>(n) + 1) / 2;
}
void BM_RankDot(benchmark::State& state) {
  std::vector<double> rank, centred;
  std::vector<std::int16_t> a, b;
  rank_dot_inputs(rank, centred, a, b);
  const double mean = (static_cast<double>(rank.size()) + 1) / 2;
  for (auto _ : state) benchmark::DoNotOptimize(rank_dot(rank.data(), mean, centred.data(), rank.size()));
  state.SetItemsProcessed(state.iterations() * rank.size());
}
BENCHMARK(BM_RankDot);
void BM_TwiceRankDot(benchmark::State& state) {
  std::vector<double> rank, centred;
  std::vector<std::int16_t> a, b;
  rank_dot_inputs(rank, centred, a, b);
  for (auto _ : state) benchmark::DoNotOptimize(twice_rank_dot(a.data(), b.data(), a.size()));
  state.SetItemsProcessed(state.iterations() * a.size());
}
BENCHMARK(BM_TwiceRankDot);

void BM_Summarize(benchmark::State& state) {
  const std::size_t n = 10000;
  std::vector<double> roi(n), npv(n), pay(n);
  UniformStream(5, 6).fill(0, n, roi.data());
  for (std::size_t i = 0; i < n; ++i) npv[i] = 1e6 * roi[i], pay[i] = std::floor(36 * roi[i]);
  StatsScratch s;
  ScenarioSummary out;
  for (auto _ : state) {
    summarize(roi.data(), npv.data(), pay.data(), n, s, out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Summarize);

// One per-trial chunk's zlib stream from its byte planes (zlib_planes at level 1): 65,536 ROI
// values like the seed's, 30% of them exactly -1 (a project that failed), the rest spread
// over (-1, 3), shuffled into eight planes. Their low planes are random (stored), the lowest
// and the top two skewed (Huffman-coded). Bytes = the chunk's 512 KiB.
void BM_ZlibPlanes(benchmark::State& state) {
  const std::size_t n = 65536;
  std::vector<double> u(2 * n);
  UniformStream(13, 14).fill(0, u.size(), u.data());
  std::vector<unsigned char> planes(8 * n), out(8 * n + 8 * n / 100 + 1024);
  for (std::size_t i = 0; i < n; ++i) {
    const double roi = u[2 * i] < 0.3 ? -1.0 : -1.0 + 4.0 * u[2 * i + 1] * u[2 * i + 1];
    unsigned char b[8];
    std::memcpy(b, &roi, 8);
    for (int k = 0; k < 8; ++k) planes[k * n + i] = b[k];
  }
  std::size_t size = 0;
  for (auto _ : state) {
    size = zlib_planes_for_tests(planes.data(), n, 8, 1, 7.5, true, out.data(), out.size());
    benchmark::DoNotOptimize(out.data());
  }
  if (size == 0) state.SkipWithError("the chunk did not fit");
  state.counters["ratio"] = static_cast<double>(size) / static_cast<double>(planes.size());
  state.SetBytesProcessed(state.iterations() * planes.size());
}
BENCHMARK(BM_ZlibPlanes);

// The seed portfolio end to end (statistics, no file): items = scenario x trial evaluations.
void BM_SeedPortfolio(benchmark::State& state) {
  Plan plan = Plan::load_file(ROISIM_SOURCE_DIR "/scenarios/seed_portfolio.yaml");
  plan.settings().trials = 2000;
  for (auto _ : state) {
    RunOptions o;
    o.threads = static_cast<int>(state.range(0));
    Engine e(plan, o);
    double sink = 0;
    e.run([&](const BatchResults& b) { sink += b.summary[0].roi_mean; });
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(state.iterations() * plan.scenario_count() * plan.settings().trials);
}
BENCHMARK(BM_SeedPortfolio)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

// The results writer alone: 128 scenarios x 10,000 trials of per-trial output in batches of 64
// (roi, npv, payback_month through shuffle + deflate + fletcher32, compressed in parallel).
// Args: deflate level, threads. Items = scenario x trial rows written.
#include <tbb/task_arena.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace {

void BM_ResultsWriterTrials(benchmark::State& state) {
  using namespace roisim;
  const std::uint64_t S = 128, N = 10000, per_batch = 64;
  ResultsLayout layout;
  layout.scenarios = S;
  layout.trials = N;
  layout.inputs = {"a.x", "b.y"};
  layout.compression = static_cast<int>(state.range(0));
  layout.scenarios_per_batch = per_batch;
  std::vector<double> roi(per_batch * N), npv(per_batch * N), pay(per_batch * N);
  UniformStream(7, 8).fill(0, roi.size(), roi.data());
  for (std::size_t i = 0; i < roi.size(); ++i) {
    npv[i] = 1e6 * (roi[i] - 0.3);
    pay[i] = roi[i] < 0.2 ? INFINITY : std::floor(36 * roi[i]);
  }
  const std::string path =
      (std::filesystem::temp_directory_path() / ("roisim_bench_writer_" + std::to_string(::getpid()) + ".h5"))
          .string();
  tbb::task_arena arena(static_cast<int>(state.range(1)));
  for (auto _ : state) {
    arena.execute([&] {
      ResultsWriter w(path, layout);
      for (std::uint64_t first = 0; first < S; first += per_batch) {
        BatchResults b;
        b.first = first;
        b.count = std::min(per_batch, S - first);
        for (std::uint64_t i = 0; i < b.count; ++i) {
          b.names.push_back("s" + std::to_string(first + i));
          b.funded.push_back("a+b");
        }
        b.roi = roi.data();
        b.npv = npv.data();
        b.payback = pay.data();
        b.summary.resize(b.count);
        for (auto* v : {&b.drivers.spearman, &b.drivers.variance_contribution, &b.drivers.tornado_low,
                        &b.drivers.tornado_high, &b.drivers.downside_shift})
          v->assign(b.count * 2, 0.5);
        w.write_batch(b);
      }
      w.commit();
    });
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(state.iterations() * S * N);
  state.SetBytesProcessed(state.iterations() * S * N * 3 * 8);
}
BENCHMARK(BM_ResultsWriterTrials)
    ->Args({1, 1})
    ->Args({1, 2})
    ->Args({0, 1})
    ->Args({6, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
