#pragma once
// Decision statistics over a results file: `roisim compare` (paired comparison of two scenarios
// under common random numbers) and `roisim frontier` (efficient funded subsets within a budget).
//
// compare: ROI_A − ROI_B and NPV_A − NPV_B trial by trial. The pairing is valid because every
//   scenario sees the same uniforms for an input in a trial (README "Randomness contract"); two
//   files are paired only when their seed, trials, sampler, rng, horizon_months and
//   discount_rate attributes are equal. P(A beats B) counts a tie (ROI_A == ROI_B, e.g. both
//   portfolios fail) as half a win; its 95% interval is Wilson's score interval. The variance
//   ratio (var A + var B) / var(A − B) is how many times as many trials independent sampling
//   would need for the same precision of the mean difference.
//
// frontier: the candidates are the sweep scenarios (named axis=value/.../funded=a+b); --axis
//   filters fix axis values (a repeated axis keeps each value given). Every remaining
//   combination of axis values gets its own frontier, printed one after another (JSON: the
//   "frontiers" array), because a frontier across different macro/translation assumptions
//   would compare worlds, not decisions. A candidate's cost is the expected initial_cost of
//   its funded projects under that combination's overrides (the mean of a distribution, times
//   any scale), from the scenario file stored in the results file's "config" attribute.
//   Among candidates with cost <= budget, a portfolio is on the frontier when no other is at
//   least as good on both the value measure (npv_mean or roi_p50) and the risk measure
//   (roi_p10 or cvar10; higher = less downside) and strictly better on one. Candidates whose
//   value or risk is NaN are left out (and counted). Exact, O(n log n) per combination.
#include <ostream>
#include <string>
#include <vector>

namespace roisim::cli {

struct CompareOptions {
  std::string file_a, file_b;  // file_b empty: both scenarios come from file_a
  std::string scenario_a, scenario_b;  // exact scenario names, or indices when no such name
  std::string format = "table";        // table | json
};

// Prints the paired comparison of scenario_a against scenario_b. Throws InputError for unknown
// scenarios, files without per-trial data (--summary-only) or files that cannot be paired.
void compare(const CompareOptions& options, std::ostream& out);

struct FrontierOptions {
  std::string file;
  double budget = 0;               // total expected initial cost allowed, >= 0
  std::vector<std::string> axes;   // "axis=value" filters
  std::string value = "npv_mean";  // npv_mean | roi_p50
  std::string risk = "roi_p10";    // roi_p10 | cvar10
  std::string format = "table";    // table | json
};

// Prints the efficient frontier of every combination of the remaining axis values. Throws
// InputError for a bad filter (listing the known axes and values), a file without a sweep or
// bad measure names.
void frontier(const FrontierOptions& options, std::ostream& out);

}  // namespace roisim::cli
