#include "tools/report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cwchar>
#include <map>
#include <string_view>

#include <locale.h>

namespace roisim::cli {

std::string percent(double f, int decimals) {
  if (std::isnan(f)) return "n/a";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[64];
  // From 10^15 % on, in scientific notation: %f of 3e67 needs 68 digits, and the buffer cut it to
  // a wrong number without its '%'.
  if (std::abs(100.0 * f) >= 1e15)
    std::snprintf(buf, sizeof buf, "%.*e%%", std::max(decimals, 2), 100.0 * f);
  else
    std::snprintf(buf, sizeof buf, "%.*f%%", decimals, 100.0 * f);
  return buf;
}

std::string money(double x, bool sign) {
  if (std::isnan(x)) return "n/a";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  const double r = std::round(x);
  char buf[64];
  if (std::fabs(r) >= 1e18) {  // 1,000,000,000,000,000,000 and up: scientific (the buffer cut %.0f of 1e65)
    std::snprintf(buf, sizeof buf, sign ? "%+.3e" : "%.3e", r);
    return buf;
  }
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

namespace {

// A name cut into the pieces a terminal draws: each code point with the zero-width ones that
// follow it (combining accents, joiners), so that a cut never separates an accent from its letter,
// and its columns. Bytes that do not start a valid UTF-8 sequence (a results file written by
// another program) are a piece of one column each.
struct Piece {
  std::string_view text;
  std::size_t columns;
};

// Terminal columns of a code point: glibc's wcwidth() under C.UTF-8 (Unicode's East Asian widths:
// 2 for CJK, Hangul, kana, fullwidth forms and emoji, 0 for combining marks, joiners and variation
// selectors), whatever the user's locale; a control character (which names cannot hold) counts 1.
// Where C.UTF-8 is missing, the common ranges.
std::size_t columns_of(char32_t c) {
  static const locale_t utf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  if (utf8) {
    const locale_t before = ::uselocale(utf8);
    const int w = ::wcwidth(static_cast<wchar_t>(c));
    ::uselocale(before);
    return w < 0 ? 1 : static_cast<std::size_t>(w);
  }
  if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) || (c >= 0xFE00 && c <= 0xFE0F)) return 0;
  const bool wide = (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) || (c >= 0x3041 && c <= 0x33FF) ||
                    (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
                    (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
                    (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
                    (c >= 0x1F680 && c <= 0x1F6FF) || (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x1FA70 && c <= 0x1FAFF) ||
                    (c >= 0x20000 && c <= 0x3FFFD);
  return wide ? 2 : 1;
}

std::vector<Piece> pieces(std::string_view s) {
  std::vector<Piece> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    char32_t c = len == 1 ? b : len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    bool valid = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      valid = (next & 0xC0) == 0x80;
      c = (c << 6) | (next & 0x3F);
    }
    const std::size_t n = valid ? len : 1;
    const std::size_t cols = valid ? columns_of(c) : 1;
    if (cols == 0 && !out.empty())
      out.back().text = std::string_view(out.back().text.data(), out.back().text.size() + n);
    else
      out.push_back({s.substr(i, n), cols});
    i += n;
  }
  return out;
}

std::size_t display_width(std::string_view s) {
  std::size_t w = 0;
  for (const Piece& p : pieces(s)) w += p.columns;
  return w;
}

// `name` (cut into its pieces p, `total` columns) in at most `width` columns: when it is longer, at
// most `head` columns of its start and as much of its end as fits, around an ellipsis.
std::string elide(const std::string& name, const std::vector<Piece>& p, std::size_t total, std::size_t width,
                  std::size_t head) {
  if (total <= width) return name;
  const std::size_t room = width > 0 ? width - 1 : 0;  // beside the ellipsis
  std::size_t first = 0, used = 0;
  while (first < p.size() && used + p[first].columns <= std::min(head, room)) used += p[first++].columns;
  std::size_t last = p.size();
  while (last > first && used + p[last - 1].columns <= room) used += p[--last].columns;
  std::string out;
  for (std::size_t i = 0; i < first; ++i) out += p[i].text;
  out += "\u2026";
  for (std::size_t i = last; i < p.size(); ++i) out += p[i].text;
  return out;
}

}  // namespace

// The names as a column at most `cap` columns wide, no two different names printed alike. A sweep
// scenario's name tells its axes at the start and its funded subset at the end, so a long name
// keeps both, half and half ("macro=base/…/funded=recommendations+fraud"); where that prints two
// names alike (they differ in the middle) every name keeps more of its end, and where even the
// end alone does not tell them apart the column widens (at the latest nothing is elided).
std::vector<std::string> fit_names(const std::vector<std::string>& names, std::size_t cap) {
  // Each name cut into pieces once, whatever the widths tried below.
  std::vector<std::vector<Piece>> cut(names.size());
  std::vector<std::size_t> columns(names.size(), 0);
  std::size_t widest = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    cut[i] = pieces(names[i]);
    for (const Piece& x : cut[i]) columns[i] += x.columns;
    widest = std::max(widest, columns[i]);
  }
  std::vector<std::string> out;
  const auto distinct = [&](std::size_t w, std::size_t head) {
    out.clear();
    std::map<std::string, const std::string*> shown;  // printed text -> the name it stands for
    for (std::size_t i = 0; i < names.size(); ++i) {
      out.push_back(elide(names[i], cut[i], columns[i], w, head));
      const auto [it, added] = shown.emplace(out.back(), &names[i]);
      if (!added && *it->second != names[i]) return false;
    }
    return true;
  };
  for (std::size_t w = std::min(cap, widest);; w = std::min(widest, w + std::max<std::size_t>(1, w / 4)))
    for (std::size_t head = w / 2;; head /= 2) {
      if (distinct(w, head)) return out;
      if (head == 0) break;
    }
}

