#include "sim/errors.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <system_error>

namespace roisim {

std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned c = at(i);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  else return 0;
  if (i + len > text.size() || at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if ((at(i + k) & 0xC0) != 0x80) return 0;
  return len;
}

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char buf[16];
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    const auto lead = static_cast<unsigned char>(text[i]);
    if (n == 0) {  // not UTF-8 (a lone 0x9B is the 8-bit CSI of terminals outside UTF-8)
      std::snprintf(buf, sizeof buf, "\\x%02x", lead);
      out += buf;
      ++i;
      continue;
    }
    char32_t c = n == 1 ? lead : n == 2 ? lead & 0x1F : n == 3 ? lead & 0x0F : lead & 0x07;
    for (std::size_t k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7F) std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c)), out += buf;
    // C1 controls, and the bidirectional controls that reorder what a line displays: ALM, LRM,
    // RLM, the embeddings and overrides, the isolates.
    else if ((c >= 0x80 && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
             (c >= 0x2066 && c <= 0x2069))
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c)), out += buf;
    else out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string Diagnostic::format() const {
  std::string out;
  if (!where.file.empty()) {
    out += where.file;
    if (where.line > 0) {
      out += ':' + std::to_string(where.line);
      if (where.column > 0) out += ':' + std::to_string(where.column);
    }
    out += ": ";
  }
  out += "error: " + message;
  if (!hint.empty()) out += " (" + hint + ")";
  return escape_controls(out);  // a file name or a quoted key must not start a line of its own
}

namespace {
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string join(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) {
    if (!out.empty()) out += '\n';
    out += d.format();
  }
  return out;
}
}  // namespace

DecimalRead read_decimal(std::string_view text, double& out) {
  const char* b = text.data();
  const char* e = text.data() + text.size();
  if (b != e && *b == '+') ++b;  // std::from_chars takes '-' only
  if (b == e || *b == '+' || (*b == '-' && b != text.data())) return DecimalRead::not_a_number;
  double v = 0;
  const auto [p, ec] = std::from_chars(b, e, v, std::chars_format::general);  // no hex, no spaces
  if (p != e) return DecimalRead::not_a_number;
  if (ec == std::errc::result_out_of_range) return DecimalRead::out_of_range;
  if (ec != std::errc()) return DecimalRead::not_a_number;
  if (!std::isfinite(v)) return DecimalRead::not_finite;
  out = v;
  return DecimalRead::ok;
}

bool decimal_is_whole(std::string_view text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  std::string digits;  // every mantissa digit, the point left out
  long long point = -1;  // digits before the point
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') digits += c;
    else if (c == '.' && point < 0) point = static_cast<long long>(digits.size());
    else break;
  }
  if (point < 0) point = static_cast<long long>(digits.size());
  long long exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    const bool negative = i < text.size() && text[i] == '-';
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) exp = std::min(exp * 10 + (text[i] - '0'), 1LL << 40);  // beyond any text's length
    if (negative) exp = -exp;
  }
  // Digits from position point + exp on are the fraction: whole when they are all zero.
  const long long first_fraction = std::max(0LL, point + exp);
  for (long long k = first_fraction; k < static_cast<long long>(digits.size()); ++k)
    if (digits[static_cast<std::size_t>(k)] != '0') return false;
  return true;
}

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, name.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(name, c);
    if (d < best_d) best_d = d, best = c;
  }
  if (best.empty() && name.size() >= 3) {  // a unique candidate that starts with the name
    for (const auto& c : candidates)
      if (c.rfind(name, 0) == 0) {
        if (!best.empty()) return {};
        best = c;
      }
  }
  return best.empty() ? std::string{} : "did you mean '" + best + "'?";
}

InputError InputError::at(const std::string& file, int line, int column, const std::string& message) {
  Diagnostic d;
  d.where.file = file;
  d.where.line = line;
  d.where.column = column;
  d.message = message;
  return InputError(std::vector<Diagnostic>{std::move(d)});
}

InputError::InputError(std::vector<Diagnostic> diagnostics)
    : Error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

InputError::InputError(const std::string& message) : Error("error: " + escape_controls(message)) {
  // Built in place rather than from an initializer list, which GCC 12 wrongly reports as reading
  // an uninitialised string (-Wmaybe-uninitialized).
  Diagnostic d;
  d.message = message;
  diagnostics_.push_back(std::move(d));
}

}  // namespace roisim
