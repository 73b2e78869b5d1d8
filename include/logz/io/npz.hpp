#pragma once
/// @file npz.hpp
/// NumPy .npz archives: zip files of .npy members, stored (np.savez) or deflated
/// (np.savez_compressed). Member names are given without the ".npy" suffix.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "logz/io/array.hpp"

namespace logz::io {

using NamedArrays = std::vector<std::pair<std::string, Array>>;

/// Reads every member. Missing file: Exit::no_input; not a zip / bad member: Exit::data.
std::map<std::string, Array> read_npz(const std::string& path);
/// Writes an archive atomically; `compress` deflates members like np.savez_compressed.
void write_npz(const std::string& path, const NamedArrays& arrays, bool compress = false);

}  // namespace logz::io
