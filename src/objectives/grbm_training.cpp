// PCD for the Gaussian–Bernoulli RBM, and the exact model expectations and
// log-likelihoods that check it (objectives/grbm_training.hpp).
#include "logz/objectives/grbm_training.hpp"

#include <chrono>
#include <cmath>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/rng.hpp"

namespace logz {
namespace {

using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void check_rows(const char* who, const GaussianRbm& m, Eigen::Index rows, Eigen::Index cols) {
  check_arg(cols == Eigen::Index(m.n_visible()), "{}: data has {} columns but the model has {} visible units", who,
            cols, m.n_visible());
  check_arg(rows >= 1, "{}: data has no rows", who);
}

/// The Fisher–Yates order of `rows` rows in epoch `epoch` (Durstenfeld 1964).
std::vector<std::size_t> shuffled_rows(std::uint64_t seed, std::size_t epoch, std::size_t rows) {
  std::vector<std::size_t> order(rows);
  std::iota(order.begin(), order.end(), std::size_t(0));
  Stream s = Stream::derive(seed, Purpose::shuffle, epoch);
  for (std::size_t i = rows; i > 1; --i) std::swap(order[i - 1], order[std::size_t(s.below(i))]);
  return order;
}

}  // namespace

VectorD grbm_mean_free_energy_gradient(const GrbmFreeEnergy& model, const Eigen::Ref<const MatrixD>& rows,
                                       const Exec& ex) {
  const GaussianRbm& rbm = model.model();
  check_rows("grbm_mean_free_energy_gradient", rbm, rows.rows(), rows.cols());
  const Eigen::Index n = Eigen::Index(rbm.n_visible()), m = Eigen::Index(rbm.n_hidden());
  const Eigen::Index p = Eigen::Index(model.num_parameters());
  const VectorD& sv = model.inverse_variance();
  const Blocks blocks = row_blocks(std::size_t(rows.rows()));
  const VectorD sum = parallel_reduce(
      ex, blocks.count(), VectorD(VectorD::Zero(p)),
      [&](std::size_t t) {
        VectorD g = VectorD::Zero(p);
        const Eigen::Index r0 = Eigen::Index(blocks.begin(t)), nr = Eigen::Index(blocks.size(t));
        const auto x = rows.middleRows(r0, nr);
        MatrixD pr(nr, m);
        pr.noalias() = x * model.scaled_weights();
        pr.rowwise() += rbm.hidden_bias.transpose();
        pr = pr.unaryExpr([](double a) { return sigmoid(a); });
        const MatrixD u = x * sv.asDiagonal();
        MatrixD dev = x;  // v − b
        dev.rowwise() -= rbm.visible_bias.transpose();
        Eigen::Map<RowMajorD>(g.data(), n, m).noalias() = -u.transpose() * pr;
        g.segment(n * m, n) = -(dev.colwise().sum().transpose().array() * sv.array()).matrix();
        g.segment(n * m + n, m) = -pr.colwise().sum().transpose();
        if (rbm.learn_sigma) {
          MatrixD wp(nr, n);
          wp.noalias() = pr * rbm.weights.transpose();
          g.segment(n * m + n + m, n) =
              (-(dev.array().square().rowwise() * sv.transpose().array()) + 2 * (u.array() * wp.array()))
                  .colwise()
                  .sum()
                  .transpose()
                  .matrix();
        }
        return g;
      },
      [](VectorD acc, const VectorD& part) { return VectorD(acc + part); });
  return sum / double(rows.rows());
}

VectorD grbm_exact_model_gradient(const GrbmFreeEnergy& model) {
  const GaussianRbm& rbm = model.model();
  const VectorD logp = grbm_hidden_log_marginal(rbm);  // checks n_hidden <= 20
  const Eigen::Index n = Eigen::Index(rbm.n_visible()), m = Eigen::Index(rbm.n_hidden());
  const VectorD& sv = model.inverse_variance();
  MatrixD vh = MatrixD::Zero(n, m);  // E[v_i h_j] = Σ_h p(h) (b + W h)_i h_j
  VectorD wh_mean = VectorD::Zero(n), h_mean = VectorD::Zero(m), rho = VectorD::Zero(n);
  VectorD h(m);
  for (Eigen::Index s = 0; s < logp.size(); ++s) {
    for (Eigen::Index j = 0; j < m; ++j) h[j] = double((std::uint64_t(s) >> j) & 1);
    const double w = std::exp(logp[s]);
    const VectorD a = rbm.weights * h;
    vh.noalias() += w * (rbm.visible_bias + a) * h.transpose();
    wh_mean += w * a;
    h_mean += w * h;
    rho += w * (a.array() * (a.array() + 2 * rbm.visible_bias.array())).matrix();
  }
  VectorD g(Eigen::Index(model.num_parameters()));
  Eigen::Map<RowMajorD>(g.data(), n, m) = -(sv.asDiagonal() * vh);
  g.segment(n * m, n) = -(sv.array() * wh_mean.array()).matrix();
  g.segment(n * m + n, m) = -h_mean;
  if (rbm.learn_sigma) g.segment(n * m + n + m, n) = (sv.array() * rho.array() - 1).matrix();
  return g;
}

VectorD grbm_exact_nll_gradient(const GrbmFreeEnergy& model, const MatrixD& data, const Exec& ex) {
  check_rows("grbm_exact_nll_gradient", model.model(), data.rows(), data.cols());
  return grbm_mean_free_energy_gradient(model, data, ex) - grbm_exact_model_gradient(model);
}

VectorD grbm_exact_log_likelihoods(const GaussianRbm& model, const MatrixD& data, const Exec& ex) {
  const double log_z = grbm_exact_log_z(model, ex);  // validates
  check_arg(data.cols() == Eigen::Index(model.n_visible()),
            "grbm_exact_log_likelihoods: data has {} columns but the model has {} visible units", data.cols(),
            model.n_visible());
  const GrbmFreeEnergy f(model);
  VectorD out(data.rows());
  const Blocks blocks = row_blocks(std::size_t(data.rows()));
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    for (std::size_t r = blocks.begin(t); r < blocks.end(t); ++r)
      out[Eigen::Index(r)] = -f.energy_of(data.row(Eigen::Index(r)).transpose()) - log_z;
  });
  return out;
}

