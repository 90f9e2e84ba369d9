// The scenario file loader (SPEC §4): expansion, names and located errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/scenario.h"

using namespace roisim;

namespace {

const char* kMinimal = R"(roisim: 1
name: t
settings: {trials: 100, seed: 1}
factors:
  online_ratio: {dist: uniform, min: 0.2, max: 0.5}
projects:
  recs:
    kind: revenue
    initial_cost: 500000
    inputs:
      sessions_per_month: 5.0e6
      baseline_ctr: 0.2
      offline_ctr_lift: {dist: pert, min: 0.3, mode: 0.4, max: 0.6}
      online_ratio: {factor: online_ratio}
      conversion_rate: 0.1
      avg_order_value: 50
  triage:
    kind: automation
    initial_cost: 200000
    maintenance_share: 0.25
    inputs:
      tasks_per_month: 100000
      manual_cost_per_task: 0.5
      automation_rate: 0.8
      accuracy: 0.95
      review_cost_per_error: 2
)";

// The formatted error of loading `text`, or "" when it loads.
std::string error_of(const std::string& text) {
  try {
    Plan::load_text(text, "t.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string with(const std::string& extra) { return std::string(kMinimal) + extra; }

// kMinimal with its first `from` replaced by `to`.
std::string edited(const std::string& from, const std::string& to) {
  std::string y = kMinimal;
  return y.replace(y.find(from), from.size(), to);
}

}  // namespace

TEST(Scenario, SeedPortfolioExpandsTo563) {
  Plan p = Plan::load_file(ROISIM_SOURCE_DIR "/scenarios/seed_portfolio.yaml");
  EXPECT_EQ(p.scenario_count(), 563u);
  EXPECT_EQ(p.scenario_name(0), "base");
  EXPECT_EQ(p.scenario_name(4), "in-production-only");
  EXPECT_EQ(p.scenario_name(5), "macro=base/translation=low/maintenance=lean/funded=recommendations");
  EXPECT_EQ(p.scenario_name(7), "macro=base/translation=low/maintenance=lean/funded=recommendations+fraud");
  EXPECT_EQ(p.scenario_name(562), "macro=boom/translation=high/maintenance=heavy/funded=recommendations+fraud+search+churn+doc_classification");
  EXPECT_EQ(p.find_scenario("macro=boom/translation=high/maintenance=heavy/funded=fraud"), 562u - 30 + 1);
  EXPECT_EQ(p.settings().trials, 10000u);
  EXPECT_EQ(p.settings().seed, 20261122u);
  EXPECT_EQ(p.input_vars().size(), 22u);
  ASSERT_NE(p.copula(), nullptr);
  EXPECT_EQ(p.copula_vars().size(), 6u);
}

TEST(Scenario, DefaultIsOneBaseScenarioWithEverythingFunded) {
  Plan p = Plan::load_text(kMinimal, "t.yaml");
  ASSERT_EQ(p.scenario_count(), 1u);
  auto s = p.scenario(0);
  EXPECT_EQ(s.name, "base");
  EXPECT_EQ(s.funded, (std::vector<int>{0, 1}));
}

TEST(Scenario, OverridesBindToSlots) {
  Plan p = Plan::load_text(with(R"(scenarios:
  - name: low
    projects: [recs]
    scale: {recs.sessions_per_month: 0.5, online_ratio: 2}
    set: {recs.offline_ctr_lift: {dist: uniform, min: 0.1, max: 0.2}}
)"),
                           "t.yaml");
  auto s = p.scenario(0);
  EXPECT_EQ(s.funded, std::vector<int>{0});
  auto b = bind_project(p, 0, s.overrides);
  EXPECT_EQ(b[0].scale, 0.5);  // sessions
  EXPECT_EQ(b[2].def, 1);      // the set distribution
  EXPECT_EQ(b[3].scale, 2.0);  // the factor's scale reaches the slot that reads it
  EXPECT_EQ(p.variables()[b[3].var].name, "online_ratio");
}

TEST(Scenario, SetOnAFactorSlotGivesTheProjectItsOwnVariable) {
  Plan p = Plan::load_text(with(R"(scenarios:
  - name: own
    set: {recs.online_ratio: {dist: uniform, min: 0.1, max: 0.2}}
)"),
                           "t.yaml");
  auto b = bind_project(p, 0, p.scenario(0).overrides);
  EXPECT_EQ(p.variables()[b[3].var].name, "recs.online_ratio");
}

TEST(Scenario, SweepNamesAndOrder) {
  Plan p = Plan::load_text(with(R"(scenarios: []
sweep:
  funded: [[recs], [recs, triage]]
  axes:
    macro: {base: {}, boom: {scale: {recs.sessions_per_month: 1.1}}}
    t: {a: {}, b: {}}
)"),
                           "t.yaml");
  ASSERT_EQ(p.scenario_count(), 8u);
  EXPECT_EQ(p.scenario_name(0), "macro=base/t=a/funded=recs");
  EXPECT_EQ(p.scenario_name(1), "macro=base/t=a/funded=recs+triage");
  EXPECT_EQ(p.scenario_name(2), "macro=base/t=b/funded=recs");
  EXPECT_EQ(p.scenario_name(7), "macro=boom/t=b/funded=recs+triage");
  EXPECT_EQ(bind_project(p, 0, p.scenario(7).overrides)[0].scale, 1.1);
}

// all_subsets: 2^P - 1 scenarios, and a sweep expands to at most 10^12, so 39 projects is the
// most; the message says so (it said "at most 40", and 40 failed), and is the only error even
// where 2^P would not fit in 64 bits.
TEST(ScenarioErrors, AllSubsetsLimitIsTheOneStated) {
  const auto projects = [](int n) {
    std::string y = "roisim: 1\nprojects:\n";
    for (int i = 0; i < n; ++i) y += "  p" + std::to_string(i) + ": {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n";
    return y + "scenarios: []\nsweep:\n  funded: all_subsets\n";
  };
  EXPECT_EQ(Plan::load_text(projects(39), "t.yaml").scenario_count(), (std::uint64_t{1} << 39) - 1);
  const std::string limit = " projects is too many scenarios (at most 39 projects: 2^39 - 1 subsets; a sweep expands to at most 10^12 scenarios)";
  EXPECT_EQ(error_of(projects(40)), "t.yaml:45:11: error: funded: all_subsets over 40" + limit);
  EXPECT_EQ(error_of(projects(70)), "t.yaml:75:11: error: funded: all_subsets over 70" + limit);
}

TEST(Scenario, LargeSweepIsLazy) {
  // 5 projects' subsets x 10 x 10 x 10 x 10 axis values = 310,000 scenarios, expanded on demand.
  std::string y = "roisim: 1\nprojects:\n";
  for (int i = 0; i < 5; ++i)
    y += "  p" + std::to_string(i) + ": {kind: direct, initial_cost: 1, inputs: {annual_value: {dist: uniform, min: 0, max: 2}}}\n";
  y += "scenarios: []\nsweep:\n  funded: all_subsets\n  axes:\n";
  for (int a = 0; a < 4; ++a) {
    y += "    a" + std::to_string(a) + ":\n";
    for (int v = 0; v < 10; ++v) y += "      v" + std::to_string(v) + ": {scale: {p0.annual_value: " + std::to_string(1 + v) + "}}\n";
  }
  Plan p = Plan::load_text(y, "big.yaml");
  EXPECT_EQ(p.scenario_count(), 310000u);
  EXPECT_EQ(p.scenario_name(309999), "a0=v9/a1=v9/a2=v9/a3=v9/funded=p0+p1+p2+p3+p4");
}

// ---- errors: file:line:column, what is wrong, a hint where one helps ---------------------------

TEST(ScenarioErrors, UnknownKeyWithHint) {
  std::string y = kMinimal;
  y.replace(y.find("    maintenance_share: 0.25"), 27, "    maintenance_shar: 0.25");
  EXPECT_EQ(error_of(y), "t.yaml:20:5: error: unknown key 'maintenance_shar' in project 'triage' (did you mean 'maintenance_share'?)");
}

TEST(ScenarioErrors, MissingVersionAndUnsupportedVersion) {
  std::string y = kMinimal;
  EXPECT_EQ(error_of(y.substr(10)), "t.yaml:1:1: error: missing 'roisim: 1' (the schema version) at the top of the file");
  y.replace(0, 9, "roisim: 2");
  EXPECT_EQ(error_of(y), "t.yaml:1:9: error: unsupported schema version 2; this roisim reads version 1");
}

TEST(ScenarioErrors, MissingInputsAreAllListed) {
  std::string y = kMinimal;
  y.replace(y.find("      baseline_ctr: 0.2\n"), 24, "");
  y.replace(y.find("      conversion_rate: 0.1\n"), 27, "");
  EXPECT_EQ(error_of(y), "t.yaml:11:7: error: project 'recs' (revenue) is missing inputs baseline_ctr, conversion_rate");
}

TEST(ScenarioErrors, InvalidDistributionParameters) {
  std::string y = kMinimal;
  y.replace(y.find("{dist: pert, min: 0.3, mode: 0.4, max: 0.6}"), 43, "{dist: pert, min: 0.6, mode: 0.4, max: 0.3}");
  EXPECT_NE(error_of(y).find("t.yaml:13:25: error: recs.offline_ctr_lift: pert:"), std::string::npos) << error_of(y);
  std::string z = kMinimal;
  z.replace(z.find("{dist: uniform, min: 0.2, max: 0.5}"), 35, "{dist: normal, mean: 1, sd: 0}");
  EXPECT_NE(error_of(z).find("t.yaml:5:17: error: factor 'online_ratio': normal: sd must be > 0"), std::string::npos) << error_of(z);
}

TEST(ScenarioErrors, UnknownDistributionAndMissingParameter) {
  std::string y = kMinimal;
  y.replace(y.find("{dist: uniform, min: 0.2, max: 0.5}"), 35, "{dist: unifrom, min: 0.2, max: 0.5}");
  EXPECT_EQ(error_of(y), "t.yaml:5:24: error: unknown distribution 'unifrom' for factor 'online_ratio' (known: bernoulli, beta, discrete, lognormal, normal, pert, triangular, uniform) (did you mean 'uniform'?)");
  std::string z = kMinimal;
  z.replace(z.find("{dist: uniform, min: 0.2, max: 0.5}"), 35, "{dist: triangular, min: 0.2, max: 0.5}");
  EXPECT_EQ(error_of(z), "t.yaml:5:17: error: factor 'online_ratio': a triangular distribution needs mode");
}

TEST(ScenarioErrors, WrongTypesAndNonFiniteNumbers) {
  std::string y = kMinimal;
  y.replace(y.find("5.0e6"), 5, "\"5,000\"");
  EXPECT_EQ(error_of(y), "t.yaml:11:27: error: recs.sessions_per_month must be a number, not the text \"5,000\"");
  std::string z = kMinimal;
  z.replace(z.find("5.0e6"), 5, ".nan");
  EXPECT_EQ(error_of(z), "t.yaml:11:27: error: recs.sessions_per_month must be a finite number, not .nan");
  std::string w = kMinimal;
  w.replace(w.find("5.0e6"), 5, "[1, 2]");
  EXPECT_EQ(error_of(w), "t.yaml:11:27: error: recs.sessions_per_month must be a number, not a list");
}

// A message quotes what the file says with its control characters escaped: a key holding a line
// break had printed a second, forged "FILE:1:1: error:" line, and escape sequences reached the
// terminal (clearing it, setting its title).
TEST(ScenarioErrors, QuotedTextIsEscaped) {
  const std::string y = edited("trials: 100", "trials: 100, \"x\\nF.yaml:1:1: error: forged\": 1");
  EXPECT_EQ(error_of(y), "t.yaml:3:25: error: unknown key 'x\\nF.yaml:1:1: error: forged' in settings");
  const std::string z = edited("kind: revenue", "kind: \"\\e]0;title\\a\\e[2J\\u202e\\u0085\"");
  const std::string said = error_of(z), expected = "t.yaml:8:11: error: unknown kind '\\x1b]0;title\\x07\\x1b[2J\\u202e\\u0085' for";
  EXPECT_EQ(said.substr(0, expected.size()), expected);
  EXPECT_EQ(escape_controls("a\tb\rc\x7f\xc2\x9b\xe2\x81\xa7\xd8\x9c é \xe2\x80\x8f"),
            "a\\tb\\rc\\x7f\\u009b\\u2067\\u061c é \\u200f");
  EXPECT_EQ(escape_controls("plain 'text' – ünïcode ✓"), "plain 'text' – ünïcode ✓");
  // Bytes outside well-formed UTF-8 (a lone 0x9B is a terminal's 8-bit CSI; arguments need not be
  // UTF-8), a sequence cut at the end, and the messages built from a plain string.
  EXPECT_EQ(escape_controls("\x9b" "2J \xff\xc3 \xe2\x80"), "\\x9b2J \\xff\\xc3 \\xe2\\x80");
  EXPECT_EQ(std::string(InputError("scenario 'q\x1b[31m\nerror: x' not found").what()),
            "error: scenario 'q\\x1b[31m\\nerror: x' not found");
}

// Empty names of the file, an axis or an axis value (accepted before: scenarios named "=x/funded=a").
TEST(ScenarioErrors, EmptyAxisNamesValuesAndFileName) {
  EXPECT_EQ(error_of(with("sweep:\n  axes:\n    '': {x: {}}\n")), "t.yaml:29:5: error: an axis name must not be empty");
  EXPECT_EQ(error_of(with("sweep:\n  axes:\n    macro: {'': {}}\n")), "t.yaml:29:13: error: a value of axis 'macro' must not be empty");
  const std::string y = edited("name: t\n", "name: ''\n");
  EXPECT_EQ(error_of(y), "t.yaml:2:7: error: name must not be empty (leave the key out for the file's own name)");
}

// The explicit scenarios are added to the sweep's count, not multiplied by its axes: one explicit
// scenario beside a sweep of 6e11 had been refused as "more than 10^12 scenarios".
TEST(ScenarioErrors, ExplicitScenariosAddToTheSweepCount) {
  std::string axes;
  for (int a = 0; a < 4; ++a) {
    axes += "    ax" + std::to_string(a) + ": {";
    for (int v = 0; v < (a < 3 ? 1000 : 600); ++v) axes += (v ? ", v" : "v") + std::to_string(v) + ": {}";
    axes += "}\n";
  }
  const std::string y = with("scenarios: [{name: one}]\nsweep:\n  axes:\n" + axes);
  EXPECT_EQ(error_of(y), "");
  EXPECT_EQ(Plan::load_text(y, "t.yaml").scenario_count(), 600000000001ULL);
  EXPECT_NE(error_of(with("scenarios: [{name: one}]\nsweep:\n  axes:\n" + axes + "    ax9: {a: {}, b: {}}\n")).find("more than 10^12"),
            std::string::npos);
}

// One reading of numbers for the scenario file and the command line (sim/errors.h). "+-0.3" had
// loaded as -0.3 (the file's reader skipped the '+' and std::from_chars took the '-').
TEST(ScenarioErrors, NumbersAreReadAsTheCommandLineReadsThem) {
  const std::pair<const char*, DecimalRead> cases[] = {
      {"5e6", DecimalRead::ok},          {".5", DecimalRead::ok},           {"+10", DecimalRead::ok},
      {"-3", DecimalRead::ok},           {"5.", DecimalRead::ok},           {"+.25", DecimalRead::ok},
      {"+-3", DecimalRead::not_a_number}, {"-+3", DecimalRead::not_a_number}, {"++3", DecimalRead::not_a_number},
      {"--3", DecimalRead::not_a_number}, {"+", DecimalRead::not_a_number},  {"", DecimalRead::not_a_number},
      {"0x10", DecimalRead::not_a_number}, {" 1", DecimalRead::not_a_number}, {"1 ", DecimalRead::not_a_number},
      {"1e", DecimalRead::not_a_number},  {"1,5", DecimalRead::not_a_number}, {".inf", DecimalRead::not_a_number},
      {"1e400", DecimalRead::out_of_range}, {"-1e400", DecimalRead::out_of_range},
      {"inf", DecimalRead::not_finite},   {"-infinity", DecimalRead::not_finite}, {"+nan", DecimalRead::not_finite},
  };
  for (const auto& [text, expected] : cases) {
    double v = -7;
    EXPECT_EQ(read_decimal(text, v), expected) << "'" << text << "'";
    if (expected != DecimalRead::ok) EXPECT_EQ(v, -7) << "'" << text << "' changed the output";
  }
  double v = 0;
  ASSERT_EQ(read_decimal("+10", v), DecimalRead::ok);
  EXPECT_EQ(v, 10);
  ASSERT_EQ(read_decimal("-2.5e-3", v), DecimalRead::ok);
  EXPECT_EQ(v, -2.5e-3);

  const std::string y = edited("min: 0.3", "min: +-0.3");
  EXPECT_EQ(error_of(y), "t.yaml:13:43: error: recs.offline_ctr_lift.min must be a number, not '+-0.3'");
  const std::string z = edited("5.0e6", "+inf");
  EXPECT_EQ(error_of(z), "t.yaml:11:27: error: recs.sessions_per_month must be a finite number, not +inf");
}

// A whole number is whole as written, not only as the double it rounds to (trials 50.000000000000001
// ran 50 trials; seed 4503599627370497.5 ran seed ...498; 9007199254740993.0 ran 2^53).
TEST(ScenarioErrors, WholeNumbersAreWholeAsWritten) {
  for (const char* whole : {"50", "1e3", "10.0", "2.5e1", "+7", "1.000e2", "0.0", "5000e-3", "12.50e1"})
    EXPECT_TRUE(decimal_is_whole(whole)) << whole;
  for (const char* part : {"50.000000000000001", "4503599627370497.5", "1.5", "1e-1", "5001e-3", "2.51e1"})
    EXPECT_FALSE(decimal_is_whole(part)) << part;
  const std::string y = edited("trials: 100", "trials: 50.000000000000001");
  EXPECT_EQ(error_of(y), "t.yaml:3:20: error: settings.trials must be a whole number (got 50.000000000000001)");
  const std::string z = edited("seed: 1", "seed: 4503599627370497.5");
  EXPECT_EQ(error_of(z), "t.yaml:3:31: error: settings.seed must be a whole number (got 4503599627370497.5)");
  const std::string w = edited("seed: 1", "seed: 9007199254740993.0");
  EXPECT_EQ(error_of(w), "t.yaml:3:31: error: settings.seed is 2^53 or above written as a decimal number; write it as digits "
                         "(got 9007199254740993.0)");
  const std::string v = edited("seed: 1", "seed: 1.2e1");
  EXPECT_EQ(error_of(v), "");
  // horizon_months' own limit, not uint64's (it had said "at most 18446744073709551615" for 1e300)
  const std::string h = edited("seed: 1", "seed: 1, horizon_months: 1e300");
  EXPECT_EQ(error_of(h), "t.yaml:3:50: error: settings.horizon_months must be at most 1200 (got 1e300)");
}

TEST(ScenarioErrors, UnknownFactorProjectAndInputReferences) {
  std::string y = kMinimal;
  y.replace(y.find("{factor: online_ratio}"), 22, "{factor: online_ration}");
  EXPECT_EQ(error_of(y), "t.yaml:14:30: error: unknown factor 'online_ration' in recs.online_ratio (did you mean 'online_ratio'?)");
  EXPECT_EQ(error_of(with("scenarios:\n  - name: x\n    scale: {rec.sessions_per_month: 2}\n")),
            "t.yaml:29:13: error: unknown project 'rec' in scenario 'x'.scale (did you mean 'recs'?)");
  EXPECT_EQ(error_of(with("scenarios:\n  - name: x\n    projects: [recs, tirage]\n")),
            "t.yaml:29:22: error: unknown project 'tirage' in scenario 'x' projects (did you mean 'triage'?)");
  EXPECT_EQ(error_of(with("correlations:\n  - [recs.sessions, online_ratio, 0.5]\n")),
            "t.yaml:28:6: error: project 'recs' has no input 'sessions' (in correlations) (did you mean 'sessions_per_month'?)");
}

TEST(ScenarioErrors, CorrelationProblems) {
  EXPECT_EQ(error_of(with("correlations:\n  - [recs.offline_ctr_lift, online_ratio, 1.5]\n")),
            "t.yaml:28:43: error: correlation 1.5 is outside [-1, 1]");
  EXPECT_EQ(error_of(with("correlations:\n  - [online_ratio, recs.online_ratio, 0.5]\n")),
            "t.yaml:28:5: error: 'online_ratio' is correlated with itself (both names refer to the same input)");
  EXPECT_EQ(error_of(with("correlations:\n  - [online_ratio, recs.offline_ctr_lift, 0.5]\n  - [recs.offline_ctr_lift, online_ratio, 0.4]\n")),
            "t.yaml:29:5: error: contradictory correlations between 'online_ratio' and 'recs.offline_ctr_lift': 0.5 and 0.4");
  EXPECT_EQ(error_of(with("correlations:\n  - [online_ratio, recs.baseline_ctr, 0.5]\n")),
            "t.yaml:28:20: error: 'recs.baseline_ctr' is a constant; only uncertain inputs can be correlated");
}

TEST(ScenarioErrors, NonPsdMatrixNamesInputsAndEigenvalue) {
  const std::string y = R"(roisim: 1
factors:
  a: {dist: uniform, min: 0, max: 1}
  b: {dist: uniform, min: 0, max: 1}
  c: {dist: uniform, min: 0, max: 1}
projects:
  p: {kind: direct, initial_cost: 1, inputs: {annual_value: 1}}
correlations:
  - [a, b, 0.9]
  - [b, c, 0.9]
  - [a, c, -0.9]
)";
  EXPECT_EQ(error_of(y), "t.yaml:9:3: error: correlation matrix is not positive semi-definite (smallest eigenvalue -0.8) among a, b, c "
                         "(settings: {correlation_repair: nearest} replaces it by the nearest valid matrix)");
  std::string z = y;
  z.replace(z.find("roisim: 1\n"), 10, "roisim: 1\nsettings: {correlation_repair: nearest}\n");
  Plan p = Plan::load_text(z, "t.yaml");
  ASSERT_NE(p.copula(), nullptr);
  EXPECT_TRUE(p.copula()->repaired());
}

TEST(ScenarioErrors, CostsAndSettings) {
  std::string y = kMinimal;
  y.replace(y.find("initial_cost: 500000"), 20, "initial_cost: 0");
  EXPECT_EQ(error_of(y), "t.yaml:9:19: error: recs.initial_cost must be > 0 (got 0)");
  std::string z = kMinimal;
  z.replace(z.find("trials: 100"), 11, "trials: 0");
  EXPECT_EQ(error_of(z), "t.yaml:3:20: error: settings.trials must be at least 1 (got 0)");
  std::string w = kMinimal;
  w.replace(w.find("seed: 1}"), 8, "seed: 1, sampler: lsh}");
  EXPECT_EQ(error_of(w), "t.yaml:3:43: error: unknown sampler 'lsh'; use mc, lhs or sobol (did you mean 'lhs'?)");
  std::string v = kMinimal;
  v.replace(v.find("initial_cost: 500000"), 20, "initial_cost: {dist: normal, mean: 5, sd: 1}");
  EXPECT_EQ(error_of(v), "t.yaml:9:19: error: recs.initial_cost must be > 0, but its distribution can take values in [-inf, inf]; give it min/max bounds");
  // Numbers in messages read as the user wrote them: the shortest form that reads back exactly,
  // not %g's -5e+01 for -50.
  for (const auto& [written, shown] : std::vector<std::pair<std::string, std::string>>{
           {"-50", "-50"}, {"-500000", "-500000"}, {"-5.0e5", "-500000"}, {"-0.1", "-0.1"}, {"-123456789012", "-123456789012"},
           {"-1e-12", "-1e-12"}, {"-2.5e300", "-2.5e+300"}, {"-0.30000000000000004", "-0.30000000000000004"}}) {
    std::string u = kMinimal;
    u.replace(u.find("initial_cost: 500000"), 20, "initial_cost: " + written);
    EXPECT_EQ(error_of(u), "t.yaml:9:19: error: recs.initial_cost must be > 0 (got " + shown + ")") << written;
  }
  std::string d = kMinimal;
  d.replace(d.find("seed: 1}"), 8, "seed: 1, discount_rate: -10}");
  EXPECT_EQ(error_of(d), "t.yaml:3:49: error: settings.discount_rate must be greater than -1 (got -10)");
  std::string b = kMinimal;
  b.replace(b.find("initial_cost: 500000"), 20, "initial_cost: {dist: uniform, min: -200, max: 100}");
  EXPECT_EQ(error_of(b), "t.yaml:9:19: error: recs.initial_cost must be > 0, but its distribution can take values in [-200, 100]");
}

// A scenario file that cannot be opened: the reason (errno) in the message.
TEST(ScenarioErrors, UnopenableFileSaysWhy) {
  const auto load_error = [](const std::string& path) {
    try {
      Plan::load_file(path);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string missing = ::testing::TempDir() + "roisim-no-such-scenario.yaml";
  EXPECT_EQ(load_error(missing), missing + ": error: cannot open the scenario file (No such file or directory)");
  const std::string through_a_file = ROISIM_SOURCE_DIR "/README.md/x.yaml";
  EXPECT_EQ(load_error(through_a_file), through_a_file + ": error: cannot open the scenario file (Not a directory)");
}

TEST(ScenarioErrors, ScenarioAndSweepStructure) {
  EXPECT_EQ(error_of(with("scenarios:\n  - name: a\n  - name: a\n")),
            "t.yaml:29:11: error: duplicate scenario name 'a' (first used at line 28)");
  EXPECT_EQ(error_of(with("scenarios:\n  - name: a\n    projects: []\n")),
            "t.yaml:29:15: error: scenario 'a' projects is empty: a scenario funds at least one project");
  EXPECT_EQ(error_of(with("sweep:\n  axes: {}\n")), "t.yaml:28:9: error: sweep.axes is empty; give at least one axis or remove the key");
  EXPECT_EQ(error_of(with("sweep:\n  axes: {m: {}}\n")), "t.yaml:28:13: error: sweep axis 'm' has no values");
}

// Names reach the CSV, the memo's tables and the terminal: a tab or a line break in one would break
// them, so every kind of name refuses control characters (C0, DEL, C1), shown escaped.
TEST(ScenarioErrors, ControlCharactersInNames) {
  const std::string tail = " must not contain control characters (tabs, line breaks and the like)";
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"a\\tb\"\n")), "t.yaml:28:11: error: scenario name 'a\\tb'" + tail);
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"cr\\rhere\"\n")), "t.yaml:28:11: error: scenario name 'cr\\rhere'" + tail);
  EXPECT_EQ(error_of(with("sweep:\n  axes: {\"m\\u0085\": {v: {}}}\n")), "t.yaml:28:10: error: axis name 'm\\u0085'" + tail);
  EXPECT_EQ(error_of(with("sweep:\n  axes: {m: {\"v\\x01\": {}}}\n")), "t.yaml:28:14: error: axis value 'v\\x01'" + tail);
  EXPECT_EQ(error_of("roisim: 1\nname: \"x\\ny\"\nprojects:\n  a: {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n"),
            "t.yaml:2:7: error: the file's name 'x\\ny'" + tail);
  EXPECT_EQ(error_of("roisim: 1\nprojects:\n  \"a\\x7fb\": {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n"),
            "t.yaml:3:3: error: project name 'a\\x7fb'" + tail);
  EXPECT_EQ(error_of("roisim: 1\nfactors:\n  \"f\\u0080\": 1\nprojects:\n  a: {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n"),
            "t.yaml:3:3: error: factor name 'f\\u0080'" + tail);
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \" \"\n")), "t.yaml:28:11: error: scenario name ' ' must not begin or end with a space (or an invisible character)");
  EXPECT_EQ(error_of("roisim: 1\nprojects:\n  \"a \": {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n"),
            "t.yaml:3:3: error: project name 'a ' must not begin or end with a space (or an invisible character)");
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"a\\u00a0\"\n")),
            "t.yaml:28:11: error: scenario name 'a\u00a0' must not begin or end with a space (or an invisible character)");
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"\\u3000b\"\n")),
            "t.yaml:28:11: error: scenario name '\u3000b' must not begin or end with a space (or an invisible character)");
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"a\\u00a0b \\u6771\"\n")), "");  // inside a name they may stand
  // Other characters stay allowed: accents, symbols, a leading '-' or '@', inner spaces.
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"-10% Ölpreis € @risk\"\n")), "");
}

