#include "logz/diagnostics/mcmc.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <string_view>

#include "logz/core/check.hpp"

namespace logz {
namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_v = std::numeric_limits<double>::infinity();

void validate(const MatrixD& draws, std::string_view fn) {
  check_arg(draws.rows() >= 1, "{}: draws must have at least 1 chain (row), got 0", fn);
  check_arg(draws.cols() >= 4, "{}: draws must have at least 4 draws per chain (columns), got {}", fn, draws.cols());
  for (Eigen::Index c = 0; c < draws.rows(); ++c)
    for (Eigen::Index i = 0; i < draws.cols(); ++i)
      check_arg(std::isfinite(draws(c, i)), "{}: draws must be finite, got {} at chain {}, draw {}", fn, draws(c, i), c, i);
}

bool all_equal(const MatrixD& x) { return (x.array() == x(0, 0)).all(); }

/// Each chain's first and last N/2 draws as two chains (the middle draw of an odd N is
/// left out): 2M × N/2.
MatrixD split_chains(const MatrixD& draws) {
  const Eigen::Index m = draws.rows(), n = draws.cols() / 2, off = draws.cols() - n;
  MatrixD out(2 * m, n);
  for (Eigen::Index c = 0; c < m; ++c) {
    out.row(2 * c) = draws.row(c).head(n);
    out.row(2 * c + 1) = draws.row(c).segment(off, n);
  }
  return out;
}

/// Unbiased variance of the values of a vector.
double sample_variance(const VectorD& v) {
  const double mean = v.mean();
  return (v.array() - mean).square().sum() / double(v.size() - 1);
}

/// Multi-chain ESS of chains (rows) already split (Vehtari et al. 2021, eq. 10–11):
/// ρ̂_t = 1 − (W − mean_m γ̂_{m,t}) / var⁺, summed in pairs P_k = ρ̂_2k + ρ̂_2k+1 while
/// P_k > 0 (initial positive sequence), each pair capped by the one before (initial
/// monotone sequence); τ̂ = −1 + 2 Σ P_k.
double ess_of_chains(const MatrixD& chains) {
  const Eigen::Index m = chains.rows(), n = chains.cols();
  const VectorD means = chains.rowwise().mean();
  const MatrixD centred = chains.colwise() - means;
  // Mean over chains of the biased lag-t autocovariance.
  auto mean_acov = [&](Eigen::Index t) {
    double s = 0;
    for (Eigen::Index c = 0; c < m; ++c) s += centred.row(c).head(n - t).dot(centred.row(c).tail(n - t));
    return s / (double(n) * double(m));
  };
  const double w = mean_acov(0) * double(n) / double(n - 1);
  if (!(w > 0)) return nan_v;
  const double var_plus = w * double(n - 1) / double(n) + (m > 1 ? sample_variance(means) : 0.0);
  auto rho = [&](Eigen::Index t) { return 1.0 - (w - mean_acov(t)) / var_plus; };
  double sum = 0, prev = inf_v;
  for (Eigen::Index t = 0; t + 1 < n; t += 2) {
    double pair = (t == 0 ? 1.0 : rho(t)) + rho(t + 1);
    if (!(pair > 0)) break;
    pair = std::min(pair, prev);
    sum += pair;
    prev = pair;
  }
  const double s = double(m) * double(n);
  const double tau = std::max(-1.0 + 2.0 * sum, 1.0 / std::log10(s));
  return s / tau;
}

/// Split R-hat of chains already split: √(var⁺ / W).
double rhat_of_chains(const MatrixD& chains) {
  const Eigen::Index n = chains.cols();
  const VectorD means = chains.rowwise().mean();
  double w = 0;
  for (Eigen::Index c = 0; c < chains.rows(); ++c) w += (chains.row(c).array() - means(c)).square().sum() / double(n - 1);
  w /= double(chains.rows());
  const double var_plus = w * double(n - 1) / double(n) + sample_variance(means);
  if (!(w > 0)) return var_plus > 0 ? inf_v : nan_v;
  return std::sqrt(var_plus / w);
}

/// Quantile of the sorted values by linear interpolation (Hyndman & Fan type 7).
double sorted_quantile(const std::vector<double>& s, double p) {
  const double h = p * double(s.size() - 1);
  const std::size_t lo = std::size_t(std::floor(h));
  const std::size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (h - double(lo)) * (s[hi] - s[lo]);
}

std::vector<double> sorted_values(const MatrixD& x) {
  std::vector<double> v(x.data(), x.data() + x.size());
  std::sort(v.begin(), v.end());
  return v;
}

/// ESS of the indicator I(x <= q) at the p-quantile q of all draws (split chains).
double ess_quantile(const MatrixD& chains, const std::vector<double>& sorted, double p) {
  const double q = sorted_quantile(sorted, p);
  const MatrixD ind = (chains.array() <= q).cast<double>().matrix();
  return ess_of_chains(ind);
}

}  // namespace

