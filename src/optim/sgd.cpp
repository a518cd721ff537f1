#include "aisle/optim/sgd.hpp"

#include <cmath>

#include "aisle/ops/optim.hpp"

namespace aisle::optim {

namespace {
ops::SgdHyper hyper_of(const SGDOptions& o, double lr) { return {lr, o.momentum, o.weight_decay, o.nesterov}; }
}  // namespace

SGD::SGD(std::vector<Var> params, const SGDOptions& options)
    : Optimizer(std::move(params), std::isnan(options.lr) ? 0.0 : options.lr, "SGD"), options_(options) {
  AISLE_CHECK(!std::isnan(options.lr), "SGD: lr has no default; set SGDOptions::lr");
  ops::check_hyper("SGD", hyper_of(options_, options_.lr));
  momentum_.resize(this->params().size());
  if (options_.momentum == 0.0) return;
  for (size_t i = 0; i < momentum_.size(); ++i) {
    const Tensor& v = this->params()[i].value();
    momentum_[i] = add_state(i, "momentum_buffer", Tensor::zeros(v.shape(), v.dtype(), v.device()));
  }
}

void SGD::check_grad(size_t index, const Var& param) const {
  if (param.sparse_grad().empty()) return;
  if (options_.momentum != 0.0)
    fail(index, "has a sparse gradient, which SGD momentum (" + std::to_string(options_.momentum) +
                    ") does not support: momentum would move every row. Use momentum 0 for sparse "
                    "parameters, or a dense parameter (set_sparse(false)).");
  if (options_.weight_decay != 0.0)
    fail(index, "has a sparse gradient, which SGD weight_decay (" +
                    std::to_string(options_.weight_decay) + ") does not support: decay would move "
                    "every row. Use weight_decay 0 for sparse parameters, or a dense parameter.");
}

void SGD::update(size_t index, const Var& param) {
  Tensor value = param.value();
  if (param.grad().defined()) {
    ops::sgd_update(value, dense_grad_of(param), momentum_[index], hyper_of(options_, lr()));
    return;
  }
  ops::sparse_sgd_update(value, ops::coalesce_row_pieces(value, param.sparse_grad()), lr());
}

}  // namespace aisle::optim
