#pragma once
/// @file common.hpp
/// Shared plumbing of the `logz` command-line tool: the options every subcommand has
/// (--threads, --json, --quiet), where output goes, checks of option values with the
/// messages the tests pin, and the error → exit-code mapping. No algorithm logic lives
/// in apps/logz: each subcommand parses, loads, calls the façade (logz/api) and prints.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>
#include <memory>
#include <optional>
#include <initializer_list>
#include <string>
#include <utility>
#include <string_view>

#include "logz/api/continuous_tasks.hpp"
#include "logz/api/rbm_tasks.hpp"
#include "logz/core/observer.hpp"  // seconds_since
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/io/alignment.hpp"
#include "logz/io/atomic_file.hpp"

namespace logz::cli {

/// Version printed by `logz --version` (the project version in CMakeLists.txt).
inline constexpr std::string_view kVersion = "0.1.0";

/// What a parsed subcommand runs once parsing is over; returns the exit status.
using Action = std::function<int()>;

/// Options every subcommand has.
struct CommonOptions {
  int threads = 0;     ///< 0 = all cores
  bool json = false;   ///< exactly one JSON object on stdout
  bool quiet = false;  ///< no human output (summary, epoch lines, progress bar)
  double max_seconds = 0;  ///< end the run after this wall time (exit 75); 0 = no limit
};

/// Adds --threads, --json, --quiet and --max-seconds to a subcommand.
void add_common_options(CLI::App& sub, CommonOptions& o);

/// Registers `action` to run `run(*options)` when subcommand `sub` was parsed.
template <class Options, class Run>
void on_parsed(CLI::App& sub, const std::shared_ptr<Options>& options, Action& action, Run run) {
  sub.callback([&action, options, run] { action = [options, run] { return run(*options); }; });
}

/// Each subcommand file adds its subcommand to the top-level app.
void add_train(CLI::App& app, Action& action);
/// `train potts` (cmd_train_potts.cpp), added under `train` by add_train.
void add_train_potts(CLI::App& train, Action& action);
/// `train ising` (cmd_train_ising.cpp), added under `train` by add_train.
void add_train_ising(CLI::App& train, Action& action);
/// `train gaussian|grbm|experts|neural` (cmd_train_continuous.cpp), added under `train`.
void add_train_continuous(CLI::App& train, Action& action);
void add_exact(CLI::App& app, Action& action);
void add_estimate(CLI::App& app, Action& action);
void add_eval(CLI::App& app, Action& action);
void add_sample(CLI::App& app, Action& action);
void add_info(CLI::App& app, Action& action);
void add_demo(CLI::App& app, Action& action);
/// `patches` (cmd_patches.cpp): image patches for continuous models.
void add_patches(CLI::App& app, Action& action);
/// `score` (cmd_score.cpp): sequence energies and single-mutant effects of a Potts model.
void add_score(CLI::App& app, Action& action);
/// `convert` (cmd_convert.cpp): model files between logz's .npz and plmc's format.
void add_convert(CLI::App& app, Action& action);
/// `plot` (cmd_plot.cpp): the pictures of the Python package's logz.plot.
void add_plot(CLI::App& app, Action& action);

/// Parses the command line, runs the subcommand and maps errors to sysexits codes:
/// logz::Error → its code(); CLI11 parse errors → 64; std::bad_alloc and any other
/// exception → 70. Messages go to stderr as "logz: <message>".
int run_main(int argc, char** argv);

// ------------------------------------------------------------------ output

/// The human-readable summary: on stdout without --json, on stderr with --json (stdout
/// then carries only the JSON object); nothing with --quiet. A newline is appended.
void summary(const CommonOptions& o, std::string_view text);
/// Writes one JSON object on stdout (2-space indent). NaN / infinity print as null.
void print_json(const nlohmann::json& j);

using Clock = std::chrono::steady_clock;

/// "12.3 ± 0.4" with a precision suited to the error bar; "12.3 ± n/a" when it is NaN.
std::string plus_minus(double value, double std_error);

// ------------------------------------------------------------------ checks (Exit::usage)
// Messages: "<command>: <option> must be ..., got <value>".

/// An integer option that must be >= `min`; returns it as a size_t.
std::size_t count_option(std::string_view command, std::string_view option, std::int64_t value, std::int64_t min);
/// A real option that must be finite and > 0.
double positive_option(std::string_view command, std::string_view option, double value);
/// A real option that must be finite and >= 0.
double nonnegative_option(std::string_view command, std::string_view option, double value);
/// A seed: an integer >= 0.
std::uint64_t seed_option(std::string_view command, std::int64_t value);
/// An Exec from --threads (>= 0; 0 = all cores).
Exec make_exec(std::string_view command, const CommonOptions& o);

/// Checks before any work that `path` can be created: non-empty, not a directory, and its
/// directory exists and is writable. Error(Exit::cant_create) otherwise. `inputs` are the
/// command's input files as (option, path): an output that is one of them (the same file,
/// by any name) is refused with Exit::usage, as writing it would destroy the input.
using NamedPaths = std::initializer_list<std::pair<std::string_view, std::string_view>>;
void check_output_path(std::string_view command, std::string_view option, const std::string& path,
                       NamedPaths inputs = {});

/// Holds an io::OutputLock on each non-empty path until destroyed: a training run's model
/// and checkpoint, so that two runs never write the same files at once (exit 75).
class OutputLocks {
 public:
  OutputLocks(std::string_view command, std::initializer_list<std::string> paths);

