// Tests of io/patches: image loading (scaling and every rejected input), patch positions
// against their per-patch streams, thread independence, dequantisation and the
// flat-patch redraw, and the whitening algebra (identity covariance, DC invariance,
// log|det| against an independently computed covariance), its file round trip and errors.
#include "logz/io/patches.hpp"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>

#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>

#include "logz/core/check.hpp"
#include "logz/core/rng.hpp"
#include "logz/io/dataset.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/npz.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

namespace logz {
namespace {

using test::expect_error;

/// N images of h×w with every pixel value distinct within an image (so that a patch
/// tells its position), as uint8 0..255.
io::Array distinct_images(std::size_t n, std::size_t h, std::size_t w) {
  std::vector<std::uint8_t> v(n * h * w);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::uint8_t((i * 7 + i / (h * w) * 3) % 256);
  return io::Array::from_values<std::uint8_t>({n, h, w}, v);
}

/// Correlated smooth "images" in [0, 1]: a random plane plus noise, varied per image.
io::Images smooth_images(std::size_t n, std::size_t h, std::size_t w, std::uint64_t seed) {
  io::Images im;
  im.height = h;
  im.width = w;
  im.pixels.resize(Eigen::Index(n), Eigen::Index(h * w));
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const double a = rng.uniform_double(), b = rng.uniform_double() - 0.5, c = rng.uniform_double() - 0.5;
    for (std::size_t r = 0; r < h; ++r)
      for (std::size_t q = 0; q < w; ++q) {
        const double v = a + 0.05 * (b * double(r) + c * double(q)) + 0.1 * (rng.uniform_double() - 0.5);
        im.pixels(Eigen::Index(i), Eigen::Index(r * w + q)) = std::clamp(v, 0.0, 1.0);
      }
  }
  return im;
}

class Patches : public ::testing::Test {
 protected:
  test::TempDir tmp;
};

// ------------------------------------------------------------------ loading images

TEST_F(Patches, LoadsThreeDimensionalUint8ImagesDividedBy255) {
  const std::string p = tmp.file("im.npy");
  io::write_npy(p, distinct_images(3, 5, 4));
  const io::Images im = io::load_images(p);
  EXPECT_EQ(im.height, 5u);
  EXPECT_EQ(im.width, 4u);
  EXPECT_TRUE(im.eight_bit);
  ASSERT_EQ(im.pixels.rows(), 3);
  ASSERT_EQ(im.pixels.cols(), 20);
  const io::Array a = distinct_images(3, 5, 4);
  for (std::size_t i = 0; i < 60; ++i) EXPECT_EQ(im.pixels.data()[i], a.at(i) / 255.0);
  // The same images flattened, with their shape.
  io::Array flat = a;
  flat.shape = {3, 20};
  io::write_npy(p, flat);
  EXPECT_EQ(io::load_images(p, std::pair<std::size_t, std::size_t>{5, 4}).pixels, im.pixels);
}

TEST_F(Patches, LoadsFloatImagesAsTheyAre) {
  const std::string p = tmp.file("im.npy");
  io::write_npy(p, io::Array::from_values<float>({1, 2, 2}, {0.f, 0.25f, 0.5f, 1.f}));
  const io::Images im = io::load_images(p);
  EXPECT_FALSE(im.eight_bit);
  EXPECT_EQ(im.pixels(0, 1), 0.25);
  EXPECT_EQ(im.pixels(0, 3), 1.0);
}

TEST_F(Patches, RejectsBadImages) {
  const std::string p = tmp.file("im.npy");
  io::write_npy(p, io::Array::from_values<float>({1, 2, 2}, {0.f, 0.25f, std::nanf(""), 1.f}));
  expect_error([&] { io::load_images(p); }, Exit::data,
               p + ": image 0, row 1, column 0 (0-based) is nan; pixels must be finite");
  io::write_npy(p, io::Array::from_values<double>({2, 1, 2}, {0, 0.5, 0.5, 1.5}));
  expect_error([&] { io::load_images(p); }, Exit::data,
               p + ": image 1, row 0, column 1 (0-based) is 1.5; float pixels must lie in [0, 1]");
  io::write_npy(p, io::Array::from_values<std::int32_t>({1, 1, 3}, {0, 256, 3}));
  expect_error([&] { io::load_images(p); }, Exit::data,
               p + ": image 0, row 0, column 1 (0-based) is 256; integer pixels must be 0..255");
  io::write_npy(p, io::Array::from_values<std::uint8_t>({2, 6}, std::vector<std::uint8_t>(12, 1)));
  expect_error([&] { io::load_images(p); }, Exit::data,
               p + ": images of shape (2, 6) are flattened; give their height and width (a shape H x W)");
  expect_error([&] { io::load_images(p, std::pair<std::size_t, std::size_t>{4, 2}); }, Exit::data,
               p + ": rows of 6 pixels cannot be 4x2 images");
  io::write_npy(p, io::Array::from_values<std::uint8_t>({2, 2, 3}, std::vector<std::uint8_t>(12, 1)));
  expect_error([&] { io::load_images(p, std::pair<std::size_t, std::size_t>{3, 2}); }, Exit::data,
               p + ": images have shape 2x3 but the shape given is 3x2");
  io::write_npy(p, io::Array::from_values<std::uint8_t>({0, 2, 3}, {}));
  expect_error([&] { io::load_images(p); }, Exit::data, p + ": has no images");
  io::write_npy(p, io::Array::from_values<std::uint8_t>({4}, {1, 2, 3, 4}));
  expect_error([&] { io::load_images(p); }, Exit::data,
               p + ": expected images of shape (N, H, W) or (N, H*W), got (4,)");
  expect_error([&] { io::load_images("cats.png"); }, Exit::usage,
               "cats.png: unknown images argument; expected fashion-mnist:train, fashion-mnist:test or a .npy file of "
               "images [N, H, W] (or [N, H*W] with a shape)");
  const std::string missing = tmp.file("missing.npy");
  try {
    io::load_images(missing);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::no_input);
  }
}

