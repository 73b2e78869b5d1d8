// `logz train potts`: fits a Potts model to a multiple sequence alignment (or integer
// states in .npy) by pseudolikelihood, writes the model file and the contact scores.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include "common.hpp"
#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/diagnostics/contact_scores.hpp"
#include "logz/io/alignment.hpp"
#include "logz/io/atomic_file.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/plmc_params.hpp"
#include "logz/io/weights_file.hpp"
#include "logz/training/mrf_pcd.hpp"
#include "logz/objectives/pseudolikelihood.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "train potts";

struct PottsOptions {
  CommonOptions common;
  std::string data, out, contacts, weights, weights_out, alphabet = io::kProteinAlphabet, focus, unknown = "error",
                                                          variant = "symmetric", precision = "double", method = "pl";
  bool ignore_gaps = false;
  double theta = 0.8, lambda_h = 0.01, lambda_e = 100.0, tolerance = 1e-3, relative_decrease = 1e-5;
  std::int64_t max_iterations = 0, q = 0;
  // pcd
  std::int64_t chains = 100, sweeps = 1, updates = 1000, average_last = 0, seed = 1;
  double lr = 0.05, momentum = 0.9;
  std::vector<double> betas;
};

bool is_alignment_path(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  return ext != ".npy";
}

// Integer states from a 2-D .npy: values in [0, q), q from --q or max + 1.
PottsData npy_states(const std::string& path, std::int64_t q_option) {
  const Matrix<double> m = io::read_npy(path).to_matrix<double>(path);
  check_data(m.rows() > 0 && m.cols() > 0, "{}: {}: the array is empty", kCmd, path);
  double top = 0;
  for (Eigen::Index k = 0; k < m.size(); ++k) {
    const double v = m.data()[k];
    check_data(std::isfinite(v) && v >= 0 && v == std::floor(v) && v < 255,
               "{}: {}: entry {} is {}, not a state (an integer in [0, 255))", kCmd, path, k, v);
    top = std::max(top, v);
  }
  PottsData d;
  d.q = q_option > 0 ? std::size_t(q_option) : std::size_t(top) + 1;
  check_data(top < double(d.q), "{}: {}: state {} is not below --q {}", kCmd, path, top, d.q);
  check_data(d.q >= 2, "{}: {}: every entry is 0; a Potts model needs q >= 2 (give --q)", kCmd, path);
  d.states = m.cast<std::uint8_t>();
  d.weights = VectorD::Ones(m.rows());
  return d;
}

// --weights-out: the weights of the fit, one per record of the data file (0 for the
// sequences left out), with a header that says where they came from.
void write_weights_used(const PottsOptions& o, const io::Alignment& aln, const VectorD& used, double neff) {
  const std::size_t records = aln.num_records;
  VectorD by_record = VectorD::Zero(Eigen::Index(records));
  for (Eigen::Index k = 0; k < used.size(); ++k) by_record[Eigen::Index(aln.records[std::size_t(k)])] = used[k];
  const std::string source = !o.weights.empty()          ? fmt::format("read from {}", o.weights)
                             : is_alignment_path(o.data) ? fmt::format("theta {}", o.theta)
                                                         : std::string("none (every row of a .npy counts 1)");
  io::write_weights(o.weights_out, by_record,
                    fmt::format("logz sequence weights of {}: {}\n{} sequences, {} left out (weight 0); Neff {}\n"
                                "one weight per sequence, in file order",
                                o.data, source, records, records - std::size_t(used.size()), neff));
}

