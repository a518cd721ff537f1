#include "aisle/nn/module.hpp"

namespace aisle::nn {

std::vector<std::pair<std::string, Var>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Var>> out = params_;
  for (const auto& [name, child] : children_)
    for (auto& [sub, v] : child->named_parameters()) out.emplace_back(name + "." + sub, v);
  return out;
}

std::vector<Var> Module::parameters() const {
  std::vector<Var> out;
  for (auto& [name, v] : named_parameters()) out.push_back(v);
  return out;
}

void Module::to(Device device) {
  for (auto& [name, v] : named_parameters()) v.set_value(v.value().to(device));
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

Var Module::register_parameter(std::string name, Tensor value, bool sparse) {
  for (const auto& [existing, v] : params_)
    AISLE_CHECK(existing != name, "Module: parameter '", name, "' registered twice");
  Var v = Var::parameter(std::move(value), name);
  if (sparse) v.set_sparse(true);
  params_.emplace_back(std::move(name), v);
  return v;
}

}  // namespace aisle::nn
