#pragma once
/// @file checkpoint_file.hpp
/// A training checkpoint (training/checkpoint.hpp) on disk, as an .npz file
/// (docs/file-formats.md): each named array as a float64 array of its shape, each named
/// counter as an int64 vector, and the trainer's name, the settings fingerprint and the
/// caller's notes as uint8 text arrays "checkpoint_trainer", "checkpoint_config",
/// "checkpoint_notes". Written to a temporary name and renamed (io::write_npz), so a run
/// killed mid-write leaves the previous checkpoint whole.
#include <string>

#include "logz/training/checkpoint.hpp"

namespace logz::api {

void write_training_checkpoint(const std::string& path, const training::Checkpoint& checkpoint);

/// Throws as io::read_npz, and Error(Exit::data) "<path>: not a logz training checkpoint:
/// ..." when the metadata arrays are missing or an array has another dtype.
training::Checkpoint read_training_checkpoint(const std::string& path);

}  // namespace logz::api
