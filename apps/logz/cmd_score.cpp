// `logz score`: energies of sequences under a Potts model, and the single-mutant effects
// of every substitution against the focus sequence (EVmutation's table, with logz's
// sign): parse → load → diagnostics/sequence_scores → a table (text or JSON).
#include <fmt/format.h>

#include <cctype>
#include <cstdio>
#include <filesystem>

#include "common.hpp"
#include "logz/api/data.hpp"
#include "logz/diagnostics/sequence_scores.hpp"
#include "logz/io/alignment.hpp"
#include "logz/io/atomic_file.hpp"
#include "logz/io/model_file.hpp"
#include "logz/io/plmc_params.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "score";

struct ScoreOptions {
  CommonOptions common;
  std::string model, data, out, focus, unknown = "error";
  bool mutants = false;
};

bool is_gap_letter(char c) { return c == '-' || c == '.'; }

// The model as it scores: letters read with its alphabet when that has a gap first,
// else with a gap state put in front (with_gap_state: a gap leaves its site out, as
// plmc -g fits it). Without an alphabet, states only (.npy).
struct Scorer {
  Potts model = Potts::dense(1, 2);
  std::string alphabet;  ///< the scorer's states; empty without the model's alphabet
  bool gap_added = false;
};

Scorer scorer_of(const io::ModelFile& file) {
  const Potts& m = std::get<Potts>(file.model);
  if (!file.alphabet) return {m, "", false};
  if (is_gap_letter((*file.alphabet)[0])) return {m, *file.alphabet, false};
  return {with_gap_state(m), "-" + *file.alphabet, true};
}

// A reference sequence for the mutant scan: states of the scorer and site numbers.
struct Reference {
  VectorD states;
  std::vector<long> positions;
};

struct Sequences {
  std::vector<std::string> names;
  MatrixU8 states;  ///< the scorer's states
  std::optional<Reference> focus;
};

Sequences read_sequences(const ScoreOptions& o, const io::ModelFile& file, const Scorer& s) {
  Sequences out;
  const std::size_t l = s.model.n_sites();
  if (std::filesystem::path(o.data).extension() == ".npy") {
    check_arg(o.focus.empty(), "{}: --focus names a sequence of an alignment, not of a .npy file", kCmd);
    const api::Dataset d = api::load_dataset(o.data, file, "data", kCmd);  // checks width and states
    out.states = api::real_rows(d.rows).cast<std::uint8_t>();
    if (s.gap_added) out.states.array() += std::uint8_t(1);
    for (Eigen::Index r = 0; r < out.states.rows(); ++r) out.names.push_back(fmt::format("row_{}", r + 1));
    return out;
  }
  check_arg(!s.alphabet.empty(),
            "{}: --data {}: letters need the model's alphabet, and {} has none (give states as a .npy)", kCmd, o.data,
            o.model);
  io::AlignmentOptions ao;
  ao.alphabet = s.alphabet;
  if (!o.focus.empty()) ao.focus = o.focus;
  ao.unknown = io::unknown_letters_by_name(o.unknown);
  io::Alignment aln = io::read_alignment(o.data, ao);
  check_data(aln.num_columns() == l, "{}: --data {} has {} {}columns, but the model {} has {} sites", kCmd, o.data,
             aln.num_columns(), aln.focus ? "focus " : "match ", o.model, l);
  if (aln.focus)
    out.focus = Reference{aln.matrix.row(Eigen::Index(*aln.focus)).cast<double>().transpose(), aln.positions};
  out.names = std::move(aln.names);
  out.states = std::move(aln.matrix);
  return out;
}

