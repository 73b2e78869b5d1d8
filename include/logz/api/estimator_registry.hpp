#pragma once
/// @file estimator_registry.hpp
/// The registry of log Z estimators: the one list of the methods logz runs. Each entry is
/// a `...Method` struct declared beside its algorithm (estimators/method.hpp says what
/// one holds: name, help, whether Ẑ is unbiased, its option fields, its random streams,
/// its run function). Everything a front end shows of the estimators is derived from
/// this list: the method names, the command-line options and their help, validation, the
/// JSON of a result and the dispatch (api/estimate.hpp).
///
/// Adding an estimator: write estimators/<name>.hpp with its algorithm and its
/// `<Name>Method`, and add the struct to `EstimatorMethods` below (docs/architecture.md
/// has a worked example).
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "logz/core/options.hpp"
#include "logz/core/rng.hpp"
#include "logz/estimators/ais.hpp"
#include "logz/estimators/bridge.hpp"
#include "logz/estimators/linked_is.hpp"
#include "logz/estimators/smc.hpp"
#include "logz/estimators/thermodynamic.hpp"

namespace logz::api {

/// Every estimator, in the order help lists them.
using EstimatorMethods = std::tuple<IsMethod, AisMethod, RaiseMethod, SmcMethod, BridgeMethod, TiMethod, LisMethod>;

/// An estimator's declaration as plain data.
struct EstimatorInfo {
  std::string name, summary;
  bool unbiased_z = false, uses_schedule = false, needs_start = false;
  std::vector<OptionField> options;
  std::vector<Purpose> streams;
  std::string budget = "chains";  ///< the count replicates share ("chains", or smc's "runs")
  bool self_replicated = false;   ///< its error bar already is the spread of independent runs
  std::size_t default_betas = 10000;  ///< a front end's betas when none are given
};

/// The registered estimators, in EstimatorMethods order.
const std::vector<EstimatorInfo>& estimators();
/// The estimator called `name`, or nullptr.
const EstimatorInfo* find_estimator(std::string_view name);
/// "is, ais, raise, smc, bridge, ti, lis".
std::string estimator_names();

/// A method option with the methods that declare it. A field that several methods
/// declare (bridge and ti share burn_in, samples, thin) is listed once; the registry
/// test checks that their declarations agree.
struct MethodOption {
  OptionField field;
  std::vector<std::string> methods;
};
/// Every method option of the registry, in the order of first declaration.
const std::vector<MethodOption>& method_options();
/// The fields of method_options(), without the methods.
std::vector<OptionField> method_option_fields();

}  // namespace logz::api
