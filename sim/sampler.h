#pragma once
// The uniforms of every input under the run's sampler (SPEC §5). Each is keyed by the seed and
// the stable hash of the input's name, never by thread, block or scenario:
//  mc    Philox4x64-10, key {seed, hash}, counter {trial, 0, 0, 0} (sim/rng.h).
//  lhs   Latin hypercube: u = (pi(trial) + U(trial)) / N, with U the mc uniform and pi a random
//        permutation of 0..N-1 given by ranking the keys Philox(counter {trial, 1, 0, 0}).
//  sobol Sobol points 0..N-1 (Boost.Random's direction numbers, origin included); input i of
//        the uncertain inputs sorted by name uses dimension i; each dimension is randomised by a
//        digital shift (XOR with Philox(counter {0, 2, 0, 0})), so the seed matters.
#include <cstdint>
#include <vector>

#include "sim/scenario.h"

namespace roisim {

class UniformSampler {
 public:
  // Precomputes what lhs (permutations) and sobol (points) need: O(N x inputs).
  explicit UniformSampler(const Plan& plan);
  // out[i] = uniform of variable `var` at trial first + i, strictly inside (0, 1).
  void fill(int var, std::uint64_t first, std::size_t len, double* out) const;
  double at(int var, std::uint64_t trial) const;
  Sampler sampler() const { return sampler_; }
  // Extra memory the precomputation holds, in bytes.
  std::uint64_t memory_bytes() const;

 private:
  const Plan& plan_;
  Sampler sampler_;
  std::uint64_t n_;
  std::vector<std::vector<std::uint32_t>> perm_;  // lhs: [var][trial]
  std::vector<int> dim_;                          // sobol: [var] -> dimension, -1 when constant
  std::vector<std::vector<double>> points_;       // sobol: [dimension][trial], shifted, in (0, 1)
};

}  // namespace roisim
