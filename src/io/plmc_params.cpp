// plmc's binary parameter file, read and written from the layout in plmc_params.hpp
// (plmc's src/plm.c, OutputParametersFull; scripts/read_params.m reads the same order).
#include "logz/io/plmc_params.hpp"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "logz/core/check.hpp"
#include "logz/io/atomic_file.hpp"
#include "logz/io/mrf_file.hpp"

namespace logz::io {
namespace {

// plmc writes its machine's byte order with fwrite; every platform it runs on is
// little-endian, and so is the layout documented here.
static_assert(std::endian::native == std::endian::little, "plmc_params: a big-endian host needs byte swaps");

constexpr std::size_t kHeaderBytes = 5 * 4 + 5 * 4;
constexpr std::int64_t kMaxSites = 1'000'000;  // keeps the size arithmetic within 64 bits

struct Header {
  std::int32_t l, q, n, s, iterations;
};

Header header_of(std::string_view bytes) {
  Header h{};
  std::memcpy(&h, bytes.data(), sizeof h);
  return h;
}

bool plausible(const Header& h) {
  return h.l >= 1 && h.l <= kMaxSites && h.q >= 2 && h.q <= 255 && h.n >= 0 && h.s >= 0;
}

std::uint64_t pairs(std::uint64_t l) { return l * (l - 1) / 2; }

// The file size the header implies.
std::uint64_t expected_size(const Header& h) {
  const std::uint64_t l = std::uint64_t(h.l), q = std::uint64_t(h.q);
  return kHeaderBytes + q + 4 * (std::uint64_t(h.n) + std::uint64_t(h.s)) + l + 4 * l + 2 * 4 * l * q +
         2 * 4 * pairs(l) * q * q;
}

// Reads consecutive little-endian values from the file's bytes.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  template <class T>
  T next() {
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  template <class T>
  void fill(T* out, std::size_t n) {
    if (n == 0) return;  // an empty vector's data() may be null, which memcpy may not be given
    std::memcpy(out, bytes_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
  }
  std::string text(std::size_t n) {
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

class Writer {
 public:
  template <class T>
  void put(T v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    out.append(p, sizeof v);
  }
  template <class T>
  void put_all(const T* v, std::size_t n) {
    out.append(reinterpret_cast<const char*>(v), n * sizeof(T));
  }
  std::string out;
};

float to_float(double v, const char* what, std::size_t index) {
  check_data(std::isfinite(v) && std::abs(v) <= double(std::numeric_limits<float>::max()),
             "write_plmc_params: {} {} is {}, beyond float32's range", what, index, v);
  return float(v);
}

// The extra array `name` if present, checked for dtype and shape.
const Array* find_array(const NamedArrays& extra, std::string_view name, DType dtype,
                        const std::vector<std::size_t>& shape, const std::string& path) {
  for (const auto& [n, a] : extra) {
    if (n != name) continue;
    check_data(a.dtype == dtype && a.shape == shape,
               "{}: array '{}' has dtype {} and shape {}; plmc's layout needs {} {}", path, name, dtype_name(a.dtype),
               a.shape_string(), dtype_name(dtype), Array{dtype, shape, {}}.shape_string());
    return &a;
  }
  return nullptr;
}

}  // namespace

bool is_plmc_params(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes) return false;
  const Header h = header_of(bytes);
  return plausible(h) && expected_size(h) == bytes.size();
}

PlmcParams read_plmc_params(const std::string& path) { return parse_plmc_params(read_file(path), path); }

PlmcParams parse_plmc_params(std::string_view bytes, const std::string& path) {
  check_data(bytes.size() >= kHeaderBytes, "{}: {} bytes, too short for plmc's parameter header ({} bytes)", path,
             bytes.size(), kHeaderBytes);
  const Header h = header_of(bytes);
  check_data(plausible(h),
             "{}: not a plmc parameter file: its header says L = {}, q = {}, {} sequences used and {} skipped "
             "(expected L >= 1, 2 <= q <= 255, counts >= 0)",
             path, h.l, h.q, h.n, h.s);
  check_data(expected_size(h) == bytes.size(),
             "{}: {} bytes, but plmc's layout for L = {}, q = {} and {} sequences needs {} (truncated or not a plmc "
             "parameter file)",
             path, bytes.size(), h.l, h.q, std::int64_t(h.n) + h.s, expected_size(h));
  const auto l = std::size_t(h.l), q = std::size_t(h.q), p = std::size_t(pairs(l));
  PlmcParams out;
  Reader r(bytes.substr(2 * 4));  // after L and q
  out.fit.num_sequences = r.next<std::int32_t>();
  out.fit.num_skipped = r.next<std::int32_t>();
  out.fit.max_iterations = r.next<std::int32_t>();
  out.fit.theta = r.next<float>();
  out.fit.lambda_h = r.next<float>();
  out.fit.lambda_e = r.next<float>();
  out.fit.lambda_group = r.next<float>();
  out.fit.neff = r.next<float>();
  out.alphabet = r.text(q);
  check_alphabet(out.alphabet, path);
  out.fit.neighbours.resize(std::size_t(h.n) + std::size_t(h.s));
  r.fill(out.fit.neighbours.data(), out.fit.neighbours.size());
  out.focus = r.text(l);
  out.positions.resize(l);
  r.fill(out.positions.data(), l);
  out.site_frequencies.resize(Eigen::Index(l), Eigen::Index(q));
  r.fill(out.site_frequencies.data(), l * q);
  MatrixF fields(static_cast<Eigen::Index>(l), static_cast<Eigen::Index>(q));
  r.fill(fields.data(), l * q);
  out.pair_frequencies.resize(Eigen::Index(p * q * q));
  r.fill(out.pair_frequencies.data(), p * q * q);
  VectorF couplings(Eigen::Index(p * q * q));
  r.fill(couplings.data(), p * q * q);

  for (std::size_t i = 0; i < l; ++i)
    for (std::size_t a = 0; a < q; ++a)
      check_data(std::isfinite(fields(Eigen::Index(i), Eigen::Index(a))), "{}: field h of site {} state {} is {}", path,
                 i + 1, a, fields(Eigen::Index(i), Eigen::Index(a)));
  out.model = Potts::dense(l, q);
  for (std::size_t e = 0; e < p; ++e) {
    const PottsEdge& pair = out.model.edges()[e];
    for (std::size_t k = 0; k < q * q; ++k)
      check_data(std::isfinite(couplings[Eigen::Index(e * q * q + k)]),
                 "{}: coupling e of sites {} and {}, states {} and {}, is {}", path, pair.i + 1, pair.j + 1, k / q,
                 k % q, couplings[Eigen::Index(e * q * q + k)]);
  }
  VectorD theta(Eigen::Index(out.model.num_parameters()));
  theta.head(Eigen::Index(l * q)) = Eigen::Map<const VectorF>(fields.data(), Eigen::Index(l * q)).cast<double>();
  theta.tail(couplings.size()) = couplings.cast<double>();
  out.model.set_parameters(theta);
  return out;
}

void write_plmc_params(const std::string& path, const PlmcParams& p) {
  const Potts& m = p.model;
  const std::size_t l = m.n_sites(), q = m.num_states(), np = std::size_t(pairs(l));
  check_arg(l <= std::size_t(kMaxSites) && q <= 255,
            "write_plmc_params: L = {} and q = {}; plmc's layout holds L <= {} and q <= 255",
            l, q, kMaxSites);
  auto check_size = [](std::size_t got, std::size_t want, const char* member) {
    check_arg(got == want, "write_plmc_params: {} has {} entries; the model needs {}", member, got, want);
  };
  check_size(p.alphabet.size(), q, "the alphabet");
  check_size(p.focus.size(), l, "the focus sequence");
  check_size(p.positions.size(), l, "positions");
  check_size(std::size_t(p.site_frequencies.size()), l * q, "site_frequencies");
  check_size(std::size_t(p.pair_frequencies.size()), np * q * q, "pair_frequencies");
  check_arg(p.fit.num_sequences >= 0 && p.fit.num_skipped >= 0,
            "write_plmc_params: the fit record has {} sequences used and {} skipped; counts must be >= 0",
            p.fit.num_sequences, p.fit.num_skipped);
  check_size(p.fit.neighbours.size(), std::size_t(p.fit.num_sequences) + std::size_t(p.fit.num_skipped),
             "fit.neighbours");

  Writer w;
  for (std::int32_t v :
       {std::int32_t(l), std::int32_t(q), p.fit.num_sequences, p.fit.num_skipped, p.fit.max_iterations})
    w.put(v);
  for (float v : {p.fit.theta, p.fit.lambda_h, p.fit.lambda_e, p.fit.lambda_group, p.fit.neff}) w.put(v);
  w.out += p.alphabet;
  w.put_all(p.fit.neighbours.data(), p.fit.neighbours.size());
  w.out += p.focus;
  w.put_all(p.positions.data(), l);
  w.put_all(p.site_frequencies.data(), l * q);
  for (std::size_t i = 0; i < l; ++i)
    for (std::size_t a = 0; a < q; ++a)
      w.put(to_float(m.fields()(Eigen::Index(i), Eigen::Index(a)), "field of site", i + 1));
  w.put_all(p.pair_frequencies.data(), np * q * q);
  for (std::size_t i = 0; i < l; ++i)
    for (std::size_t j = i + 1; j < l; ++j)
      for (std::size_t a = 0; a < q; ++a)
        for (std::size_t b = 0; b < q; ++b) w.put(to_float(m.coupling(i, j, a, b), "coupling of site", i + 1));
  write_file_atomic(path, w.out);
}

NamedArrays focus_arrays(const std::vector<std::int64_t>& positions, const std::string& letters) {
  NamedArrays out;
  out.emplace_back(kPositionsArray, Array::from_values<std::int64_t>({positions.size()}, positions));
  out.emplace_back(kFocusArray, Array::from_values<std::uint8_t>(
                                    {letters.size()}, std::vector<std::uint8_t>(letters.begin(), letters.end())));
  return out;
}

NamedArrays plmc_extra_arrays(const PlmcParams& p) {
  const std::size_t l = p.model.n_sites(), q = p.model.num_states();
  const std::size_t np = std::size_t(pairs(l));
  NamedArrays out = focus_arrays(std::vector<std::int64_t>(p.positions.begin(), p.positions.end()), p.focus);
  out.emplace_back("site_frequencies", Array::from_matrix<float>(p.site_frequencies));
  out.emplace_back(
      "pair_frequencies",
      Array::from_values<float>({np, q, q}, std::vector<float>(p.pair_frequencies.data(),
                                                               p.pair_frequencies.data() + p.pair_frequencies.size())));
  const PlmcFit& f = p.fit;
  out.emplace_back("plmc_fit", Array::from_values<double>(
                                   {8}, {double(f.num_sequences), double(f.num_skipped), double(f.max_iterations),
                                         f.theta, f.lambda_h, f.lambda_e, f.lambda_group, f.neff}));
  out.emplace_back("plmc_neighbours", Array::from_values<float>({f.neighbours.size()}, f.neighbours));
  return out;
}

PlmcParams plmc_params_of(const Potts& model, const std::string& alphabet, const NamedArrays& extra,
                          const std::string& path) {
  const std::size_t l = model.n_sites(), q = model.num_states(), np = std::size_t(pairs(l));
  check_data(alphabet.size() == q, "{}: the model has no alphabet; plmc's format needs one letter per state", path);
  PlmcParams p;
  p.model = model;
  p.alphabet = alphabet;
  p.focus.assign(l, alphabet[0]);
  p.positions.resize(l);
  for (std::size_t i = 0; i < l; ++i) p.positions[i] = std::int32_t(i + 1);
  p.site_frequencies = MatrixF::Zero(Eigen::Index(l), Eigen::Index(q));
  p.pair_frequencies = VectorF::Zero(Eigen::Index(np * q * q));
  if (const Array* a = find_array(extra, kPositionsArray, DType::i64, {l}, path))
    for (std::size_t i = 0; i < l; ++i) {
      const double v = a->at(i);
      check_data(v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max(),
                 "{}: positions[{}] = {} does not fit plmc's int32", path, i, v);
      p.positions[i] = std::int32_t(v);
    }
  if (const Array* a = find_array(extra, kFocusArray, DType::u8, {l}, path))
    p.focus.assign(reinterpret_cast<const char*>(a->bytes.data()), l);
  if (const Array* a = find_array(extra, "site_frequencies", DType::f32, {l, q}, path))
    p.site_frequencies = a->to_matrix<float>("site_frequencies");
  if (const Array* a = find_array(extra, "pair_frequencies", DType::f32, {np, q, q}, path))
    std::memcpy(p.pair_frequencies.data(), a->bytes.data(), a->bytes.size());
  if (const Array* a = find_array(extra, "plmc_fit", DType::f64, {8}, path)) {
    const std::vector<double> v = a->to_vector<double>();
    for (std::size_t k = 0; k < 3; ++k)
      check_data(v[k] >= 0 && v[k] <= std::numeric_limits<std::int32_t>::max() && v[k] == std::floor(v[k]),
                 "{}: plmc_fit[{}] = {} is not a count", path, k, v[k]);
    p.fit.num_sequences = std::int32_t(v[0]);
    p.fit.num_skipped = std::int32_t(v[1]);
    p.fit.max_iterations = std::int32_t(v[2]);
    p.fit.theta = float(v[3]);
    p.fit.lambda_h = float(v[4]);
    p.fit.lambda_e = float(v[5]);
    p.fit.lambda_group = float(v[6]);
    p.fit.neff = float(v[7]);
    const std::size_t records = std::size_t(p.fit.num_sequences) + std::size_t(p.fit.num_skipped);
    const Array* n = find_array(extra, "plmc_neighbours", DType::f32, {records}, path);
    p.fit.neighbours = n ? n->to_vector<float>() : std::vector<float>(records, 0.0f);
  }
  return p;
}

std::optional<ModelFile> read_model_if_plmc(const std::string& path) {
  {
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    if (!in.read(magic, 4) || std::memcmp(magic, "PK\3\4", 4) == 0) return std::nullopt;  // every .npz is a zip
  }
  const std::string bytes = read_file(path);
  if (!is_plmc_params(bytes)) return std::nullopt;
  PlmcParams p = parse_plmc_params(bytes, path);
  ModelFile f;
  f.extra = plmc_extra_arrays(p);
  f.alphabet = std::move(p.alphabet);
  f.model = std::move(p.model);
  return f;
}

}  // namespace logz::io
