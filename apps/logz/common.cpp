// Shared plumbing of the logz command-line tool; see common.hpp.
#include "common.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <tuple>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <new>

#include "logz/api/data.hpp"
#include "logz/core/check.hpp"
#include "logz/core/options.hpp"
#include "logz/io/dataset.hpp"
#include "logz/io/npy.hpp"

namespace logz::cli {

void add_common_options(CLI::App& sub, CommonOptions& o) {
  sub.add_option("--threads", o.threads, "Threads to use; 0 = all cores. Results do not depend on it")
      ->capture_default_str()
      ->type_name("N");
  sub.add_flag("--json", o.json, "Print exactly one JSON object on stdout (the human summary goes to stderr)");
  sub.add_flag("-q,--quiet", o.quiet, "No human output: no summary, no progress lines, no progress bar");
  sub.add_option("--max-seconds", o.max_seconds,
                 "End the run after this many seconds of wall time, exit 75, files whole (a trainer's checkpoint "
                 "resumes it); 0 = no limit")
      ->type_name("S");
}

void summary(const CommonOptions& o, std::string_view text) {
  if (o.quiet) return;
  std::FILE* out = o.json ? stderr : stdout;
  std::fprintf(out, "%.*s\n", int(text.size()), text.data());
  std::fflush(out);
}

void print_json(const nlohmann::json& j) {
  std::cout << j.dump(2) << std::endl;
}


std::string plus_minus(double value, double std_error) {
  if (!std::isfinite(std_error)) return fmt::format("{:.4f} ± n/a", value);
  // Two significant digits of the error bar, the value to the same decimal place.
  int decimals = 4;
  if (std_error > 0) decimals = std::clamp(1 - int(std::floor(std::log10(std_error))), 0, 8);
  return fmt::format("{:.{}f} ± {:.{}f}", value, decimals, std_error, decimals);
}

std::size_t count_option(std::string_view command, std::string_view option, std::int64_t value, std::int64_t min) {
  check_arg(value >= min, "{}: {} must be at least {}, got {}", command, option, min, value);
  check_arg(value <= kMaxCount, "{}: {} must be at most {} (2^40), got {}", command, option, kMaxCount, value);
  return std::size_t(value);
}

double positive_option(std::string_view command, std::string_view option, double value) {
  check_arg(std::isfinite(value) && value > 0, "{}: {} must be a positive number, got {}", command, option, value);
  return value;
}

double nonnegative_option(std::string_view command, std::string_view option, double value) {
  check_arg(std::isfinite(value) && value >= 0, "{}: {} must be a non-negative number, got {}", command, option, value);
  return value;
}

std::uint64_t seed_option(std::string_view command, std::int64_t value) {
  check_arg(value >= 0, "{}: --seed must be a non-negative integer, got {}", command, value);
  return std::uint64_t(value);
}

Exec make_exec(std::string_view command, const CommonOptions& o) {
  check_arg(o.threads >= 0, "{}: --threads must be at least 0 (0 = all cores), got {}", command, o.threads);
  check_arg(std::isfinite(o.max_seconds) && o.max_seconds >= 0,
            "{}: --max-seconds must be a number of seconds >= 0 (0 = no limit), got {}", command, o.max_seconds);
  io::end_process_after(o.max_seconds, fmt::format("logz: {}: stopped after --max-seconds {} s (exit 75); files "
                                                   "written so far are whole",
                                                   command, o.max_seconds));
  return Exec(o.threads);
}

OutputLocks::OutputLocks(std::string_view command, std::initializer_list<std::string> paths) {
  for (const std::string& path : paths)
    if (!path.empty()) locks_.push_back(std::make_unique<io::OutputLock>(path, command));
}

void check_output_path(std::string_view command, std::string_view option, const std::string& path, NamedPaths inputs) {
  namespace fs = std::filesystem;
  check_arg(!path.empty(), "{}: {} must not be empty", command, option);
  const fs::path p(path);
  for (const auto& [input_option, input] : inputs) {
    std::error_code same_ec;
    if (!input.empty() && fs::equivalent(p, fs::path(input), same_ec))
      fail(Exit::usage, "{}: {} {} is the input {} {}; write to another file (the input would be replaced)", command,
           option, path, input_option, input);
  }
  fs::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::exists(dir, ec))
    fail(Exit::cant_create, "{}: {} {}: directory '{}' does not exist", command, option, path, dir.string());
  if (!fs::is_directory(dir, ec))
    fail(Exit::cant_create, "{}: {} {}: '{}' is not a directory", command, option, path, dir.string());
  if (::access(dir.c_str(), W_OK) != 0)
    fail(Exit::cant_create, "{}: {} {}: directory '{}' is not writable", command, option, path, dir.string());
  if (fs::is_directory(p, ec)) fail(Exit::cant_create, "{}: {} {}: is a directory", command, option, path);
}