// The focus sequence a model file carries (train potts --focus writes it, and so does
// plmc's file) with its site numbers.
Reference reference_of_model(const ScoreOptions& o, const io::ModelFile& file, const Scorer& s) {
  const std::size_t l = s.model.n_sites();
  Reference r;
  const io::Array* letters = nullptr;
  for (const auto& [name, a] : file.extra) {
    if (name == io::kFocusArray) letters = &a;
    if (name == io::kPositionsArray && a.ndim() == 1 && a.size() == l)
      for (std::size_t i = 0; i < l; ++i) r.positions.push_back(long(a.at(i)));
  }
  check_arg(letters != nullptr,
            "{}: --mutants needs a focus sequence, and {} has no 'focus_sequence' (train potts --focus writes one); "
            "give --data ALIGNMENT --focus NAME",
            kCmd, o.model);
  check_data(letters->dtype == io::DType::u8 && letters->ndim() == 1 && letters->size() == l,
             "{}: {}: 'focus_sequence' has dtype {} and shape {}; expected uint8 letters, one per site ({})", kCmd,
             o.model, io::dtype_name(letters->dtype), letters->shape_string(), l);
  r.states.resize(Eigen::Index(l));
  for (std::size_t i = 0; i < l; ++i) {
    const char c = char(std::toupper(static_cast<int>(letters->bytes[i])));
    const std::size_t a = is_gap_letter(c) ? 0 : s.alphabet.find(c);
    check_data(a != std::string::npos, "{}: {}: 'focus_sequence' has '{}' at site {}, not in the alphabet \"{}\"", kCmd,
               o.model, c, i + 1, s.alphabet);
    r.states[Eigen::Index(i)] = double(a);
  }
  check_data(r.states.maxCoeff() > 0,
             "{}: {}: 'focus_sequence' is all gaps (plmc writes that when it ran without -f); give --data ALIGNMENT "
             "--focus NAME",
             kCmd, o.model);
  return r;
}

struct Table {
  std::string text;
  nlohmann::json rows = nlohmann::json::array();
  std::string summary;
};

Table energy_table(const Sequences& seqs, const Scorer& s, const Exec& ex) {
  const VectorD e = sequence_energies(s.model, seqs.states, ex);
  Table t;
  t.text = "# name energy\n";
  for (Eigen::Index k = 0; k < e.size(); ++k) {
    const std::string& name = seqs.names[std::size_t(k)];
    t.text += fmt::format("{} {:.6f}\n", name, e[k]);
    t.rows.push_back({{"name", name}, {"energy", e[k]}});
  }
  t.summary = fmt::format("energies of {} sequences: from {:.4f} to {:.4f}, mean {:.4f}", e.size(), e.minCoeff(),
                          e.maxCoeff(), e.mean());
  return t;
}

Table mutant_table(const Reference& ref, const Scorer& s) {
  const MatrixD delta = single_mutant_effects(s.model, ref.states);
  Table t;
  t.text = "# position wt mutant delta_e\n";
  std::size_t count = 0, better = 0;
  for (Eigen::Index i = 0; i < delta.rows(); ++i) {
    const long pos = ref.positions.empty() ? long(i + 1) : ref.positions[std::size_t(i)];
    const auto wt = std::size_t(ref.states[i]);
    for (Eigen::Index a = 1; a < delta.cols(); ++a) {  // state 0 is the gap: substitutions only
      if (std::size_t(a) == wt) continue;
      const char w = s.alphabet[wt] == '.' ? '-' : s.alphabet[wt], m = s.alphabet[std::size_t(a)];
      t.text += fmt::format("{} {} {} {:.6f}\n", pos, w, m, delta(i, a));
      t.rows.push_back(
          {{"position", pos}, {"wt", std::string(1, w)}, {"mutant", std::string(1, m)}, {"delta_e", delta(i, a)}});
      ++count;
      better += delta(i, a) < 0;
    }
  }
  t.summary =
      fmt::format("{} single mutants at {} sites; {} lower the energy (delta_e < 0)", count, delta.rows(), better);
  return t;
}

