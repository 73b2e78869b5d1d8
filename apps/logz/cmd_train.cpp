// `logz train rbm`: trains a binary RBM with CD-k / PCD-k (api::train_rbm) and writes
// the model file with its training-data marginals.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "common.hpp"
#include "logz/api/rbm_tasks.hpp"
#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/io/rbm_file.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "train rbm";

struct TrainOptions {
  CommonOptions common;
  std::string data, test_data, out, checkpoint, log;
  bool resume = false, replicas_given = false;
  api::TrainConfig defaults;
  std::string method = defaults.method, lr_schedule = defaults.lr_schedule;
  std::int64_t hidden = std::int64_t(defaults.hidden), k = std::int64_t(defaults.k),
               epochs = std::int64_t(defaults.epochs), batch = std::int64_t(defaults.batch),
               chains = std::int64_t(defaults.chains), replicas = std::int64_t(defaults.replicas),
               monitor_ais = std::int64_t(defaults.monitor_ais_every),
               monitor_ais_chains = std::int64_t(defaults.monitor_ais_chains),
               monitor_ais_betas = std::int64_t(defaults.monitor_ais_betas),
               monitor_rows = std::int64_t(defaults.monitor_rows), seed = std::int64_t(defaults.seed);
  double lr = defaults.lr, lr_final = defaults.lr_final, momentum = defaults.momentum,
         weight_decay = defaults.weight_decay, init_scale = defaults.init_scale;
};

bool is_none(const std::string& s) { return s == "none" || s == "-"; }

int run_train(const TrainOptions& o) {
  const auto start = Clock::now();
  // 1. Option values, before any work.
  api::TrainConfig c;
  c.hidden = count_option(kCmd, "--hidden", o.hidden, 1);
  c.method = o.method;
  c.k = count_option(kCmd, "--k", o.k, 1);
  c.epochs = count_option(kCmd, "--epochs", o.epochs, 1);
  c.batch = count_option(kCmd, "--batch", o.batch, 1);
  c.chains = count_option(kCmd, "--chains", o.chains, 0);
  check_arg(!o.replicas_given || o.method == "pt", "{}: --replicas is for --method pt (got --method {})", kCmd, o.method);
  c.replicas = count_option(kCmd, "--replicas", o.replicas, 2);
  c.lr = positive_option(kCmd, "--lr", o.lr);
  c.lr_schedule = o.lr_schedule;
  c.lr_final = nonnegative_option(kCmd, "--lr-final", o.lr_final);
  check_arg(std::isfinite(o.momentum) && o.momentum >= 0 && o.momentum < 1, "{}: --momentum must be in [0, 1), got {}",
            kCmd, o.momentum);
  c.momentum = o.momentum;
  c.weight_decay = nonnegative_option(kCmd, "--weight-decay", o.weight_decay);
  c.init_scale = positive_option(kCmd, "--init-scale", o.init_scale);
  c.seed = seed_option(kCmd, o.seed);
  c.monitor_ais_every = count_option(kCmd, "--monitor-ais", o.monitor_ais, 0);
  c.monitor_ais_chains = count_option(kCmd, "--monitor-ais-chains", o.monitor_ais_chains, 1);
  c.monitor_ais_betas = count_option(kCmd, "--monitor-ais-betas", o.monitor_ais_betas, 1);
  c.monitor_rows = count_option(kCmd, "--monitor-rows", o.monitor_rows, 1);
  c.validate();
  const Exec ex = make_exec(kCmd, o.common);

  // 2. Output paths, before any work.
  api::TrainFiles files;
  check_output_path(kCmd, "--out", o.out, {{"--data", o.data}, {"--test-data", o.test_data}});
  files.checkpoint = o.checkpoint.empty() ? beside(o.out, ".ckpt.npz") : is_none(o.checkpoint) ? "" : o.checkpoint;
  files.log = o.log.empty() ? beside(o.out, ".log.jsonl") : is_none(o.log) ? "" : o.log;
  files.resume = o.resume;
  check_arg(!(o.resume && files.checkpoint.empty()), "{}: --resume needs a checkpoint, but --checkpoint is none", kCmd);
  if (!files.checkpoint.empty()) check_output_path(kCmd, "--checkpoint", files.checkpoint, {{"--data", o.data}, {"--test-data", o.test_data}, {"--out", o.out}});
  if (!files.log.empty()) check_output_path(kCmd, "--log", files.log, {{"--data", o.data}, {"--test-data", o.test_data}, {"--out", o.out}});
  const OutputLocks locks(kCmd, {o.out, files.checkpoint});

  // 3. Data.
  const MatrixU8 train = load_data(kCmd, "--data", o.data);
  std::string test_spec = o.test_data;
  if (test_spec.empty() && o.data == "fashion-mnist:train") test_spec = "fashion-mnist:test";
  if (is_none(test_spec)) test_spec.clear();
  const MatrixU8 test = test_spec.empty() ? MatrixU8() : load_data(kCmd, "--test-data", test_spec, std::size_t(train.cols()));

  ProgressBar obs(stderr, o.common.quiet);
  obs.message(fmt::format("{}: {} rows x {} visible units{}; {} hidden units, {}-{}, {} epochs of batch {}, lr {}, seed {} -> {}",
                          kCmd, train.rows(), train.cols(),
                          test_spec.empty() ? std::string() : fmt::format(" (test: {}, {} rows)", test_spec, test.rows()),
                          c.hidden, c.method == "pt" ? fmt::format("pt({} replicas)", c.replicas) : c.method, c.k,
                          c.epochs, c.batch, c.lr, c.seed, o.out));

  // 4. Train and write the model.
  api::TrainResult r = api::train_rbm(train, test, c, files, ex, obs);
  io::save_rbm(o.out, r.model, std::optional<VectorD>(r.data_marginals));
  const double seconds = seconds_since(start);

  nlohmann::json final_report = r.epochs.empty() ? nlohmann::json(nullptr) : r.epochs.back().to_json();
  std::string text = fmt::format("wrote {} ({} visible x {} hidden, float32) after {} epochs{} in {:.1f} s", o.out,
                                 r.model.n_visible(), r.model.n_hidden(), c.epochs,
                                 r.resumed_from_epoch ? fmt::format(" (resumed from epoch {})", r.resumed_from_epoch) : "",
                                 seconds);
  if (!r.epochs.empty()) {
    const auto& e = r.epochs.back();
    text += fmt::format("\nfinal epoch {}: reconstruction error {:.4f}, pseudo-log-likelihood {:.4f}", e.epoch, e.recon_error,
                        e.pseudo_log_likelihood);
    if (e.test_pseudo_log_likelihood) text += fmt::format(", test pseudo-log-likelihood {:.4f}", *e.test_pseudo_log_likelihood);
    if (e.ais_test_log_likelihood)
      text += fmt::format(", AIS test log-likelihood {}",
                          plus_minus(*e.ais_test_log_likelihood, e.ais_test_log_likelihood_std_error.value_or(NAN)));
    if (!e.swap_rates.empty()) text += fmt::format("\nswap rates per adjacent pair of betas: {:.3f}", fmt::join(e.swap_rates, " "));
  }
  summary(o.common, text);
  if (o.common.json) {
    nlohmann::json j;
    j["out"] = o.out;
    j["checkpoint"] = files.checkpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(files.checkpoint);
    j["log"] = files.log.empty() ? nlohmann::json(nullptr) : nlohmann::json(files.log);
    j["epochs"] = c.epochs;
    j["final"] = final_report;
    j["resumed_from_epoch"] = r.resumed_from_epoch;
    j["seconds"] = seconds;
    j["config"] = c.to_json();
    print_json(j);
  }
  return 0;
}

}  // namespace

