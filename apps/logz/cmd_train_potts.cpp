// `logz train potts`: fits a Potts model to a multiple sequence alignment (or integer
// states in .npy) by pseudolikelihood, writes the model file and the contact scores.
#include <fmt/format.h>

#include "common.hpp"
#include "logz/api/mrf_train.hpp"
#include "logz/io/atomic_file.hpp"
#include "logz/io/model_file.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "train potts";

struct PottsOptions {
  CommonOptions common;
  std::string data, out, contacts, weights_out;
  api::PottsDataConfig input;
  api::PottsTrainConfig fit;
  std::int64_t max_iterations = 0, q = 0, chains = 100, sweeps = 1, updates = 1000, average_last = 0, seed = 1,
               checkpoint_every = 100;
};

int run_potts(const PottsOptions& o) {
  const auto start = Clock::now();
  api::PottsTrainConfig c = o.fit;
  c.max_iterations = count_option(kCmd, "--max-iterations", o.max_iterations, 0);
  c.chains = count_option(kCmd, "--chains", o.chains, 1);
  c.sweeps = count_option(kCmd, "--sweeps", o.sweeps, 1);
  c.updates = count_option(kCmd, "--updates", o.updates, 1);
  c.average_last = count_option(kCmd, "--average-last", o.average_last, 0);
  c.seed = seed_option(kCmd, o.seed);
  c.checkpoint_every = count_option(kCmd, "--checkpoint-every", o.checkpoint_every, 1);
  c.validate();
  api::PottsDataConfig in = o.input;
  in.q = count_option(kCmd, "--q", o.q, 0);
  in.validate();
  const Exec ex = make_exec(kCmd, o.common);
  check_output_path(kCmd, "--out", o.out, {{"--data", o.data}, {"--weights", o.input.weights}});
  if (!o.contacts.empty()) check_output_path(kCmd, "--contacts", o.contacts, {{"--data", o.data}, {"--out", o.out}});
  if (!o.weights_out.empty()) check_output_path(kCmd, "--weights-out", o.weights_out, {{"--data", o.data}, {"--out", o.out}});
  if (!c.checkpoint.empty())
    check_output_path(kCmd, "--checkpoint", c.checkpoint, {{"--data", o.data}, {"--weights", o.input.weights}, {"--out", o.out}});
  const OutputLocks locks(kCmd, {o.out, c.checkpoint});

  ProgressBar obs(stderr, o.common.quiet);
  const api::PottsTrainingData data = api::load_potts_training_data(o.data, in, ex);
  const api::PottsTrainResult fit = api::train_potts(data, c, ex, obs);
  // Under mpirun the model is on rank 0 alone (api::train_potts), which writes the files.
  if (io::writes_files()) {
    io::save_model(o.out, fit.file);
    if (!o.weights_out.empty()) api::write_potts_weights(o.weights_out, data);
    if (!o.contacts.empty()) io::write_file_atomic(o.contacts, api::contact_table(fit.file).text());
  }
  const double secs = seconds_since(start);
  summary(o.common, fmt::format("{}; {:.1f} s -> {}", fit.summary, secs, o.out));
  if (o.common.json) {
    nlohmann::json j = {{"command", "train potts"}};
    j.update(fit.details);
    j["seconds"] = secs;
    j["out"] = o.out;
    if (!o.contacts.empty()) j["contacts"] = o.contacts;
    if (!o.weights_out.empty()) j["weights_out"] = o.weights_out;
    print_json(j);
  }
  return 0;
}

}  // namespace

