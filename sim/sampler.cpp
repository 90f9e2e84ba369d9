#include "sim/sampler.h"

#include <algorithm>
#include <numeric>

#include <Random123/philox.h>
#include <boost/random/sobol.hpp>
#include <tbb/parallel_for.h>

#include "sim/rng.h"

namespace roisim {

namespace {
std::uint64_t philox_word(std::uint64_t seed, std::uint64_t hash, std::uint64_t c0, std::uint64_t c1) {
  r123::Philox4x64 g;
  return g({{c0, c1, 0, 0}}, {{seed, hash}})[0];
}
constexpr std::size_t kBlock = 4096;
}  // namespace

UniformSampler::UniformSampler(const Plan& plan)
    : plan_(plan), sampler_(plan.settings().sampler), n_(plan.settings().trials) {
  const auto& vars = plan.variables();
  const std::uint64_t seed = plan.settings().seed;
  if (sampler_ == Sampler::LatinHypercube) {
    perm_.resize(vars.size());
    tbb::parallel_for(std::size_t{0}, vars.size(), [&](std::size_t v) {
      if (!vars[v].uncertain()) return;
      std::vector<std::pair<std::uint64_t, std::uint32_t>> keys(n_);
      for (std::uint64_t t = 0; t < n_; ++t) keys[t] = {philox_word(seed, vars[v].hash, t, 1), static_cast<std::uint32_t>(t)};
      std::sort(keys.begin(), keys.end());  // ties (probability ~N^2/2^65) broken by trial
      auto& p = perm_[v];
      p.resize(n_);
      for (std::uint64_t i = 0; i < n_; ++i) p[keys[i].second] = static_cast<std::uint32_t>(i);
    });
  } else if (sampler_ == Sampler::Sobol) {
    std::vector<int> order;
    for (std::size_t v = 0; v < vars.size(); ++v)
      if (vars[v].uncertain()) order.push_back(static_cast<int>(v));
    std::sort(order.begin(), order.end(), [&](int a, int b) { return vars[a].name < vars[b].name; });
    dim_.assign(vars.size(), -1);
    for (std::size_t d = 0; d < order.size(); ++d) dim_[order[d]] = static_cast<int>(d);
    const std::size_t dims = order.size();
    points_.assign(dims, std::vector<double>(n_));
    std::vector<std::uint64_t> shift(dims);
    for (std::size_t d = 0; d < dims; ++d) shift[d] = philox_word(seed, vars[order[d]].hash, 0, 2);
    if (dims > 0) {
      const std::size_t blocks = (n_ + kBlock - 1) / kBlock;
      tbb::parallel_for(std::size_t{0}, blocks, [&](std::size_t b) {
        // Trial t is Sobol point t (point 0 is the origin, which the shift moves; Boost starts
        // at point 1, and after seed(k) yields point k + 1). Points 0..2^m-1 form a net.
        boost::random::sobol q(dims);
        const std::uint64_t t0 = b * kBlock, len = std::min<std::uint64_t>(kBlock, n_ - t0);
        std::uint64_t t = t0;
        if (t == 0) {
          for (std::size_t d = 0; d < dims; ++d) points_[d][0] = bits_to_open_unit(shift[d]);
          ++t;
        } else {
          q.seed(t0 - 1);
        }
        for (; t < t0 + len; ++t)
          for (std::size_t d = 0; d < dims; ++d) points_[d][t] = bits_to_open_unit(static_cast<std::uint64_t>(q()) ^ shift[d]);
      });
    }
  }
}

void UniformSampler::fill(int var, std::uint64_t first, std::size_t len, double* out) const {
  const Variable& v = plan_.variables()[var];
  switch (sampler_) {
    case Sampler::MonteCarlo:
      UniformStream(plan_.settings().seed, v.hash).fill(first, len, out);
      return;
    case Sampler::LatinHypercube: {
      UniformStream(plan_.settings().seed, v.hash).fill(first, len, out);
      const auto& p = perm_[var];
      const double inv = 1.0 / static_cast<double>(n_);
      for (std::size_t i = 0; i < len; ++i) {
        const double u = (static_cast<double>(p[first + i]) + out[i]) * inv;
        out[i] = std::min(u, 1.0 - 0x1.0p-53);  // rounding can reach 1.0 in the top stratum
      }
      return;
    }
    case Sampler::Sobol: {
      const auto& pts = points_[dim_[var]];
      std::copy(pts.begin() + static_cast<std::ptrdiff_t>(first), pts.begin() + static_cast<std::ptrdiff_t>(first + len), out);
      return;
    }
  }
}

double UniformSampler::at(int var, std::uint64_t trial) const {
  double u;
  fill(var, trial, 1, &u);
  return u;
}

std::uint64_t UniformSampler::memory_bytes() const {
  std::uint64_t b = 0;
  for (const auto& p : perm_) b += p.size() * sizeof(std::uint32_t);
  for (const auto& p : points_) b += p.size() * sizeof(double);
  return b;
}

}  // namespace roisim