std::string beside(const std::string& out, std::string_view suffix) {
  std::string stem = out;
  if (stem.size() > 4 && stem.ends_with(".npz")) stem.resize(stem.size() - 4);
  return stem + std::string(suffix);
}

MatrixU8 load_data(std::string_view command, std::string_view option, const std::string& spec, std::size_t n_visible) {
  MatrixU8 x = io::load_binary_data(spec);
  check_data(x.rows() > 0, "{}: {} {} has no rows", command, option, spec);
  check_data(n_visible == 0 || std::size_t(x.cols()) == n_visible,
             "{}: {} {} has {} columns but the model has {} visible units", command, option, spec, x.cols(), n_visible);
  return x;
}

MatrixD load_real_data(std::string_view command, std::string_view option, const std::string& path, std::size_t columns) {
  std::string field(option.substr(option.starts_with("--") ? 2 : 0));
  std::replace(field.begin(), field.end(), '-', '_');
  return api::load_real_rows(path, field, command, columns);
}

void add_log_z_options(CLI::App& sub, LogZOptions& o) {
  sub.add_option("--chains", o.chains, "AIS chains (RAISE: reverse chains, one per data row picked)")
      ->capture_default_str()
      ->type_name("N");
  sub.add_option("--betas", o.betas, "Intermediate inverse temperatures (annealing steps) per chain")
      ->capture_default_str()
      ->type_name("N");
  sub.add_option("--schedule", o.schedule,
                 "Spacing of the betas: sm (Salakhutdinov & Murray 2008), linear, geometric, sigmoid (Grosse et al. "
                 "2013), or an explicit list:0,0.5,1")
      ->capture_default_str()
      ->type_name("NAME|list:B0,..,1");
  sub.add_option("--seed", o.seed, "Random seed; chain r uses the stream (seed, r) for any --threads")
      ->capture_default_str()
      ->type_name("N");
}

api::EstimateConfig log_z_config(std::string_view command, const LogZOptions& o, const std::string& method) {
  api::EstimateConfig c;
  c.method = method;
  c.chains = count_option(command, "--chains", o.chains, 1);
  c.betas = count_option(command, "--betas", o.betas, 1);
  c.schedule = o.schedule;
  c.seed = seed_option(command, o.seed);
  if (method != "exact") {
    check_arg(c.schedule != "sm" || c.betas >= 3, "{}: --betas must be at least 3 with --schedule sm, got {}", command,
              c.betas);
    c.validate();
  }
  return c;
}

nlohmann::json estimate_json(const LogZEstimate& e, const api::EstimateConfig& c) {
  nlohmann::json j = api::to_json(e);
  j["method"] = e.method;
  j["log_z"] = e.log_z;
  j["std_error"] = e.std_error;
  j["error_method"] = e.error_method;
  j["ess"] = e.ess;
  j["seconds"] = e.seconds;
  j["log_z_base"] = e.log_z_base;
  const bool exact = e.method == "exact";
  j["chains"] = exact ? nlohmann::json(nullptr) : nlohmann::json(c.chains);
  j["betas"] = exact ? nlohmann::json(nullptr) : nlohmann::json(c.betas);
  j["schedule"] = exact ? nlohmann::json(nullptr) : nlohmann::json(c.schedule);
  j["seed"] = exact ? nlohmann::json(nullptr) : nlohmann::json(c.seed);
  return j;
}

