#pragma once
// Formatting of results summaries for `roisim run` and `roisim report`.
#include <ostream>
#include <string>
#include <vector>

#include "sim/results_file.h"

namespace roisim::cli {

// "12.3%" style percentage of a fraction; "n/a" for NaN.
std::string percent(double fraction, int decimals = 1);
// Payback month for display: "14" or "never".
std::string month(double m);
// An amount rounded to a whole unit with thousands separators: "1,234,567", "-12,000"; with
// sign = true a leading "+" on positive amounts (currency-neutral).
std::string money(double x, bool sign = false);
// Shortest decimal text that reads back to the same double ("nan", "inf" for the others).
std::string num(double x);
// x with `decimals` digits after the point ("0.483", "-0.900"); "n/a" for NaN, "inf"/"-inf".
std::string fixed(double x, int decimals);
// JSON number (null for NaN and infinities) and JSON string literal.
std::string json_num(double x);
std::string json_str(const std::string& s);
// A CSV field, quoted when it holds a comma, quote or newline.
std::string csv_field(const std::string& s);

// Names for a table column at most `cap` terminal columns wide: a long name keeps its start and
// end around an ellipsis, cut between characters, and no two different names print alike (the
// column widens where it must).
std::vector<std::string> fit_names(const std::vector<std::string>& names, std::size_t cap);
// Rows of cells as a table after `indent`: the first column left-aligned, the others right-aligned,
// each as wide as its widest cell in terminal columns, two spaces between columns.
void print_cells(std::ostream& out, const std::vector<std::vector<std::string>>& rows, const std::string& indent = "");

// The P10/P50/P90 table printed at the end of `roisim run` and by `report --format table`.
void print_table(std::ostream& out, const std::vector<std::string>& names, const std::vector<ScenarioSummary>& rows);
// `report --format csv|json`: one row (object) per chosen scenario with every summary statistic.
void print_csv(std::ostream& out, const ResultsSummary& r, const std::vector<std::size_t>& rows);
void print_json(std::ostream& out, const ResultsSummary& r, const std::vector<std::size_t>& rows);

// The 95% intervals of P10/P50/P90 ROI, mean ROI and P(loss).
void print_intervals(std::ostream& out, const ResultsSummary& r, const std::vector<std::size_t>& rows);
// The `top` inputs of scenario i by contribution to variance, with Spearman, tornado and downside.
void print_drivers(std::ostream& out, const ResultsSummary& r, std::size_t i, std::size_t top);

}  // namespace roisim::cli
