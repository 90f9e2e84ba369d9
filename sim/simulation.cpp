#include "sim/simulation.h"
#include "sim/sampler.h"
#include "sim/trace.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fcntl.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "roisim/version.h"
#include "sim/sha256.h"

namespace roisim {

namespace fs = std::filesystem;

std::string file_kind(const fs::file_status& st) {
  switch (st.type()) {
    case fs::file_type::regular: return "a regular file";
    case fs::file_type::directory: return "a folder";
    case fs::file_type::symlink: return "a symbolic link";
    case fs::file_type::block: return "a block device";
    case fs::file_type::character: return "a character device";
    case fs::file_type::fifo: return "a named pipe";
    case fs::file_type::socket: return "a socket";
    default: return "not a regular file";
  }
}

std::string default_output_path(const std::string& scenario_file) {
  // Only beside a regular file in a folder of files: `run /dev/stdin` (a pipe, or a file given as
  // `< file`) wrote /dev/stdin.h5 into /dev, and `run <(...)` was told "/dev/fd/63.h5 exists".
  std::error_code ec;
  fs::path p(scenario_file);
  const fs::path dir = fs::canonical(p.parent_path().empty() ? fs::path(".") : p.parent_path(), ec);
  const std::string d = ec ? std::string() : dir.string();
  // (/dev itself; a folder under it such as /dev/shm holds ordinary files; /dev/fd is /proc/self/fd.)
  const bool special = d == "/dev" || d == "/proc" || d.rfind("/proc/", 0) == 0;
  if (special || !fs::is_regular_file(p, ec))
    throw InputError("the scenario file '" + scenario_file + "' is " +
                     (special ? std::string("a device or a process's descriptor") : file_kind(fs::status(p, ec))) +
                     ", with no folder to put the results beside it; give the results file's path with -o");
  p.replace_extension(".h5");
  return p.string();
}

std::optional<std::string> not_replaceable(const std::string& path) {
  std::error_code ec;
  fs::path p(path);
  for (int hop = 0; hop < 40; ++hop) {
    // A process's file descriptors (/proc/self/fd/1, /dev/fd/1 through its link to /proc/self/fd)
    // are links to whatever they are open on, a regular file included: never renamed over.
    std::error_code pec;
    const fs::path parent = fs::canonical(p.parent_path().empty() ? fs::path(".") : p.parent_path(), pec);
    const fs::file_status st = fs::symlink_status(p, ec);
    if (ec || !fs::exists(st)) return std::nullopt;  // (a dangling link: created through it; /proc/x.h5: not writable)
    if (!pec) {
      const std::string dir = parent.string();
      if (dir == "/proc" || dir.rfind("/proc/", 0) == 0) return "a file descriptor of a process (" + p.string() + ")";
    }
    if (fs::is_symlink(st)) {
      const fs::path target = fs::read_symlink(p, ec);
      if (ec) return std::nullopt;
      p = target.is_absolute() ? target : p.parent_path() / target;
      continue;
    }
    if (fs::is_regular_file(st)) return std::nullopt;
    return file_kind(st);
  }
  return "a chain of more than 40 links";
}

void check_output_path(const std::string& output, const std::string& input) {
  std::error_code ec;
  fs::path out(output);
  if (output.empty()) throw InputError("the output path is empty");
  if (fs::exists(out, ec) && fs::exists(input, ec) && fs::equivalent(out, fs::path(input), ec))
    throw InputError("the output '" + output + "' is the scenario file itself; choose another name with -o");
  if (fs::is_directory(out, ec)) throw InputError("the output '" + output + "' is a folder; give a file name with -o");
  // The file is written beside the target and renamed over it: a device, pipe or socket there
  // (-o /dev/null), or a process's descriptor (-o /dev/stdout, whatever it is open on), would be
  // replaced by a regular file, so only a regular file (or a link to one) may be replaced.
  if (const auto kind = not_replaceable(output))
    throw InputError("the output '" + output + "' exists and is not a regular file (" + *kind +
                     "); give the path of a file to create or replace with -o");
  fs::path dir = out.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) throw InputError("the output folder '" + dir.string() + "' does not exist");
  // Try it: permission bits say nothing for root or on read-only and special file systems.
  const fs::path probe = dir / (".roisim-probe-" + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0)
    throw InputError("the output folder '" + dir.string() + "' is not writable (" + std::strerror(errno) + ")");
  ::close(fd);
  ::unlink(probe.c_str());
}

