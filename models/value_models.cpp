#include "models/value_models.h"

#include <array>

#include "sim/simd.h"

namespace roisim {

namespace {
constexpr ModelInput kRevenue[] = {
    {"sessions_per_month", false, 0}, {"baseline_ctr", false, 0}, {"offline_ctr_lift", false, 0},
    {"online_ratio", false, 0},       {"conversion_rate", false, 0}, {"avg_order_value", false, 0},
    {"margin", true, 1.0}};
constexpr ModelInput kAutomation[] = {{"tasks_per_month", false, 0}, {"manual_cost_per_task", false, 0},
                                      {"automation_rate", false, 0}, {"accuracy", false, 0},
                                      {"review_cost_per_error", false, 0}};
constexpr ModelInput kFraud[] = {{"transactions_per_month", false, 0}, {"fraud_rate", false, 0},
                                 {"catch_rate", false, 0},             {"avg_fraud_loss", false, 0},
                                 {"false_positive_rate", false, 0},    {"blocked_value", false, 0},
                                 {"review_rate", false, 0},            {"investigation_cost", false, 0}};
constexpr ModelInput kRetention[] = {{"customers", false, 0},
                                     {"annual_churn_rate", false, 0},
                                     {"offline_churn_reduction", false, 0},
                                     {"online_ratio", false, 0},
                                     {"revenue_per_customer", false, 0},
                                     {"margin", true, 1.0}};
constexpr ModelInput kDirect[] = {{"annual_value", false, 0}};

constexpr ModelInput kCost[kNumCostParams] = {
    {"initial_cost", false, 0}, {"maintenance_share", true, 0.0}, {"infra_annual", true, 0.0},
    {"launch_month", true, 0.0}, {"ramp_months", true, 0.0},      {"decay", true, 0.0},
    {"p_success", true, 1.0}};

constexpr std::array<const char*, 5> kNames = {"revenue", "automation", "fraud", "retention", "direct"};
}  // namespace

std::span<const ModelInput> model_inputs(ValueKind kind) noexcept {
  switch (kind) {
    case ValueKind::Revenue: return kRevenue;
    case ValueKind::Automation: return kAutomation;
    case ValueKind::Fraud: return kFraud;
    case ValueKind::Retention: return kRetention;
    case ValueKind::Direct: return kDirect;
  }
  return {};
}

const char* kind_name(ValueKind kind) noexcept { return kNames[static_cast<int>(kind)]; }

std::optional<ValueKind> parse_kind(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (name == kNames[i]) return static_cast<ValueKind>(i);
  return std::nullopt;
}

std::vector<std::string> kind_names() { return {kNames.begin(), kNames.end()}; }

namespace {
// The formulas, once: in(j) is input j (model_inputs() order). annual_value reads one trial's
// inputs, annual_value_block each trial's from the columns; the same operations in the same order.
template <ValueKind K, class In>
inline double value_of(const In& in) noexcept {
  if constexpr (K == ValueKind::Revenue) {
    return 12.0 * in(0) * in(1) * (in(2) * in(3)) * in(4) * in(5) * in(6);
  } else if constexpr (K == ValueKind::Automation) {
    // Evaluated in this order so that the worked example (SPEC §1) gives exactly 928,200.
    return 12.0 * in(0) * (in(1) - (1.0 - in(3)) * in(4)) * in(2);
  } else if constexpr (K == ValueKind::Fraud) {
    const double f0 = in(1), f1 = in(1) * (1.0 - in(2));
    return 12.0 * in(0) * ((f0 - f1) * in(3) - (1.0 - f0) * in(4) * in(5) - (f1 + in(4)) * in(6) * in(7));
  } else if constexpr (K == ValueKind::Retention) {
    return in(0) * in(1) * (in(2) * in(3)) * in(4) * in(5);
  } else {
    return in(0);
  }
}

template <ValueKind K>
inline void value_block(const double* const* in, std::size_t n, double* out) noexcept {
  for (std::size_t k = 0; k < n; ++k) out[k] = value_of<K>([in, k](int j) { return in[j][k]; });
}
}  // namespace

double annual_value(ValueKind kind, const double* in) noexcept {
  const auto at = [in](int j) { return in[j]; };
  switch (kind) {
    case ValueKind::Revenue: return value_of<ValueKind::Revenue>(at);
    case ValueKind::Automation: return value_of<ValueKind::Automation>(at);
    case ValueKind::Fraud: return value_of<ValueKind::Fraud>(at);
    case ValueKind::Retention: return value_of<ValueKind::Retention>(at);
    case ValueKind::Direct: return value_of<ValueKind::Direct>(at);
  }
  return 0.0;
}

ROISIM_CLONES
void annual_value_block(ValueKind kind, const double* const* in, std::size_t n, double* out) noexcept {
  switch (kind) {
    case ValueKind::Revenue: return value_block<ValueKind::Revenue>(in, n, out);
    case ValueKind::Automation: return value_block<ValueKind::Automation>(in, n, out);
    case ValueKind::Fraud: return value_block<ValueKind::Fraud>(in, n, out);
    case ValueKind::Retention: return value_block<ValueKind::Retention>(in, n, out);
    case ValueKind::Direct: return value_block<ValueKind::Direct>(in, n, out);
  }
}

const ModelInput& cost_param(int index) noexcept { return kCost[index]; }

}  // namespace roisim
