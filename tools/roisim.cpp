// roisim: the command-line front end. Parses arguments, calls the library, and maps its
// exceptions to exit codes: 0 success, 1 bad input or failed run, 2 usage, 129/130/141/143
// interrupted (SIGHUP, SIGINT, SIGPIPE, SIGTERM).
#include <CLI/CLI.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <cstring>
#include <cerrno>
#include <sstream>
#include <string_view>
#include <memory>
#include <functional>
#include <optional>
#include <thread>

#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/task_arena.h>

#include "roisim/version.h"
#include "sim/correlation.h"
#include "sim/engine.h"
#include "sim/heap.h"
#include "sim/results_file.h"
#include "sim/sampler.h"
#include "sim/scenario.h"
#include "sim/simulation.h"
#include "sim/trace.h"
#ifdef ROISIM_WITH_MPI  // issue 8: distributed runs (README "Running on a cluster (MPI)")
#include "sim/mpi_run.h"
#endif
#include "tools/decisions.h"
#include "tools/memo.h"
#include "tools/report.h"

namespace {

// The results file a successful `run` wrote (stdout_checked names it when standard output fails).
std::string g_results_written;

using namespace roisim;

std::atomic<bool> g_cancel{false};
std::atomic<int> g_signal{0};

// `report`, `compare`, `frontier` and `validate` never looked at g_cancel: a long report ran to
// its end through Ctrl-C. They write nothing but report -o's temporary file, so they end at
// once, removing it (g_signal_unlink), as `run` ends with its own clean-up.
std::atomic<bool> g_exit_at_signal{false};
// Published whole (the handler may run on any thread, or between two stores of a copy): the name
// is written into the buffer while the pointer is null, then the pointer set.
char g_unlink_name[4096];
std::atomic<const char*> g_signal_unlink{nullptr};
static_assert(std::atomic<const char*>::is_always_lock_free && std::atomic<bool>::is_always_lock_free,
              "read in a signal handler");

extern "C" void on_signal(int sig) {
  g_signal.store(sig);
  g_cancel.store(true);
  if (g_exit_at_signal.load()) {
    if (const char* name = g_signal_unlink.load()) ::unlink(name);
    static const char msg[] = "roisim: interrupted\n";
    if (sig != SIGPIPE) (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);  // `report | head`: quietly
    ::_exit(128 + sig);
  }
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  // SIGHUP: a closed terminal or ssh session, cleaned up like Ctrl-C. SIGPIPE: a reader that
  // went away (`roisim report ... | head -1`, or a run's stderr piped into one): exit 141 as
  // before, but a run no longer dies with its temporary file left behind. A signal the caller
  // ignores stays ignored (nohup, or a shell's background job ignoring SIGINT); an ignored SIGPIPE
  // makes the write fail instead (exit 1: "standard output could not be written").
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaction(sig, &sa, nullptr);
  }
  // SIGXFSZ (a write past `ulimit -f`) would kill the process on the spot, leaving the temporary
  // file behind; ignored, the write fails with EFBIG and the run ends like one on a full disk:
  // exit 1, the cause named, the temporary file removed.
  signal(SIGXFSZ, SIG_IGN);
}

std::optional<Sampler> parse_sampler(const std::string& s) {
  if (s == "mc") return Sampler::MonteCarlo;
  if (s == "lhs") return Sampler::LatinHypercube;
  if (s == "sobol") return Sampler::Sobol;
  return std::nullopt;
}

struct RunArgs {
  std::string file, output;
  std::optional<std::uint64_t> trials, seed;
  std::optional<std::string> sampler;
  int threads = 0;
  bool summary_only = false, quiet = false, no_reuse = false;
  int compression = 1;
  std::string replay;  // SCENARIO:TRIAL
  double target_ci = 0;
  std::uint64_t max_trials = 1'000'000;
  std::uint64_t cashflow_trials = 1000;
};

// Shortest decimal text that reads back to the same double.
std::string exact(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general);
  return std::string(buf, r.ptr);
}

// A count or rate in three significant digits for the progress line: 950, 12.3k, 1.93M, 4.5G.
std::string short_count(double x) {
  static const char* const units[] = {"", "k", "M", "G", "T", "P"};
  std::size_t u = 0;
  while (u + 1 < std::size(units) && std::abs(x) >= 999.5) x /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.3g%s", x, units[u]);
  return buf;
}

// A path option given as "" (a shell variable left empty) is refused, not read as "not given".
CLI::Validator non_empty() {
  return CLI::Validator([](std::string& v) { return v.empty() ? std::string("must not be empty") : std::string(); }, "PATH");
}

// Option checks with plain messages (CLI11's ranges print DBL_MAX in full and let NaN through;
// an unsigned option would take "-1" as 2^64 - 1). whole_number is a transform: it also rewrites
// the value in decimal, which CLI11 would otherwise read with a leading 0 as octal.
// A decimal number as the scenario file reads one (read_decimal): digits, a point, an exponent, an
// optional sign ("+10" as YAML reads it); not hex ("0x1388" and "0x1p12" were taken as 5000 and
// 4096), not padded with spaces, not inf or nan.
std::optional<double> decimal_number(std::string_view s) {
  double v = 0;
  if (roisim::read_decimal(s, v) != roisim::DecimalRead::ok) return std::nullopt;  // sim/errors.h
  return v;
}

CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        // Digits (any size), or as in the scenario file a whole decimal number below 2^53 (1e3, +10).
        std::uint64_t v = 0;
        const std::string_view d = !s.empty() && s[0] == '+' ? std::string_view(s).substr(1) : std::string_view(s);
        const auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
        bool ok = !d.empty() && ec == std::errc() && p == d.data() + d.size();
        if (!ok && ec != std::errc::result_out_of_range)
          if (const auto x = decimal_number(s); x && roisim::decimal_is_whole(s) && *x >= 0 && *x < 9007199254740992.0)
            v = static_cast<std::uint64_t>(*x), ok = true;
        if (!ok || v < lo || v > hi)
          return "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) + " (got '" + s + "')";
        s = std::to_string(v);  // decimal: CLI11 would read a leading 0 as octal (010 -> 8), the file does not
        return {};
      },
      "INT");
}
// A comma-separated list of whole numbers in [lo, hi], each as whole_number reads it, rewritten as
// "1,2,4". An empty element is an error: CLI11's own delimiter dropped it ("1,,2" ran 1 and 2).
CLI::Validator whole_number_list(std::uint64_t lo, std::uint64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        const CLI::Validator one = whole_number(lo, hi);
        std::string out;
        std::size_t from = 0;
        while (true) {
          const std::size_t comma = s.find(',', from);
          std::string item = s.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
          if (!one(item).empty())
            return "must be a comma-separated list of whole numbers from " + std::to_string(lo) + " to " +
                   std::to_string(hi) + " (got '" + s + "')";
          out += (out.empty() ? "" : ",") + item;
          if (comma == std::string::npos) break;
          from = comma + 1;
        }
        s = out;
        return {};
      },
      "INT,...");
}
// Some of CLI11's messages in plain words: a command that is not one ("A subcommand is required",
// which also answered `roisim frobnicate`), an option before the command, and an option given
// twice ("--trials: At Most 1 required but received 2"). Empty: CLI11's own message stands.
std::string plain_parse_error(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  const std::string what = e.what();
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  const std::string first = argc > 1 ? argv[1] : "";
  // -h, --help and --version are the only options before a command; any other there is the error
  // (CLI11 said "A subcommand is required", or "The following arguments were not expected" when
  // a command followed).
  if (first == "--") return "'--' ends the options: the command comes before it; the commands are " + list;
  if (first.size() > 1 && first[0] == '-' && first != "-h" && first != "--help" && first != "--version" &&
      first.rfind("--help=", 0) != 0)
    return "unknown option '" + first + "' before the command (a command's options follow it); the commands are " + list;
  if (dynamic_cast<const CLI::RequiredError*>(&e) && app.get_subcommands().empty() &&
      what.find("subcommand") != std::string::npos) {
    if (first.empty()) return "a command is required: one of " + list;
    // The hint: the command itself in other letter case, else the only command that starts with
    // what was typed, else (none starting so) the closest by edit distance.
    std::string lower = first, hint;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::vector<std::string> starting;
    for (const auto& n : names) {
      if (n == lower) {
        starting = {n};
        break;
      }
      if (n.rfind(lower, 0) == 0) starting.push_back(n);
    }
    if (starting.size() == 1)
      hint = "did you mean '" + starting[0] + "'?";
    else if (starting.empty())
      hint = roisim::did_you_mean(lower, names);
    return "unknown command '" + first + "'" + (hint.empty() ? "" : " (" + hint + ")") + "; the commands are " + list;
  }
  static const std::string kTwice = ": At Most 1 required but received ";
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e))
    if (const auto at = what.find(kTwice); at != std::string::npos && at > 0)
      return what.substr(0, at) + ": given " + what.substr(at + kTwice.size()) + " times; give it once";
  return {};
}

// A finite decimal number; with a bound, above it (or at least it, when inclusive).
CLI::Validator finite_number(std::optional<double> lo = std::nullopt, bool inclusive = true) {
  return CLI::Validator(
      [lo, inclusive](std::string& s) -> std::string {
        const auto v = decimal_number(s);
        if (v && (!lo || (inclusive ? *v >= *lo : *v > *lo))) {
          s = exact(*v);  // what CLI11 then converts: the same double
          return {};
        }
        std::string want = "a finite number";
        if (lo) want += std::string(inclusive ? " of at least " : " above ") + exact(*lo);
        return "must be " + want + " (got '" + s + "')";
      },
      "NUMBER");
}

// --replay's form, SCENARIO:TRIAL with TRIAL a whole number (nullopt when not). The option's
// validator makes a bad form a usage error (exit 2); the scenario and the trial's range are
// checked against the file (exit 1).
struct ReplaySpec { std::string who; std::uint64_t trial = 0; };
std::optional<ReplaySpec> parse_replay(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return std::nullopt;
  ReplaySpec r{s.substr(0, colon)};
  const char* end = s.data() + s.size();
  const auto read = std::from_chars(s.data() + colon + 1, end, r.trial);
  if (read.ec != std::errc() || read.ptr != end) return std::nullopt;
  return r;
}
CLI::Validator replay_spec() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        return parse_replay(s) ? std::string()
                               : "takes SCENARIO:TRIAL (a scenario name or index, and a trial number), not '" + s + "'";
      },
      "SCENARIO:TRIAL");
}

// `run FILE --replay SCENARIO:TRIAL`: one trial with every intermediate value, exactly as the
// engine computed it (the numbers equal the results file's bit for bit).
int cmd_replay(const Plan& plan, const std::string& spec) {
  const std::optional<ReplaySpec> r = parse_replay(spec);
  if (!r) throw InputError("--replay takes SCENARIO:TRIAL (a scenario name or index, and a trial number), not '" + spec + "'");
  const std::string& who = r->who;
  const std::uint64_t trial = r->trial;
  std::optional<std::uint64_t> scenario = plan.find_scenario(who);
  if (!scenario) {
    std::uint64_t idx = 0;
    auto [q, ec2] = std::from_chars(who.data(), who.data() + who.size(), idx);
    if (ec2 == std::errc() && q == who.data() + who.size() && idx < plan.scenario_count()) scenario = idx;
  }
  if (!scenario) throw InputError("--replay: no scenario named '" + who + "' (and it is not a scenario index)");
  Engine engine(plan);
  const TrialDetail d = engine.replay(*scenario, trial);
  std::cout << "scenario " << plan.scenario_name(*scenario) << " (#" << *scenario << "), trial " << trial << ", seed "
            << plan.settings().seed << ", sampler " << sampler_name(plan.settings().sampler) << '\n';
  for (const auto& pr : d.projects) {
    std::cout << "project " << pr.name << ": success " << (pr.success ? "yes" : "no") << ", annual_value "
              << exact(pr.annual_value) << ", pv_value " << exact(pr.pv_value) << ", pv_cost " << exact(pr.pv_cost) << '\n';
    for (const auto& in : pr.params) std::cout << "  " << pr.name << '.' << in.name << " = " << exact(in.value) << '\n';
  }
  std::cout << "portfolio: roi " << exact(d.roi) << ", npv " << exact(d.npv) << ", payback_month "
            << exact(d.payback_month) << '\n';
  return 0;
}

