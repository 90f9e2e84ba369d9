// Value and cost models (SPEC §1-§2) against the worked examples and hand computations.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <vector>

#include "models/cash_flow.h"
#include "models/value_models.h"
#include "tests/test_uniforms.h"

using namespace roisim;

TEST(ValueModels, RevenueWorkedExampleIsExact) {
  // 5,000,000 sessions, ctr 0.18 -> 0.23 (offline lift x online ratio = 5/18), conversion 0.12,
  // order value 85, margin 1.
  const double in[] = {5e6, 0.18, 5.0 / 9.0, 0.5, 0.12, 85, 1};
  EXPECT_EQ(annual_value(ValueKind::Revenue, in), 30'600'000.0);
}

TEST(ValueModels, AutomationWorkedExampleIsExact) {
  const double in[] = {200000, 0.50, 0.85, 0.97, 1.50};
  EXPECT_EQ(annual_value(ValueKind::Automation, in), 928'200.0);
}

TEST(ValueModels, FraudRetentionDirect) {
  // fraud: T = 1000, f0 = 0.01, catch 0.5 -> f1 = 0.005; loss 200, fpr 0.002, blocked 50,
  // review 0.5, cost 10: 12*1000*[0.005*200 - 0.99*0.002*50 - 0.007*0.5*10] = 12*1000*0.866
  const double fr[] = {1000, 0.01, 0.5, 200, 0.002, 50, 0.5, 10};
  EXPECT_NEAR(annual_value(ValueKind::Fraud, fr), 12.0 * 1000 * (1.0 - 0.099 - 0.035), 1e-9);
  const double rt[] = {400000, 0.15, 0.1, 0.3, 300, 0.6};
  EXPECT_NEAR(annual_value(ValueKind::Retention, rt), 400000 * 0.15 * 0.03 * 300 * 0.6, 1e-6);
  const double d[] = {123.5};
  EXPECT_EQ(annual_value(ValueKind::Direct, d), 123.5);
}

// The engine evaluates a variant's trials a column at a time (annual_value_block): every kind must
// give annual_value's bits for each trial, negative, zero and huge inputs included.
TEST(ValueModels, BlockOfTrialsHasTheSameBitsAsOneByOne) {
  TestUniforms next(99);
  const double specials[] = {0.0, -0.0, 1.0, -1.0, 1e300, 1e-300, 0.5};
  constexpr std::size_t kTrials = 203;  // not a multiple of a vector's lanes
  for (ValueKind kind : {ValueKind::Revenue, ValueKind::Automation, ValueKind::Fraud, ValueKind::Retention, ValueKind::Direct}) {
    const std::size_t slots = model_inputs(kind).size();
    std::vector<std::vector<double>> cols(slots, std::vector<double>(kTrials));
    for (std::size_t j = 0; j < slots; ++j)
      for (std::size_t k = 0; k < kTrials; ++k)
        cols[j][k] = k % 11 == j ? specials[k % std::size(specials)] : (next() - 0.2) * std::pow(10.0, 6 * next() - 2);
    std::vector<const double*> in;
    for (const auto& c : cols) in.push_back(c.data());
    std::vector<double> out(kTrials + 1, -7.0);
    annual_value_block(kind, in.data(), kTrials, out.data());
    for (std::size_t k = 0; k < kTrials; ++k) {
      std::vector<double> one(slots);
      for (std::size_t j = 0; j < slots; ++j) one[j] = cols[j][k];
      ASSERT_EQ(std::bit_cast<std::uint64_t>(out[k]), std::bit_cast<std::uint64_t>(annual_value(kind, one.data())))
          << kind_name(kind) << " trial " << k;
    }
    EXPECT_EQ(out[kTrials], -7.0) << "written beyond the count";
  }
}

TEST(ValueModels, KindNamesAndInputs) {
  EXPECT_EQ(parse_kind("fraud"), ValueKind::Fraud);
  EXPECT_FALSE(parse_kind("Fraud").has_value());
  EXPECT_EQ(model_inputs(ValueKind::Revenue).size(), 7u);
  EXPECT_TRUE(model_inputs(ValueKind::Revenue)[6].has_default);  // margin defaults to 1
  EXPECT_EQ(model_inputs(ValueKind::Revenue)[6].default_value, 1.0);
  EXPECT_STREQ(cost_param(kPSuccess).name, "p_success");
}

namespace {
struct Portfolio {
  double roi, npv, payback;
};
Portfolio evaluate(const Timeline& t, const std::vector<ProjectDraw>& ps) {
  std::vector<double> total(t.horizon() + 1, 0.0), cum(t.horizon() + 1);
  double v = 0, c = 0;
  for (const auto& p : ps) {
    auto f = project_flows(t, p, cum.data());
    v += f.pv_value;
    c += f.pv_cost;
    for (int m = 0; m <= t.horizon(); ++m) total[m] += cum[m];
  }
  return {v / c - 1, v - c, payback_month(total.data(), t.horizon())};
}
}  // namespace

TEST(CashFlow, SpecWorkedCheck) {
  Timeline t(24, 0.10);
  const double rin[] = {5e6, 0.2, 0.4, 0.3, 0.1, 50, 0.3};
  const double tin[] = {100000, 0.5, 0.8, 0.95, 2.0};
  ProjectDraw recs{annual_value(ValueKind::Revenue, rin), 500000, 0.3, 60000, 3, 4, 0.2, true};
  ProjectDraw triage{annual_value(ValueKind::Automation, tin), 200000, 0.25, 0, 6, 0, 0, true};
  EXPECT_NEAR(recs.annual_value, 2'160'000, 1e-6);
  EXPECT_NEAR(triage.annual_value, 384'000, 1e-6);
  auto both = evaluate(t, {recs, triage});
  EXPECT_NEAR(both.roi, 1.827174498087083, 1e-9 * 1.827174498087083);
  EXPECT_NEAR(both.npv, 2001806.854158668, 1e-9 * 2001806.854158668);
  EXPECT_EQ(both.payback, 9);
  auto r = evaluate(t, {recs});
  EXPECT_NEAR(r.roi, 2.120658063069892, 1e-9 * 2.12);
  EXPECT_NEAR(r.npv, 1758462.862675308, 1e-9 * 1758462.86);
  EXPECT_EQ(r.payback, 9);
  auto a = evaluate(t, {triage});
  EXPECT_NEAR(a.roi, 0.9135602058338941, 1e-9);
  EXPECT_NEAR(a.npv, 243343.9914833594, 1e-9 * 243343.99);
  EXPECT_EQ(a.payback, 14);
}

TEST(CashFlow, NoDiscountNoRampByHand) {
  // A = 120,000/yr = 10,000/month; running = 0.1 * 100,000 / 12 per month; 12 live months.
  Timeline t(12, 0.0);
  auto p = evaluate(t, {{120000, 100000, 0.1, 0, 0, 0, 0, true}});
  EXPECT_NEAR(p.roi, 120000.0 / 110000.0 - 1, 1e-12);
  EXPECT_NEAR(p.npv, 10000, 1e-6);
  EXPECT_EQ(p.payback, 11);  // -100,000 + m * 9,166.67 >= 0 first at m = 11
}

TEST(CashFlow, DiscountingByHand) {
  Timeline t(12, 0.10);
  double pv = 0;
  for (int m = 1; m <= 12; ++m) pv += 10000 * std::pow(1.1, -m / 12.0);
  auto p = evaluate(t, {{120000, 50000, 0, 0, 0, 0, 0, true}});
  EXPECT_NEAR(p.npv, pv - 50000, 1e-6);
  EXPECT_NEAR(p.roi, pv / 50000 - 1, 1e-12);
}

TEST(CashFlow, RampByHand) {
  // R = 4: 2,500, 5,000, 7,500, then 10,000 a month; C0 = 10,000; payback when the cumulative
  // -10,000 + 2,500 + 5,000 + 7,500 turns positive: month 3.
  Timeline t(6, 0.0);
  auto p = evaluate(t, {{120000, 10000, 0, 0, 0, 4, 0, true}});
  EXPECT_NEAR(p.roi, 45000.0 / 10000 - 1, 1e-12);
  EXPECT_EQ(p.payback, 3);
}

TEST(CashFlow, DecayByHand) {
  // value(k) = 10,000 * 0.81^((k-1)/12): a geometric series with ratio q = 0.81^(1/12).
  Timeline t(24, 0.0);
  const double q = std::pow(0.81, 1.0 / 12);
  const double sum = 10000 * (1 - std::pow(q, 24)) / (1 - q);
  auto p = evaluate(t, {{120000, 10000, 0, 0, 0, 0, 0.19, true}});
  EXPECT_NEAR(p.npv, sum - 10000, 1e-6);
}

TEST(CashFlow, LaunchDelayAndRounding) {
  Timeline t(12, 0.0);
  // launch 2.5 rounds to 3 (halves away from zero): 9 live months.
  auto p = evaluate(t, {{120000, 10000, 0, 0, 2.5, 0, 0, true}});
  EXPECT_NEAR(p.npv, 90000 - 10000, 1e-6);
  EXPECT_EQ(effective_launch_month(2.4, 12), 2);
  EXPECT_EQ(effective_launch_month(-3, 12), 0);
  EXPECT_EQ(effective_launch_month(40, 12), 12);
}

TEST(CashFlow, LaunchAfterHorizonEarnsNothing) {
  Timeline t(36, 0.0);
  auto p = evaluate(t, {{1e9, 500000, 0.3, 1000, 40, 0, 0, true}});
  EXPECT_EQ(p.roi, -1.0);
  EXPECT_EQ(p.npv, -500000.0);
  EXPECT_TRUE(std::isinf(p.payback));
}

TEST(CashFlow, FailedProjectCostsOnlyItsBuild) {
  Timeline t(36, 0.05);
  std::vector<double> cum(37);
  auto f = project_flows(t, {1e9, 300000, 0.4, 50000, 0, 0, 0, false}, cum.data());
  EXPECT_EQ(f.pv_value, 0.0);
  EXPECT_EQ(f.pv_cost, 300000.0);
  for (double c : cum) EXPECT_EQ(c, -300000.0);
  // With a successful partner the portfolio pays back when -400,000 + 100,000 m >= 0: month 4
  // exactly (the comparison is >= 0).
  Timeline t0(36, 0.0);
  auto p = evaluate(t0, {{1e9, 300000, 0.4, 50000, 0, 0, 0, false}, {1.2e6, 100000, 0, 0, 0, 0, 0, true}});
  EXPECT_EQ(p.payback, 4);
}

// The engine evaluates draws four at a time (project_flows_block); every value must have the bits
// project_flows gives for that draw alone, on awkward draws too: failed, launch at 0, at or past the
// horizon, half months (and the doubles just below a half), ramp 0 / negative / NaN / longer than
// the horizon, decay 0 / 1 / < 0 / > 1 / NaN, a zero cost (a cumulative flow of -0.0), negative
// value, and a count that leaves a scalar tail. The block rounds launch months and takes the
// months after every live draw's ramp in a loop of its own (with and without discounting).
TEST(CashFlow, BlockOfDrawsHasTheSameBitsAsOneByOne) {
  // The last: a rate near -1 over a long horizon, where df(m) overflows to +inf (a failed draw's
  // present values stay 0 there, as 0 * inf would not).
  const roisim::Timeline timelines[] = {roisim::Timeline(36, 0.0), roisim::Timeline(60, 0.0725), roisim::Timeline(1, 0.1),
                                        roisim::Timeline(12, 0.0), roisim::Timeline(1200, -0.9999)};
  const double below_half = std::nextafter(0.5, 0.0), below_2_5 = std::nextafter(2.5, 0.0);
  const double launches[] = {0, 0.4, 0.5, 2.5, 3, 11.7, 36, 80, -1, std::nan(""), below_half, below_2_5, 35.5, -0.0, 1e300, 5};
  const double ramps[] = {0, -3, 1, 6, 7.5, 200, std::nan(""), 2};
  const double decays[] = {0, 0.1, 1, -0.5, 1.5, 0.33, std::nan("")};
  constexpr int kL = static_cast<int>(std::size(launches)), kR = static_cast<int>(std::size(ramps));
  constexpr int kD = static_cast<int>(std::size(decays));
  std::vector<roisim::ProjectDraw> draws;
  TestUniforms next(12345);
  for (int i = 0; i < 1203; ++i) {
    roisim::ProjectDraw d;
    d.annual_value = (next() - 0.1) * 5e6;
    d.initial_cost = i % 37 == 5 ? 0.0 : 1e5 + next() * 1e6;
    d.maintenance_share = next() * 0.5;
    d.infra_annual = i % 37 == 5 ? 0.0 : next() * 1e5;
    // Runs of alike draws too (i / 8): four lanes that all reach the steady months early.
    d.launch_month = launches[(i < 600 ? i : i / 8) % kL];
    d.ramp_months = ramps[(i < 600 ? i / kL : i / 64) % kR];
    d.decay = decays[(i / 3) % kD];
    d.success = i % 5 != 2 || i % 3 == 0;
    draws.push_back(d);
  }
  for (const auto& t : timelines) {
    const std::size_t months = static_cast<std::size_t>(t.horizon()) + 1;
    for (std::size_t count : {draws.size(), std::size_t{4}, std::size_t{3}, std::size_t{0}}) {
      const std::size_t ld = count + 5;
      std::vector<double> cum(months * ld, -7.0), pv(count), pc(count);
      roisim::project_flows_block(t, draws.data(), count, cum.data(), ld, pv.data(), pc.data());
      for (std::size_t i = 0; i < count; ++i) {
        std::vector<double> one(months);
        const auto f = roisim::project_flows(t, draws[i], one.data());
        ASSERT_EQ(std::bit_cast<std::uint64_t>(pv[i]), std::bit_cast<std::uint64_t>(f.pv_value)) << "draw " << i;
        ASSERT_EQ(std::bit_cast<std::uint64_t>(pc[i]), std::bit_cast<std::uint64_t>(f.pv_cost)) << "draw " << i;
        for (std::size_t m = 0; m < months; ++m)
          ASSERT_EQ(std::bit_cast<std::uint64_t>(cum[m * ld + i]), std::bit_cast<std::uint64_t>(one[m]))
              << "draw " << i << " month " << m;
      }
      for (std::size_t m = 0; m < months; ++m)  // nothing written beyond the count
        for (std::size_t i = count; i < ld; ++i) ASSERT_EQ(cum[m * ld + i], -7.0);
    }
  }
}
