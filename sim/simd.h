#pragma once
// ROISIM_CLONES: a hot loop compiled twice, for AVX2 and for the x86-64 baseline (SSE2), the CPU
// picking one when the program is loaded (GCC target_clones, an ifunc). The bits are the same
// either way: the build never fuses multiply-adds (-ffp-contract=off, CMakeLists.txt), the
// compiler may not reassociate (no -ffast-math), and AVX2 adds, multiplies, divides and compares
// round exactly as SSE2 does. Elsewhere (other compilers or CPUs): one ordinary function.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ROISIM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ROISIM_CLONES
#endif
