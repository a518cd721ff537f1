#pragma once
// Internal: the per-element update formulas of the optim family, shared verbatim by the CPU
// kernels (src/ops/optim.cpp) and the CUDA kernels (cuda/optim.cu). Scalar coefficients are
// derived from the hyperparameters once, in double on the host, then rounded to the parameter's
// dtype, so both backends feed identical numbers to identical formulas.
//
// Every product that meets an addition goes through mul_rn: nvcc would otherwise contract
// a * b + c into one fused multiply-add (the host compiler does not under -std=c++20), and the
// two backends would round differently.
#include <cmath>

#include "aisle/ops/optim.hpp"
#include "src/ops/math.hpp"

namespace aisle::detail {

template <class T>
AISLE_HD inline T mul_rn(T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) return __fmul_rn(a, b);
  else return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

// ---- SGD ------------------------------------------------------------------------------------
template <class T>
struct SgdCoeffs {
  T lr, momentum, weight_decay;
  bool use_momentum, nesterov;
};

template <class T>
SgdCoeffs<T> sgd_coeffs(const ops::SgdHyper& h) {
  return {static_cast<T>(h.lr), static_cast<T>(h.momentum), static_cast<T>(h.weight_decay),
          h.momentum != 0.0, h.nesterov};
}

// `buf` is only touched with momentum.
template <class T>
AISLE_HD inline void sgd_apply(T& p, T g, T& buf, const SgdCoeffs<T>& c) {
  if (c.weight_decay != T(0)) g = g + mul_rn(c.weight_decay, p);
  if (c.use_momentum) {
    buf = mul_rn(c.momentum, buf) + g;
    g = c.nesterov ? g + mul_rn(c.momentum, buf) : buf;
  }
  p = p - mul_rn(c.lr, g);
}

// ---- Adam / AdamW ---------------------------------------------------------------------------
template <class T>
struct AdamCoeffs {
  T beta1, one_minus_beta1, beta2, one_minus_beta2, eps;
  T l2;          // coupled weight decay (Adam), else 0
  T decay;       // decoupled weight decay factor 1 - lr * weight_decay (AdamW), else 1
  T step_size;   // lr / (1 - beta1^step)
  T bias2_sqrt;  // sqrt(1 - beta2^step)
};

template <class T>
AdamCoeffs<T> adam_coeffs(const ops::AdamHyper& h) {
  const double s = static_cast<double>(h.step);
  const double bias1 = 1.0 - std::pow(h.beta1, s), bias2 = 1.0 - std::pow(h.beta2, s);
  return {static_cast<T>(h.beta1), static_cast<T>(1.0 - h.beta1), static_cast<T>(h.beta2),
          static_cast<T>(1.0 - h.beta2), static_cast<T>(h.eps),
          static_cast<T>(h.decoupled_weight_decay ? 0.0 : h.weight_decay),
          static_cast<T>(h.decoupled_weight_decay ? 1.0 - h.lr * h.weight_decay : 1.0),
          static_cast<T>(h.lr / bias1), static_cast<T>(std::sqrt(bias2))};
}

template <class T>
AISLE_HD inline void adam_apply(T& p, T g, T& m, T& v, const AdamCoeffs<T>& c) {
  if (c.l2 != T(0)) g = g + mul_rn(c.l2, p);
  if (c.decay != T(1)) p = mul_rn(p, c.decay);
  m = mul_rn(c.beta1, m) + mul_rn(c.one_minus_beta1, g);
  v = mul_rn(c.beta2, v) + mul_rn(c.one_minus_beta2, mul_rn(g, g));
  p = p - c.step_size * m / (sqrt_(v) / c.bias2_sqrt + c.eps);
}

// ---- SparseAdam (lazy, PyTorch formula) -------------------------------------------------------
template <class T>
struct SparseAdamCoeffs {
  T one_minus_beta1, one_minus_beta2, eps;
  T step_size;  // lr * sqrt(1 - beta2^step) / (1 - beta1^step)
};

template <class T>
SparseAdamCoeffs<T> sparse_adam_coeffs(const ops::SparseAdamHyper& h) {
  const double s = static_cast<double>(h.step);
  const double bias1 = 1.0 - std::pow(h.beta1, s), bias2 = 1.0 - std::pow(h.beta2, s);
  return {static_cast<T>(1.0 - h.beta1), static_cast<T>(1.0 - h.beta2), static_cast<T>(h.eps),
          static_cast<T>(h.lr * std::sqrt(bias2) / bias1)};
}

template <class T>
AISLE_HD inline void sparse_adam_apply(T& p, T g, T& m, T& v, const SparseAdamCoeffs<T>& c) {
  m = m + mul_rn(c.one_minus_beta1, g - m);
  v = v + mul_rn(c.one_minus_beta2, mul_rn(g, g) - v);
  p = p - c.step_size * m / (sqrt_(v) + c.eps);
}

// ---- Adagrad --------------------------------------------------------------------------------
template <class T>
struct AdagradCoeffs {
  T lr, eps, weight_decay;
};

template <class T>
AdagradCoeffs<T> adagrad_coeffs(const ops::AdagradHyper& h) {
  return {static_cast<T>(h.lr), static_cast<T>(h.eps), static_cast<T>(h.weight_decay)};
}

template <class T>
AISLE_HD inline void adagrad_apply(T& p, T g, T& sum, const AdagradCoeffs<T>& c) {
  if (c.weight_decay != T(0)) g = g + mul_rn(c.weight_decay, p);
  sum = sum + mul_rn(g, g);
  p = p - c.lr * g / (sqrt_(sum) + c.eps);
}

// ---- row-wise Adagrad -----------------------------------------------------------------------
template <class T>
struct RowWiseAdagradCoeffs {
  T lr, eps, weight_decay;
};

template <class T>
RowWiseAdagradCoeffs<T> rowwise_adagrad_coeffs(const ops::RowWiseAdagradHyper& h) {
  return {static_cast<T>(h.lr), static_cast<T>(h.eps), static_cast<T>(h.weight_decay)};
}

// The gradient element after L2 weight decay.
template <class T>
AISLE_HD inline T rowwise_decayed_grad(T p, T g, const RowWiseAdagradCoeffs<T>& c) {
  return c.weight_decay != T(0) ? g + mul_rn(c.weight_decay, p) : g;
}

// Adds the row's mean square gradient to its accumulator and returns the row's step multiplier
// lr / (sqrt(acc) + eps).
template <class T>
AISLE_HD inline T rowwise_accumulate(T& acc, double sum_squares, int64_t row_elems,
                                     const RowWiseAdagradCoeffs<T>& c) {
  acc = acc + static_cast<T>(sum_squares / static_cast<double>(row_elems));
  return c.lr / (sqrt_(acc) + c.eps);
}

// One touched row on the CPU: the squares summed in double in eight running sums (element j into
// sum j % 8, the sums added in a fixed tree: vectorised, and the same bits whatever the thread
// count), then the step. The CUDA kernels sum the squares in a warp tree instead (same formula,
// last bits may differ).
template <class T>
inline void rowwise_adagrad_row(T* p, const T* g, T& acc, int64_t row, const RowWiseAdagradCoeffs<T>& c) {
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  const bool decay = c.weight_decay != T(0);
  int64_t j = 0;
  for (; j + 8 <= row; j += 8) {
    for (int l = 0; l < 8; ++l) {
      const double d = decay ? static_cast<double>(rowwise_decayed_grad(p[j + l], g[j + l], c)) : g[j + l];
      lane[l] += d * d;
    }
  }
  for (; j < row; ++j) {
    const double d = rowwise_decayed_grad(p[j], g[j], c);
    lane[j % 8] += d * d;
  }
  const double sum_squares = ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
  const T multiplier = rowwise_accumulate(acc, sum_squares, row, c);
  if (decay) {
    for (int64_t x = 0; x < row; ++x) p[x] = p[x] - mul_rn(multiplier, rowwise_decayed_grad(p[x], g[x], c));
  } else {
    for (int64_t x = 0; x < row; ++x) p[x] = p[x] - mul_rn(multiplier, g[x]);
  }
}

}  // namespace aisle::detail
