// Multiple sequence alignments in FASTA / A2M format and their sequence weights.
//
// A2M (the SAM / HMMER "aligned FASTA" format): upper-case letters and '-' are match
// states, lower-case letters and '.' are inserts; removing the inserts from every row
// leaves rows of equal length. Focus mode follows plmc's -f option (Hopf et al. 2017,
// github.com/debbiemarkslab/plmc, src/plm.c MSARead): keep the columns where the focus
// sequence has an upper-case letter. Sequence weights follow plmc's
// MSAReweightSequences (src/weights.c): w_s = 1 / #{t : id(s, t) >= theta · L}, the
// reweighting of Morcos et al. (2011) and Ekeberg et al. (2013). See docs/alignments.md.
#include "logz/io/alignment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string_view>
#include <unordered_map>

#include "logz/core/check.hpp"
#include "logz/io/atomic_file.hpp"

namespace logz::io {
namespace {

constexpr std::int16_t kUnknown = -1;

bool is_gap_symbol(char c) { return c == '-' || c == '.'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// Printable form of a byte for messages.
std::string show(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

void check_alphabet(std::string_view caller, const std::string& a) {
  check_arg(!a.empty(), "{}: the alphabet is empty", caller);
  check_arg(a.size() <= 255, "{}: the alphabet has {} symbols; at most 255 are supported", caller, a.size());
  std::array<bool, 256> seen{};
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char c = a[i];
    const auto u = static_cast<unsigned char>(c);
    check_arg(u > 0x20 && u < 0x7f && c != '>', "{}: alphabet \"{}\": symbol {} is not allowed", caller, a, show(c));
    check_arg(!is_lower(c), "{}: alphabet \"{}\": lower-case {} is not allowed (lower case marks inserts)", caller,
              a, show(c));
    check_arg(!seen[u], "{}: alphabet \"{}\": {} appears twice", caller, a, show(c));
    check_arg(i == 0 || !is_gap_symbol(c), "{}: alphabet \"{}\": {} may only be the first symbol (the gap)", caller,
              a, show(c));
    seen[u] = true;
  }
}

// code[c]: the state of byte c, or kUnknown.
std::array<std::int16_t, 256> code_table(const std::string& alphabet) {
  std::array<std::int16_t, 256> code;
  code.fill(kUnknown);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    const char c = alphabet[i];
    code[static_cast<unsigned char>(c)] = std::int16_t(i);
    if (is_upper(c)) code[static_cast<unsigned char>(c - 'A' + 'a')] = std::int16_t(i);
  }
  if (is_gap_symbol(alphabet[0])) code['-'] = code['.'] = 0;
  return code;
}

struct Record {
  std::string name;
  std::string row;  // the sequence as written, whitespace removed
};

std::vector<Record> parse_records(const std::string& path, const std::string& text) {
  if (text.empty()) fail(Exit::data, "{}: empty file", path);
  std::vector<Record> records;
  std::size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() == '>') {
      std::string_view rest = line.substr(1);
      const std::size_t b = rest.find_first_not_of(" \t");
      if (b == std::string_view::npos) fail(Exit::data, "{}: line {}: a '>' header without a name", path, line_no);
      rest = rest.substr(b);
      records.push_back({std::string(rest.substr(0, rest.find_first_of(" \t"))), {}});
      continue;
    }
    bool blank = true;
    for (char c : line)
      if (c != ' ' && c != '\t') blank = false;
    if (blank) continue;
    if (records.empty())
      fail(Exit::data, "{}: line {}: sequence text before the first '>' header", path, line_no);
    for (char c : line)
      if (c != ' ' && c != '\t') records.back().row.push_back(c);
  }
  if (records.empty()) fail(Exit::data, "{}: no sequences (no line starts with '>')", path);
  for (const auto& r : records)
    if (r.row.empty()) fail(Exit::data, "{}: sequence {} is empty", path, r.name);
  return records;
}

// The first letter that is not in the alphabet: its 0-based position, or npos. '.' is
// left to the caller: it may be an insert, dropped before it is read.
std::size_t first_unknown(const std::string& row, const std::array<std::int16_t, 256>& code) {
  for (std::size_t i = 0; i < row.size(); ++i)
    if (code[static_cast<unsigned char>(row[i])] == kUnknown && row[i] != '.') return i;
  return std::string::npos;
}

