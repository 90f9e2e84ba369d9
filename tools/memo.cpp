#include "tools/memo.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string_view>

#include "sim/errors.h"
#include "sim/results_file.h"
#include "sim/scenario.h"
#include "tools/report.h"

namespace roisim::cli {

namespace {

constexpr double kMaxLoss = 0.05;  // the chance of a loss at which a scenario stops being Fund
// Without --scenario the memo covers at most this many scenarios: it stays a page or two, and
// the S-curve tells its curves apart by six colours.
constexpr std::size_t kMemoScenarios = 6;
// Under this many trials the memo warns that its verdicts rest on few futures: the worst tenth,
// which sets P10 and the downside drivers, holds fewer than ten of them, and "a chance of a loss
// under 5%" means at most four losses.
constexpr std::uint64_t kFewTrials = 100;

}  // namespace

std::string verdict(double p10, double p50, double prob_loss, double hurdle) {
  // (A NaN had failed every test and read "Do not fund ... the median ROI of n/a is below the hurdle".)
  if (std::isnan(p10) || std::isnan(p50) || std::isnan(prob_loss)) return "No verdict";
  if (p10 >= hurdle && prob_loss < kMaxLoss) return "Fund";
  if (p50 >= hurdle) return "At risk";
  return "Do not fund";
}

namespace {

std::string pct(double f) { return percent(f, 1); }
std::string pct0(double f) { return percent(f, 0); }

std::string attr(const ResultsSummary& r, const std::string& key) {
  auto it = r.attributes.find(key);
  if (it == r.attributes.end()) return "n/a";
  if (auto* s = std::get_if<std::string>(&it->second)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&it->second)) return std::to_string(*i);
  return num(std::get<double>(it->second));
}

// A rate attribute (discount_rate) as a percentage; n/a, as the other provenance figures, when the
// file lacks it or holds text or a non-finite number there (std::stod had ended the memo with
// "error: stod", naming neither the file nor the attribute).
std::string rate_attr(const ResultsSummary& r, const std::string& key) {
  auto it = r.attributes.find(key);
  if (it == r.attributes.end()) return "n/a";
  if (auto* d = std::get_if<double>(&it->second)) return std::isfinite(*d) ? pct(*d) : "n/a";
  if (auto* i = std::get_if<std::int64_t>(&it->second)) return pct(static_cast<double>(*i));
  return "n/a";
}

void append_html(std::string& o, char c) {
  switch (c) {
    case '&': o += "&amp;"; break;
    case '<': o += "&lt;"; break;
    case '>': o += "&gt;"; break;
    case '"': o += "&quot;"; break;
    default: o += c;
  }
}

std::string escape_html(const std::string& s) {
  std::string o;
  for (char c : s) append_html(o, c);
  return o;
}

bool ascii_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A name (scenario, input, project, file) as Markdown that shows it as it is. GitHub-flavoured
// Markdown reads \ ` * [ ] < > ~ as markup anywhere, | as the end of a table cell (a name
// "a | b" gained a column), & as the start of an entity (&amp;) and _ as emphasis unless it
// stands between letters or digits; those get a backslash, and only those, so that the usual
// names (fraud.avg_fraud_loss, pessimistic-translation) read the same in the plain text.
std::string md(const std::string& s) {
  std::string o;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    bool escape = std::string_view("\\`*[]<>~|").find(c) != std::string_view::npos;
    if (c == '_') escape = !(i > 0 && i + 1 < s.size() && ascii_alnum(s[i - 1]) && ascii_alnum(s[i + 1]));
    if (c == '&') {
      std::size_t j = i + 1;
      while (j < s.size() && (ascii_alnum(s[j]) || s[j] == '#')) ++j;
      escape = j > i + 1 && j < s.size() && s[j] == ';';
    }
    if (escape) o += '\\';
    o += c;
  }
  return o;
}

