// `logz patches`: whitened image patches as continuous training data (io/patches.hpp).
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <optional>

#include "common.hpp"
#include "logz/core/check.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/patches.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "patches";

struct PatchesOptions {
  CommonOptions common;
  std::string images, shape, out, transform, transform_out, whiten = "pca";
  std::int64_t size = 8, count = 10000, seed = 1, components = 0;
  double floor = 1e-6, min_std = 0;
  bool keep_dc = false, dequantize = false;
};

// "28x28" → (28, 28).
std::pair<std::size_t, std::size_t> parse_shape(const std::string& s) {
  const auto x = s.find('x');
  std::size_t h = 0, w = 0;
  bool ok = x != std::string::npos && x > 0 && x + 1 < s.size();
  if (ok) {
    char* end = nullptr;
    h = std::strtoull(s.c_str(), &end, 10);
    ok = end == s.c_str() + x;
    w = std::strtoull(s.c_str() + x + 1, &end, 10);
    ok = ok && *end == '\0' && h > 0 && w > 0 && s[0] != '-' && s[x + 1] != '-';
  }
  check_arg(ok, "{}: --shape must be HEIGHTxWIDTH with positive integers (e.g. 28x28), got '{}'", kCmd, s);
  return {h, w};
}

int run_patches(const PatchesOptions& o) {
  const auto start = Clock::now();
  io::PatchConfig pc;
  pc.size = count_option(kCmd, "--size", o.size, 1);
  pc.count = count_option(kCmd, "--count", o.count, 1);
  pc.seed = seed_option(kCmd, o.seed);
  pc.dequantize = o.dequantize;
  pc.min_std = nonnegative_option(kCmd, "--min-std", o.min_std);
  const std::size_t d = pc.size * pc.size;
  const bool fit = o.transform.empty();
  io::WhiteningConfig wc;
  if (fit) {
    check_arg(o.whiten == "pca" || o.whiten == "zca" || o.whiten == "none",
              "{}: --whiten must be pca, zca or none, got '{}'", kCmd, o.whiten);
    wc.method = io::parse_whitening(o.whiten);
    wc.remove_dc = !o.keep_dc;
    wc.components = count_option(kCmd, "--components", o.components, 0);
    const std::size_t max_k = wc.remove_dc ? d - 1 : d;
    check_arg(wc.method == io::Whitening::none || max_k >= 1,
              "{}: --size 1 leaves no variance once each patch's mean is removed; use a larger --size or --keep-dc", kCmd);
    check_arg(wc.method == io::Whitening::none || wc.components <= max_k,
              "{}: --components must be at most {} for {}x{} patches{}, got {}", kCmd, max_k, pc.size, pc.size,
              wc.remove_dc ? " with the DC component removed" : "", wc.components);
    check_arg(std::isfinite(o.floor) && o.floor >= 0 && o.floor < 1, "{}: --floor must be in [0, 1), got {}", kCmd,
              o.floor);
    wc.eigenvalue_floor = o.floor;
  }
  const Exec ex = make_exec(kCmd, o.common);
  const std::optional<std::pair<std::size_t, std::size_t>> shape =
      o.shape.empty() ? std::nullopt : std::optional(parse_shape(o.shape));
  check_output_path(kCmd, "--out", o.out, {{"--images", o.images}});
  if (!o.transform_out.empty()) check_output_path(kCmd, "--transform-out", o.transform_out, {{"--images", o.images}});

  // A saved transform is read before the images: a wrong file fails fast.
  std::optional<io::WhiteningTransform> saved;
  if (!fit) {
    saved = io::load_whitening(o.transform);
    check_data(saved->input_dimension == d, "{}: --transform {} was fitted on patches of {} values, but --size {} gives {}",
               kCmd, o.transform, saved->input_dimension, pc.size, d);
  }
  const io::Images images = io::load_images(o.images, shape);
  check_arg(pc.size <= images.height && pc.size <= images.width, "{}: --size {} is larger than the {}x{} images", kCmd,
            pc.size, images.height, images.width);
  check_arg(!pc.dequantize || images.eight_bit, "{}: --dequantize needs 8-bit images (integer pixels 0..255)", kCmd);
  const MatrixD raw = io::extract_patches(images, pc, ex);
  const io::WhiteningTransform t = fit ? io::fit_whitening(raw, wc) : *saved;
  const MatrixD y = io::apply_whitening(t, raw, ex);
  io::write_npy(o.out, io::Array::from_matrix<double>(y));
  if (!o.transform_out.empty()) io::save_whitening(o.transform_out, t);

  const double seconds = seconds_since(start);
  const double log_det = t.log_abs_det();
  const std::string method(io::whitening_name(t.method));
  std::string text = fmt::format("wrote {}: {} patches x {} values (float64): {}x{} patches of {} ({} images {}x{})",
                                 o.out, y.rows(), y.cols(), pc.size, pc.size, o.images, images.pixels.rows(),
                                 images.height, images.width);
  text += fmt::format("\n  preprocessing    {}{}{}", t.remove_dc ? "DC removed, " : "",
                      t.method == io::Whitening::none ? "no whitening" : method + " whitening",
                      fit ? " (fitted here)" : fmt::format(" (from {})", o.transform));
  if (t.method != io::Whitening::none) {
    text += fmt::format("\n  components       {} of {} (eigenvalues {:.4g} .. {:.4g})", t.eigenvalues.size(), d,
                        t.eigenvalues(0), t.eigenvalues(t.eigenvalues.size() - 1));
    text += fmt::format("\n  log|det|         {:.6f} (add it to a log density of these data for pixel units)", log_det);
  }
  if (!o.transform_out.empty()) text += fmt::format("\n  transform        written to {}", o.transform_out);
  text += fmt::format("\n  seconds          {:.2f}", seconds);
  summary(o.common, text);
  if (o.common.json)
    print_json({{"out", o.out},
                {"images", o.images},
                {"image_shape", {images.height, images.width}},
                {"num_images", images.pixels.rows()},
                {"size", pc.size},
                {"count", pc.count},
                {"seed", pc.seed},
                {"dequantize", pc.dequantize},
                {"min_std", pc.min_std},
                {"whiten", method},
                {"remove_dc", t.remove_dc},
                {"columns", y.cols()},
                {"components", t.method == io::Whitening::none ? nlohmann::json(nullptr)
                                                                : nlohmann::json(t.eigenvalues.size())},
                {"log_abs_det", log_det},
                {"transform", fit ? nlohmann::json(nullptr) : nlohmann::json(o.transform)},
                {"transform_out", o.transform_out.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.transform_out)},
                {"seconds", seconds}});
  return 0;
}

}  // namespace

