#pragma once
#include <vector>

#include "aisle/nn/module.hpp"

namespace aisle::nn {

// y = x Wᵀ + b with W [out, in] (PyTorch's layout); x may have leading batch axes.
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias = true,
         DType dtype = DType::f32);
  Var forward(const Var& x) const;
  const Var& weight() const { return weight_; }
  const Var& bias() const { return bias_; }

 private:
  Var weight_, bias_;
};

enum class Activation { relu, tanh, sigmoid, gelu, leaky_relu, none };
Var activate(Activation act, const Var& x);

// Linear layers with an activation between them (none after the last), and optional dropout
// after each hidden activation. dims = {in, hidden..., out}.
class MLP : public Module {
 public:
  MLP(const std::vector<int64_t>& dims, Generator& gen, Activation act = Activation::relu,
      double dropout = 0.0, DType dtype = DType::f32);
  // `gen` feeds dropout masks in training mode.
  Var forward(const Var& x, Generator* gen = nullptr) const;

 private:
  std::vector<std::shared_ptr<Linear>> layers_;
  Activation act_;
  double dropout_;
};

}  // namespace aisle::nn