// A document written once and rendered as Markdown or as HTML. Text is Markdown: it may hold
// **bold** spans, `code` spans and the backslash escapes of md(), which HTML shows as plain text.
class Doc {
 public:
  explicit Doc(bool html) : html_(html) {}
  void h1(const std::string& t) { out_ << (html_ ? "<h1>" + inline_(t) + "</h1>\n" : "# " + t + "\n\n"); }
  void h2(const std::string& t) { out_ << (html_ ? "<h2>" + inline_(t) + "</h2>\n" : "## " + t + "\n\n"); }
  void para(const std::string& t) { out_ << (html_ ? "<p>" + inline_(t) + "</p>\n" : t + "\n\n"); }
  void bullets(const std::vector<std::string>& items, bool numbered = false) {
    if (html_) {
      out_ << (numbered ? "<ol>\n" : "<ul>\n");
      for (const auto& i : items) out_ << "<li>" << inline_(i) << "</li>\n";
      out_ << (numbered ? "</ol>\n" : "</ul>\n");
    } else {
      int n = 1;
      for (const auto& i : items) out_ << (numbered ? std::to_string(n++) + ". " : "- ") << i << '\n';
      out_ << '\n';
    }
  }
  // A table; with numeric = true the columns after the first are right-aligned.
  void table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows, bool numeric = true) {
    if (html_) {
      out_ << "<table>\n<tr>";
      for (const auto& h : head) out_ << "<th>" << inline_(h) << "</th>";
      out_ << "</tr>\n";
      for (const auto& r : rows) {
        out_ << "<tr>";
        for (std::size_t c = 0; c < r.size(); ++c) out_ << (c && numeric ? "<td class=\"n\">" : "<td>") << inline_(r[c]) << "</td>";
        out_ << "</tr>\n";
      }
      out_ << "</table>\n";
      return;
    }
    out_ << '|';
    for (const auto& h : head) out_ << ' ' << h << " |";
    out_ << "\n|";
    for (std::size_t c = 0; c < head.size(); ++c) out_ << (c && numeric ? "---:|" : "---|");
    out_ << '\n';
    for (const auto& r : rows) {
      out_ << '|';
      for (const auto& cell : r) out_ << ' ' << cell << " |";
      out_ << '\n';
    }
    out_ << '\n';
  }
  void raw_html(const std::string& h) {
    if (html_) out_ << h;
  }
  std::string str() const { return out_.str(); }

 private:
  std::string inline_(const std::string& t) const {
    std::string o;
    bool open = false;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '\\' && i + 1 < t.size()) {
        append_html(o, t[++i]);
      } else if (t.compare(i, 2, "**") == 0) {
        o += open ? "</strong>" : "<strong>";
        open = !open;
        ++i;
      } else if (t[i] == '`') {
        // code spans are shown as plain text in HTML
      } else {
        append_html(o, t[i]);
      }
    }
    if (open) o += "</strong>";
    return o;
  }
  bool html_;
  std::ostringstream out_;
};

// ---- inline SVG charts (HTML only) ----------------------------------------------------------------

constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

struct Axis {
  double lo, hi;
  double map(double v, double a, double b) const { return a + (v - lo) / (hi - lo) * (b - a); }
};

std::string fmt(double v, int d = 1) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", d, v);
  return b;
}

// Nice tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi, int want = 6) {
  const double span = hi - lo;
  if (!(span > 0)) return {lo};
  const double raw = span / want, mag = std::pow(10, std::floor(std::log10(raw)));
  const double step = raw / mag < 2 ? 2 * mag : raw / mag < 5 ? 5 * mag : 10 * mag;
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) t.push_back(std::abs(v) < 1e-12 * span ? 0 : v);
  return t;
}

class Svg {
 public:
  Svg(int w, int h, const std::string& title) : w_(w), h_(h) {
    s_ << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h << "\" viewBox=\"0 0 " << w << ' ' << h
       << "\" role=\"img\" aria-label=\"" << escape_html(title) << "\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
       << "<text x=\"" << w / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" << escape_html(title)
       << "</text>\n";
  }
  int left = 70, right = 20, top = 35, bottom = 50;
  double x0() const { return left; }
  double x1() const { return w_ - right; }
  double y0() const { return h_ - bottom; }
  double y1() const { return top; }
  void line(double a, double b, double c, double d, const std::string& style) {
    s_ << "<line x1=\"" << fmt(a) << "\" y1=\"" << fmt(b) << "\" x2=\"" << fmt(c) << "\" y2=\"" << fmt(d) << "\" " << style << "/>\n";
  }
  void text(double x, double y, const std::string& t, const std::string& extra = "") {
    s_ << "<text x=\"" << fmt(x) << "\" y=\"" << fmt(y) << "\" font-size=\"11\" " << extra << '>' << escape_html(t) << "</text>\n";
  }
  void raw(const std::string& r) { s_ << r; }
  void axes(const Axis& x, const Axis& y, const std::string& xlabel, const std::string& ylabel,
            std::string (*xfmt)(double), std::string (*yfmt)(double)) {
    for (double t : ticks(x.lo, x.hi)) {
      const double px = x.map(t, x0(), x1());
      line(px, y0(), px, y1(), "stroke=\"#eee\"");
      text(px, y0() + 15, xfmt(t), "text-anchor=\"middle\"");
    }
    for (double t : ticks(y.lo, y.hi)) {
      const double py = y.map(t, y0(), y1());
      line(x0(), py, x1(), py, "stroke=\"#eee\"");
      text(x0() - 6, py + 4, yfmt(t), "text-anchor=\"end\"");
    }
    line(x0(), y0(), x1(), y0(), "stroke=\"#333\"");
    line(x0(), y0(), x0(), y1(), "stroke=\"#333\"");
    text((x0() + x1()) / 2, h_ - 12, xlabel, "text-anchor=\"middle\"");
    s_ << "<text transform=\"translate(14," << fmt((y0() + y1()) / 2) << ") rotate(-90)\" font-size=\"11\" text-anchor=\"middle\">"
       << escape_html(ylabel) << "</text>\n";
  }
  std::string str() {
    s_ << "</svg>\n";
    return s_.str();
  }

