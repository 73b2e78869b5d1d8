// The one checkpoint value of the trainers (training/checkpoint.hpp) and its .npz file
// (api/checkpoint_file.hpp): arrays keep their shapes and bits, counters their values,
// streams their positions; a round trip through a file gives the same value; a missing
// array, a count mismatch and a file that is not a checkpoint are refused with pinned
// messages.
#include "logz/training/checkpoint.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "logz/api/checkpoint_file.hpp"
#include "logz/core/rng.hpp"
#include "logz/io/npz.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

namespace logz {
namespace {

training::Checkpoint sample_checkpoint() {
  training::Checkpoint c;
  c.trainer = "test";
  c.config = "seed=3 batch=7";
  c.notes = "[{\"epoch\": 1}]";
  MatrixD m(2, 3);
  m << 1, 2, 3, 4, 5, 0.1;
  c.put("matrix", m);
  VectorD v(4);
  v << -1e-300, 1e300, 0.5, -0.0;
  c.put("vector", v);
  c.put_counters("counters", {0, 7, std::uint64_t(1) << 60});
  return c;
}

TEST(Checkpoint, KeepsShapesValuesAndCounters) {
  const training::Checkpoint c = sample_checkpoint();
  const training::CheckpointArray& m = c.array("t", "matrix");
  EXPECT_EQ(m.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(m.shape_string(), "(2, 3)");
  EXPECT_EQ(m.values, (std::vector<double>{1, 2, 3, 4, 5, 0.1}));  // row-major
  EXPECT_EQ(m.matrix("t", "matrix")(1, 2), 0.1);
  EXPECT_EQ(c.array("t", "vector").shape_string(), "(4,)");
  EXPECT_EQ(c.counter("t", "counters")[2], std::uint64_t(1) << 60);
  test::expect_error([&] { (void)c.array("t", "vector").matrix("t", "vector"); }, Exit::data,
                     "t: array 'vector' has shape (4,) but a matrix was expected");
  test::expect_error([&] { (void)c.array("who", "missing"); }, Exit::data, "who: the state has no array 'missing'");
  test::expect_error([&] { (void)c.counter("who", "matrix"); }, Exit::data, "who: the state has no array 'matrix'");
  training::Checkpoint d = c;
  d.erase("vector");
  test::expect_error([&] { (void)d.array("who", "vector"); }, Exit::data, "who: the state has no array 'vector'");
}

TEST(Checkpoint, StreamsResumeWhereTheyWere) {
  std::vector<Stream> streams = Stream::root(5).children(Purpose::gibbs, 3);
  for (std::size_t c = 0; c < streams.size(); ++c)
    for (std::size_t k = 0; k <= c; ++k) (void)streams[c].normal();
  training::Checkpoint ck;
  ck.put_streams("words", streams);
  std::vector<Stream> back = Stream::root(5).children(Purpose::gibbs, 3);
  ck.seek_streams("who", "words", back);
  for (std::size_t c = 0; c < streams.size(); ++c) EXPECT_EQ(back[c].next_u32(), streams[c].next_u32());
  std::vector<Stream> fewer = Stream::root(5).children(Purpose::gibbs, 2);
  test::expect_error([&] { ck.seek_streams("who", "words", fewer); }, Exit::data,
                     "who: array 'words' has shape (3,) but the run has 2 chains");
}

TEST(CheckpointFile, RoundTripsBitForBit) {
  test::TempDir dir;
  const std::string path = (dir.path() / "ck.npz").string();
  const training::Checkpoint c = sample_checkpoint();
  api::write_training_checkpoint(path, c);
  const training::Checkpoint back = api::read_training_checkpoint(path);
  EXPECT_EQ(back.trainer, c.trainer);
  EXPECT_EQ(back.config, c.config);
  EXPECT_EQ(back.notes, c.notes);
  for (const auto& [name, a] : c.arrays) {
    EXPECT_EQ(back.array("t", name).shape, a.shape) << name;
    EXPECT_EQ(back.array("t", name).values, a.values) << name;
  }
  EXPECT_EQ(back.counter("t", "counters"), c.counter("t", "counters"));

  const std::string plain = (dir.path() / "plain.npz").string();
  io::write_npz(plain, {{"weights", io::Array::from_values<double>({2}, {1.0, 2.0})}});
  test::expect_error([&] { (void)api::read_training_checkpoint(plain); }, Exit::data,
                     plain + ": not a logz training checkpoint: array 'checkpoint_trainer' is missing");
}

}  // namespace
}  // namespace logz