namespace {
std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

ResultsLayout make_layout(const Plan& plan, const RunRequest& request, std::uint64_t batch) {
  const Settings& s = plan.settings();
  ResultsLayout l;
  l.scenarios = plan.scenario_count();
  l.trials = s.trials;
  l.inputs = plan.input_names();
  l.summary_only = request.summary_only;
  l.compression = request.compression;
  l.scenarios_per_batch = batch;
  l.horizon_months = s.horizon_months;
  auto& a = l.attributes;
  a["filetype"] = std::string("roisim-results");
  a["format_version"] = std::string(kFormatVersion);
  a["roisim_version"] = std::string(kVersion);
  a["git_sha"] = std::string(kGitSha);
  a["build_type"] = std::string(kBuildType);
  a["created_utc"] = utc_now();
  a["command_line"] = request.command_line;
  a["seed"] = static_cast<std::int64_t>(s.seed);
  a["trials"] = static_cast<std::int64_t>(s.trials);
  a["sampler"] = std::string(sampler_name(s.sampler));
  a["rng"] = std::string("philox4x64-10");
  // How inputs take Sobol dimensions (sim/sampler.h); files written before this attribute assigned
  // them differently, and compare will not pair a sobol file without it with one that has it.
  if (s.sampler == Sampler::Sobol) a["sobol_dimensions"] = std::string(kSobolDimensionScheme);
  a["horizon_months"] = static_cast<std::int64_t>(s.horizon_months);
  a["discount_rate"] = s.discount_rate;
  a["quantile_method"] = std::string("linear (type 7, numpy default, Excel PERCENTILE.INC)");
  a["scenario_name"] = plan.name();
  a["config"] = plan.config_text();
  a["config_sha256"] = sha256_hex(plan.config_text());
  a["correlation_repaired"] = static_cast<std::int64_t>(plan.copula() && plan.copula()->repaired());
  if (const GaussianCopula* c = plan.copula()) {
    for (int v : plan.copula_vars()) l.correlated_inputs.push_back(plan.variables()[v].name);
    l.correlation_original = c->spearman_original();
    if (c->repaired()) l.correlation_repaired = c->spearman_used();
  }
  return l;
}

std::string human_bytes(double b) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (b >= 1024 && u < 5) b /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

namespace {
std::uint64_t mem_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}
}  // namespace

ResourceEstimate estimate_resources(const Plan& plan, const RunRequest& request, std::uint64_t extra_memory) {
  ResourceEstimate e;
  const double s = static_cast<double>(plan.scenario_count()), n = static_cast<double>(plan.settings().trials);
  const double k = static_cast<double>(plan.input_vars().size());
  RunOptions as_run = request.engine;  // as simulate_to_file runs it (the writer as a pipeline stage)
  as_run.overlap_sink = true;
  as_run.sink_needs_trials = !request.summary_only;
  e.memory = Engine::memory_estimate(plan, as_run) + extra_memory;
  const double summary = s * (8 + 2 * kNumQuantiles + k + 16) * 8 + s * 64;
  const double trials = request.summary_only ? 0 : s * n * 3 * 8;
  e.file = static_cast<std::uint64_t>(std::min(summary + trials, 1.8e19));
  if (!request.summary_only) e.memory += 8 * 2 * 3 * 8 * static_cast<std::uint64_t>(std::min(n, 65536.0)) * 8;  // writer chunks
  e.memory_available = mem_available();
  fs::path dir = fs::path(request.output).parent_path();
  if (dir.empty()) dir = ".";
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) == 0) e.disk_available = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  return e;
}

void check_resources(const Plan& plan, const RunRequest& request, std::uint64_t extra_memory) {
  const ResourceEstimate e = estimate_resources(plan, request, extra_memory);
  trace("memory estimate (MiB)", static_cast<long>(e.memory >> 20));  // ROISIM_TIMELINE; tests compare it with the peak
  trace("memory estimate batch (scenarios)", static_cast<long>(Engine::batch_of(plan, request.engine)));  // and check this
  const std::string shape = count_of(plan.scenario_count(), "scenario") + " x " + count_of(plan.settings().trials, "trial");
  if (e.memory_available && e.memory > e.memory_available * 0.9) {
    // The plan of identical scenarios grows with the scenario count, not the trials.
    RunRequest no_reuse = request;
    no_reuse.engine.reuse_bytes = 0;
    const bool reuse_is_why =
        request.engine.reuse_bytes && estimate_resources(plan, no_reuse, extra_memory).memory <= e.memory_available * 0.9;
    const std::string fewer = reuse_is_why ? std::string("use --no-reuse (finding identical scenarios among this many takes the rest)")
                                           : std::string("use fewer --trials or fewer scenarios");
    throw InputError("this run (" + shape + ") needs about " + human_bytes(static_cast<double>(e.memory)) +
                     " of memory but " + human_bytes(static_cast<double>(e.memory_available)) +
                     " is available; " + fewer);
  }
  if (e.disk_available && e.file > e.disk_available) {
    RunRequest summary = request;
    summary.summary_only = true;
    const ResourceEstimate small = estimate_resources(plan, summary);
    throw InputError("the results file of this run (" + shape + ") would take up to " + human_bytes(static_cast<double>(e.file)) +
                     " but the output folder has " + human_bytes(static_cast<double>(e.disk_available)) + " free; " +
                     (request.summary_only ? std::string("use fewer scenarios") :
                      "use --summary-only (about " + human_bytes(static_cast<double>(small.file)) + ") or fewer --trials"));
  }
}