 private:
  int w_, h_;
  std::ostringstream s_;
};

std::string pct_tick(double v) { return percent(v, 0); }
std::string prob_tick(double v) { return percent(v, 0); }
std::string money_tick(double v) {
  if (std::abs(v) >= 1e6) return fmt(v / 1e6, std::abs(v) >= 1e7 ? 0 : 1) + "M";
  if (std::abs(v) >= 1e3) return fmt(v / 1e3, 0) + "k";
  return fmt(v, 0);
}
std::string month_tick(double v) { return fmt(v, 0); }

// The S-curve (CDF of ROI) of the chosen scenarios, P10/P50/P90 of the first marked.
std::string s_curve(const ResultsSummary& r, const std::vector<std::size_t>& rows, const std::vector<std::vector<double>>& trials) {
  Svg svg(720, 360, "S-curve: chance that ROI is at most x");
  double lo = 1e300, hi = -1e300;
  for (std::size_t j = 0; j < rows.size(); ++j) {
    lo = std::min(lo, r.summary[rows[j]].roi_quantile[0]);
    hi = std::max(hi, r.summary[rows[j]].roi_quantile[6]);
  }
  const double pad = 0.15 * (hi - lo + 1e-9);
  Axis x{lo - pad, hi + pad}, y{0, 1};
  svg.axes(x, y, "ROI", "cumulative probability", pct_tick, prob_tick);
  for (std::size_t j = 0; j < rows.size(); ++j) {
    std::vector<std::pair<double, double>> pts;
    if (!trials[j].empty()) {
      std::vector<double> v = trials[j];
      std::sort(v.begin(), v.end());
      const std::size_t step = std::max<std::size_t>(1, v.size() / 300);
      for (std::size_t i = 0; i < v.size(); i += step) pts.emplace_back(v[i], (i + 0.5) / v.size());
    } else {
      for (int q = 0; q < kNumQuantiles; ++q) pts.emplace_back(r.summary[rows[j]].roi_quantile[q], kQuantiles[q]);
    }
    std::string path;
    for (const auto& [vx, vy] : pts) {
      if (vx < x.lo || vx > x.hi) continue;
      path += (path.empty() ? "M" : " L") + fmt(x.map(vx, svg.x0(), svg.x1())) + "," + fmt(y.map(vy, svg.y0(), svg.y1()));
    }
    svg.raw("<path d=\"" + path + "\" fill=\"none\" stroke=\"" + kColors[j % 6] + "\" stroke-width=\"2\"/>\n");
    svg.text(svg.x1() - 190, svg.y0() - 10 - 14.0 * (rows.size() - 1 - j), "\u2014 " + r.scenarios[rows[j]],
             std::string("fill=\"") + kColors[j % 6] + "\"");
  }
  const auto& s0 = r.summary[rows[0]];
  const char* names[] = {"P10", "P50", "P90"};
  const int qs[] = {1, 3, 5};
  for (int k = 0; k < 3; ++k) {
    const double px = x.map(s0.roi_quantile[qs[k]], svg.x0(), svg.x1());
    svg.line(px, svg.y0(), px, y.map(kQuantiles[qs[k]], svg.y0(), svg.y1()), "stroke=\"#555\" stroke-dasharray=\"4 3\"");
    svg.text(px + 3, y.map(kQuantiles[qs[k]], svg.y0(), svg.y1()) - 4, std::string(names[k]) + " " + pct0(s0.roi_quantile[qs[k]]));
  }
  return svg.str();
}

