#pragma once
// Internal: the per-element formulas of the loss family, shared verbatim by the CPU kernels
// (src/ops/loss.cpp) and the CUDA kernels (cuda/loss.cu).
#include <cstdint>
#include <type_traits>

#include "aisle/ops/loss.hpp"
#include "src/ops/math.hpp"

namespace aisle::detail {

// The losses computed element by element from two same-shaped inputs (a, b):
// mse (pred, target), bce (logits, targets), huber (pred, target), bpr (pos, neg).
enum class PointLoss : uint8_t { mse, bce, huber, bpr };

// max that returns NaN when either side is NaN, whatever the order of the operands, so a row's
// maximum is the same however a kernel splits the row.
template <class T>
AISLE_HD inline T nan_max_(T a, T b) { return (a > b || a != a) ? a : b; }

template <class T>
AISLE_HD inline T softplus_(T x) {  // log(1 + exp(x)) without overflow
  return (x > T(0) ? x : T(0)) + log1p_(exp_(-abs_(x)));
}

template <PointLoss K, class T>
AISLE_HD inline T point_loss(T a, T b, T delta) {
  if constexpr (K == PointLoss::mse) {
    const T d = a - b;
    return d * d;
  } else if constexpr (K == PointLoss::bce) {
    return (a > T(0) ? a : T(0)) - a * b + log1p_(exp_(-abs_(a)));
  } else if constexpr (K == PointLoss::huber) {
    const T d = a - b, ad = abs_(d);
    return ad <= delta ? T(0.5) * d * d : delta * (ad - T(0.5) * delta);
  } else {  // bpr: -log sigmoid(a - b) = softplus(b - a)
    return softplus_(b - a);
  }
}

// d point_loss / da. For every kind here d/db is the negative (bce's targets are not
// differentiated).
template <PointLoss K, class T>
AISLE_HD inline T point_loss_grad(T a, T b, T delta) {
  if constexpr (K == PointLoss::mse) {
    return T(2) * (a - b);
  } else if constexpr (K == PointLoss::bce) {
    return sigmoid_(a) - b;
  } else if constexpr (K == PointLoss::huber) {
    const T d = a - b;
    return d > delta ? delta : (d < -delta ? -delta : d);
  } else {
    return -sigmoid_(b - a);
  }
}

// The gradient reaching loss element i: dy[i] for Reduction::none, otherwise the scalar dy
// times `scale` (1/n for an elementwise mean, 1 for sum) divided by `*divisor` when given (the
// device-resident count of non-ignored rows of a cross-entropy mean).
template <class T>
struct LossGradIn {
  const T* dy;
  bool per_element;
  T scale;
  const T* divisor;

  AISLE_HD T at(int64_t i) const {
    if (per_element) return dy[i];
    T g = dy[0] * scale;
    if (divisor) g = g / divisor[0];
    return g;
  }
};

// For point losses: a mean spreads dy over the n elements, a sum passes it on unscaled.
template <class T>
inline LossGradIn<T> point_grad_in(const T* dy, ops::Reduction r, int64_t n) {
  const double scale = r == ops::Reduction::mean && n > 0 ? 1.0 / static_cast<double>(n) : 1.0;
  return {dy, r == ops::Reduction::none, static_cast<T>(scale), nullptr};
}

// For cross-entropy rows: a mean divides dy by the device-resident count of non-ignored rows.
template <class T>
inline LossGradIn<T> row_grad_in(const T* dy, ops::Reduction r, const T* count) {
  return {dy, r == ops::Reduction::none, T(1), r == ops::Reduction::mean ? count : nullptr};
}

// Cross-entropy pieces for one row with maximum m and s = sum_j exp(x_j - m) (accumulated in
// double), log_s = log(s). Working relative to m keeps logits of +-1000 finite and avoids the
// cancellation of subtracting two large log-sum-exps.
template <class T>
AISLE_HD inline T ce_row_loss(T m, double log_s, T target_logit) {
  return static_cast<T>((static_cast<double>(m) - static_cast<double>(target_logit)) + log_s);
}

// (softmax(x) - onehot) * g for one logit.
template <class T>
AISLE_HD inline T ce_logit_grad(T x, T m, T log_s, bool is_target, T g) {
  return (exp_((x - m) - log_s) - (is_target ? T(1) : T(0))) * g;
}

template <class F>
decltype(auto) dispatch_point_loss(PointLoss k, F&& f) {
  switch (k) {
    case PointLoss::mse: return f(std::integral_constant<PointLoss, PointLoss::mse>{});
    case PointLoss::bce: return f(std::integral_constant<PointLoss, PointLoss::bce>{});
    case PointLoss::huber: return f(std::integral_constant<PointLoss, PointLoss::huber>{});
    case PointLoss::bpr: return f(std::integral_constant<PointLoss, PointLoss::bpr>{});
  }
  AISLE_FAIL("unknown point loss");
}

}  // namespace aisle::detail
