#pragma once
// The process's heap on transparent huge pages: prepare_heap(), called first thing in main().
#include <cstddef>
#include <cstdint>
#include <string>

namespace roisim {

// On this project's VMs a first touch of memory costs far more than anything the run does with
// it: 13-40 us a 4 KiB page fault, 0.1-3.8 ms a 2 MiB one (the host backs the VM's memory as it is
// touched; a /tmp probe touching 28 MiB, five runs, on 2026-12-07). The engine's large buffers were
// already on huge pages (sim/buffer.h), but the rest of the heap - the scenario file's tree, the
// plan, each batch's work lists and results, HDF5's and libdeflate's state - took ~1,200 of the
// ~1,660 page faults of a one-thread summary-only seed run, one 4 KiB page at a time.
//
// prepare_heap() grows glibc's main heap once by kReserveBytes of address space, offers that to
// the kernel as transparent huge pages (madvise MADV_HUGEPAGE), so that the run's allocations
// fault in 2 MiB at a time, and keeps freed memory in the heap for the next batch rather than
// returning it and faulting it in again:
//  - the heap grown by an allocation larger than all its free memory (glibc must extend it) with
//    M_TOP_PAD at kReserveBytes, then M_TOP_PAD back to glibc's default (later growth in small
//    steps), after checking that the program break can move that far (moving it and back);
//  - that allocation enlarged in place up to the first 2 MiB boundary and kept (a spacer, never
//    touched beyond its header): the allocations after it start on the boundary, not in the
//    partly used 2 MiB before it, which has small pages already and would keep them;
//  - M_ARENA_MAX 1: every thread allocates from the main heap (worker threads would otherwise get
//    arenas of their own, on small pages). The run's hot loops do not allocate (~45,000 malloc
//    calls a seed run, ~10,000 of them in parallel loops - the reuse plan's scenario keys, the
//    success inputs - none in the simulation's or the statistics' per-block or per-scenario work),
//    and glibc's per-thread cache serves small blocks without the arena's lock;
//  - M_TRIM_THRESHOLD 1 GiB: memory freed at the top of the heap is kept for the next batch, not
//    returned to the kernel and faulted in again;
//  - M_MMAP_THRESHOLD 32 MiB (glibc's largest): setting the others turns glibc's dynamic threshold
//    off, and once the reserve is used up every block above the default 128 KiB would be mapped
//    on its own and faulted in afresh each time. While the reserve lasts, a block of any size is
//    taken from it; the engine's buffers of 1 MiB and more are mapped on their own instead
//    (sim/buffer.h), so that buffers a run outgrows (--target-ci) do not stay in the heap.
// Address space is not memory: what is never touched costs nothing. What is touched is whole
// 2 MiB pages. Results do not depend on any of this.
//
// Nothing is done (the heap stays glibc's default) with ROISIM_NO_HUGE_HEAP set (to anything but
// "" or "0"); under a sanitizer (its allocator serves malloc); where malloc is tuned through the
// environment (GLIBC_TUNABLES naming glibc.malloc.*, or MALLOC_ARENA_MAX, MALLOC_TOP_PAD_,
// MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_: that tuning is kept); where address space or
// data are limited (RLIMIT_AS or RLIMIT_DATA finite) or overcommit accounting is strict
// (vm.overcommit_memory 2): the reserve would take a share of the limit; where this process gets
// no transparent huge pages (transparent_huge_pages_off()); where the break cannot move (a mapping
// just above it); and off glibc. Should the heap then not grow as expected (not seen), the
// thresholds are set back to glibc's initial 128 KiB, but its dynamic threshold stays off.
// Memory the heap needs beyond the reserve is on small pages, as before.
struct HeapSetup {
  bool huge = false;                    // the reserve is offered as huge pages
  std::uintptr_t begin = 0, end = 0;    // the reserve: [begin, end), 2 MiB aligned
  const char* why_not = nullptr;        // when !huge: why
};

inline constexpr std::size_t kReserveBytes = std::size_t{256} << 20;

// The first call prepares the heap (see above); later calls return what the first one did. Call it
// first thing in main, before there are other threads: it moves the program break and back, and
// mallopt's settings are not for a heap in use.
const HeapSetup& prepare_heap() noexcept;

// Why this process gets no transparent huge pages of 2 MiB on madvise, or "" where it does: the
// kernel has none, they are "never" (globally, or for 2 MiB pages since Linux 6.8), or they are
// off for this process (prctl PR_SET_THP_DISABLE).
std::string transparent_huge_pages_off();

}  // namespace roisim
