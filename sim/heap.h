#pragma once
// The process's heap on transparent huge pages: prepare_heap(), called first thing in main().
#include <cstddef>
#include <cstdint>

namespace roisim {

// On this project's VMs a first touch of memory costs far more than anything the run does with
// it: 13-40 us a 4 KiB page fault, 0.1-3.8 ms a 2 MiB one (the host backs the VM's memory as it is
// touched; a /tmp probe touching 28 MiB, five runs, on 2026-12-07). The engine's large buffers were
// already on huge pages (sim/buffer.h), but the rest of the heap - the scenario file's tree, the
// plan, each batch's work lists and results, HDF5's and libdeflate's state - took ~1,200 of the
// ~1,660 page faults of a one-thread summary-only seed run, one 4 KiB page at a time.
//
// prepare_heap() grows glibc's main heap once by kReserveBytes of address space and offers that
// to the kernel as transparent huge pages (madvise MADV_HUGEPAGE), so that the run's allocations
// fault in 2 MiB at a time, and keeps freed memory in the heap for the next batch rather than
// returning it and faulting it in again:
//  - M_ARENA_MAX 1: every thread allocates from the main heap (worker threads would otherwise get
//    arenas of their own, on small pages). The run's hot loops do not allocate (about 50,000
//    malloc calls a seed run, most of them in the serial start and glibc's per-thread cache
//    serves the small ones without the arena's lock);
//  - M_TRIM_THRESHOLD 1 GiB: memory freed at the top of the heap is kept for the next batch, not
//    returned to the kernel and faulted in again (glibc's default returns what exceeds 128 KiB,
//    or twice the largest block mapped and freed so far);
//  - M_MMAP_THRESHOLD 32 MiB (glibc's largest): setting the other two turns glibc's dynamic
//    threshold off, and once the reserve is used up every block above the default 128 KiB would
//    be mapped on its own and faulted in afresh each time (within the reserve, a block is taken
//    from the heap's free top whatever its size);
//  - the heap grown by a small allocation (forcing glibc to extend it) with M_TOP_PAD at
//    kReserveBytes, then M_TOP_PAD back to glibc's default (later growth in small steps, not in
//    reserves: under strict overcommit accounting the reserve is committed memory);
//  - that allocation enlarged in place up to the first 2 MiB boundary and kept (a spacer, never
//    touched beyond its header): the allocations after it start on the boundary, not in the
//    partly used 2 MiB before it, which has small pages already and would keep them.
// Address space is not memory: what is never touched costs nothing. What is touched is whole
// 2 MiB pages, so the peak resident memory of a seed run grows by a few MiB (41 -> 46 MiB on one
// thread, 63 -> 76 MiB on two). Results do not depend on any of this.
//
// Nothing is done (and the heap is glibc's default) with ROISIM_NO_HUGE_HEAP set (to anything but
// "" or "0"), where malloc is tuned through the environment (GLIBC_TUNABLES naming glibc.malloc.*,
// or MALLOC_ARENA_MAX, MALLOC_TOP_PAD_, MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_: that tuning
// is kept), off glibc, or where address space or data are limited (RLIMIT_AS or RLIMIT_DATA
// finite: the reserve would take a share of the limit); where the kernel declines huge pages
// (transparent_hugepage "never") the settings still keep freed memory for reuse. Memory the heap
// needs beyond the reserve is on small pages, as before.
struct HeapSetup {
  bool huge = false;                    // the reserve is offered as huge pages
  std::uintptr_t begin = 0, end = 0;    // the reserve: [begin, end), 2 MiB aligned
  const char* why_not = nullptr;        // when !huge: why
};

inline constexpr std::size_t kReserveBytes = std::size_t{256} << 20;

// The first call prepares the heap (see above); later calls return what the first one did. Call it
// before there are other threads (mallopt's settings are not for a heap in use by several).
const HeapSetup& prepare_heap() noexcept;

}  // namespace roisim
