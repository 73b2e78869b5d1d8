// The estimator registry as plain data (api/estimator_registry.hpp).
#include "logz/api/estimator_registry.hpp"
#include <algorithm>

namespace logz::api {

namespace {
template <class M>
EstimatorInfo info_of() {
  return {std::string(M::name), std::string(M::summary), M::unbiased_z, M::uses_schedule, M::needs_start,
          M::options(), M::streams(), std::string(M::budget), M::self_replicated, M::default_betas};
}
template <class... Ms>
std::vector<EstimatorInfo> infos(std::tuple<Ms...>*) {
  return {info_of<Ms>()...};
}
}  // namespace

const std::vector<EstimatorInfo>& estimators() {
  static const std::vector<EstimatorInfo> list = infos(static_cast<EstimatorMethods*>(nullptr));
  return list;
}

const EstimatorInfo* find_estimator(std::string_view name) {
  for (const EstimatorInfo& e : estimators())
    if (e.name == name) return &e;
  return nullptr;
}

std::string estimator_names() {
  std::string out;
  for (const EstimatorInfo& e : estimators()) out += (out.empty() ? "" : ", ") + e.name;
  return out;
}

const std::vector<MethodOption>& method_options() {
  static const std::vector<MethodOption> list = [] {
    std::vector<MethodOption> out;
    for (const EstimatorInfo& e : estimators())
      for (const OptionField& f : e.options) {
        auto it = std::find_if(out.begin(), out.end(), [&](const MethodOption& o) { return o.field.name == f.name; });
        if (it == out.end()) out.push_back({f, {e.name}});
        else it->methods.push_back(e.name);
      }
    return out;
  }();
  return list;
}

std::vector<OptionField> method_option_fields() {
  std::vector<OptionField> out;
  for (const MethodOption& o : method_options()) out.push_back(o.field);
  return out;
}

}  // namespace logz::api
