// Image patches and their whitening (see patches.hpp): loading grey-level images,
// cutting patches on per-patch streams, PCA / ZCA whitening fitted once and stored.
#include "logz/io/patches.hpp"

#include <Eigen/Eigenvalues>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "logz/core/check.hpp"
#include "logz/core/memory.hpp"
#include "logz/core/rng.hpp"
#include "logz/io/dataset.hpp"
#include "logz/io/idx.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/npz.hpp"

namespace logz::io {
namespace {

constexpr std::string_view kImageForms =
    "expected fashion-mnist:train, fashion-mnist:test or a .npy file of images [N, H, W] (or [N, H*W] with a shape)";

Array read_fashion_mnist(std::string_view split) {
  const std::string file = split == "train" ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz";
  const std::string path = fashion_mnist_dir() + "/" + file;
  try {
    return read_idx(path);
  } catch (const Error& e) {
    if (e.code() != Exit::no_input) throw;
    throw Error(Exit::no_input, fmt::format("{} (install the Fashion-MNIST files with `apt-get install "
                                            "dataset-fashion-mnist`, or set LOGZ_FASHION_MNIST_DIR)",
                                            e.what()));
  }
}

// Converts every value to [0, 1]: integers 0..255 divided by 255, floats taken as they
// are. A bad value is reported by image, row and column.
Images to_images(const Array& a, const std::string& spec, std::size_t h, std::size_t w) {
  Images im;
  im.height = h;
  im.width = w;
  const std::size_t n = a.shape[0], hw = h * w;
  check_data(n > 0, "{}: has no images", spec);
  im.eight_bit = a.dtype == DType::u8 || a.dtype == DType::i32 || a.dtype == DType::i64;
  im.pixels.resize(Eigen::Index(n), Eigen::Index(hw));
  double* out = im.pixels.data();
  for (std::size_t i = 0; i < n * hw; ++i) {
    const double v = a.at(i);
    const std::size_t img = i / hw, r = (i % hw) / w, c = i % w;
    if (im.eight_bit) {
      check_data(v >= 0 && v <= 255 && v == std::floor(v),
                 "{}: image {}, row {}, column {} (0-based) is {}; integer pixels must be 0..255", spec, img, r, c, v);
      out[i] = v / 255.0;
    } else {
      check_data(std::isfinite(v), "{}: image {}, row {}, column {} (0-based) is {}; pixels must be finite", spec, img, r,
                 c, v);
      check_data(v >= 0 && v <= 1, "{}: image {}, row {}, column {} (0-based) is {}; float pixels must lie in [0, 1]",
                 spec, img, r, c, v);
      out[i] = v;
    }
  }
  return im;
}

void check_finite(const MatrixD& x, std::string_view who, std::string_view what) {
  const Eigen::Index cols = x.cols();
  const double* p = x.data();
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (!std::isfinite(p[i])) [[unlikely]]
      fail(Exit::data, "{}: {} entry at row {}, column {} (0-based) is {}; patches must be finite", who, what, i / cols,
           i % cols, p[i]);
}

// Rows minus their own means (the DC component of each patch).
MatrixD without_dc(const MatrixD& x) {
  MatrixD y = x;
  for (Eigen::Index i = 0; i < y.rows(); ++i) {
    const double m = y.row(i).sum() / double(y.cols());
    y.row(i).array() -= m;
  }
  return y;
}

std::string bytes_to_string(const Array& a) {
  std::string s;
  for (std::size_t i = 0; i < a.size(); ++i) s.push_back(char(std::uint8_t(a.bytes[i])));
  return s;
}

Array string_array(std::string_view s) {
  std::vector<std::uint8_t> v(s.begin(), s.end());
  return Array::from_values<std::uint8_t>({v.size()}, v);
}

}  // namespace

Images load_images(const std::string& spec, const std::optional<std::pair<std::size_t, std::size_t>>& shape) {
  check_arg(!spec.empty(), "load_images: the images argument is empty; {}", kImageForms);
  if (shape) check_arg(shape->first > 0 && shape->second > 0, "load_images: shape must be positive, got {}x{}", shape->first,
                       shape->second);
  Array a;
  if (spec == "fashion-mnist:train" || spec == "fashion-mnist:test") {
    a = read_fashion_mnist(spec.substr(spec.find(':') + 1));
    check_data(a.ndim() == 3 && a.shape[1] == 28 && a.shape[2] == 28,
               "{}: expected Fashion-MNIST images of shape (N, 28, 28), got {}", spec, a.shape_string());
  } else if (spec.size() > 4 && spec.ends_with(".npy")) {
    a = read_npy(spec);
  } else {
    fail(Exit::usage, "{}: unknown images argument; {}", spec, kImageForms);
  }
  if (a.ndim() == 3) {
    check_data(!shape || (shape->first == a.shape[1] && shape->second == a.shape[2]),
               "{}: images have shape {}x{} but the shape given is {}x{}", spec, a.shape[1], a.shape[2], shape->first,
               shape->second);
    check_data(a.shape[1] > 0 && a.shape[2] > 0, "{}: images of shape {} are empty", spec, a.shape_string());
    return to_images(a, spec, a.shape[1], a.shape[2]);
  }
  check_data(a.ndim() == 2, "{}: expected images of shape (N, H, W) or (N, H*W), got {}", spec, a.shape_string());
  check_data(shape.has_value(), "{}: images of shape {} are flattened; give their height and width (a shape H x W)", spec,
             a.shape_string());
  check_data(shape->first * shape->second == a.shape[1], "{}: rows of {} pixels cannot be {}x{} images", spec, a.shape[1],
             shape->first, shape->second);
  return to_images(a, spec, shape->first, shape->second);
}

void PatchConfig::validate() const {
  check_arg(size >= 1, "PatchConfig: size must be at least 1, got {}", size);
  check_arg(count >= 1, "PatchConfig: count must be at least 1, got {}", count);
  check_arg(std::isfinite(min_std) && min_std >= 0, "PatchConfig: min_std must be a non-negative number, got {}", min_std);
  check_arg(max_tries >= 1, "PatchConfig: max_tries must be at least 1, got {}", max_tries);
}

MatrixD extract_patches(const Images& images, const PatchConfig& c, const Exec& ex) {
  c.validate();
  const std::size_t s = c.size, h = images.height, w = images.width, n = std::size_t(images.pixels.rows());
  check_arg(n > 0 && std::size_t(images.pixels.cols()) == h * w,
            "extract_patches: images hold {} rows of {} pixels, expected at least one row of {}x{}", n,
            images.pixels.cols(), h, w);
  check_arg(s <= h && s <= w, "extract_patches: patch size {} is larger than the {}x{} images", s, h, w);
  check_arg(!c.dequantize || images.eight_bit, "extract_patches: dequantize needs 8-bit images (integer pixels 0..255)");
  // The patches, and the whitening's copy of them, before either is made.
  check_memory_for({c.count, s, s, 2 * sizeof(double)}, fmt::format("patches: {} patches of {}x{}", c.count, s, s));
  MatrixD out(Eigen::Index(c.count), Eigen::Index(s * s));
  const Blocks blocks = row_blocks(c.count);
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    for (std::size_t i = blocks.begin(t); i < blocks.end(t); ++i) {
      Stream rng = Stream::derive(c.seed, Purpose::data, i);
      auto patch = out.row(Eigen::Index(i));
      bool accepted = false;
      for (std::size_t attempt = 0; attempt < c.max_tries && !accepted; ++attempt) {
        const std::size_t img = rng.below(n), top = rng.below(h - s + 1), left = rng.below(w - s + 1);
        for (std::size_t r = 0; r < s; ++r)
          for (std::size_t q = 0; q < s; ++q)
            patch[Eigen::Index(r * s + q)] = images.pixels(Eigen::Index(img), Eigen::Index((top + r) * w + left + q));
        if (c.dequantize)
          for (Eigen::Index k = 0; k < patch.size(); ++k) patch[k] = (255.0 * patch[k] + rng.uniform_double()) / 256.0;
        if (c.min_std == 0) {
          accepted = true;
        } else {
          const double mean = patch.mean();
          accepted = std::sqrt((patch.array() - mean).square().mean()) >= c.min_std;
        }
      }
      check_data(accepted,
                 "extract_patches: patch {} found no position with standard deviation >= {} in {} draws; lower min_std",
                 i, c.min_std, c.max_tries);
    }
  });
  return out;
}