// f() on at most `threads` worker threads (0: all cores), as the run itself will be: loading a plan
// builds its distributions' tables in parallel.
template <class F>
auto with_threads(int threads, F&& f) {
  if (threads <= 0) return f();
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  tbb::task_arena arena(threads);
  return arena.execute(std::forward<F>(f));
}

Plan load(const std::string& file, const RunArgs* a) {
  Plan plan = with_threads(a ? a->threads : 0, [&] { return Plan::load_file(file); });
  if (a) {
    if (a->trials) plan.settings().trials = *a->trials;
    if (a->seed) plan.settings().seed = *a->seed;
    if (a->sampler) {
      plan.settings().sampler = *parse_sampler(*a->sampler);
    }
  }
  check_sampler(plan, a && a->sampler);  // the final sampler: --sampler lhs runs a file asking for sobol
  return plan;
}

// When settings: {correlation_repair: nearest} had to change the correlations (SPEC section 3: the
// original and repaired matrices are reported and stored): a line saying so, then every pair of
// inputs whose correlation changed, as given and as repaired, largest change first (at most
// kRepairPairsShown, then how many more); else "".
constexpr std::size_t kRepairPairsShown = 20;
std::string repair_note(const Plan& plan) {
  const GaussianCopula* c = plan.copula();
  if (!c || !c->repaired()) return {};
  const Eigen::MatrixXd& a = c->spearman_original();
  const Eigen::MatrixXd& b = c->spearman_used();
  const auto& names = c->names();
  struct Change { double by; Eigen::Index i, j; };
  std::vector<Change> changes;
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = i + 1; j < a.cols(); ++j)
      if (a(i, j) != b(i, j)) changes.push_back({std::abs(a(i, j) - b(i, j)), i, j});
  std::stable_sort(changes.begin(), changes.end(), [](const Change& x, const Change& y) { return x.by > y.by; });
  // The check is made on the Spearman matrix as given and on the Pearson matrix the copula derives
  // from it (2 sin(pi rho / 6)): name the one that failed.
  Eigen::MatrixXd pearson = a;
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j) pearson(i, j) = i == j ? 1.0 : spearman_to_pearson(a(i, j));
  const double ev_s = smallest_eigenvalue(a), ev_p = smallest_eigenvalue(pearson);
  std::ostringstream os;
  os << std::setprecision(3) << "note: the correlations given are not a valid correlation matrix ("
     << (ev_s < 0 ? "smallest eigenvalue " : "smallest eigenvalue of the Pearson matrix the copula derives from them ")
     << (ev_s < 0 ? ev_s : ev_p) << "); correlation_repair: nearest imposes the nearest valid one, changing "
     << count_of(changes.size(), "pair") << " of inputs (Spearman, as given -> as repaired; the results file stores both"
     << " matrices, correlation_spearman and correlation_spearman_repaired):";
  std::vector<std::vector<std::string>> rows;
  for (std::size_t k = 0; k < changes.size() && k < kRepairPairsShown; ++k) {
    const Change& ch = changes[k];
    rows.push_back({names[static_cast<std::size_t>(ch.i)] + " ~ " + names[static_cast<std::size_t>(ch.j)],
                    cli::fixed(a(ch.i, ch.j), 3), "->", cli::fixed(b(ch.i, ch.j), 3)});
  }
  os << '\n';
  cli::print_cells(os, rows, "  ");
  if (changes.size() > kRepairPairsShown) os << "  ... and " << count_of(changes.size() - kRepairPairsShown, "more pair") << '\n';
  std::string out = os.str();
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

