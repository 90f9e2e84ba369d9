#pragma once
// Error types of the roisim library. The library throws; only tools/ turns errors into exit codes.
#include <cstdint>
#include <stdexcept>
#include <string>
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

// A count and its noun for messages: "1 scenario", "2 scenarios", "0 scenarios" (nouns plural in -s).
inline std::string count_of(std::uint64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

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
