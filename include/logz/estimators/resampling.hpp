#pragma once
/// @file resampling.hpp
/// Resampling schemes for sequential Monte Carlo (Douc & Cappé 2005, "Comparison of
/// resampling schemes for particle filtering", ISPA; Kitagawa 1996 for stratified and
/// systematic resampling; Liu & Chen 1998 for residual resampling). Each scheme draws M
/// ancestor indices from N normalized weights W so that particle i is copied N_i times
/// with E[N_i] = M W_i (unbiased); they differ in the variance of the counts:
///  - multinomial: M independent draws from W, Var N_i = M W_i (1 − W_i);
///  - stratified: one uniform in each of the M strata [k/M, (k+1)/M) of the CDF;
///  - systematic: one uniform U shared by all strata, (k + U)/M, so N_i is
///    floor(M W_i) or ceil(M W_i);
///  - residual: floor(M W_i) copies of particle i, then the remaining R = M − Σ floor
///    drawn multinomially from the fractional parts.
/// Stratified and residual resampling have count variances no larger than multinomial's;
/// so has systematic for each count N_i alone (though not for every function of the counts).
///
/// Ancestors come out sorted (non-decreasing) for every scheme. What each call draws
/// from the stream, in order: multinomial M + 1 uniform doubles (sorted uniforms by
/// exponential spacings, Devroye 1986, §V.3); stratified M uniform doubles (stratum k
/// from draw k); systematic 1 uniform double; residual R + 1 uniform doubles for its
/// multinomial part (none when R = 0).
#include <cstddef>
#include <span>
#include <string_view>

#include "logz/core/rng.hpp"

namespace logz {

enum class Resampling { multinomial, systematic, stratified, residual };

/// "multinomial", "systematic", "stratified" or "residual"; Error(Exit::usage) otherwise.
Resampling resampling_by_name(std::string_view name);
/// The name resampling_by_name reads.
std::string_view resampling_name(Resampling scheme);

/// Fills `ancestors` (M = ancestors.size() >= 1 entries) with indices into
/// `normalized_weights` (N >= 1 entries, finite, >= 0, summing to 1 within 1e-8) drawn
/// by `scheme` from `rng`. An index of weight 0 is never drawn. Throws Error(Exit::usage)
/// for empty spans and Error(Exit::data) for weights that are negative, not finite or do
/// not sum to 1.
void resample(Resampling scheme, std::span<const double> normalized_weights, Stream& rng,
              std::span<std::size_t> ancestors);

}  // namespace logz
