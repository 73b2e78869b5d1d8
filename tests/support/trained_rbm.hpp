#pragma once
/// @file trained_rbm.hpp
/// The 20-hidden RBM the estimator tests use as "the case users have": trained on the
/// first 20,000 Fashion-MNIST training images with the peer scripts' recipe (CD-1, lr
/// 0.01, momentum 0.9, 2 epochs, seed 5), small enough to enumerate.
#include "logz/api/rbm_tasks.hpp"

namespace logz::test {

inline RbmF trained_fashion_rbm20(const MatrixU8& train, const Exec& ex) {
  api::TrainConfig cfg;
  cfg.hidden = 20;
  cfg.method = "cd";
  cfg.epochs = 2;
  cfg.lr = 0.01;
  cfg.momentum = 0.9;
  cfg.seed = 5;
  return api::train_rbm(train, MatrixU8(), cfg, {}, ex, silent_observer()).model;
}

}  // namespace logz::test
