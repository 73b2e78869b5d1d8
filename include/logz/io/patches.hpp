#pragma once
/// @file patches.hpp
/// Image patches as continuous data (docs/file-formats.md, `logz patches`): square s×s
/// patches cut at random positions of grey-level images, each patch's mean (its DC
/// component) removed, then whitened by PCA or ZCA — the preprocessing of natural-image
/// models such as Hyvärinen's (2005) score-matching ICA and the products of Student-t
/// experts (Welling, Hinton & Osindero 2003).
///
/// The whitening transform is fitted on one set of patches and stored, so that a test
/// set goes through exactly the same map. With C the covariance of the DC-removed
/// training patches, C = U diag(λ) Uᵀ (λ descending), and U_k, λ_k its top k pairs,
///   pca: y = diag(λ_k)^(-1/2) U_kᵀ (x − m)          (k numbers per patch)
///   zca: y = U_k diag(λ_k)^(-1/2) U_kᵀ (x − m)      (s² numbers per patch, rank k)
/// Both have covariance I on their k-dimensional image. A density p_y of whitened data
/// gives the density of the (DC-removed) patches on that k-dimensional subspace, in
/// pixel units, as log p_x(x) = log p_y(y) + log|det|, log|det| = −½ Σ_{i<k} log λ_i.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"

namespace logz::io {

/// Grey-level images, one per row, each row the image in row-major order, values in [0, 1].
struct Images {
  MatrixD pixels;              ///< [N, height·width]
  std::size_t height = 0, width = 0;
  /// Whether the values are k/255 for integers k (8-bit images): dequantisation applies.
  bool eight_bit = false;
};

/// Loads images:
///  - "fashion-mnist:train" / "fashion-mnist:test": 28×28, pixel/255;
///  - "<path>.npy" of shape [N, H, W], or [N, H·W] with `shape` = (H, W): integer dtypes
///    must hold 0..255 and are divided by 255; float dtypes must lie in [0, 1].
/// Errors (Exit::data, naming image, row and column): a value out of range or not finite,
/// a shape that disagrees with `shape`, a 2-D array without `shape`, no images. A
/// missing file: Exit::no_input. An unknown spec or a bad `shape`: Exit::usage.
Images load_images(const std::string& spec,
                   const std::optional<std::pair<std::size_t, std::size_t>>& shape = std::nullopt);

struct PatchConfig {
  std::size_t size = 8;     ///< s: patches are s×s
  std::size_t count = 10000;
  std::uint64_t seed = 1;
  /// Add uniform noise to 8-bit pixels, x = (k + u)/256 for the value k and u ~ U(0, 1),
  /// so that the data have a density (Theis, van den Oord & Bethge 2016). 8-bit images only.
  bool dequantize = false;
  /// Patches whose standard deviation (over their s² pixels, after dequantisation) is
  /// below this are redrawn from the same stream: flat background patches are a point
  /// mass after DC removal. 0 keeps every patch.
  double min_std = 0;
  /// Redraws allowed per patch before giving up (Error(Exit::data)).
  std::size_t max_tries = 1000;

  /// Throws Error(Exit::usage) naming the field: size or count 0, min_std negative or
  /// not finite, max_tries 0.
  void validate() const;
};

/// `count` patches, one per row (s² values, row-major within the patch). Patch i is cut
/// from the stream Stream::derive(seed, Purpose::data, i) alone — image index, then top
/// row, then left column (then s² uniforms if dequantising; repeated on a redraw) — so
/// the result does not depend on the thread count. Errors: config (Exit::usage); a
/// patch larger than the images (Exit::usage); no patch of i found with std >= min_std in
/// max_tries draws (Exit::data).
MatrixD extract_patches(const Images& images, const PatchConfig& config, const Exec& ex = Exec(1));

enum class Whitening { none, pca, zca };

/// "none", "pca", "zca".
std::string_view whitening_name(Whitening w);
/// Parses a whitening name; Error(Exit::usage) listing the accepted names otherwise.
Whitening parse_whitening(std::string_view name);

struct WhiteningConfig {
  Whitening method = Whitening::pca;
  bool remove_dc = true;         ///< subtract each patch's own mean first
  /// Components kept; 0 = all that carry variance: d − 1 with the DC removed, else d.
  std::size_t components = 0;
  /// Eigenvalues below floor · λ_max are raised to it before the map is built, so that
  /// a nearly flat direction is not blown up by rounding noise (it also enters log|det|).
  double eigenvalue_floor = 1e-6;
};

/// The fitted map (see the file comment). For Whitening::none only the DC removal (if
/// any) applies and the other members are empty.
struct WhiteningTransform {
  Whitening method = Whitening::pca;
  bool remove_dc = true;
  VectorD mean;         ///< m [d]: mean of the DC-removed training patches
  MatrixD components;   ///< U_kᵀ [k, d]: principal directions, one per row
  VectorD eigenvalues;  ///< λ_k [k], descending, after the floor
  std::size_t input_dimension = 0;  ///< d = s²

  std::size_t output_dimension() const;  ///< k for pca, d for zca and none
  /// −½ Σ log λ_i (0 for none): add it to a log density of whitened data.
  double log_abs_det() const;
};

/// Fits the transform on patches (one per row). Errors: fewer than 2 rows, a non-finite
/// entry (naming row and column), zero total variance after DC removal (Exit::data); too
/// many components for d (and the DC removal), a negative or non-finite floor (Exit::usage).
WhiteningTransform fit_whitening(const MatrixD& patches, const WhiteningConfig& config);

/// The transform applied to each row. Errors: a column count other than d, a non-finite
/// entry (Exit::data).
MatrixD apply_whitening(const WhiteningTransform& t, const MatrixD& patches, const Exec& ex = Exec(1));

/// An .npz with `whitening` (uint8 name bytes), `remove_dc` (uint8 0/1), `input_dimension`
/// (int64), `mean` [d], `components` [k, d], `eigenvalues` [k] (float64) and `log_abs_det`
/// (float64 scalar, informative), written atomically.
void save_whitening(const std::string& path, const WhiteningTransform& t);
/// Loads and checks such a file (shapes, finiteness, eigenvalues > 0, descending).
/// Missing file: Exit::no_input; anything malformed: Exit::data naming the array.
WhiteningTransform load_whitening(const std::string& path);

}  // namespace logz::io