namespace {
/// The continued fraction of the regularised incomplete beta I_x(a, b) (valid for
/// x < (a + 1) / (a + b + 2)), by the modified Lentz method.
double incomplete_beta_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300;
  auto guard = [](double v) { return std::fabs(v) < tiny ? tiny : v; };
  double c = 1, d = 1 / guard(1 - (a + b) * x / (a + 1)), h = d;
  for (int m = 1; m <= 1000; ++m) {
    const double even = m * (b - m) * x / ((a - 1 + 2 * m) * (a + 2 * m));
    d = 1 / guard(1 + even * d);
    c = guard(1 + even / c);
    h *= d * c;
    const double odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1 + 2 * m));
    d = 1 / guard(1 + odd * d);
    c = guard(1 + odd / c);
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1) < 1e-16) break;
  }
  return h;
}
/// I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return std::exp(log_front) * incomplete_beta_fraction(a, b, x) / a;
  return 1 - std::exp(log_front) * incomplete_beta_fraction(b, a, 1 - x) / b;
}
}  // namespace

double student_t_two_sided_tail(double t, double dof) {
  check_arg(dof > 0, "student_t_two_sided_tail: dof must be positive, got {}", dof);
  t = std::fabs(t);
  if (std::isinf(dof)) return std::erfc(t / std::numbers::sqrt2);
  return incomplete_beta(dof / 2, 0.5, dof / (dof + t * t));
}

