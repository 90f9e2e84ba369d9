#include "tools/report.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

namespace roisim::cli {

std::string percent(double f, int decimals) {
  if (std::isnan(f)) return "n/a";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f%%", decimals, 100.0 * f);
  return buf;
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

namespace {

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
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
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
  for (int q = 0; q < kNumQuantiles; ++q) c.emplace_back(qname("roi", kQuantiles[q]), s.roi_quantile[q]);
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
    for (const auto& [k, v] : columns(r.summary[i])) out << ',' << num(v);
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
    out << ", \"spearman\": {";
    bool f = true;
    for (std::size_t k = 0; k < r.inputs.size(); ++k) {
      const double v = r.spearman[i * r.inputs.size() + k];
      if (std::isnan(v)) continue;
      out << (f ? "" : ", ") << json_str(r.inputs[k]) << ": " << json_num(v);
      f = false;
    }
    out << "}}";
  }
  out << "\n  ]\n}\n";
}

}  // namespace roisim::cli
