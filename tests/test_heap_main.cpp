// A prepared heap (sim/heap.h), in a program that prepares it first thing, as roisim's main does:
// allocations fault in 2 MiB at a time, freed memory is reused rather than faulted in again, and
// the engine's large buffers (sim/buffer.h) are mapped on their own, so that a run outgrowing them
// does not leave them in the heap. Skipped, with the reason, where the heap was not prepared.
#include "sim/buffer.h"
#include "sim/heap.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

constexpr std::size_t kHuge = std::size_t{2} << 20;

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

// Resident anonymous memory of the process, KiB (RssAnon in /proc/self/status).
long rss_anon_kib() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("RssAnon:", 0) == 0) return std::strtol(line.c_str() + 8, nullptr, 10);
  return -1;
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

char* aligned_up(char* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  return reinterpret_cast<char*>((a + kHuge - 1) / kHuge * kHuge);
}

constexpr std::size_t kBytes = std::size_t{16} << 20;  // 4,096 small pages, 8 huge ones

TEST(PreparedHeap, AllocationsFaultInTwoMiBAtATime) {
  const roisim::HeapSetup& h = roisim::prepare_heap();
  if (!h.huge) GTEST_SKIP() << "heap not prepared: " << h.why_not;
  EXPECT_EQ(h.begin % kHuge, 0u);
  EXPECT_EQ(h.end % kHuge, 0u);
  EXPECT_GE(h.end - h.begin, roisim::kReserveBytes / 2);
  EXPECT_EQ(&roisim::prepare_heap(), &h) << "a second call repeats the first's result";

  // 16 MiB of whole 2 MiB pages that nothing has touched yet, inside a block from the heap.
  char* block = static_cast<char*>(std::malloc(kBytes + kHuge));
  ASSERT_NE(block, nullptr);
  char* p = aligned_up(block);
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  EXPECT_GE(a, h.begin);
  EXPECT_LE(a + kBytes, h.end);
  const long fallback = vmstat("thp_fault_fallback"), before = minor_faults();
  touch(p, kBytes);
  const long faults = minor_faults() - before;
  if (vmstat("thp_fault_fallback") != fallback) GTEST_SKIP() << "the kernel had no free huge page to give";
  EXPECT_LE(faults, 12) << "16 MiB should fault in as 8 huge pages, not 4,096 small ones";
  const Mapping m = mapping_of(a);
  ASSERT_TRUE(m.found);
  EXPECT_NE(m.flags.find(" hg "), std::string::npos) << m.flags;
  EXPECT_GE(m.anon_huge_kib, 16 * 1024);
  std::free(block);
}

TEST(PreparedHeap, FreedMemoryIsReusedNotFaultedInAgain) {
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

TEST(PreparedHeap, EngineBuffersAreMappedOnTheirOwnAndReturnedWhenFreed) {
  const roisim::HeapSetup& h = roisim::prepare_heap();
  if (!h.huge) GTEST_SKIP() << "heap not prepared: " << h.why_not;
  const long rss0 = rss_anon_kib();
  std::uintptr_t at = 0;
  {
    roisim::Buffer b;
    b.resize((std::size_t{48} << 20) / sizeof(double));  // 48 MiB, as a long run's batch buffers
    touch(reinterpret_cast<char*>(b.data()), b.size() * sizeof(double));
    at = reinterpret_cast<std::uintptr_t>(b.data());
    EXPECT_EQ(at % kHuge, 0u);
    EXPECT_TRUE(at + b.size() * sizeof(double) <= h.begin || at >= h.end) << "a buffer of 1 MiB or more comes from the heap";
    EXPECT_GE(rss_anon_kib() - rss0, 40 * 1024);
  }
  EXPECT_FALSE(mapping_of(at).found) << "the freed buffer is still mapped";
  EXPECT_LT(rss_anon_kib() - rss0, 4 * 1024) << "the freed buffer's memory stays resident";
}

}  // namespace

int main(int argc, char** argv) {
  roisim::prepare_heap();  // first, as in roisim's main
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