// ------------------------------------------------------------------ extraction

TEST_F(Patches, EachPatchIsTheWindowItsOwnStreamPicks) {
  const std::string p = tmp.file("im.npy");
  io::write_npy(p, distinct_images(4, 7, 9));
  const io::Images im = io::load_images(p);
  io::PatchConfig c;
  c.size = 3;
  c.count = 200;
  c.seed = 11;
  const MatrixD x = io::extract_patches(im, c);
  ASSERT_EQ(x.rows(), 200);
  ASSERT_EQ(x.cols(), 9);
  std::vector<int> image_hits(4, 0);
  for (std::size_t i = 0; i < c.count; ++i) {
    Stream rng = Stream::derive(11, Purpose::data, i);
    const std::size_t img = rng.below(4), top = rng.below(5), left = rng.below(7);
    ++image_hits[img];
    for (std::size_t r = 0; r < 3; ++r)
      for (std::size_t q = 0; q < 3; ++q)
        ASSERT_EQ(x(Eigen::Index(i), Eigen::Index(r * 3 + q)),
                  im.pixels(Eigen::Index(img), Eigen::Index((top + r) * 9 + left + q)))
            << "patch " << i;
  }
  for (int h : image_hits) EXPECT_GT(h, 0);  // every image is used (P(miss) = 4 (3/4)^200 ~ 1e-24)
  // Patch i depends on (seed, i) only: fewer patches are a prefix, 2 threads give the same bits.
  c.count = 37;
  EXPECT_EQ(io::extract_patches(im, c), x.topRows(37));
  c.count = 200;
  EXPECT_EQ(io::extract_patches(im, c, Exec(2)), x);
  c.seed = 12;
  EXPECT_NE(io::extract_patches(im, c), x);
}

