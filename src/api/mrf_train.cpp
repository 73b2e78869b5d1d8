// Fitting Ising and Potts models (api/mrf_train.hpp): the settings checked once, the data
// read and weighted once, for the command line and the Python classes alike.
#include "logz/api/mrf_train.hpp"

#include "logz/io/atomic_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "logz/api/checkpoint_file.hpp"
#include "logz/core/check.hpp"
#include "logz/core/memory.hpp"
#include "logz/diagnostics/contact_scores.hpp"
#include "logz/io/atomic_file.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/plmc_params.hpp"
#include "logz/io/weights_file.hpp"
#include "logz/objectives/rbm_tempered_chains.hpp"
#include "logz/training/mrf_pcd.hpp"

namespace logz::api {

namespace {

constexpr std::string_view kIsing = "train ising";
constexpr std::string_view kPotts = "train potts";

void check_count(std::size_t v, std::size_t least, const char* field, std::string_view who) {
  check_config(v >= least, {field}, "{}: @0 must be at least {}, got {}", who, least, v);
}
void check_nonnegative(double v, const char* field, std::string_view who) {
  check_config(std::isfinite(v) && v >= 0, {field}, "{}: @0 must be a non-negative number, got {}", who, v);
}
void check_positive(double v, const char* field, std::string_view who) {
  check_config(std::isfinite(v) && v > 0, {field}, "{}: @0 must be a positive number, got {}", who, v);
}
void check_momentum(double v, std::string_view who) {
  check_config(std::isfinite(v) && v >= 0 && v < 1, {"momentum"}, "{}: @0 must be in [0, 1), got {}", who, v);
}
void check_choice(const std::string& v, std::initializer_list<const char*> choices, const char* field,
                  std::string_view who) {
  const bool ok = std::any_of(choices.begin(), choices.end(), [&](const char* c) { return v == c; });
  check_config(ok, {field}, "{}: @0 must be one of {}, got '{}'", who, fmt::join(choices, ", "), v);
}

bool is_alignment_path(const std::string& path) { return std::filesystem::path(path).extension() != ".npy"; }

/// FNV-1a (Fowler, Noll & Vo) of the bytes of `values`, continuing from `h`: the data's
/// part of a checkpoint's fingerprint (a resumed fit must see the same data).
template <class T>
std::uint64_t checksum(const T* values, std::size_t n, std::uint64_t h = 0xcbf29ce484222325ull) {
  const auto* p = reinterpret_cast<const unsigned char*>(values);
  for (std::size_t i = 0; i < n * sizeof(T); ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/// The checkpoint settings of a fit by `method`: only PCD fits keep one.
void check_checkpoint_settings(const std::string& checkpoint, std::size_t every, bool resume, bool pcd,
                               const std::string& method, std::string_view who) {
  check_config(checkpoint.empty() || pcd, {"checkpoint", "method"},
               "{}: @0 is for the PCD methods; @1 {} is a deterministic L-BFGS fit and keeps no checkpoint", who,
               method);
  check_config(!resume || !checkpoint.empty(), {"resume", "checkpoint"}, "{}: @0 needs @1 (the file to continue from)",
               who);
  check_count(every, 1, "checkpoint_every", who);
}

/// Every row used, in order: the records of integer-state data.
void all_records(io::Alignment& aln, std::size_t rows) {
  aln.records.resize(rows);
  std::iota(aln.records.begin(), aln.records.end(), std::size_t(0));
  aln.num_records = rows;
}

}  // namespace

// ---------------------------------------------------------------- Ising

void IsingTrainConfig::validate() const {
  check_choice(method, {"pl", "rm", "exact", "pcd", "pt"}, "method", kIsing);
  check_nonnegative(l2_fields, "l2_fields", kIsing);
  check_nonnegative(l2_couplings, "l2_couplings", kIsing);
  check_count(max_iterations, 1, "max_iterations", kIsing);
  check_positive(tolerance, "tolerance", kIsing);
  check_count(chains, 1, "chains", kIsing);
  check_count(sweeps, 1, "sweeps", kIsing);
  check_count(updates, 1, "updates", kIsing);
  check_count(replicas, 2, "replicas", kIsing);
  check_positive(lr, "lr", kIsing);
  check_momentum(momentum, kIsing);
  check_config(method != "pl" || graph == "complete", {"method", "graph"},
               "{}: @0 pl fits every pair of spins; use rm, exact or pcd with @1 {}", kIsing, graph);
  check_checkpoint_settings(checkpoint, checkpoint_every, resume, method == "pcd" || method == "pt", method, kIsing);
}

PcdCheckpointing pcd_checkpoints(const std::string& path, std::size_t every, bool resume, std::string_view trainer,
                                 const nlohmann::json& fingerprint, std::optional<training::Checkpoint>& from,
                                 Observer& obs) {
  PcdCheckpointing c;
  if (path.empty()) return c;
  const std::string config = fingerprint.dump();
  if (resume && std::filesystem::exists(path)) {
    from = read_training_checkpoint(path);
    check_config(from->trainer == trainer && from->config == config, {"resume"},
                 "{}: @0: checkpoint {} was written by {} with other settings or data ({}); rerun the same command "
                 "(more updates are allowed), or remove the checkpoint to start afresh",
                 trainer, path, from->trainer, from->config);
    c.resume_from = &*from;
    const std::vector<std::uint64_t>& done = from->counter(path.c_str(), "updates");
    obs.message(fmt::format("resuming from {} after update {}", path, done.empty() ? 0 : done[0]));
  }
  c.every = every;
  c.save = [path, config, trainer = std::string(trainer)](const training::Checkpoint& state) {
    training::Checkpoint ck = state;
    ck.trainer = trainer;
    ck.config = config;
    write_training_checkpoint(path, ck);
  };
  return c;
}

std::vector<std::pair<std::size_t, std::size_t>> ising_graph_edges(const std::string& graph, std::size_t n) {
  if (graph == "complete") return {};  // fit_ising's default: every pair
  const Ising shape = [&] {
    if (graph == "chain") return Ising::chain(n, 0, 0);
    if (graph == "ring") {
      check_config(n >= 3, {"graph"}, "{}: @0 ring needs at least 3 spins, the data has {}", kIsing, n);
      return Ising::chain(n, 0, 0, Boundary::periodic);
    }
    // R and C as plain digits (sscanf's %zu would take "-1" as 2^64 - 1), and R·C = n
    // asked without a product that could overflow.
    std::size_t r = 0, c = 0;
    const auto colon = graph.find(':');
    const std::string kind = graph.substr(0, colon);
    const std::string_view dims = colon == std::string::npos ? std::string_view() : std::string_view(graph).substr(colon + 1);
    const auto [rend, rec] = std::from_chars(dims.data(), dims.data() + dims.size(), r);
    const bool by = rec == std::errc() && rend != dims.data() && rend < dims.data() + dims.size() && *rend == 'x';
    const auto [cend, cec] = by ? std::from_chars(rend + 1, dims.data() + dims.size(), c) : std::from_chars_result{rend, rec};
    check_config((kind == "lattice" || kind == "torus") && by && cec == std::errc() && cend == dims.data() + dims.size() &&
                     cend != rend + 1 && r >= 1 && c >= 1,
                 {"graph"}, "{}: @0 must be complete, chain, ring, lattice:RxC or torus:RxC (R, C >= 1), got '{}'", kIsing,
                 graph);
    check_config(n % c == 0 && n / c == r, {"graph"}, "{}: @0 {} has {} sites but the data has {} spins per row", kIsing,
                 graph, r <= n && c <= n ? std::to_string(r * c) : std::string("more"), n);
    const Boundary b = kind == "torus" ? Boundary::periodic : Boundary::open;
    return Ising::lattice_2d(r, c, 0, 0, b, b);
  }();
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  for (const IsingEdge& e : shape.edges()) edges.emplace_back(e.i, e.j);
  return edges;
}

IsingFit train_ising(const MatrixD& spins, const IsingTrainConfig& config, const Exec& ex, std::string_view source) {
  config.validate();
  check_config_data(spins.rows() > 0 && spins.cols() > 0, {"data"}, "{}: @0 {}: the array is empty", kIsing, source);
  // Couplings of every pair, with the fit's gradient and the optimiser's copies.
  const auto spins_per_row = std::size_t(spins.cols());
  check_memory_for({spins_per_row, spins_per_row, 8 * sizeof(double)},
                   fmt::format("{}: couplings of {} spins", kIsing, spins_per_row));
  // All -1/1 or all 0/1: a data error before any fitting.
  bool plus_minus = false;
  for (Eigen::Index k = 0; k < spins.size(); ++k) {
    const double v = spins.data()[k];
    check_config_data(v == -1 || v == 0 || v == 1, {"data"}, "{}: @0 {}: entry {} is {}, not a spin (-1/1 or 0/1)",
                      kIsing, source, k, v);
    plus_minus |= v == -1;
  }
  for (Eigen::Index k = 0; plus_minus && k < spins.size(); ++k)
    check_config_data(spins.data()[k] != 0, {"data"}, "{}: @0 {}: the data mixes -1 and 0 (entry {}); use -1/1 or 0/1",
                      kIsing, source, k);
  IsingFitConfig c;
  c.method = parse_ising_fit_method(config.method);
  c.edges = ising_graph_edges(config.graph, std::size_t(spins.cols()));
  c.l2.fields = config.l2_fields;
  c.l2.couplings = config.l2_couplings;
  c.lbfgs.max_iterations = config.max_iterations;
  c.lbfgs.gradient_tolerance = config.tolerance;
  c.pcd.n_chains = config.chains;
  c.pcd.sweeps = config.sweeps;
  if (config.method == "pt") c.pcd.betas = default_tempering_ladder(config.replicas);
  c.sgd.updates = config.updates;
  c.sgd.learning_rate = config.lr;
  c.sgd.momentum = config.momentum;
  c.sgd.average_last = config.average_last;
  c.seed = config.seed;
  std::optional<training::Checkpoint> resumed;
  if (!config.checkpoint.empty()) {
    const nlohmann::json fingerprint = {
        {"method", config.method},      {"graph", config.graph},     {"l2_fields", config.l2_fields},
        {"l2_couplings", config.l2_couplings}, {"chains", config.chains}, {"sweeps", config.sweeps},
        {"replicas", config.replicas},  {"lr", config.lr},           {"momentum", config.momentum},
        {"seed", config.seed},          {"samples", spins.rows()},   {"spins", spins.cols()},
        {"data_checksum", checksum(spins.data(), std::size_t(spins.size()))}};
    c.checkpoints = pcd_checkpoints(config.checkpoint, config.checkpoint_every, config.resume, kIsing, fingerprint,
                                    resumed, silent_observer());
  }
  return fit_ising(spins, c, ex);
}

// ---------------------------------------------------------------- Potts data

void PottsDataConfig::validate() const {
  check_config(std::isfinite(theta) && theta >= 0 && theta <= 1, {"theta"}, "{}: @0 must be in [0, 1], got {}", kPotts,
               theta);
  check_choice(unknown, {"error", "skip", "gap"}, "unknown", kPotts);
}

PottsTrainingData load_potts_training_data(const std::string& path, const PottsDataConfig& config, const Exec& ex) {
  config.validate();
  if (!is_alignment_path(path)) {
    check_config(!config.ignore_gaps, {"ignore_gaps"}, "{}: @0 needs an alignment, not a .npy file", kPotts);
    return potts_training_data(io::read_npy(path).nonempty(path).to_matrix<double>(path), config, path);
  }
  PottsTrainingData out;
  out.source = path;
  io::AlignmentOptions ao;
  ao.alphabet = config.alphabet;
  if (!config.focus.empty()) ao.focus = config.focus;
  ao.unknown = io::unknown_letters_by_name(config.unknown);
  out.alignment = io::read_alignment(path, ao);
  const io::Alignment& aln = out.alignment;
  const VectorD w = config.weights.empty() ? io::sequence_weights(aln, config.theta, ex)
                                           : io::read_weights(config.weights, aln.records, aln.num_records);
  out.weights_source = config.weights.empty() ? fmt::format("theta {}", config.theta)
                                              : fmt::format("read from {}", config.weights);
  out.data = potts_data(aln.matrix, aln.alphabet, w, config.ignore_gaps);
  out.neff = io::effective_count(out.data.weights);
  return out;
}

PottsTrainingData potts_training_data(const MatrixD& m, const PottsDataConfig& config, std::string_view source) {
  config.validate();
  check_config_data(m.rows() > 0 && m.cols() > 0, {"data"}, "{}: @0 {}: the array is empty", kPotts, source);
  double top = 0;
  for (Eigen::Index k = 0; k < m.size(); ++k) {
    const double v = m.data()[k];
    check_config_data(std::isfinite(v) && v >= 0 && v == std::floor(v) && v < 255, {"data"},
                      "{}: @0 {}: entry {} is {}, not a state (an integer in [0, 255))", kPotts, source, k, v);
    top = std::max(top, v);
  }
  PottsTrainingData out;
  out.source = std::string(source);
  PottsData& d = out.data;
  d.q = config.q > 0 ? config.q : std::size_t(top) + 1;
  check_config_data(top < double(d.q), {"q"}, "{}: {}: state {} is not below @0 {}", kPotts, source, top, d.q);
  check_config_data(d.q >= 2, {"q"}, "{}: {}: every entry is 0; a Potts model needs q >= 2 (give @0)", kPotts, source);
  d.states = m.cast<std::uint8_t>();
  all_records(out.alignment, std::size_t(m.rows()));
  if (config.weights.empty()) {
    d.weights = VectorD::Ones(m.rows());
    out.weights_source = "none (every row counts 1)";
  } else {
    d.weights = io::read_weights(config.weights, out.alignment.records, out.alignment.num_records);
    out.weights_source = fmt::format("read from {}", config.weights);
  }
  out.neff = io::effective_count(d.weights);
  return out;
}

void write_potts_weights(const std::string& path, const PottsTrainingData& data) {
  const io::Alignment& aln = data.alignment;
  const VectorD& used = data.data.weights;
  VectorD by_record = VectorD::Zero(Eigen::Index(aln.num_records));
  for (Eigen::Index k = 0; k < used.size(); ++k) by_record[Eigen::Index(aln.records[std::size_t(k)])] = used[k];
  io::write_weights(path, by_record,
                    fmt::format("logz sequence weights of {}: {}\n{} sequences, {} left out (weight 0); Neff {}\n"
                                "one weight per sequence, in file order",
                                data.source, data.weights_source, aln.num_records,
                                aln.num_records - std::size_t(used.size()), data.neff));
}

// ---------------------------------------------------------------- Potts fit

void PottsTrainConfig::validate() const {
  check_choice(method, {"pl", "pcd"}, "method", kPotts);
  check_choice(variant, {"symmetric", "asymmetric"}, "variant", kPotts);
  check_choice(precision, {"double", "float"}, "precision", kPotts);
  check_nonnegative(lambda_h, "lambda_h", kPotts);
  check_nonnegative(lambda_e, "lambda_e", kPotts);
  check_positive(tolerance, "tolerance", kPotts);
  check_nonnegative(relative_decrease, "relative_decrease", kPotts);
  check_count(chains, 1, "chains", kPotts);
  check_count(sweeps, 1, "sweeps", kPotts);
  check_count(updates, 1, "updates", kPotts);
  check_positive(lr, "lr", kPotts);
  check_momentum(momentum, kPotts);
  check_checkpoint_settings(checkpoint, checkpoint_every, resume, method == "pcd", method, kPotts);
}

PottsTrainResult train_potts(const PottsTrainingData& in, const PottsTrainConfig& config, const Exec& ex,
                             Observer& obs) {
  config.validate();
  const PottsData& data = in.data;
  const auto n = std::size_t(data.states.rows()), l = std::size_t(data.states.cols());
  // PCD's dense couplings with their gradient and averages (pseudolikelihood checks its own).
  if (config.method == "pcd")
    check_memory_for({l, l, data.q, data.q, 4 * sizeof(double)},
                     fmt::format("{}: couplings of {} sites x {} states", kPotts, l, data.q));
  PottsTrainResult out;
  out.details = {{"method", config.method}, {"sequences", n},           {"sites", l},
                 {"q", data.q},             {"neff", in.neff},          {"lambda_h", config.lambda_h},
                 {"lambda_e", config.lambda_e}};
  Potts model = Potts::dense(1, 2);
  if (config.method == "pcd") {
    PottsPcdConfig pcd;
    pcd.chains = config.chains;
    pcd.sweeps = config.sweeps;
    pcd.betas = config.betas;
    pcd.lambda_h = config.lambda_h;
    pcd.lambda_e = config.lambda_e;
    pcd.sgd.updates = config.updates;
    pcd.sgd.learning_rate = config.lr;
    pcd.sgd.momentum = config.momentum;
    pcd.sgd.average_last = config.average_last;
    pcd.seed = config.seed;
    std::optional<training::Checkpoint> resumed;
    if (!config.checkpoint.empty()) {
      const nlohmann::json fingerprint = {
          {"chains", pcd.chains},      {"sweeps", pcd.sweeps},          {"betas", pcd.betas},
          {"lambda_h", pcd.lambda_h},  {"lambda_e", pcd.lambda_e},      {"lr", config.lr},
          {"momentum", config.momentum}, {"seed", pcd.seed},            {"sequences", n},
          {"sites", l},                {"q", data.q},
          {"data_checksum", checksum(data.weights.data(), std::size_t(data.weights.size()),
                                     checksum(data.states.data(), std::size_t(data.states.size())))}};
      pcd.checkpoints = pcd_checkpoints(config.checkpoint, config.checkpoint_every, config.resume, kPotts,
                                        fingerprint, resumed, obs);
    }
    pcd.validate();
    obs.message(fmt::format("{}: {} sequences x {} sites, q = {}, Neff = {:.1f}; PCD, {} chains, {} updates, lh {}, le {}",
                            kPotts, n, l, data.q, in.neff, pcd.chains, pcd.sgd.updates, pcd.lambda_h, pcd.lambda_e));
    PottsPcdFit fit = fit_potts_pcd(data, pcd, ex, obs);
    model = std::move(fit.model);
    const double last = fit.trace.empty() ? NAN : fit.trace.back();
    out.summary = fmt::format("PCD: {} updates, largest moment mismatch at the last update {:.4f}", fit.updates,
                              last);
    out.trace = std::move(fit.trace);
    out.details.update({{"chains", pcd.chains},
                        {"sweeps", pcd.sweeps},
                        {"updates", fit.updates},
                        {"betas", pcd.betas},
                        {"seed", pcd.seed},
                        {"moment_mismatch", last},
                        {"swap_acceptance", fit.swap_acceptance},
                        {"round_trips", fit.round_trips},
                        {"fit_seconds", fit.seconds}});
  } else {
    PseudolikelihoodConfig c;
    c.variant = config.variant == "asymmetric" ? PlVariant::asymmetric : PlVariant::symmetric;
    c.precision = config.precision == "float" ? PlPrecision::float32 : PlPrecision::float64;
    c.lambda_h = config.lambda_h;
    c.lambda_e = config.lambda_e;
    c.gradient_tolerance = config.tolerance;
    c.relative_decrease = config.relative_decrease;
    c.max_iterations = config.max_iterations;
    // Under mpirun only rank 0, which writes the files, needs the model (L²q² doubles).
    c.model_on_every_rank = false;
    c.validate();
    obs.message(fmt::format("{}: {} sequences x {} sites, q = {}, Neff = {:.1f}; {} pseudolikelihood ({}), lh {}, le {}",
                            kPotts, n, l, data.q, in.neff, config.variant, config.precision, c.lambda_h, c.lambda_e));
    PseudolikelihoodFit fit = fit_pseudolikelihood(data, c, ex, obs);
    model = std::move(fit.model);
    const double per_evaluation = fit.seconds / double(std::max<std::size_t>(fit.evaluations, 1));
    out.summary = fmt::format("objective {:.1f} (-log PL {:.1f}) after {} iterations ({} evaluations, {:.3f} s each); "
                              "stopped by {}",
                              fit.objective, fit.neg_log_pl, fit.iterations, fit.evaluations, per_evaluation,
                              fit.stopped_by);
    out.trace = std::move(fit.objective_trace);
    out.details.update({{"variant", config.variant},
                        {"precision", config.precision},
                        {"objective", fit.objective},
                        {"neg_log_pl", fit.neg_log_pl},
                        {"iterations", fit.iterations},
                        {"evaluations", fit.evaluations},
                        {"stopped_by", fit.stopped_by},
                        {"fit_seconds", fit.seconds},
                        {"seconds_per_evaluation", per_evaluation},
                        {"fit_peak_memory_bytes", fit.peak_memory_bytes},
                        {"seconds_per_iteration", fit.seconds / double(std::max<std::size_t>(fit.iterations, 1))}});
  }
  out.file.model = std::move(model);
  if (data.alphabet.size() == data.q) out.file.alphabet = data.alphabet;
  const io::Alignment& aln = in.alignment;
  if (aln.focus) {
    std::string letters;
    for (std::size_t i = 0; i < l; ++i) letters += aln.alphabet[aln.matrix(Eigen::Index(*aln.focus), Eigen::Index(i))];
    // What `logz score --mutants`, contact tables and plmc's file need of the focus.
    out.file.extra = io::focus_arrays(std::vector<std::int64_t>(aln.positions.begin(), aln.positions.end()), letters);
  }
  return out;
}

// ---------------------------------------------------------------- contacts

ContactTable contact_table(const io::ModelFile& file) {
  const Potts* m = std::get_if<Potts>(&file.model);
  check_arg(m != nullptr, "contacts: the model is {}, not a Potts model", kind_name(kind_of(file.model)));
  ContactTable t;
  t.scores = contact_scores(*m);
  const std::size_t l = m->n_sites();
  const io::Array *positions = nullptr, *letters = nullptr;
  for (const auto& [name, a] : file.extra) {
    if (name == io::kPositionsArray && a.ndim() == 1 && a.size() == l) positions = &a;
    if (name == io::kFocusArray && a.dtype == io::DType::u8 && a.ndim() == 1 && a.size() == l) letters = &a;
  }
  for (std::size_t i = 0; positions && letters && i < l; ++i) {
    t.positions.push_back(long(positions->at(i)));
    t.letters += char(letters->bytes[i]);
  }
  return t;
}

std::string ContactTable::text() const { return format_contact_scores(scores, positions, letters); }

}  // namespace logz::api
