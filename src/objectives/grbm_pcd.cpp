// The PCD gradient of the Gaussian–Bernoulli RBM (objectives/grbm_pcd.hpp).
#include "logz/objectives/grbm_pcd.hpp"

namespace logz {

VectorD grbm_pcd_gradient(const GrbmFreeEnergy& model, const Eigen::Ref<const MatrixD>& positive,
                          const Eigen::Ref<const MatrixD>& negative, double weight_decay, const Exec& ex) {
  const VectorD positive_phase = grbm_mean_free_energy_gradient(model, positive, ex);
  VectorD g = positive_phase - grbm_mean_free_energy_gradient(model, negative, ex);
  if (weight_decay > 0) {
    using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const GaussianRbm& m = model.model();
    Eigen::Map<RowMajorD>(g.data(), Eigen::Index(m.n_visible()), Eigen::Index(m.n_hidden())) +=
        weight_decay * m.weights;
  }
  return g;
}

}  // namespace logz