// Rows of cells as a table: the first column (names) left-aligned, the others right-aligned, each
// as wide as its widest cell in terminal columns (so that accented and East Asian names line up),
// and two spaces between columns, so that no two cells ever touch.
void print_cells(std::ostream& out, const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (std::size_t j = 0; j < row.size(); ++j) width[j] = std::max(width[j], display_width(row[j]));
  }
  for (const auto& row : rows) {
    out << indent;
    for (std::size_t j = 0; j < row.size(); ++j) {
      const std::string pad(width[j] - display_width(row[j]), ' ');
      if (j == 0)
        out << row[j] << (row.size() > 1 ? pad : "");
      else
        out << "  " << pad << row[j];
    }
    out << '\n';
  }
}

void print_table(std::ostream& out, const std::vector<std::string>& names, const std::vector<ScenarioSummary>& rows) {
  const std::vector<std::string> shown = fit_names(names, 60);
  std::vector<std::vector<std::string>> cells = {{"scenario", "P10 ROI", "P50 ROI", "P90 ROI", "mean ROI", "P(loss)", "payback P50"}};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& s = rows[i];
    cells.push_back({shown[i], percent(s.roi_quantile[1]), percent(s.roi_quantile[3]), percent(s.roi_quantile[5]),
                     percent(s.roi_mean), percent(s.prob_loss), month(s.payback_p50)});
  }
  print_cells(out, cells);
}

std::string num(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general);  // shortest text that reads back exactly
  return std::string(buf, r.ptr);
}
std::string fixed(double x, int decimals) {
  if (std::isnan(x)) return "n/a";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
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
  std::vector<std::string> names;
  for (auto i : rows) names.push_back(r.scenarios[i]);
  const std::vector<std::string> shown = fit_names(names, 50);
  std::vector<std::vector<std::string>> cells = {{"scenario", "P10 ROI", "P50 ROI", "P90 ROI", "mean ROI", "P(loss)"}};
  for (std::size_t n = 0; n < rows.size(); ++n) {
    const auto& s = r.summary[rows[n]];
    cells.push_back({shown[n], ci(s.roi_quantile[1], s.roi_quantile_lo[1], s.roi_quantile_hi[1]),
                     ci(s.roi_quantile[3], s.roi_quantile_lo[3], s.roi_quantile_hi[3]),
                     ci(s.roi_quantile[5], s.roi_quantile_lo[5], s.roi_quantile_hi[5]),
                     percent(s.roi_mean) + " +/- " + percent(1.959963984540054 * s.roi_se),
                     ci(s.prob_loss, s.prob_loss_lo, s.prob_loss_hi)});
  }
  out << "95% intervals (quantiles: distribution-free, from order statistics; P(loss): Wilson; mean: +/- 1.96 SE)\n";
  print_cells(out, cells);
}

void print_drivers(std::ostream& out, const ResultsSummary& r, std::size_t i, std::size_t top) {
  const std::size_t K = r.inputs.size();
  if (K > 0 && r.drivers.variance_contribution.empty()) return;  // a file without them
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < K; ++k)
    if (!std::isnan(r.drivers.variance_contribution[i * K + k])) order.push_back(k);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return r.drivers.variance_contribution[i * K + a] > r.drivers.variance_contribution[i * K + b];
  });
  // A ROI that no input moves (every trial the same: a sure loss, constant inputs) has no
  // drivers; an empty table would look like a failure to compute them.
  if (order.empty()) {
    out << "drivers of " << r.scenarios[i] << ": no input varies the ROI\n";
    return;
  }
  if (order.size() > top) order.resize(top);
  out << "drivers of " << r.scenarios[i] << " (by contribution to variance)\n";
  std::vector<std::vector<std::string>> cells = {
      {"input", "spearman", "contribution", "P50 ROI at input P10", "P50 ROI at input P90", "worst-10% pct"}};
  for (auto k : order) {
    const std::size_t j = i * K + k;
    char rho[32];
    std::snprintf(rho, sizeof rho, "%+.3f", r.drivers.spearman[j]);
    cells.push_back({r.inputs[k], rho, percent(r.drivers.variance_contribution[j]), percent(r.drivers.tornado_low[j]),
                     percent(r.drivers.tornado_high[j]), percent(0.5 + r.drivers.downside_shift[j], 0)});
  }
  print_cells(out, cells);
}

}  // namespace roisim::cli
