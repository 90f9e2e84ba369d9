#pragma once
// Uniforms in [0, 1) for test samples (splitmix64, the top 53 bits), reproducible from the seed:
// the deterministic inputs of the statistics and block tests.
#include <cstdint>

class TestUniforms {
 public:
  explicit TestUniforms(std::uint64_t seed) : state_(seed) {}
  double operator()() {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1p-53;
  }

 private:
  std::uint64_t state_;
};