int run_potts(const PottsOptions& o) {
  const auto start = Clock::now();
  PseudolikelihoodConfig c;
  c.variant = o.variant == "asymmetric" ? PlVariant::asymmetric : PlVariant::symmetric;
  c.precision = o.precision == "float" ? PlPrecision::float32 : PlPrecision::float64;
  c.lambda_h = nonnegative_option(kCmd, "--lambda-h", o.lambda_h);
  c.lambda_e = nonnegative_option(kCmd, "--lambda-e", o.lambda_e);
  c.gradient_tolerance = positive_option(kCmd, "--tolerance", o.tolerance);
  c.relative_decrease = nonnegative_option(kCmd, "--relative-decrease", o.relative_decrease);
  c.max_iterations = count_option(kCmd, "--max-iterations", o.max_iterations, 0);
  check_arg(std::isfinite(o.theta) && o.theta >= 0 && o.theta <= 1, "{}: --theta must be in [0, 1], got {}", kCmd,
            o.theta);
  c.validate();
  PottsPcdConfig pcd;
  pcd.chains = count_option(kCmd, "--chains", o.chains, 1);
  pcd.sweeps = count_option(kCmd, "--sweeps", o.sweeps, 1);
  pcd.betas = o.betas;
  pcd.lambda_h = c.lambda_h;
  pcd.lambda_e = c.lambda_e;
  pcd.sgd.updates = count_option(kCmd, "--updates", o.updates, 1);
  pcd.sgd.learning_rate = positive_option(kCmd, "--lr", o.lr);
  check_arg(std::isfinite(o.momentum) && o.momentum >= 0 && o.momentum < 1, "{}: --momentum must be in [0, 1), got {}",
            kCmd, o.momentum);
  pcd.sgd.momentum = o.momentum;
  pcd.sgd.average_last = count_option(kCmd, "--average-last", o.average_last, 0);
  pcd.seed = seed_option(kCmd, o.seed);
  pcd.validate();
  const Exec ex = make_exec(kCmd, o.common);
  check_output_path(kCmd, "--out", o.out);
  if (!o.contacts.empty()) check_output_path(kCmd, "--contacts", o.contacts);
  if (!o.weights_out.empty()) check_output_path(kCmd, "--weights-out", o.weights_out);

  ProgressBar obs(stderr, o.common.quiet);
  PottsData data;
  io::Alignment aln;
  double neff = 0;
  if (is_alignment_path(o.data)) {
    io::AlignmentOptions ao;
    ao.alphabet = o.alphabet;
    if (!o.focus.empty()) ao.focus = o.focus;
    ao.unknown = unknown_letters(o.unknown);
    aln = io::read_alignment(o.data, ao);
    const VectorD w = o.weights.empty() ? io::sequence_weights(aln, o.theta, ex)
                                        : io::read_weights(o.weights, aln.records, aln.num_records);
    data = potts_data(aln.matrix, aln.alphabet, w, o.ignore_gaps);
  } else {
    check_arg(!o.ignore_gaps, "{}: --ignore-gaps needs an alignment, not a .npy file", kCmd);
    data = npy_states(o.data, o.q);
    aln.records.resize(std::size_t(data.states.rows()));  // every row is used, in order
    std::iota(aln.records.begin(), aln.records.end(), std::size_t(0));
    aln.num_records = aln.records.size();
    if (!o.weights.empty()) data.weights = io::read_weights(o.weights, aln.records, aln.num_records);
  }
  neff = io::effective_count(data.weights);
  const auto n = std::size_t(data.states.rows()), l = std::size_t(data.states.cols());
  nlohmann::json j = {{"command", "train potts"}, {"method", o.method},     {"sequences", n},
                      {"sites", l},                {"q", data.q},             {"neff", neff},
                      {"lambda_h", c.lambda_h},    {"lambda_e", c.lambda_e}};
  std::string result;
  Potts model = Potts::dense(1, 2);
  if (o.method == "pcd") {
    obs.message(fmt::format("{}: {} sequences x {} sites, q = {}, Neff = {:.1f}; PCD, {} chains, {} updates, lh {}, le {}",
                            kCmd, n, l, data.q, neff, pcd.chains, pcd.sgd.updates, pcd.lambda_h, pcd.lambda_e));
    const PottsPcdFit fit = fit_potts_pcd(data, pcd, ex, obs);
    model = fit.model;
    const double last = fit.trace.empty() ? NAN : fit.trace.back();
    result = fmt::format("PCD: {} updates, largest moment mismatch at the last update {:.4f}; {:.1f} s", fit.updates,
                         last, fit.seconds);
    j.update({{"chains", pcd.chains},
              {"sweeps", pcd.sweeps},
              {"updates", fit.updates},
              {"betas", pcd.betas},
              {"seed", pcd.seed},
              {"moment_mismatch", last},
              {"swap_acceptance", fit.swap_acceptance},
              {"round_trips", fit.round_trips},
              {"fit_seconds", fit.seconds}});
  } else {
    obs.message(fmt::format("{}: {} sequences x {} sites, q = {}, Neff = {:.1f}; {} pseudolikelihood ({}), lh {}, le {}",
                            kCmd, n, l, data.q, neff, o.variant, o.precision, c.lambda_h, c.lambda_e));
    const PseudolikelihoodFit fit = fit_pseudolikelihood(data, c, ex, obs);
    model = fit.model;
    const double per_evaluation = fit.seconds / double(std::max<std::size_t>(fit.evaluations, 1));
    result = fmt::format("objective {:.1f} (-log PL {:.1f}) after {} iterations ({} evaluations, {:.3f} s each); "
                         "stopped by {}",
                         fit.objective, fit.neg_log_pl, fit.iterations, fit.evaluations, per_evaluation, fit.stopped_by);
    j.update({{"variant", o.variant},
              {"precision", o.precision},
              {"objective", fit.objective},
              {"neg_log_pl", fit.neg_log_pl},
              {"iterations", fit.iterations},
              {"evaluations", fit.evaluations},
              {"stopped_by", fit.stopped_by},
              {"fit_seconds", fit.seconds},
              {"seconds_per_evaluation", per_evaluation},
              {"seconds_per_iteration", fit.seconds / double(std::max<std::size_t>(fit.iterations, 1))}});
  }

  std::optional<std::string> alphabet;
  if (data.alphabet.size() == data.q) alphabet = data.alphabet;
  io::NamedArrays extra;
  std::string focus_letters;
  if (aln.focus) {
    for (std::size_t i = 0; i < l; ++i)
      focus_letters += aln.alphabet[aln.matrix(Eigen::Index(*aln.focus), Eigen::Index(i))];
    // What `logz score --mutants` and plmc's file need of the focus: its letters and numbers.
    extra = io::focus_arrays(std::vector<std::int64_t>(aln.positions.begin(), aln.positions.end()), focus_letters);
  }
  io::save_potts(o.out, model, alphabet, extra);
  if (!o.weights_out.empty()) write_weights_used(o, aln, data.weights, neff);
  if (!o.contacts.empty())
    io::write_file_atomic(o.contacts, format_contact_scores(contact_scores(model), aln.positions, focus_letters));
  const double secs = seconds_since(start);
  summary(o.common, fmt::format("{}; {:.1f} s -> {}", result, secs, o.out));
  if (o.common.json) {
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
      "momentum SGD on the weighted likelihood with the same penalties (docs/potts-pcd.md).\n"
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
  sub->add_option("--method", o->method, "pl: pseudolikelihood; pcd: persistent contrastive divergence (maximum likelihood)")
      ->capture_default_str()
      ->check(CLI::IsMember({"pl", "pcd"}));
  sub->add_option("--variant", o->variant, "symmetric (plmc, CCMpred) or asymmetric (couplings averaged)")
      ->capture_default_str()
      ->check(CLI::IsMember({"symmetric", "asymmetric"}));
  sub->add_option("--precision", o->precision, "Arithmetic of the gradient: double or float")
      ->capture_default_str()
      ->check(CLI::IsMember({"double", "float"}));
  sub->add_option("--alphabet", o->alphabet, "States, gap first ('.ACGU' for RNA)")->capture_default_str();
  sub->add_option("--focus", o->focus, "Keep the columns where this sequence has upper-case letters (plmc -f)");
  sub->add_option("--unknown", o->unknown, "Letters outside the alphabet: error, skip the sequence (plmc), or gap")
      ->capture_default_str()
      ->check(CLI::IsMember({"error", "skip", "gap"}));
  sub->add_flag("--ignore-gaps", o->ignore_gaps, "Leave gaps out of the model (plmc -g): q = alphabet size - 1");
  sub->add_option("--theta", o->theta, "Identity threshold of the sequence weights")->capture_default_str();
  sub->add_option("--weights", o->weights,
                  "Sequence weights to use instead of computing them: text, one per line (plmc -w; '#' lines skipped), "
                  "or a 1-D .npy")
      ->type_name("PATH");
  sub->add_option("--weights-out", o->weights_out, "Write the sequence weights used (text, one per sequence)")
      ->type_name("PATH");
  sub->add_option("--lambda-h", o->lambda_h, "L2 penalty on the fields (plmc -lh)")->capture_default_str();
  sub->add_option("--lambda-e", o->lambda_e, "L2 penalty on the couplings (plmc -le)")->capture_default_str();
  sub->add_option("--max-iterations", o->max_iterations, "L-BFGS iterations at most; 0 = until a stop test holds")
      ->capture_default_str();
  sub->add_option("--tolerance", o->tolerance, "Gradient stop: |g| <= tolerance * max(1, |params|)")
      ->capture_default_str();
  sub->add_option("--relative-decrease", o->relative_decrease, "Relative-decrease stop over 5 iterations; 0 = off")
      ->capture_default_str();
  sub->add_option("--q", o->q, "Number of states of .npy data (default: largest state + 1)");
  sub->add_option("--chains", o->chains, "pcd: persistent chains")->capture_default_str();
  sub->add_option("--sweeps", o->sweeps, "pcd: Gibbs sweeps per update")->capture_default_str();
  sub->add_option("--updates", o->updates, "pcd: SGD updates")->capture_default_str();
  sub->add_option("--lr", o->lr, "pcd: learning rate")->capture_default_str();
  sub->add_option("--momentum", o->momentum, "pcd: momentum in [0, 1)")->capture_default_str();
  sub->add_option("--average-last", o->average_last, "pcd: average the last N iterates (0 = last)")->capture_default_str();
  sub->add_option("--betas", o->betas, "pcd: parallel-tempering ladder, increasing, ending at 1 (e.g. 0.6,0.8,1)")
      ->delimiter(',');
  sub->add_option("--seed", o->seed, "pcd: random seed")->capture_default_str();
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_potts);
}

}  // namespace logz::cli
