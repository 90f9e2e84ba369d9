#include "sim/rng.h"

#include <Random123/philox.h>

namespace roisim {

std::uint64_t stable_hash(std::string_view name) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

double UniformStream::operator()(std::uint64_t trial) const noexcept {
  r123::Philox4x64 gen;
  r123::Philox4x64::ctr_type ctr = {{trial, 0, 0, 0}};
  r123::Philox4x64::key_type key = {{seed_, hash_}};
  return bits_to_open_unit(gen(ctr, key)[0]);
}

void UniformStream::fill(std::uint64_t first, std::size_t n, double* out) const noexcept {
  r123::Philox4x64 gen;
  r123::Philox4x64::key_type key = {{seed_, hash_}};
  for (std::size_t i = 0; i < n; ++i) {
    r123::Philox4x64::ctr_type ctr = {{first + i, 0, 0, 0}};
    out[i] = bits_to_open_unit(gen(ctr, key)[0]);
  }
}

}  // namespace roisim
