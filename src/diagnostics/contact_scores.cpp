// Contact scores: Frobenius norms of gauged coupling blocks with the average product correction.
#include "logz/diagnostics/contact_scores.hpp"

#include <fmt/format.h>

#include <cmath>

#include "logz/core/check.hpp"

namespace logz {

std::vector<ContactScore> contact_scores(const Potts& model) {
  const std::size_t l = model.n_sites();
  check_arg(l >= 3, "contact_scores: the model needs at least 3 sites, got {}", l);
  Potts gauged = model;
  gauged.zero_sum_gauge();
  MatrixD fn = MatrixD::Zero(Eigen::Index(l), Eigen::Index(l));
  for (std::size_t e = 0; e < gauged.n_edges(); ++e) {
    double ss = 0;
    for (double v : gauged.block(e)) ss += v * v;
    const auto [i, j] = gauged.edges()[e];
    fn(Eigen::Index(i), Eigen::Index(j)) = fn(Eigen::Index(j), Eigen::Index(i)) = std::sqrt(ss);
  }
  // APC over all pairs of the model (absent edges count as 0).
  const VectorD row_mean = fn.rowwise().sum() / double(l - 1);
  const double mean = fn.sum() / double(l * (l - 1));
  std::vector<ContactScore> out;
  out.reserve(l * (l - 1) / 2);
  for (std::size_t i = 0; i < l; ++i)
    for (std::size_t j = i + 1; j < l; ++j) {
      const double f = fn(Eigen::Index(i), Eigen::Index(j));
      const double apc = mean > 0 ? f - row_mean[Eigen::Index(i)] * row_mean[Eigen::Index(j)] / mean : f;
      out.push_back({i, j, f, apc});
    }
  return out;
}

std::string format_contact_scores(const std::vector<ContactScore>& scores, const std::vector<long>& positions,
                                  const std::string& reference) {
  std::string out = "# i ai j aj frobenius apc\n";
  auto pos = [&](std::size_t k) { return positions.empty() ? long(k + 1) : positions.at(k); };
  auto letter = [&](std::size_t k) { return reference.empty() ? '-' : reference.at(k); };
  for (const ContactScore& c : scores)
    out += fmt::format("{} {} {} {} {:.6f} {:.6f}\n", pos(c.i), letter(c.i), pos(c.j), letter(c.j), c.frobenius,
                       c.apc);
  return out;
}

}  // namespace logz