// Line and paragraph separators (U+2028, U+2029) break the memo's tables and the terminal's lines
// as a line break does; bidirectional controls ("Trojan Source") make a name display as another;
// invisible characters make two names print alike. No kind of name may hold one anywhere, and the
// error shows the name with it escaped.
TEST(ScenarioErrors, SeparatorsBidiControlsAndInvisibleCharactersInNames) {
  const std::string sep = " (a line separator: it breaks the line like a line break)";
  const std::string bidi = " (a bidirectional control: the name could display as another)";
  const std::string invisible = " (an invisible character: two names could print alike)";
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"a\\u2028b\"\n")),
            "t.yaml:28:11: error: scenario name 'a\\u2028b' must not contain U+2028" + sep);
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"a\\u2029b\"\n")),
            "t.yaml:28:11: error: scenario name 'a\\u2029b' must not contain U+2029 (a paragraph separator: it breaks the line like a line break)");
  // Raw (unescaped) characters in the file too, in every kind of name.
  EXPECT_EQ(error_of("roisim: 1\nprojects:\n  \"ab\u202ec\": {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n"),
            "t.yaml:3:3: error: project name 'ab\\u202ec' must not contain U+202E" + bidi);
  EXPECT_EQ(error_of("roisim: 1\nfactors:\n  \"f\u2066x\u2069\": 1\nprojects:\n  a: {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n"),
            "t.yaml:3:3: error: factor name 'f\\u2066x\\u2069' must not contain U+2066" + bidi);
  EXPECT_EQ(error_of("roisim: 1\nname: \"x\u200fy\"\nprojects:\n  a: {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n"),
            "t.yaml:2:7: error: the file's name 'x\\u200fy' must not contain U+200F" + bidi);
  EXPECT_EQ(error_of(with("sweep:\n  axes: {\"m\\u202a\": {v: {}}}\n")),
            "t.yaml:28:10: error: axis name 'm\\u202a' must not contain U+202A" + bidi);
  EXPECT_EQ(error_of(with("sweep:\n  axes: {m: {\"v\\u200bw\": {}}}\n")),
            "t.yaml:28:14: error: axis value 'v\\u200bw' must not contain U+200B" + invisible);
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"\\u200bb\"\n")),
            "t.yaml:28:11: error: scenario name '\\u200bb' must not contain U+200B" + invisible);
  for (const char* c : {"\u061c", "\u200e", "\u202b", "\u202c", "\u202d", "\u2060",
                        "\u2061", "\u2062", "\u2063", "\u2064", "\u2067", "\u2068", "\ufeff"}) {
    const std::string e = error_of(with(std::string("scenarios:\n  - name: \"a") + c + "b\"\n"));
    EXPECT_NE(e.find("t.yaml:28:11: error: scenario name 'a\\u"), std::string::npos) << e;
    EXPECT_NE(e.find("b' must not contain U+"), std::string::npos) << e;
  }
  // Their neighbours stay allowed inside a name: a no-break space, an em space, Arabic letters,
  // the hyphen U+2010, the ellipsis U+2026, the narrow no-break space U+202F.
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"a\\u00a0b\\u2003c \\u0627\\u0644\\u2010\\u2026\\u202fd\"\n")), "");
  // The zero-width non-joiner and joiner inside a name: Persian words need the one (mi-khaham),
  // emoji sequences the other (man, ZWJ, laptop); at an end they are blanks.
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645\"\n")), "");
  EXPECT_EQ(error_of(with("scenarios:\n  - name: \"dev \U0001F468\u200d\U0001F4BB\"\n")), "");
  EXPECT_NE(error_of(with("scenarios:\n  - name: \"ab\u200d\"\n")), "");
}