// The tornado of one scenario: ROI P50 with each input near its P10 and its P90.
std::string tornado(const ResultsSummary& r, std::size_t i) {
  const std::size_t K = r.inputs.size();
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < K && !r.drivers.tornado_low.empty(); ++k)
    if (!std::isnan(r.drivers.tornado_low[i * K + k]) && !std::isnan(r.drivers.tornado_high[i * K + k])) order.push_back(k);
  auto swing = [&](std::size_t k) { return std::abs(r.drivers.tornado_high[i * K + k] - r.drivers.tornado_low[i * K + k]); };
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return swing(a) > swing(b); });
  if (order.size() > 8) order.resize(8);
  Svg svg(720, 90 + 28 * static_cast<int>(order.size()), "Tornado: median ROI of " + r.scenarios[i] + " with one input at its P10 / P90");
  svg.left = 230;
  svg.top = 48;
  const double p50 = r.summary[i].roi_quantile[3];
  double lo = p50, hi = p50;
  for (auto k : order) {
    lo = std::min({lo, r.drivers.tornado_low[i * K + k], r.drivers.tornado_high[i * K + k]});
    hi = std::max({hi, r.drivers.tornado_low[i * K + k], r.drivers.tornado_high[i * K + k]});
  }
  const double pad = 0.1 * (hi - lo + 1e-9);
  Axis x{lo - pad, hi + pad};
  for (double t : ticks(x.lo, x.hi)) {
    const double px = x.map(t, svg.x0(), svg.x1());
    svg.line(px, svg.y0(), px, svg.y1(), "stroke=\"#eee\"");
    svg.text(px, svg.y0() + 15, pct_tick(t), "text-anchor=\"middle\"");
  }
  for (std::size_t j = 0; j < order.size(); ++j) {
    const std::size_t k = order[j];
    const double a = r.drivers.tornado_low[i * K + k], b = r.drivers.tornado_high[i * K + k];
    const double yt = svg.y1() + 28.0 * j + 4;
    const double pa = x.map(a, svg.x0(), svg.x1()), pb = x.map(b, svg.x0(), svg.x1()), pm = x.map(p50, svg.x0(), svg.x1());
    // Left of the median: the input's low value; right: its high value (or the other way round).
    svg.raw("<rect x=\"" + fmt(std::min(pa, pm)) + "\" y=\"" + fmt(yt) + "\" width=\"" + fmt(std::abs(pa - pm)) +
            "\" height=\"20\" fill=\"#d62728\" opacity=\"0.8\"/>\n");
    svg.raw("<rect x=\"" + fmt(std::min(pb, pm)) + "\" y=\"" + fmt(yt) + "\" width=\"" + fmt(std::abs(pb - pm)) +
            "\" height=\"20\" fill=\"#1f77b4\" opacity=\"0.8\"/>\n");
    svg.text(svg.x0() - 6, yt + 14, r.inputs[k], "text-anchor=\"end\"");
  }
  const double pm = x.map(p50, svg.x0(), svg.x1());
  svg.line(pm, svg.y0(), pm, svg.y1(), "stroke=\"#333\"");
  svg.text(pm + 3, svg.y1() - 2, "P50 " + pct0(p50));
  svg.text(svg.x0(), svg.y0() + 32, "red: input at its P10; blue: at its P90", "fill=\"#555\"");
  return svg.str();
}

// The payback fan: cumulative discounted net cash flow by month, P10-P90 band and median.
std::string payback_fan(const ResultsSummary& r, std::size_t i, const std::vector<double>& cf) {
  const std::size_t months = cf.size() / kNumQuantiles;
  Svg svg(720, 360, "Payback fan: cumulative discounted net cash flow of " + r.scenarios[i]);
  double lo = 0, hi = 0;
  for (std::size_t m = 0; m < months; ++m) {
    lo = std::min(lo, cf[m * kNumQuantiles + 1]);
    hi = std::max(hi, cf[m * kNumQuantiles + 5]);
  }
  const double pad = 0.08 * (hi - lo + 1e-9);
  Axis x{0, static_cast<double>(months - 1)}, y{lo - pad, hi + pad};
  svg.axes(x, y, "month", "cumulative cash flow", month_tick, money_tick);
  std::string band, mid;
  for (std::size_t m = 0; m < months; ++m)
    band += (m ? " L" : "M") + fmt(x.map(m, svg.x0(), svg.x1())) + "," + fmt(y.map(cf[m * kNumQuantiles + 5], svg.y0(), svg.y1()));
  for (std::size_t m = months; m-- > 0;)
    band += " L" + fmt(x.map(m, svg.x0(), svg.x1())) + "," + fmt(y.map(cf[m * kNumQuantiles + 1], svg.y0(), svg.y1()));
  for (std::size_t m = 0; m < months; ++m)
    mid += (m ? " L" : "M") + fmt(x.map(m, svg.x0(), svg.x1())) + "," + fmt(y.map(cf[m * kNumQuantiles + 3], svg.y0(), svg.y1()));
  svg.raw("<path d=\"" + band + " Z\" fill=\"#1f77b4\" opacity=\"0.25\"/>\n");
  svg.raw("<path d=\"" + mid + "\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n");
  const double py = y.map(0, svg.y0(), svg.y1());
  svg.line(svg.x0(), py, svg.x1(), py, "stroke=\"#333\" stroke-dasharray=\"4 3\"");
  svg.text(svg.x0() + 6, svg.y1() + 12, "band: P10\u2013P90; line: median; dashed: break-even", "fill=\"#555\"");
  return svg.str();
}

