#pragma once
/// @file npy.hpp
/// NumPy .npy format, versions 1.0, 2.0 and 3.0 (numpy/lib/format.py): read and write
/// uint8, int32, int64, float32, float64. Arrays are read in either memory order: a
/// Fortran-order array (`fortran_order: True`, what np.save writes for `W.T`, for
/// np.asfortranarray and for MATLAB/SciPy exports) is permuted into the C order of
/// `Array` (for a matrix, a transpose of the stored bytes); arrays are always written in
/// C order. Big-endian data, other dtypes and truncated files are rejected with
/// Error(Exit::data).
#include <optional>
#include <span>
#include <string>

#include "logz/io/array.hpp"

namespace logz::io {

/// Reads a .npy file. Missing/unreadable file: Error(Exit::no_input); malformed: Exit::data.
/// Messages start with "<path>: ".
Array read_npy(const std::string& path);
/// Parses .npy bytes (either memory order); `name` prefixes error messages (a path or
/// "archive.npz:member.npy").
Array parse_npy(std::span<const std::byte> bytes, std::string_view name);
/// The size a whole .npy file must have, read from its first bytes `head`: nothing while
/// `head` is too short to hold the header, Error(Exit::data) when the header is malformed.
/// Lets a reader of a compressed member refuse a wrong size before inflating all of it.
std::optional<std::size_t> npy_file_size(std::span<const std::byte> head, std::string_view name);
/// The .npy encoding (version 1.0, or 2.0 if the header needs it) of an array.
std::string encode_npy(const Array& a);
/// Writes a .npy file atomically (temporary file + rename; nothing left on failure).
void write_npy(const std::string& path, const Array& a);

}  // namespace logz::io
