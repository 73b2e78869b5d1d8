// Fuzz target: io::read_alignment (FASTA / A2M) and the sequence weights computed from
// what it returns.
// Input: a flags byte, then (when the flags ask for them) a custom alphabet line and a
// focus line, then the alignment file's bytes. Flags: bits 0-1 the alphabet (protein,
// ".ACGU", "-ACGU", or the next line), bits 2-3 the unknown-letter rule (error, gap,
// skip), bit 4 focus mode with the next line as the focus name.
// Finding: anything but logz::Error — crash, sanitizer report, a state index outside the
// alphabet, row/record bookkeeping that disagrees, a non-finite weight.
#include <cmath>

#include "fuzz_common.hpp"
#include "logz/io/alignment.hpp"

namespace {
std::string_view take_line(std::string_view& in) {
  const std::size_t end = in.find('\n');
  std::string_view line = in.substr(0, end);
  in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
  return line;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logz;
  if (size < 1) return 0;
  static const logz_fuzz::TempFile file("alignment", ".a2m");
  std::string_view in = logz_fuzz::as_view(data + 1, size - 1);
  const unsigned flags = data[0];
  io::AlignmentOptions options;
  switch (flags & 3) {
    case 0: break;  // the protein alphabet
    case 1: options.alphabet = ".ACGU"; break;
    case 2: options.alphabet = "-ACGU"; break;
    default: options.alphabet = std::string(take_line(in)); break;
  }
  switch ((flags >> 2) & 3) {
    case 1: options.unknown = io::UnknownLetters::gap; break;
    case 2: options.unknown = io::UnknownLetters::skip; break;
    default: options.unknown = io::UnknownLetters::error; break;
  }
  if (flags & 16) options.focus = std::string(take_line(in));
  const std::string& path = file.write(in);
  logz_fuzz::guarded([&] {
    const io::Alignment a = io::read_alignment(path, options);
    const std::size_t q = a.num_states();
    for (Eigen::Index s = 0; s < a.matrix.rows(); ++s)
      for (Eigen::Index i = 0; i < a.matrix.cols(); ++i)
        if (a.matrix(s, i) >= q) logz_fuzz::finding("state outside the alphabet");
    if (a.names.size() != a.num_sequences() || a.records.size() != a.num_sequences() ||
        a.columns.size() != a.num_columns() || a.num_records != a.num_sequences() + a.skipped.size())
      logz_fuzz::finding("alignment bookkeeping disagrees with the matrix");
    if (a.num_sequences() <= 256) {  // weights are O(N^2 L): keep an iteration fast
      const VectorD w = io::sequence_weights(a, 0.8, Exec(1));
      for (Eigen::Index s = 0; s < w.size(); ++s)
        if (!std::isfinite(w[s]) || w[s] <= 0) logz_fuzz::finding("sequence weight not finite and positive");
      (void)io::effective_count(w);
    }
  });
  return 0;
}
