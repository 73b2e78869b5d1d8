// The RBM façade: training with checkpoints, log Z, likelihood, sampling.
#include "logz/api/rbm_tasks.hpp"
#include "logz/api/checkpoint_file.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "logz/core/check.hpp"
#include "logz/core/memory.hpp"
#include "logz/core/math.hpp"
#include "logz/core/rng.hpp"
#include "logz/estimators/rbm_ais.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/atomic_file.hpp"
#include "logz/kernels/rbm_gibbs.hpp"
#include "logz/training/rbm_cd.hpp"
#include "logz/tempering/rbm_path.hpp"

namespace logz::api {
namespace {

using Clock = std::chrono::steady_clock;

VectorD column_means(const MatrixU8& data) {
  VectorD m = VectorD::Zero(data.cols());
  for (Eigen::Index r = 0; r < data.rows(); ++r) m += data.row(r).cast<double>().transpose();
  return m / double(std::max<Eigen::Index>(1, data.rows()));
}

/// Rows [0, n) of `data` after a seeded shuffle: a fixed monitor subset.
MatrixU8 subset_rows(const MatrixU8& data, std::size_t n, const Stream& stream) {
  const std::size_t N = std::size_t(data.rows());
  std::vector<std::size_t> idx(N);
  std::iota(idx.begin(), idx.end(), 0);
  Stream s = stream;
  n = std::min(n, N);
  for (std::size_t i = 0; i < n; ++i) std::swap(idx[i], idx[i + s.below(N - i)]);
  MatrixU8 out(Eigen::Index(n), data.cols());
  for (std::size_t i = 0; i < n; ++i) out.row(Eigen::Index(i)) = data.row(Eigen::Index(idx[i]));
  return out;
}

/// Mean over rows of Σ_i (v_i − σ(b + W h)_i)², h ~ p(h | v).
double reconstruction_error(const RbmF& m, const MatrixU8& rows, const Stream& stream, const Exec& ex) {
  const Blocks blocks = row_blocks(std::size_t(rows.rows()));
  return parallel_reduce(ex, blocks.count(), 0.0, [&](std::size_t t) {
    const auto r0 = Eigen::Index(blocks.begin(t)), n = Eigen::Index(blocks.size(t));
    const MatrixF v = rows.middleRows(r0, n).cast<float>();
    std::vector<Stream> streams = stream.children(Purpose::monitor, std::size_t(n), std::uint64_t(r0));
    GibbsScratch<float> s;
    hidden_preactivation(m, v, s.pre_h);
    sample_logistic(s.pre_h, 1.0f, streams.data(), s.h, s);
    MatrixF pv = s.h * m.weights.transpose();
    pv.rowwise() += m.visible_bias.transpose();
    pv = pv.array().logistic().matrix();
    return double((v - pv).squaredNorm());
  }, [](double a, double b) { return a + b; }) / double(std::max<Eigen::Index>(1, rows.rows()));
}

/// Stochastic pseudo-log-likelihood as scikit-learn's BernoulliRBM.score_samples:
/// n_visible · log σ(F(ṽ) − F(v)), ṽ = v with one uniformly chosen bit flipped; mean over rows.
double pseudo_log_likelihood(const RbmF& m, const MatrixU8& rows, const Stream& stream, const Exec& ex) {
  if (rows.rows() == 0) return std::numeric_limits<double>::quiet_NaN();
  MatrixU8 flipped = rows;
  Stream s = stream;
  for (Eigen::Index r = 0; r < rows.rows(); ++r) {
    const auto i = Eigen::Index(s.below(std::uint64_t(rows.cols())));
    flipped(r, i) = std::uint8_t(1 - flipped(r, i));
  }
  const VectorD f = free_energies(m, rows, ex), ff = free_energies(m, flipped, ex);
  double sum = 0;
  for (Eigen::Index r = 0; r < rows.rows(); ++r) sum += double(rows.cols()) * log_sigmoid(ff[r] - f[r]);
  return sum / double(rows.rows());
}

EpochReport report_from_json(const nlohmann::json& j) {
  EpochReport r;
  r.epoch = j.at("epoch");
  r.lr = j.at("lr");
  r.seconds = j.at("seconds");
  r.examples_per_second = j.at("examples_per_second");
  r.recon_error = j.at("recon_error");
  r.pseudo_log_likelihood = j.at("pseudo_log_likelihood");
  auto opt = [&](const char* k, std::optional<double>& v) {
    if (j.contains(k) && !j[k].is_null()) v = j[k].get<double>();
  };
  opt("test_pseudo_log_likelihood", r.test_pseudo_log_likelihood);
  opt("ais_log_z", r.ais_log_z);
  opt("ais_log_z_std_error", r.ais_log_z_std_error);
  opt("ais_test_log_likelihood", r.ais_test_log_likelihood);
  opt("ais_test_log_likelihood_std_error", r.ais_test_log_likelihood_std_error);
  if (j.contains("swap_rates"))
    for (const auto& x : j["swap_rates"]) r.swap_rates.push_back(x.is_null() ? std::nan("") : x.get<double>());
  return r;
}

RbmCdOptions cd_options(const TrainConfig& c) {
  RbmCdOptions o;
  o.k = c.k;
  o.persistent = c.method == "pcd";
  o.epochs = c.epochs;
  o.batch = c.batch;
  o.chains = c.chains;
  if (c.method == "pt") {
    o.persistent = true;
    o.tempering_betas = default_tempering_ladder(c.replicas);
  }
  o.learning_rate = c.lr;
  if (c.lr_schedule == "linear") o.final_learning_rate = c.lr_final;
  o.momentum = c.momentum;
  o.weight_decay = c.weight_decay;
  o.init_scale = c.init_scale;
  o.seed = c.seed;
  return o;
}

}  // namespace

// ------------------------------------------------------------------ config

void TrainConfig::validate() const {
  check_config(hidden >= 1, {"hidden"}, "train: @0 must be >= 1, got {}", hidden);
  check_config(method == "cd" || method == "pcd" || method == "pt", {"method"}, "train: @0 must be cd, pcd or pt, got '{}'",
               method);
  check_config(method != "pt" || replicas >= 2, {"replicas"}, "train: @0 must be >= 2, got {}", replicas);
  check_config(k >= 1, {"k"}, "train: @0 must be >= 1, got {}", k);
  check_config(epochs >= 1, {"epochs"}, "train: @0 must be >= 1, got {}", epochs);
  check_config(batch >= 1, {"batch"}, "train: @0 must be >= 1, got {}", batch);
  check_config(std::isfinite(lr) && lr > 0, {"lr"}, "train: @0 must be positive, got {}", lr);
  check_config(lr_schedule == "constant" || lr_schedule == "linear", {"lr_schedule"}, "train: @0 must be constant or linear, got '{}'",
            lr_schedule);
  check_config(std::isfinite(lr_final) && lr_final >= 0, {"lr_final"}, "train: @0 must be >= 0, got {}", lr_final);
  check_config(std::isfinite(momentum) && momentum >= 0 && momentum < 1, {"momentum"}, "train: @0 must be in [0, 1), got {}", momentum);
  check_config(std::isfinite(weight_decay) && weight_decay >= 0, {"weight_decay"}, "train: @0 must be >= 0, got {}", weight_decay);
  check_config(std::isfinite(init_scale) && init_scale >= 0, {"init_scale"}, "train: @0 must be >= 0, got {}", init_scale);
  check_config(monitor_ais_every == 0 || (monitor_ais_chains >= 1 && monitor_ais_betas >= 3), {"monitor_ais", "monitor_ais_chains", "monitor_ais_betas"}, "train: @0 needs @1 >= 1 and @2 >= 3");
}

nlohmann::json TrainConfig::to_json() const {
  nlohmann::json j = {{"hidden", hidden}, {"method", method}, {"k", k}, {"epochs", epochs}, {"batch", batch}, {"chains", chains},
          {"lr", lr}, {"lr_schedule", lr_schedule}, {"lr_final", lr_final}, {"momentum", momentum},
          {"weight_decay", weight_decay}, {"init_scale", init_scale}, {"seed", seed},
          {"monitor_ais_every", monitor_ais_every}, {"monitor_ais_chains", monitor_ais_chains},
          {"monitor_ais_betas", monitor_ais_betas}, {"monitor_rows", monitor_rows}};
  if (method == "pt") j["replicas"] = replicas;  // only pt has it: cd/pcd fingerprints stay as they were
  return j;
}

nlohmann::json EpochReport::to_json() const {
  nlohmann::json j = {{"epoch", epoch}, {"lr", lr}, {"seconds", seconds}, {"examples_per_second", examples_per_second},
                      {"recon_error", recon_error}, {"pseudo_log_likelihood", pseudo_log_likelihood}};
  auto opt = [&](const char* k, const std::optional<double>& v) {
    if (v) j[k] = *v;
  };
  opt("test_pseudo_log_likelihood", test_pseudo_log_likelihood);
  opt("ais_log_z", ais_log_z);
  opt("ais_log_z_std_error", ais_log_z_std_error);
  opt("ais_test_log_likelihood", ais_test_log_likelihood);
  opt("ais_test_log_likelihood_std_error", ais_test_log_likelihood_std_error);
  if (!swap_rates.empty()) j["swap_rates"] = swap_rates;  // NaN (a pair never proposed) is written as null
  return j;
}


// ------------------------------------------------------------------ training

TrainResult train_rbm(const MatrixU8& train, const MatrixU8& test, const TrainConfig& config, const TrainFiles& files,
                      const Exec& ex, Observer& obs) {
  config.validate();
  const std::size_t N = std::size_t(train.rows()), nv = std::size_t(train.cols());
  check_arg(N >= config.batch, "train: the training data has {} rows, fewer than one batch of {}", N, config.batch);
  // The weights in two precisions with their gradient and momentum, before any is made.
  check_memory_for({nv, config.hidden, 2 * sizeof(double) + 2 * sizeof(float)},
                   fmt::format("train: {} visible x {} hidden units", nv, config.hidden));
  check_memory_for({std::max(config.chains, config.batch), nv + config.hidden, 2 * sizeof(double)},
                   fmt::format("train: {} chains of {} units", std::max(config.chains, config.batch), nv + config.hidden));
  check_arg(test.rows() == 0 || std::size_t(test.cols()) == nv, "train: test data has {} columns, training data {}",
            test.cols(), nv);
  const RbmCdOptions options = cd_options(config);

  TrainResult res;
  res.data_marginals = column_means(train);
  const nlohmann::json cfg = config.to_json();
  auto same_run = [&](nlohmann::json a) {
    a.erase("epochs");  // a resumed run may be asked for more epochs
    nlohmann::json b = cfg;
    b.erase("epochs");
    return a == b;
  };

  std::optional<RbmCdTrainer> trainer;
  nlohmann::json history = nlohmann::json::array();
  if (files.resume && !files.checkpoint.empty() && std::filesystem::exists(files.checkpoint)) {
    const training::Checkpoint ck = read_training_checkpoint(files.checkpoint);
    nlohmann::json ck_config;
    try {
      ck_config = nlohmann::json::parse(ck.config);
      history = nlohmann::json::parse(ck.notes);
    } catch (const nlohmann::json::exception& e) {
      fail(Exit::data, "{}: corrupt checkpoint metadata: {}", files.checkpoint, e.what());
    }
    check_config(same_run(ck_config), {"resume"}, "train: @0: checkpoint {} was written with different settings ({}); "
              "rerun the same command, or remove the checkpoint to start afresh", files.checkpoint, ck_config.dump());
    const std::vector<std::size_t>& shape = ck.array(files.checkpoint.c_str(), "weights").shape;
    check_config_data(shape.size() == 2 && shape[0] == nv && shape[1] == config.hidden, {"resume", "hidden"},
               "train: @0: checkpoint {} holds a {}x{} model, the data and @1 ask for {}x{}", files.checkpoint,
               shape.empty() ? 0 : shape[0], shape.size() < 2 ? 0 : shape[1], nv, config.hidden);
    trainer.emplace(RbmCdTrainer::resume(options, ck));
    res.resumed_from_epoch = trainer->epoch();
    for (const auto& j : history) res.epochs.push_back(report_from_json(j));
    obs.message(fmt::format("resuming from {} after epoch {}", files.checkpoint, trainer->epoch()));
  } else {
    trainer.emplace(res.data_marginals, config.hidden, options);
  }

  const MatrixU8 train_monitor = subset_rows(train, config.monitor_rows, Stream::derive(config.seed, Purpose::data, 0));
  const MatrixU8 test_monitor = subset_rows(test, config.monitor_rows, Stream::derive(config.seed, Purpose::data, 1));
  const VectorF base_bias = base_rate_bias(train).cast<float>();

  while (trainer->epoch() < config.epochs) {
    const std::size_t epoch = trainer->epoch();
    const RbmCdEpoch done = trainer->run_epoch(train, ex, obs);
    const RbmF& model = trainer->model();
    // A step far too large sends the parameters to inf or NaN: stop before a model that
    // nothing can read is written, and say what to lower.
    check_config(model.weights.allFinite() && model.visible_bias.allFinite() && model.hidden_bias.allFinite(),
                 {"lr", "init_scale", "weight_decay"},
                 "train: the parameters are no longer finite after epoch {}: training diverged; lower @0 ({}), @1 ({}) "
                 "or @2 ({})",
                 done.epoch, config.lr, config.init_scale, config.weight_decay);
    EpochReport rep;
    rep.epoch = done.epoch;
    rep.lr = done.learning_rate;
    rep.seconds = done.seconds;
    rep.examples_per_second = double(done.examples) / rep.seconds;
    rep.swap_rates = done.swap_rates;
    const Stream mon = Stream::derive(config.seed, Purpose::monitor, epoch);
    rep.recon_error = reconstruction_error(model, train_monitor, mon.derive(Purpose::monitor, 0), ex);
    rep.pseudo_log_likelihood = pseudo_log_likelihood(model, train_monitor, mon.derive(Purpose::monitor, 1), ex);
    if (test_monitor.rows() > 0)
      rep.test_pseudo_log_likelihood = pseudo_log_likelihood(model, test_monitor, mon.derive(Purpose::monitor, 2), ex);
    if (config.monitor_ais_every > 0 && (epoch + 1) % config.monitor_ais_every == 0) {
      const LogZEstimate z = rbm_ais(model, base_bias, Schedule::salakhutdinov_murray(config.monitor_ais_betas),
                                     RbmAisConfig{config.monitor_ais_chains, config.seed ^ (0x9E3779B97F4A7C15ull * (epoch + 1))},
                                     ex);
      rep.ais_log_z = z.log_z;
      rep.ais_log_z_std_error = z.std_error;
      if (test.rows() > 0) {
        const LikelihoodSummary ll = mean_log_likelihood(model.cast<double>(), test, z, ex);
        rep.ais_test_log_likelihood = ll.mean_log_likelihood;
        rep.ais_test_log_likelihood_std_error = ll.std_error;
      }
    }
    history.push_back(rep.to_json());
    res.epochs.push_back(rep);
    if (!files.checkpoint.empty()) {
      training::Checkpoint ck = trainer->state();
      ck.config = cfg.dump();
      ck.notes = history.dump();
      write_training_checkpoint(files.checkpoint, ck);
    }
    if (!files.log.empty()) {
      std::string lines;
      for (const auto& j : history) lines += j.dump() + "\n";
      io::write_file_atomic(files.log, lines);
    }
    std::string msg = fmt::format("epoch {:>3}  {:7.0f} ex/s  recon {:8.3f}  PLL {:9.3f}", rep.epoch, rep.examples_per_second,
                                  rep.recon_error, rep.pseudo_log_likelihood);
    if (rep.test_pseudo_log_likelihood) msg += fmt::format("  test PLL {:9.3f}", *rep.test_pseudo_log_likelihood);
    if (rep.ais_test_log_likelihood)
      msg += fmt::format("  AIS test LL {:.3f} ± {:.3f}", *rep.ais_test_log_likelihood, *rep.ais_test_log_likelihood_std_error);
    if (!rep.swap_rates.empty()) msg += fmt::format("  swaps {:.2f}", fmt::join(rep.swap_rates, " "));
    obs.message(msg);
  }
  res.model = trainer->model();
  return res;
}

// ------------------------------------------------------------------ log Z, likelihood, samples

VectorF choose_base_bias(const RbmD& model, const MatrixU8& data, const std::optional<VectorD>& data_marginals) {
  if (data.rows() > 0) {
    check_arg(std::size_t(data.cols()) == model.n_visible(), "estimate: data has {} columns, the model has {} visible units",
              data.cols(), model.n_visible());
    return base_rate_bias(data).cast<float>();
  }
  if (data_marginals) {
    // The same smoothing as base_rate_bias, from stored means: p = (m + 0.05) / 1.05.
    VectorF a(data_marginals->size());
    for (Eigen::Index i = 0; i < a.size(); ++i) {
      const double p = ((*data_marginals)[i] + 0.05) / 1.05;
      a[i] = float(std::log(p / (1 - p)));
    }
    return a;
  }
  return VectorF::Zero(Eigen::Index(model.n_visible()));
}

LogZEstimate estimate_log_z(const RbmD& model, const EstimateConfig& config, const MatrixU8& data,
                            const std::optional<VectorD>& data_marginals, const Exec& ex, Observer& obs) {
  config.validate();
  model.validate("estimate");
  if (config.method == "exact") {
    const auto t0 = Clock::now();
    const ExactLogZ z = rbm_exact_log_z(model, ex);
    return exact_estimate(z.log_z,
                          fmt::format("exact: enumeration of the {} layer ({} units)",
                                      z.enumerated_hidden ? "hidden" : "visible", z.enumerated_units),
                          seconds_since(t0));
  }
  const RbmF mf = model.cast<float>();
  const RbmAnnealingPath path(mf, choose_base_bias(model, data, data_marginals),
                              RbmAnnealingPath::products_for(config.method));
  if (config.method != "raise") return estimate_on_path(path, config, nullptr, ex, obs);
  check_config(data.rows() > 0, {"method", "data"}, "estimate: @0 raise needs @1: reverse chains start from data vectors");
  const MatrixF start = subset_rows(data, config.chains, Stream::derive(config.seed, Purpose::data, 0)).cast<float>();
  return estimate_on_path(path, config, &start, ex, obs);
}

LikelihoodSummary mean_log_likelihood(const RbmD& model, const MatrixU8& data, const LogZEstimate& log_z, const Exec& ex) {
  check_arg(data.rows() > 0, "eval: the data has no rows");
  check_arg(std::size_t(data.cols()) == model.n_visible(), "eval: data has {} columns, the model has {} visible units",
            data.cols(), model.n_visible());
  const VectorD f = free_energies(model, data, ex);
  MeanVar mv;
  for (Eigen::Index r = 0; r < f.size(); ++r) mv.add(f[r]);
  const double f_se = f.size() > 1 ? mv.std_error() : 0.0;
  const double z_se = std::isnan(log_z.std_error) ? 0.0 : log_z.std_error;
  return {-mv.mean - log_z.log_z, std::sqrt(f_se * f_se + z_se * z_se), mv.mean, f_se, std::size_t(f.size())};
}

MatrixU8 sample_rbm(const RbmD& model, std::size_t chains, std::size_t steps, std::uint64_t seed, const Exec& ex,
                    Observer& obs) {
  check_config(chains >= 1, {"chains"}, "sample: @0 must be >= 1, got {}", chains);
  model.validate("sample");
  const RbmF mf = model.cast<float>();
  RbmChains<float> c = RbmChains<float>::from_bias(mf.visible_bias, chains, seed, Purpose::sample);
  const std::size_t every = std::max<std::size_t>(1, steps / 100);
  for (std::size_t done = 0; done < steps;) {
    const std::size_t n = std::min(every, steps - done);
    gibbs_sample(mf, c, n, ex);
    done += n;
    obs.progress("sampling", done, steps);
  }
  return c.v.cast<std::uint8_t>();
}


}  // namespace logz::api
