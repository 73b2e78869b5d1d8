// `logz convert`: a model file from one format to another — logz's .npz and plmc's binary
// parameter file (io/plmc_params.hpp) — so that Potts models move between logz and the
// EVcouplings ecosystem: parse → io::load_model (either format, told by content) → write.
#include <fmt/format.h>

#include <filesystem>

#include "common.hpp"
#include "logz/io/model_file.hpp"
#include "logz/io/plmc_params.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "convert";

struct ConvertOptions {
  CommonOptions common;
  std::string in, out, to;
};

// The output format: --to, else OUT's extension.
std::string output_format(const ConvertOptions& o) {
  if (!o.to.empty()) return o.to;
  const std::string ext = std::filesystem::path(o.out).extension().string();
  if (ext == ".npz") return "npz";
  if (ext == ".params" || ext == ".model" || ext == ".plmc") return "plmc";
  fail(Exit::usage, "{}: cannot tell the format of {} from its extension '{}'; give --to npz or --to plmc", kCmd, o.out,
       ext);
}

int run_convert(const ConvertOptions& o) {
  const auto start = Clock::now();
  make_exec(kCmd, o.common);  // its checks and --max-seconds (a conversion runs on one thread)
  const std::string format = output_format(o);
  check_output_path(kCmd, "OUT", o.out, {{"IN", o.in}});
  const io::ModelFile file = io::load_model(o.in);
  const ModelKind kind = kind_of(file.model);
  if (format == "plmc") {
    check_arg(kind == ModelKind::potts, "{}: plmc's format holds Potts models; {} holds a {} model", kCmd, o.in,
              kind_name(kind));
    io::write_plmc_params(
        o.out, io::plmc_params_of(std::get<Potts>(file.model), file.alphabet.value_or(""), file.extra, o.in));
  } else {
    io::save_model(o.out, file);
  }
  const double secs = seconds_since(start);
  summary(o.common, fmt::format("{} model {} -> {} ({}); {:.2f} s", kind_name(kind), o.in, o.out, format, secs));
  if (o.common.json)
    print_json({{"command", "convert"},
                {"in", o.in},
                {"out", o.out},
                {"to", format},
                {"kind", kind_name(kind)},
                {"seconds", secs}});
  return 0;
}

}  // namespace

void add_convert(CLI::App& app, Action& action) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* sub = app.add_subcommand("convert", "Convert a model file: logz .npz <-> plmc's binary parameter file");
  sub->footer(
      "Reads IN in either format (told by its content: a zip archive is an .npz; a file with\n"
      "exactly the layout of plmc -o is plmc's) and writes OUT in the format --to names, else\n"
      "the one its extension says (.npz; .params, .model or .plmc for plmc's). Every logz\n"
      "command that reads a model reads plmc's file directly too.\n"
      "plmc's file stores float32 parameters (a model whose parameters are float32 values goes\n"
      "through unchanged), the alphabet, the focus sequence and its positions, the site and\n"
      "pair frequencies and the fit's settings and sequence weights; an .npz converted from it\n"
      "keeps those as arrays (focus_sequence, positions, site_frequencies, pair_frequencies,\n"
      "plmc_fit, plmc_neighbours), so converting back gives the same bytes. A logz model\n"
      "without them is written with positions 1..L (or its own), zero frequencies and a zero\n"
      "fit record. docs/file-formats.md has the layout.\n\n"
      "Examples:\n"
      "  logz convert DHFR.params dhfr.npz            # plmc -o output to logz\n"
      "  logz convert dhfr.npz dhfr.model             # for EVcouplings (CouplingsModel)\n"
      "  logz convert m.npz m.bin --to plmc");
  sub->add_option("IN", o->in, "Model file to read (.npz or plmc's parameter file)")->required()->type_name("PATH");
  sub->add_option("OUT", o->out, "Model file to write")->required()->type_name("PATH");
  sub->add_option("--to", o->to, "Output format: npz or plmc (default: from OUT's extension)")
      ->check(CLI::IsMember({"npz", "plmc"}));
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_convert);
}

}  // namespace logz::cli
