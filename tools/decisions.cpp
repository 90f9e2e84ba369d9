#include "tools/decisions.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>

#include "models/value_models.h"
#include "sim/errors.h"
#include "sim/results_file.h"
#include "sim/sampler.h"
#include "sim/scenario.h"
#include "sim/sha256.h"
#include "sim/statistics.h"
#include "tools/report.h"

namespace roisim::cli {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kZ95 = 1.959963984540054;  // Φ⁻¹(0.975)
// The quantiles of a difference that compare reports.
constexpr double kDiffQuantiles[] = {0.05, 0.10, 0.50, 0.90, 0.95};
constexpr const char* kDiffQuantileNames[] = {"p05", "p10", "p50", "p90", "p95"};

// ---- formatting ------------------------------------------------------------------------------

// A difference of two fractions in percentage points: "+3.25 pp".
std::string points(double x, bool sign = true, int decimals = 2) {
  if (std::isnan(x)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, sign ? "%+.*f pp" : "%.*f pp", decimals, 100.0 * x);
  return buf;
}

std::string attr_text(const AttrValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return "'" + *s + "'";
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  return num(std::get<double>(v));
}

void provenance_json(std::ostream& out, const std::map<std::string, AttrValue>& attributes, const char* indent) {
  out << '{';
  bool first = true;
  for (const auto& [k, v] : attributes) {
    if (k == "config") continue;
    out << (first ? "\n" : ",\n") << indent << "  " << json_str(k) << ": ";
    first = false;
    if (auto* s = std::get_if<std::string>(&v)) out << json_str(*s);
    else if (auto* i = std::get_if<std::int64_t>(&v)) out << *i;
    else out << json_num(std::get<double>(v));
  }
  out << '\n' << indent << '}';
}

std::string pad_right(const std::string& s, std::size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }
std::string pad_left(const std::string& s, std::size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }

// ---- compare ---------------------------------------------------------------------------------

// The index of a scenario given by exact name or, failing that, by index.
std::size_t find_scenario(const ResultsSummary& r, const std::string& who, const std::string& file) {
  auto it = std::find(r.scenarios.begin(), r.scenarios.end(), who);
  if (it != r.scenarios.end()) return static_cast<std::size_t>(it - r.scenarios.begin());
  std::uint64_t idx = 0;
  auto [p, ec] = std::from_chars(who.data(), who.data() + who.size(), idx);
  if (!who.empty() && ec == std::errc() && p == who.data() + who.size() && idx < r.scenarios.size())
    return static_cast<std::size_t>(idx);
  if (r.scenarios.empty()) throw InputError("no scenario named '" + who + "' in " + file + ": the file holds no scenarios");
  throw InputError("no scenario named '" + who + "' in " + file + " (and it is not a scenario index 0-" +
                   std::to_string(r.scenarios.size() - 1) + ")");
}

void require_trials(const ResultsSummary& r, const std::string& file) {
  if (!r.has_trials)
    throw InputError(file + " has no per-trial data (it was written with --summary-only); compare pairs the trials "
                     "of two scenarios, so run again without --summary-only");
}

// The attributes two files must share for their trials to be paired by common random numbers.
constexpr const char* kPairingAttributes[] = {"seed", "trials", "sampler", "rng", "horizon_months", "discount_rate"};

void require_pairable(const ResultsSummary& a, const std::string& fa, const ResultsSummary& b, const std::string& fb) {
  for (const char* name : kPairingAttributes) {
    auto ia = a.attributes.find(name), ib = b.attributes.find(name);
    if (ia == a.attributes.end() || ib == b.attributes.end())
      throw InputError("cannot pair " + fa + " with " + fb + ": " + (ia == a.attributes.end() ? fa : fb) +
                       " has no '" + name + "' attribute");
    if (ia->second != ib->second)
      throw InputError("cannot pair " + fa + " with " + fb + ": attribute '" + name + "' differs (" +
                       attr_text(ia->second) + " vs " + attr_text(ib->second) +
                       "); a paired comparison needs two runs with the same seed, trials, sampler, rng, "
                       "horizon_months and discount_rate");
  }
  if (a.trials != b.trials)
    throw InputError("cannot pair " + fa + " with " + fb + ": " + std::to_string(a.trials) + " vs " +
                     std::to_string(b.trials) + " trials");
  // Sobol dimensions follow from the inputs a file declares (sim/sampler.h): two files that
  // declare different inputs give an input different points, and their trials are not paired.
  const auto sampler = a.attributes.find("sampler");
  if (sampler != a.attributes.end() && attr_text(sampler->second) == "'sobol'") {
    for (const auto& [r, f] : {std::pair{&a, &fa}, {&b, &fb}}) {
      const auto scheme = r->attributes.find("sobol_dimensions");
      const std::string* text = scheme == r->attributes.end() ? nullptr : std::get_if<std::string>(&scheme->second);
      if (!text || *text != kSobolDimensionScheme)
        throw InputError("cannot pair " + fa + " with " + fb + ": " + *f + " was written by a roisim that gave inputs "
                         "their Sobol dimensions another way (it has no matching 'sobol_dimensions' attribute), so "
                         "its trials are not paired with this version's; run it again");
    }
    SobolDimensions dims[2];
    const ResultsSummary* r[2] = {&a, &b};
    const std::string* f[2] = {&fa, &fb};
    for (int i = 0; i < 2; ++i) {
      const auto cfg = r[i]->attributes.find("config");
      if (cfg == r[i]->attributes.end() || !std::holds_alternative<std::string>(cfg->second))
        throw InputError("cannot pair " + fa + " with " + fb + ": " + *f[i] +
                         " has no 'config' attribute, which pairing two sobol runs needs");
      dims[i] = sobol_dimensions(Plan::load_text(std::get<std::string>(cfg->second), "<config of " + *f[i] + ">"));
    }
    if (!(dims[0] == dims[1])) {
      std::vector<std::string> all[2];
      for (int i = 0; i < 2; ++i) {
        all[i] = dims[i].declared_uncertain;
        all[i].insert(all[i].end(), dims[i].others.begin(), dims[i].others.end());
      }
      std::size_t d = 0;
      while (d < all[0].size() && d < all[1].size() && all[0][d] == all[1][d]) ++d;
      const auto at = [&](int i) { return d < all[i].size() ? "'" + all[i][d] + "'" : std::string("none"); };
      throw InputError("cannot pair " + fa + " with " + fb + ": with --sampler sobol an input's points depend on the inputs "
                       "its file declares, and these files declare different ones (Sobol dimension " + std::to_string(d) +
                       " is " + at(0) + " in one and " + at(1) + " in the other); compare two scenarios of one file, or "
                       "run both files with --sampler mc or lhs");
    }
  }
}

// Paired statistics of one measure (ROI or NPV) of two scenarios.
struct Paired {
  double mean_a = kNaN, mean_b = kNaN, sd_a = kNaN, sd_b = kNaN;
  double mean = kNaN, sd = kNaN, se = kNaN, ci_lo = kNaN, ci_hi = kNaN;  // of A − B
  double q[5] = {kNaN, kNaN, kNaN, kNaN, kNaN};                         // of A − B, kDiffQuantiles
  double independent_se = kNaN;  // the se of the mean difference with independent samples
  double variance_ratio = kNaN;  // (var A + var B) / var(A − B)
  double correlation = kNaN;     // Pearson correlation of A and B
  std::uint64_t wins = 0, ties = 0, losses = 0;  // A > B, A == B, A < B
  std::uint64_t undefined = 0;  // A - B not a number (a NaN, or inf - inf): neither a win, a tie nor a loss
  double p_beats = kNaN, p_lo = kNaN, p_hi = kNaN;  // (wins + ties/2)/n and its Wilson interval
};

double mean_of(const std::vector<double>& x) {
  long double s = 0;
  for (double v : x) s += v;
  return static_cast<double>(s / static_cast<long double>(x.size()));
}

Paired paired(const std::vector<double>& a, const std::vector<double>& b) {
  Paired p;
  const std::size_t n = a.size();
  if (n == 0) return p;
  std::vector<double> d(n);
  for (std::size_t t = 0; t < n; ++t) {
    d[t] = a[t] - b[t];
    if (std::isnan(d[t])) ++p.undefined;  // (NaN trials had counted as ties)
    else if (a[t] > b[t]) ++p.wins;
    else if (a[t] < b[t]) ++p.losses;
    else ++p.ties;
  }
  p.mean_a = mean_of(a);
  p.mean_b = mean_of(b);
  p.mean = mean_of(d);
  if (n > 1) {
    long double saa = 0, sbb = 0, sab = 0, sdd = 0;
    for (std::size_t t = 0; t < n; ++t) {
      const long double da = a[t] - p.mean_a, db = b[t] - p.mean_b, dd = d[t] - p.mean;
      saa += da * da, sbb += db * db, sab += da * db, sdd += dd * dd;
    }
    const long double m = static_cast<long double>(n - 1);
    const double var_a = static_cast<double>(saa / m), var_b = static_cast<double>(sbb / m);
    const double var_d = static_cast<double>(sdd / m);
    p.sd_a = std::sqrt(var_a);
    p.sd_b = std::sqrt(var_b);
    p.sd = std::sqrt(var_d);
    const double rn = std::sqrt(static_cast<double>(n));
    p.se = p.sd / rn;
    p.ci_lo = p.mean - kZ95 * p.se;
    p.ci_hi = p.mean + kZ95 * p.se;
    p.independent_se = std::sqrt(var_a + var_b) / rn;
    p.variance_ratio = var_d > 0 ? (var_a + var_b) / var_d : (var_a + var_b > 0 ? std::numeric_limits<double>::infinity() : kNaN);
    p.correlation = saa > 0 && sbb > 0 ? static_cast<double>(sab / std::sqrt(saa * sbb)) : kNaN;
  }
  // With a difference that is not a number, its quantiles and P(A beats B) are undefined too (as
  // NumPy's quantile says): std::sort had ordered around the NaNs and given numbers.
  if (p.undefined > 0) return p;
  std::sort(d.begin(), d.end());
  for (int i = 0; i < 5; ++i) p.q[i] = quantile_type7(d.data(), n, kDiffQuantiles[i]);
  // Wilson score interval of a binomial proportion (Wilson 1927), ties counted as half a win.
  const double nn = static_cast<double>(n);
  const double ph = (static_cast<double>(p.wins) + 0.5 * static_cast<double>(p.ties)) / nn;
  const double z2 = kZ95 * kZ95;
  const double denom = 1.0 + z2 / nn;
  const double centre = (ph + z2 / (2 * nn)) / denom;
  const double half = kZ95 * std::sqrt(ph * (1 - ph) / nn + z2 / (4 * nn * nn)) / denom;
  p.p_beats = ph;
  // Exactly 0 (1) when every trial is a loss (a win), as in the results file's Wilson intervals:
  // the formula gives the end only up to rounding (0.9999999999999998).
  p.p_lo = p.wins + p.ties == 0 ? 0.0 : std::max(0.0, centre - half);
  p.p_hi = p.losses + p.ties == 0 ? 1.0 : std::min(1.0, centre + half);
  // Every trial a tie (A and B the same in each): exactly one half, no sampling error to bound.
  // (With some ties the binomial interval is conservative: a tie's half varies less than a coin.)
  if (p.ties == n) p.p_lo = p.p_hi = 0.5;
  return p;
}

void paired_json(std::ostream& out, const Paired& p) {
  out << "{\"mean_a\": " << json_num(p.mean_a) << ", \"mean_b\": " << json_num(p.mean_b) << ", \"sd_a\": " << json_num(p.sd_a)
      << ", \"sd_b\": " << json_num(p.sd_b) << ",\n      \"diff_mean\": " << json_num(p.mean) << ", \"diff_sd\": " << json_num(p.sd)
      << ", \"diff_se\": " << json_num(p.se) << ", \"diff_ci95\": [" << json_num(p.ci_lo) << ", " << json_num(p.ci_hi) << "],\n      ";
  for (int i = 0; i < 5; ++i) out << "\"diff_" << kDiffQuantileNames[i] << "\": " << json_num(p.q[i]) << (i < 4 ? ", " : ",");
  out << "\n      \"independent_se\": " << json_num(p.independent_se) << ", \"variance_ratio\": " << json_num(p.variance_ratio)
      << ", \"correlation\": " << json_num(p.correlation) << ",\n      \"p_a_beats_b\": " << json_num(p.p_beats)
      << ", \"p_a_beats_b_ci95\": [" << json_num(p.p_lo) << ", " << json_num(p.p_hi) << "], \"wins\": " << p.wins
      << ", \"ties\": " << p.ties << ", \"losses\": " << p.losses << ", \"not_a_number\": " << p.undefined << "}";
}

}  // namespace