void check_grbm_pcd_options(const char* who, const GrbmPcdOptions& o) {
  check_arg(o.batch_size >= 1, "{}: batch_size must be >= 1 (got 0)", who);
  check_arg(o.chains >= 1, "{}: chains must be >= 1 (got 0)", who);
  check_arg(o.sweeps >= 1, "{}: sweeps must be >= 1 (got 0)", who);
  check_arg(std::isfinite(o.weight_decay) && o.weight_decay >= 0, "{}: weight_decay must be finite and >= 0 (got {})",
            who, o.weight_decay);
}

namespace {
GaussianRbm validated(GaussianRbm m, const MatrixD& data, const GrbmPcdOptions& options) {
  const char* who = "GrbmPcdTrainer";
  m.validate(who);
  check_grbm_pcd_options(who, options);
  check_rows(who, m, data.rows(), data.cols());
  for (Eigen::Index c = 0; c < data.cols(); ++c)
    for (Eigen::Index r = 0; r < data.rows(); ++r)
      check_data(std::isfinite(data(r, c)), "{}: data({}, {}) is not finite ({})", who, r, c, data(r, c));
  return m;
}
}  // namespace

GrbmPcdTrainer::GrbmPcdTrainer(GaussianRbm init, MatrixD data, const GrbmPcdOptions& options)
    : free_(validated(std::move(init), data, options)),
      data_(std::move(data)),
      options_(options),
      chains_(GrbmChains::from_visible_bias(free_.model(), options.chains, options.seed, Purpose::gibbs)),
      adam_(free_.num_parameters(), options.adam) {}

