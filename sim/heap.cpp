#include "sim/heap.h"

#include <cstdlib>
#include <cstring>
#include <string_view>

#if defined(__GLIBC__)
#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace roisim {
namespace {

HeapSetup setup_heap() noexcept {
  HeapSetup s;
  if (const char* e = std::getenv("ROISIM_NO_HUGE_HEAP"); e && *e && std::string_view(e) != "0") {
    s.why_not = "ROISIM_NO_HUGE_HEAP is set";
    return s;
  }
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33) && defined(MADV_HUGEPAGE) && defined(M_ARENA_MAX)
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
  for (const int r : {RLIMIT_AS, RLIMIT_DATA}) {
    struct rlimit lim {};
    if (::getrlimit(r, &lim) != 0 || lim.rlim_cur != RLIM_INFINITY) {
      s.why_not = r == RLIMIT_AS ? "address space is limited (ulimit -v)" : "data is limited (ulimit -d)";
      return s;
    }
  }
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  constexpr int kDefaultTopPad = 128 * 1024;  // glibc's M_TOP_PAD default (mallopt(3))
  ::mallopt(M_ARENA_MAX, 1);
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // One byte more than the free space at the top of the heap (keepcost): glibc extends the heap
  // by it plus M_TOP_PAD, unless a free block elsewhere fits (then the heap did not grow: below).
  // The top of the heap (its free end, keepcost bytes) ends at the program break.
  const std::size_t probe = ::mallinfo2().keepcost + 1;
  const auto brk0 = reinterpret_cast<std::uintptr_t>(::sbrk(0));
  ::mallopt(M_TOP_PAD, static_cast<int>(kReserveBytes));
  void* p = std::malloc(probe);
  ::mallopt(M_TOP_PAD, kDefaultTopPad);
  if (!p) {
    s.why_not = "the heap could not grow";
    return s;
  }
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const auto brk = reinterpret_cast<std::uintptr_t>(::sbrk(0));
  // Past the probe and the header glibc writes after it (the top of the heap, 16 bytes).
  const std::uintptr_t begin = (a + probe + 64 + kHuge - 1) / kHuge * kHuge, end = brk / kHuge * kHuge;
  // The probe came from the old top (it reaches past the old break) and the break moved by about
  // the reserve (not so where brk(2) failed and glibc mapped memory elsewhere instead).
  if (a + probe <= brk0 || a >= brk || end <= begin || end - begin < kReserveBytes / 2) {
    std::free(p);
    s.why_not = "the heap did not grow where expected";
    return s;
  }
  // The spacer: the probe enlarged in place so that its successor, the top of the heap, has its
  // 16-byte header just below `begin` and gives out memory from `begin` on. A chunk of a request
  // of r bytes spans r + 8 rounded up to 16, from 16 bytes below the pointer; begin - a is a
  // multiple of 16. Kept for the life of the process: freed, it would return to the heap's top.
  void* q = std::realloc(p, begin - a - 8);
  if (q != p) {  // moved (not expected: it is followed by the heap's free top): no spacer
    std::free(q);
  }
  if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) != 0) {
    s.why_not = "the kernel has no transparent huge pages";
    return s;
  }
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
