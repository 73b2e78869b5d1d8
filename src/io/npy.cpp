// NumPy .npy format, versions 1.0 / 2.0 / 3.0, as specified in numpy/lib/format.py
// (NEP 1): "\x93NUMPY", major, minor, little-endian header length (uint16 for 1.0,
// uint32 for 2.0 and 3.0), an ASCII (3.0: UTF-8) Python dict literal with the keys
// 'descr', 'fortran_order' and 'shape', padded with spaces and a final '\n' so that
// the data starts at a multiple of 64 bytes, then the raw data: C order, or Fortran
// order when 'fortran_order' is True (what np.save writes for a transposed or
// np.asfortranarray array), which is permuted into C order on reading.
#include "logz/io/npy.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/io/atomic_file.hpp"

namespace logz::io {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kAlign = 64;             // numpy.lib.format.ARRAY_ALIGN
constexpr std::size_t kGrowthAxisDigits = 21;  // numpy.lib.format.GROWTH_AXIS_MAX_DIGITS

// A Python literal as it may appear in a .npy header. The header is data from a file,
// so it is parsed, never evaluated; `source` keeps the literal's text for messages.
struct PyValue {
  enum class Kind { str, boolean, none, integer, tuple, list, dict } kind = Kind::none;
  std::string_view source;
  std::string str;
  bool boolean = false;
  std::optional<std::int64_t> integer;  // empty when the literal overflows int64
  std::vector<PyValue> items;           // tuple and list elements, dict values
  std::vector<std::string> keys;        // dict keys (string keys only)
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  PyValue parse_header() {
    skip_space();
    if (peek() != '{') error("expected a Python dict literal");
    PyValue v = parse_value();
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the dict");
    return v;
  }

 private:
  [[noreturn]] void error(std::string_view what) const {
    std::string_view shown = text_;
    while (!shown.empty() && (shown.back() == ' ' || shown.back() == '\n')) shown.remove_suffix(1);
    fail(Exit::data, "{}: malformed .npy header: {} at offset {}: {}", name_, what, pos_, shown);
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r'))
      ++pos_;
  }
  bool consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  PyValue parse_value(int depth = 0) {
    // The header can be 4 GiB (version 2.0); bound the recursion on nested brackets.
    if (depth > kMaxDepth) error("nesting too deep");
    skip_space();
    const std::size_t start = pos_;
    PyValue v;
    const char c = peek();
    if (c == '{') {
      v.kind = PyValue::Kind::dict;
      ++pos_;
      for (;;) {
        skip_space();
        if (peek() == '}') break;
        PyValue key = parse_value(depth + 1);
        if (key.kind != PyValue::Kind::str) error("dict keys must be strings");
        // Python keeps the last of a repeated key and a reader that kept the first would
        // see another array than NumPy does: a header that repeats one is refused.
        for (const std::string& k : v.keys)
          if (k == key.str) error(fmt::format("the key '{}' is repeated", k));
        skip_space();
        if (peek() != ':') error("expected ':' after a key");
        ++pos_;
        v.keys.push_back(std::move(key.str));
        v.items.push_back(parse_value(depth + 1));
        skip_space();
        if (peek() == ',') {
          ++pos_;
        } else if (peek() != '}') {
          error("expected ',' or '}' in the dict");
        }
      }
      ++pos_;
    } else if (c == '(' || c == '[') {
      const char close = c == '(' ? ')' : ']';
      v.kind = c == '(' ? PyValue::Kind::tuple : PyValue::Kind::list;
      ++pos_;
      bool comma = false;
      for (;;) {
        skip_space();
        if (peek() == close) break;
        v.items.push_back(parse_value(depth + 1));
        skip_space();
        if (peek() == ',') {
          ++pos_;
          comma = true;
        } else if (peek() != close) {
          error(c == '(' ? "expected ',' or ')' in a tuple" : "expected ',' or ']' in a list");
        }
      }
      ++pos_;
      // As in Python, "(3)" is the integer 3, not a one-element tuple.
      if (c == '(' && v.items.size() == 1 && !comma) {
        PyValue inner = std::move(v.items.front());
        inner.source = text_.substr(start, pos_ - start);
        return inner;
      }
    } else if (c == '\'' || c == '"') {
      v.kind = PyValue::Kind::str;
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size()) error("unterminated string");
        const char ch = text_[pos_++];
        if (ch == c) break;
        if (ch == '\\') {
          if (pos_ >= text_.size()) error("unterminated string");
          v.str += text_[pos_++];
        } else {
          v.str += ch;
        }
      }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = PyValue::Kind::integer;
      const bool negative = c == '-';
      if (negative) ++pos_;
      if (!(peek() >= '0' && peek() <= '9')) error("expected a digit");
      std::int64_t n = 0;
      bool overflow = false;
      while (peek() >= '0' && peek() <= '9') {
        const int d = peek() - '0';
        if (n > (std::numeric_limits<std::int64_t>::max() - d) / 10) overflow = true;
        if (!overflow) n = n * 10 + d;
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long literal, as old NumPy wrote shapes
      if (!overflow) v.integer = negative ? -n : n;
    } else if (consume("True")) {
      v.kind = PyValue::Kind::boolean;
      v.boolean = true;
    } else if (consume("False")) {
      v.kind = PyValue::Kind::boolean;
    } else if (consume("None")) {
      v.kind = PyValue::Kind::none;
    } else {
      error(pos_ < text_.size() ? "unexpected character" : "unexpected end of header");
    }
    v.source = text_.substr(start, pos_ - start);
    return v;
  }

