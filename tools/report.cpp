#include "tools/report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>
#include <string_view>

namespace roisim::cli {

std::string percent(double f, int decimals) {
  if (std::isnan(f)) return "n/a";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f%%", decimals, 100.0 * f);
  return buf;
}

std::string money(double x, bool sign) {
  if (std::isnan(x)) return "n/a";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  const double r = std::round(x);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", std::fabs(r));
  std::string digits = buf, grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  if (r < 0) return "-" + grouped;
  return (sign && r > 0 ? "+" : "") + grouped;
}

std::string month(double m) {
  if (std::isinf(m)) return "never";
  if (std::isnan(m)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", m);
  return buf;
}

void print_table(std::ostream& out, const std::vector<std::string>& names, const std::vector<ScenarioSummary>& rows) {
  std::size_t w = 8;
  for (const auto& n : names) w = std::max(w, n.size());
  w = std::min<std::size_t>(w, 60);
  auto cell = [](const std::string& s, int width) {
    std::ostringstream o;
    o << std::setw(width) << s;
    return o.str();
  };
  out << std::left << std::setw(static_cast<int>(w)) << "scenario" << std::right << cell("P10 ROI", 10) << cell("P50 ROI", 10)
      << cell("P90 ROI", 10) << cell("mean ROI", 10) << cell("P(loss)", 9) << cell("payback P50", 13) << '\n';
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& s = rows[i];
    std::string n = names[i].size() > w ? names[i].substr(0, w - 3) + "..." : names[i];
    out << std::left << std::setw(static_cast<int>(w)) << n << std::right << cell(percent(s.roi_quantile[1]), 10)
        << cell(percent(s.roi_quantile[3]), 10) << cell(percent(s.roi_quantile[5]), 10) << cell(percent(s.roi_mean), 10)
        << cell(percent(s.prob_loss), 9) << cell(month(s.payback_p50), 13) << '\n';
  }
}

std::string num(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general);  // shortest text that reads back exactly
  return std::string(buf, r.ptr);
}
std::string json_num(double x) {
  if (!std::isfinite(x)) return "null";
  return num(x);
}
// A text cell: quoted when it holds a separator, a quote or a line break (RFC 4180). A name that
// begins with '=', '+', '-' or '@' (a scenario "-10% demand", a project "@risk") would be read by
// Excel as a formula, and run as one (OWASP "CSV injection"): it gets a leading apostrophe, which
// makes it text.
std::string csv_field(const std::string& s) {
  const bool formula = !s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos;
  const std::string t = formula ? "'" + s : s;
  if (t.find_first_of(",\"\n\r") == std::string::npos) return t;
  std::string o = "\"";
  for (char c : t) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}
std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o + "\"";
}

namespace {

std::string qname(const char* prefix, double q) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s_p%02d", prefix, static_cast<int>(std::lround(q * 100)));
  return buf;
}

// The per-scenario columns, in order: name and value.
std::vector<std::pair<std::string, double>> columns(const ScenarioSummary& s) {
  std::vector<std::pair<std::string, double>> c = {
      {"roi_mean", s.roi_mean}, {"roi_sd", s.roi_sd}, {"roi_se", s.roi_se}, {"prob_loss", s.prob_loss},
      {"cvar10", s.cvar10},     {"npv_mean", s.npv_mean}, {"payback_p50", s.payback_p50}, {"prob_payback", s.prob_payback}};
  c.insert(c.end(), {{"npv_se", s.npv_se}, {"prob_loss_lo", s.prob_loss_lo}, {"prob_loss_hi", s.prob_loss_hi},
                     {"prob_payback_lo", s.prob_payback_lo}, {"prob_payback_hi", s.prob_payback_hi}});
  for (int q = 0; q < kNumQuantiles; ++q) c.emplace_back(qname("roi", kQuantiles[q]), s.roi_quantile[q]);
  for (int q = 0; q < kNumQuantiles; ++q) {
    c.emplace_back(qname("roi", kQuantiles[q]) + "_lo", s.roi_quantile_lo[q]);
    c.emplace_back(qname("roi", kQuantiles[q]) + "_hi", s.roi_quantile_hi[q]);
  }
  for (int q = 0; q < kNumQuantiles; ++q) c.emplace_back(qname("npv", kQuantiles[q]), s.npv_quantile[q]);
  return c;
}

}  // namespace

void print_csv(std::ostream& out, const ResultsSummary& r, const std::vector<std::size_t>& rows) {
  out << "scenario,funded";
  for (const auto& [k, v] : columns(ScenarioSummary{})) out << ',' << k;
  out << '\n';
  for (std::size_t i : rows) {
    out << csv_field(r.scenarios[i]) << ',' << csv_field(r.funded[i]);
    // An undefined value (NaN: roi_sd of one trial, say) is an empty field, which Excel shows as a
    // blank cell and pandas reads as NaN; "inf" (never pays back) stays, pandas reads it as inf.
    for (const auto& [k, v] : columns(r.summary[i])) {
      out << ',';
      if (!std::isnan(v)) out << num(v);
    }
    out << '\n';
  }
}

