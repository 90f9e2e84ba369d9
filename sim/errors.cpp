#include "sim/errors.h"

namespace roisim {

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
  return out;
}

namespace {
std::string join(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) {
    if (!out.empty()) out += '\n';
    out += d.format();
  }
  return out;
}
}  // namespace

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

InputError::InputError(const std::string& message) : Error("error: " + message) {
  // Built in place rather than from an initializer list, which GCC 12 wrongly reports as reading
  // an uninitialised string (-Wmaybe-uninitialized).
  Diagnostic d;
  d.message = message;
  diagnostics_.push_back(std::move(d));
}

}  // namespace roisim
