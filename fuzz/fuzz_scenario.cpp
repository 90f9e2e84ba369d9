// libFuzzer target for the scenario loader (sim/scenario.h, sim/yaml_strict.h).
//
// Every input is fed to roisim::Plan::load_text. Bad input must come back as a roisim::Error
// (InputError and friends, sim/errors.h); anything else -- another exception type, a crash, a
// sanitizer report, a hang or runaway memory -- is a finding. When a file loads, the plan is
// exercised the way `roisim validate` and the engine's set-up use it: the scenario count, the
// first and last scenarios (expanded lazily, so a huge sweep costs nothing), the input names.
//
// Build and run: tools/fuzz.sh [SECONDS]   (clang, -fsanitize=fuzzer,address,undefined)
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/errors.h"
#include "sim/scenario.h"

namespace {

void touch_scenario(const roisim::Plan& plan, std::uint64_t index) {
  const roisim::ScenarioSpec s = plan.scenario(index);
  const std::string name = plan.scenario_name(index);
  if (name != s.name) __builtin_trap();  // the two ways of naming a scenario must agree
  for (int p : s.funded)
    if (p < 0 || static_cast<std::size_t>(p) >= plan.projects().size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const roisim::Plan plan = roisim::Plan::load_text(text, "fuzz.yaml");
    const std::uint64_t n = plan.scenario_count();
    if (n == 0) __builtin_trap();  // a loaded plan always has at least one scenario
    touch_scenario(plan, 0);
    if (n > 1) touch_scenario(plan, n - 1);
    if (n > 2) touch_scenario(plan, n / 2);
    const auto names = plan.input_names();
    if (names.size() != plan.input_vars().size()) __builtin_trap();
  } catch (const roisim::Error&) {
    // Rejected input, reported as the library promises.
  }
  return 0;
}