void add_train_potts(CLI::App& train, Action& action) {
  auto o = std::make_shared<PottsOptions>();
  CLI::App* sub = train.add_subcommand("potts", "Fit a Potts model to a sequence alignment by pseudolikelihood (plmc)");
  sub->footer(
      "pl (default) minimises plmc's objective by L-BFGS:\n"
      "  f = -sum_s w_s sum_i log p(x_si | x_s,-i) + lh |h|^2 + le sum_{i<j} |J_ij|^2\n"
      "with sequence weights w_s = 1 / #{t : identity(s, t) >= theta} (plmc -t is 1 - theta).\n"
      "Stops when |grad f| <= tolerance * max(1, |params|) (plmc's test), when f fell by less\n"
      "than relative-decrease * |f| over 5 iterations, or after --max-iterations.\n"
      "pcd runs persistent Gibbs chains (optionally parallel-tempering ladders, --betas) and\n"
      "momentum SGD on the weighted likelihood with the same penalties (docs/potts-pcd.md);\n"
      "with --checkpoint it saves its state every --checkpoint-every updates, and --resume\n"
      "continues from it to the bits of an uninterrupted run.\n"
      "Same bits for any --threads. The model file is an .npz: fields [L, q], couplings\n"
      "[L, L, q, q], alphabet; --contacts writes 'i ai j aj frobenius apc' per pair\n"
      "(Frobenius norm of J_ij in the zero-sum gauge, average-product corrected); with --focus,\n"
      "i and j are numbered as plmc -c numbers them (START of the focus's NAME/START-END plus\n"
      "the column's index in the rows as written) and ai, aj are the focus's letters.\n"
      "--weights-out writes the weights used, one per sequence of DATA in file order (0 for\n"
      "sequences left out), after '#' header lines; --weights reads such a file (or plmc's\n"
      "--save-weights file, or a .npy) instead of computing them: the same weights give the\n"
      "same model bits.\n\n"
      "DATA: a FASTA or A2M alignment (lower-case and '.' are insert states), or a .npy\n"
      "2-D array of integer states.\n\n"
      "Examples:\n"
      "  # plmc's README run (plmc -le 16.0 -lh 0.01 -m 100 -g -f DYR_ECOLI):\n"
      "  logz train potts --data DHFR.a2m --focus DYR_ECOLI --unknown skip --ignore-gaps \\\n"
      "      --lambda-e 16 --lambda-h 0.01 --max-iterations 100 --out dhfr.npz --contacts dhfr.txt\n"
      "  logz train potts --data RF00162.fasta --alphabet .ACGU --lambda-e 20 --out rna.npz\n"
      "  logz train potts --data small.a2m --method pcd --chains 500 --updates 2000 --betas 0.5,0.75,1 --out m.npz");
  sub->add_option("--data", o->data, "Alignment (.a2m, .fasta, ...) or .npy of integer states")
      ->required()
      ->type_name("PATH");
  sub->add_option("--out", o->out, "Model file to write (.npz)")->required()->type_name("PATH");
  sub->add_option("--contacts", o->contacts, "Contact-score table to write (text)")->type_name("PATH");
  sub->add_option("--method", o->fit.method, "pl: pseudolikelihood; pcd: persistent contrastive divergence (maximum likelihood)")
      ->capture_default_str()
      ->check(CLI::IsMember({"pl", "pcd"}));
  sub->add_option("--variant", o->fit.variant, "symmetric (plmc, CCMpred) or asymmetric (couplings averaged)")
      ->capture_default_str()
      ->check(CLI::IsMember({"symmetric", "asymmetric"}));
  sub->add_option("--precision", o->fit.precision, "Arithmetic of the gradient: double or float")
      ->capture_default_str()
      ->check(CLI::IsMember({"double", "float"}));
  sub->add_option("--alphabet", o->input.alphabet, "States, gap first ('.ACGU' for RNA)")->capture_default_str();
  sub->add_option("--focus", o->input.focus, "Keep the columns where this sequence has upper-case letters (plmc -f)");
  sub->add_option("--unknown", o->input.unknown, "Letters outside the alphabet: error, skip the sequence (plmc), or gap")
      ->capture_default_str()
      ->check(CLI::IsMember({"error", "skip", "gap"}));
  sub->add_flag("--ignore-gaps", o->input.ignore_gaps, "Leave gaps out of the model (plmc -g): q = alphabet size - 1");
  sub->add_option("--theta", o->input.theta, "Identity threshold of the sequence weights")->capture_default_str();
  sub->add_option("--weights", o->input.weights,
                  "Sequence weights to use instead of computing them: text, one per line (plmc -w; '#' lines skipped), "
                  "or a 1-D .npy")
      ->type_name("PATH");
  sub->add_option("--weights-out", o->weights_out, "Write the sequence weights used (text, one per sequence)")
      ->type_name("PATH");
  sub->add_option("--lambda-h", o->fit.lambda_h, "L2 penalty on the fields (plmc -lh)")->capture_default_str();
  sub->add_option("--lambda-e", o->fit.lambda_e, "L2 penalty on the couplings (plmc -le)")->capture_default_str();
  sub->add_option("--max-iterations", o->max_iterations, "L-BFGS iterations at most; 0 = until a stop test holds")
      ->capture_default_str();
  sub->add_option("--tolerance", o->fit.tolerance, "Gradient stop: |g| <= tolerance * max(1, |params|)")
      ->capture_default_str();
  sub->add_option("--relative-decrease", o->fit.relative_decrease, "Relative-decrease stop over 5 iterations; 0 = off")
      ->capture_default_str();
  sub->add_option("--q", o->q, "Number of states of .npy data (default: largest state + 1)");
  sub->add_option("--chains", o->chains, "pcd: persistent chains")->capture_default_str();
  sub->add_option("--sweeps", o->sweeps, "pcd: Gibbs sweeps per update")->capture_default_str();
  sub->add_option("--updates", o->updates, "pcd: SGD updates")->capture_default_str();
  sub->add_option("--lr", o->fit.lr, "pcd: learning rate")->capture_default_str();
  sub->add_option("--momentum", o->fit.momentum, "pcd: momentum in [0, 1)")->capture_default_str();
  sub->add_option("--average-last", o->average_last, "pcd: average the last N iterates (0 = last)")->capture_default_str();
  sub->add_option("--betas", o->fit.betas, "pcd: parallel-tempering ladder, increasing, ending at 1 (e.g. 0.6,0.8,1)")
      ->delimiter(',');
  sub->add_option("--seed", o->seed, "pcd: random seed")->capture_default_str();
  sub->add_option("--checkpoint", o->fit.checkpoint,
                  "pcd: the fit's state, written every --checkpoint-every updates and after the last (.npz)")
      ->type_name("PATH");
  sub->add_option("--checkpoint-every", o->checkpoint_every, "pcd: updates between checkpoints")->capture_default_str();
  sub->add_flag("--resume", o->fit.resume,
                "pcd: continue from --checkpoint if it exists (same options; --updates may be larger)");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_potts);
}

}  // namespace logz::cli
