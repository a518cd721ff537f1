#include "aisle/optim/rowwise_adagrad.hpp"

#include "aisle/ops/optim.hpp"

namespace aisle::optim {

namespace {
ops::RowWiseAdagradHyper hyper_of(const RowWiseAdagradOptions& o, double lr) { return {lr, o.eps, o.weight_decay}; }
}  // namespace

RowWiseAdagrad::RowWiseAdagrad(std::vector<Var> params, const RowWiseAdagradOptions& options)
    : Optimizer(std::move(params), options.lr, "RowWiseAdagrad"), options_(options) {
  ops::check_hyper("RowWiseAdagrad", hyper_of(options_, options_.lr));
  for (size_t i = 0; i < this->params().size(); ++i) {
    const Tensor& v = this->params()[i].value();
    AISLE_CHECK(v.dim() >= 1, "RowWiseAdagrad: ", describe_param(i), " needs at least one axis (rows)");
    row_sums_.push_back(add_state(i, "row_sum", Tensor::zeros({v.size(0)}, v.dtype(), v.device())));
  }
}

void RowWiseAdagrad::update(size_t index, const Var& param) {
  Tensor value = param.value();
  ops::rowwise_adagrad_update(value, row_grad_of(param), row_sums_[index], hyper_of(options_, lr()));
}

}  // namespace aisle::optim