int run_score(const ScoreOptions& o) {
  const auto start = Clock::now();
  const Exec ex = make_exec(kCmd, o.common);
  check_arg(o.mutants || !o.data.empty(),
            "{}: give --data (energies of its sequences) or --mutants (effects against the focus sequence)", kCmd);
  check_arg(o.focus.empty() || !o.data.empty(), "{}: --focus names a sequence of --data; give --data", kCmd);
  if (!o.out.empty()) check_output_path(kCmd, "--out", o.out, {{"--model", o.model}, {"--data", o.data}});
  const io::ModelFile file = io::load_model(o.model);
  const ModelKind kind = kind_of(file.model);
  check_arg(kind == ModelKind::potts, "{}: {} holds a {} model; score needs a Potts model", kCmd, o.model,
            kind_name(kind));
  const Scorer s = scorer_of(file);
  check_arg(!o.mutants || !s.alphabet.empty(), "{}: --mutants names letters, and {} has no alphabet", kCmd, o.model);

  std::optional<Sequences> seqs;
  if (!o.data.empty()) seqs = read_sequences(o, file, s);
  Table t;
  if (o.mutants) {
    const Reference ref = seqs && seqs->focus ? *seqs->focus : reference_of_model(o, file, s);
    t = mutant_table(ref, s);
  } else {
    t = energy_table(*seqs, s, ex);
  }
  if (!o.out.empty()) io::write_file_atomic(o.out, t.text);
  const double secs = seconds_since(start);
  if (o.common.json) {
    nlohmann::json j = {
        {"command", "score"}, {"model", o.model}, {"mutants", o.mutants}, {"rows", t.rows}, {"seconds", secs}};
    if (!o.data.empty()) j["data"] = o.data;
    if (!o.out.empty()) j["out"] = o.out;
    print_json(j);
    summary(o.common, t.summary);
  } else if (o.out.empty()) {
    std::fwrite(t.text.data(), 1, t.text.size(), stdout);  // the table is the output
  } else {
    summary(o.common, fmt::format("{}; {:.2f} s -> {}", t.summary, secs, o.out));
  }
  return 0;
}

}  // namespace

void add_score(CLI::App& app, Action& action) {
  auto o = std::make_shared<ScoreOptions>();
  CLI::App* sub = app.add_subcommand("score", "Energies of sequences under a Potts model, or single-mutant effects");
  sub->footer(
      "With --data, prints 'name energy' for every sequence of an alignment (read with the\n"
      "model's alphabet) or every row of a .npy of states: E(x) = -sum h_i(x_i) - sum J_ij(x_i, x_j),\n"
      "lower is more probable. A model fitted with gaps ignored (train potts --ignore-gaps,\n"
      "plmc -g) leaves a sequence's gap sites out of its energy.\n"
      "With --mutants, prints 'position wt mutant delta_e' for every substitution at every site\n"
      "of the focus sequence: delta_e = E(mutant) - E(focus), from the conditional energies of\n"
      "the site. The focus is --data's --focus sequence, else the one the model file carries\n"
      "(train potts --focus and plmc's parameter file store it); positions are numbered as in\n"
      "the contact table (plmc's numbering). EVmutation reports -delta_e (higher = fitter).\n"
      "The table goes to --out (written whole, or not at all) or to stdout; --json prints it\n"
      "as 'rows' instead.\n\n"
      "Examples:\n"
      "  logz score --model dhfr.npz --data DHFR.a2m --focus DYR_ECOLI --unknown skip --out energies.txt\n"
      "  logz score --model dhfr.npz --mutants --out mutants.txt\n"
      "  logz score --model DHFR.params --mutants --json   # plmc's parameter file");
  sub->add_option("--model", o->model, "Potts model file (.npz, or plmc's parameter file)")
      ->required()
      ->type_name("PATH");
  sub->add_option("--data", o->data, "Alignment (.a2m, .fasta, ...) or .npy of states to score")->type_name("PATH");
  sub->add_flag("--mutants", o->mutants, "Score every single substitution of the focus sequence instead");
  sub->add_option("--focus", o->focus, "Focus sequence of --data (plmc -f): its upper-case columns are the sites");
  sub->add_option("--unknown", o->unknown, "Letters outside the alphabet: error, skip the sequence (plmc), or gap")
      ->capture_default_str()
      ->check(CLI::IsMember({"error", "skip", "gap"}));
  sub->add_option("--out", o->out, "Table to write (text); default: stdout")->type_name("PATH");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_score);
}

}  // namespace logz::cli
