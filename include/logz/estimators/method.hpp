#pragma once
/// @file method.hpp
/// The shape of an estimator as the estimator registry (api/estimator_registry.hpp) sees
/// it. Each estimator declares, beside its algorithm, one `...Method` struct:
///
///   struct AisMethod : MethodDefaults {                     // defaults for what is not said
///     static constexpr std::string_view name = "ais";     // the method's name everywhere
///     static constexpr std::string_view summary = "...";  // what it is, for --help
///     static constexpr bool unbiased_z = true;            // E[Ẑ] = Z: replicates pool on the Z scale
///     static constexpr bool uses_schedule = true;         // reads MethodRun::schedule
///     static constexpr bool needs_start = false;          // reads MethodRun::start (reverse chains)
///     static constexpr std::string_view budget = "chains";  // the count replicates share
///     static constexpr bool self_replicated = false;      // its error bar already comes from independent runs
///     static constexpr std::size_t default_betas = 10000; // a front end's betas when none are given
///     template <class P> static constexpr bool applicable = true;  // on which paths it runs
///     static std::vector<Purpose> streams();              // the random streams it owns
///     static std::vector<OptionField> options();          // its own settings (core/options.hpp)
///     template <AnnealingPath P>
///     static LogZEstimate run(const P& path, const MethodRun<P>& r, const Exec& ex, Observer& obs);
///   };
///
/// and the registry lists it once. Settings every method has (chains, betas, schedule,
/// seed) come in MethodRun; a method's own settings come in `options`, every declared
/// field present.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "logz/core/options.hpp"
#include "logz/core/rng.hpp"
#include "logz/tempering/path.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {

/// The usual answers, for a method to inherit and override where it differs: Ẑ not
/// claimed unbiased, a schedule used, no start rows, replicates split the chains, every
/// path, no options of its own.
struct MethodDefaults {
  static constexpr bool unbiased_z = false, uses_schedule = true, needs_start = false;
  static constexpr std::string_view budget = "chains";
  static constexpr bool self_replicated = false;
  static constexpr std::size_t default_betas = 10000;  ///< front ends' --betas when none is given
  template <class P>
  static constexpr bool applicable = true;
  static std::vector<OptionField> options() { return {}; }
};

/// What a method's run gets besides the path.
template <AnnealingPath P>
struct MethodRun {
  std::size_t chains = 100;  ///< draws, particles, chains or runs: each method says which
  std::uint64_t seed = 1;
  /// The betas for a method with uses_schedule; null for an adaptive schedule, which only
  /// SMC takes as such (the registry resolves "adaptive" to fixed betas for the others).
  const Schedule* schedule = nullptr;
  const Settings& options;                             ///< every registered method option
  const typename P::Particles* start = nullptr;        ///< reverse chains' starts (needs_start)
};

}  // namespace logz
