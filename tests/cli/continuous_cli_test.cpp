// Tests of `logz patches` and of `logz info` on continuous model files: run the built
// binary, compare its files bit for bit with the library's results, pin help texts,
// exit codes, messages and JSON fields, 1 vs 2 threads, and that failures write nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "logz/core/rng.hpp"
#include "logz/exact/grbm_exact.hpp"
#include "logz/io/continuous_file.hpp"
#include "logz/io/dataset.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/patches.hpp"
#include "logz/io/rbm_file.hpp"
#include "support/cli_runner.hpp"

namespace logz {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using nlohmann::json;
using test::slurp;

class ContinuousCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string images;  // 20 smooth 10x10 uint8 images

  void SetUp() override {
    images = tmp.file("images.npy");
    io::write_npy(images, image_array(20, 10, 10, 1));
  }

  test::CliResult run(const std::string& args) { return test::run_cli(tmp, args); }

  /// Smooth random uint8 images: a random plane plus noise.
  static io::Array image_array(std::size_t n, std::size_t h, std::size_t w, std::uint64_t seed) {
    Stream rng = Stream::derive(seed, Purpose::user, 0);
    std::vector<std::uint8_t> v;
    for (std::size_t i = 0; i < n; ++i) {
      const double a = 40 + 150 * rng.uniform_double(), b = 20 * (rng.uniform_double() - 0.5),
                   c = 20 * (rng.uniform_double() - 0.5);
      for (std::size_t r = 0; r < h; ++r)
        for (std::size_t q = 0; q < w; ++q)
          v.push_back(std::uint8_t(std::clamp(a + b * double(r) + c * double(q) + 30 * rng.uniform_double(), 0.0, 255.0)));
    }
    return io::Array::from_values<std::uint8_t>({n, h, w}, v);
  }

  static MatrixD read_matrix(const std::string& path) { return io::read_npy(path).to_matrix<double>(path); }
};

// ------------------------------------------------------------------ patches

TEST_F(ContinuousCli, PatchesHelpExplainsItself) {
  const auto r = run("patches --help");
  EXPECT_EQ(r.code, 0);
  for (const char* s : {"--images", "--size", "--count", "--whiten", "--components", "--transform-out", "--transform",
                        "--dequantize", "--min-std", "log|det|", "fashion-mnist:train", "for any --threads"})
    EXPECT_THAT(r.out, HasSubstr(s));
  EXPECT_THAT(run("--help").out, HasSubstr("patches"));
}