int cmd_run(const RunArgs& a, const std::string& command_line) {
  RunRequest req;
#ifdef ROISIM_WITH_MPI  // issue 8: every rank loads the file and checks the output; they agree before going on
  std::optional<Plan> loaded;
  std::exception_ptr problem;
  try {
    loaded.emplace(load(a.file, &a));
    if (a.replay.empty()) {
      req.output = a.output.empty() ? default_output_path(a.file) : a.output;
      check_output_path(req.output, a.file);
    }
  } catch (...) {
    problem = std::current_exception();
  }
  roisim::mpi::agree_to_start(problem);
  Plan& plan = *loaded;
  const bool speaks = roisim::mpi::rank() == 0;
  if (!a.replay.empty()) return speaks ? cmd_replay(plan, a.replay) : 0;
#else
  Plan plan = load(a.file, &a);
  if (!a.replay.empty()) return cmd_replay(plan, a.replay);
  req.output = a.output.empty() ? default_output_path(a.file) : a.output;
  check_output_path(req.output, a.file);
  const bool speaks = true;
#endif
  if (const std::string note = repair_note(plan); !note.empty() && !a.quiet && speaks) std::cerr << note << '\n';
  req.summary_only = a.summary_only;
  req.compression = a.compression;
  req.command_line = command_line;
  req.engine.threads = a.threads;
  req.engine.cancel = &g_cancel;
  req.target_ci = a.target_ci;
  req.engine.cashflow_trials = a.cashflow_trials;
  if (a.no_reuse) req.engine.reuse_bytes = 0;
  req.max_trials = a.max_trials;
  const bool tty = !a.quiet && ::isatty(STDERR_FILENO);
  // The progress line is that of the engine run in progress: with --target-ci each trial count
  // the search tries is a run of its own (stage 1, 2, ...), and so is the run that writes the
  // file; each has its own bar, time left and rate, and says which it is.
  int stage = 0;
  bool searching = false;
  std::chrono::steady_clock::time_point start, last;
  if (tty) {
    req.stage_started = [&](bool search) {
      ++stage;
      searching = search;
      start = std::chrono::steady_clock::now();
      last = {};  // the first batch of a run is shown at once
    };
    req.engine.progress = [&](const Progress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (p.done < p.total && now - last < std::chrono::milliseconds(250)) return;  // a few updates a second
      last = now;
      const double el = std::chrono::duration<double>(now - start).count();
      const double simulated = static_cast<double>(p.simulated), rate = el > 0 ? simulated / el : 0;
      const double total = static_cast<double>(std::max<std::uint64_t>(p.total, 1)), done = static_cast<double>(p.done);
      const double left = p.done ? el * (total - done) / done : 0;
      std::string what;
      if (a.target_ci > 0)
        what = (searching ? "stage " + std::to_string(stage) : std::string("final run")) + " (" + std::to_string(p.trials) + " trials) ";
      char tail[160];
      std::snprintf(tail, sizeof tail, " %3.0f%%  %5s simulated, %5s/s, %3.0f s left", 100.0 * done / total,
                    short_count(simulated).c_str(), short_count(rate).c_str(), left);
      // It fits the terminal (80 columns when it says none): a line that wraps is not overwritten by
      // the next '\r'. The bar takes what the words leave, up to 24 columns; ASCII: a byte a column.
      // The fields have fixed widths (up to 999 s left), so the bar keeps its width through a run;
      // at 80 columns it has 8 or more beside --target-ci's stage label.
      winsize ws{};
      const int cols = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
      std::string line = "  " + what;
      const int room = cols - 1 - static_cast<int>(line.size() + std::strlen(tail)) - 2;
      if (room >= 4) {
        const int width = std::min(room, 24), filled = static_cast<int>(width * done / total);
        line.append(1, '[').append(static_cast<std::size_t>(filled), '#').append(static_cast<std::size_t>(width - filled), '.');
        line.push_back(']');
      }
      line += tail;
      if (line.size() > static_cast<std::size_t>(cols - 1)) line.resize(static_cast<std::size_t>(std::max(cols - 1, 0)));
      std::fprintf(stderr, "\r%s\033[K", line.c_str());
      std::fflush(stderr);
    };
  }
#ifdef ROISIM_WITH_MPI  // issue 8: every rank runs its share; rank 0 prints
  RunReport r = roisim::mpi::simulate_to_file(plan, req);
  if (roisim::mpi::rank() != 0) return 0;
#else
  RunReport r = simulate_to_file(plan, req);
#endif
  if (tty) std::fprintf(stderr, "\r\033[K");
  g_results_written = req.output;
  // Inputs beyond what a double holds (a normal of mean 1e308, a lognormal of sigma 1000) give a
  // NaN or infinite mean ROI or NPV, and the memo would judge by it: say so (even with --quiet).
  if (const NonFiniteMeans bad = nonfinite_means(req.output); bad.count > 0)
    std::cerr << "warning: " << bad.count << " of " << r.scenarios << " scenario" << (r.scenarios == 1 ? "" : "s")
              << (bad.count == 1 ? " has" : " have") << " a mean ROI or NPV that is not a finite number (NaN or infinite), first '" << plan.scenario(bad.first).name
              << "': some input's values are beyond what a double holds; check the distributions' parameters\n";
  if (!a.quiet) {
    std::cout << plan.name() << ": " << count_of(r.scenarios, "scenario") << " x " << count_of(r.trials, "trial")
              << " in " << std::fixed << std::setprecision(2) << r.seconds << " s" << std::defaultfloat;
    if (r.timings.reused)
      std::cout << " (" << r.timings.reused << " identical to an earlier scenario: statistics computed once)";
    std::cout << "\n";
    if (!r.distribution.empty()) std::cout << r.distribution << "\n";
    std::cout << "\n";
    if (r.auto_stop) {
      const AutoStop& st = *r.auto_stop;
      std::cout << "auto-stop: " << (st.met ? "target" : "target NOT") << " met: every 95% interval of P10/P50/P90 ROI and P(loss) "
                << (st.met ? "within" : "not yet within") << " +/-" << a.target_ci << " at " << count_of(st.trials, "trial") << " (";
      if (std::isnan(st.widest))
        std::cout << "undefined: " << st.widest_where << " is infinite)";
      else if (std::isinf(st.widest) && st.trials < 36)
        std::cout << "unbounded, " << st.widest_where << ": under 36 trials no trial bounds P10 or P90 with 95% confidence)";
      else
        std::cout << "widest +/-" << std::setprecision(3) << st.widest << std::setprecision(6) << ", " << st.widest_where << ")";
      if (!st.met) std::cout << "; --max-trials " << a.max_trials << " reached";
      std::cout << "\n\n";
    }
    cli::print_table(std::cout, r.names, r.summaries);
    if (r.scenarios > r.names.size()) std::cout << "... and " << count_of(r.scenarios - r.names.size(), "more scenario") << '\n';
    std::cout << "\nresults: " << req.output << "\n  roisim report " << req.output
              << " [--format table|csv|json]\n  python3 -c \"import xarray; print(xarray.open_dataset('" << req.output
              << "', engine='h5netcdf'))\"\n";
  }
  return 0;
}

int cmd_validate(const std::string& file) {
  Plan plan = load(file, nullptr);
  std::cout << file << ": ok, " << count_of(plan.projects().size(), "project") << ", "
            << count_of(plan.input_vars().size(), "uncertain input") << ", " << count_of(plan.scenario_count(), "scenario") << '\n';
  if (const std::string note = repair_note(plan); !note.empty()) std::cout << note << '\n';
  return 0;
}

