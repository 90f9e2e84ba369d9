#pragma once
// The scenario file (SPEC §4) loaded into an immutable, validated plan of the run.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "models/value_models.h"
#include "sim/correlation.h"
#include "sim/distributions.h"
#include "sim/errors.h"

namespace roisim {

enum class Sampler { MonteCarlo, LatinHypercube, Sobol };
const char* sampler_name(Sampler s) noexcept;

// The largest trial count (the file's settings.trials and --trials) and seed (stored as the results
// file's int64 `seed` attribute) accepted.
inline constexpr std::uint64_t kMaxTrials = std::uint64_t{1} << 40;
inline constexpr std::uint64_t kMaxSeed = 9223372036854775807ull;  // 2^63 - 1

struct Settings {
  std::uint64_t trials = 10000;
  std::uint64_t seed = 0;
  Sampler sampler = Sampler::MonteCarlo;
  int horizon_months = 36;
  double discount_rate = 0.0;
  bool correlation_repair = false;  // settings: {correlation_repair: nearest}
};

// One way a variable may be distributed; defs[0] of a variable is its definition in the
// projects/factors section, further ones come from `set` overrides.
struct VariableDef {
  Distribution dist;
  SourceLocation where;
};

// A random variable: a factor, a project parameter ("project.param") or a project's
// success draw ("project.success"). Its uniforms come from the stream keyed by its name.
struct Variable {
  std::string name;
  std::uint64_t hash = 0;
  std::vector<VariableDef> defs;
  int factor = -1;          // >= 0 when this is a factor
  int success_of = -1;      // project index when this is "project.success"
  int copula_index = -1;    // position in the Gaussian copula, -1 when uncorrelated
  int input_index = -1;     // position in the results' `input` dimension, -1 when not an input
  bool uncertain() const;   // some definition is not a constant
};

// A project: its value model and, for each parameter slot (the kind's value inputs in
// model_inputs() order, then the kNumCostParams cost parameters), the variable it reads.
struct Project {
  std::string name;
  ValueKind kind = ValueKind::Direct;
  SourceLocation where;
  std::vector<int> slot_var;    // [slots()]
  std::vector<std::string> slot_name;
  int success_var = -1;
  int slots() const { return static_cast<int>(slot_var.size()); }
  int value_slots() const;      // number of value-model inputs
  int cost_slot(int cost_param) const { return value_slots() + cost_param; }
};

// The changes one scenario (or one sweep axis value) makes to the base model.
struct Overrides {
  struct DefChoice { int var; int def; };
  struct Retarget { int project; int slot; int var; };  // `set` on a slot that reads a factor
  struct VarScale { int var; double factor; };          // `scale` of a factor
  struct SlotScale { int project; int slot; double factor; };
  std::vector<DefChoice> defs;
  std::vector<Retarget> retargets;
  std::vector<VarScale> var_scales;
  std::vector<SlotScale> slot_scales;
  void append(const Overrides& o);
};

// One scenario, fully resolved.
struct ScenarioSpec {
  std::string name;
  std::vector<int> funded;  // project indices, ascending
  Overrides overrides;
};

// What a slot of a project reads in a scenario: the variable, its definition and a scale.
struct SlotBinding {
  int var = -1;
  int def = 0;
  double scale = 1.0;
  bool operator==(const SlotBinding&) const = default;
  auto operator<=>(const SlotBinding&) const = default;
};

class Plan;
// The bindings of every slot of project p under the given overrides.
std::vector<SlotBinding> bind_project(const Plan& plan, int project, const Overrides& o);

// The validated model of a scenario file. Scenarios are expanded lazily: scenario(i) builds
// the i-th scenario on demand, so a sweep of 100,000 scenarios costs no memory up front.
class Plan {
 public:
  // Parses and validates; throws InputError with every problem found (file:line:col).
  static Plan load_file(const std::string& path);
  static Plan load_text(const std::string& text, const std::string& file_name);

  const std::string& name() const { return name_; }
  const std::string& file() const { return file_; }
  const std::string& config_text() const { return text_; }
  Settings& settings() { return settings_; }
  const Settings& settings() const { return settings_; }
  // Where the file sets settings.sampler (line 0 when it does not): for messages about the sampler.
  const SourceLocation& sampler_at() const { return sampler_at_; }

  const std::vector<Variable>& variables() const { return vars_; }
  const std::vector<Project>& projects() const { return projects_; }
  const std::vector<std::string>& factor_names() const { return factor_names_; }
  // The `input` dimension: names of the uncertain variables, in a stable order.
  const std::vector<int>& input_vars() const { return input_vars_; }
  std::vector<std::string> input_names() const;
  // Correlation (nullptr when the file has none).
  const GaussianCopula* copula() const { return copula_.get(); }
  const std::vector<int>& copula_vars() const { return copula_vars_; }

  std::uint64_t scenario_count() const;
  ScenarioSpec scenario(std::uint64_t index) const;
  std::string scenario_name(std::uint64_t index) const;
  // Index of the scenario with this name, if any (a linear scan of the names).
  std::optional<std::uint64_t> find_scenario(const std::string& name) const;

  // Internal: the sweep, used by scenario().
  struct AxisValue { std::string name; Overrides overrides; };
  struct Axis { std::string name; std::vector<AxisValue> values; };
  struct Sweep {
    std::vector<Axis> axes;
    bool all_subsets = false;
    std::vector<std::vector<int>> funded_lists;  // when not all_subsets
    std::uint64_t funded_count(std::size_t projects) const;
  };

 private:
  friend class PlanBuilder;
  std::string name_, file_, text_;
  Settings settings_;
  SourceLocation sampler_at_;
  std::vector<Variable> vars_;
  std::vector<Project> projects_;
  std::vector<std::string> factor_names_;
  std::vector<int> input_vars_;
  std::shared_ptr<const GaussianCopula> copula_;
  std::vector<int> copula_vars_;
  std::vector<ScenarioSpec> explicit_;
  std::optional<Sweep> sweep_;
};

}  // namespace roisim
