#pragma once
// The per-scenario datasets of the results file (SPEC §6 and the decision statistics): name,
// where the value lives, and the netCDF long_name/units. One table, used by the serial writer
// (sim/results_file.cpp), the reader and the MPI writer (sim/mpi_run.cpp), so the two writers
// cannot drift apart.
//
// in_every_file: the dataset was written from the first release (format 1.0) on, so every results
// file holds it and the reader refuses a file without it (a damaged file, not an older layout).
// The others were added later (the decision statistics, commit 563b4b2): a file from before lacks
// them and reads as NaN there. A new field must stay false, or every older file would be refused.
#include <iterator>
#include <vector>

#include "sim/results_file.h"

namespace roisim::results_fields {

// The per-scenario scalar statistics, in file order.
struct ScalarField {
  const char* name;
  double ScenarioSummary::*member;
  const char* long_name;
  const char* units;
  bool in_every_file = false;
};
constexpr ScalarField kScalarFields[] = {
    {"roi_mean", &ScenarioSummary::roi_mean, "mean ROI", "1", true},
    {"roi_sd", &ScenarioSummary::roi_sd, "standard deviation of ROI", "1", true},
    {"roi_se", &ScenarioSummary::roi_se, "standard error of the mean ROI", "1", true},
    {"prob_loss", &ScenarioSummary::prob_loss, "P[ROI < 0]", "1", true},
    {"cvar10", &ScenarioSummary::cvar10, "mean ROI of the lowest 10% of trials", "1", true},
    {"npv_mean", &ScenarioSummary::npv_mean, "mean NPV", "", true},
    {"payback_p50", &ScenarioSummary::payback_p50, "median payback month (inf: no payback)", "month", true},
    {"prob_payback", &ScenarioSummary::prob_payback, "P[payback within horizon]", "1", true},
    {"npv_se", &ScenarioSummary::npv_se, "standard error of the mean NPV", ""},
    {"prob_loss_lo", &ScenarioSummary::prob_loss_lo, "95% Wilson interval of P[ROI < 0]: lower end", "1"},
    {"prob_loss_hi", &ScenarioSummary::prob_loss_hi, "95% Wilson interval of P[ROI < 0]: upper end", "1"},
    {"prob_payback_lo", &ScenarioSummary::prob_payback_lo, "95% Wilson interval of P[payback]: lower end", "1"},
    {"prob_payback_hi", &ScenarioSummary::prob_payback_hi, "95% Wilson interval of P[payback]: upper end", "1"},
};
constexpr int kNumScalarFields = static_cast<int>(std::size(kScalarFields));

// The per-scenario [scenario, quantile] statistics.
struct QuantileField {
  const char* name;
  double (ScenarioSummary::*member)[kNumQuantiles];
  const char* long_name;
  const char* units;
  bool in_every_file = false;
};
constexpr QuantileField kQuantileFields[] = {
    {"roi_quantile", &ScenarioSummary::roi_quantile, "ROI quantiles (type 7)", "1", true},
    {"npv_quantile", &ScenarioSummary::npv_quantile, "NPV quantiles (type 7)", "", true},
    {"roi_quantile_lo", &ScenarioSummary::roi_quantile_lo, "95% distribution-free interval of the ROI quantile: lower end", "1"},
    {"roi_quantile_hi", &ScenarioSummary::roi_quantile_hi, "95% distribution-free interval of the ROI quantile: upper end", "1"},
};
constexpr int kNumQuantileFields = static_cast<int>(std::size(kQuantileFields));

// The per-scenario, per-input [scenario, input] statistics.
struct InputField {
  const char* name;
  std::vector<double> Drivers::*member;
  const char* long_name;
  bool in_every_file = false;
};
constexpr InputField kInputFields[] = {
    {"spearman", &Drivers::spearman, "Spearman rank correlation of the input with ROI (NaN where absent)", true},
    {"variance_contribution", &Drivers::variance_contribution, "contribution to variance: squared rank correlation, normalised to sum to 1"},
    {"tornado_low", &Drivers::tornado_low, "ROI P50 of the trials whose input lies between its P5 and P15"},
    {"tornado_high", &Drivers::tornado_high, "ROI P50 of the trials whose input lies between its P85 and P95"},
    {"downside_shift", &Drivers::downside_shift, "mean percentile of the input in the worst 10% of trials minus 0.5"},
};
constexpr int kNumInputFields = static_cast<int>(std::size(kInputFields));

}  // namespace roisim::results_fields
