// prepare_heap (sim/heap.h): the run's allocations fault in 2 MiB at a time, and freed memory is
// reused rather than faulted in again. Each test runs in a process of its own under ctest.
#include "sim/heap.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

// The word in brackets of /sys/kernel/mm/transparent_hugepage/enabled ("always [madvise] never").
std::string thp_mode() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(f, line);
  const auto a = line.find('['), b = line.find(']');
  return a != std::string::npos && b > a ? line.substr(a + 1, b - a - 1) : std::string();
}

long vmstat(const std::string& key) {
  std::ifstream f("/proc/vmstat");
  std::string k;
  long v = 0;
  while (f >> k >> v)
    if (k == key) return v;
  return -1;
}

long minor_faults() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

// VmFlags and AnonHugePages (KiB) of the mapping that holds address a, from /proc/self/smaps.
struct Mapping {
  bool found = false;
  std::string flags;
  long anon_huge_kib = 0;
};
Mapping mapping_of(std::uintptr_t a) {
  std::ifstream f("/proc/self/smaps");
  Mapping m;
  bool in = false;
  for (std::string line; std::getline(f, line);) {
    unsigned long lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (line.find(':') > line.find(' ') && (head >> std::hex >> lo >> dash >> hi) && dash == '-') {
      if (in) break;  // past the mapping
      in = lo <= a && a < hi;
      m.found |= in;
      continue;
    }
    if (!in) continue;
    if (line.rfind("AnonHugePages:", 0) == 0) m.anon_huge_kib = std::strtol(line.c_str() + 14, nullptr, 10);
    if (line.rfind("VmFlags:", 0) == 0) m.flags = line.substr(8) + " ";
  }
  return m;
}

// Writes a byte in every 4 KiB page.
void touch(char* p, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; i += 4096) static_cast<volatile char*>(p)[i] = 1;
}

constexpr std::size_t kBytes = std::size_t{16} << 20;  // 4,096 small pages, 8 huge ones

TEST(HugePageHeap, AllocationsFaultInTwoMiBAtATime) {
  const roisim::HeapSetup& h = roisim::prepare_heap();
  if (!h.huge) GTEST_SKIP() << "heap not prepared: " << h.why_not;
  const std::string mode = thp_mode();
  if (mode != "always" && mode != "madvise") GTEST_SKIP() << "transparent huge pages: " << (mode.empty() ? "absent" : mode);
  EXPECT_EQ(h.begin % (2u << 20), 0u);
  EXPECT_EQ(h.end % (2u << 20), 0u);
  EXPECT_GE(h.end - h.begin, roisim::kReserveBytes / 2);
  EXPECT_EQ(&roisim::prepare_heap(), &h) << "a second call repeats the first's result";

  char* p = static_cast<char*>(std::malloc(kBytes));  // below M_MMAP_THRESHOLD: from the heap
  ASSERT_NE(p, nullptr);
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  EXPECT_GE(a, h.begin);
  EXPECT_LE(a + kBytes, h.end);
  const long fallback = vmstat("thp_fault_fallback"), before = minor_faults();
  touch(p, kBytes);
  const long faults = minor_faults() - before;
  if (vmstat("thp_fault_fallback") != fallback) GTEST_SKIP() << "the kernel had no free huge page to give";
  EXPECT_LE(faults, 16) << "16 MiB should fault in as 8 or 9 huge pages, not 4,096 small ones";
  const Mapping m = mapping_of(a);
  ASSERT_TRUE(m.found);
  EXPECT_NE(m.flags.find(" hg "), std::string::npos) << m.flags;
  EXPECT_GE(m.anon_huge_kib, 14 * 1024);
  std::free(p);
}

TEST(HugePageHeap, FreedMemoryIsReusedNotFaultedInAgain) {
  const roisim::HeapSetup& h = roisim::prepare_heap();
  if (!h.huge) GTEST_SKIP() << "heap not prepared: " << h.why_not;
  // Freed at the top of the heap, the block's memory stays there for the next one (glibc's default
  // trim threshold would hand it back to the kernel, and the next block would fault it in anew).
  char* p = static_cast<char*>(std::malloc(kBytes));
  ASSERT_NE(p, nullptr);
  touch(p, kBytes);
  std::free(p);
  char* q = static_cast<char*>(std::malloc(kBytes));
  ASSERT_NE(q, nullptr);
  const long before = minor_faults();
  touch(q, kBytes);
  EXPECT_LE(minor_faults() - before, 2) << "the freed block's memory should serve the next one";
  std::free(q);
}

// In a process of its own (prepare_heap() not yet called there): with `name` set to `value`, the
// heap is left alone, for a reason that mentions `reason`.
void expect_left_alone(const char* name, const char* value, const char* reason) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
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
}

TEST(HugePageHeapDeathTest, NothingWhenAskedNot) { expect_left_alone("ROISIM_NO_HUGE_HEAP", "1", "ROISIM_NO_HUGE_HEAP"); }

TEST(HugePageHeapDeathTest, MallocTunedThroughTheEnvironmentKeepsItsTuning) {
  expect_left_alone("GLIBC_TUNABLES", "glibc.malloc.arena_max=4", "GLIBC_TUNABLES");
  expect_left_alone("MALLOC_ARENA_MAX", "4", "MALLOC_");
}

}  // namespace
