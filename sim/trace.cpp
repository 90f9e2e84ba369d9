#include "sim/trace.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace roisim {
namespace {
const auto g_start = std::chrono::steady_clock::now();
const bool g_enabled = [] {
  const char* v = std::getenv("ROISIM_TIMELINE");
  return v && *v && std::strcmp(v, "0") != 0;
}();
}  // namespace

void trace(const char* what, long index) noexcept {
  if (!g_enabled) return;
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - g_start).count();
  if (index >= 0)
    std::fprintf(stderr, "[roisim +%.3f ms] %s %ld\n", ms, what, index);
  else
    std::fprintf(stderr, "[roisim +%.3f ms] %s\n", ms, what);
}
}  // namespace roisim