// ---- content -------------------------------------------------------------------------------------

// The hurdle as given: the shortest decimal that reads back as h, its point moved two places
// (0.125 is "12.5%", 0.2965 "29.65%", 0.123456789 "12.3456789%"), so that two hurdles that judge a
// scenario differently never print alike. Rounded, a 29.65% hurdle read "30%" beside a P10 of 29.9%
// said to clear it, and 0.8811284365018943 and ...944 (either side of the seed base's P10) both
// read "88.112844%".
std::string hurdle_pct(double h) {
  char buf[400];
  if (!std::isfinite(h)) return percent(h, 6);
  if (h != 0 && (std::abs(h) >= 1e13 || std::abs(h) < 1e-6)) {  // 1e300 is "1e+302%", not 303 digits
    const auto r = std::to_chars(buf, buf + sizeof buf, h, std::chars_format::scientific);
    const std::string t(buf, r.ptr);
    const std::size_t e = t.find('e');
    const int exponent = std::atoi(t.c_str() + e + 1) + 2;
    return t.substr(0, e) + (exponent < 0 ? "e-" : "e+") + std::to_string(std::abs(exponent)) + "%";
  }
  const auto r = std::to_chars(buf, buf + sizeof buf, h, std::chars_format::fixed);  // shortest round trip
  if (r.ec != std::errc{}) return percent(h, 6);
  std::string t(buf, r.ptr), sign;
  if (!t.empty() && t[0] == '-') sign = "-", t.erase(0, 1);
  const std::size_t dot = t.find('.');
  std::string whole = t.substr(0, dot), frac = dot == std::string::npos ? "" : t.substr(dot + 1);
  frac.resize(std::max<std::size_t>(frac.size(), 2), '0');
  whole += frac.substr(0, 2);
  frac.erase(0, 2);
  whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size() - 1));
  if (whole == "0" && frac.empty()) sign.clear();  // -0.0
  return sign + whole + (frac.empty() ? "" : "." + frac) + "%";
}

// v as a percentage with one decimal, or with more where one would print it on the other side of
// the limit it is judged against (`limit` as printed): a P10 of 14.996% below a 15% hurdle is
// "14.996%", not "15.0%".
std::string pct_vs(double v, double limit, const std::string& limit_text) {
  const double printed_limit = std::strtod(limit_text.c_str(), nullptr);
  std::string s;
  for (int d = 1; d <= 6; ++d) {
    s = percent(v, d);
    if ((v >= limit) == (std::strtod(s.c_str(), nullptr) >= printed_limit)) break;
  }
  return s;
}

// The verdict in a sentence that names the test that decided it: an At risk scenario fails the
// P10 test, the chance-of-a-loss test, or both, and the sentence says which.
std::string verdict_sentence(const ScenarioSummary& s, double h) {
  const std::string v = verdict(s.roi_quantile[1], s.roi_quantile[3], s.prob_loss, h);
  const std::string hs = hurdle_pct(h), ls = percent(kMaxLoss, 0);
  const std::string p10 = pct_vs(s.roi_quantile[1], h, hs), p50 = pct_vs(s.roi_quantile[3], h, hs);
  const std::string loss = pct_vs(s.prob_loss, kMaxLoss, ls);
  if (v == "No verdict")
    return "**No verdict.** Its ROI is not a number in some simulated futures (an input beyond what a double holds), so its "
           "percentiles are undefined: check the distributions' parameters.";
  if (v == "Fund")
    return "**Fund.** In 9 of 10 simulated futures the ROI is at least " + p10 + ", above the " + hs + " hurdle; the chance of losing money is " +
           loss + ".";
  if (v == "At risk") {
    const bool low_p10 = s.roi_quantile[1] < h, lossy = s.prob_loss >= kMaxLoss;
    std::string t = "**At risk.** The median ROI of " + p50 + " clears the " + hs + " hurdle";
    const std::string lossy_text = " chance of losing money, at or above the " + ls + " limit.";
    if (!low_p10) return t + " and in 9 of 10 futures it is at least " + p10 + ", but there is a " + loss + lossy_text;
    t += ", but in 1 of 10 futures it is at or below " + p10 + ", under the hurdle";
    return lossy ? t + ", and there is a " + loss + lossy_text : t + "; the chance of losing money is " + loss + ".";
  }
  return "**Do not fund.** The median ROI of " + p50 + " is below the " + hs + " hurdle; in 1 of 10 futures it is at or below " +
         pct(s.roi_quantile[1]) + ".";
}