std::string estimate_text(const LogZEstimate& e, const api::EstimateConfig& c) {
  if (e.method == "exact") return fmt::format("log Z = {:.10g}  (exact; {:.2f} s)", e.log_z, e.seconds);
  std::string s = fmt::format("log Z = {}  ({}, {} chains, {} betas {}; ", plus_minus(e.log_z, e.std_error), e.method,
                              c.chains, c.betas, c.schedule);
  if (std::isfinite(e.std_error)) {
    const auto [lo, hi] = e.interval(0.95);
    s += fmt::format("95% interval [{:.4f}, {:.4f}]; ", lo, hi);
  } else {
    s += fmt::format("no error bar: {}; ", e.error_method);
  }
  if (std::isfinite(e.ess)) s += fmt::format("ESS {:.1f} of {}; ", e.ess, e.num_samples);
  s += fmt::format("{:.2f} s)", e.seconds);
  return s;
}

void add_replicas_option(CLI::App& sub, std::int64_t& replicas, bool& given) {
  sub.add_option_function<std::int64_t>(
         "--replicas",
         [&replicas, &given](const std::int64_t& r) {
           replicas = r;
           given = true;
         },
         "pt: replicas per ladder (>= 2), betas from 0 to 1, denser near 1")
      ->default_str(std::to_string(replicas))
      ->type_name("R");
}

std::string verdict_text(const LogZEstimate& e) {
  if (e.method == "exact") return "verdict: exact";
  if (e.reliable) return "verdict: reliable (no check failed: docs/error-bars.md lists them)";
  std::string reasons, advice;
  for (const EstimateWarning& w : e.warnings) {
    reasons += fmt::format("{}{}: {}", reasons.empty() ? "" : "; ", w.name, w.message);
    if (advice.find(w.advice) == std::string::npos) advice += (advice.empty() ? "" : "; or ") + w.advice;
  }
  return fmt::format("NOT RELIABLE: {}. {}{}", reasons, advice.empty() ? "" : "Advice: ", advice);
}

void add_strict_option(CLI::App& sub, bool& strict) {
  sub.add_flag("--strict", strict, "Exit with 75 (EX_TEMPFAIL) when the verdict on log Z is NOT RELIABLE");
}

int verdict_exit(const LogZEstimate& e, bool strict) {
  return strict && !e.reliable ? int(Exit::temp_fail) : 0;
}

