#pragma once
// Buffers that are written before they are read: std::vector with an allocator whose resize()
// leaves new elements uninitialised, mapped on their own on transparent huge pages from 1 MiB.
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include <sys/mman.h>

namespace roisim {

// std::vector's allocator, but resize() leaves new doubles uninitialised: the engine's buffers
// are written before they are read, and zero-filling them (serially, on the calling thread) is
// time a many-core run cannot spread.
// Buffers of 1 MiB or more are rounded up to whole 2 MiB, aligned to 2 MiB and offered to the
// kernel as transparent huge pages (madvise; Linux): each 2 MiB then costs one page fault on first
// touch instead of 512. On this project's VMs a page fault costs several microseconds (the seed
// run took 13,400 of them, ~12% of a one-thread summary-only run; a first write to a 4 KiB page
// costs ~11-15 us there, to memory on huge pages ~0.07 ms a MiB, ~0.3 us per 4 KiB, once the
// host backs it, and up to ~2.4 ms a MiB before); on others it is cheaper and this changes
// little. From 1 MiB rather than 2: the seed run's uniforms (25 inputs x 10,000 trials =
// 2,000,000 bytes, just under 2 MiB) took ~480 faults of 4 KiB. The price: up to 2 MiB more per
// buffer (1 MiB + 8 bytes takes 2 MiB, 2 MiB + 8 bytes 4 MiB), resident once touched. Where the
// kernel declines, they are ordinary pages. The results do not depend on it.
// Each is mapped on its own (mmap, 2 MiB aligned) and unmapped when freed, not taken from the heap:
// the heap keeps what it frees (sim/heap.h), and a run whose buffers grow (--target-ci adds trials
// step by step) would leave each step's buffers behind in it (a seed --target-ci run to 200,000
// trials, two threads, peaked at 548 MiB so, 470 MiB with the buffers mapped). Under
// AddressSanitizer they come from the heap (posix_memalign), whose blocks it guards.
template <class T>
struct NoInit : std::allocator<T> {
  template <class U>
  struct rebind { using other = NoInit<U>; };
  NoInit() = default;
  template <class U>
  NoInit(const NoInit<U>&) noexcept {}
  static constexpr std::size_t kHugePage = std::size_t{2} << 20, kHugeFrom = std::size_t{1} << 20;
  T* allocate(std::size_t n) {
    if (n > (std::numeric_limits<std::size_t>::max() - kHugePage) / sizeof(T)) throw std::bad_alloc();
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugeFrom) return std::allocator<T>::allocate(n);
    // Whole huge pages: a tail of small pages would fault page by page (~40% of the faults left
    // on the seed run). At most 2 MiB more per buffer.
    const std::size_t rounded = whole_pages(bytes);
#if defined(__SANITIZE_ADDRESS__)
    void* p = nullptr;
    if (::posix_memalign(&p, kHugePage, rounded) != 0) throw std::bad_alloc();
#else
    // 2 MiB more than needed, then the unaligned ends unmapped.
    void* m = ::mmap(nullptr, rounded + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    const auto at = reinterpret_cast<std::uintptr_t>(m);
    const std::uintptr_t aligned = (at + kHugePage - 1) / kHugePage * kHugePage;
    if (aligned > at) ::munmap(m, aligned - at);
    if (const std::uintptr_t tail = at + kHugePage - aligned) ::munmap(reinterpret_cast<void*>(aligned + rounded), tail);
    void* p = reinterpret_cast<void*>(aligned);
#endif
#ifdef MADV_HUGEPAGE
    (void)::madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kHugeFrom) return std::allocator<T>::deallocate(p, n);
#if defined(__SANITIZE_ADDRESS__)
    std::free(p);
#else
    ::munmap(p, whole_pages(n * sizeof(T)));
#endif
  }
  static std::size_t whole_pages(std::size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }
  template <class U>
  void construct(U* p) noexcept { ::new (static_cast<void*>(p)) U; }
  template <class U, class... A>
  void construct(U* p, A&&... a) { ::new (static_cast<void*>(p)) U(std::forward<A>(a)...); }
};
using Buffer = std::vector<double, NoInit<double>>;
using Bytes = std::vector<unsigned char, NoInit<unsigned char>>;

}  // namespace roisim
