#include "sim/sampler.h"

#include <algorithm>
#include <numeric>

#include <Random123/philox.h>
#include <boost/random/sobol.hpp>
#include <tbb/parallel_for.h>

#include "sim/errors.h"
#include "sim/rng.h"

namespace roisim {

namespace {
std::uint64_t philox_word(std::uint64_t seed, std::uint64_t hash, std::uint64_t c0, std::uint64_t c1) {
  r123::Philox4x64 g;
  return g({{c0, c1, 0, 0}}, {{seed, hash}})[0];
}
constexpr std::size_t kBlock = 4096;
}  // namespace

SobolDimensions sobol_dimensions(const Plan& plan) {
  const auto& vars = plan.variables();
  std::vector<char> declared(vars.size(), 0);  // a project slot's own input
  for (const Project& p : plan.projects())
    for (int v : p.slot_var) declared[static_cast<std::size_t>(v)] = 1;
  SobolDimensions d;
  for (std::size_t v = 0; v < vars.size(); ++v) {
    const Variable& x = vars[v];
    if (!(declared[v] || x.factor >= 0 || x.success_of >= 0)) continue;  // made by a scenario's `set`
    (x.defs.empty() || x.defs.front().dist.is_constant() ? d.others : d.declared_uncertain).push_back(x.name);
  }
  for (const Project& p : plan.projects())  // the reads of a factor: inputs of their own once `set`
    for (std::size_t k = 0; k < p.slot_var.size(); ++k)
      if (vars[static_cast<std::size_t>(p.slot_var[k])].factor >= 0) d.others.push_back(p.name + "." + p.slot_name[k]);
  std::sort(d.declared_uncertain.begin(), d.declared_uncertain.end());
  std::sort(d.others.begin(), d.others.end());
  d.others.erase(std::unique(d.others.begin(), d.others.end()), d.others.end());
  return d;
}

namespace {
// Each variable's Sobol dimension (uncertain ones; 0 for the others). Dimensions depend on the
// factors and projects sections alone, never on the scenarios (SPEC §5: adding a scenario never
// changes another's results): first the inputs declared uncertain there, by name; then every
// other name an input can have (a constant, or a project's read of a factor, which a scenario's
// `set` makes uncertain), by name.
std::vector<std::size_t> sobol_dimension_of(const Plan& plan) {
  const SobolDimensions sd = sobol_dimensions(plan);
  const std::vector<std::string>& first = sd.declared_uncertain;
  const std::vector<std::string>& rest = sd.others;
  const auto dimension_of = [&](const std::string& name) -> std::size_t {
    if (auto it = std::lower_bound(first.begin(), first.end(), name); it != first.end() && *it == name)
      return static_cast<std::size_t>(it - first.begin());
    const auto it = std::lower_bound(rest.begin(), rest.end(), name);
    if (it == rest.end() || *it != name) throw Error("internal error: input '" + name + "' has no Sobol dimension");
    return first.size() + static_cast<std::size_t>(it - rest.begin());
  };
  const auto& vars = plan.variables();
  std::vector<std::size_t> dim_of(vars.size(), 0);
  for (std::size_t v = 0; v < vars.size(); ++v)
    if (vars[v].uncertain()) dim_of[v] = dimension_of(vars[v].name);
  return dim_of;
}

// sobol_problem, from the dimensions sobol_dimension_of gave.
std::string sobol_problem(const Plan& plan, const std::vector<std::size_t>& dim_of) {
  const auto& vars = plan.variables();
  std::size_t last = vars.size();
  for (std::size_t v = 0; v < vars.size(); ++v)
    if (vars[v].uncertain() && (last == vars.size() || dim_of[v] > dim_of[last])) last = v;
  if (last == vars.size() || dim_of[last] + 1 <= BOOST_RANDOM_SOBOL_MAX_DIMENSION) return {};
  return "sampler sobol: input '" + vars[last].name + "' needs Sobol dimension " + std::to_string(dim_of[last] + 1) +
         ", but Boost.Random's tables stop at " + std::to_string(BOOST_RANDOM_SOBOL_MAX_DIMENSION) +
         " (one per input the file declares); use the lhs or mc sampler";
}
}  // namespace

std::string sobol_problem(const Plan& plan) { return sobol_problem(plan, sobol_dimension_of(plan)); }

void check_sampler(const Plan& plan, bool chosen_on_command_line) {
  if (plan.settings().sampler != Sampler::Sobol) return;
  const std::string why = sobol_problem(plan);
  if (why.empty()) return;
  const SourceLocation& at = plan.sampler_at();
  if (chosen_on_command_line || at.line == 0) throw InputError("--" + why);
  throw InputError::at(at.file, at.line, at.column, "settings." + why);
}

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
    const std::vector<std::size_t> dim_of = sobol_dimension_of(plan);  // (never from the scenarios)
    std::vector<int> used;  // the uncertain variables, in dimension order
    for (std::size_t v = 0; v < vars.size(); ++v)
      if (vars[v].uncertain()) used.push_back(static_cast<int>(v));
    std::sort(used.begin(), used.end(), [&](int a, int b) { return dim_of[a] < dim_of[b]; });
    const std::size_t dims = used.empty() ? 0 : dim_of[used.back()] + 1;  // generated per point
    if (const std::string why = sobol_problem(plan, dim_of); !why.empty()) throw Error(why);
    slot_.assign(vars.size(), -1);
    std::vector<std::size_t> want(used.size());  // dimension of points_[i]
    for (std::size_t i = 0; i < used.size(); ++i) {
      slot_[used[i]] = static_cast<int>(i);
      want[i] = dim_of[used[i]];
    }
    points_.assign(used.size(), std::vector<double>(n_));
    std::vector<std::uint64_t> shift(used.size());
    for (std::size_t i = 0; i < used.size(); ++i) shift[i] = philox_word(seed, vars[used[i]].hash, 0, 2);
    if (dims > 0) {
      const std::size_t blocks = (n_ + kBlock - 1) / kBlock;
      tbb::parallel_for(std::size_t{0}, blocks, [&](std::size_t b) {
        // Trial t is Sobol point t (point 0 is the origin, which the shift moves; Boost starts
        // at point 1, and after seed(k) yields point k + 1). Points 0..2^m-1 form a net.
        boost::random::sobol q(dims);
        const std::uint64_t t0 = b * kBlock, len = std::min<std::uint64_t>(kBlock, n_ - t0);
        std::uint64_t t = t0;
        if (t == 0) {
          for (std::size_t i = 0; i < used.size(); ++i) points_[i][0] = bits_to_open_unit(shift[i]);
          ++t;
        } else {
          q.seed(t0 - 1);
        }
        for (; t < t0 + len; ++t) {
          std::size_t i = 0;
          for (std::size_t d = 0; d < dims; ++d) {
            const std::uint64_t x = static_cast<std::uint64_t>(q());
            if (i < want.size() && want[i] == d) {
              points_[i][t] = bits_to_open_unit(x ^ shift[i]);
              ++i;
            }
          }
        }
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
      const auto& pts = points_[static_cast<std::size_t>(slot_[var])];
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