namespace {

// CLI11 reads an integer beyond int64 as its largest value, and a negative one given to
// an unsigned option as its two's complement (--leapfrog -1 as 4294967295): every
// integer option is checked as text before it is converted. Counts stop at kMaxCount
// (core/options.hpp says why); a seed may be any non-negative int64.
void guard_integer_options(CLI::App& app) {
  // Counts whose every unit repeats the inner loop of a run get a bound of their own: a
  // value near 2^40 would be days of one loop, never a useful setting.
  static const std::map<std::string, std::pair<std::int64_t, std::string>> tighter = {
      {"--k", {1'000'000, "Gibbs steps per update; a chain that needs more to mix needs tempering: --method pt"}},
      {"--leapfrog", {100'000, "leapfrog steps per trajectory; a longer one only retraces itself: raise --step-size"}},
  };
  for (CLI::Option* opt : app.get_options([](const CLI::Option*) { return true; })) {
    const std::string type = opt->get_type_name();
    if (type != "INT" && type != "UINT" && type != "N" && type != "R" && type != "K") continue;
    const std::string name = opt->get_name();
    std::int64_t max = name == "--seed" ? std::numeric_limits<std::int64_t>::max() : kMaxCount;
    std::string why = max == kMaxCount ? "2^40" : "";
    if (const auto it = tighter.find(name); it != tighter.end()) std::tie(max, why) = it->second;
    const bool non_negative = type == "UINT";
    opt->check(CLI::Validator(
        [max, why, non_negative](std::string& text) -> std::string {
          const bool negative = !text.empty() && text[0] == '-';
          const std::size_t digits = negative ? 1 : 0;
          if (text.size() == digits || text.find_first_not_of("0123456789", digits) != std::string::npos)
            return "";  // not a plain integer: CLI11's own conversion says so
          std::int64_t v = 0;
          const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
          if (ec == std::errc::result_out_of_range ? !negative : v > max)
            return fmt::format("must be at most {}{}, got {}", max, why.empty() ? "" : " (" + why + ")", text);
          if (negative && (non_negative || ec != std::errc()))
            return fmt::format("must be a non-negative integer, got {}", text);
          return "";
        },
        "", "integer range"));
  }
  for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) guard_integer_options(*sub);
}

}  // namespace

int run_main(int argc, char** argv) {
  CLI::App app{
      "logz: train energy-based models and estimate their partition function Z with error bars.\n"
      "Binary RBMs, Ising and Potts models, continuous energies (Gaussian, Gaussian-Bernoulli RBM,\n"
      "Student-t experts, neural energies) and image patches for them.",
      "logz"};
  app.set_version_flag("--version", fmt::format("logz {}", kVersion), "Print the version and exit");
  app.require_subcommand(1);
  app.footer(
      "Every subcommand has --help, --threads N (0 = all cores), --json (one JSON object on stdout)\n"
      "and --quiet. Exit codes (sysexits): 0 ok, 64 usage, 65 bad data, 66 missing input,\n"
      "69 not enough memory, 70 internal error, 73 cannot create output, 74 I/O error,\n"
      "75 an estimate its verdict does not trust (with --strict).\n\n"
      "Examples:\n"
      "  logz demo\n"
      "  logz train rbm --data fashion-mnist:train --hidden 500 --epochs 10 --out model.npz\n"
      "  logz estimate --model model.npz --method ais --chains 100 --betas 10000 --json\n"
      "  logz eval --model model.npz --data fashion-mnist:test --log-z sandwich\n"
      "  logz train potts --data DHFR.a2m --focus DYR_ECOLI --ignore-gaps --unknown skip --out dhfr.npz\n"
      "  logz score --model dhfr.npz --mutants --out mutants.txt\n"
      "  logz convert dhfr.npz dhfr.params   # plmc's binary parameter file (EVcouplings reads it)");
  Action action;
  add_train(app, action);
  add_exact(app, action);
  add_estimate(app, action);
  add_eval(app, action);
  add_sample(app, action);
  add_info(app, action);
  add_demo(app, action);
  add_patches(app, action);
  add_score(app, action);
  add_convert(app, action);
  add_plot(app, action);
  guard_integer_options(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: printed on stdout
    std::fprintf(stderr, "logz: %s\nRun with --help for more information.\n", e.what());
    return int(Exit::usage);
  }
  if (!action) {  // cannot happen with require_subcommand, but never run nothing silently
    std::fputs("logz: no subcommand given; run logz --help\n", stderr);
    return int(Exit::usage);
  }
  try {
    return action();
  } catch (const ConfigError& e) {  // the library names config fields: say them as options
    std::fflush(stdout);
    std::fprintf(stderr, "logz: %s\n", e.render([](std::string_view f) { return flag_of(f); }).c_str());
    return int(e.code());
  } catch (const Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "logz: %s\n", e.what());
    return int(e.code());
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    std::fputs("logz: out of memory (std::bad_alloc); try a smaller model, fewer chains or smaller batches\n", stderr);
    return int(Exit::software);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "logz: internal error: %s\n", e.what());
    return int(Exit::software);
  }
}

// ------------------------------------------------------------------ estimate options from their declarations

std::string flag_of(std::string_view field) {
  std::string f = "--";
  for (char c : field) f += c == '_' ? '-' : c;
  return f;
}

namespace {
/// Every declared estimate field: the common ones, then the methods' own.
std::vector<OptionField> estimate_fields() {
  std::vector<OptionField> all = api::common_estimate_fields();
  for (const OptionField& f : api::method_option_fields()) all.push_back(f);
  return all;
}
}  // namespace