// Writes a text report through write(out) to `output`: a new or regular file is written beside
// it and renamed into place (never left half-written; the temporary file is removed on any
// failure), a device or pipe (/dev/stdout, a FIFO) is written directly. Refuses the results file
// being read and folders.
template <class F>
void write_text_output(const std::string& output, const std::string& input, F&& write) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(output, ec) && fs::exists(input, ec) && fs::equivalent(output, input, ec))
    throw InputError("the output '" + output + "' is the results file being read; choose another name with -o");
  const fs::file_status st = fs::status(output, ec);
  if (fs::is_directory(st)) throw InputError("the output '" + output + "' is a folder; give a file name with -o");
  const auto failed = [&](const std::string& what, int err) {
    return InputError("cannot write '" + output + "': " + what + (err ? std::string(" (") + std::strerror(err) + ")" : ""));
  };
  if (not_replaceable(output)) {  // a device, pipe or process descriptor (/dev/stdout): no rename over it
    // Appending: /dev/stdout may be a file opened with >> (truncating it would lose what is there).
    std::ofstream f(output, std::ios::binary | std::ios::app);
    if (!f) throw failed("opening it", errno);
    write(f);
    if (!f.flush()) throw failed("writing", errno);
    return;
  }
  const std::string tmp = temporary_path(output);
  // Named for the signal handler before it exists (unlinking a name not yet made is harmless).
  g_signal_unlink.store(nullptr);
  if (tmp.size() < sizeof g_unlink_name) {
    std::memcpy(g_unlink_name, tmp.c_str(), tmp.size() + 1);
    g_signal_unlink.store(g_unlink_name);
  }
  struct Unname { ~Unname() { g_signal_unlink.store(nullptr); } } unname;
  std::FILE* f = std::fopen(tmp.c_str(), "wbx");
  if (!f) throw failed("creating a file beside it", errno);
  try {
    {
      std::ostringstream text;
      write(text);
      const std::string t = text.str();
      errno = 0;
      if (std::fwrite(t.data(), 1, t.size(), f) != t.size() || std::fflush(f) != 0) throw failed("writing", errno);
    }
    if (::fsync(::fileno(f)) != 0 && errno != EINVAL) throw failed("syncing", errno);
    const int rc = std::fclose(f);
    f = nullptr;
    if (rc != 0) throw failed("closing", errno);
    if (std::rename(tmp.c_str(), output.c_str()) != 0) throw failed("renaming it into place", errno);
  } catch (...) {
    if (f) std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
}

int cmd_report(const std::string& file, const std::string& format, const std::vector<std::string>& scenarios,
               double hurdle, const std::string& output) {
  // The report as text on `out` (standard output or the -o file).
  std::function<void(std::ostream&)> write;
  if (format == "markdown" || format == "html") {
    cli::MemoOptions mo;
    mo.file = file;
    mo.hurdle = hurdle;
    mo.scenarios = scenarios;
    mo.html = format == "html";
    write = [mo](std::ostream& out) { cli::write_memo(mo, out); };
  } else {
    auto r = std::make_shared<ResultsSummary>(read_results_summary(file));
    std::vector<std::size_t> rows;
    if (scenarios.empty()) {
      for (std::size_t i = 0; i < r->scenarios.size(); ++i) rows.push_back(i);
    } else {
      for (const auto& s : scenarios) {
        auto it = std::find(r->scenarios.begin(), r->scenarios.end(), s);
        if (it == r->scenarios.end()) throw InputError("no scenario named '" + s + "' in " + file);
        rows.push_back(static_cast<std::size_t>(it - r->scenarios.begin()));
      }
    }
    write = [r, rows, format, file](std::ostream& out) {
      if (format == "csv") {
        cli::print_csv(out, *r, rows);
      } else if (format == "json") {
        cli::print_json(out, *r, rows);
      } else {
        std::vector<std::string> names;
        std::vector<ScenarioSummary> sums;
        for (auto i : rows) names.push_back(r->scenarios[i]), sums.push_back(r->summary[i]);
        out << file << ": " << count_of(r->scenarios.size(), "scenario") << " x " << count_of(r->trials, "trial") << "\n\n";
        cli::print_table(out, names, sums);
        out << '\n';
        cli::print_intervals(out, *r, rows);
        if (rows.size() <= 5)
          for (auto i : rows) {
            out << '\n';
            cli::print_drivers(out, *r, i, 5);
          }
      }
    };
  }
  if (output.empty())
    write(std::cout);
  else
    write_text_output(output, file, write);
  return 0;
}

struct BenchArgs {
  std::string file;  // default: the seed portfolio (seed_portfolio())
  std::uint64_t trials = 0;
  std::string threads;  // "1,2,4" (whole_number_list; given twice: "1\n2"), or empty: 1, 2, 4, ... all cores
  bool json = false, full_output = false, no_reuse = false;
  int compression = 1, repeat = 3;
};

// `roisim bench`: the whole run (load, sample, evaluate, statistics, results file written and
// renamed) at each thread count, median of --repeat runs, with where the time goes.
// bench's default file: scenarios/seed_portfolio.yaml in the current folder, else in the source
// tree roisim was built from.
std::string seed_portfolio() {
  const std::string here = "scenarios/seed_portfolio.yaml";
  if (std::filesystem::exists(here)) return here;
  const std::string built = std::string(ROISIM_SOURCE_DIR) + "/" + here;
  if (std::filesystem::exists(built)) return built;
  throw InputError("no scenario file given, and neither " + here + " nor " + built +
                   " exists: give one (roisim bench FILE)");
}

