#pragma once
// The uniforms of every input under the run's sampler (SPEC §5). Each is keyed by the seed and
// the stable hash of the input's name, never by thread, block or scenario:
//  mc    Philox4x64-10, key {seed, hash}, counter {trial, 0, 0, 0} (sim/rng.h).
//  lhs   Latin hypercube: u = (pi(trial) + U(trial)) / N, with U the mc uniform and pi a random
//        permutation of 0..N-1 given by ranking the keys Philox(counter {trial, 1, 0, 0}).
//  sobol Sobol points 0..N-1 (Boost.Random's direction numbers, origin included); the inputs
//        declared uncertain in the factors and projects sections take dimensions 0, 1, ... by
//        name, every other input name a file can hold (constants, a project's read of a factor)
//        the dimensions after them, by name: no scenario moves another's dimensions. Each
//        dimension is randomised by a digital shift (XOR with Philox(counter {0, 2, 0, 0})), so
//        the seed matters.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace roisim {

// Sobol dimensions by input name: declared_uncertain[i] takes dimension i, others[j] dimension
// declared_uncertain.size() + j. Both follow from the factors and projects sections alone.
struct SobolDimensions {
  std::vector<std::string> declared_uncertain, others;
  bool operator==(const SobolDimensions&) const = default;
};
SobolDimensions sobol_dimensions(const Plan& plan);
// Why `plan` cannot run with the sobol sampler (an input past Boost.Random's last dimension), or "".
std::string sobol_problem(const Plan& plan);
// Refuses (InputError) a plan whose sampler cannot run it: at the file's settings.sampler, or
// naming --sampler when the command line chose the sampler (which may also choose another for a
// file that asks for sobol). `validate` and `run` call it once the sampler is final; the sampler
// itself refuses it too, for other callers.
void check_sampler(const Plan& plan, bool chosen_on_command_line);
// The results file's `sobol_dimensions` attribute (sobol runs): names this assignment.
inline constexpr const char* kSobolDimensionScheme = "declared uncertain inputs by name, then every other input name by name";

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
  std::vector<int> slot_;                         // sobol: [var] -> index in points_, -1 when constant
  std::vector<std::vector<double>> points_;       // sobol: [uncertain input][trial], shifted, in (0, 1)
};

}  // namespace roisim
