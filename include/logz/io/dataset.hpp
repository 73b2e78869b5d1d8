#pragma once
/// @file dataset.hpp
/// Data arguments: a .npy path, or a built-in name such as "fashion-mnist:train".
#include <string>

#include "logz/core/types.hpp"

namespace logz::io {

/// Where the Debian package dataset-fashion-mnist installs its files; the environment
/// variable LOGZ_FASHION_MNIST_DIR overrides it.
std::string fashion_mnist_dir();

/// Binary data, one sample per row, entries 0 or 1.
///  - "fashion-mnist:train" / "fashion-mnist:test": images flattened to 784 columns and
///    binarized at pixel/255 > threshold (default 0.5);
///  - "<path>.npy": a 2-D array of any supported dtype whose entries are all 0 or 1
///    (NaN, other values, or a non-2-D shape: Error(Exit::data) naming the first bad entry).
MatrixU8 load_binary_data(const std::string& spec, double threshold = 0.5);

}  // namespace logz::io
