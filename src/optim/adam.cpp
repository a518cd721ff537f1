#include "aisle/optim/adam.hpp"

namespace aisle::optim {

Adam::Adam(std::vector<Var> params, const AdamOptions& o)
    : Adam(std::move(params), ops::AdamHyper{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, false, 1}, "Adam") {}

Adam::Adam(std::vector<Var> params, const ops::AdamHyper& hyper, std::string name)
    : Optimizer(std::move(params), hyper.lr, std::move(name)), hyper_(hyper) {
  ops::check_hyper(this->name().c_str(), hyper_);
  for (size_t i = 0; i < this->params().size(); ++i) {
    const Tensor& v = this->params()[i].value();
    Slot s;
    s.exp_avg = add_state(i, "exp_avg", Tensor::zeros(v.shape(), v.dtype(), v.device()));
    s.exp_avg_sq = add_state(i, "exp_avg_sq", Tensor::zeros(v.shape(), v.dtype(), v.device()));
    s.step = add_step_counter(i);
    slots_.push_back(std::move(s));
  }
}

void Adam::check_grad(size_t index, const Var& param) const {
  if (!param.sparse_grad().empty())
    fail(index, "has a sparse gradient; " + name() + " updates dense gradients only. Use SparseAdam "
                "(lazy Adam on touched rows) or RowWiseAdagrad for sparse parameters, or make it "
                "dense (set_sparse(false)).");
}

void Adam::update(size_t index, const Var& param) {
  Slot& s = slots_[index];
  ops::AdamHyper h = hyper_;
  h.lr = lr();
  h.step = ++*s.step;
  Tensor value = param.value();
  ops::adam_update(value, param.grad(), s.exp_avg, s.exp_avg_sq, h);
}

AdamW::AdamW(std::vector<Var> params, const AdamWOptions& o)
    : Adam(std::move(params), ops::AdamHyper{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, true, 1}, "AdamW") {}

}  // namespace aisle::optim