// START of a NAME/START-END name, else 1.
long region_start(const std::string& name) {
  const std::size_t slash = name.rfind('/');
  if (slash == std::string::npos || slash + 1 >= name.size() || !std::isdigit(static_cast<unsigned char>(name[slash + 1])))
    return 1;
  long v = 0;
  for (std::size_t i = slash + 1; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) && v < 1000000000;
       ++i)
    v = v * 10 + (name[i] - '0');
  return v;
}

}  // namespace

UnknownLetters unknown_letters_by_name(std::string_view name) {
  if (name == "error") return UnknownLetters::error;
  if (name == "gap") return UnknownLetters::gap;
  check_arg(name == "skip", "unknown letters: expected error, gap or skip, got '{}'", name);
  return UnknownLetters::skip;
}

Alignment read_alignment(const std::string& path, const AlignmentOptions& options) {
  check_alphabet("read_alignment", options.alphabet);
  if (options.focus) check_arg(!options.focus->empty(), "read_alignment: the focus sequence name is empty");
  check_arg(options.unknown != UnknownLetters::gap || is_gap_symbol(options.alphabet[0]),
            "read_alignment: unknown letters can be read as gaps only with a gap ('-' or '.') as the alphabet's first "
            "symbol; the alphabet is \"{}\"",
            options.alphabet);
  std::vector<Record> records = parse_records(path, read_file(path));
  const auto code = code_table(options.alphabet);
  const bool dot_is_gap = options.alphabet[0] == '.';

  // Unknown letters: anywhere in a row (insert columns included), as plmc checks them.
  Alignment out;
  out.alphabet = options.alphabet;
  std::vector<Record> kept_records;
  kept_records.reserve(records.size());
  out.num_records = records.size();
  for (std::size_t index = 0; index < records.size(); ++index) {
    Record& r = records[index];
    const std::size_t bad = first_unknown(r.row, code);
    if (bad != std::string::npos) {
      if (options.unknown == UnknownLetters::error)
        fail(Exit::data, "{}: sequence {}: letter {} at column {} is not in the alphabet \"{}\"", path, r.name,
             show(r.row[bad]), bad + 1, options.alphabet);
      if (options.unknown == UnknownLetters::skip) {
        out.skipped.push_back(std::move(r.name));
        continue;
      }
    }
    out.records.push_back(index);
    kept_records.push_back(std::move(r));
  }
  if (kept_records.empty())
    fail(Exit::data, "{}: no sequences left: all {} contain letters outside the alphabet \"{}\"", path,
         out.skipped.size(), options.alphabet);

  // The columns to keep, as positions in each row's text.
  std::vector<std::size_t> keep;  // focus mode: shared by all rows
  if (options.focus) {
    const std::string& f = *options.focus;
    auto matches = [&](const std::string& name) {
      return name == f || (name.size() > f.size() && name.compare(0, f.size(), f) == 0 && name[f.size()] == '/');
    };
    auto it = std::find_if(kept_records.begin(), kept_records.end(), [&](const Record& r) { return matches(r.name); });
    if (it == kept_records.end()) {
      const bool was_skipped = std::any_of(out.skipped.begin(), out.skipped.end(), matches);
      if (was_skipped)
        fail(Exit::data, "{}: the focus sequence {} contains letters outside the alphabet \"{}\" and was skipped", path,
             f, options.alphabet);
      fail(Exit::data, "{}: focus sequence {} not found (no name equal to it or starting with \"{}/\")", path, f, f);
    }
    const Record& focus = *it;
    out.focus = std::size_t(it - kept_records.begin());
    for (const auto& r : kept_records)
      if (r.row.size() != focus.row.size())
        fail(Exit::data, "{}: sequence {} has {} columns, but the focus sequence {} has {}", path, r.name, r.row.size(),
             focus.name, focus.row.size());
    // plmc's numbering (src/plm.c, the offset map): START + the column's 0-based index in
    // the row as written, so the focus's gap columns are counted too.
    const long start = region_start(focus.name);
    for (std::size_t i = 0; i < focus.row.size(); ++i) {
      const char c = focus.row[i];
      if (is_upper(c) && code[static_cast<unsigned char>(c)] != kUnknown) {
        keep.push_back(i);
        out.columns.push_back(i);
        out.positions.push_back(start + long(i));
      }
    }
    if (keep.empty())
      fail(Exit::data, "{}: the focus sequence {} has no upper-case letters (no columns to keep)", path, focus.name);
  }

  auto is_insert = [&](char c) { return is_lower(c) || (c == '.' && !dot_is_gap); };
  std::size_t cols = keep.size();
  if (!options.focus) {
    const Record& first = kept_records.front();
    cols = std::size_t(std::count_if(first.row.begin(), first.row.end(), [&](char c) { return !is_insert(c); }));
    for (const auto& r : kept_records) {
      const auto n = std::size_t(std::count_if(r.row.begin(), r.row.end(), [&](char c) { return !is_insert(c); }));
      if (n != cols)
        fail(Exit::data,
             "{}: sequence {} has {} match columns, but {} has {} (lower-case letters and '.' are inserts, not counted)",
             path, r.name, n, first.name, cols);
    }
    if (cols == 0) fail(Exit::data, "{}: no match columns (every letter is lower-case, an insert)", path);
    for (std::size_t i = 0; i < cols; ++i) out.columns.push_back(i);
  }

  const auto rows = static_cast<Eigen::Index>(kept_records.size());
  out.matrix.resize(rows, static_cast<Eigen::Index>(cols));
  out.names.reserve(kept_records.size());
  for (Eigen::Index s = 0; s < rows; ++s) {
    Record& r = kept_records[std::size_t(s)];
    std::uint8_t* dst = out.matrix.data() + s * out.matrix.cols();
    auto state = [&](char c) -> std::uint8_t {
      const std::int16_t v = code[static_cast<unsigned char>(c)];
      return v == kUnknown ? 0 : static_cast<std::uint8_t>(v);  // unknown: UnknownLetters::gap
    };
    if (options.focus) {
      for (std::size_t j = 0; j < cols; ++j) {
        const char c = r.row[keep[j]];
        // '.' in a kept column is a gap; without a gap symbol in the alphabet it is unknown.
        if (c == '.' && !is_gap_symbol(options.alphabet[0]))
          fail(Exit::data, "{}: sequence {}: letter '.' at column {} is not in the alphabet \"{}\"", path, r.name,
               keep[j] + 1, options.alphabet);
        dst[j] = state(c);
      }
    } else {
      std::size_t j = 0;
      for (char c : r.row)
        if (!is_insert(c)) dst[j++] = state(c);
    }
    out.names.push_back(std::move(r.name));
  }
  return out;
}

