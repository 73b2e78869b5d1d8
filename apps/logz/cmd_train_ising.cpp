// `logz train ising`: fits a fully connected Ising model to spin configurations (.npy)
// by pseudolikelihood, ratio matching, PCD, PCD on parallel-tempering ladders (pt) or
// exact maximum likelihood.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "common.hpp"
#include "logz/api/mrf_train.hpp"
#include "logz/core/check.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/npy.hpp"
#include "logz/objectives/rbm_tempered_chains.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "train ising";

struct IsingOptions {
  CommonOptions common;
  std::string data, out;
  api::IsingTrainConfig fit;
  std::int64_t max_iterations = 1000, chains = 100, sweeps = 1, updates = 1000, average_last = 0, seed = 1,
               replicas = 10, checkpoint_every = 100;
  bool replicas_given = false;
};

int run_ising(const IsingOptions& o) {
  const auto start = Clock::now();
  api::IsingTrainConfig c = o.fit;
  c.max_iterations = count_option(kCmd, "--max-iterations", o.max_iterations, 1);
  c.chains = count_option(kCmd, "--chains", o.chains, 1);
  c.sweeps = count_option(kCmd, "--sweeps", o.sweeps, 1);
  c.updates = count_option(kCmd, "--updates", o.updates, 1);
  c.average_last = count_option(kCmd, "--average-last", o.average_last, 0);
  c.seed = seed_option(kCmd, o.seed);
  check_arg(!o.replicas_given || c.method == "pt", "{}: --replicas is for --method pt (got --method {})", kCmd, c.method);
  if (c.method == "pt") c.replicas = count_option(kCmd, "--replicas", o.replicas, 2);
  c.checkpoint_every = count_option(kCmd, "--checkpoint-every", o.checkpoint_every, 1);
  c.validate();
  const Exec ex = make_exec(kCmd, o.common);
  check_output_path(kCmd, "--out", o.out, {{"--data", o.data}});
  if (!c.checkpoint.empty()) check_output_path(kCmd, "--checkpoint", c.checkpoint, {{"--data", o.data}, {"--out", o.out}});
  const OutputLocks locks(kCmd, {o.out, c.checkpoint});

  const MatrixD spins = io::read_npy(o.data).nonempty(o.data).to_matrix<double>(o.data);
  summary(o.common, fmt::format("{}: {} samples x {} spins, method {}", kCmd, spins.rows(), spins.cols(), c.method));
  const IsingFit fit = api::train_ising(spins, c, ex, o.data);
  io::save_ising(o.out, fit.model);
  const double secs = seconds_since(start);
  const bool sgd = c.method == "pcd" || c.method == "pt";
  summary(o.common, fmt::format("{} fit: {} iterations{}, final {} {:.6g}; {:.2f} s -> {}", fit.method, fit.iterations,
                                sgd ? "" : fit.converged ? " (converged)" : " (not converged)", fit.trace_name,
                                fit.trace.empty() ? NAN : fit.trace.back(), secs, o.out));
  const std::vector<double> betas = c.method == "pt" ? default_tempering_ladder(c.replicas) : std::vector<double>{};
  if (!fit.swap_acceptance.empty())
    summary(o.common, fmt::format("swap rates per adjacent pair of betas {:.2f}: {:.3f}; {} round trips",
                                  fmt::join(betas, ","), fmt::join(fit.swap_acceptance, " "), fit.round_trips));
  if (o.common.json) {
    nlohmann::json j = {{"command", "train ising"},
                        {"method", fit.method},
                        {"samples", spins.rows()},
                        {"spins", spins.cols()},
                        {"convention", fit.model.convention() == SpinConvention::zero_one ? "0/1" : "-1/1"},
                        {"iterations", fit.iterations},
                        {"converged", fit.converged},
                        {"trace_name", fit.trace_name},
                        {"final", fit.trace.empty() ? NAN : fit.trace.back()},
                        {"seconds", secs},
                        {"out", o.out}};
    if (c.method == "pt") {
      j["betas"] = betas;
      j["swap_rates"] = fit.swap_acceptance;
      j["round_trips"] = fit.round_trips;
    }
    print_json(j);
  }
  return 0;
}

}  // namespace