void add_train(CLI::App& app, Action& action) {
  CLI::App* train = app.add_subcommand(
      "train", "Train a model: rbm (CD-k / PCD-k / PT), potts (pseudolikelihood), ising (pl, rm, exact, pcd)");
  train->require_subcommand(1);
  train->footer("Models: rbm, potts, ising. See logz train <model> --help.");
  add_train_potts(*train, action);
  add_train_ising(*train, action);
  add_train_continuous(*train, action);

  auto o = std::make_shared<TrainOptions>();
  CLI::App* sub = train->add_subcommand("rbm", "Train a Bernoulli-Bernoulli RBM by CD-k or persistent CD-k (PCD / SML)");
  sub->footer(
      "Trains by stochastic gradient ascent with momentum on minibatches; the negative phase\n"
      "runs k block-Gibbs sweeps from the data (cd), from persistent chains (pcd), or from\n"
      "persistent parallel-tempering ladders (pt: Desjardins et al. 2010): each chain is\n"
      "--replicas replicas at betas 1 - (1 - r/(R-1))^1.5 from 0 (the data's base rate) to 1\n"
      "(the model), swapping neighbours after every update; the negative phase is the beta = 1\n"
      "replica. An update of pt costs about --replicas times pcd's negative phase; each\n"
      "epoch's swap rates per adjacent pair go to the log (swap_rates).\n"
      "Every random choice is a function of (seed, epoch, batch, chain): the same command\n"
      "gives the same bits for any --threads, and a run resumed with --resume from its\n"
      "checkpoint ends with the same model file as an uninterrupted one.\n"
      "A checkpoint is written after every epoch (default <out>.ckpt.npz) and one JSON line\n"
      "per epoch to the log (default <out>.log.jsonl); 'none' disables either. Each epoch's\n"
      "report is printed on stderr. The model file is an .npz (weights, visible_bias,\n"
      "hidden_bias, data_marginals) readable with numpy.load.\n\n"
      "DATA: fashion-mnist:train, fashion-mnist:test (binarized at 0.5), or a .npy file\n"
      "holding a 2-D array of 0s and 1s.\n\n"
      "Examples:\n"
      "  logz train rbm --data fashion-mnist:train --hidden 500 --method pcd --k 1 --epochs 10 \\\n"
      "      --batch 100 --lr 0.05 --seed 1 --out model.npz\n"
      "  logz train rbm --data x.npy --hidden 20 --epochs 50 --monitor-ais 10 --test-data y.npy --out m.npz\n"
      "  logz train rbm --data fashion-mnist:train --hidden 20 --method pt --replicas 10 --out m.npz\n"
      "  logz train rbm ... --epochs 20 --resume     # continue the same run up to epoch 20");
  sub->add_option("--data", o->data, "Training data: fashion-mnist:train or a .npy file of 0/1 rows")
      ->required()
      ->type_name("SPEC");
  sub->add_option("--out", o->out, "Model file to write (.npz); its directory must exist")->required()->type_name("PATH");
  sub->add_option("--hidden", o->hidden, "Number of hidden units")->capture_default_str()->type_name("N");
  sub->add_option("--method", o->method,
                  "cd (chains restart at the data), pcd (persistent chains) or pt (persistent parallel-tempering "
                  "ladders)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cd", "pcd", "pt"}));
  sub->add_option("--k", o->k, "Gibbs sweeps per update")->capture_default_str()->type_name("N");
  sub->add_option("--epochs", o->epochs, "Passes over the training data (total, also when resuming)")
      ->capture_default_str()
      ->type_name("N");
  sub->add_option("--batch", o->batch, "Minibatch size")->capture_default_str()->type_name("N");
  sub->add_option("--chains", o->chains, "Persistent chains for pcd (ladders for pt); 0 = the batch size")
      ->capture_default_str()
      ->type_name("N");
  add_replicas_option(*sub, o->replicas, o->replicas_given);
  sub->add_option("--lr", o->lr, "Learning rate (> 0)")->capture_default_str()->type_name("X");
  sub->add_option("--lr-schedule", o->lr_schedule, "constant, or linear decay to --lr-final at the last epoch")
      ->capture_default_str()
      ->check(CLI::IsMember({"constant", "linear"}));
  sub->add_option("--lr-final", o->lr_final, "Final learning rate of the linear schedule")->capture_default_str()->type_name("X");
  sub->add_option("--momentum", o->momentum, "Momentum in [0, 1)")->capture_default_str()->type_name("X");
  sub->add_option("--weight-decay", o->weight_decay, "L2 penalty on the weights (>= 0)")->capture_default_str()->type_name("X");
  sub->add_option("--init-scale", o->init_scale, "Initial weights ~ N(0, s^2)")->capture_default_str()->type_name("S");
  sub->add_option("--seed", o->seed, "Random seed")->capture_default_str()->type_name("N");
  sub->add_option("--test-data", o->test_data,
                  "Held-out data for the monitors (default: fashion-mnist:test when --data is fashion-mnist:train, "
                  "else none; 'none' for none)")
      ->type_name("SPEC");
  sub->add_option("--monitor-ais", o->monitor_ais, "Every N epochs, estimate log Z by AIS and the test log-likelihood; 0 = never")
      ->capture_default_str()
      ->type_name("N");
  sub->add_option("--monitor-ais-chains", o->monitor_ais_chains, "AIS chains of the monitor")->capture_default_str()->type_name("N");
  sub->add_option("--monitor-ais-betas", o->monitor_ais_betas, "AIS inverse temperatures of the monitor")
      ->capture_default_str()
      ->type_name("N");
  sub->add_option("--monitor-rows", o->monitor_rows, "Rows of train/test data used by the per-epoch monitors")
      ->capture_default_str()
      ->type_name("N");
  sub->add_option("--checkpoint", o->checkpoint, "Checkpoint written after every epoch (default <out>.ckpt.npz; 'none')")
      ->type_name("PATH");
  sub->add_option("--log", o->log, "JSON-lines training log (default <out>.log.jsonl; 'none')")->type_name("PATH");
  sub->add_flag("--resume", o->resume, "Continue from the checkpoint if it exists (same options, larger --epochs)");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_train);
}

}  // namespace logz::cli