void write_alignment(const std::string& path, const std::vector<std::string>& names,
                     const Matrix<std::uint8_t>& states, const std::string& alphabet) {
  check_alphabet("write_alignment", alphabet);
  check_arg(names.size() == std::size_t(states.rows()), "write_alignment: {} names for {} sequences", names.size(),
            states.rows());
  std::string text;
  text.reserve(std::size_t(states.rows()) * (std::size_t(states.cols()) + 16));
  for (Eigen::Index s = 0; s < states.rows(); ++s) {
    const std::string& name = names[std::size_t(s)];
    check_arg(!name.empty() && name.find_first_of(" \t\r\n") == std::string::npos,
              "write_alignment: sequence {}: the name \"{}\" is empty or holds whitespace", s + 1, name);
    text += '>';
    text += name;
    text += '\n';
    for (Eigen::Index i = 0; i < states.cols(); ++i) {
      const std::uint8_t a = states(s, i);
      check_arg(a < alphabet.size(), "write_alignment: sequence {} site {} has state {}, outside the alphabet \"{}\"",
                name, i + 1, int(a), alphabet);
      // '-' for the gap: a '.' would be an insert to an A2M reader.
      text += a == 0 && is_gap_symbol(alphabet[0]) ? '-' : alphabet[a];
    }
    text += '\n';
  }
  write_file_atomic(path, text);
}

namespace {

// Rows packed with a stride that is a multiple of 64 bytes; padding bytes are equal in
// all rows, so they add the same count (stride − L) to every pair and are subtracted.
constexpr std::size_t kLanes = 64;

// Number of equal bytes of a[0, n) and b[0, n), n a multiple of kLanes. Byte lanes count
// up to 255 chunks before they are folded into the total; the compiler turns the inner
// loop into vector byte compares.
inline std::size_t count_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) {
  std::size_t total = 0;
  for (std::size_t start = 0; start < n;) {
    const std::size_t stop = std::min(n, start + 255 * kLanes);
    alignas(64) std::uint8_t acc[kLanes] = {};
    for (std::size_t c = start; c < stop; c += kLanes)
      for (std::size_t k = 0; k < kLanes; ++k) acc[k] = std::uint8_t(acc[k] + (a[c + k] == b[c + k]));
    unsigned sum = 0;
    for (std::size_t k = 0; k < kLanes; ++k) sum += acc[k];
    total += sum;
    start = stop;
  }
  return total;
}

}  // namespace