  static constexpr int kMaxDepth = 32;
  std::string_view text_;
  std::string_view name_;
  std::size_t pos_ = 0;
};

const PyValue& require_key(const PyValue& dict, std::string_view key, std::string_view name) {
  for (std::size_t i = 0; i < dict.keys.size(); ++i)
    if (dict.keys[i] == key) return dict.items[i];
  fail(Exit::data, "{}: malformed .npy header: missing key '{}'", name, key);
}

// A readable name for a NumPy type string such as "f2" or "c16", for messages.
std::string numpy_type_name(std::string_view type) {
  if (type.empty()) return {};
  const std::string_view digits = type.substr(1);
  const bool sized = !digits.empty() && digits.size() <= 4 && digits.find_first_not_of("0123456789") == std::string_view::npos;
  const std::string bits = sized ? std::to_string(8 * std::stoul(std::string(digits))) : std::string();
  switch (type[0]) {
    case 'b': return "bool";
    case 'i': return sized ? "int" + bits : "";
    case 'u': return sized ? "uint" + bits : "";
    case 'f': return sized ? "float" + bits : "";
    case 'c': return sized ? "complex" + bits : "";
    case 'U': return "unicode string";
    case 'S': return "byte string";
    case 'O': return "Python object";
    case 'M': return "datetime64";
    case 'm': return "timedelta64";
    case 'V': return "void";
    default: return {};
  }
}

DType parse_descr(const PyValue& descr, std::string_view name) {
  if (descr.kind == PyValue::Kind::list)
    fail(Exit::data, "{}: unsupported dtype {} (a structured array); supported dtypes are uint8, int32, int64, float32, float64",
         name, descr.source);
  if (descr.kind != PyValue::Kind::str)
    fail(Exit::data, "{}: malformed .npy header: 'descr' must be a string, got {}", name, descr.source);
  const std::string& s = descr.str;
  // '<' little-endian, '>' big-endian, '=' native (little-endian here), '|' not applicable.
  char order = '=';
  std::string_view type = s;
  if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '=' || s[0] == '|')) {
    order = s[0];
    type.remove_prefix(1);
  }
  std::optional<DType> t;
  if (type == "u1") t = DType::u8;
  else if (type == "i4") t = DType::i32;
  else if (type == "i8") t = DType::i64;
  else if (type == "f4") t = DType::f32;
  else if (type == "f8") t = DType::f64;
  if (!t) {
    const std::string kind = numpy_type_name(type);
    fail(Exit::data, "{}: unsupported dtype '{}'{}; supported dtypes are uint8, int32, int64, float32, float64", name, s,
         kind.empty() ? std::string() : " (" + kind + ")");
  }
  if (order == '>' && *t != DType::u8)
    fail(Exit::data, "{}: big-endian dtype '{}' is not supported; convert with a.astype('<{}')", name, s, type);
  return *t;
}

std::vector<std::size_t> parse_shape(const PyValue& shape, std::string_view name) {
  if (shape.kind != PyValue::Kind::tuple)
    fail(Exit::data, "{}: malformed .npy header: 'shape' must be a tuple of non-negative integers, got {}", name,
         shape.source);
  // NumPy's own limit (NPY_MAXDIMS is 64 in NumPy 2, 32 before).
  constexpr std::size_t kMaxDims = 64;
  if (shape.items.size() > kMaxDims)
    fail(Exit::data, "{}: malformed .npy header: 'shape' has {} dimensions; NumPy allows at most {}", name,
         shape.items.size(), kMaxDims);
  std::vector<std::size_t> dims;
  for (const PyValue& d : shape.items) {
    if (d.kind != PyValue::Kind::integer || !d.integer || *d.integer < 0)
      fail(Exit::data, "{}: malformed .npy header: 'shape' must be a tuple of non-negative integers, got {}", name,
           shape.source);
    dims.push_back(static_cast<std::size_t>(*d.integer));
  }
  return dims;
}

