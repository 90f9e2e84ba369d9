#pragma once
// Counter-based random numbers (SPEC §5): one uniform per (seed, input name, trial).
#include <cstdint>
#include <string_view>

namespace roisim {

// Stable 64-bit hash of an input's full name: FNV-1a over the UTF-8 bytes
// (offset basis 0xcbf29ce484222325, prime 0x100000001b3). Platform independent.
std::uint64_t stable_hash(std::string_view name) noexcept;

// The stream of uniforms of one input: Philox4x64-10 with key = {seed, stable_hash(name)}
// and counter = {trial, 0, 0, 0}; the uniform is (top 52 bits of word 0 + 0.5) / 2^52, which
// lies in [2^-53, 1 - 2^-53]: strictly inside (0, 1) and exactly representable (with 53 bits the
// largest value would round to 1.0).
class UniformStream {
 public:
  UniformStream(std::uint64_t seed, std::uint64_t name_hash) noexcept : seed_(seed), hash_(name_hash) {}
  double operator()(std::uint64_t trial) const noexcept;
  // Fills out[i] = (*this)(first + i) for i < n.
  void fill(std::uint64_t first, std::size_t n, double* out) const noexcept;

 private:
  std::uint64_t seed_;
  std::uint64_t hash_;
};

// Maps 64 random bits to a double strictly inside (0, 1).
inline double bits_to_open_unit(std::uint64_t bits) noexcept {
  return (static_cast<double>(bits >> 12) + 0.5) * 0x1.0p-52;
}

}  // namespace roisim