void compare(const CompareOptions& o, std::ostream& out) {
  if (o.format != "table" && o.format != "json") throw InputError("--format must be table or json, not '" + o.format + "'");
  const bool two_files = !o.file_b.empty() && o.file_b != o.file_a;
  const std::string& fb = two_files ? o.file_b : o.file_a;
  const ResultsSummary ra = read_results_summary(o.file_a);
  const ResultsSummary rb = two_files ? read_results_summary(fb) : ResultsSummary{};
  const ResultsSummary& rbr = two_files ? rb : ra;
  require_trials(ra, o.file_a);
  if (two_files) {
    require_trials(rb, fb);
    require_pairable(ra, o.file_a, rb, fb);
  }
  const std::size_t ia = find_scenario(ra, o.scenario_a, o.file_a), ib = find_scenario(rbr, o.scenario_b, fb);
  const auto roi_a = read_trial_row(o.file_a, "roi", ia), roi_b = read_trial_row(fb, "roi", ib);
  const auto npv_a = read_trial_row(o.file_a, "npv", ia), npv_b = read_trial_row(fb, "npv", ib);
  if (roi_a.size() != roi_b.size() || npv_a.size() != roi_a.size() || npv_b.size() != roi_b.size())
    throw InputError("cannot pair the scenarios: their trial counts differ");
  if (roi_a.empty()) throw InputError(o.file_a + " has no trials to compare");
  const Paired roi = paired(roi_a, roi_b), npv = paired(npv_a, npv_b);
  const std::size_t n = roi_a.size();
  const std::string& name_a = ra.scenarios[ia];
  const std::string& name_b = rbr.scenarios[ib];

  if (o.format == "json") {
    out << "{\n  \"file_a\": " << json_str(o.file_a) << ", \"file_b\": " << json_str(fb) << ",\n  \"scenario_a\": {\"name\": "
        << json_str(name_a) << ", \"index\": " << ia << ", \"funded\": " << json_str(ra.funded[ia])
        << "},\n  \"scenario_b\": {\"name\": " << json_str(name_b) << ", \"index\": " << ib << ", \"funded\": "
        << json_str(rbr.funded[ib]) << "},\n  \"trials\": " << n
        << ",\n  \"ties\": \"a trial with ROI_A == ROI_B (NPV_A == NPV_B) counts as half a win\""
        << ",\n  \"not_a_number\": \"trials where A - B is not a number (NaN, or infinite minus infinite): then P(A beats B) "
           "and the quantiles of A - B are undefined (null)\""
        << ",\n  \"interval\": \"95%: mean difference +- 1.959964 se; P(A beats B) by Wilson's score interval\""
        << ",\n  \"roi\": ";
    paired_json(out, roi);
    out << ",\n  \"npv\": ";
    paired_json(out, npv);
    out << ",\n  \"provenance\": ";
    provenance_json(out, ra.attributes, "  ");
    if (two_files) {
      out << ",\n  \"provenance_b\": ";
      provenance_json(out, rb.attributes, "  ");
    }
    out << "\n}\n";
    return;
  }

  auto seed = ra.attributes.find("seed");
  out << "paired comparison of " << count_of(n, "trial") << " (common random numbers";
  if (seed != ra.attributes.end()) out << ", seed " << attr_text(seed->second);
  out << ")\n";
  out << "  A: " << name_a << "  [" << ra.funded[ia] << "]" << (two_files ? "  in " + o.file_a : "") << '\n';
  out << "  B: " << name_b << "  [" << rbr.funded[ib] << "]" << (two_files ? "  in " + fb : "") << "\n\n";
  const std::size_t w0 = 30, w = 24;
  auto row = [&](const std::string& label, const std::string& r, const std::string& v) {
    out << pad_right(label, w0) << pad_left(r, w) << "  " << pad_left(v, w) << '\n';
  };
  row("", "ROI", "NPV");
  row("mean A", percent(roi.mean_a, 2), money(npv.mean_a));
  row("mean B", percent(roi.mean_b, 2), money(npv.mean_b));
  row("mean A - B", points(roi.mean), money(npv.mean, true));
  auto bracket = [](const std::string& lo, const std::string& hi) {
    std::string s(1, '[');
    s.append(lo).append(", ").append(hi).push_back(']');
    return s;
  };
  row("  95% CI (paired)", bracket(points(roi.ci_lo), points(roi.ci_hi)), bracket(money(npv.ci_lo, true), money(npv.ci_hi, true)));
  row("  standard error (paired)", points(roi.se, false, 3), money(npv.se));
  row("  standard error (independent)", points(roi.independent_se, false, 3), money(npv.independent_se));
  row("sd of A - B", points(roi.sd, false), money(npv.sd));
  for (int i = 0; i < 5; ++i) {
    const std::string label = std::string("P") + (kDiffQuantileNames[i] + 1) + " of A - B";
    row(label, points(roi.q[i]), money(npv.q[i], true));
  }
  row("correlation of A and B", fixed(roi.correlation, 4), fixed(npv.correlation, 4));
  auto times = [](double x) { return std::isfinite(x) ? fixed(x, 1) + "x" : std::string("n/a"); };
  row("variance ratio", times(roi.variance_ratio), times(npv.variance_ratio));
  out << '\n';
  const auto tally = [](const Paired& p) {  // "2 wins, 1 tie, 0 losses"
    return std::to_string(p.wins) + (p.wins == 1 ? " win, " : " wins, ") + std::to_string(p.ties) +
           (p.ties == 1 ? " tie, " : " ties, ") + std::to_string(p.losses) + (p.losses == 1 ? " loss" : " losses");
  };
  auto beats = [&](const char* what, const Paired& p) {
    if (p.undefined > 0) {
      out << "P(A beats B on " << what << ") = n/a  (" << count_of(p.undefined, "trial") << " where A - B is not a number; "
          << tally(p) << " in the others)\n";
      return;
    }
    out << "P(A beats B on " << what << ") = " << percent(p.p_beats) << "  ("
        << (p.ties == n ? std::string("every trial ties") : "95% Wilson interval " + percent(p.p_lo) + " - " + percent(p.p_hi))
        << "; " << tally(p) << "; a tie counts as half)\n";
  };
  beats("ROI", roi);
  beats("NPV", npv);
  out << '\n';
  // The closing line. A difference without spread (the same in every trial, or one trial) has no
  // variance ratio; "identical" only when every trial ties on both measures.
  const auto crn = [&](double ratio, const char* what) {
    out << "Common random numbers: independent sampling would need " << fixed(ratio, 1)
        << "x as many trials for the same precision of the mean " << what << " difference";
  };
  if (std::isfinite(roi.variance_ratio) && std::isfinite(npv.variance_ratio)) {
    crn(roi.variance_ratio, "ROI");
    out << " (" << fixed(npv.variance_ratio, 1) << "x for NPV).\n";
  } else if (n == 1) {
    out << "One trial: the difference has no spread to estimate; run more trials.\n";
  } else if (roi.ties == n && npv.ties == n) {
    out << "A and B are identical trial by trial: every difference is zero.\n";
  } else if (!std::isfinite(roi.sd) || !std::isfinite(npv.sd)) {
    out << "The difference is not a finite number in some trials (NaN or infinite values): its spread is undefined.\n";
  } else {
    std::string same;
    if (roi.sd == 0) same = "ROI (" + points(roi.mean) + ")";
    if (npv.sd == 0) same += (same.empty() ? "NPV (" : " and NPV (") + money(npv.mean, true) + ")";
    out << "A - B is the same in every trial for " << same << ": that difference is exact, without sampling error.\n";
    if (std::isfinite(roi.variance_ratio)) crn(roi.variance_ratio, "ROI"), out << ".\n";
    else if (std::isfinite(npv.variance_ratio)) crn(npv.variance_ratio, "NPV"), out << ".\n";
  }
}