// The C-order bytes of an array whose `data` is in Fortran order (first index fastest).
// Reading the data as a C-order array of the reversed shape, the wanted array is its
// transpose: the element at C index (i_0, ..., i_{k-1}) sits at Fortran offset
// Σ i_j · stride_j with stride_0 = 1, stride_j = stride_{j-1} · shape_{j-1}. An odometer
// over the C index keeps that offset as it goes, so the copy is one pass.
std::vector<std::byte> c_order_from_fortran(const std::byte* data, const std::vector<std::size_t>& shape,
                                            std::size_t item_size) {
  std::size_t count = 1;
  for (std::size_t d : shape) count *= d;
  std::vector<std::byte> out(count * item_size);
  if (count == 0) return out;
  const std::size_t rank = shape.size();
  std::vector<std::size_t> stride(rank, 1), index(rank, 0);
  for (std::size_t j = 1; j < rank; ++j) stride[j] = stride[j - 1] * shape[j - 1];
  std::size_t offset = 0;
  for (std::size_t c = 0; c < count; ++c) {
    std::memcpy(out.data() + c * item_size, data + offset * item_size, item_size);
    // Step the C index: the last axis fastest, carrying into the ones before it.
    for (std::size_t j = rank; j-- > 0;) {
      if (++index[j] < shape[j]) {
        offset += stride[j];
        break;
      }
      offset -= stride[j] * (shape[j] - 1);
      index[j] = 0;
    }
  }
  return out;
}