TEST_F(Patches, DequantisationStaysInThePixelsCell) {
  const std::string p = tmp.file("im.npy");
  io::write_npy(p, distinct_images(2, 6, 6));
  const io::Images im = io::load_images(p);
  io::PatchConfig c;
  c.size = 4;
  c.count = 50;
  c.seed = 3;
  const MatrixD plain = io::extract_patches(im, c);
  c.dequantize = true;
  const MatrixD noisy = io::extract_patches(im, c);
  // Same positions (drawn before the noise); x = (255 v + u)/256 with u in (0, 1).
  double mean_u = 0;
  for (Eigen::Index i = 0; i < noisy.size(); ++i) {
    const double k = std::round(255.0 * plain.data()[i]);
    const double u = 256.0 * noisy.data()[i] - k;
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    mean_u += u / double(noisy.size());
  }
  // 800 uniforms: mean 1/2, SE = sqrt(1/12/800) = 0.0102; 4.42 SE has false-failure rate 1e-5.
  EXPECT_NEAR(mean_u, 0.5, 4.42 * std::sqrt(1.0 / 12.0 / 800.0));
  io::Images floats = im;
  floats.eight_bit = false;
  expect_error([&] { io::extract_patches(floats, c); }, Exit::usage,
               "extract_patches: dequantize needs 8-bit images (integer pixels 0..255)");
}

TEST_F(Patches, FlatPatchesAreRedrawnFromTheSameStream) {
  // Image 0 is flat, image 1 is not: with min_std every patch comes from image 1.
  io::Images im;
  im.height = im.width = 4;
  im.pixels = MatrixD::Zero(2, 16);
  for (int k = 0; k < 16; ++k) im.pixels(1, k) = double(k) / 15.0;
  io::PatchConfig c;
  c.size = 2;
  c.count = 100;
  c.seed = 5;
  c.min_std = 1e-3;
  const MatrixD x = io::extract_patches(im, c);
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const double m = x.row(i).mean();
    EXPECT_GE(std::sqrt((x.row(i).array() - m).square().mean()), 1e-3) << i;
  }
  EXPECT_EQ(io::extract_patches(im, c, Exec(2)), x);
  // Without the redraw about half the patches are flat (a test that can fail).
  c.min_std = 0;
  const MatrixD all = io::extract_patches(im, c);
  int flat = 0;
  for (Eigen::Index i = 0; i < all.rows(); ++i) flat += all.row(i).isZero(0) ? 1 : 0;
  EXPECT_GT(flat, 20);  // Binomial(100, 1/2) > 20: false-failure rate < 1e-9
  im.pixels.row(1).setZero();
  c.min_std = 1e-3;
  c.max_tries = 5;
  expect_error([&] { io::extract_patches(im, c); }, Exit::data,
               "extract_patches: patch 0 found no position with standard deviation >= 0.001 in 5 draws; lower min_std");
}

TEST_F(Patches, ExtractionErrors) {
  const io::Images im = smooth_images(2, 5, 6, 1);
  io::PatchConfig c;
  c.size = 6;
  expect_error([&] { io::extract_patches(im, c); }, Exit::usage,
               "extract_patches: patch size 6 is larger than the 5x6 images");
  c.size = 0;
  expect_error([&] { io::extract_patches(im, c); }, Exit::usage, "PatchConfig: size must be at least 1, got 0");
  c.size = 2;
  c.count = 0;
  expect_error([&] { io::extract_patches(im, c); }, Exit::usage, "PatchConfig: count must be at least 1, got 0");
  c.count = 1;
  c.min_std = -1;
  expect_error([&] { io::extract_patches(im, c); }, Exit::usage,
               "PatchConfig: min_std must be a non-negative number, got -1");
}

// ------------------------------------------------------------------ whitening

/// The sample covariance (divisor n − 1) of the rows.
MatrixD covariance(const MatrixD& y) {
  const MatrixD c = y.rowwise() - y.colwise().mean();
  return c.transpose() * c / double(y.rows() - 1);
}

class Whitening : public Patches {
 protected:
  MatrixD train, test;
  void SetUp() override {
    const io::Images im = smooth_images(30, 12, 12, 7);
    io::PatchConfig c;
    c.size = 4;
    c.count = 2000;
    c.seed = 1;
    train = io::extract_patches(im, c);
    c.seed = 2;
    c.count = 300;
    test = io::extract_patches(im, c);
  }
};

