#pragma once
// The planner's ROI memo (`roisim report --format markdown|html`): a one-page decision note for
// a CFO, written from a results file alone (its summaries, drivers, config and provenance).
//
// The verdict rule, stated in the memo itself, for hurdle h:
//   Fund          P10 ROI >= h and P(loss) < 5%: in 9 of 10 simulated futures the ROI clears h.
//   At risk       P50 ROI >= h otherwise (P10 ROI < h, or P(loss) >= 5%, or both): the typical
//                 future clears h, the downside does not; the memo says which test failed.
//   Do not fund   P50 ROI < h: the typical future does not clear h.
//   No verdict    P10 or P50 ROI or P(loss) is not a number (inputs beyond what a double holds
//                 made some futures' ROI NaN): nothing can be judged from them.
#include <ostream>
#include <string>
#include <vector>

namespace roisim::cli {

struct MemoOptions {
  std::string file;                    // results file
  double hurdle = 0.15;                // ROI a project must clear
  std::vector<std::string> scenarios;  // default: the first 6 explicit (non-sweep) scenarios, or
                                       // of the sweep's where there are none; the memo says when
                                       // it leaves some out
  bool html = false;                   // one self-contained HTML page with inline SVG charts
};

void write_memo(const MemoOptions& options, std::ostream& out);

// The verdict of one scenario by the rule above: "Fund", "At risk", "Do not fund" or "No verdict".
std::string verdict(double p10, double p50, double prob_loss, double hurdle);

}  // namespace roisim::cli
