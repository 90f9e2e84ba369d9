#include "sim/heap.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#if defined(__GLIBC__)
#include <malloc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace roisim {

std::string transparent_huge_pages_off() {
  const auto first_line = [](const char* path) {
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    return line;
  };
  const auto mode = [](const std::string& line) {  // the word in brackets: "always [madvise] never"
    const auto a = line.find('['), b = line.find(']');
    return a != std::string::npos && b > a ? line.substr(a + 1, b - a - 1) : std::string();
  };
  std::string global = mode(first_line("/sys/kernel/mm/transparent_hugepage/enabled"));
  if (global.empty()) return "the kernel has no transparent huge pages";
  // Linux 6.8 on: each size has its own setting, "inherit" taking the global one.
  std::string pmd = mode(first_line("/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/enabled"));
  if (pmd.empty() || pmd == "inherit") pmd = global;
  if (pmd == "never") return "transparent huge pages are off (never)";
#if defined(__GLIBC__) && defined(PR_GET_THP_DISABLE)
  if (::prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) > 0) return "transparent huge pages are off for this process";
#endif
  return {};
}

namespace {

HeapSetup setup_heap() noexcept {
  HeapSetup s;
  if (const char* e = std::getenv("ROISIM_NO_HUGE_HEAP"); e && *e && std::string_view(e) != "0") {
    s.why_not = "ROISIM_NO_HUGE_HEAP is set";
    return s;
  }
  // Whoever tunes glibc's malloc through the environment keeps that tuning (mallopt would override it).
  if (const char* t = std::getenv("GLIBC_TUNABLES"); t && std::strstr(t, "glibc.malloc.")) {
    s.why_not = "GLIBC_TUNABLES tunes malloc";
    return s;
  }
  for (const char* v : {"MALLOC_ARENA_MAX", "MALLOC_TOP_PAD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"})
    if (std::getenv(v)) {
      s.why_not = "a MALLOC_ variable tunes malloc";
      return s;
    }
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  s.why_not = "a sanitizer's allocator serves malloc";
  return s;
#elif defined(__GLIBC__) && __GLIBC_PREREQ(2, 33) && defined(MADV_HUGEPAGE) && defined(M_ARENA_MAX)
  for (const int r : {RLIMIT_AS, RLIMIT_DATA}) {
    struct rlimit lim {};
    if (::getrlimit(r, &lim) != 0 || lim.rlim_cur != RLIM_INFINITY) {
      s.why_not = r == RLIMIT_AS ? "address space is limited (ulimit -v)" : "data is limited (ulimit -d)";
      return s;
    }
  }
  {
    // Strict overcommit accounting charges the reserve as committed memory for the whole run.
    std::ifstream f("/proc/sys/vm/overcommit_memory");
    int mode = 0;
    if (f >> mode && mode == 2) {
      s.why_not = "strict overcommit accounting (vm.overcommit_memory 2)";
      return s;
    }
  }
  try {
    static const std::string off = transparent_huge_pages_off();
    if (!off.empty()) {
      s.why_not = off.c_str();
      return s;
    }
  } catch (...) {  // no memory for a line of sysfs: no reserve either
    s.why_not = "no memory";
    return s;
  }
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  constexpr int kDefaultTopPad = 128 * 1024, kDefaultThreshold = 128 * 1024;  // glibc's (mallopt(3))
  // A request larger than all the heap's free memory together (fordblks: its free top, bins and
  // fast bins) cannot be served from it: glibc extends the heap, by the request less the free top
  // plus M_TOP_PAD, and carves the block from the old top on. The break must be free to move that
  // far (a mapping just above it would make glibc map the padded top elsewhere): tried first, and
  // moved back at once (nothing there is touched, and nothing else allocates meanwhile).
  const std::size_t probe = std::max<std::size_t>(::mallinfo2().fordblks, 1032) + 1;
  const auto brk0 = reinterpret_cast<std::uintptr_t>(::sbrk(0));
  const auto room = static_cast<std::intptr_t>(kReserveBytes + probe + kHuge);
  if (::sbrk(room) == reinterpret_cast<void*>(-1)) {
    s.why_not = "the heap cannot grow in place";
    return s;
  }
  ::sbrk(-room);
  if (reinterpret_cast<std::uintptr_t>(::sbrk(0)) != brk0) {  // not expected; leave it alone
    s.why_not = "the heap cannot grow in place";
    return s;
  }
  // M_TOP_PAD (like the thresholds below) turns glibc's dynamic mmap threshold off for good: on a
  // failure from here on, the thresholds are set back to glibc's initial values.
  ::mallopt(M_TOP_PAD, static_cast<int>(kReserveBytes));
  void* p = std::malloc(probe);
  ::mallopt(M_TOP_PAD, kDefaultTopPad);
  const auto fail = [&](const char* why) {
    ::mallopt(M_TRIM_THRESHOLD, kDefaultThreshold);
    ::mallopt(M_MMAP_THRESHOLD, kDefaultThreshold);
    s.why_not = why;
    return s;
  };
  if (!p) return fail("the heap could not grow");
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const auto brk = reinterpret_cast<std::uintptr_t>(::sbrk(0));
  // Past the probe and the header glibc writes after it (the top of the heap, 16 bytes).
  const std::uintptr_t begin = (a + probe + 64 + kHuge - 1) / kHuge * kHuge, end = brk / kHuge * kHuge;
  // The probe came from the old top (it reaches past the old break) and the break moved by about
  // the reserve.
  if (a + probe <= brk0 || a >= brk || end <= begin || end - begin < kReserveBytes / 2) {
    std::free(p);
    return fail("the heap did not grow where expected");
  }
  // The spacer: the probe enlarged in place so that its successor, the top of the heap, has its
  // 16-byte header just below `begin` and gives out memory from `begin` on. A chunk of a request
  // of r bytes spans r + 8 rounded up to 16, from 16 bytes below the pointer; begin - a is a
  // multiple of 16. Kept for the life of the process: freed, it would return to the heap's top.
  void* q = std::realloc(p, begin - a - 8);
  if (q != p) {  // moved (not expected: it is followed by the heap's free top): no spacer
    std::free(q);
  }
  if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) != 0)
    return fail("the kernel refused huge pages for the heap");
  ::mallopt(M_ARENA_MAX, 1);
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  s.huge = true;
  s.begin = begin;
  s.end = end;
#else
  s.why_not = "not glibc on Linux";
#endif
  return s;
}

}  // namespace

const HeapSetup& prepare_heap() noexcept {
  static const HeapSetup setup = setup_heap();
  return setup;
}

}  // namespace roisim