void add_estimate_options(CLI::App& sub, EstimateFlags& flags, const std::vector<std::string>& skip) {
  flags.app = &sub;
  for (const OptionField& f : estimate_fields()) {
    if (std::find(skip.begin(), skip.end(), f.name) != skip.end()) continue;
    CLI::Option* o = sub.add_option(flag_of(f.name), flags.text[f.name], f.help)
                         ->default_str(OptionField::format(f.default_value));
    if (f.type == OptionType::count) o->type_name("N");
    if (f.type == OptionType::real) o->type_name("X");
    if (f.type == OptionType::text) o->type_name(f.choices.empty() ? "TEXT" : "NAME");
    if (!f.choices.empty()) o->check(CLI::IsMember(f.choices));
  }
}

api::EstimateConfig estimate_config(std::string_view command, const EstimateFlags& flags) {
  api::EstimateConfig c;
  for (const OptionField& f : estimate_fields()) {
    if (!flags.text.count(f.name)) continue;  // a field the command spells its own way
    const std::string flag = flag_of(f.name);
    const CLI::Option* o = flags.app ? flags.app->get_option_no_throw(flag) : nullptr;
    if (!o || o->count() == 0) continue;
    const OptionValue v = f.parse(flags.text.at(f.name), fmt::format("{}: {}", command, flag));
    const std::string problem = f.problem(v);
    check_arg(problem.empty(), "{}: {} {}", command, flag, problem);
    api::set_field(c, f.name, v);
  }
  // No --betas: the method's own default (a ladder holds every level; AIS wants many).
  const CLI::Option* betas = flags.app ? flags.app->get_option_no_throw("--betas") : nullptr;
  if (const api::EstimatorInfo* info = api::find_estimator(c.method); info && betas && betas->count() == 0)
    c.betas = info->default_betas;
  c.validate(command);
  return c;
}

std::string methods_help() {
  std::string out = "Methods (docs/error-bars.md says how each error bar is computed and when not to trust it):\n";
  for (const api::EstimatorInfo& e : api::estimators()) {
    std::string text = e.summary;
    for (std::size_t p = 0; (p = text.find('\n', p)) != std::string::npos; p += 11) text.replace(p, 1, "\n          ");
    out += fmt::format("  {:<7} {}\n", e.name, text);
  }
  out += "  exact   RBM: enumeration of the smaller layer (<= 32 units); Ising / Potts: junction tree;\n"
         "          Gaussian: closed form; GRBM: the hidden layer enumerated (<= 30 units); experts with\n"
         "          as many filters as dimensions and no quadratic term: closed form\n";
  return out;
}

// ------------------------------------------------------------------ continuous-model options

void add_kernel_options(CLI::App& sub, api::ContinuousKernelConfig& k, const std::string& scope) {
  sub.add_option("--kernel", k.kernel,
                 scope + ": hmc (default) or mala moves; Ising / Potts (estimate, eval): gibbs (default), sw "
                         "(Swendsen-Wang) or sw-gibbs (each Swendsen-Wang update followed by a Gibbs sweep)")
      ->type_name("NAME");
  sub.add_option("--step-size", k.step_size, scope + ": kernel step size")->capture_default_str();
  sub.add_option("--leapfrog", k.leapfrog, scope + ": HMC leapfrog steps per trajectory")->capture_default_str();
}

void add_base_option(CLI::App& sub, std::string& base) {
  sub.add_option("--base", base,
                 "Continuous model: the Gaussian base of the path: auto (the kind's default), standard (N(0, I)), fit "
                 "(fitted to a short HMC run) or data:X.npy (fitted to the rows of X.npy)")
      ->capture_default_str()
      ->type_name("auto|standard|fit|data:PATH");
}

api::BaseChoice base_choice(std::string_view command, const std::string& base) {
  if (base == "auto") return api::BaseChoice::model_default;
  if (base == "standard") return api::BaseChoice::standard;
  if (base == "fit") return api::BaseChoice::fit;
  if (base.starts_with("data:")) return api::BaseChoice::data;
  fail(Exit::usage, "{}: --base must be auto, standard, fit or data:PATH, got '{}'", command, base);
}


}  // namespace logz::cli
