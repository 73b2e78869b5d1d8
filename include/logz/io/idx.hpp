#pragma once
/// @file idx.hpp
/// The IDX format of MNIST and Fashion-MNIST (LeCun et al.), plain or gzip-compressed:
/// magic (0, 0, type, ndim), big-endian uint32 dimensions, then the payload.
/// Only the unsigned-byte type (0x08) is supported, as every MNIST file uses.
#include <string>

#include "logz/io/array.hpp"

namespace logz::io {

/// Reads an IDX file (gzip detected by its magic bytes) into a uint8 Array.
Array read_idx(const std::string& path);

}  // namespace logz::io
