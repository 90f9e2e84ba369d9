#pragma once
// The datasets of a results file (SPEC §6), created in one place for both writers: the serial one
// (ResultsWriter, sim/results_file.cpp) and the MPI one (sim/mpi_run.cpp), so that their files
// cannot differ in layout (tests/test_mpi.sh compares the two dataset by dataset).
#include <array>
#include <string>

#include "sim/hdf5.h"
#include "sim/results_fields.h"
#include "sim/results_file.h"

namespace roisim {

// The datasets the writers fill after the layout is made; the dimension scales and the
// correlation matrices are complete and closed by then.
struct ResultsDatasets {
  h5::Hid scenario, funded;
  h5::Hid roi, npv, payback_month;  // not made with summary_only
  std::array<h5::Hid, results_fields::kNumScalarFields> scalar;
  std::array<h5::Hid, results_fields::kNumQuantileFields> quantile;
  std::array<h5::Hid, results_fields::kNumInputFields> input;
  h5::Hid cashflow;
};

// Creates in `file` (new and empty) every dataset of `layout` with its dimension scales, chunks,
// filters and netCDF attributes; writes the coordinates (trial, input, quantile, month,
// corr_input, corr_input_to), the correlation matrices and the root attributes. Messages name
// `fn`, the results file asked for; vlen_utf8 is the string type (h5::make_vlen_utf8).
// Chunk shapes: trial_chunk_shape and stat_chunk_rows (sim/results_file.h).
ResultsDatasets create_results_datasets(hid_t file, const std::string& fn, const ResultsLayout& layout, hid_t vlen_utf8);

}  // namespace roisim