int cmd_bench(const BenchArgs& given) {
  namespace fs = std::filesystem;
  BenchArgs a = given;
  if (a.file.empty()) a.file = seed_portfolio();
  std::vector<int> counts;
  for (std::size_t from = 0; from < a.threads.size();) {  // validated: "1,2,4"; repeated: "1\n2"
    const std::size_t comma = std::min(a.threads.find_first_of(",\n", from), a.threads.size());
    counts.push_back(std::stoi(a.threads.substr(from, comma - from)));
    from = comma + 1;
  }
  if (counts.empty()) {
    const int hw = std::max(1, static_cast<int>(tbb::info::default_concurrency()));
    for (int t = 1; t < hw; t *= 2) counts.push_back(t);
    counts.push_back(hw);
  }
  const fs::path dir = fs::temp_directory_path() / ("roisim-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  struct Row { int threads; double seconds, load; RunReport report; };
  std::vector<Row> rows;
  std::uint64_t scenarios = 0, trials = 0;
  try {
    for (int t : counts) {
      std::vector<Row> runs;
      for (int r = 0; r < std::max(1, a.repeat); ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        trace("load start", t);
        Plan plan = with_threads(t, [&] { return Plan::load_file(a.file); });
        trace("load done");
        if (a.trials) plan.settings().trials = a.trials;
        check_sampler(plan, false);  // a file asking for sobol beyond Boost's tables: said at its line
        const double load = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        RunRequest req;
        // A new file each run, removed after it is timed: replacing the previous run's file would
        // add the file system's cost of freeing it (~30 ms for the seed's 84 MB full output on
        // ext4 here), which is not the work being measured.
        req.output = (dir / "bench.h5").string();
        req.summary_only = !a.full_output;
        req.compression = a.compression;
        req.command_line = "roisim bench";
        req.engine.threads = t;
        req.engine.cancel = &g_cancel;
        if (a.no_reuse) req.engine.reuse_bytes = 0;
        RunReport rep = simulate_to_file(plan, req);
        const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        scenarios = rep.scenarios;
        trials = rep.trials;
        runs.push_back({t, total, load, rep});
        fs::remove(req.output);
      }
      std::sort(runs.begin(), runs.end(), [](const Row& x, const Row& y) { return x.seconds < y.seconds; });
      rows.push_back(runs[runs.size() / 2]);
    }
  } catch (...) {
    fs::remove_all(dir);
    throw;
  }
  fs::remove_all(dir);
  const double work = static_cast<double>(scenarios) * static_cast<double>(trials);
  const double base = rows.front().seconds * rows.front().threads;
  if (a.json) {
    std::cout << "{\"file\": " << roisim::cli::json_str(a.file) << ", \"scenarios\": " << scenarios << ", \"trials\": " << trials
              << ", \"output\": \"" << (a.full_output ? "full" : "summary-only") << "\", \"compression\": " << a.compression
              << ", \"repeat\": " << a.repeat << ", \"roisim_version\": \"" << kVersion << "\", \"git_sha\": \"" << kGitSha
              << "\", \"build_type\": \"" << kBuildType << "\", \"runs\": [";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      const auto& tm = r.report.timings;
      std::cout << (i ? ", " : "") << "{\"threads\": " << r.threads << ", \"seconds\": " << exact(r.seconds)
                << ", \"trials_per_second\": " << exact(work / r.seconds) << ", \"per_core\": " << exact(work / r.seconds / r.threads)
                << ", \"speedup\": " << exact(base / r.seconds / rows.front().threads)
                << ", \"efficiency\": " << exact(base / r.seconds / r.threads) << ", \"load\": " << exact(r.load)
                << ", \"sampling\": " << exact(tm.sampling) << ", \"evaluation\": " << exact(tm.evaluation)
                << ", \"portfolio\": " << exact(tm.portfolio) << ", \"statistics\": " << exact(tm.statistics)
                << ", \"output\": " << exact(tm.output + r.report.commit_seconds) << ", \"reused\": " << tm.reused << "}";
    }
    std::cout << "]}\n";
    return 0;
  }
  std::printf("%s: %llu scenarios x %llu trials, %s output, median of %d run%s (load, simulate, write and rename the file)\n",
              a.file.c_str(), static_cast<unsigned long long>(scenarios), static_cast<unsigned long long>(trials),
              a.full_output ? "full" : "summary-only", a.repeat, a.repeat == 1 ? "" : "s");
  std::printf("%8s %9s %14s %14s %9s %11s | %7s %9s %9s %9s %9s %9s\n", "threads", "seconds", "trials/s", "trials/s/core",
              "speed-up", "efficiency", "load", "sampling", "evaluate", "portfolio", "stats", "output");
  for (const auto& r : rows) {
    const auto& tm = r.report.timings;
    const double speedup = base / r.seconds / rows.front().threads;
    std::printf("%8d %9.3f %14.4g %14.4g %9.2f %10.0f%% | %7.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", r.threads, r.seconds,
                work / r.seconds, work / r.seconds / r.threads, speedup, 100.0 * base / r.seconds / r.threads, r.load,
                tm.sampling, tm.evaluation, tm.portfolio, tm.statistics, tm.output + r.report.commit_seconds);
  }
  if (const std::uint64_t reused = rows.front().report.timings.reused)
    std::printf("%llu of the %llu scenarios are identical to an earlier one (the same project variants): their statistics\n"
                "are copied%s (--no-reuse computes them all)\n",
                static_cast<unsigned long long>(reused), static_cast<unsigned long long>(scenarios),
                a.full_output ? "" : " and their trials not simulated");
  return 0;
}

// The exit status once standard output is flushed: a report or table that could not be written
// (a full disk behind `> file`, a closed pipe end, /dev/full) is an error, not a silent success.
// After `run` the results file is in place all the same, and the message says so.
int stdout_checked(int rc) {
  errno = 0;
  std::cout.flush();
  const bool bad = !std::cout || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (!bad) return rc;
  const int err = errno;
  std::fprintf(stderr, "error: writing to standard output failed%s%s%s%s%s%s\n", err ? " (" : "", err ? std::strerror(err) : "",
               err ? ")" : "", g_results_written.empty() ? "" : "; the results file '", g_results_written.c_str(),
               g_results_written.empty() ? "" : "' was written");
  return rc == 0 ? 1 : rc;
}

}  // namespace

// Help without CLI11's type before each value's own name: "--trials INT", "--sampler {mc,lhs,sobol}",
// "--replay SCENARIO:TRIAL" (it printed "UINT:INT", "TEXT:{mc,lhs,sobol}", "TEXT:SCENARIO:TRIAL").
class PlainFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* opt) const override {
    std::string out = CLI::Formatter::make_option_opts(opt);
    for (const char* type : {" TEXT:", " UINT:", " INT:", " FLOAT:"})
      if (out.rfind(type, 0) == 0) {
        out.erase(1, std::strlen(type) - 1);
        break;
      }
    return out;
  }
};