// The sampler of the results file's `sampler` attribute, in words.
std::string sampler_words(const std::string& sampler) {
  if (sampler == "mc") return "Monte Carlo";
  if (sampler == "lhs") return "Latin hypercube sampling";
  if (sampler == "sobol") return "scrambled Sobol points";
  return "sampler " + sampler;
}

std::string plain_percentile(double p) {
  const int v = static_cast<int>(std::lround(100 * p));
  const char* suffix = (v % 100 >= 11 && v % 100 <= 13) ? "th" : v % 10 == 1 ? "st" : v % 10 == 2 ? "nd" : v % 10 == 3 ? "rd" : "th";
  return std::to_string(v) + suffix;
}

}  // namespace

void write_memo(const MemoOptions& o, std::ostream& out) {
  const ResultsSummary r = read_results_summary(o.file);
  const std::size_t S = r.scenarios.size(), K = r.inputs.size();
  std::vector<std::size_t> rows;
  std::string capped;  // what the memo leaves out, said near its top
  if (o.scenarios.empty()) {
    // The explicit scenarios, or for a file of sweep scenarios alone those; either way the first
    // kMemoScenarios, and the memo says when there are more.
    for (std::size_t i = 0; i < S; ++i)
      if (r.scenarios[i].find('=') == std::string::npos) rows.push_back(i);
    const bool sweep_only = rows.empty();
    if (sweep_only)
      for (std::size_t i = 0; i < S; ++i) rows.push_back(i);
    if (rows.size() > kMemoScenarios) {
      capped = "The file holds " + std::to_string(rows.size()) +
               (sweep_only ? " sweep scenarios (and no explicit ones)" : " explicit scenarios") + "; this memo covers the first " +
               std::to_string(kMemoScenarios) + ": use `--scenario NAME` (repeatable) to choose.";
      rows.resize(kMemoScenarios);
    }
  } else {
    for (const auto& name : o.scenarios) {
      auto it = std::find(r.scenarios.begin(), r.scenarios.end(), name);
      if (it == r.scenarios.end()) throw InputError("no scenario named '" + name + "' in " + o.file);
      rows.push_back(static_cast<std::size_t>(it - r.scenarios.begin()));
    }
  }
  if (rows.empty()) throw InputError(o.file + " holds no scenarios");
  const std::string horizon = attr(r, "horizon_months");
  Doc d(o.html);
  // The page is written whole at the end, as the markdown is: an error while it is made (a damaged
  // dataset) leaves nothing on standard output (it had left the head of the page).
  std::ostringstream head;
  if (o.html) {
    head << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ROI memo: " << escape_html(attr(r, "scenario_name"))
        << "</title>\n<style>body{font-family:Georgia,serif;max-width:900px;margin:2em auto;color:#222;line-height:1.45}"
           "h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}"
           "table{border-collapse:collapse;font-family:Helvetica,Arial,sans-serif;font-size:0.85em;margin:0.5em 0}"
           "th,td{border:1px solid #ddd;padding:4px 8px}th{background:#f3f3f3}td.n{text-align:right}"
           "figure{margin:1em 0}.small{color:#666;font-size:0.85em}</style></head><body>\n";
  }
  const std::string hurdle = hurdle_pct(o.hurdle);
  d.h1("ROI memo: " + md(attr(r, "scenario_name")));
  d.para("Every figure below comes from " + money(static_cast<double>(r.trials)) + " simulated future" + (r.trials == 1 ? "" : "s") +
         " per scenario (" + sampler_words(attr(r, "sampler")) + ", seed " + attr(r, "seed") + "), over a horizon of " + horizon +
         " months at a discount rate of " + rate_attr(r, "discount_rate") +
         ". ROI is the present value of the benefits divided by the present value of all costs, minus 1.");
  if (r.trials < kFewTrials)
    d.para("**Few trials.** With fewer than " + std::to_string(kFewTrials) +
           " simulated futures the percentiles below, and the verdicts drawn from them, are rough and can change with the seed: "
           "run again with more trials (`--trials`) before relying on them.");
  if (!capped.empty()) d.para(capped);

  d.h2("Verdict");
  const std::string max_loss = percent(kMaxLoss, 0);
  d.para("Rule: **Fund** when in 9 of 10 simulated futures the ROI is at least the " + hurdle +
         " hurdle (P10 ROI at or above it) and the chance of a loss is under " + max_loss +
         "; **At risk** when the median future clears the hurdle but the downside does not: the P10 ROI is below the hurdle, or the "
         "chance of a loss is " + max_loss + " or more, or both; **Do not fund** when the median ROI is below the hurdle." +
         (std::any_of(rows.begin(), rows.end(), [&](std::size_t i) {
            const auto& s = r.summary[i];
            return verdict(s.roi_quantile[1], s.roi_quantile[3], s.prob_loss, o.hurdle) == "No verdict";
          }) ? " **No verdict** where these figures are not numbers." : ""));
  std::vector<std::string> items;
  for (auto i : rows) items.push_back("**" + md(r.scenarios[i]) + "** — " + verdict_sentence(r.summary[i], o.hurdle));
  d.bullets(items);

  d.h2("The numbers");
  std::vector<std::vector<std::string>> table;
  for (auto i : rows) {
    const auto& s = r.summary[i];
    table.push_back({md(r.scenarios[i]), verdict(s.roi_quantile[1], s.roi_quantile[3], s.prob_loss, o.hurdle), pct(s.roi_quantile[1]),
                     pct(s.roi_quantile[3]), pct(s.roi_quantile[5]), money(s.npv_quantile[1]), money(s.npv_quantile[3]),
                     money(s.npv_quantile[5]), pct(s.prob_loss), month(s.payback_p50), pct(s.prob_payback)});
  }
  d.table({"scenario", "verdict", "P10 ROI", "P50 ROI", "P90 ROI", "P10 NPV", "P50 NPV", "P90 NPV", "chance of a loss",
           "payback month (median)", "pays back within " + horizon + " months"},
          table);
  d.para("P10 is the conservative case (9 of 10 futures do better), P50 the typical one, P90 the optimistic one. NPV is in the currency of the inputs. "
         "A median payback month of \"never\" means that about half the futures or more do not pay back within the horizon.");
  if (o.html) {
    std::vector<std::vector<double>> trials;
    for (auto i : rows) trials.push_back(r.has_trials ? read_trial_row(o.file, "roi", i) : std::vector<double>{});
    d.raw_html("<figure>" + s_curve(r, rows, trials) + "</figure>\n");
  }

  d.h2("What drives the downside");
  for (auto i : rows) {
    std::vector<std::size_t> ks;
    for (std::size_t k = 0; k < K && !r.drivers.downside_shift.empty(); ++k)
      if (!std::isnan(r.drivers.downside_shift[i * K + k])) ks.push_back(k);
    std::sort(ks.begin(), ks.end(), [&](auto a, auto b) {
      return std::abs(r.drivers.downside_shift[i * K + a]) > std::abs(r.drivers.downside_shift[i * K + b]);
    });
    if (ks.size() > 3) ks.resize(3);
    std::vector<std::string> lines;
    for (auto k : ks) {
      const std::size_t j = i * K + k;
      const double p = 0.5 + r.drivers.downside_shift[j];
      lines.push_back("**" + md(r.inputs[k]) + "**: in the worst 10% of futures it sits on average at its " + plain_percentile(p) +
                      " percentile (" + (p < 0.5 ? "low" : "high") + " values hurt); with it near its P10 the median ROI is " +
                      pct(r.drivers.tornado_low[j]) + ", near its P90 " + pct(r.drivers.tornado_high[j]) + ".");
    }
    if (lines.empty()) {
      // Every driver is NaN where the ROI does not vary (each input it reads is a constant, or
      // there are none); a results file without the drivers' datasets has none to show.
      d.para("**" + md(r.scenarios[i]) + "**: " +
             (r.drivers.downside_shift.empty() && K > 0 ? "the results file holds no analysis of its drivers."
                                                         : "no input varies its ROI, which is " + pct(r.summary[i].roi_quantile[3]) +
                                                               " in every simulated future."));
    } else {
      d.para("**" + md(r.scenarios[i]) + "**:");
      d.bullets(lines, true);
    }
    if (o.html) {
      if (!lines.empty()) d.raw_html("<figure>" + tornado(r, i) + "</figure>\n");
      const std::vector<double> cf = read_cashflow_quantiles(o.file, i);
      if (!cf.empty() && !std::isnan(cf[0])) d.raw_html("<figure>" + payback_fan(r, i, cf) + "</figure>\n");
    }
  }

  // Best funded subsets of the sweep, judged across all its other axes.
  // A NaN P10 (or mean NPV) in any combination makes the subset's NaN: it clears nothing and ranks
  // last (std::min had skipped it, so a subset with NaN P10s was listed as clearing the hurdle,
  // with 1e300 as its worst P10, and a NaN mean broke the sort's ordering).
  struct Subset { double npv_sum = 0, worst_p10 = std::numeric_limits<double>::infinity(), worst_loss = 0; int n = 0; };
  std::map<std::string, Subset> subsets;
  for (std::size_t i = 0; i < S; ++i) {
    const auto pos = r.scenarios[i].rfind("funded=");
    if (pos == std::string::npos) continue;
    Subset& b = subsets[r.scenarios[i].substr(pos + 7)];
    b.npv_sum += r.summary[i].npv_mean;
    const double p10 = r.summary[i].roi_quantile[1];
    b.worst_p10 = std::isnan(p10) || std::isnan(b.worst_p10) ? std::numeric_limits<double>::quiet_NaN() : std::min(b.worst_p10, p10);
    b.worst_loss = std::max(b.worst_loss, r.summary[i].prob_loss);
    ++b.n;
  }
  if (!subsets.empty()) {
    std::vector<std::pair<std::string, Subset>> ranked(subsets.begin(), subsets.end());
    const auto mean_npv = [](const Subset& b) {
      const double m = b.npv_sum / b.n;
      return std::isnan(m) ? -std::numeric_limits<double>::infinity() : m;
    };
    std::stable_sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) { return mean_npv(a.second) > mean_npv(b.second); });
    std::vector<std::vector<std::string>> best;
    for (const auto& [name, b] : ranked) {
      if (!(b.worst_p10 >= o.hurdle) || std::isnan(b.npv_sum)) continue;
      best.push_back({md(name), money(b.npv_sum / b.n), pct(b.worst_p10), pct(b.worst_loss)});
      if (best.size() == 5) break;
    }
    d.h2("Best funded subsets of the sweep");
    d.para("Of the " + std::to_string(subsets.size()) + " funded subsets in the sweep, those whose P10 ROI clears the " + hurdle +
           " hurdle in every combination of the other sweep axes, ranked by their mean NPV averaged over those combinations" +
           (best.empty() ? ": none qualifies." : ":"));
    if (!best.empty()) d.table({"funded projects", "mean NPV (average over the sweep)", "worst P10 ROI", "worst chance of a loss"}, best);
    d.para("`roisim frontier` lists the efficient subsets within a budget.");
  }

  d.h2("Key assumptions");
  try {
    const Plan plan = Plan::load_text(attr(r, "config"), "config");
    std::vector<std::vector<std::string>> rows_a;
    for (int v : plan.input_vars()) {
      const Variable& var = plan.variables()[v];
      if (var.success_of >= 0) {
        const Project& p = plan.projects()[var.success_of];
        const Variable& pv = plan.variables()[p.slot_var[p.cost_slot(kPSuccess)]];
        rows_a.push_back({md(var.name), "reaches production with probability " + pv.defs[0].dist.describe()});
      } else {
        rows_a.push_back({md(var.name), var.defs.empty() ? "set by scenarios" : var.defs[0].dist.describe()});
      }
    }
    if (rows_a.empty()) {
      d.para("The base case has no uncertain input: every input is a constant in the scenario file stored in the results.");
    } else {
      d.para("The uncertain inputs of the base case (scenarios may scale or replace some of them), from the scenario file stored in the results:");
      d.table({"input", "distribution"}, rows_a, false);
    }
  } catch (const std::exception& e) {
    d.para("(the stored scenario file could not be read: " + md(e.what()) + ")");
  }

  d.h2("Provenance");
  d.bullets({"roisim " + attr(r, "roisim_version") + " (" + attr(r, "git_sha") + ", " + attr(r, "build_type") + ")",
             "created " + attr(r, "created_utc"),
             "seed " + attr(r, "seed") + ", " + attr(r, "trials") + (r.trials == 1 ? " trial" : " trials") + ", sampler " + attr(r, "sampler") +
                 ", random numbers " + attr(r, "rng"),
             "scenario file SHA-256 " + attr(r, "config_sha256"), "results file " + md(o.file)});
  out << head.str() << d.str();
  if (o.html) out << "</body></html>\n";
}

}  // namespace roisim::cli