void print_json(std::ostream& out, const ResultsSummary& r, const std::vector<std::size_t>& rows) {
  out << "{\n  \"provenance\": {";
  bool first = true;
  for (const auto& [k, v] : r.attributes) {
    if (k == "config") continue;
    out << (first ? "\n" : ",\n") << "    " << json_str(k) << ": ";
    first = false;
    if (auto* s = std::get_if<std::string>(&v)) out << json_str(*s);
    else if (auto* i = std::get_if<std::int64_t>(&v)) out << *i;
    else out << json_num(std::get<double>(v));
  }
  out << "\n  },\n  \"scenarios\": [";
  for (std::size_t n = 0; n < rows.size(); ++n) {
    const std::size_t i = rows[n];
    out << (n ? ",\n" : "\n") << "    {\"scenario\": " << json_str(r.scenarios[i]) << ", \"funded\": " << json_str(r.funded[i]);
    for (const auto& [k, v] : columns(r.summary[i])) out << ", " << json_str(k) << ": " << json_num(v);
    // What drives the risk: one object per input present in the scenario.
    out << ", \"drivers\": {";
    bool f = true;
    const std::size_t K = r.inputs.size();
    auto at = [&](const std::vector<double>& v, std::size_t k) { return v.empty() ? NAN : v[i * K + k]; };
    for (std::size_t k = 0; k < K; ++k) {
      if (std::isnan(at(r.drivers.spearman, k))) continue;
      out << (f ? "" : ", ") << json_str(r.inputs[k]) << ": {\"spearman\": " << json_num(at(r.drivers.spearman, k))
          << ", \"variance_contribution\": " << json_num(at(r.drivers.variance_contribution, k))
          << ", \"tornado_low\": " << json_num(at(r.drivers.tornado_low, k))
          << ", \"tornado_high\": " << json_num(at(r.drivers.tornado_high, k))
          << ", \"downside_shift\": " << json_num(at(r.drivers.downside_shift, k)) << "}";
      f = false;
    }
    out << "}}";
  }
  out << "\n  ]\n}\n";
}

void print_intervals(std::ostream& out, const ResultsSummary& r, const std::vector<std::size_t>& rows) {
  auto ci = [](double v, double lo, double hi) {
    return percent(v) + " [" + percent(lo) + ", " + percent(hi) + "]";
  };
  std::size_t w = 8;
  for (auto i : rows) w = std::max(w, r.scenarios[i].size());
  w = std::min<std::size_t>(w, 50);
  out << "95% intervals (quantiles: distribution-free, from order statistics; P(loss): Wilson; mean: +/- 1.96 SE)\n";
  out << std::left << std::setw(static_cast<int>(w)) << "scenario" << std::right << std::setw(26) << "P10 ROI" << std::setw(26)
      << "P50 ROI" << std::setw(26) << "P90 ROI" << std::setw(22) << "mean ROI" << std::setw(24) << "P(loss)" << '\n';
  for (auto i : rows) {
    const auto& s = r.summary[i];
    std::string n = r.scenarios[i].size() > w ? r.scenarios[i].substr(0, w - 3) + "..." : r.scenarios[i];
    out << std::left << std::setw(static_cast<int>(w)) << n << std::right << std::setw(26)
        << ci(s.roi_quantile[1], s.roi_quantile_lo[1], s.roi_quantile_hi[1]) << std::setw(26)
        << ci(s.roi_quantile[3], s.roi_quantile_lo[3], s.roi_quantile_hi[3]) << std::setw(26)
        << ci(s.roi_quantile[5], s.roi_quantile_lo[5], s.roi_quantile_hi[5]) << std::setw(22)
        << (percent(s.roi_mean) + " +/- " + percent(1.959963984540054 * s.roi_se)) << std::setw(24)
        << ci(s.prob_loss, s.prob_loss_lo, s.prob_loss_hi) << '\n';
  }
}

void print_drivers(std::ostream& out, const ResultsSummary& r, std::size_t i, std::size_t top) {
  const std::size_t K = r.inputs.size();
  if (r.drivers.variance_contribution.empty() || K == 0) return;
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < K; ++k)
    if (!std::isnan(r.drivers.variance_contribution[i * K + k])) order.push_back(k);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return r.drivers.variance_contribution[i * K + a] > r.drivers.variance_contribution[i * K + b];
  });
  if (order.size() > top) order.resize(top);
  std::size_t w = 12;
  for (auto k : order) w = std::max(w, r.inputs[k].size());
  out << "drivers of " << r.scenarios[i] << " (by contribution to variance)\n";
  out << std::left << std::setw(static_cast<int>(w)) << "input" << std::right << std::setw(10) << "spearman" << std::setw(14)
      << "contribution" << std::setw(22) << "P50 ROI at input P10" << std::setw(22) << "P50 ROI at input P90" << std::setw(16)
      << "worst-10% pct" << '\n';
  for (auto k : order) {
    const std::size_t j = i * K + k;
    char rho[32];
    std::snprintf(rho, sizeof rho, "%+.3f", r.drivers.spearman[j]);
    out << std::left << std::setw(static_cast<int>(w)) << r.inputs[k] << std::right << std::setw(10) << rho << std::setw(14)
        << percent(r.drivers.variance_contribution[j]) << std::setw(22) << percent(r.drivers.tornado_low[j]) << std::setw(22)
        << percent(r.drivers.tornado_high[j]) << std::setw(16) << percent(0.5 + r.drivers.downside_shift[j], 0) << '\n';
  }
}

}  // namespace roisim::cli
