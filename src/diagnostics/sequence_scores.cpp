// Sequence energies and single-mutant effects under a Potts model (sequence_scores.hpp).
#include "logz/diagnostics/sequence_scores.hpp"

#include <fmt/format.h>

#include <vector>

#include "logz/core/check.hpp"

namespace logz {

Potts with_gap_state(const Potts& model) {
  const std::size_t q = model.num_states(), q1 = q + 1;
  MatrixD fields = MatrixD::Zero(Eigen::Index(model.n_sites()), Eigen::Index(q1));
  fields.rightCols(Eigen::Index(q)) = model.fields();
  VectorD couplings = VectorD::Zero(Eigen::Index(model.n_edges() * q1 * q1));
  for (std::size_t e = 0; e < model.n_edges(); ++e) {
    const std::span<const double> b = model.block(e);
    for (std::size_t a = 0; a < q; ++a)
      for (std::size_t c = 0; c < q; ++c) couplings[Eigen::Index(e * q1 * q1 + (a + 1) * q1 + c + 1)] = b[a * q + c];
  }
  return Potts(std::move(fields), model.edges(), std::move(couplings));
}

VectorD sequence_energies(const Potts& model, const Matrix<std::uint8_t>& states, const Exec& exec) {
  check_arg(std::size_t(states.cols()) == model.n_sites(), "sequence_energies: rows of {} sites, the model has {}",
            states.cols(), model.n_sites());
  const auto n = std::size_t(states.rows());
  for (Eigen::Index s = 0; s < states.rows(); ++s)
    for (Eigen::Index i = 0; i < states.cols(); ++i)
      check_arg(states(s, i) < model.num_states(), "sequence_energies: row {} site {} has state {}, not below q = {}",
                s + 1, i + 1, int(states(s, i)), model.num_states());
  VectorD energies(static_cast<Eigen::Index>(n));
  // Rows are independent: each task writes its own entry, so the bits never depend on
  // the thread count.
  parallel_for(exec, n, [&](std::size_t s) {
    energies[Eigen::Index(s)] = model.energy(states.row(Eigen::Index(s)).cast<double>().transpose());
  });
  return energies;
}

MatrixD single_mutant_effects(const Potts& model, const Eigen::Ref<const VectorD>& reference) {
  model.check_state("single_mutant_effects: the reference", reference);
  const std::size_t l = model.n_sites(), q = model.num_states();
  MatrixD delta(static_cast<Eigen::Index>(l), static_cast<Eigen::Index>(q));
  std::vector<double> local(q);
  for (std::size_t i = 0; i < l; ++i) {
    // Only site i's terms change: E(x with x_i = a) − E(x) = local(a) − local(x_i).
    model.site_energies(i, reference, local);
    const double wild = local[Potts::state_index(reference[Eigen::Index(i)])];
    for (std::size_t a = 0; a < q; ++a) delta(Eigen::Index(i), Eigen::Index(a)) = local[a] - wild;
  }
  return delta;
}

}  // namespace logz
