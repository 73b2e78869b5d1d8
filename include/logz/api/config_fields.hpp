#pragma once
/// @file config_fields.hpp
/// The training configs' fields by name, for front ends that take settings as name =
/// value pairs (Python keywords): one table per config, so a front end sets any field
/// through one loop, and a field added to a config and its table reaches every such
/// front end. Names are the configs' own members (the command line's options with '_'
/// for '-').
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "logz/api/continuous_train.hpp"
#include "logz/api/mrf_train.hpp"
#include "logz/api/rbm_tasks.hpp"

namespace logz::api {

// Seeds are std::uint64_t and counts std::size_t: one member-pointer type serves both here.
static_assert(std::is_same_v<std::uint64_t, std::size_t>, "config_fields assumes 64-bit size_t");

/// One field of config C: its name and where it lives.
template <class C>
struct ConfigField {
  using Member = std::variant<std::size_t C::*, double C::*, bool C::*, std::string C::*, std::vector<double> C::*>;
  std::string name;
  Member member;
};

template <class C>
using ConfigFields = std::vector<ConfigField<C>>;

const ConfigFields<TrainConfig>& fields_of(const TrainConfig*);
const ConfigFields<TrainFiles>& fields_of(const TrainFiles*);
const ConfigFields<ContinuousTrainConfig>& fields_of(const ContinuousTrainConfig*);
const ConfigFields<IsingTrainConfig>& fields_of(const IsingTrainConfig*);
const ConfigFields<PottsTrainConfig>& fields_of(const PottsTrainConfig*);
const ConfigFields<PottsDataConfig>& fields_of(const PottsDataConfig*);

/// The table of C: config_fields<TrainConfig>().
template <class C>
const ConfigFields<C>& config_fields() {
  return fields_of(static_cast<const C*>(nullptr));
}

/// The field of C called `name`, or nullptr.
template <class C>
const ConfigField<C>* find_config_field(const std::string& name) {
  for (const ConfigField<C>& f : config_fields<C>())
    if (f.name == name) return &f;
  return nullptr;
}

/// "a, b, c": the names of C's fields, in table order.
template <class C>
std::string config_field_names() {
  std::string out;
  for (const ConfigField<C>& f : config_fields<C>()) out += (out.empty() ? "" : ", ") + f.name;
  return out;
}

}  // namespace logz::api