TEST(ScenarioErrors, YamlLevelProblems) {
  EXPECT_EQ(error_of(""), "t.yaml:1:1: error: the file is empty; a scenario file starts with 'roisim: 1'");
  EXPECT_EQ(error_of("roisim: 1\nroisim: 1\n"), "t.yaml:2:1: error: duplicate key 'roisim' (first defined at line 1)");
  EXPECT_EQ(error_of(std::string("roisim: 1\n\0\x01", 13)), "t.yaml:1:1: error: the file is binary, not YAML text (it contains NUL bytes)");
  EXPECT_NE(error_of("roisim: [1, 2\n").find("t.yaml:"), std::string::npos);
  std::string deep(100000, '[');
  EXPECT_NE(error_of(deep).find("nested too deeply"), std::string::npos);
  EXPECT_EQ(error_of("- 1\n- 2\n"), "t.yaml:1:1: error: a scenario file is a mapping of sections (roisim, settings, factors, projects, ...), not a list");
  // A second document is located where it starts; a character yaml-cpp cannot start any node with
  // (it then reports an empty document over and over without reading on) is named, not taken
  // for a second document.
  EXPECT_EQ(error_of("roisim: 1\n---\nroisim: 1\n"), "t.yaml:2:1: error: the file holds more than one YAML document (the second starts here); roisim reads one");
  EXPECT_EQ(error_of(","), "t.yaml:1:1: error: invalid YAML: unexpected ',' (no value can start with it here)");
  EXPECT_EQ(error_of("\n\n  , x\n"), "t.yaml:3:3: error: invalid YAML: unexpected ',' (no value can start with it here)");
  EXPECT_EQ(error_of("{\"roisim\": 1, \"projects\": {}},\n"), "t.yaml:1:30: error: invalid YAML: unexpected ',' (no value can start with it here)");
  EXPECT_EQ(error_of("\xEF\xBB\xBF#xyz\n,\n"), "t.yaml:2:1: error: invalid YAML: unexpected ',' (no value can start with it here)");
  EXPECT_EQ(error_of("\xEF\xBB\xBF,\n"), "t.yaml:1:1: error: invalid YAML: unexpected ',' (no value can start with it here)");
  // A key of more than 1024 bytes before its ':' (quoted or not; yaml-cpp counts bytes) must be an
  // explicit key (the hint had said to quote it, which fails the same way).
  const std::string hint = "illegal map value (a key of more than 1024 bytes must be written as an explicit key: "
                           "'? KEY' on one line, ': VALUE' on the next)";
  EXPECT_EQ(error_of("roisim: 1\n" + std::string(1030, 'k') + ": 1\n"), "t.yaml:2:1031: error: invalid YAML: " + hint);
  EXPECT_EQ(error_of("roisim: 1\n\"" + std::string(1030, 'k') + "\": 1\n"), "t.yaml:2:1033: error: invalid YAML: " + hint);
  std::string e600;
  for (int i = 0; i < 600; ++i) e600 += "\xC3\xA9";  // 600 characters, 1,200 bytes
  EXPECT_EQ(error_of("roisim: 1\n\"" + e600 + "\": 1\n"), "t.yaml:2:603: error: invalid YAML: " + hint);
  const std::string k = std::string(1030, 'k');
  EXPECT_EQ(error_of(with("scenarios: [{name: a, set: {}}]\nsweep:\n  axes:\n    ? " + k + "\n    : {x: {}}\n")).find("invalid YAML"),
            std::string::npos);

  // Columns count characters, as the UTF-8 check does (yaml-cpp's marks count bytes: the number
  // error after "éé" had said column 47 where the UTF-8 error at the same place said 45).
  EXPECT_EQ(error_of("roisim: 1\nprojects: {\xC3\xA9\xC3\xA9: {kind: direct, initial_cost: x, inputs: {annual_value: 5}}}\n"),
            "t.yaml:2:45: error: \xC3\xA9\xC3\xA9.initial_cost must be a number, not 'x'");
  EXPECT_EQ(error_of("roisim: 1\nprojects: {\xC3\xA9\xC3\xA9: {kind: direct, initial_cost: \xFF, inputs: {annual_value: 5}}}\n"),
            "t.yaml:2:45: error: the file is not UTF-8 text (byte 0xFF here); save it as UTF-8");
  EXPECT_EQ(error_of("roisim: 1\n\xC3\xA9: [1, 2\n"), "t.yaml:3:1: error: invalid YAML: end of sequence flow not found");

  // ... also at the end of a long line: 50,000 axis values on one line with an "é" in each. (The
  // count from the line's start for every node was quadratic: this test took 7.0 s instead of
  // 0.26 s, and a helper's file of 300,000 values on one line over a minute instead of 2.4 s.)
  std::string line = "    ax: {";
  for (int v = 0; v < 50000; ++v) line += "\xC3\xA9" + std::to_string(v) + ": {}, ";
  std::size_t chars = 0;
  for (unsigned char c : line) chars += (c & 0xC0) != 0x80;
  line += "z: 7}\n";
  EXPECT_EQ(error_of(with("sweep:\n  axes:\n" + line)),
            "t.yaml:29:" + std::to_string(chars + 4) + ": error: sweep value 'ax=z' must be a mapping, not a scalar");

  // Tags on maps and lists are refused as on scalars (they had been dropped); YAML 1.1's merge key
  // is refused (it had been read as a key named "<<", e.g. a sweep axis).
  EXPECT_EQ(error_of("roisim: 1\nprojects: !!map {a: {kind: direct, initial_cost: 1, inputs: {annual_value: 5}}}\n"),
            "t.yaml:2:11: error: YAML tags are not supported (tag:yaml.org,2002:map)");
  EXPECT_EQ(error_of("roisim: 1\nprojects: {a: {kind: direct, initial_cost: 1, inputs: !!seq {annual_value: 5}}}\n"),
            "t.yaml:2:55: error: YAML tags are not supported (tag:yaml.org,2002:seq)");
  EXPECT_EQ(error_of("roisim: 1\nx: &m {kind: direct}\nprojects: {a: {<<: *m, initial_cost: 1, inputs: {annual_value: 5}}}\n"),
            "t.yaml:3:16: error: merge keys (<<) are not supported: write the keys out (an anchor may still stand for a whole value)");
}