int main(int argc, char** argv) {
  // Before anything allocates much, and before there are threads (sim/heap.h).
  if (const auto& heap = roisim::prepare_heap(); heap.huge)
    roisim::trace("heap reserve on huge pages (MiB)", static_cast<long>((heap.end - heap.begin) >> 20));
  else
    roisim::trace((std::string("heap on small pages: ") + heap.why_not).c_str());
  install_signal_handlers();  // first, so that an early SIGINT/SIGTERM/SIGHUP still exits 130/143/129 cleanly
#ifdef ROISIM_WITH_MPI  // issue 8: MPI_Init here, MPI_Finalize when main returns
  roisim::mpi::init(&argc, &argv);
  struct MpiFinalize { ~MpiFinalize() { roisim::mpi::finalize(); } } mpi_finalize;
#endif
  CLI::App app{"roisim: Monte Carlo ROI risk simulation for portfolios of ML projects"};
  app.set_version_flag("--version", std::string("roisim ") + kVersion + " (" + kGitSha + ")");
  app.require_subcommand(1);
  app.formatter(std::make_shared<PlainFormatter>());  // before the commands, which take it from app

  RunArgs ra;
  auto* run = app.add_subcommand("run", "simulate every scenario and write the HDF5 results file");
  run->add_option("file", ra.file, "scenario file (YAML)")->required();
  auto* run_out = run->add_option("-o,--output", ra.output, "results file (default: FILE with .h5)")->check(non_empty());
  auto* run_trials = run->add_option("--trials", ra.trials, "trials per scenario (overrides settings.trials)")->transform(whole_number(1, kMaxTrials));
  run->add_option("--seed", ra.seed, "random seed, 0 to 2^63 - 1 (overrides settings.seed)")->transform(whole_number(0, kMaxSeed));
  run->add_option("--threads", ra.threads, "worker threads (default: all cores)")->transform(whole_number(1, 4096));
  run->add_option("--sampler", ra.sampler, "mc (Monte Carlo), lhs (Latin hypercube) or sobol (scrambled Sobol points)")->check(CLI::IsMember({"mc", "lhs", "sobol"}));
  auto* run_summary = run->add_flag("--summary-only", ra.summary_only, "omit the per-trial datasets");
  auto* run_compression = run->add_option("--compression", ra.compression, "deflate level 0-9 of the per-trial datasets (the per-scenario ones: at least 1)")->transform(whole_number(0, 9));
  auto* run_quiet = run->add_flag("--quiet", ra.quiet, "print nothing on success");
  auto* run_target = run->add_option("--target-ci", ra.target_ci, "auto-stop: add trials (2000, 4000, ...) until every 95% interval of P10/P50/P90 ROI and P(loss) is within +/- this")->transform(finite_number(0, false));
  auto* run_max = run->add_option("--max-trials", ra.max_trials, "the most trials --target-ci may use (default 1000000)")->transform(whole_number(1, kMaxTrials));
  auto* run_cash = run->add_option("--cashflow-trials", ra.cashflow_trials, "trials behind cashflow_quantile (the payback fan chart); 0 = all (default 1000)")
      ->transform(whole_number(0, kMaxTrials));
  auto* run_no_reuse = run->add_flag("--no-reuse", ra.no_reuse, "compute every scenario, even one identical to an earlier one (same bits; for checking)");
  auto* run_replay = run->add_option("--replay", ra.replay, "print one trial's every input and value (SCENARIO:TRIAL) instead of running")
      ->check(replay_spec());
  // Options that would be ignored are refused (exit 2): --replay writes no file; --target-ci
  // chooses the trial count itself (--max-trials caps it), and --max-trials means nothing without it.
  for (CLI::Option* o : {run_out, run_summary, run_compression, run_target, run_max, run_cash, run_no_reuse, run_quiet})
    run_replay->excludes(o);
  run_target->excludes(run_trials);
  run_max->needs(run_target);

  std::string vfile;
  auto* validate = app.add_subcommand("validate", "check a scenario file and print the expanded scenario count");
  validate->add_option("file", vfile, "scenario file (YAML)")->required();

  std::string rfile, format = "table";
  std::vector<std::string> rscen;
  auto* report = app.add_subcommand("report", "print the summary of a results file");
  report->add_option("file", rfile, "results file (.h5)")->required();
  report->add_option("--format", format, "table, csv, json, markdown (the ROI memo) or html (the memo with charts)")
      ->check(CLI::IsMember({"table", "csv", "json", "markdown", "html"}));
  double hurdle = 0.15;
  std::string report_out;
  auto* report_hurdle =
      report->add_option("--hurdle", hurdle, "the ROI a scenario must clear in the memo's verdict (default 0.15; markdown and html)")
          ->transform(finite_number());
  report->add_option("-o,--output", report_out, "write the report to this file instead of standard output")->check(non_empty());
  report->add_option("--scenario", rscen, "only these scenarios (repeatable)");

  BenchArgs ba;
  auto* bench = app.add_subcommand("bench", "measure end-to-end throughput (scenario x trials per second) over thread counts");
  bench->add_option("file", ba.file, "scenario file (default: scenarios/seed_portfolio.yaml, here or in the source tree)");
  bench->add_option("--trials", ba.trials, "trials per scenario (default: the file's)")->transform(whole_number(1, kMaxTrials));
  bench->add_option("--threads", ba.threads, "thread counts, e.g. 1,2,4 (default: 1, 2, 4, ... all cores)")->transform(whole_number_list(1, 4096))->multi_option_policy(CLI::MultiOptionPolicy::Join);
  bench->add_option("--repeat", ba.repeat, "runs per thread count; the median is reported (default 3)")->transform(whole_number(1, 100));
  auto* bench_full = bench->add_flag("--full-output", ba.full_output, "write the per-trial datasets too (default: --summary-only)");
  bench->add_option("--compression", ba.compression, "deflate level 0-9 with --full-output")->transform(whole_number(0, 9))
      ->needs(bench_full);  // without per-trial datasets it would be ignored
  bench->add_flag("--json", ba.json, "machine-readable output");
  bench->add_flag("--no-reuse", ba.no_reuse, "compute every scenario, even one identical to an earlier one");

  cli::CompareOptions co;
  std::vector<std::string> cmp_args;
  auto* compare = app.add_subcommand("compare", "paired comparison of two scenarios (common random numbers): OUT.h5 A B, or A.h5 A B.h5 B");
  compare->add_option("args", cmp_args, "OUT.h5 SCENARIO_A SCENARIO_B, or FILE_A SCENARIO_A FILE_B SCENARIO_B (names or indices)")
      ->required()
      ->expected(3, 4)
      ->option_text("TEXT x 3 or 4 REQUIRED");  // CLI11 2.1 would print "x 3" for expected(3, 4)
  // ... and "args(3x)" in the usage line.
  struct CompareFormatter : PlainFormatter {
    std::string make_option_usage(const CLI::Option* opt) const override {
      return opt->get_name(true, false) == "args" ? "OUT.h5 A B | A.h5 A B.h5 B" : PlainFormatter::make_option_usage(opt);
    }
  };
  compare->formatter(std::make_shared<CompareFormatter>());
  compare->add_option("--format", co.format, "table or json")->check(CLI::IsMember({"table", "json"}));

  cli::FrontierOptions fo;
  auto* frontier = app.add_subcommand("frontier", "efficient funded subsets of a sweep within a budget (value vs downside)");
  frontier->add_option("file", fo.file, "results file (.h5)")->required();
  frontier->add_option("--budget", fo.budget, "the most the funded projects' expected initial costs may add up to")->required()->transform(finite_number(0, true));
  frontier->add_option("--axis", fo.axes, "keep only this sweep axis value, AXIS=VALUE (repeatable; default: one frontier per combination)");
  frontier->add_option("--value", fo.value, "npv_mean (default) or roi_p50")->check(CLI::IsMember({"npv_mean", "roi_p50"}));
  frontier->add_option("--risk", fo.risk, "roi_p10 (default) or cvar10")->check(CLI::IsMember({"roi_p10", "cvar10"}));
  frontier->add_option("--format", fo.format, "table or json")->check(CLI::IsMember({"table", "json"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
#ifdef ROISIM_WITH_MPI  // under mpirun, printed once
    if (roisim::mpi::rank() != 0) return 0;
#endif
    return stdout_checked(app.exit(e));
  } catch (const CLI::CallForAllHelp& e) {
#ifdef ROISIM_WITH_MPI  // under mpirun, printed once
    if (roisim::mpi::rank() != 0) return 0;
#endif
    return stdout_checked(app.exit(e));
  } catch (const CLI::CallForVersion& e) {
#ifdef ROISIM_WITH_MPI  // under mpirun, printed once
    if (roisim::mpi::rank() != 0) return 0;
#endif
    return stdout_checked(app.exit(e));
  } catch (const CLI::ParseError& e) {
#ifdef ROISIM_WITH_MPI  // every rank parses the same command line: rank 0 says what is wrong
    if (roisim::mpi::rank() != 0) return 2;
#endif
    // What CLI11's app.exit(e) prints, with the user's words escaped (sim/errors.h): an argument
    // holding a line break or a terminal's escape sequence is quoted in the message.
    const std::string plain = plain_parse_error(app, e, argc, argv);
    std::fprintf(stderr, "%s\nRun with --help for more information.\n", escape_controls(plain.empty() ? e.what() : plain).c_str());
    return 2;
  }
  if (*report && report_hurdle->count() > 0 && format != "markdown" && format != "html") {  // it would be ignored
#ifdef ROISIM_WITH_MPI
    if (roisim::mpi::rank() != 0) return 2;
#endif
    std::fprintf(stderr, "--hurdle applies to the memo (--format markdown or html), not to the %s format\nRun with --help for more information.\n",
                 format.c_str());
    return 2;
  }
#ifdef ROISIM_WITH_MPI
  // Only `run` is distributed; under mpirun every other command is rank 0's alone (each rank had
  // printed the report, and `report -o` had every rank write the same file).
  if (!*run && roisim::mpi::rank() != 0) return 0;
#endif
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);

  if (!*run && !*bench) {  // see g_exit_at_signal; a signal already received ends it now
    g_exit_at_signal.store(true);
    if (const int sig = g_signal.load()) on_signal(sig);
  }
  int rc = 2;
  try {
    if (*run) rc = cmd_run(ra, command_line);
    else if (*validate) rc = cmd_validate(vfile);
    else if (*report) rc = cmd_report(rfile, format, rscen, hurdle, report_out);
    else if (*bench) rc = cmd_bench(ba);
    else if (*compare) {
      co.file_a = cmp_args[0];
      co.scenario_a = cmp_args[1];
      if (cmp_args.size() == 3) {
        co.scenario_b = cmp_args[2];
      } else {
        co.file_b = cmp_args[2];
        co.scenario_b = cmp_args[3];
      }
      cli::compare(co, std::cout);
      rc = 0;
    } else if (*frontier) {
      cli::frontier(fo, std::cout);
      rc = 0;
    }
#ifdef ROISIM_WITH_MPI  // issue 8: rank 0 reported the error
  } catch (const roisim::mpi::QuietExit& e) {
    rc = e.code();
#endif
  } catch (const Cancelled&) {
    const int sig = g_signal.load();
    std::fprintf(stderr, "roisim: interrupted; no results file written\n");
    rc = 128 + (sig ? sig : SIGINT);
  } catch (const InputError& e) {
    std::cerr << e.what() << '\n';
    rc = 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << escape_controls(e.what()) << '\n';  // names from files and arguments, quoted
    rc = 1;
  }
  // A signal that broke a blocking call on its way (opening a FIFO: "Interrupted system call") is
  // an interruption, not an input error: 128 + the signal, as when the engine stops.
  if (rc == 1 && g_signal.load() != 0) rc = 128 + g_signal.load();
  return stdout_checked(rc);
}
