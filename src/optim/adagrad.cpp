#include "aisle/optim/adagrad.hpp"

#include <cmath>

#include "aisle/ops/optim.hpp"

namespace aisle::optim {

namespace {
ops::AdagradHyper hyper_of(const AdagradOptions& o, double lr) { return {lr, o.eps, o.weight_decay}; }
}  // namespace

Adagrad::Adagrad(std::vector<Var> params, const AdagradOptions& options)
    : Optimizer(std::move(params), options.lr, "Adagrad"), options_(options) {
  ops::check_hyper("Adagrad", hyper_of(options_, options_.lr));
  AISLE_CHECK(std::isfinite(options_.initial_accumulator_value) && options_.initial_accumulator_value >= 0.0,
              "Adagrad: initial_accumulator_value must be finite and non-negative, got ",
              options_.initial_accumulator_value);
  for (size_t i = 0; i < this->params().size(); ++i) {
    const Tensor& v = this->params()[i].value();
    sums_.push_back(add_state(i, "sum", Tensor::full(v.shape(), options_.initial_accumulator_value,
                                                     v.dtype(), v.device())));
  }
}

void Adagrad::check_grad(size_t index, const Var& param) const {
  if (!param.sparse_grad().empty() && options_.weight_decay != 0.0)
    fail(index, "has a sparse gradient, which Adagrad weight_decay (" +
                    std::to_string(options_.weight_decay) + ") does not support: decay would move "
                    "every row. Use weight_decay 0 for sparse parameters, or a dense parameter.");
}

void Adagrad::update(size_t index, const Var& param) {
  Tensor value = param.value();
  const ops::AdagradHyper h = hyper_of(options_, lr());
  if (param.grad().defined()) {
    ops::adagrad_update(value, dense_grad_of(param), sums_[index], h);
    return;
  }
  ops::sparse_adagrad_update(value, ops::coalesce_row_pieces(value, param.sparse_grad()), sums_[index], h);
}

}  // namespace aisle::optim