VectorD sequence_weights(const Alignment& alignment, double theta, const Exec& exec) {
  check_arg(theta >= 0.0 && theta <= 1.0, "sequence_weights: theta must be in [0, 1], got {}", theta);
  const std::size_t n = alignment.num_sequences();
  const std::size_t len = alignment.num_columns();
  VectorD weights(static_cast<Eigen::Index>(n));
  if (n == 0) return weights;

  // Identical sequences are neighbours of each other at any theta: the pairs are counted
  // over the distinct sequences, each weighing its number of copies. The counts are the
  // same integers as over all pairs (same weights), and an alignment of many copies of
  // few sequences (one column of 10^6 rows) takes O(distinct^2) instead of O(n^2).
  std::unordered_map<std::string_view, std::uint32_t> index_of;
  std::vector<std::uint32_t> distinct_of(n), copies;
  std::vector<std::size_t> first_row;
  const auto* rows = reinterpret_cast<const char*>(alignment.matrix.data());
  for (std::size_t s = 0; s < n; ++s) {
    const auto [it, fresh] = index_of.try_emplace(std::string_view(rows + s * len, len), std::uint32_t(first_row.size()));
    if (fresh) {
      first_row.push_back(s);
      copies.push_back(0);
    }
    distinct_of[s] = it->second;
    ++copies[it->second];
  }
  const std::size_t u = first_row.size();

  const std::size_t stride = std::max(kLanes, (len + kLanes - 1) / kLanes * kLanes);
  std::vector<std::uint8_t> packed(u * stride, 0);
  for (std::size_t d = 0; d < u; ++d)
    std::copy_n(alignment.matrix.data() + first_row[d] * len, len, packed.data() + d * stride);
  // id >= theta·L, with the product in double as plmc computes it: the smallest integer
  // count that passes is ceil(theta·L); padding adds stride − L to every count.
  const auto need = static_cast<std::size_t>(std::ceil(theta * double(len))) + (stride - len);

  // Fixed blocks of distinct rows (at most 64, whatever the thread count). Task b compares
  // the rows s of its block with every t > s and counts the neighbours of both s and t in
  // a partial vector of its own; the integer partials are then summed in task order.
  const std::size_t block = std::max<std::size_t>(32, (u + 63) / 64);
  const Blocks blocks{u, block};
  constexpr std::size_t kTile = 256;  // t rows kept in cache while the s rows sweep them
  std::vector<std::vector<std::uint32_t>> partial(blocks.count());
  parallel_for(exec, blocks.count(), [&](std::size_t b) {
    std::vector<std::uint32_t> count(u, 0);
    const std::size_t s0 = blocks.begin(b), s1 = blocks.end(b);
    for (std::size_t t0 = s0; t0 < u; t0 += kTile) {
      const std::size_t t1 = std::min(u, t0 + kTile);
      for (std::size_t s = s0; s < s1; ++s) {
        const std::uint8_t* rs = packed.data() + s * stride;
        std::uint32_t cs = 0;
        for (std::size_t t = std::max(t0, s + 1); t < t1; ++t) {
          if (count_equal(rs, packed.data() + t * stride, stride) >= need) {
            cs += copies[t];
            count[t] += copies[s];
          }
        }
        count[s] += cs;
      }
    }
    partial[b] = std::move(count);
  });
  std::vector<std::uint32_t> neighbours(copies);  // a sequence and its copies are its neighbours
  for (const auto& p : partial)
    for (std::size_t d = 0; d < u; ++d) neighbours[d] += p[d];
  for (std::size_t s = 0; s < n; ++s)
    weights[static_cast<Eigen::Index>(s)] = 1.0 / double(neighbours[distinct_of[s]]);
  return weights;
}

double effective_count(const VectorD& weights) {
  double sum = 0.0;
  for (Eigen::Index i = 0; i < weights.size(); ++i) sum += weights[i];
  return sum;
}

}  // namespace logz::io