std::string_view whitening_name(Whitening w) {
  switch (w) {
    case Whitening::none: return "none";
    case Whitening::pca: return "pca";
    case Whitening::zca: return "zca";
  }
  return "?";
}

Whitening parse_whitening(std::string_view name) {
  if (name == "none") return Whitening::none;
  if (name == "pca") return Whitening::pca;
  if (name == "zca") return Whitening::zca;
  fail(Exit::usage, "unknown whitening '{}'; expected pca, zca or none", name);
}

std::size_t WhiteningTransform::output_dimension() const {
  return method == Whitening::pca ? std::size_t(eigenvalues.size()) : input_dimension;
}

double WhiteningTransform::log_abs_det() const {
  return method == Whitening::none ? 0.0 : -0.5 * eigenvalues.array().log().sum();
}

WhiteningTransform fit_whitening(const MatrixD& patches, const WhiteningConfig& c) {
  constexpr std::string_view who = "fit_whitening";
  const auto d = std::size_t(patches.cols());
  check_data(patches.rows() >= 2 && d >= 1, "fit_whitening: need at least 2 patches of at least 1 value, got {}x{}",
             patches.rows(), patches.cols());
  check_arg(std::isfinite(c.eigenvalue_floor) && c.eigenvalue_floor >= 0 && c.eigenvalue_floor < 1,
            "fit_whitening: eigenvalue_floor must be in [0, 1), got {}", c.eigenvalue_floor);
  const std::size_t max_k = c.remove_dc ? d - 1 : d;
  check_arg(c.method == Whitening::none || max_k >= 1,
            "fit_whitening: patches of 1 value have no variance left once their mean is removed");
  check_arg(c.method == Whitening::none || c.components <= max_k,
            "fit_whitening: components must be at most {} ({} values per patch{}), got {}", max_k, d,
            c.remove_dc ? " less the DC component" : "", c.components);
  check_finite(patches, who, "patch");

  WhiteningTransform t;
  t.method = c.method;
  t.remove_dc = c.remove_dc;
  t.input_dimension = d;
  if (c.method == Whitening::none) return t;

  MatrixD x = c.remove_dc ? without_dc(patches) : patches;
  t.mean = x.colwise().mean().transpose();
  x.rowwise() -= t.mean.transpose();
  const MatrixD cov = (x.transpose() * x) / double(x.rows() - 1);
  const double total = cov.trace();
  check_data(total > 0,
             "fit_whitening: the patches have zero variance{} (every patch is flat); whitening is undefined",
             c.remove_dc ? " once their means are removed" : "");
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  check_data(eig.info() == Eigen::Success, "fit_whitening: the eigendecomposition of the covariance did not converge");
  const std::size_t k = c.components == 0 ? max_k : c.components;
  const double lmax = eig.eigenvalues()(Eigen::Index(d) - 1);
  t.eigenvalues.resize(Eigen::Index(k));
  t.components.resize(Eigen::Index(k), Eigen::Index(d));
  for (std::size_t i = 0; i < k; ++i) {  // Eigen sorts ascending; keep the top k, descending
    const Eigen::Index src = Eigen::Index(d - 1 - i);
    const double lambda = std::max(eig.eigenvalues()(src), c.eigenvalue_floor * lmax);
    check_data(lambda > 0,
               "fit_whitening: component {} has variance {} (not > 0); keep fewer components or set a floor", i,
               eig.eigenvalues()(src));
    t.eigenvalues(Eigen::Index(i)) = lambda;
    VectorD u = eig.eigenvectors().col(src);
    // A fixed sign (largest entry positive) so that the same data give the same file.
    Eigen::Index arg = 0;
    u.cwiseAbs().maxCoeff(&arg);
    if (u(arg) < 0) u = -u;
    t.components.row(Eigen::Index(i)) = u.transpose();
  }
  return t;
}