// ---- frontier --------------------------------------------------------------------------------

namespace {

struct SweepName {
  std::vector<std::pair<std::string, std::string>> axes;  // axis, value in name order
  std::string prefix;                                     // the name up to "funded="
};

// Splits a sweep scenario name "a=x/b=y/funded=p+q"; false for other names.
bool parse_sweep_name(const std::string& name, SweepName& out) {
  const auto f = name.rfind("funded=");
  if (f == std::string::npos || (f != 0 && name[f - 1] != '/')) return false;
  out.prefix = name.substr(0, f);
  out.axes.clear();
  std::size_t pos = 0;
  while (pos < f) {
    const auto slash = name.find('/', pos);
    const std::string part = name.substr(pos, slash - pos);
    const auto eq = part.find('=');
    if (eq == std::string::npos) return false;
    out.axes.emplace_back(part.substr(0, eq), part.substr(eq + 1));
    pos = slash + 1;
  }
  return true;
}

struct Candidate {
  std::size_t index;  // scenario index in the file
  double cost, value, risk;
};

// The candidates no other candidate dominates: sorted by value descending (risk descending among
// equal values), a candidate survives iff its risk is the highest of its value group and
// strictly above every risk seen at a strictly higher value. Equal (value, risk) pairs all survive.
std::vector<Candidate> pareto(std::vector<Candidate> c) {
  std::sort(c.begin(), c.end(), [](const Candidate& x, const Candidate& y) {
    if (x.value != y.value) return x.value > y.value;
    if (x.risk != y.risk) return x.risk > y.risk;
    return x.index < y.index;
  });
  std::vector<Candidate> out;
  double best = -std::numeric_limits<double>::infinity();
  bool any = false;
  for (std::size_t i = 0; i < c.size();) {
    std::size_t j = i;
    while (j < c.size() && c[j].value == c[i].value) ++j;
    const double top = c[i].risk;  // the group's highest risk measure
    if (!any || top > best)
      for (std::size_t k = i; k < j && c[k].risk == top; ++k) out.push_back(c[k]);
    if (!any || top > best) best = top;
    any = true;
    i = j;
  }
  return out;
}

std::string list_values(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

void frontier(const FrontierOptions& o, std::ostream& out) {
  if (o.format != "table" && o.format != "json") throw InputError("--format must be table or json, not '" + o.format + "'");
  if (o.value != "npv_mean" && o.value != "roi_p50")
    throw InputError("--value must be npv_mean or roi_p50, not '" + o.value + "'");
  if (o.risk != "roi_p10" && o.risk != "cvar10") throw InputError("--risk must be roi_p10 or cvar10, not '" + o.risk + "'");
  if (!(o.budget >= 0) || std::isinf(o.budget)) throw InputError("--budget must be a non-negative amount, not " + num(o.budget));

  const ResultsSummary r = read_results_summary(o.file);
  const std::size_t S = r.scenarios.size();

  // The sweep: its axes (in name order) with their values (in order of appearance), and each
  // sweep scenario's group (its combination of axis values).
  std::vector<std::string> axis_names;
  std::vector<std::vector<std::string>> axis_values;
  std::vector<std::vector<int>> value_of;  // [scenario] -> value index per axis (empty: not a sweep scenario)
  value_of.resize(S);
  SweepName sn;
  bool any_sweep = false;
  for (std::size_t i = 0; i < S; ++i) {
    if (!parse_sweep_name(r.scenarios[i], sn)) continue;
    if (!any_sweep) {
      for (const auto& [a, v] : sn.axes) axis_names.push_back(a);
      axis_values.resize(axis_names.size());
      any_sweep = true;
    }
    if (sn.axes.size() != axis_names.size()) continue;
    std::vector<int> vals(sn.axes.size());
    bool ok = true;
    for (std::size_t a = 0; a < sn.axes.size() && ok; ++a) {
      if (sn.axes[a].first != axis_names[a]) {
        ok = false;
        break;
      }
      auto& known = axis_values[a];
      auto it = std::find(known.begin(), known.end(), sn.axes[a].second);
      if (it == known.end()) {
        known.push_back(sn.axes[a].second);
        it = known.end() - 1;
      }
      vals[a] = static_cast<int>(it - known.begin());
    }
    if (ok) value_of[i] = std::move(vals);
  }
  if (!any_sweep)
    throw InputError(o.file + " has no sweep scenarios (named axis=value/.../funded=a+b); the frontier is taken over "
                     "a sweep's funded subsets (sweep: {funded: all_subsets, ...} in the scenario file)");

  // Filters: the allowed values of each axis (empty: all).
  std::vector<std::vector<int>> allowed(axis_names.size());
  auto known_axes = [&] {
    std::string s;
    for (std::size_t a = 0; a < axis_names.size(); ++a)
      s += (a ? "; " : "") + axis_names[a] + " (" + list_values(axis_values[a]) + ")";
    return s.empty() ? std::string("none (the sweep has no axes)") : s;
  };
  for (const auto& f : o.axes) {
    const auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError("--axis takes AXIS=VALUE (e.g. macro=base), not '" + f + "'; the sweep's axes are: " + known_axes());
    const std::string axis = f.substr(0, eq), value = f.substr(eq + 1);
    auto ai = std::find(axis_names.begin(), axis_names.end(), axis);
    if (ai == axis_names.end())
      throw InputError("--axis " + f + ": unknown axis '" + axis + "'" +
                       (axis == "funded" ? " (the funded subset is what the frontier chooses)" : "") +
                       "; the sweep's axes are: " + known_axes());
    const std::size_t a = static_cast<std::size_t>(ai - axis_names.begin());
    auto vi = std::find(axis_values[a].begin(), axis_values[a].end(), value);
    if (vi == axis_values[a].end())
      throw InputError("--axis " + f + ": unknown value '" + value + "' of axis '" + axis + "'; its values are: " +
                       list_values(axis_values[a]));
    const int v = static_cast<int>(vi - axis_values[a].begin());
    if (std::find(allowed[a].begin(), allowed[a].end(), v) == allowed[a].end()) allowed[a].push_back(v);
  }

  // The scenario file, for the expected initial costs.
  auto cfg = r.attributes.find("config");
  if (cfg == r.attributes.end() || !std::holds_alternative<std::string>(cfg->second))
    throw InputError(o.file + " has no 'config' attribute (the scenario file), which the frontier needs for the costs");
  // The costs come from the stored scenario file: one changed after the run (its hash no longer
  // the one the run recorded) would give other costs than the run's, silently.
  if (const auto sha = r.attributes.find("config_sha256");
      sha != r.attributes.end() && std::holds_alternative<std::string>(sha->second) &&
      std::get<std::string>(sha->second) != sha256_hex(std::get<std::string>(cfg->second)))
    throw InputError("the scenario file stored in " + o.file + " ('config') does not match its config_sha256: it was changed "
                     "after the run, and the frontier would read costs the run did not use");
  const Plan plan = Plan::load_text(std::get<std::string>(cfg->second), "<config of " + o.file + ">");
  if (plan.scenario_count() != S)
    throw InputError("the scenario file stored in " + o.file + " expands to " + std::to_string(plan.scenario_count()) +
                     " scenarios but the file holds " + std::to_string(S));
  std::unordered_map<std::string, int> project_index;
  for (std::size_t p = 0; p < plan.projects().size(); ++p) project_index.emplace(plan.projects()[p].name, static_cast<int>(p));

  // Groups, in order of first appearance.
  struct Group {
    std::vector<int> values;
    std::vector<double> project_cost;  // expected initial cost of each project under this combination
    std::vector<Candidate> candidates;
    std::size_t total = 0, excluded_nan = 0;
  };
  std::vector<Group> groups;
  std::map<std::vector<int>, std::size_t> group_of;
  const bool by_roi_p50 = o.value == "roi_p50", by_cvar = o.risk == "cvar10";
  for (std::size_t i = 0; i < S; ++i) {
    const auto& vals = value_of[i];
    if (vals.empty() && !axis_names.empty()) continue;
    if (vals.size() != axis_names.size()) continue;
    if (!parse_sweep_name(r.scenarios[i], sn)) continue;  // (no axes: only sweep names count)
    bool keep = true;
    for (std::size_t a = 0; a < vals.size() && keep; ++a)
      keep = allowed[a].empty() || std::find(allowed[a].begin(), allowed[a].end(), vals[a]) != allowed[a].end();
    if (!keep) continue;
    auto [it, fresh] = group_of.emplace(vals, groups.size());
    if (fresh) {
      Group g;
      g.values = vals;
      if (plan.scenario_name(i) != r.scenarios[i])
        throw InputError("the scenario file stored in " + o.file + " does not match the file's scenarios (scenario " +
                         std::to_string(i) + " is '" + r.scenarios[i] + "' in the file but '" + plan.scenario_name(i) +
                         "' in the config)");
      const ScenarioSpec spec = plan.scenario(i);
      for (std::size_t p = 0; p < plan.projects().size(); ++p) {
        const Project& pr = plan.projects()[p];
        const SlotBinding b = bind_project(plan, static_cast<int>(p), spec.overrides)[pr.cost_slot(kInitialCost)];
        g.project_cost.push_back(plan.variables()[b.var].defs[b.def].dist.mean() * b.scale);
      }
      groups.push_back(std::move(g));
    }
    Group& g = groups[it->second];
    ++g.total;
    double cost = 0;
    const std::string& funded = r.funded[i];
    for (std::size_t pos = 0; pos <= funded.size();) {
      auto plus = funded.find('+', pos);
      if (plus == std::string::npos) plus = funded.size();
      const std::string name = funded.substr(pos, plus - pos);
      if (!name.empty()) {
        auto pi = project_index.find(name);
        if (pi == project_index.end())
          throw InputError("scenario '" + r.scenarios[i] + "' funds '" + name + "', which the stored scenario file lacks");
        cost += g.project_cost[static_cast<std::size_t>(pi->second)];
      }
      pos = plus + 1;
    }
    const ScenarioSummary& s = r.summary[i];
    const double value = by_roi_p50 ? s.roi_quantile[3] : s.npv_mean;
    const double risk = by_cvar ? s.cvar10 : s.roi_quantile[1];
    if (std::isnan(value) || std::isnan(risk)) {
      ++g.excluded_nan;
      continue;
    }
    g.candidates.push_back({i, cost, value, risk});
  }

  // Within budget (to within rounding of the summed means), frontier, sorted by cost.
  const double limit = o.budget * (1 + 1e-12);
  struct Result {
    std::size_t within = 0;
    double cheapest = std::numeric_limits<double>::infinity();
    std::vector<Candidate> points;
  };
  std::vector<Result> results(groups.size());
  for (std::size_t k = 0; k < groups.size(); ++k) {
    std::vector<Candidate> fit;
    for (const auto& c : groups[k].candidates) {
      results[k].cheapest = std::min(results[k].cheapest, c.cost);
      if (c.cost <= limit) fit.push_back(c);
    }
    results[k].within = fit.size();
    results[k].points = pareto(std::move(fit));
    std::sort(results[k].points.begin(), results[k].points.end(), [](const Candidate& x, const Candidate& y) {
      if (x.cost != y.cost) return x.cost < y.cost;
      if (x.value != y.value) return x.value > y.value;
      return x.index < y.index;
    });
  }

  const char* value_label = by_roi_p50 ? "P50 ROI" : "mean NPV";
  const char* risk_label = by_cvar ? "CVaR10 ROI" : "P10 ROI";
  auto combo = [&](const Group& g, const char* sep) {
    std::string s;
    for (std::size_t a = 0; a < axis_names.size(); ++a)
      s += (a ? sep : "") + axis_names[a] + "=" + axis_values[a][static_cast<std::size_t>(g.values[a])];
    return s;
  };

  if (o.format == "json") {
    out << "{\n  \"file\": " << json_str(o.file) << ", \"budget\": " << json_num(o.budget) << ", \"value\": " << json_str(o.value)
        << ", \"risk\": " << json_str(o.risk)
        << ",\n  \"cost\": \"sum of the expected initial_cost of the funded projects\",\n  \"frontiers\": [";
    for (std::size_t k = 0; k < groups.size(); ++k) {
      const Group& g = groups[k];
      out << (k ? ",\n" : "\n") << "    {\"axes\": {";
      for (std::size_t a = 0; a < axis_names.size(); ++a)
        out << (a ? ", " : "") << json_str(axis_names[a]) << ": " << json_str(axis_values[a][static_cast<std::size_t>(g.values[a])]);
      out << "}, \"candidates\": " << g.total << ", \"excluded_nan\": " << g.excluded_nan
          << ", \"within_budget\": " << results[k].within << ", \"on_frontier\": " << results[k].points.size()
          << ", \"cheapest_cost\": " << json_num(results[k].cheapest) << ", \"points\": [";
      for (std::size_t j = 0; j < results[k].points.size(); ++j) {
        const Candidate& c = results[k].points[j];
        const ScenarioSummary& s = r.summary[c.index];
        out << (j ? ",\n" : "\n") << "      {\"scenario\": " << json_str(r.scenarios[c.index]) << ", \"funded\": "
            << json_str(r.funded[c.index]) << ", \"cost\": " << json_num(c.cost) << ", \"value\": " << json_num(c.value)
            << ", \"risk\": " << json_num(c.risk) << ", \"npv_mean\": " << json_num(s.npv_mean) << ", \"roi_mean\": "
            << json_num(s.roi_mean) << ", \"roi_p10\": " << json_num(s.roi_quantile[1]) << ", \"roi_p50\": "
            << json_num(s.roi_quantile[3]) << ", \"cvar10\": " << json_num(s.cvar10) << ", \"prob_loss\": "
            << json_num(s.prob_loss) << "}";
      }
      out << (results[k].points.empty() ? "]}" : "\n    ]}");
    }
    out << (groups.empty() ? "],\n" : "\n  ],\n") << "  \"provenance\": ";
    provenance_json(out, r.attributes, "  ");
    out << "\n}\n";
    return;
  }

  out << o.file << ": efficient funded subsets within a budget of " << money(o.budget) << " (" << value_label << " vs "
      << risk_label << ", higher is better on both; cost = expected initial cost)\n";
  if (groups.empty()) out << "\nno sweep scenario matches the --axis filters\n";
  for (std::size_t k = 0; k < groups.size(); ++k) {
    const Group& g = groups[k];
    const Result& res = results[k];
    out << '\n' << (axis_names.empty() ? std::string("sweep") : combo(g, ", ")) << ": " << g.total << " funded subset"
        << (g.total == 1 ? "" : "s") << ", " << res.within << " within budget, " << res.points.size() << " on the frontier";
    if (g.excluded_nan) out << " (" << g.excluded_nan << " left out: NaN " << value_label << " or " << risk_label << ")";
    out << '\n';
    if (res.points.empty()) {
      if (std::isfinite(res.cheapest)) out << "  none fits the budget (the cheapest costs " << money(res.cheapest) << ")\n";
      continue;
    }
    std::vector<std::string> funded;
    for (const auto& c : res.points) funded.push_back(r.funded[c.index]);
    funded = fit_names(funded, 70);
    std::vector<std::vector<std::string>> cells = {{"funded", "cost", value_label, risk_label, "P(loss)"}};
    for (std::size_t j = 0; j < res.points.size(); ++j) {
      const auto& c = res.points[j];
      cells.push_back({funded[j], money(c.cost), by_roi_p50 ? percent(c.value) : money(c.value), percent(c.risk),
                       percent(r.summary[c.index].prob_loss)});
    }
    print_cells(out, cells, "  ");
  }
}

}  // namespace roisim::cli
