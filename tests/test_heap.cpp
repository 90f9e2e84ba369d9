// prepare_heap (sim/heap.h) leaves glibc's heap alone when asked to, or when malloc is tuned
// through the environment. Each case runs in a process of its own (a death test, re-executed):
// prepare_heap() does its work once per process. What a prepared heap does is tested in
// test_heap_main.cpp, a program of its own that prepares its heap first thing, as roisim does.
#include "sim/heap.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// With `name` set to `value`, the heap is left alone, for a reason that mentions `reason`.
void expect_left_alone(const char* name, const char* value, const char* reason) {
  const std::string style = GTEST_FLAG_GET(death_test_style);
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a new process: prepare_heap() not yet called
  EXPECT_EXIT(
      {
        ::setenv(name, value, 1);
        const roisim::HeapSetup& h = roisim::prepare_heap();
        const bool ok = !h.huge && h.begin == 0 && h.why_not && std::strstr(h.why_not, reason);
        std::fprintf(stderr, "why not: %s\n", h.why_not ? h.why_not : "(none)");
        std::_Exit(ok ? 0 : 1);
      },
      testing::ExitedWithCode(0), reason)
      << name << "=" << value;
  GTEST_FLAG_SET(death_test_style, style);
}

TEST(HugePageHeapDeathTest, NothingWhenAskedNot) { expect_left_alone("ROISIM_NO_HUGE_HEAP", "1", "ROISIM_NO_HUGE_HEAP"); }

TEST(HugePageHeapDeathTest, MallocTunedThroughTheEnvironmentKeepsItsTuning) {
  expect_left_alone("GLIBC_TUNABLES", "glibc.malloc.arena_max=4", "GLIBC_TUNABLES");
  expect_left_alone("MALLOC_ARENA_MAX", "4", "MALLOC_");
}

}  // namespace
