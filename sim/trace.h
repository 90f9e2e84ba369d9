#pragma once
// ROISIM_TIMELINE=1 in the environment: roisim prints when each phase of a run starts and ends
// ("[roisim +12.345 ms] batch 3 simulated"), to stderr, from whichever thread reaches it. For
// finding serial time on many cores (README "Performance"); silent and nearly free otherwise.
namespace roisim {
// `what`, then `index` unless it is negative.
void trace(const char* what, long index = -1) noexcept;
}  // namespace roisim