 private:
  std::vector<std::unique_ptr<io::OutputLock>> locks_;
};

/// `out` without a trailing ".npz", plus `suffix`: model.npz → model.ckpt.npz.
std::string beside(const std::string& out, std::string_view suffix);

/// Loads binary data (io::load_binary_data) and checks its width against the model's
/// visible units (Error(Exit::data) naming the option and both sizes) when n_visible > 0.
MatrixU8 load_data(std::string_view command, std::string_view option, const std::string& spec,
                   std::size_t n_visible = 0);

/// api::load_real_rows with the config field of `option` ("--data" → data), so that its
/// errors name the option.
MatrixD load_real_data(std::string_view command, std::string_view option, const std::string& path,
                       std::size_t columns = 0);


// ------------------------------------------------------------------ log Z estimation options

/// --chains, --betas, --schedule, --seed of `estimate`, `eval` and `demo`.
struct LogZOptions {
  std::int64_t chains = 100, betas = 10000, seed = 1;
  std::string schedule = "sm";
};
void add_log_z_options(CLI::App& sub, LogZOptions& o);
/// A validated EstimateConfig for `method` from the options (Error(Exit::usage) if bad).
api::EstimateConfig log_z_config(std::string_view command, const LogZOptions& o, const std::string& method);
/// An estimate as JSON: api::to_json plus chains, betas, schedule and seed of the config
/// (null for "exact"); always has method, log_z, std_error, error_method, ess, chains,
/// betas, seconds, log_z_base.
nlohmann::json estimate_json(const LogZEstimate& e, const api::EstimateConfig& c);
/// "log Z = 123.45 ± 0.06 (ais, 100 chains, 10000 betas sm; ESS 91.2; 95% interval [a, b]; 12.3 s)".
std::string estimate_text(const LogZEstimate& e, const api::EstimateConfig& c);

// ------------------------------------------------------------------ estimate options from their declarations

/// "--burn-in" for the config field "burn_in": how the command line spells a field.
std::string flag_of(std::string_view field);

/// The estimate settings as options, derived from their declarations (the common fields
/// of api::EstimateConfig and every method option of the estimator registry): one
/// option per field, with its default and help; `skip` leaves fields out (a command that
/// spells one its own way).
struct EstimateFlags {
  CLI::App* app = nullptr;
  std::map<std::string, std::string> text;  ///< the value of each option, as given
};
void add_estimate_options(CLI::App& sub, EstimateFlags& flags, const std::vector<std::string>& skip = {});
/// The config of the options given, each checked against its declaration
/// (Error(Exit::usage) "<command>: --flag must be ..., got ...").
api::EstimateConfig estimate_config(std::string_view command, const EstimateFlags& flags);
/// Adds --replicas (train --method pt: replicas per ladder) to a subcommand; `given` says
/// whether it was given, so another method can refuse it.
void add_replicas_option(CLI::App& sub, std::int64_t& replicas, bool& given);
/// The verdict as one plain line: "reliable (...)" or "NOT RELIABLE: <reasons>; rerun with <advice>".
std::string verdict_text(const LogZEstimate& e);
/// Adds --strict (an estimate the verdict does not trust exits with 75) to a subcommand.
void add_strict_option(CLI::App& sub, bool& strict);
/// The exit code of a finished estimate: 0, or 75 (EX_TEMPFAIL) with `strict` when it is not reliable.
int verdict_exit(const LogZEstimate& e, bool strict);
/// The estimate subcommand's "Methods:" help, from the registry.
std::string methods_help();

// ------------------------------------------------------------------ continuous-model options

/// --kernel, --step-size, --leapfrog of `estimate`, `eval` and `sample` (help text
/// prefixed by `scope`).
void add_kernel_options(CLI::App& sub, api::ContinuousKernelConfig& k, const std::string& scope);
/// --base auto|standard|fit|data:PATH.
void add_base_option(CLI::App& sub, std::string& base);
/// The choice of --base (data:PATH is BaseChoice::data; the caller loads PATH).
api::BaseChoice base_choice(std::string_view command, const std::string& base);

}  // namespace logz::cli