MatrixD apply_whitening(const WhiteningTransform& t, const MatrixD& patches, const Exec& ex) {
  check_data(std::size_t(patches.cols()) == t.input_dimension,
             "apply_whitening: patches have {} values but the transform expects {}", patches.cols(), t.input_dimension);
  check_finite(patches, "apply_whitening", "patch");
  const MatrixD x = t.remove_dc ? without_dc(patches) : patches;
  if (t.method == Whitening::none) return x;
  // y = A (x − m) with A = diag(λ^-1/2) U_kᵀ (pca) or U_k diag(λ^-1/2) U_kᵀ (zca).
  MatrixD a = t.eigenvalues.array().rsqrt().matrix().asDiagonal() * t.components;
  if (t.method == Whitening::zca) a = (t.components.transpose() * a).eval();
  MatrixD y(patches.rows(), a.rows());
  const Blocks blocks = row_blocks(std::size_t(patches.rows()));
  parallel_for(ex, blocks.count(), [&](std::size_t b) {
    const auto r0 = Eigen::Index(blocks.begin(b)), nr = Eigen::Index(blocks.size(b));
    y.middleRows(r0, nr).noalias() = (x.middleRows(r0, nr).rowwise() - t.mean.transpose()) * a.transpose();
  });
  return y;
}

