#pragma once
// The value models of SPEC §1: annual run-rate value A at full adoption, by project kind.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace roisim {

enum class ValueKind { Revenue, Automation, Fraud, Retention, Direct };

// One named input of a value model; `has_default` inputs may be omitted (margin defaults to 1).
struct ModelInput {
  const char* name;
  bool has_default;
  double default_value;
};

// The inputs of a kind, in the order annual_value() expects them.
std::span<const ModelInput> model_inputs(ValueKind kind) noexcept;
const char* kind_name(ValueKind kind) noexcept;
std::optional<ValueKind> parse_kind(std::string_view name) noexcept;
std::vector<std::string> kind_names();

// A per year, from the kind's inputs in model_inputs() order (all rates are fractions):
//  revenue:    12 · sessions · ctr · (lift · online_ratio) · conversion · order_value · margin
//  automation: 12 · tasks · automation_rate · (manual_cost − (1 − accuracy) · review_cost)
//  fraud:      12 · T · [(f0 − f1) · loss − (1 − f0) · fpr · blocked − (f1 + fpr) · review_rate · inv_cost]
//              with f0 = fraud_rate, f1 = fraud_rate · (1 − catch_rate)
//  retention:  customers · churn · (reduction · online_ratio) · revenue_per_customer · margin
//  direct:     annual_value
double annual_value(ValueKind kind, const double* in) noexcept;
// annual_value of n trials at once: input j of trial k at in[j][k], A into out[k] (the same
// operations for each trial, so the same bits).
void annual_value_block(ValueKind kind, const double* const* in, std::size_t n, double* out) noexcept;

// The cost and timing parameters every project has (SPEC §2), in this order.
enum CostParam { kInitialCost, kMaintenanceShare, kInfraAnnual, kLaunchMonth, kRampMonths, kDecay, kPSuccess, kNumCostParams };
// Name, whether it is required, and its default.
const ModelInput& cost_param(int index) noexcept;

}  // namespace roisim