// The reader copies an anchored part to expand its aliases: nested anchors (each level keeping a
// copy of everything below) count those copies against the 2,000,000-node limit, so a small file
// cannot take gigabytes (40 levels over 60,000 numbers: 2.4 million nodes of copies, refused at the
// level where the count passes the limit). Duplicate keys are found by hashing, in a large mapping too.
TEST(ScenarioErrors, AnchoredCopiesCountAndDuplicatesInLargeMappings) {
  std::string y = "roisim: 1\nx:\n";
  for (int d = 0; d < 40; ++d) y += std::string(2 * (d + 1), ' ') + "a" + std::to_string(d) + ": &a" + std::to_string(d) + "\n";
  y += std::string(82, ' ') + "leaf: [";
  for (int i = 0; i < 60000; ++i) y += i ? ",1" : "1";
  y += "]\n";
  const std::string e = error_of(y);
  EXPECT_NE(e.find("error: the document is too large (more than 2,000,000 nodes, counting each anchored or aliased part again)"),
            std::string::npos) << e.substr(0, 300);
  EXPECT_EQ(e.rfind("t.yaml:", 0), 0u) << e.substr(0, 300);  // located
  std::string keys = "roisim: 1\nx:\n";
  for (int i = 0; i < 20000; ++i) keys += "  k" + std::to_string(i) + ": 1\n";
  keys += "  k12345: 2\n";
  EXPECT_EQ(error_of(keys), "t.yaml:20003:3: error: duplicate key 'k12345' (first defined at line 12348)");
}