void add_patches(CLI::App& app, Action& action) {
  auto o = std::make_shared<PatchesOptions>();
  CLI::App* sub = app.add_subcommand("patches", "Cut whitened square patches from images: continuous training data");
  sub->footer(
      "Cuts --count patches of --size x --size pixels at random positions of the --images\n"
      "(pixels scaled to [0, 1]), removes each patch's mean (its DC component; --keep-dc\n"
      "keeps it) and whitens them: pca projects onto the top --components principal\n"
      "directions scaled to unit variance (default size*size - 1: the DC direction has no\n"
      "variance left), zca rotates that back into pixel space, none only removes the DC.\n"
      "Eigenvalues below --floor times the largest are raised to it. Patch i comes from the\n"
      "random stream (seed, i) alone, so the file is the same for any --threads.\n\n"
      "Fit the transform on training patches and save it with --transform-out; give it to\n"
      "--transform to put test patches through exactly the same map. log|det| of the map\n"
      "(= -1/2 sum of log eigenvalues) converts a log density of whitened data into one of\n"
      "the DC-removed patches in pixel units: add it.\n\n"
      "--images: fashion-mnist:train, fashion-mnist:test, or a .npy of images [N, H, W]\n"
      "(or [N, H*W] with --shape HxW); integer pixels 0..255 are divided by 255, float pixels\n"
      "must lie in [0, 1]. --dequantize adds uniform noise to 8-bit pixels k: (k + u)/256,\n"
      "so that the data have a density; --min-std redraws nearly flat patches.\n\n"
      "Examples:\n"
      "  logz patches --images fashion-mnist:train --size 8 --count 50000 --seed 1 --whiten pca \\\n"
      "      --components 63 --out train.npy --transform-out whitening.npz\n"
      "  logz patches --images fashion-mnist:test --size 8 --count 10000 --seed 2 \\\n"
      "      --transform whitening.npz --out test.npy");
  sub->add_option("--images", o->images, "Images: fashion-mnist:train|test or a .npy [N, H, W] / [N, H*W]")
      ->required()
      ->type_name("SPEC");
  sub->add_option("--shape", o->shape, "Image height x width for flattened .npy images, e.g. 28x28")->type_name("HxW");
  sub->add_option("--out", o->out, "Patches file to write (.npy float64, one patch per row)")
      ->required()
      ->type_name("PATH");
  sub->add_option("--size", o->size, "Patch side in pixels")->capture_default_str()->type_name("N");
  sub->add_option("--count", o->count, "Number of patches")->capture_default_str()->type_name("N");
  sub->add_option("--seed", o->seed, "Random seed; patch i uses the stream (seed, i)")->capture_default_str()->type_name("N");
  auto* whiten = sub->add_option("--whiten", o->whiten, "Whitening: pca, zca or none")->capture_default_str()->type_name("NAME");
  auto* components = sub->add_option("--components", o->components,
                                     "Principal components kept; 0 = all with variance (size*size - 1 with the DC removed)")
                         ->capture_default_str()
                         ->type_name("K");
  auto* floor = sub->add_option("--floor", o->floor, "Eigenvalue floor, relative to the largest eigenvalue")
                    ->capture_default_str()
                    ->type_name("X");
  auto* keep_dc = sub->add_flag("--keep-dc", o->keep_dc, "Keep each patch's mean (no DC removal)");
  sub->add_flag("--dequantize", o->dequantize, "Add uniform noise to 8-bit pixels k: (k + u) / 256, u ~ U(0, 1)");
  sub->add_option("--min-std", o->min_std, "Redraw patches whose pixel standard deviation is below this")
      ->capture_default_str()
      ->type_name("X");
  auto* transform = sub->add_option("--transform", o->transform, "Apply this saved whitening transform (.npz) instead of fitting one")
                        ->type_name("PATH");
  auto* transform_out = sub->add_option("--transform-out", o->transform_out, "Write the fitted whitening transform here (.npz)")
                            ->type_name("PATH");
  transform->excludes(whiten)->excludes(components)->excludes(floor)->excludes(keep_dc)->excludes(transform_out);
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_patches);
}

}  // namespace logz::cli
