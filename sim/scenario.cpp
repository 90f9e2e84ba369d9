#include "sim/scenario.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "sim/rng.h"
#include "sim/yaml_strict.h"

namespace roisim {

const char* sampler_name(Sampler s) noexcept {
  switch (s) {
    case Sampler::MonteCarlo: return "mc";
    case Sampler::LatinHypercube: return "lhs";
    case Sampler::Sobol: return "sobol";
  }
  return "?";
}

bool Variable::uncertain() const {
  for (const auto& d : defs)
    if (!d.dist.is_constant()) return true;
  return false;
}

int Project::value_slots() const { return static_cast<int>(model_inputs(kind).size()); }

void Overrides::append(const Overrides& o) {
  defs.insert(defs.end(), o.defs.begin(), o.defs.end());
  retargets.insert(retargets.end(), o.retargets.begin(), o.retargets.end());
  var_scales.insert(var_scales.end(), o.var_scales.begin(), o.var_scales.end());
  slot_scales.insert(slot_scales.end(), o.slot_scales.begin(), o.slot_scales.end());
}

std::vector<SlotBinding> bind_project(const Plan& plan, int project, const Overrides& o) {
  const Project& p = plan.projects()[project];
  std::vector<SlotBinding> out(p.slots());
  for (int j = 0; j < p.slots(); ++j) {
    SlotBinding b;
    b.var = p.slot_var[j];
    for (const auto& r : o.retargets)
      if (r.project == project && r.slot == j) b.var = r.var;
    for (const auto& d : o.defs)
      if (d.var == b.var) b.def = d.def;
    for (const auto& s : o.slot_scales)
      if (s.project == project && s.slot == j) b.scale *= s.factor;
    if (plan.variables()[b.var].factor >= 0)
      for (const auto& s : o.var_scales)
        if (s.var == b.var) b.scale *= s.factor;
    out[j] = b;
  }
  return out;
}

std::vector<std::string> Plan::input_names() const {
  std::vector<std::string> out;
  for (int v : input_vars_) out.push_back(vars_[v].name);
  return out;
}

std::uint64_t Plan::Sweep::funded_count(std::size_t projects) const {
  return all_subsets ? (std::uint64_t{1} << projects) - 1 : funded_lists.size();
}

std::uint64_t Plan::scenario_count() const {
  std::uint64_t n = explicit_.size();
  if (sweep_) {
    std::uint64_t m = sweep_->funded_count(projects_.size());
    for (const auto& a : sweep_->axes) m *= a.values.size();
    n += m;
  }
  return n;
}

namespace {
std::string join_names(const std::vector<Project>& projects, const std::vector<int>& idx) {
  std::string s;
  for (int i : idx) {
    if (!s.empty()) s += '+';
    s += projects[i].name;
  }
  return s;
}
}  // namespace

ScenarioSpec Plan::scenario(std::uint64_t index) const {
  if (index < explicit_.size()) return explicit_[index];
  if (!sweep_ || index >= scenario_count()) throw Error("scenario index out of range");
  std::uint64_t r = index - explicit_.size();
  const std::uint64_t nf = sweep_->funded_count(projects_.size());
  const std::uint64_t f = r % nf;
  r /= nf;
  std::vector<std::size_t> pick(sweep_->axes.size());
  for (std::size_t a = sweep_->axes.size(); a-- > 0;) {
    pick[a] = r % sweep_->axes[a].values.size();
    r /= sweep_->axes[a].values.size();
  }
  ScenarioSpec s;
  for (std::size_t a = 0; a < sweep_->axes.size(); ++a) {
    const auto& v = sweep_->axes[a].values[pick[a]];
    s.name += sweep_->axes[a].name + "=" + v.name + "/";
    s.overrides.append(v.overrides);
  }
  if (sweep_->all_subsets) {
    const std::uint64_t mask = f + 1;
    for (std::size_t p = 0; p < projects_.size(); ++p)
      if (mask >> p & 1) s.funded.push_back(static_cast<int>(p));
  } else {
    s.funded = sweep_->funded_lists[f];
  }
  s.name += "funded=" + join_names(projects_, s.funded);
  return s;
}

std::string Plan::scenario_name(std::uint64_t index) const {
  if (index < explicit_.size()) return explicit_[index].name;
  return scenario(index).name;
}

std::optional<std::uint64_t> Plan::find_scenario(const std::string& name) const {
  for (std::uint64_t i = 0; i < explicit_.size(); ++i)
    if (explicit_[i].name == name) return i;
  if (!sweep_) return std::nullopt;
  // A sweep scenario's name, "axis=value/.../funded=a+b", read back into its index (the inverse of
  // scenario()): a sweep may hold billions of scenarios, too many to name one by one. Axis, value
  // and project names cannot hold '/', '=' or '+' (checked when loading), so every name reads back.
  const std::uint64_t nf = sweep_->funded_count(projects_.size());
  std::uint64_t r = 0;
  std::size_t at = 0;
  bool parsed = true;
  for (const auto& axis : sweep_->axes) {
    const std::string head = axis.name + "=";
    std::size_t pick = axis.values.size();
    if (name.compare(at, head.size(), head) == 0)
      for (std::size_t v = 0; v < axis.values.size(); ++v) {
        const std::string& vn = axis.values[v].name;
        if (name.compare(at + head.size(), vn.size(), vn) == 0 && name.size() > at + head.size() + vn.size() &&
            name[at + head.size() + vn.size()] == '/') {
          pick = v;
          break;
        }
      }
    if (pick == axis.values.size()) {
      parsed = false;
      break;
    }
    r = r * axis.values.size() + pick;
    at += head.size() + axis.values[pick].name.size() + 1;
  }
  std::optional<std::uint64_t> f;
  if (parsed && name.compare(at, 7, "funded=") == 0) {
    const std::string list = name.substr(at + 7);
    if (sweep_->all_subsets) {
      std::uint64_t mask = 0;
      int last = -1;
      for (std::size_t from = 0; from <= list.size() && !list.empty();) {
        const std::size_t plus = std::min(list.find('+', from), list.size());
        const std::string pn = list.substr(from, plus - from);
        int idx = -1;
        for (std::size_t p = 0; p < projects_.size(); ++p)
          if (projects_[p].name == pn) idx = static_cast<int>(p);
        if (idx <= last) {  // unknown, repeated or out of file order
          mask = 0;
          break;
        }
        mask |= std::uint64_t{1} << idx;
        last = idx;
        from = plus + 1;
      }
      if (mask) f = mask - 1;
    } else {
      for (std::size_t i = 0; i < sweep_->funded_lists.size(); ++i)
        if (join_names(projects_, sweep_->funded_lists[i]) == list) {
          f = i;
          break;
        }
    }
  }
  if (f) {
    const std::uint64_t index = explicit_.size() + r * nf + *f;
    if (index < scenario_count() && scenario_name(index) == name) return index;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

namespace {

using yaml::Node;
constexpr std::size_t kMaxErrors = 50;

std::string fmt(double x) { return number_text(x); }  // sim/errors.h

std::string quote_list(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The length of the control character (C0, DEL, or C1 in UTF-8) at name[i], or 0.
std::size_t control_at(const std::string& name, std::size_t i) {
  const auto c = static_cast<unsigned char>(name[i]);
  if (c < 0x20 || c == 0x7f) return 1;
  if (c == 0xc2 && i + 1 < name.size()) {
    const auto d = static_cast<unsigned char>(name[i + 1]);
    if (d >= 0x80 && d <= 0x9f) return 2;
  }
  return 0;
}

// The code point of UTF-8 text at byte i (the text is valid UTF-8: the reader checks), and its length.
char32_t code_point_at(const std::string& s, std::size_t i, std::size_t& len) {
  const auto b = static_cast<unsigned char>(s[i]);
  len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  char32_t c = len == 1 ? b : len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
  for (std::size_t k = 1; k < len && i + k < s.size(); ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return c;
}

// A space or an invisible character (no-break and typographic spaces, zero-width ones, the BOM).
bool blank(char32_t c) {
  return c == ' ' || c == 0xA0 || (c >= 0x2000 && c <= 0x200D) || c == 0x202F || c == 0x205F || c == 0x2060 || c == 0x3000 ||
         c == 0xFEFF;
}

// Whether the name begins or ends with blank().
bool blank_at_an_end(const std::string& name) {
  if (name.empty()) return false;
  std::size_t len = 0, last = name.size() - 1;
  while (last > 0 && (static_cast<unsigned char>(name[last]) & 0xC0) == 0x80) --last;  // the last code point's start
  return blank(code_point_at(name, 0, len)) || blank(code_point_at(name, last, len));
}

// What a format character that no name may hold anywhere is, or nullptr: line and paragraph
// separators break a table's line as a line break does; bidirectional controls reorder what follows
// them ("Trojan Source": a name can display as another); invisible ones make two names print alike.
const char* hidden_kind(char32_t c) {
  if (c == 0x2028) return "a line separator: it breaks the line like a line break";
  if (c == 0x2029) return "a paragraph separator: it breaks the line like a line break";
  if ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F || c == 0x061C)
    return "a bidirectional control: the name could display as another";
  // (The zero-width non-joiner and joiner U+200C, U+200D stay allowed inside a name: Persian and
  // Indic words and emoji sequences need them. At an end they are refused as blanks.)
  if (c == 0x200B || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF)
    return "an invisible character: two names could print alike";
  return nullptr;
}

// The name with its control characters written as \n, \r, \t or \xNN (\u00NN for C1), and the
// characters of hidden_kind as \uNNNN, for messages.
std::string printable(const std::string& name) {
  std::string o;
  for (std::size_t i = 0; i < name.size();) {
    const std::size_t len = control_at(name, i);
    if (len == 0) {
      std::size_t n = 0;
      const char32_t c = code_point_at(name, i, n);
      if (hidden_kind(c)) {
        char b[16];
        std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(c));
        o += b;
        i += n;
      } else {
        o += name[i++];
      }
      continue;
    }
    const auto c = static_cast<unsigned char>(len == 1 ? name[i] : name[i + 1]);
    char b[8];
    if (len == 2) std::snprintf(b, sizeof b, "\\u%04x", c);
    else if (c == '\n') std::snprintf(b, sizeof b, "\\n");
    else if (c == '\r') std::snprintf(b, sizeof b, "\\r");
    else if (c == '\t') std::snprintf(b, sizeof b, "\\t");
    else std::snprintf(b, sizeof b, "\\x%02x", c);
    o += b;
    i += len;
  }
  return o;
}

}  // namespace

// Builds a Plan from the YAML tree, collecting every error it finds.
class PlanBuilder {
 public:
  PlanBuilder(std::string text, std::string file) {
    plan_.text_ = std::move(text);
    plan_.file_ = std::move(file);
  }

  Plan build() {
    const Node root = yaml::parse(plan_.text_, plan_.file_);
    if (root.is_null()) fail_now(1, 1, "the file is empty; a scenario file starts with 'roisim: 1'");
    if (!root.is_map()) fail_now(root.line, root.column, "a scenario file is a mapping of sections (roisim, settings, factors, projects, ...), not " + std::string(root.type_name()));
    check_keys(root, {"roisim", "name", "description", "settings", "factors", "projects", "correlations", "scenarios", "sweep"}, "the top level");
    const Node* ver = root.find("roisim");
    if (!ver) {
      error(root, "missing 'roisim: 1' (the schema version) at the top of the file");
    } else if (auto v = number(*ver, "roisim"); v && *v != 1) {
      error(*ver, "unsupported schema version " + fmt(*v) + "; this roisim reads version 1");
    }
    if (const Node* n = root.find("name")) {
      if (!n->is_scalar()) error(*n, "name must be text");
      else if (n->value.empty()) error(*n, "name must not be empty (leave the key out for the file's own name)");
      else if (plain_name(*n, "the file's name", n->value)) plan_.name_ = n->value;
    } else {
      std::string f = plan_.file_;
      if (auto s = f.find_last_of('/'); s != std::string::npos) f = f.substr(s + 1);
      if (auto d = f.find_last_of('.'); d != std::string::npos && d > 0) f = f.substr(0, d);
      plan_.name_ = f;
    }
    if (const Node* s = root.find("settings")) settings(*s);
    if (const Node* f = root.find("factors")) factors(*f);
    const Node* projects = root.find("projects");
    if (!projects) error(root, "missing 'projects': a portfolio needs at least one project");
    else this->projects(*projects);
    stop_if_errors();
    if (const Node* c = root.find("correlations")) correlations(*c);
    const Node* sc = root.find("scenarios");
    const Node* sw = root.find("sweep");
    if (sc) scenarios(*sc, sw != nullptr);
    else plan_.explicit_.push_back(ScenarioSpec{"base", all_projects(), {}});
    if (sw) sweep(*sw);
    stop_if_errors();
    assign_inputs();
    build_copula(root.find("correlations"));
    stop_if_errors();
    return std::move(plan_);
  }

 private:
  // ---- diagnostics --------------------------------------------------------------------------
  void error(const Node& at, std::string msg, std::string hint = {}) {
    if (diags_.size() < kMaxErrors)
      diags_.push_back(Diagnostic{{plan_.file_, at.line, at.column}, std::move(msg), std::move(hint)});
    else if (diags_.size() == kMaxErrors)
      diags_.push_back(Diagnostic{{plan_.file_, at.line, at.column}, "too many errors; stopping here", {}});
  }
  // Names appear in the results file, the CSV, the memo's tables and the terminal's table: a
  // control character (a tab, a line break) would break each of them. False (and an error) if
  // the name has one; `what` is "scenario name", "project name", ...
  // A space at either end (a quoted " base", a no-break space) would make two names that print alike;
  // so would an invisible character anywhere, and a bidirectional control or a line separator
  // (hidden_kind) would print it broken or as another name.
  bool plain_name(const Node& at, const std::string& what, const std::string& name) {
    for (std::size_t i = 0; i < name.size(); ++i)
      if (control_at(name, i)) {
        error(at, what + " '" + printable(name) + "' must not contain control characters (tabs, line breaks and the like)");
        return false;
      }
    for (std::size_t i = 0, n = 0; i < name.size(); i += n)
      if (const char32_t c = code_point_at(name, i, n); const char* kind = hidden_kind(c)) {
        char code[16];
        std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
        error(at, what + " '" + printable(name) + "' must not contain " + code + " (" + kind + ")");
        return false;
      }
    if (blank_at_an_end(name)) {
      error(at, what + " '" + name + "' must not begin or end with a space (or an invisible character)");
      return false;
    }
    return true;
  }
  [[noreturn]] void fail_now(int line, int col, const std::string& msg) {
    diags_.push_back(Diagnostic{{plan_.file_, line, col}, msg, {}});
    throw InputError(diags_);
  }
  void stop_if_errors() {
    if (!diags_.empty()) throw InputError(diags_);
  }

  bool expect_map(const Node& n, const std::string& what) {
    if (n.is_map()) return true;
    error(n, what + " must be a mapping, not " + n.type_name());
    return false;
  }
  void check_keys(const Node& map, const std::vector<std::string>& allowed, const std::string& where) {
    for (const auto& [k, v] : map.entries)
      if (std::find(allowed.begin(), allowed.end(), k.value) == allowed.end())
        error(k, "unknown key '" + k.value + "' in " + where, did_you_mean(k.value, allowed));
  }

  // A finite number from a plain scalar ("5e6", "0.18", "-3"); reports and returns nullopt otherwise.
  std::optional<double> number(const Node& n, const std::string& what) {
    if (!n.is_scalar() || n.quoted) {
      if (n.is_scalar())
        error(n, what + " must be a number, not the text \"" + n.value + "\"");
      else
        error(n, what + " must be a number, not " + std::string(n.type_name()));
      return std::nullopt;
    }
    std::string s = n.value;
    const std::string low = [&] { std::string t = s; for (auto& c : t) c = static_cast<char>(std::tolower(c)); return t; }();
    if (low == ".nan" || low == "nan" || low == ".inf" || low == "+.inf" || low == "-.inf" || low == "inf" || low == "-inf") {
      error(n, what + " must be a finite number, not " + s);
      return std::nullopt;
    }
    double x = 0;
    switch (read_decimal(s, x)) {  // as the command line reads numbers (sim/errors.h)
      case DecimalRead::ok:
        return x;
      case DecimalRead::out_of_range:
        error(n, what + " is out of range: " + s);
        break;
      case DecimalRead::not_finite:
        error(n, what + " must be a finite number, not " + s);
        break;
      case DecimalRead::not_a_number:
        error(n, what + " must be a number, not '" + s + "'");
        break;
    }
    return std::nullopt;
  }
  // A whole number in [min_value, max_value], written as digits or (below 2^53, whole as written) as a number.
  std::optional<std::uint64_t> integer(const Node& n, const std::string& what, std::uint64_t min_value,
                                       std::uint64_t max_value = std::numeric_limits<std::uint64_t>::max()) {
    const auto out_of_range = [&](bool low) {
      error(n, what + (low ? " must be at least " + std::to_string(min_value) : " must be at most " + std::to_string(max_value)) +
                   " (got " + n.value + ")");
      return std::nullopt;
    };
    if (n.is_scalar() && !n.quoted) {
      std::uint64_t v = 0;
      const std::string& s = n.value;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc::result_out_of_range && ptr == s.data() + s.size()) return out_of_range(false);
      if (ec == std::errc() && ptr == s.data() + s.size()) {
        if (v < min_value || v > max_value) return out_of_range(v < min_value);
        return v;
      }
    }
    auto x = number(n, what);
    if (!x) return std::nullopt;
    if (!decimal_is_whole(n.value)) {  // as written: 50.000000000000001 is 50 as a double
      error(n, what + " must be a whole number (got " + n.value + ")");
      return std::nullopt;
    }
    if (*x < static_cast<double>(min_value) || *x > static_cast<double>(max_value))
      return out_of_range(*x < static_cast<double>(min_value));
    if (*x >= 9007199254740992.0) {  // 2^53: 9007199254740993.0 reads as it too
      error(n, what + " is 2^53 or above written as a decimal number; write it as digits (got " + n.value + ")");
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(*x);
  }
  std::optional<std::string> text(const Node& n, const std::string& what) {
    if (n.is_scalar()) return n.value;
    error(n, what + " must be text, not " + std::string(n.type_name()));
    return std::nullopt;
  }

  // ---- settings -------------------------------------------------------------------------------
  void settings(const Node& n) {
    if (!expect_map(n, "settings")) return;
    check_keys(n, {"trials", "seed", "sampler", "horizon_months", "discount_rate", "correlation_repair"}, "settings");
    Settings& s = plan_.settings_;
    if (const Node* x = n.find("trials"))
      if (auto v = integer(*x, "settings.trials", 1, kMaxTrials)) s.trials = *v;
    if (const Node* x = n.find("seed"))
      if (auto v = integer(*x, "settings.seed", 0, kMaxSeed)) s.seed = *v;
    if (const Node* x = n.find("sampler")) {
      plan_.sampler_at_ = {plan_.file_, x->line, x->column};
      if (auto v = text(*x, "settings.sampler")) {
        if (*v == "mc") s.sampler = Sampler::MonteCarlo;
        else if (*v == "lhs") s.sampler = Sampler::LatinHypercube;
        else if (*v == "sobol") s.sampler = Sampler::Sobol;
        else error(*x, "unknown sampler '" + *v + "'; use mc, lhs or sobol", did_you_mean(*v, {"mc", "lhs", "sobol"}));
      }
    }
    if (const Node* x = n.find("horizon_months"))
      if (auto v = integer(*x, "settings.horizon_months", 1, 1200))  // 100 years
        s.horizon_months = static_cast<int>(*v);
    if (const Node* x = n.find("discount_rate"))
      if (auto v = number(*x, "settings.discount_rate")) {
        if (*v <= -1) error(*x, "settings.discount_rate must be greater than -1 (got " + fmt(*v) + ")");
        else s.discount_rate = *v;
      }
    if (const Node* x = n.find("correlation_repair"))
      if (auto v = text(*x, "settings.correlation_repair")) {
        if (*v == "nearest") s.correlation_repair = true;
        else if (*v == "none") s.correlation_repair = false;
        else error(*x, "correlation_repair must be 'nearest' or 'none', not '" + *v + "'", did_you_mean(*v, {"nearest", "none"}));
      }
  }

  // ---- values and distributions -----------------------------------------------------------------
  struct ValueSpec {
    enum class Type { Number, Dist, Factor } type = Type::Number;
    Distribution dist;
    int factor_var = -1;
    const Node* node = nullptr;
  };

  std::optional<Distribution> distribution(const Node& n, const std::string& what) {
    const Node* dn = n.find("dist");
    auto name = text(*dn, what + ".dist");
    if (!name) return std::nullopt;
    static const std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> kParams = {
        {"uniform", {{"min", "max"}, {}}},
        {"triangular", {{"min", "mode", "max"}, {}}},
        {"pert", {{"min", "mode", "max"}, {"lambda"}}},
        {"normal", {{"mean", "sd"}, {"min", "max"}}},
        {"lognormal", {{"median", "sigma"}, {}}},
        {"beta", {{"alpha", "beta"}, {"min", "max"}}},
        {"discrete", {{"values", "probs"}, {}}},
        {"bernoulli", {{"p"}, {}}},
    };
    auto it = kParams.find(*name);
    if (it == kParams.end()) {
      std::vector<std::string> names;
      for (const auto& [k, v] : kParams) names.push_back(k);
      error(*dn, "unknown distribution '" + *name + "' for " + what + " (known: " + quote_list(names) + ")", did_you_mean(*name, names));
      return std::nullopt;
    }
    const auto& [required, optional] = it->second;
    std::vector<std::string> allowed = {"dist"};
    allowed.insert(allowed.end(), required.begin(), required.end());
    allowed.insert(allowed.end(), optional.begin(), optional.end());
    const std::size_t before = diags_.size();
    check_keys(n, allowed, what + " (a " + *name + " distribution takes " + quote_list(std::vector<std::string>(allowed.begin() + 1, allowed.end())) + ")");
    std::vector<std::string> missing;
    for (const auto& r : required)
      if (!n.find(r)) missing.push_back(r);
    if (!missing.empty()) {
      error(n, what + ": a " + *name + " distribution needs " + quote_list(missing));
      return std::nullopt;
    }
    std::map<std::string, double> p;
    std::vector<double> values, probs;
    for (const auto& [k, v] : n.entries) {
      if (k.value == "dist") continue;
      if (k.value == "values" || k.value == "probs") {
        auto& out = k.value == "values" ? values : probs;
        if (!v.is_seq()) {
          error(v, what + "." + k.value + " must be a list of numbers, not " + std::string(v.type_name()));
          continue;
        }
        for (const auto& item : v.items)
          if (auto x = number(item, what + "." + k.value)) out.push_back(*x);
        continue;
      }
      if (auto x = number(v, what + "." + k.value)) p[k.value] = *x;
    }
    if (diags_.size() != before) return std::nullopt;
    auto get = [&](const char* k, double dflt) { auto i = p.find(k); return i == p.end() ? dflt : i->second; };
    try {
      if (*name == "uniform") return Distribution::uniform(p["min"], p["max"]);
      if (*name == "triangular") return Distribution::triangular(p["min"], p["mode"], p["max"]);
      if (*name == "pert") return Distribution::pert(p["min"], p["mode"], p["max"], get("lambda", 4.0));
      if (*name == "normal")
        return Distribution::normal(p["mean"], p["sd"], get("min", -std::numeric_limits<double>::infinity()),
                                    get("max", std::numeric_limits<double>::infinity()));
      if (*name == "lognormal") return Distribution::lognormal(p["median"], p["sigma"]);
      if (*name == "beta") return Distribution::beta(p["alpha"], p["beta"], get("min", 0.0), get("max", 1.0));
      if (*name == "discrete") {
        if (values.empty()) {
          error(*n.find("values"), what + ": a discrete distribution needs at least one value");
          return std::nullopt;
        }
        return Distribution::discrete(values, probs);
      }
      if (*name == "bernoulli") return Distribution::bernoulli(p["p"]);
    } catch (const ParameterError& e) {
      error(n, what + ": " + e.what());
    }
    return std::nullopt;
  }

  // A number, a distribution or (when allow_factor) a {factor: name} reference.
  std::optional<ValueSpec> value_spec(const Node& n, const std::string& what, bool allow_factor) {
    ValueSpec v;
    v.node = &n;
    if (n.is_map()) {
      if (const Node* f = n.find("factor")) {
        if (!allow_factor) {
          error(n, what + " must be a number or a distribution here, not a factor reference");
          return std::nullopt;
        }
        check_keys(n, {"factor"}, what);
        auto name = text(*f, what + ".factor");
        if (!name) return std::nullopt;
        auto it = factor_var_.find(*name);
        if (it == factor_var_.end()) {
          error(*f, "unknown factor '" + *name + "' in " + what, did_you_mean(*name, plan_.factor_names_));
          return std::nullopt;
        }
        v.type = ValueSpec::Type::Factor;
        v.factor_var = it->second;
        return v;
      }
      if (!n.find("dist")) {
        error(n, what + " must be a number, a distribution ({dist: ...})" + std::string(allow_factor ? " or a factor reference ({factor: name})" : ""));
        return std::nullopt;
      }
      auto d = distribution(n, what);
      if (!d) return std::nullopt;
      v.type = ValueSpec::Type::Dist;
      v.dist = *d;
      return v;
    }
    auto x = number(n, what);
    if (!x) return std::nullopt;
    v.type = ValueSpec::Type::Number;
    v.dist = Distribution::constant(*x);
    return v;
  }

  int add_var(const std::string& name) {
    Variable v;
    v.name = name;
    v.hash = stable_hash(name);
    plan_.vars_.push_back(std::move(v));
    const int id = static_cast<int>(plan_.vars_.size()) - 1;
    var_by_name_[name] = id;
    return id;
  }

  // ---- factors and projects -------------------------------------------------------------------
  void factors(const Node& n) {
    if (n.is_null()) return;
    if (!expect_map(n, "factors")) return;
    for (const auto& [k, v] : n.entries) {
      if (k.value.empty()) {
        error(k, "a factor name must not be empty");
        continue;
      }
      if (k.value.find('.') != std::string::npos) {
        error(k, "factor name '" + k.value + "' must not contain '.' (dots separate project and input names)");
        continue;
      }
      if (!plain_name(k, "factor name", k.value)) continue;
      auto spec = value_spec(v, "factor '" + k.value + "'", false);
      const int id = add_var(k.value);
      plan_.vars_[id].factor = static_cast<int>(plan_.factor_names_.size());
      plan_.factor_names_.push_back(k.value);
      factor_var_[k.value] = id;
      plan_.vars_[id].defs.push_back({spec ? spec->dist : Distribution::constant(0), loc(v)});
    }
  }

  SourceLocation loc(const Node& n) const { return {plan_.file_, n.line, n.column}; }

  // Range rules for the cost and time parameters (checked on constants and distribution supports).
  void check_cost_param(int param, const Distribution& d, const Node& at, const std::string& what) {
    const double lo = d.support_min(), hi = d.support_max();
    auto range = [&](double min, bool min_open, double max) {
      const bool low_bad = min_open ? !(lo > min) : !(lo >= min);
      if (low_bad || hi > max) {
        std::string r = std::string(min_open ? "> " : ">= ") + fmt(min) + (std::isfinite(max) ? " and <= " + fmt(max) : "");
        if (d.is_constant()) error(at, what + " must be " + r + " (got " + fmt(lo) + ")");
        else error(at, what + " must be " + r + ", but its distribution can take values in [" + fmt(lo) + ", " + fmt(hi) + "]" + (std::isinf(lo) || std::isinf(hi) ? "; give it min/max bounds" : ""));
      }
    };
    const double inf = std::numeric_limits<double>::infinity();
    switch (param) {
      case kInitialCost: range(0, true, inf); break;
      case kMaintenanceShare: range(0, false, inf); break;
      case kInfraAnnual: range(0, false, inf); break;
      // SPEC section 2: a sampled launch month is rounded and clamped to [0, H], so any
      // distribution will do (a delay modelled as normal(6, 3) clamps its left tail to 0); a
      // negative constant is refused as the mistake it must be.
      case kLaunchMonth:
        if (d.is_constant()) range(0, false, inf);
        break;
      case kRampMonths: range(0, false, inf); break;
      case kDecay: range(0, false, 1); break;
      case kPSuccess: range(0, false, 1); break;
      default: break;
    }
  }

  void projects(const Node& n) {
    if (!expect_map(n, "projects")) return;
    if (n.entries.empty()) {
      error(n, "projects is empty: a portfolio needs at least one project");
      return;
    }
    for (const auto& [k, v] : n.entries) project(k, v);
  }

  void project(const Node& key, const Node& n) {
    const std::string& name = key.value;
    if (name.empty()) {  // it would vanish from funded lists ("a+" or "") and generated scenario names
      error(key, "a project name must not be empty");
      return;
    }
    if (name.find('.') != std::string::npos || name.find('+') != std::string::npos || name.find('/') != std::string::npos || name.find('=') != std::string::npos) {
      error(key, "project name '" + name + "' must not contain '.', '+', '/' or '='");
      return;
    }
    if (!plain_name(key, "project name", name)) return;
    if (factor_var_.count(name)) {
      error(key, "project '" + name + "' has the same name as a factor");
      return;
    }
    if (!expect_map(n, "project '" + name + "'")) return;
    std::vector<std::string> keys = {"kind", "inputs", "description"};
    for (int c = 0; c < kNumCostParams; ++c) keys.push_back(cost_param(c).name);
    check_keys(n, keys, "project '" + name + "'");
    Project p;
    p.name = name;
    p.where = loc(key);
    const Node* kind = n.find("kind");
    if (!kind) {
      error(n, "project '" + name + "' needs a kind (" + quote_list(kind_names()) + ")");
      return;
    }
    auto kname = text(*kind, "kind");
    if (!kname) return;
    auto k = parse_kind(*kname);
    if (!k) {
      error(*kind, "unknown kind '" + *kname + "' for project '" + name + "' (known: " + quote_list(kind_names()) + ")", did_you_mean(*kname, kind_names()));
      return;
    }
    p.kind = *k;
    const auto inputs = model_inputs(p.kind);
    const int pid = static_cast<int>(plan_.projects_.size());
    const Node* in = n.find("inputs");
    std::vector<std::string> input_names;
    for (const auto& mi : inputs) input_names.push_back(mi.name);
    if (in && !in->is_map()) {
      error(*in, "inputs of project '" + name + "' must be a mapping, not " + std::string(in->type_name()));
      in = nullptr;
    }
    if (in) check_keys(*in, input_names, "the inputs of project '" + name + "' (a " + *kname + " project takes " + quote_list(input_names) + ")");
    std::vector<std::string> missing;
    for (const auto& mi : inputs)
      if (!mi.has_default && !(in && in->find(mi.name))) missing.push_back(mi.name);
    if (!missing.empty())
      error(in ? *in : n, "project '" + name + "' (" + *kname + ") is missing input" + (missing.size() > 1 ? "s " : " ") + quote_list(missing));
    auto slot = [&](const std::string& pname, const Node* node, double dflt, int cost) {
      const std::string full = name + "." + pname;
      p.slot_name.push_back(pname);
      std::optional<ValueSpec> spec;
      if (node) spec = value_spec(*node, full, true);
      if (spec && spec->type == ValueSpec::Type::Factor) {
        if (cost >= 0) {
          for (const auto& d : plan_.vars_[spec->factor_var].defs) check_cost_param(cost, d.dist, *node, full + " (factor '" + plan_.vars_[spec->factor_var].name + "')");
        }
        p.slot_var.push_back(spec->factor_var);
        return;
      }
      const int id = add_var(full);
      Distribution d = spec ? spec->dist : Distribution::constant(dflt);
      if (cost >= 0 && spec) check_cost_param(cost, d, *node, full);
      plan_.vars_[id].defs.push_back({d, node ? loc(*node) : p.where});
      p.slot_var.push_back(id);
    };
    for (const auto& mi : inputs) slot(mi.name, in ? in->find(mi.name) : nullptr, mi.default_value, -1);
    for (int c = 0; c < kNumCostParams; ++c) {
      const ModelInput& cp = cost_param(c);
      const Node* node = n.find(cp.name);
      if (!node && !cp.has_default) error(n, "project '" + name + "' needs " + std::string(cp.name) + " (> 0)");
      slot(cp.name, node, cp.default_value, c);
    }
    p.success_var = add_var(name + ".success");
    plan_.vars_[p.success_var].defs.push_back({Distribution::uniform(0, 1), p.where});
    plan_.vars_[p.success_var].success_of = pid;
    project_by_name_[name] = pid;
    plan_.projects_.push_back(std::move(p));
  }

  std::vector<int> all_projects() const {
    std::vector<int> v(plan_.projects_.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int>(i);
    return v;
  }
  std::vector<std::string> project_names() const {
    std::vector<std::string> v;
    for (const auto& p : plan_.projects_) v.push_back(p.name);
    return v;
  }
  std::vector<std::string> target_names() const {
    std::vector<std::string> v = plan_.factor_names_;
    for (const auto& p : plan_.projects_)
      for (const auto& s : p.slot_name) v.push_back(p.name + "." + s);
    return v;
  }

  // Resolves "factor" or "project.param" to (factor var, -1, -1) or (-1, project, slot).
  struct Target { int factor_var = -1; int project = -1; int slot = -1; };
  std::optional<Target> target(const Node& key, const std::string& where) {
    const std::string& s = key.value;
    const auto dot = s.find('.');
    if (dot == std::string::npos) {
      auto it = factor_var_.find(s);
      if (it != factor_var_.end()) return Target{it->second, -1, -1};
      error(key, "unknown factor '" + s + "' in " + where + " (project inputs are named project.input)", did_you_mean(s, target_names()));
      return std::nullopt;
    }
    const std::string pn = s.substr(0, dot), in = s.substr(dot + 1);
    auto pit = project_by_name_.find(pn);
    if (pit == project_by_name_.end()) {
      error(key, "unknown project '" + pn + "' in " + where, did_you_mean(pn, project_names()));
      return std::nullopt;
    }
    const Project& p = plan_.projects_[pit->second];
    for (int j = 0; j < p.slots(); ++j)
      if (p.slot_name[j] == in) return Target{-1, pit->second, j};
    error(key, "project '" + pn + "' has no input '" + in + "' (in " + where + ")", did_you_mean(in, p.slot_name));
    return std::nullopt;
  }

  // ---- correlations ---------------------------------------------------------------------------
  void correlations(const Node& n) {
    if (n.is_null()) return;
    if (!n.is_seq()) {
      error(n, "correlations must be a list of [input, input, rho] triples, not " + std::string(n.type_name()));
      return;
    }
    std::map<std::pair<int, int>, double> seen;
    for (const auto& item : n.items) {
      if (!item.is_seq() || item.items.size() != 3) {
        error(item, "each correlation is a list [input_a, input_b, rho]");
        continue;
      }
      int ids[2];
      bool ok = true;
      for (int i = 0; i < 2; ++i) {
        const Node& nm = item.items[i];
        if (!nm.is_scalar()) {
          error(nm, "a correlation names an input (factor or project.input), not " + std::string(nm.type_name()));
          ok = false;
          continue;
        }
        auto t = target(nm, "correlations");
        if (!t) { ok = false; continue; }
        ids[i] = t->factor_var >= 0 ? t->factor_var : plan_.projects_[t->project].slot_var[t->slot];
        if (!plan_.vars_[ids[i]].uncertain()) {
          error(nm, "'" + nm.value + "' is a constant; only uncertain inputs can be correlated");
          ok = false;
        }
      }
      auto rho = number(item.items[2], "correlation");
      if (!ok || !rho) continue;
      if (*rho < -1 || *rho > 1) {
        error(item.items[2], "correlation " + fmt(*rho) + " is outside [-1, 1]");
        continue;
      }
      if (ids[0] == ids[1]) {
        error(item, "'" + item.items[0].value + "' is correlated with itself" + (item.items[0].value != item.items[1].value ? " (both names refer to the same input)" : ""));
        continue;
      }
      auto key = std::minmax(ids[0], ids[1]);
      auto it = seen.find(key);
      if (it != seen.end()) {
        if (it->second != *rho)
          error(item, "contradictory correlations between '" + plan_.vars_[key.first].name + "' and '" + plan_.vars_[key.second].name + "': " + fmt(it->second) + " and " + fmt(*rho));
        continue;
      }
      seen[key] = *rho;
      for (int id : ids)
        if (plan_.vars_[id].copula_index < 0) {
          plan_.vars_[id].copula_index = static_cast<int>(plan_.copula_vars_.size());
          plan_.copula_vars_.push_back(id);
        }
      corr_entries_.push_back({plan_.vars_[ids[0]].copula_index, plan_.vars_[ids[1]].copula_index, *rho});
    }
  }

  void build_copula(const Node* at) {
    if (plan_.copula_vars_.empty()) return;
    const int k = static_cast<int>(plan_.copula_vars_.size());
    Eigen::MatrixXd m = Eigen::MatrixXd::Identity(k, k);
    for (const auto& e : corr_entries_) m(e.a, e.b) = m(e.b, e.a) = e.rho;
    std::vector<std::string> names;
    for (int v : plan_.copula_vars_) names.push_back(plan_.vars_[v].name);
    try {
      plan_.copula_ = std::make_shared<GaussianCopula>(m, names, plan_.settings_.correlation_repair);
    } catch (const CorrelationError& e) {
      error(*at, e.what(), "settings: {correlation_repair: nearest} replaces it by the nearest valid matrix");
    }
  }

  // ---- scenarios, sweep -----------------------------------------------------------------------
  // The (project, cost parameter) pairs whose slot reads variable `var` (a factor).
  std::vector<std::pair<int, int>> cost_readers(int var) const {
    std::vector<std::pair<int, int>> out;
    for (std::size_t pi = 0; pi < plan_.projects_.size(); ++pi) {
      const Project& p = plan_.projects_[pi];
      for (int c = 0; c < kNumCostParams; ++c) {
        const auto slot = static_cast<std::size_t>(p.cost_slot(c));
        if (slot < p.slot_var.size() && p.slot_var[slot] == var) out.emplace_back(static_cast<int>(pi), c);
      }
    }
    return out;
  }
  // A scale of a cost or time parameter: positive for initial_cost, not negative for the others
  // (their ranges start at 0; scales from several sweep axes multiply, and these signs survive
  // it). Upper bounds are not checked here: p_success and launch_month are clamped (see README).
  void check_cost_scale(int param, double f, const Node& at, const std::string& what, const std::string& target_name) {
    if (param == kInitialCost && !(f > 0))
      error(at, what + " by " + fmt(f) + " would make " + target_name + " <= 0");
    else if (param != kInitialCost && !(f >= 0))
      error(at, what + " by " + fmt(f) + " would make " + target_name + " negative");
  }

  // Parses `scale:` and `set:` of a scenario or an axis value into o.
  void overrides(const Node& n, Overrides& o, const std::string& where) {
    if (const Node* sc = n.find("scale")) {
      if (expect_map(*sc, where + ".scale"))
        for (const auto& [k, v] : sc->entries) {
          auto t = target(k, where + ".scale");
          auto f = number(v, where + ".scale." + k.value);
          if (!t || !f) continue;
          if (t->factor_var >= 0) {
            for (const auto& [pi, c] : cost_readers(t->factor_var))
              check_cost_scale(c, *f, v, "scaling factor '" + k.value + "'", plan_.projects_[pi].name + "." + cost_param(c).name);
            o.var_scales.push_back({t->factor_var, *f});
          } else {
            const Project& p = plan_.projects_[t->project];
            if (t->slot >= p.value_slots()) check_cost_scale(t->slot - p.value_slots(), *f, v, "scaling " + k.value, "it");
            o.slot_scales.push_back({t->project, t->slot, *f});
          }
        }
    }
    if (const Node* st = n.find("set")) {
      if (expect_map(*st, where + ".set"))
        for (const auto& [k, v] : st->entries) {
          auto t = target(k, where + ".set");
          auto spec = value_spec(v, where + ".set." + k.value, false);
          if (!t || !spec) continue;
          int var;
          if (t->factor_var >= 0) {
            var = t->factor_var;
            // The projects reading the factor as a cost or time parameter hold it to that range.
            for (const auto& [pi, c] : cost_readers(var))
              check_cost_param(c, spec->dist, v, where + ".set." + k.value + " (factor read by " + plan_.projects_[pi].name + "." + cost_param(c).name + ")");
          } else {
            const Project& p = plan_.projects_[t->project];
            if (t->slot >= p.value_slots())
              check_cost_param(t->slot - p.value_slots(), spec->dist, v, where + ".set." + k.value);
            var = p.slot_var[t->slot];
            if (plan_.vars_[var].factor >= 0) {
              // The slot reads a factor: a `set` gives this project its own variable.
              const std::string own = p.name + "." + p.slot_name[t->slot];
              auto it = var_by_name_.find(own);
              var = it != var_by_name_.end() ? it->second : add_var(own);
              o.retargets.push_back({t->project, t->slot, var});
            }
          }
          plan_.vars_[var].defs.push_back({spec->dist, loc(v)});
          o.defs.push_back({var, static_cast<int>(plan_.vars_[var].defs.size()) - 1});
        }
    }
  }

  std::optional<std::vector<int>> project_list(const Node& n, const std::string& where) {
    if (!n.is_seq()) {
      error(n, where + " must be a list of project names, not " + std::string(n.type_name()));
      return std::nullopt;
    }
    if (n.items.empty()) {
      error(n, where + " is empty: a scenario funds at least one project");
      return std::nullopt;
    }
    std::vector<int> out;
    bool ok = true;
    for (const auto& item : n.items) {
      auto it = item.is_scalar() ? project_by_name_.find(item.value) : project_by_name_.end();
      if (it == project_by_name_.end()) {
        error(item, "unknown project '" + item.value + "' in " + where, did_you_mean(item.value, project_names()));
        ok = false;
      } else if (std::find(out.begin(), out.end(), it->second) != out.end()) {
        error(item, "project '" + item.value + "' is listed twice in " + where);
        ok = false;
      } else {
        out.push_back(it->second);
      }
    }
    if (!ok) return std::nullopt;
    std::sort(out.begin(), out.end());
    return out;
  }

  void scenarios(const Node& n, bool have_sweep) {
    if (!n.is_seq()) {
      error(n, "scenarios must be a list, not " + std::string(n.type_name()));
      return;
    }
    if (n.items.empty() && !have_sweep) error(n, "scenarios is empty and there is no sweep: nothing to simulate (remove the key for the default 'base' scenario)");
    std::map<std::string, int> names;
    for (const auto& item : n.items) {
      if (!expect_map(item, "a scenario")) continue;
      check_keys(item, {"name", "description", "projects", "scale", "set"}, "a scenario");
      const Node* nm = item.find("name");
      if (!nm) {
        error(item, "a scenario needs a name");
        continue;
      }
      auto name = text(*nm, "scenario name");
      if (!name) continue;
      if (name->empty() || name->find('=') != std::string::npos || name->find('/') != std::string::npos) {
        error(*nm, "scenario name '" + *name + "' must be non-empty and must not contain '=' or '/' (those mark sweep scenarios)");
        continue;
      }
      if (!plain_name(*nm, "scenario name", *name)) continue;
      if (auto it = names.find(*name); it != names.end()) {
        error(*nm, "duplicate scenario name '" + *name + "' (first used at line " + std::to_string(it->second) + ")");
        continue;
      }
      names[*name] = nm->line;
      ScenarioSpec s;
      s.name = *name;
      s.funded = all_projects();
      if (const Node* pl = item.find("projects"))
        if (auto v = project_list(*pl, "scenario '" + *name + "' projects")) s.funded = *v;
      overrides(item, s.overrides, "scenario '" + *name + "'");
      plan_.explicit_.push_back(std::move(s));
    }
  }

  void sweep(const Node& n) {
    if (!expect_map(n, "sweep")) return;
    check_keys(n, {"funded", "axes"}, "sweep");
    Plan::Sweep sw;
    const Node* f = n.find("funded");
    if (!f) {
      sw.funded_lists.push_back(all_projects());
    } else if (f->is_scalar() && f->value == "all_subsets") {
      // 2^P - 1 subsets; the sweep expands to at most 10^12 scenarios (below), so P <= 39. Past
      // that the error is this one alone (and 1 << P is never taken for P >= 64).
      constexpr std::size_t kMaxSubsetProjects = 39;
      if (plan_.projects_.size() > kMaxSubsetProjects) {
        error(*f, "funded: all_subsets over " + std::to_string(plan_.projects_.size()) + " projects is too many scenarios (at most " +
                      std::to_string(kMaxSubsetProjects) + " projects: 2^" + std::to_string(kMaxSubsetProjects) +
                      " - 1 subsets; a sweep expands to at most 10^12 scenarios)");
        sw.funded_lists.push_back(all_projects());
      } else {
        sw.all_subsets = true;
      }
    } else if (f->is_seq()) {
      if (f->items.empty()) error(*f, "sweep.funded is an empty list");
      std::set<std::vector<int>> seen;
      for (const auto& item : f->items)
        if (auto v = project_list(item, "sweep.funded")) {
          if (!seen.insert(*v).second) error(item, "this funded list repeats an earlier one");
          sw.funded_lists.push_back(*v);
        }
    } else {
      error(*f, "sweep.funded must be 'all_subsets' or a list of project lists");
    }
    if (const Node* ax = n.find("axes")) {
      if (expect_map(*ax, "sweep.axes")) {
        if (ax->entries.empty()) error(*ax, "sweep.axes is empty; give at least one axis or remove the key");
        for (const auto& [k, v] : ax->entries) {
          // (An empty axis name or value had made scenarios named "=x/funded=a".)
          if (k.value.empty()) error(k, "an axis name must not be empty");
          else if (k.value.find('=') != std::string::npos || k.value.find('/') != std::string::npos)
            error(k, "axis name '" + k.value + "' must not contain '=' or '/'");
          plain_name(k, "axis name", k.value);
          Plan::Axis axis{k.value, {}};
          if (!expect_map(v, "sweep axis '" + k.value + "'")) continue;
          if (v.entries.empty()) error(v, "sweep axis '" + k.value + "' has no values");
          for (const auto& [vk, vv] : v.entries) {
            Plan::AxisValue av{vk.value, {}};
            if (vk.value.empty()) error(vk, "a value of axis '" + k.value + "' must not be empty");
            else if (vk.value.find('=') != std::string::npos || vk.value.find('/') != std::string::npos)
              error(vk, "axis value '" + vk.value + "' must not contain '=' or '/'");
            plain_name(vk, "axis value", vk.value);
            if (!vv.is_null()) {
              if (!expect_map(vv, "sweep value '" + k.value + "=" + vk.value + "'")) continue;
              check_keys(vv, {"scale", "set"}, "sweep value '" + k.value + "=" + vk.value + "'");
              overrides(vv, av.overrides, "sweep value '" + k.value + "=" + vk.value + "'");
            }
            axis.values.push_back(std::move(av));
          }
          sw.axes.push_back(std::move(axis));
        }
      }
    }
    // Two axes that `set` the same input would contradict each other in their product.
    std::map<int, std::string> set_by;
    for (const auto& a : sw.axes) {
      std::set<int> mine;
      for (const auto& v : a.values)
        for (const auto& d : v.overrides.defs) mine.insert(d.var);
      for (int var : mine) {
        auto [it, fresh] = set_by.emplace(var, a.name);
        if (!fresh) error(n, "sweep axes '" + it->second + "' and '" + a.name + "' both set '" + plan_.vars_[var].name + "'; their combination is ambiguous");
      }
    }
    long double total = static_cast<long double>(sw.funded_count(plan_.projects_.size()));
    for (const auto& a : sw.axes) total *= std::max<std::size_t>(1, a.values.size());
    total += plan_.explicit_.size();  // (the explicit scenarios had been multiplied by the axes too)
    if (total > 1e12) error(n, "the sweep expands to more than 10^12 scenarios");
    plan_.sweep_ = std::move(sw);
  }

  // ---- the input dimension --------------------------------------------------------------------
  void assign_inputs() {
    // p_success slots touched by any override make the success draw an input too.
    std::set<int> touched;
    auto scan = [&](const Overrides& o) {
      for (const auto& s : o.slot_scales) touched.insert(s.project * 1000 + s.slot);
      for (const auto& r : o.retargets) touched.insert(r.project * 1000 + r.slot);
      for (const auto& d : o.defs) touched.insert(-1 - d.var);
    };
    for (const auto& s : plan_.explicit_) scan(s.overrides);
    if (plan_.sweep_)
      for (const auto& a : plan_.sweep_->axes)
        for (const auto& v : a.values) scan(v.overrides);
    auto& vars = plan_.vars_;
    for (std::size_t i = 0; i < vars.size(); ++i) {
      Variable& v = vars[i];
      bool input = v.uncertain() && v.success_of < 0;
      if (v.success_of >= 0) {
        const Project& p = plan_.projects_[v.success_of];
        const int slot = p.cost_slot(kPSuccess);
        const Variable& pv = vars[p.slot_var[slot]];
        bool maybe_fail = touched.count(v.success_of * 1000 + slot) > 0 || touched.count(-1 - p.slot_var[slot]) > 0;
        for (const auto& d : pv.defs)
          if (!(d.dist.is_constant() && d.dist.support_min() == 1.0)) maybe_fail = true;
        input = maybe_fail;
      }
      if (input) {
        v.input_index = static_cast<int>(plan_.input_vars_.size());
        plan_.input_vars_.push_back(static_cast<int>(i));
      }
    }
  }

  struct CorrEntry { int a, b; double rho; };
  Plan plan_;
  std::vector<Diagnostic> diags_;
  std::map<std::string, int> var_by_name_, factor_var_, project_by_name_;
  std::vector<CorrEntry> corr_entries_;
};

Plan Plan::load_text(const std::string& text, const std::string& file_name) {
  PlanBuilder b(text, file_name);
  Plan plan = b.build();
  // The pert/beta quantile tables (~0.5 ms each), in parallel (within the caller's arena: the
  // command line runs this with its --threads) rather than one after another while parsing.
  std::vector<const Distribution*> tables;
  for (const auto& v : plan.variables())
    for (const auto& d : v.defs)
      if (d.dist.kind() == DistKind::Pert || d.dist.kind() == DistKind::Beta) tables.push_back(&d.dist);
  tbb::parallel_for(std::size_t{0}, tables.size(), [&](std::size_t i) { tables[i]->prepare(); });
  return plan;
}

Plan Plan::load_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError::at(path, 0, 0, "is a folder, not a scenario file");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {  // why: a missing file, a permission, a path through a file (the errno of open())
    const int err = errno;
    throw InputError::at(path, 0, 0, "cannot open the scenario file" + (err ? " (" + std::string(std::strerror(err)) + ")" : std::string()));
  }
  // At most 256 MiB (a device such as /dev/zero, or a mistaken path to a data file, had been read
  // until memory ran out): a sweep of many scenarios is written with axes, not listed.
  constexpr std::size_t kMaxBytes = std::size_t{256} << 20;
  std::string text;
  std::vector<char> buf(std::size_t{1} << 16);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    text.append(buf.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxBytes)
      throw InputError::at(path, 0, 0, "is larger than 256 MiB, too large for a scenario file (many scenarios are written as sweep axes)");
  }
  if (in.bad()) throw InputError::at(path, 0, 0, "reading the scenario file failed");
  return load_text(text, path);
}

}  // namespace roisim