void add_train_ising(CLI::App& train, Action& action) {
  auto o = std::make_shared<IsingOptions>();
  CLI::App* sub = train.add_subcommand("ising", "Fit an Ising model to spin configurations (.npy): all pairs or a lattice");
  sub->footer(
      "Methods (penalty 1/2 l2 |theta|^2 on the mean objective):\n"
      "  pl     pseudolikelihood (Besag), L-BFGS\n"
      "  rm     ratio matching (Hyvarinen 2007), L-BFGS\n"
      "  exact  maximum likelihood with exact moments by enumeration (<= 30 spins), L-BFGS\n"
      "  pcd    persistent contrastive divergence: Gibbs chains, momentum SGD\n"
      "  pt     pcd whose chains are parallel-tempering ladders of --replicas replicas of\n"
      "         exp(-beta E), betas 1 - (1 - r/(R-1))^1.5 (Desjardins et al. 2010); the\n"
      "         moments come from the beta = 1 replicas; swap rates in the summary and --json\n"
      "DATA: a .npy 2-D array, one configuration per row, all -1/1 or all 0/1 (the model\n"
      "takes that convention). The model file is an .npz: fields [n], couplings [n, n].\n"
      "GRAPH: complete (every pair; the only one pl fits), chain, ring, lattice:RxC or\n"
      "torus:RxC (sites numbered row by row, R*C = spins per row).\n"
      "pcd and pt save their state every --checkpoint-every updates with --checkpoint; --resume\n"
      "continues from it to the bits of an uninterrupted run (--updates may be larger).\n"
      "Same bits for any --threads.\n\n"
      "Examples:\n"
      "  logz train ising --data spins.npy --method pl --out ising.npz\n"
      "  logz train ising --data spins.npy --method pcd --chains 200 --updates 5000 --lr 0.02 --out ising.npz\n"
      "  logz train ising --data lattice.npy --method pt --replicas 10 --graph torus:8x8 --out ising.npz\n"
      "  logz train ising --data lattice.npy --method rm --graph torus:16x16 --out ising.npz");
  sub->add_option("--data", o->data, "Spin configurations: .npy, one per row")->required()->type_name("PATH");
  sub->add_option("--out", o->out, "Model file to write (.npz)")->required()->type_name("PATH");
  sub->add_option("--method", o->fit.method, "pl, rm, exact, pcd or pt")
      ->capture_default_str()
      ->check(CLI::IsMember({"pl", "rm", "exact", "pcd", "pt"}));
  sub->add_option("--graph", o->fit.graph, "complete, chain, ring, lattice:RxC or torus:RxC")->capture_default_str();
  sub->add_option("--l2-fields", o->fit.l2_fields, "L2 penalty on the fields")->capture_default_str();
  sub->add_option("--l2-couplings", o->fit.l2_couplings, "L2 penalty on the couplings")->capture_default_str();
  sub->add_option("--max-iterations", o->max_iterations, "L-BFGS iterations at most (pl, rm, exact)")
      ->capture_default_str();
  sub->add_option("--tolerance", o->fit.tolerance, "L-BFGS gradient-norm stop (pl, rm, exact)")->capture_default_str();
  sub->add_option("--chains", o->chains, "Persistent chains (pcd; pt: ladders)")->capture_default_str();
  add_replicas_option(*sub, o->replicas, o->replicas_given);
  sub->add_option("--sweeps", o->sweeps, "Gibbs sweeps per update (pcd; pt: per replica)")->capture_default_str();
  sub->add_option("--updates", o->updates, "SGD updates (pcd, pt)")->capture_default_str();
  sub->add_option("--lr", o->fit.lr, "Learning rate (pcd, pt)")->capture_default_str();
  sub->add_option("--momentum", o->fit.momentum, "Momentum in [0, 1) (pcd, pt)")->capture_default_str();
  sub->add_option("--average-last", o->average_last, "Average the last N iterates (pcd, pt; 0 = last)")
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "Random seed (pcd, pt)")->capture_default_str();
  sub->add_option("--checkpoint", o->fit.checkpoint,
                  "The fit's state, written every --checkpoint-every updates and after the last (pcd, pt; .npz)")
      ->type_name("PATH");
  sub->add_option("--checkpoint-every", o->checkpoint_every, "Updates between checkpoints (pcd, pt)")
      ->capture_default_str();
  sub->add_flag("--resume", o->fit.resume, "Continue from --checkpoint if it exists (pcd, pt; same options)");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_ising);
}

}  // namespace logz::cli