TEST(ScenarioErrors, SeveralErrorsAreReportedTogether) {
  std::string y = kMinimal;
  y.replace(y.find("initial_cost: 500000"), 20, "initial_cost: -1");
  y.replace(y.find("    maintenance_share: 0.25"), 27, "    maintenance_shar: 0.25");
  const std::string e = error_of(y);
  EXPECT_NE(e.find("t.yaml:9:19: error: recs.initial_cost must be > 0 (got -1)"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:20:5: error: unknown key 'maintenance_shar'"), std::string::npos) << e;
}

// ---- the rest of the catalogue: one test per category, exact messages ---------------------------

namespace {
// kMinimal with the factor's distribution replaced.
std::string factor_dist(const std::string& d) {
  std::string y = kMinimal;
  y.replace(y.find("{dist: uniform, min: 0.2, max: 0.5}"), 35, d);
  return y;
}
}  // namespace

TEST(ScenarioCatalogue, UnknownKeysAtEveryLevel) {
  EXPECT_EQ(error_of(with("projcts: {}\n")), "t.yaml:27:1: error: unknown key 'projcts' in the top level (did you mean 'projects'?)");
  std::string s = kMinimal;
  s.replace(s.find("seed: 1}"), 8, "sed: 1}");
  EXPECT_EQ(error_of(s), "t.yaml:3:25: error: unknown key 'sed' in settings (did you mean 'seed'?)");
  EXPECT_EQ(error_of(factor_dist("{dist: uniform, min: 0.2, max: 0.5, mode: 0.3}")),
            "t.yaml:5:53: error: unknown key 'mode' in factor 'online_ratio' (a uniform distribution takes min, max)");
  EXPECT_EQ(error_of(with("scenarios:\n  - name: a\n    sclae: {}\n")),
            "t.yaml:29:5: error: unknown key 'sclae' in a scenario (did you mean 'scale'?)");
  EXPECT_EQ(error_of(with("sweep:\n  axis: {}\n")), "t.yaml:28:3: error: unknown key 'axis' in sweep (did you mean 'axes'?)");
}

TEST(ScenarioCatalogue, UnknownKind) {
  std::string y = kMinimal;
  y.replace(y.find("kind: automation"), 16, "kind: automaton");
  EXPECT_EQ(error_of(y), "t.yaml:18:11: error: unknown kind 'automaton' for project 'triage' (known: revenue, automation, fraud, retention, direct) (did you mean 'automation'?)");
}

TEST(ScenarioCatalogue, DistributionParameterErrors) {
  EXPECT_EQ(error_of(factor_dist("{dist: lognormal, median: 1, sigma: 0}")),
            "t.yaml:5:17: error: factor 'online_ratio': lognormal: sigma must be > 0 (got 0)");
  EXPECT_EQ(error_of(factor_dist("{dist: bernoulli, p: 1.5}")),
            "t.yaml:5:17: error: factor 'online_ratio': bernoulli: p must be in [0, 1] (got 1.5)");
  EXPECT_EQ(error_of(factor_dist("{dist: discrete, values: [1, 2], probs: [0.5, 0.4]}")),
            "t.yaml:5:17: error: factor 'online_ratio': discrete: probs sum to 0.9, not 1");
  EXPECT_EQ(error_of(factor_dist("{dist: discrete, values: [], probs: []}")),
            "t.yaml:5:42: error: factor 'online_ratio': a discrete distribution needs at least one value");
  EXPECT_EQ(error_of(factor_dist("{dist: discrete, values: [1, 2], probs: [1.5, -0.5]}")),
            "t.yaml:5:17: error: factor 'online_ratio': discrete: probs[1] must be >= 0 (got -0.5)");
  EXPECT_EQ(error_of(factor_dist("{dist: uniform, min: 0.5, max: 0.5}")),
            "t.yaml:5:17: error: factor 'online_ratio': uniform: min 0.5 must be less than max 0.5");
  EXPECT_EQ(error_of(factor_dist("{dist: triangular, min: 0, mode: 2, max: 1}")),
            "t.yaml:5:17: error: factor 'online_ratio': triangular: mode 2 is outside [min, max] = [0, 1]");
  EXPECT_EQ(error_of(factor_dist("{dist: normal, mean: 0}")), "t.yaml:5:17: error: factor 'online_ratio': a normal distribution needs sd");
}

TEST(ScenarioCatalogue, OutOfRangeAndInfiniteNumbers) {
  EXPECT_EQ(error_of(factor_dist("{dist: uniform, min: 0.2, max: 1e400}")),
            "t.yaml:5:48: error: factor 'online_ratio'.max is out of range: 1e400");
  EXPECT_EQ(error_of(factor_dist("{dist: uniform, min: -.inf, max: 1}")),
            "t.yaml:5:38: error: factor 'online_ratio'.min must be a finite number, not -.inf");
}

TEST(ScenarioCatalogue, UnknownReferencesInSweeps) {
  EXPECT_EQ(error_of(with("sweep:\n  funded: [[recs, trige]]\n")),
            "t.yaml:28:19: error: unknown project 'trige' in sweep.funded (did you mean 'triage'?)");
  EXPECT_EQ(error_of(with("sweep:\n  axes: {m: {a: {set: {online_ratoi: 0.3}}}}\n")),
            "t.yaml:28:24: error: unknown factor 'online_ratoi' in sweep value 'm=a'.set (project inputs are named project.input) (did you mean 'online_ratio'?)");
  EXPECT_EQ(error_of(with("sweep:\n  axes: {m: {a: {scale: {recs.sessions: 2}}}}\n")),
            "t.yaml:28:26: error: project 'recs' has no input 'sessions' (in sweep value 'm=a'.scale) (did you mean 'sessions_per_month'?)");
}

TEST(ScenarioCatalogue, HorizonAndNotYaml) {
  std::string y = kMinimal;
  y.replace(y.find("seed: 1}"), 8, "seed: 1, horizon_months: 0}");
  EXPECT_EQ(error_of(y), "t.yaml:3:50: error: settings.horizon_months must be at least 1 (got 0)");
  EXPECT_EQ(error_of("roisim: 1\nprojects: {a: [}\n"), "t.yaml:2:16: error: invalid YAML: illegal flow end");
  EXPECT_EQ(error_of("just some text"), "t.yaml:1:1: error: a scenario file is a mapping of sections (roisim, settings, factors, projects, ...), not a scalar");
}

TEST(ScenarioNames, FindScenarioReadsEveryNameBack) {
  // Explicit scenarios and every sweep scenario of the seed portfolio: the name gives the index.
  Plan p = Plan::load_file(ROISIM_SOURCE_DIR "/scenarios/seed_portfolio.yaml");
  for (std::uint64_t i = 0; i < p.scenario_count(); ++i) {
    const auto found = p.find_scenario(p.scenario_name(i));
    ASSERT_TRUE(found.has_value()) << p.scenario_name(i);
    EXPECT_EQ(*found, i) << p.scenario_name(i);
  }
  EXPECT_FALSE(p.find_scenario("nope").has_value());
  EXPECT_FALSE(p.find_scenario("").has_value());
  // A sweep of 2^26 - 1 subsets is read back without naming them one by one; near misses are not
  // found (a project out of file order, an unknown or repeated one, a missing list).
  std::string text = "roisim: 1\nprojects:\n";
  for (int k = 0; k < 26; ++k) text += "  p" + std::to_string(k) + ": {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n";
  text += "sweep:\n  funded: all_subsets\n  axes: {macro: {base: {}, down: {scale: {p0.annual_value: 0.5}}}}\n";
  Plan big = Plan::load_text(text, "big.yaml");
  ASSERT_EQ(big.scenario_count(), 1 + 2 * ((std::uint64_t{1} << 26) - 1));  // "base", then the sweep
  for (std::uint64_t i : {std::uint64_t{0}, std::uint64_t{12345678}, (std::uint64_t{1} << 26) - 2, big.scenario_count() - 1}) {
    const auto found = big.find_scenario(big.scenario_name(i));
    ASSERT_TRUE(found.has_value()) << big.scenario_name(i);
    EXPECT_EQ(*found, i) << big.scenario_name(i);
  }
  for (const char* miss : {"macro=base/funded=p1+p0", "macro=base/funded=p0+p0", "macro=base/funded=p0+q",
                           "macro=base/funded=", "macro=other/funded=p0", "funded=p0", "macro=base/p0"})
    EXPECT_FALSE(big.find_scenario(miss).has_value()) << miss;
}