VectorD GrbmPcdTrainer::gradient(const Eigen::Ref<const MatrixD>& batch, const Exec& ex) {
  check_rows("GrbmPcdTrainer::gradient", model(), batch.rows(), batch.cols());
  const VectorD positive = grbm_mean_free_energy_gradient(free_, batch, ex);
  grbm_gibbs_sample(model(), chains_, options_.sweeps, ex);
  VectorD g = positive - grbm_mean_free_energy_gradient(free_, chains_.v, ex);
  if (options_.weight_decay > 0) {
    const Eigen::Index n = Eigen::Index(model().n_visible()), m = Eigen::Index(model().n_hidden());
    Eigen::Map<RowMajorD>(g.data(), n, m) += options_.weight_decay * model().weights;
  }
  return g;
}

GrbmPcdEpoch GrbmPcdTrainer::run_epoch(const Exec& ex, Observer& obs) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t rows = std::size_t(data_.rows());
  const std::size_t batch = std::min(options_.batch_size, rows);
  const std::size_t batches = (rows + batch - 1) / batch;
  const std::vector<std::size_t> order = shuffled_rows(options_.seed, epoch_, rows);
  const std::string phase = fmt::format("pcd epoch {}", epoch_ + 1);
  MatrixD x;
  double norm_sum = 0;
  for (std::size_t b = 0; b < batches; ++b) {
    const std::size_t lo = b * batch, hi = std::min(rows, lo + batch);
    x.resize(Eigen::Index(hi - lo), data_.cols());
    for (std::size_t r = lo; r < hi; ++r) x.row(Eigen::Index(r - lo)) = data_.row(Eigen::Index(order[r]));
    const VectorD g = gradient(x, ex);
    VectorD theta = free_.parameters();
    adam_.step(theta, g);
    if (model().learn_sigma) {
      // set_parameters' range for log σ (1/σ² finite and > 0), reported as the data
      // problem it is: training diverged.
      const Eigen::Index off = theta.size() - Eigen::Index(model().n_visible());
      for (Eigen::Index i = 0; i < Eigen::Index(model().n_visible()); ++i)
        check_data(std::abs(theta[off + i]) < 354,
                   "GrbmPcdTrainer::run_epoch: log sigma[{}] = {} is out of range after update {} (training "
                   "diverged; lower the learning rate)",
                   i, theta[off + i], updates_ + 1);
    }
    free_.set_parameters(theta);
    norm_sum += g.norm();
    ++updates_;
    obs.progress(phase, b + 1, batches);
  }
  ++epoch_;
  GrbmPcdEpoch rec{epoch_, batches, norm_sum / double(batches), seconds_since(t0)};
  obs.message(fmt::format("pcd epoch {}: {} updates, mean gradient norm {:.6g}, {:.3g} s", rec.epoch, rec.updates,
                          rec.mean_gradient_norm, rec.seconds));
  return rec;
}

io::NamedArrays GrbmPcdTrainer::state() const {
  const GaussianRbm& m = model();
  io::NamedArrays out;
  out.emplace_back("weights", io::Array::from_matrix<double>(m.weights));
  out.emplace_back("visible_bias", io::Array::from_vector<double>(m.visible_bias));
  out.emplace_back("hidden_bias", io::Array::from_vector<double>(m.hidden_bias));
  out.emplace_back("visible_sigma", io::Array::from_vector<double>(m.visible_sigma));
  out.emplace_back("learn_sigma", io::Array::from_values<std::int64_t>({1}, {m.learn_sigma ? 1 : 0}));
  out.emplace_back("counters", io::Array::from_values<std::int64_t>(
                                   {3}, {std::int64_t(epoch_), std::int64_t(updates_), std::int64_t(adam_.steps())}));
  out.emplace_back("adam_m", io::Array::from_vector<double>(adam_.first_moment()));
  out.emplace_back("adam_v", io::Array::from_vector<double>(adam_.second_moment()));
  out.emplace_back("chains_v", io::Array::from_matrix<double>(chains_.v));
  out.emplace_back("chains_h", io::Array::from_matrix<double>(chains_.h));
  std::vector<std::int64_t> words;
  words.reserve(chains_.streams.size());
  for (const Stream& s : chains_.streams) words.push_back(std::int64_t(s.word()));
  out.emplace_back("chain_words", io::Array::from_values<std::int64_t>({words.size()}, words));
  return out;
}

