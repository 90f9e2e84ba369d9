#pragma once
// Error types of the roisim library. The library throws; only tools/ turns errors into exit codes.
#include <cstdint>
#include <stdexcept>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace roisim {

// Where in a scenario file something is (1-based line and column; 0 when unknown).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// One problem found in the input, in the compiler's form "FILE:LINE:COL: error: message".
struct Diagnostic {
  SourceLocation where;
  std::string message;
  std::string hint;  // e.g. "did you mean 'online_ratio'?"; empty when none helps
  std::string format() const;
};

// A number for messages: the shortest decimal that reads back as the same double, as a user would
// write it: fixed for 1e-4 <= |x| < 1e17 (-50, -500000, 0.1, not %g's -5e+01), scientific beyond
// (1e-12, 1e+300); inf, nan.
inline std::string number_text(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  const double a = std::fabs(x);
  const auto layout = a == 0.0 || (a >= 1e-4 && a < 1e17) ? std::chars_format::fixed : std::chars_format::scientific;
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, x, layout);
  return std::string(buf, res.ptr);
}

// A decimal number as roisim reads one, in a scenario file and on the command line alike: an
// optional sign ('+', as YAML allows, or '-'), then digits with an optional point and exponent
// ("5e6", ".5", "+10", "-3"). Not hex ("0x10"), not two signs ("+-3"), no spaces, not inf or nan
// (not_finite: "inf", "-infinity", "nan"), not beyond double's range (out_of_range: "1e400").
enum class DecimalRead { ok, not_a_number, out_of_range, not_finite };
DecimalRead read_decimal(std::string_view text, double& out);
// Whether a text read_decimal takes is a whole number as written, digit by digit: "1e3", "10.0"
// and "2.5e1" are; "50.000000000000001" and "4503599627370497.5" are not, although the doubles
// they round to are.
bool decimal_is_whole(std::string_view text);

// `text` with what would act on a terminal or break a message's line written out, for messages
// that quote what a user wrote: C0 controls as \n, \r, \t or \xNN, DEL as \x7f, C1 controls as
// \u0080-\u009f, the Unicode bidirectional controls (which reorder what a line displays) as
// \uNNNN, a byte that is not part of well-formed UTF-8 as \xNN. Every diagnostic and error
// message goes through it before it is printed.
std::string escape_controls(std::string_view text);
// The length of the well-formed UTF-8 sequence at text[i] (no overlong forms, surrogates or code
// points above U+10FFFF), or 0 when none starts there.
std::size_t utf8_length(std::string_view text, std::size_t i);

// A count and its noun for messages: "1 scenario", "2 scenarios", "0 scenarios" (nouns plural in -s).
inline std::string count_of(std::uint64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// "did you mean 'x'?" for the candidate closest to name (edit distance within a third of the
// name's length, at least 2), or the only candidate that starts with a name of 3+ characters;
// empty when none is close.
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates);

// Base of every error the library throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad user input (scenario file, parameters, command-line values): exit code 1.
class InputError : public Error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  explicit InputError(const std::string& message);  // an input error with no location
  // One diagnostic at file:line:column (built out of line: GCC 12 warns, wrongly, that nested
  // brace-initialised Diagnostics inlined into a throw may be used uninitialised).
  static InputError at(const std::string& file, int line, int column, const std::string& message);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Invalid distribution or model parameters given programmatically (no file location).
class ParameterError : public Error {
 public:
  using Error::Error;
};

// A correlation matrix that cannot be used (not positive semi-definite, bad entries).
class CorrelationError : public Error {
 public:
  using Error::Error;
};

// Failure reading or writing a results file.
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace roisim