TEST_F(ContinuousCli, PatchesEqualTheLibrarysAndTheTestSetGoesThroughTheSameMap) {
  const std::string train = tmp.file("train.npy"), w = tmp.file("w.npz");
  auto r = run("patches --images " + images + " --size 4 --count 500 --seed 3 --out " + train + " --transform-out " + w +
               " --json --threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["count"], 500);
  EXPECT_EQ(j["columns"], 15);
  EXPECT_EQ(j["components"], 15);
  EXPECT_EQ(j["whiten"], "pca");
  EXPECT_EQ(j["remove_dc"], true);
  EXPECT_EQ(j["image_shape"], json::array({10, 10}));
  EXPECT_EQ(j["transform"], nullptr);
  EXPECT_EQ(j["transform_out"], w);
  EXPECT_THAT(r.err, HasSubstr("log|det|"));

  io::PatchConfig pc;
  pc.size = 4;
  pc.count = 500;
  pc.seed = 3;
  const MatrixD raw = io::extract_patches(io::load_images(images), pc);
  const io::WhiteningTransform t = io::fit_whitening(raw, {});
  EXPECT_EQ(read_matrix(train), io::apply_whitening(t, raw));
  EXPECT_EQ(j["log_abs_det"].get<double>(), t.log_abs_det());
  EXPECT_EQ(io::load_whitening(w).components, t.components);

  // 2 threads: the same bytes.
  const std::string train2 = tmp.file("train2.npy");
  ASSERT_EQ(run("patches --images " + images + " --size 4 --count 500 --seed 3 --out " + train2 + " -q --threads 2").code,
            0);
  EXPECT_EQ(slurp(train2), slurp(train));

  // The saved transform applied to other patches.
  const std::string test = tmp.file("test.npy");
  r = run("patches --images " + images + " --size 4 --count 100 --seed 4 --transform " + w + " --out " + test + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["transform"], w);
  pc.count = 100;
  pc.seed = 4;
  EXPECT_EQ(read_matrix(test), io::apply_whitening(t, io::extract_patches(io::load_images(images), pc)));
}

TEST_F(ContinuousCli, PatchesOfFlattenedImagesZcaAndNoWhitening) {
  io::Array flat = image_array(20, 10, 10, 1);
  flat.shape = {20, 100};
  const std::string fl = tmp.file("flat.npy"), a = tmp.file("a.npy"), b = tmp.file("b.npy");
  ASSERT_EQ(run("patches --images " + images + " --size 3 --count 50 --out " + a + " -q").code, 0);
  ASSERT_EQ(run("patches --images " + fl + " --shape 10x10 --size 3 --count 50 --out " + b + " -q").code, 66);
  io::write_npy(fl, flat);
  ASSERT_EQ(run("patches --images " + fl + " --shape 10x10 --size 3 --count 50 --out " + b + " -q").code, 0);
  EXPECT_EQ(slurp(a), slurp(b));
  ASSERT_EQ(run("patches --images " + images + " --size 3 --count 50 --whiten zca --out " + a + " -q").code, 0);
  EXPECT_EQ(read_matrix(a).cols(), 9);
  ASSERT_EQ(run("patches --images " + images + " --size 3 --count 50 --whiten none --keep-dc --out " + a + " -q").code, 0);
  io::PatchConfig pc;
  pc.size = 3;
  pc.count = 50;
  EXPECT_EQ(read_matrix(a), io::extract_patches(io::load_images(images), pc));  // raw pixels in [0, 1]
  const auto r = run("patches --images " + fl + " --size 3 --count 50 --out " + b);
  EXPECT_EQ(r.code, 65);
  EXPECT_EQ(r.err, "logz: " + fl + ": images of shape (20, 100) are flattened; give their height and width (a shape H x W)\n");
}

TEST_F(ContinuousCli, PatchesErrorsWriteNothing) {
  const std::string out = tmp.file("out.npy"), w = tmp.file("w.npz");
  auto expect_fail = [&](const std::string& args, int code, const std::string& message) {
    const auto r = run("patches --images " + images + " --out " + out + " " + args);
    EXPECT_EQ(r.code, code) << args;
    EXPECT_EQ(r.err, "logz: " + message + "\n") << args;
    EXPECT_FALSE(fs::exists(out)) << args;
  };
  expect_fail("--size 11", 64, "patches: --size 11 is larger than the 10x10 images");
  expect_fail("--size 0", 64, "patches: --size must be at least 1, got 0");
  expect_fail("--size 4 --components 16", 64,
              "patches: --components must be at most 15 for 4x4 patches with the DC component removed, got 16");
  expect_fail("--size 1", 64,
              "patches: --size 1 leaves no variance once each patch's mean is removed; use a larger --size or --keep-dc");
  expect_fail("--whiten ica", 64, "patches: --whiten must be pca, zca or none, got 'ica'");
  expect_fail("--floor 1", 64, "patches: --floor must be in [0, 1), got 1");
  expect_fail("--shape 10by10", 64, "patches: --shape must be HEIGHTxWIDTH with positive integers (e.g. 28x28), got '10by10'");
  expect_fail("--min-std -1", 64, "patches: --min-std must be a non-negative number, got -1");
  expect_fail("--dequantize --min-std 0.9 --size 3 --count 1", 65,
              "extract_patches: patch 0 found no position with standard deviation >= 0.9 in 1000 draws; lower min_std");
  ASSERT_EQ(run("patches --images " + images + " --size 4 --count 50 --out " + tmp.file("t.npy") + " --transform-out " +
                w + " -q")
                .code,
            0);
  expect_fail("--size 5 --transform " + w, 65,
              "patches: --transform " + w + " was fitted on patches of 16 values, but --size 5 gives 25");
  {
    const auto r = run("patches --images " + images + " --out " + out + " --transform " + w + " --whiten zca");
    EXPECT_EQ(r.code, 64);
    EXPECT_THAT(r.err, HasSubstr("excludes"));
    EXPECT_FALSE(fs::exists(out));
  }
  expect_fail("--transform-out " + tmp.file("no/such/w.npz"), 73,
              "patches: --transform-out " + tmp.file("no/such/w.npz") + ": directory '" + tmp.file("no/such") +
                  "' does not exist");
  // Flat images: zero variance once the DC is removed.
  const std::string flat = tmp.file("flat.npy");
  io::write_npy(flat, io::Array::from_values<std::uint8_t>({3, 5, 5}, std::vector<std::uint8_t>(75, 17)));
  auto r = run("patches --images " + flat + " --size 2 --count 20 --out " + out);
  EXPECT_EQ(r.code, 65);
  EXPECT_EQ(r.err,
            "logz: fit_whitening: the patches have zero variance once their means are removed (every patch is flat); "
            "whitening is undefined\n");
  EXPECT_FALSE(fs::exists(out));
  // Non-finite pixels.
  io::write_npy(flat, io::Array::from_values<double>({1, 2, 2}, {0.5, 0.25, std::nan(""), 0.0}));
  r = run("patches --images " + flat + " --size 2 --count 20 --out " + out);
  EXPECT_EQ(r.code, 65);
  EXPECT_EQ(r.err, "logz: " + flat + ": image 0, row 1, column 0 (0-based) is nan; pixels must be finite\n");
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(ContinuousCli, PatchesOfFashionMnist) {
  if (!fs::exists(io::fashion_mnist_dir() + "/t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "Fashion-MNIST not installed";
  const std::string out = tmp.file("fm.npy"), w = tmp.file("w.npz");
  const auto r = run("patches --images fashion-mnist:test --size 8 --count 2000 --seed 1 --dequantize --components 63 "
                     "--out " + out + " --transform-out " + w + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["num_images"], 10000);
  EXPECT_EQ(j["image_shape"], json::array({28, 28}));
  const MatrixD y = read_matrix(out);
  ASSERT_EQ(y.rows(), 2000);
  ASSERT_EQ(y.cols(), 63);
  const MatrixD c = y.rowwise() - y.colwise().mean();
  EXPECT_LT((c.transpose() * c / 1999.0 - MatrixD::Identity(63, 63)).cwiseAbs().maxCoeff(), 1e-8);
}

// ------------------------------------------------------------------ info

class ContinuousInfoCli : public ContinuousCli {
 protected:
  json info_json(const std::string& path) {
    const auto r = run("info --model " + path + " --json");
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out);
  }
};

TEST_F(ContinuousInfoCli, GaussianClosedForm) {
  const Gaussian g((VectorD(2) << 1, -1).finished(), (MatrixD(2, 2) << 2, 0.5, 0.5, 1).finished());
  const std::string p = tmp.file("g.npz");
  io::save_continuous(p, g, {{"nce_log_z", io::Array::from_values<double>({}, {2.5})}});
  const json j = info_json(p);
  EXPECT_EQ(j["type"], "gaussian");
  EXPECT_EQ(j["dimension"], 2);
  EXPECT_EQ(j["num_parameters"], 5);
  EXPECT_EQ(j["normalisable"], true);
  EXPECT_EQ(j["log_z"].get<double>(), g.log_partition());
  EXPECT_EQ(j["log_z_method"], "closed form");
  EXPECT_EQ(j["extra"]["nce_log_z"]["value"], 2.5);
  const auto r = run("info " + p);  // positional form, human output
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("model            Gaussian (gaussian)"));
  EXPECT_THAT(r.out, HasSubstr("normalisable     yes (the precision matrix is positive definite)"));
  EXPECT_THAT(r.out, HasSubstr("extra array      nce_log_z float64 () = 2.5"));
}

TEST_F(ContinuousInfoCli, GrbmByEnumeration) {
  GaussianRbm m(3, 4);
  Stream rng = Stream::derive(5, Purpose::user, 0);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = 0.5 * rng.normal();
  m.visible_sigma << 0.5, 1, 2;
  m.learn_sigma = true;
  const std::string p = tmp.file("grbm.npz");
  io::save_continuous(p, m);
  const json j = info_json(p);
  EXPECT_EQ(j["type"], "grbm");
  EXPECT_EQ(j["num_parameters"], 3 * 4 + 3 + 4 + 3);
  EXPECT_EQ(j["log_z"].get<double>(), grbm_exact_log_z(m));
  EXPECT_EQ(j["log_z_method"], "exact enumeration of 2^4 hidden states");
  const auto r = run("info " + p + " --threads 2");
  EXPECT_THAT(r.out, HasSubstr("sigma            learned"));
  // A binary RBM file is still an RBM to info.
  RbmD b;
  b.weights = MatrixD::Zero(3, 2);
  b.visible_bias = VectorD::Zero(3);
  b.hidden_bias = VectorD::Zero(2);
  const std::string rbm = tmp.file("rbm.npz");
  io::save_rbm(rbm, b);
  EXPECT_EQ(info_json(rbm)["type"], "rbm");
}

TEST_F(ContinuousInfoCli, ExpertsNormalisableOrNotAndWhy) {
  const StudentTExperts complete = StudentTExperts::random(3, 3, 1.5, 2);
  const std::string p = tmp.file("e.npz");
  io::save_continuous(p, complete);
  json j = info_json(p);
  EXPECT_EQ(j["type"], "experts");
  EXPECT_EQ(j["normalisable"], true);
  EXPECT_EQ(j["log_z"].get<double>(), complete.log_partition());
  // α = 0.4 <= 1/2: the closed-form case is not normalisable, and info says so.
  io::save_continuous(p, StudentTExperts(complete.filters(), VectorD::Constant(3, 0.4)));
  j = info_json(p);
  EXPECT_EQ(j["normalisable"], false);
  EXPECT_EQ(j["log_z"], nullptr);
  EXPECT_THAT(j["normalisable_reason"].get<std::string>(), HasSubstr("StudentTExperts"));
  // Overcomplete with λ > 0: normalisable, no closed form.
  io::save_continuous(p, StudentTExperts(StudentTExperts::random(3, 5, 1.0, 3).filters(), VectorD::Ones(5), 0.5));
  j = info_json(p);
  EXPECT_EQ(j["normalisable"], true);
  EXPECT_EQ(j["log_z"], nullptr);
  EXPECT_THAT(j["log_z_note"].get<std::string>(), HasSubstr("logz estimate"));
  EXPECT_THAT(run("info " + p).out, HasSubstr("experts          5 (overcomplete)"));
}

TEST_F(ContinuousInfoCli, NeuralAndBadFiles) {
  const std::string p = tmp.file("n.npz");
  io::save_continuous(p, NeuralEnergy::random(3, 4, 1));
  const json j = info_json(p);
  EXPECT_EQ(j["type"], "neural");
  EXPECT_EQ(j["dimension"], 3);
  EXPECT_EQ(j["num_parameters"], 4 * 5 + 3 + 1);
  EXPECT_EQ(j["normalisable"], true);
  EXPECT_EQ(j["log_z"], nullptr);
  // A malformed continuous file: exit 65, the loader's message.
  const std::string bad = tmp.file("bad.npz");
  io::write_npz(bad, {{"mean", io::Array::from_values<double>({2}, {0, 0})},
                      {"precision", io::Array::from_values<double>({2, 2}, {1, 2, 2, 1})}});
  const auto r = run("info --model " + bad);
  EXPECT_EQ(r.code, 65);
  EXPECT_EQ(r.err, "logz: " + bad + ": Gaussian: precision matrix is not positive definite (the model is not normalisable)\n");
  EXPECT_THAT(run("info --help").out, HasSubstr("continuous model file"));
}

}  // namespace
}  // namespace logz