namespace {
const io::Array& find_array(const io::NamedArrays& state, const char* name) {
  for (const auto& [k, a] : state)
    if (k == name) return a;
  fail(Exit::data, "GrbmPcdTrainer::resume: the state has no array '{}'", name);
}

void check_shape(const io::Array& a, const char* name, std::vector<std::size_t> shape) {
  check_data(a.shape == shape, "GrbmPcdTrainer::resume: array '{}' has shape {} but {} was expected", name,
             a.shape_string(), io::Array{io::DType::f64, shape, {}}.shape_string());
}
}  // namespace

GrbmPcdTrainer GrbmPcdTrainer::resume(MatrixD data, const GrbmPcdOptions& options, const io::NamedArrays& state) {
  const char* who = "GrbmPcdTrainer::resume";
  const io::Array& w = find_array(state, "weights");
  check_data(w.ndim() == 2, "{}: array 'weights' has shape {} but a matrix was expected", who, w.shape_string());
  const std::size_t n = w.shape[0], k = w.shape[1];
  GaussianRbm m;
  m.weights = w.to_matrix<double>("weights");
  const io::Array& b = find_array(state, "visible_bias");
  check_shape(b, "visible_bias", {n});
  m.visible_bias = b.to_column<double>("visible_bias");
  const io::Array& c = find_array(state, "hidden_bias");
  check_shape(c, "hidden_bias", {k});
  m.hidden_bias = c.to_column<double>("hidden_bias");
  const io::Array& s = find_array(state, "visible_sigma");
  check_shape(s, "visible_sigma", {n});
  m.visible_sigma = s.to_column<double>("visible_sigma");
  const io::Array& ls = find_array(state, "learn_sigma");
  check_shape(ls, "learn_sigma", {1});
  m.learn_sigma = ls.at(0) != 0;
  GrbmPcdTrainer t(std::move(m), std::move(data), options);

  const io::Array& counters = find_array(state, "counters");
  check_shape(counters, "counters", {3});
  const std::vector<std::int64_t> cnt = counters.to_vector<std::int64_t>();
  for (std::size_t i = 0; i < 3; ++i) check_data(cnt[i] >= 0, "{}: counters[{}] is negative ({})", who, i, cnt[i]);
  const std::size_t p = t.free_.num_parameters();
  const io::Array& am = find_array(state, "adam_m");
  check_shape(am, "adam_m", {p});
  const io::Array& av = find_array(state, "adam_v");
  check_shape(av, "adam_v", {p});
  t.adam_.restore(am.to_column<double>("adam_m"), av.to_column<double>("adam_v"), std::size_t(cnt[2]));
  t.epoch_ = std::size_t(cnt[0]);
  t.updates_ = std::size_t(cnt[1]);

  const io::Array& cv = find_array(state, "chains_v");
  check_shape(cv, "chains_v", {options.chains, n});
  const io::Array& ch = find_array(state, "chains_h");
  check_shape(ch, "chains_h", {options.chains, k});
  const io::Array& cw = find_array(state, "chain_words");
  check_shape(cw, "chain_words", {options.chains});
  t.chains_.v = cv.to_matrix<double>("chains_v");
  t.chains_.h = ch.to_matrix<double>("chains_h");
  check_data(t.chains_.v.allFinite(), "{}: array 'chains_v' has a non-finite value", who);
  const std::vector<std::int64_t> words = cw.to_vector<std::int64_t>();
  for (std::size_t r = 0; r < words.size(); ++r) {
    check_data(words[r] >= 0, "{}: chain_words[{}] is negative ({})", who, r, words[r]);
    t.chains_.streams[r].seek(std::uint64_t(words[r]));
  }
  return t;
}

}  // namespace logz
