#include "aisle/optim/sparse_adam.hpp"

#include "aisle/ops/optim.hpp"

namespace aisle::optim {

SparseAdam::SparseAdam(std::vector<Var> params, const SparseAdamOptions& options)
    : Optimizer(std::move(params), options.lr, "SparseAdam"), options_(options) {
  ops::check_hyper("SparseAdam", ops::SparseAdamHyper{options_.lr, options_.beta1, options_.beta2, options_.eps, 1});
  for (size_t i = 0; i < this->params().size(); ++i) {
    const Tensor& v = this->params()[i].value();
    AISLE_CHECK(v.dim() >= 1, "SparseAdam: ", describe_param(i), " needs at least one axis (rows)");
    Slot s;
    s.exp_avg = add_state(i, "exp_avg", Tensor::zeros(v.shape(), v.dtype(), v.device()));
    s.exp_avg_sq = add_state(i, "exp_avg_sq", Tensor::zeros(v.shape(), v.dtype(), v.device()));
    s.step = add_step_counter(i);
    slots_.push_back(std::move(s));
  }
}

void SparseAdam::update(size_t index, const Var& param) {
  Slot& s = slots_[index];
  Tensor value = param.value();
  const ops::SparseRows rows = row_grad_of(param);
  const ops::SparseAdamHyper h{lr(), options_.beta1, options_.beta2, options_.eps, ++*s.step};
  ops::sparse_adam_update(value, rows, s.exp_avg, s.exp_avg_sq, h);
}

}  // namespace aisle::optim
