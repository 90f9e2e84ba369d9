#pragma once
// ROISIM_CLONES: a hot loop compiled three times, for x86-64-v4 (AVX-512: AVX512F/BW/CD/DQ/VL), for
// AVX2 and for the x86-64 baseline (SSE2), the CPU picking one when the program is loaded (GCC
// target_clones, an ifunc). The bits are the same either way: the build never fuses
// multiply-adds (-ffp-contract=off, CMakeLists.txt), the compiler may not reassociate (no
// -ffast-math), and AVX-512 and AVX2 adds, multiplies, divides, square roots, compares (into
// vector or mask registers), blends and conversions round and select exactly as SSE2 does (no
// FMA, rcp14 or rsqrt14 in the clones' code), and CI checks it: tests/cross_isa.sh compares the
// results files of this build and of an AVX2-only one (-DROISIM_CLONES=AVX2), each on the widest
// clone the machine has, with a baseline build's (-DROISIM_CLONES=OFF). The
// x86-64-v4 clone: 7% less CPU time on the seed run on an Intel Xeon (family 6 model 207); on an
// AMD EPYC no difference in alternating `roisim bench` runs. Elsewhere (other compilers or CPUs), and
// under ThreadSanitizer (an ifunc resolver, instrumented, runs before TSan is set up and crashes
// the loader), and in a build with -DROISIM_CLONES=OFF (ROISIM_NO_CLONES: the baseline alone):
// one ordinary function.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__) && \
    !defined(ROISIM_NO_CLONES)
#if defined(ROISIM_CLONES_AVX2_ONLY)  // -DROISIM_CLONES=AVX2: for tests/cross_isa.sh
#define ROISIM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ROISIM_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
#else
#define ROISIM_CLONES
#endif

// GCC vector extensions: four double lanes, lowered to one AVX2 register or two SSE2 ones; each
// lane computes exactly what the scalar code would. Passed by reference (a vector returned by
// value would change the ABI between the clones).
namespace roisim::simd {
using V4d = double __attribute__((vector_size(32)));
using V4l = long long __attribute__((vector_size(32)));  // comparison masks of V4d
using V4i = int __attribute__((vector_size(16)));
using V4us = unsigned short __attribute__((vector_size(8)));
inline void load(V4d& v, const double* p) { __builtin_memcpy(&v, p, sizeof v); }
inline void store(double* p, const V4d& v) { __builtin_memcpy(p, &v, sizeof v); }
}  // namespace roisim::simd