std::uint32_t read_le(const std::byte* p, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

namespace {

// What a .npy header says: the array's dtype and shape, its memory order, and where and
// how long the data is.
struct NpyHeader {
  Array meta;  // dtype and shape; no bytes
  bool fortran = false;
  std::size_t data_offset = 0, data_bytes = 0;
};

// The header at the start of `bytes`, or nothing while `bytes` is too short to hold it
// (only when `partial`: the first bytes of a file still being read).
std::optional<NpyHeader> read_header(std::span<const std::byte> bytes, std::string_view name, bool partial) {
  const std::size_t size = bytes.size();
  const auto* chars = reinterpret_cast<const char*>(bytes.data());
  const auto short_of = [&](std::size_t needed) { return size < needed && partial; };
  if (short_of(kMagic.size())) return std::nullopt;
  if (size < kMagic.size() || std::string_view(chars, kMagic.size()) != kMagic)
    fail(Exit::data, "{}: not a .npy file (bad magic string)", name);
  if (short_of(8)) return std::nullopt;
  if (size < 8) fail(Exit::data, "{}: truncated .npy header: expected at least 10 bytes, got {}", name, size);
  const auto major = static_cast<unsigned>(bytes[6]);
  const auto minor = static_cast<unsigned>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail(Exit::data, "{}: unsupported .npy format version {}.{} (supported: 1.0, 2.0, 3.0)", name, major, minor);
  const std::size_t len_size = major == 1 ? 2 : 4;
  const std::size_t prefix = 8 + len_size;
  if (short_of(prefix)) return std::nullopt;
  if (size < prefix) fail(Exit::data, "{}: truncated .npy header: expected at least {} bytes, got {}", name, prefix, size);
  const std::size_t header_len = read_le(bytes.data() + 8, len_size);
  if (short_of(prefix + header_len)) return std::nullopt;
  if (size - prefix < header_len)
    fail(Exit::data, "{}: truncated .npy header: expected {} bytes, got {}", name, prefix + header_len, size);

  const std::string_view header(chars + prefix, header_len);
  const PyValue dict = HeaderParser(header, name).parse_header();
  NpyHeader h;
  h.meta.dtype = parse_descr(require_key(dict, "descr", name), name);
  const PyValue& fortran = require_key(dict, "fortran_order", name);
  if (fortran.kind != PyValue::Kind::boolean)
    fail(Exit::data, "{}: malformed .npy header: 'fortran_order' must be True or False, got {}", name, fortran.source);
  h.fortran = fortran.boolean;
  const PyValue& shape = require_key(dict, "shape", name);
  h.meta.shape = parse_shape(shape, name);
  // Expected payload in bytes, with the product checked for overflow; the whole file's
  // size must fit in size_t too.
  std::size_t expected = dtype_size(h.meta.dtype);
  for (std::size_t d : h.meta.shape) {
    if (d != 0 && expected > std::numeric_limits<std::size_t>::max() / d)
      fail(Exit::data, "{}: malformed .npy header: shape {} is too large", name, shape.source);
    expected *= d;
  }
  if (expected > std::numeric_limits<std::size_t>::max() - prefix - header_len)
    fail(Exit::data, "{}: malformed .npy header: shape {} is too large", name, shape.source);
  h.data_offset = prefix + header_len;
  h.data_bytes = expected;
  return h;
}

}  // namespace

std::optional<std::size_t> npy_file_size(std::span<const std::byte> head, std::string_view name) {
  const std::optional<NpyHeader> h = read_header(head, name, true);
  if (!h) return std::nullopt;
  return h->data_offset + h->data_bytes;
}

Array parse_npy(std::span<const std::byte> bytes, std::string_view name) {
  NpyHeader h = *read_header(bytes, name, false);
  Array a = std::move(h.meta);
  const std::size_t expected = h.data_bytes;
  const std::size_t actual = bytes.size() - h.data_offset;
  if (actual < expected)
    fail(Exit::data, "{}: truncated .npy data: expected {} bytes for shape {} {}, got {}", name, expected,
         a.shape_string(), dtype_name(a.dtype), actual);
  if (actual > expected)
    fail(Exit::data, "{}: .npy data has {} bytes, expected {} for shape {} {} (trailing bytes)", name, actual, expected,
         a.shape_string(), dtype_name(a.dtype));
  const std::byte* data = bytes.data() + h.data_offset;
  // With at most one axis longer than 1 the two orders store the same bytes.
  std::size_t long_axes = 0;
  for (std::size_t d : a.shape) long_axes += d > 1 ? 1 : 0;
  if (h.fortran && long_axes > 1) a.bytes = c_order_from_fortran(data, a.shape, dtype_size(a.dtype));
  else a.bytes.assign(data, data + expected);
  return a;
}

Array read_npy(const std::string& path) {
  const std::string contents = read_file(path);
  return parse_npy(std::as_bytes(std::span(contents.data(), contents.size())), path);
}

std::string encode_npy(const Array& a) {
  if (a.bytes.size() != a.size() * dtype_size(a.dtype))
    fail(Exit::software, "encode_npy: array of shape {} {} holds {} bytes, expected {}", a.shape_string(),
         dtype_name(a.dtype), a.bytes.size(), a.size() * dtype_size(a.dtype));
  // The dict exactly as numpy.lib.format._write_array_header prints it: sorted keys,
  // repr() values, a trailing ", ", then spare spaces so that the first axis can grow
  // in place, then padding to a multiple of 64 bytes and a final '\n'.
  std::string header =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", numpy_descr(a.dtype), a.shape_string());
  if (!a.shape.empty()) {
    const std::size_t digits = std::to_string(a.shape.front()).size();
    if (digits < kGrowthAxisDigits) header.append(kGrowthAxisDigits - digits, ' ');
  }
  // Version 1.0 stores the header length in 16 bits; 2.0 only when it does not fit.
  std::size_t len_size = 2;
  std::size_t total = 0;
  for (;;) {
    const std::size_t unpadded = kMagic.size() + 2 + len_size + header.size() + 1;
    // Like NumPy, an already aligned header still gets a full 64 bytes of padding.
    total = unpadded + (kAlign - unpadded % kAlign);
    if (len_size == 4 || total - kMagic.size() - 2 - len_size <= 0xFFFF) break;
    len_size = 4;
  }
  const std::size_t header_len = total - kMagic.size() - 2 - len_size;
  header.append(header_len - header.size() - 1, ' ');
  header += '\n';

  std::string out;
  out.reserve(total + a.bytes.size());
  out += kMagic;
  out += static_cast<char>(len_size == 2 ? 1 : 2);
  out += '\0';
  for (std::size_t i = 0; i < len_size; ++i) out += static_cast<char>((header_len >> (8 * i)) & 0xFF);
  out += header;
  out.append(reinterpret_cast<const char*>(a.bytes.data()), a.bytes.size());
  return out;
}

void write_npy(const std::string& path, const Array& a) { write_file_atomic(path, encode_npy(a)); }

}  // namespace logz::io