double student_t_two_sided_quantile(double level, double dof) {
  check_arg(level > 0 && level < 1, "student_t_two_sided_quantile: level must be in (0, 1), got {}", level);
  check_arg(dof > 0, "student_t_two_sided_quantile: dof must be positive, got {}", dof);
  const double z = -normal_quantile((1 - level) / 2);
  if (std::isinf(dof)) return z;
  // The t quantile lies above the normal one; double the bracket until it holds, then bisect.
  double lo = z, hi = 2 * z;
  while (student_t_two_sided_tail(hi, dof) > 1 - level) hi *= 2;
  for (int it = 0; it < 200 && hi - lo > 1e-15 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (student_t_two_sided_tail(mid, dof) > 1 - level ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double normal_quantile(double p) {
  if (std::isnan(p) || p < 0 || p > 1) return nan_v;
  if (p == 0) return -inf_v;
  if (p == 1) return inf_v;
  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    // Central region: a rational function of r = 0.425² − q².
    const double r = 0.180625 - q * q;
    const double num =
        ((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r +
           13731.693765509461125) * r + 1971.5909503065514427) * r + 133.14166789178437745) * r + 3.387132872796366608;
    const double den =
        ((((((5226.495278852545925 * r + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r +
           5394.1960214247511077) * r + 687.1870074920579083) * r + 42.313330701600911252) * r + 1.0;
    return q * num / den;
  }
  // Tails: a rational function of r = √(−log(min(p, 1 − p))); 1 − p is exact here
  // because p > 0.925.
  double r = std::sqrt(-std::log(q < 0 ? p : 1.0 - p));
  double x;
  if (r <= 5.0) {
    r -= 1.6;
    const double num = ((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
                           1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r +
                        4.6303378461565452959) * r + 1.42343711074968357734;
    const double den = ((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
                           0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r +
                        2.05319162663775882187) * r + 1.0;
    x = num / den;
  } else {
    r -= 5.0;
    const double num = ((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
                           0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r +
                        5.4637849111641143699) * r + 6.6579046435011037772;
    const double den = ((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
                           7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r +
                        0.59983220655588793769) * r + 1.0;
    x = num / den;
  }
  return q < 0 ? -x : x;
}

std::vector<double> autocorrelation(std::span<const double> x, std::size_t max_lag) {
  check_arg(x.size() >= 2, "autocorrelation: x must have at least 2 values, got {}", x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    check_arg(std::isfinite(x[i]), "autocorrelation: x must be finite, got {} at index {}", x[i], i);
  const std::size_t n = x.size(), lags = std::min(max_lag, n - 1);
  const double mean = std::accumulate(x.begin(), x.end(), 0.0) / double(n);
  std::vector<double> c(n);
  for (std::size_t i = 0; i < n; ++i) c[i] = x[i] - mean;
  std::vector<double> rho(lags + 1);
  double g0 = 0;
  for (double v : c) g0 += v * v;
  for (std::size_t t = 0; t <= lags; ++t) {
    double g = 0;
    for (std::size_t i = 0; i + t < n; ++i) g += c[i] * c[i + t];
    rho[t] = g0 > 0 ? g / g0 : nan_v;
  }
  return rho;
}

MatrixD rank_normalize(const MatrixD& draws) {
  const Eigen::Index s = draws.size();
  std::vector<Eigen::Index> order(std::size_t(s), 0);
  std::iota(order.begin(), order.end(), Eigen::Index(0));
  const double* d = draws.data();
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return d[a] < d[b]; });
  MatrixD z(draws.rows(), draws.cols());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && d[order[j]] == d[order[i]]) ++j;
    // Ties share the average of ranks i+1 .. j.
    const double rank = 0.5 * double(i + 1 + j);
    const double zi = normal_quantile((rank - 0.375) / (double(s) + 0.25));
    for (std::size_t k = i; k < j; ++k) z.data()[order[k]] = zi;
    i = j;
  }
  return z;
}

double ess_mean(const MatrixD& draws) {
  validate(draws, "ess_mean");
  if (all_equal(draws)) return nan_v;
  return ess_of_chains(split_chains(draws));
}

EffectiveSampleSize effective_sample_size(const MatrixD& draws) {
  validate(draws, "effective_sample_size");
  if (all_equal(draws)) return {nan_v, nan_v};
  const MatrixD chains = split_chains(draws);
  const double bulk = ess_of_chains(rank_normalize(chains));
  const std::vector<double> sorted = sorted_values(chains);
  const double tail = std::fmin(ess_quantile(chains, sorted, 0.05), ess_quantile(chains, sorted, 0.95));
  return {bulk, tail};
}

double split_rhat(const MatrixD& draws) {
  validate(draws, "split_rhat");
  if (all_equal(draws)) return nan_v;
  return rhat_of_chains(split_chains(draws));
}

double rank_normalized_rhat(const MatrixD& draws) {
  validate(draws, "rank_normalized_rhat");
  if (all_equal(draws)) return nan_v;
  const MatrixD chains = split_chains(draws);
  const double bulk = rhat_of_chains(rank_normalize(chains));
  const double median = sorted_quantile(sorted_values(chains), 0.5);
  const MatrixD folded = (chains.array() - median).abs().matrix();
  // fmax: a folded sample that is constant (two values symmetric about the median)
  // has no scale R-hat; the bulk one stands.
  return std::fmax(bulk, rhat_of_chains(rank_normalize(folded)));
}

double mcse_mean(const MatrixD& draws) {
  validate(draws, "mcse_mean");
  if (all_equal(draws)) return nan_v;
  const double mean = draws.mean();
  const double var = (draws.array() - mean).square().sum() / double(draws.size() - 1);
  return std::sqrt(var / ess_of_chains(split_chains(draws)));
}

}  // namespace logz