TEST_F(Whitening, PcaGivesIdentityCovarianceOnTheTrainingSet) {
  io::WhiteningConfig wc;  // pca, DC removed, all 15 components
  const io::WhiteningTransform t = io::fit_whitening(train, wc);
  EXPECT_EQ(t.output_dimension(), 15u);
  EXPECT_EQ(t.input_dimension, 16u);
  const MatrixD y = io::apply_whitening(t, train);
  ASSERT_EQ(y.cols(), 15);
  EXPECT_LT(y.colwise().mean().cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_LT((covariance(y) - MatrixD::Identity(15, 15)).cwiseAbs().maxCoeff(), 1e-8);
  for (Eigen::Index i = 1; i < t.eigenvalues.size(); ++i) EXPECT_LE(t.eigenvalues(i), t.eigenvalues(i - 1));
  // Fewer components: the top ones, still white.
  wc.components = 5;
  const io::WhiteningTransform t5 = io::fit_whitening(train, wc);
  EXPECT_EQ(t5.eigenvalues, t.eigenvalues.head(5));
  EXPECT_LT((covariance(io::apply_whitening(t5, train)) - MatrixD::Identity(5, 5)).cwiseAbs().maxCoeff(), 1e-8);
}

TEST_F(Whitening, RemovingTheDcIgnoresEachPatchsBrightness) {
  const io::WhiteningTransform t = io::fit_whitening(train, {});
  MatrixD shifted = test;
  for (Eigen::Index i = 0; i < shifted.rows(); ++i) shifted.row(i).array() += 0.01 * double(i % 7);
  EXPECT_LT((io::apply_whitening(t, shifted) - io::apply_whitening(t, test)).cwiseAbs().maxCoeff(), 1e-9);
  io::WhiteningConfig keep;
  keep.remove_dc = false;
  const io::WhiteningTransform tk = io::fit_whitening(train, keep);
  EXPECT_EQ(tk.output_dimension(), 16u);
  EXPECT_GT((io::apply_whitening(tk, shifted) - io::apply_whitening(tk, test)).cwiseAbs().maxCoeff(), 1e-3);
}

TEST_F(Whitening, ZcaIsASymmetricMapWithIdentityCovarianceOnItsImage) {
  io::WhiteningConfig wc;
  wc.method = io::Whitening::zca;
  wc.remove_dc = false;  // full rank: covariance I in all 16 dimensions
  const io::WhiteningTransform t = io::fit_whitening(train, wc);
  const MatrixD y = io::apply_whitening(t, train);
  ASSERT_EQ(y.cols(), 16);
  EXPECT_LT((covariance(y) - MatrixD::Identity(16, 16)).cwiseAbs().maxCoeff(), 1e-8);
  // ZCA = C^(-1/2) is symmetric: the whitened unit vectors e_j, e_k agree by symmetry.
  MatrixD unit = MatrixD::Identity(16, 16).rowwise() + t.mean.transpose();
  const MatrixD a = io::apply_whitening(t, unit);  // row j = A e_j = column j of A
  EXPECT_LT((a - a.transpose()).cwiseAbs().maxCoeff(), 1e-9);
  // With the DC removed, the image is the 15 dimensions orthogonal to the constant patch.
  wc.remove_dc = true;
  const MatrixD yz = io::apply_whitening(io::fit_whitening(train, wc), train);
  const MatrixD projector = MatrixD::Identity(16, 16) - MatrixD::Constant(16, 16, 1.0 / 16);
  EXPECT_LT((covariance(yz) - projector).cwiseAbs().maxCoeff(), 1e-8);
}

TEST_F(Whitening, LogDetMatchesTheCovarianceOfTheKeptSubspace) {
  io::WhiteningConfig wc;
  wc.components = 9;
  wc.eigenvalue_floor = 0;
  const io::WhiteningTransform t = io::fit_whitening(train, wc);
  // Independently: the covariance of the DC-removed patches, restricted to the kept
  // directions, has log det Σ log λ; the map scales volumes there by det^(-1/2).
  MatrixD x = train;
  for (Eigen::Index i = 0; i < x.rows(); ++i) x.row(i).array() -= x.row(i).mean();
  const MatrixD restricted = t.components * covariance(x) * t.components.transpose();
  const double log_det = Eigen::LLT<MatrixD>(restricted).matrixL().toDenseMatrix().diagonal().array().log().sum() * 2;
  EXPECT_NEAR(t.log_abs_det(), -0.5 * log_det, 1e-9 * std::abs(log_det));
  // The wrong sign (a map from whitened to pixel units) is far off.
  EXPECT_GT(std::abs(t.log_abs_det() - 0.5 * log_det), 1.0);
  io::WhiteningTransform none;
  none.method = io::Whitening::none;
  EXPECT_EQ(none.log_abs_det(), 0.0);
}

TEST_F(Whitening, FloorRaisesTinyEigenvalues) {
  // Patch value 3 copies value 2: one direction with (rounding-level) zero variance.
  MatrixD x = train;
  x.col(3) = x.col(2);
  io::WhiteningConfig wc;
  wc.remove_dc = false;
  wc.eigenvalue_floor = 1e-4;
  const io::WhiteningTransform t = io::fit_whitening(x, wc);
  EXPECT_EQ(t.eigenvalues(15), 1e-4 * t.eigenvalues(0));
  EXPECT_TRUE(io::apply_whitening(t, x).allFinite());
}

TEST_F(Whitening, TransformFileRoundTripsBitForBit) {
  for (const auto method : {io::Whitening::pca, io::Whitening::zca, io::Whitening::none}) {
    io::WhiteningConfig wc;
    wc.method = method;
    wc.components = 7;
    const io::WhiteningTransform t = io::fit_whitening(train, wc);
    const std::string p = tmp.file("w.npz");
    io::save_whitening(p, t);
    const io::WhiteningTransform u = io::load_whitening(p);
    EXPECT_EQ(u.method, t.method);
    EXPECT_EQ(u.remove_dc, t.remove_dc);
    EXPECT_EQ(u.input_dimension, 16u);
    EXPECT_EQ(u.mean, t.mean);
    EXPECT_EQ(u.components, t.components);
    EXPECT_EQ(u.eigenvalues, t.eigenvalues);
    EXPECT_EQ(io::apply_whitening(u, test), io::apply_whitening(t, test));
    EXPECT_EQ(io::apply_whitening(t, test, Exec(2)), io::apply_whitening(t, test));
  }
}

TEST_F(Whitening, PinnedErrors) {
  MatrixD flat = MatrixD::Zero(10, 4);
  for (Eigen::Index i = 0; i < 10; ++i) flat.row(i).setConstant(0.1 * double(i));  // every patch constant
  expect_error([&] { io::fit_whitening(flat, {}); }, Exit::data,
               "fit_whitening: the patches have zero variance once their means are removed (every patch is flat); "
               "whitening is undefined");
  io::WhiteningConfig keep;
  keep.remove_dc = false;
  expect_error([&] { io::fit_whitening(MatrixD::Ones(10, 4), keep); }, Exit::data,
               "fit_whitening: the patches have zero variance (every patch is flat); whitening is undefined");
  MatrixD bad = train;
  bad(17, 3) = std::numeric_limits<double>::infinity();
  expect_error([&] { io::fit_whitening(bad, {}); }, Exit::data,
               "fit_whitening: patch entry at row 17, column 3 (0-based) is inf; patches must be finite");
  expect_error([&] { io::fit_whitening(train.topRows(1), {}); }, Exit::data,
               "fit_whitening: need at least 2 patches of at least 1 value, got 1x16");
  io::WhiteningConfig many;
  many.components = 16;
  expect_error([&] { io::fit_whitening(train, many); }, Exit::usage,
               "fit_whitening: components must be at most 15 (16 values per patch less the DC component), got 16");
  many.components = 0;
  many.eigenvalue_floor = -1;
  expect_error([&] { io::fit_whitening(train, many); }, Exit::usage,
               "fit_whitening: eigenvalue_floor must be in [0, 1), got -1");
  const io::WhiteningTransform t = io::fit_whitening(train, {});
  expect_error([&] { io::apply_whitening(t, MatrixD::Zero(3, 9)); }, Exit::data,
               "apply_whitening: patches have 9 values but the transform expects 16");
  bad = test;
  bad(2, 0) = std::nan("");
  expect_error([&] { io::apply_whitening(t, bad); }, Exit::data,
               "apply_whitening: patch entry at row 2, column 0 (0-based) is nan; patches must be finite");
  expect_error([] { io::parse_whitening("pcaa"); }, Exit::usage, "unknown whitening 'pcaa'; expected pca, zca or none");
}

TEST_F(Whitening, TransformFileErrors) {
  const io::WhiteningTransform t = io::fit_whitening(train, {});
  const std::string p = tmp.file("w.npz");
  io::save_whitening(p, t);
  const std::string q = tmp.file("bad.npz");
  // The saved file with array `name` replaced by `a` (or removed when `a` is nullopt).
  auto rewrite = [&](const std::string& name, const std::optional<io::Array>& a) {
    auto arrays = io::read_npz(p);
    arrays.erase(name);
    if (a) arrays.emplace(name, *a);
    io::write_npz(q, io::NamedArrays(arrays.begin(), arrays.end()));
  };
  rewrite("components", std::nullopt);
  expect_error([&] { io::load_whitening(q); }, Exit::data,
               q + ": not a whitening transform file: array 'components' is missing");
  VectorD ev = t.eigenvalues;
  ev(4) = -1;
  rewrite("eigenvalues", io::Array::from_vector<double>(ev));
  expect_error([&] { io::load_whitening(q); }, Exit::data, q + ": eigenvalues[4] = -1 is not > 0");
  ev = t.eigenvalues;
  std::swap(ev(0), ev(1));
  rewrite("eigenvalues", io::Array::from_vector<double>(ev));
  expect_error([&] { io::load_whitening(q); }, Exit::data, q + ": eigenvalues are not in descending order at 1");
  rewrite("whitening", io::Array::from_values<std::uint8_t>({3}, {'i', 'c', 'a'}));
  expect_error([&] { io::load_whitening(q); }, Exit::data, q + ": array 'whitening' is 'ica'; expected pca, zca or none");
  VectorD m = t.mean;
  m(0) = std::nan("");
  rewrite("mean", io::Array::from_vector<double>(m));
  expect_error([&] { io::load_whitening(q); }, Exit::data, q + ": array 'mean' entry 0 is nan; expected a finite number");
  rewrite("mean", io::Array::from_vector<double>(t.mean.head(5)));
  expect_error([&] { io::load_whitening(q); }, Exit::data, q + ": array 'mean' has 5 entries; expected 16");
  rewrite("components", io::Array::from_matrix<double>(t.components.leftCols(4)));
  expect_error([&] { io::load_whitening(q); }, Exit::data, q + ": array 'components' has shape (15, 4); expected (15, 16)");
}

// Fashion-MNIST, when installed: 8×8 patches of real images, PCA to 63 components.
TEST_F(Patches, FashionMnistPatchesWhitenToIdentity) {
  if (!std::filesystem::exists(io::fashion_mnist_dir() + "/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed";
  const io::Images im = io::load_images("fashion-mnist:test");
  EXPECT_EQ(im.pixels.rows(), 10000);
  EXPECT_EQ(im.height, 28u);
  EXPECT_TRUE(im.eight_bit);
  EXPECT_EQ(im.pixels.minCoeff(), 0.0);
  EXPECT_EQ(im.pixels.maxCoeff(), 1.0);
  io::PatchConfig c;
  c.count = 5000;
  c.dequantize = true;
  const MatrixD x = io::extract_patches(im, c, Exec(2));
  EXPECT_EQ(x, io::extract_patches(im, c, Exec(1)));
  const io::WhiteningTransform t = io::fit_whitening(x, {});
  EXPECT_EQ(t.output_dimension(), 63u);
  const MatrixD y = io::apply_whitening(t, x);
  EXPECT_LT((covariance(y) - MatrixD::Identity(63, 63)).cwiseAbs().maxCoeff(), 1e-8);
  EXPECT_TRUE(std::isfinite(t.log_abs_det()));
}

}  // namespace
}  // namespace logz