AutoStop find_trial_count(const Plan& base, const RunRequest& request) {
  AutoStop out;
  Plan plan = base;
  // The search reads summaries only: identical scenarios are then copied without being simulated.
  RunOptions options = request.engine;
  options.sink_needs_trials = false;
  const std::uint64_t cap = std::max<std::uint64_t>(1, request.max_trials);
  for (std::uint64_t n = std::min<std::uint64_t>(2000, cap);; n = std::min(2 * n, cap)) {
    plan.settings().trials = n;
    out.tried.push_back(n);
    double widest = 0;
    std::string where;
    if (request.stage_started) request.stage_started(true);
    Engine engine(plan, options);
    engine.run([&](const BatchResults& b) {
      for (std::uint64_t i = 0; i < b.count; ++i) {
        const ScenarioSummary& s = b.summary[i];
        // A NaN half-width (an interval from +inf to +inf: ROI overflowed) is the widest of all:
        // once seen it stays, so that the target cannot be met.
        auto consider = [&](double below, double above, const char* what) {
          if (std::isnan(widest)) return;
          const double half = std::isnan(below) || std::isnan(above) ? below + above : std::max(below, above);
          if (!(half <= widest)) widest = half, where = b.names[i] + ": " + what;
        };
        const int qs[] = {1, 3, 5};
        const char* names[] = {"P10 ROI", "P50 ROI", "P90 ROI"};
        for (int j = 0; j < 3; ++j)
          consider(s.roi_quantile[qs[j]] - s.roi_quantile_lo[qs[j]], s.roi_quantile_hi[qs[j]] - s.roi_quantile[qs[j]], names[j]);
        consider(s.prob_loss - s.prob_loss_lo, s.prob_loss_hi - s.prob_loss, "prob_loss");
      }
    });
    out.trials = n;
    out.widest = widest;
    out.widest_where = where;
    out.met = widest <= request.target_ci;
    if (out.met || n >= cap) return out;
  }
}

RunReport simulate_to_file(const Plan& given, const RunRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  Plan plan = given;
  std::optional<AutoStop> stop;
  if (request.target_ci > 0) {
    Plan largest = plan;
    largest.settings().trials = std::max<std::uint64_t>(1, request.max_trials);
    RunRequest summary = request;
    summary.summary_only = true;
    check_resources(largest, summary);  // the search itself must fit
    stop = find_trial_count(plan, request);
    plan.settings().trials = stop->trials;
  }
  check_resources(plan, request);
  RunOptions options = request.engine;
  options.overlap_sink = true;  // the writer works beside the simulation
  options.sink_needs_trials = !request.summary_only;
  // The file is created beside the sampling and the first batch (the engine's prologue), so that
  // laying it out (~100 datasets with their dimension scales: several ms, serial) is not on the
  // path; `layout` is complete before run() starts the prologue.
  ResultsLayout layout;
  std::optional<ResultsWriter> writer;
  options.prologue = [&] { writer.emplace(request.output, layout); };
  Engine engine(plan, options);
  layout = make_layout(plan, request, engine.layout_batch());
  if (stop) {
    layout.attributes["target_ci"] = request.target_ci;
    layout.attributes["target_ci_met"] = static_cast<std::int64_t>(stop->met);
    layout.attributes["target_ci_widest"] = stop->widest;
  }
  RunReport report;
  report.scenarios = plan.scenario_count();
  report.trials = plan.settings().trials;
  if (request.stage_started) request.stage_started(false);
  engine.run([&](const BatchResults& b) {
    writer->write_batch(b);
    for (std::uint64_t i = 0; i < b.count && report.names.size() < request.keep_first; ++i) {
      report.names.push_back(b.names[i]);
      report.summaries.push_back(b.summary[i]);
    }
  });
  const auto commit_start = std::chrono::steady_clock::now();
  trace("commit start");
  writer->commit();
  trace("commit done");
  report.commit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - commit_start).count();
  report.timings = engine.timings();
  report.auto_stop = stop;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace roisim
