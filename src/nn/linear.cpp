#include "aisle/nn/linear.hpp"

#include "aisle/autograd/elementwise.hpp"
#include "aisle/autograd/matmul.hpp"
#include "aisle/nn/init.hpp"

namespace aisle::nn {

Linear::Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias, DType dtype) {
  AISLE_CHECK(in_features > 0 && out_features > 0, "Linear: sizes must be positive, got ",
              in_features, " -> ", out_features);
  weight_ = register_parameter("weight", init::uniform_fan_in({out_features, in_features}, in_features, gen, dtype));
  if (bias) bias_ = register_parameter("bias", init::uniform_fan_in({out_features}, in_features, gen, dtype));
}

Var Linear::forward(const Var& x) const {
  AISLE_CHECK(x.dim() >= 1 && x.size(-1) == weight_.size(1), "Linear: input ", x.describe(),
              " does not end in ", weight_.size(1), " features");
  Var y = matmul(x, weight_, false, true);
  return bias_.defined() ? y + bias_ : y;
}

Var activate(Activation act, const Var& x) {
  switch (act) {
    case Activation::relu: return relu(x);
    case Activation::tanh: return tanh(x);
    case Activation::sigmoid: return sigmoid(x);
    case Activation::gelu: return gelu(x);
    case Activation::leaky_relu: return leaky_relu(x);
    case Activation::none: return x;
  }
  return x;
}

MLP::MLP(const std::vector<int64_t>& dims, Generator& gen, Activation act, double dropout, DType dtype)
    : act_(act), dropout_(dropout) {
  AISLE_CHECK(dims.size() >= 2, "MLP: needs at least an input and an output size");
  AISLE_CHECK(dropout >= 0 && dropout < 1, "MLP: dropout must be in [0, 1), got ", dropout);
  for (size_t i = 0; i + 1 < dims.size(); ++i)
    layers_.push_back(register_module("layer" + std::to_string(i),
                                      std::make_shared<Linear>(dims[i], dims[i + 1], gen, true, dtype)));
}

Var MLP::forward(const Var& x, Generator* gen) const {
  Var h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(h);
    if (i + 1 == layers_.size()) break;
    h = activate(act_, h);
    if (dropout_ > 0 && training()) {
      AISLE_CHECK(gen != nullptr, "MLP: dropout in training mode needs a Generator");
      h = dropout(h, dropout_, *gen, true);
    }
  }
  return h;
}

}  // namespace aisle::nn