void save_whitening(const std::string& path, const WhiteningTransform& t) {
  NamedArrays arrays;
  arrays.emplace_back("whitening", string_array(whitening_name(t.method)));
  arrays.emplace_back("remove_dc", Array::from_values<std::uint8_t>({}, {std::uint8_t(t.remove_dc ? 1 : 0)}));
  arrays.emplace_back("input_dimension", Array::from_values<std::int64_t>({}, {std::int64_t(t.input_dimension)}));
  arrays.emplace_back("mean", Array::from_vector<double>(t.mean));
  arrays.emplace_back("components", Array::from_matrix<double>(t.components));
  arrays.emplace_back("eigenvalues", Array::from_vector<double>(t.eigenvalues));
  arrays.emplace_back("log_abs_det", Array::from_values<double>({}, {t.log_abs_det()}));
  write_npz(path, arrays);
}

WhiteningTransform load_whitening(const std::string& path) {
  auto arrays = read_npz(path);
  auto take = [&](const char* name) -> const Array& {
    auto it = arrays.find(name);
    check_data(it != arrays.end(), "{}: not a whitening transform file: array '{}' is missing", path, name);
    return it->second;
  };
  auto scalar = [&](const char* name) {
    const Array& a = take(name);
    check_data(a.size() == 1, "{}: array '{}' has shape {}; expected a scalar", path, name, a.shape_string());
    return a.at(0);
  };
  auto floats = [&](const char* name, std::size_t ndim) -> const Array& {
    const Array& a = take(name);
    check_data(a.dtype == DType::f32 || a.dtype == DType::f64, "{}: array '{}' has dtype {}; expected float32 or float64",
               path, name, dtype_name(a.dtype));
    check_data(a.ndim() == ndim, "{}: array '{}' has shape {}; expected {} dimension{}", path, name, a.shape_string(),
               ndim, ndim == 1 ? "" : "s");
    for (std::size_t i = 0; i < a.size(); ++i)
      check_data(std::isfinite(a.at(i)), "{}: array '{}' entry {} is {}; expected a finite number", path, name, i,
                 a.at(i));
    return a;
  };
  WhiteningTransform t;
  const Array& method = take("whitening");
  check_data(method.dtype == DType::u8 && method.ndim() == 1, "{}: array 'whitening' must hold the name bytes (uint8)",
             path);
  const std::string name = bytes_to_string(method);
  check_data(name == "none" || name == "pca" || name == "zca",
             "{}: array 'whitening' is '{}'; expected pca, zca or none", path, name);
  t.method = parse_whitening(name);
  const double dc = scalar("remove_dc");
  check_data(dc == 0 || dc == 1, "{}: array 'remove_dc' is {}; expected 0 or 1", path, dc);
  t.remove_dc = dc == 1;
  const double d = scalar("input_dimension");
  check_data(d >= 1 && d == std::floor(d) && d < 1e9, "{}: array 'input_dimension' is {}; expected a positive integer",
             path, d);
  t.input_dimension = std::size_t(d);
  if (t.method == Whitening::none) return t;
  t.mean = floats("mean", 1).to_column<double>("mean");
  t.components = floats("components", 2).to_matrix<double>("components");
  t.eigenvalues = floats("eigenvalues", 1).to_column<double>("eigenvalues");
  const auto k = t.eigenvalues.size();
  check_data(std::size_t(t.mean.size()) == t.input_dimension, "{}: array 'mean' has {} entries; expected {}", path,
             t.mean.size(), t.input_dimension);
  check_data(k >= 1 && std::size_t(k) <= t.input_dimension, "{}: array 'eigenvalues' has {} entries; expected 1 to {}",
             path, k, t.input_dimension);
  check_data(t.components.rows() == k && std::size_t(t.components.cols()) == t.input_dimension,
             "{}: array 'components' has shape ({}, {}); expected ({}, {})", path, t.components.rows(),
             t.components.cols(), k, t.input_dimension);
  for (Eigen::Index i = 0; i < k; ++i) {
    check_data(t.eigenvalues(i) > 0, "{}: eigenvalues[{}] = {} is not > 0", path, i, t.eigenvalues(i));
    check_data(i == 0 || t.eigenvalues(i) <= t.eigenvalues(i - 1), "{}: eigenvalues are not in descending order at {}",
               path, i);
  }
  return t;
}

}  // namespace logz::io
