// Loss family: argument checks, dispatch, and the CPU reference kernels.
// CUDA twin: cuda/loss.cu. Formulas: src/ops/loss_functors.hpp.
// Kernels produce per-element (per-row) losses; mean and sum reuse the deterministic f64
// reductions of the reduce family, so both backends reduce in a fixed order.
#include "aisle/ops/loss.hpp"

#include <algorithm>
#include <limits>

#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/reduce.hpp"
#include "cuda/loss.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/ops/loss_functors.hpp"

namespace aisle::ops {

using detail::PointLoss;

namespace {
constexpr int64_t kGrain = 1 << 15;

Shape loss_shape(const Shape& unreduced, Reduction r) {
  return r == Reduction::none ? unreduced : Shape{};
}

Tensor reduce_losses(const Tensor& losses, Reduction r) {
  switch (r) {
    case Reduction::none: return losses;
    case Reduction::sum: return sum_all(losses);
    case Reduction::mean: return mean_all(losses);
  }
  AISLE_FAIL("unknown reduction");
}

// Two inputs that pair up element by element.
void check_pair(const char* op, const char* name_a, const Tensor& a, const char* name_b,
                const Tensor& b) {
  detail::check_float(op, name_a, a);
  detail::check_float(op, name_b, b);
  detail::check_same_dtype(op, name_a, a, name_b, b);
  detail::check_same_device(op, name_a, a, name_b, b);
  detail::check_same_shape(op, name_a, a, name_b, b);
}

void check_weights(const char* op, const Tensor& logits, const Tensor& weights) {
  if (!weights.defined()) return;
  check_pair(op, "logits", logits, "weights", weights);
}

void check_dy(const char* op, const Tensor& x, const Tensor& dy, const Shape& loss, Reduction r) {
  detail::check_float(op, "dy", dy);
  detail::check_same_dtype(op, "x", x, "dy", dy);
  detail::check_same_device(op, "x", x, "dy", dy);
  AISLE_CHECK(dy.shape() == loss, op, ": dy ", dy.describe(), " must have the loss's shape ",
              shape_str(loss), " (reduction ", reduction_name(r), ")");
}

// Per-element losses of a point loss (weights optional).
Tensor point_losses(PointLoss kind, const char* op, const Tensor& a, const Tensor& b,
                    const Tensor& weights, double delta) {
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  if (out.numel() == 0) return out;
  if (a.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::point_loss(kind, a, b, weights, out, delta));
    return out;
  }
  detail::dispatch_float(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T *pa = a.data<T>(), *pb = b.data<T>();
    const T* pw = weights.defined() ? weights.data<T>() : nullptr;
    T* po = out.data<T>();
    const T d = static_cast<T>(delta);
    detail::dispatch_point_loss(kind, [&](auto kind_c) {
      constexpr PointLoss kKind = decltype(kind_c)::value;
      cpu::parallel_for(out.numel(), kGrain, [&](int64_t begin, int64_t end) {
        if (pw) {
          for (int64_t i = begin; i < end; ++i) po[i] = detail::point_loss<kKind>(pa[i], pb[i], d) * pw[i];
        } else {
          for (int64_t i = begin; i < end; ++i) po[i] = detail::point_loss<kKind>(pa[i], pb[i], d);
        }
      });
    });
  });
  return out;
}

// da (and db = -da when requested) of a point loss.
void point_grads(PointLoss kind, const char* op, const Tensor& a, const Tensor& b,
                 const Tensor& weights, const Tensor& dy, Reduction r, double delta,
                 const Tensor& da, const Tensor& db) {
  if (a.numel() == 0) return;
  if (a.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::point_loss_backward(kind, a, b, weights, dy, r, da, db, delta));
    return;
  }
  detail::dispatch_float(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T *pa = a.data<T>(), *pb = b.data<T>();
    const T* pw = weights.defined() ? weights.data<T>() : nullptr;
    T* pda = da.data<T>();
    T* pdb = db.defined() ? db.data<T>() : nullptr;
    const T d = static_cast<T>(delta);
    const detail::LossGradIn<T> in = detail::point_grad_in(dy.data<T>(), r, a.numel());
    detail::dispatch_point_loss(kind, [&](auto kind_c) {
      constexpr PointLoss kKind = decltype(kind_c)::value;
      cpu::parallel_for(a.numel(), kGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          T g = in.at(i);
          if (pw) g *= pw[i];
          const T v = detail::point_loss_grad<kKind>(pa[i], pb[i], d) * g;
          pda[i] = v;
          if (pdb) pdb[i] = -v;
        }
      });
    });
  });
}

void check_delta(const char* op, double delta) {
  AISLE_CHECK(delta > 0, op, ": delta must be positive, got ", delta);
}

// ---- cross-entropy ----------------------------------------------------------------------

void check_ce_args(const char* op, const Tensor& logits, const Tensor& targets) {
  detail::check_float(op, "logits", logits);
  AISLE_CHECK(logits.dim() == 2, op, ": logits must be 2-D [N, C], got ", logits.describe());
  detail::check_index(op, "targets", targets);
  detail::check_same_device(op, "logits", logits, "targets", targets);
  AISLE_CHECK(targets.dim() == 1 && targets.size(0) == logits.size(0), op, ": targets ",
              targets.describe(), " must be 1-D with one entry per row of logits ", logits.describe());
}

// Throws for the first target (in row order) outside [0, classes) that is not ignore_index;
// returns the number of rows that are not ignored. Host tensors only.
int64_t check_targets_host(const char* op, const Tensor& targets, int64_t classes,
                           int64_t ignore_index) {
  return detail::dispatch_index(targets.dtype(), op, [&](auto tag) {
    using I = decltype(tag);
    const I* pt = targets.data<I>();
    int64_t counted = 0;
    for (int64_t r = 0, n = targets.numel(); r < n; ++r) {
      const int64_t t = static_cast<int64_t>(pt[r]);
      if (t == ignore_index) continue;
      AISLE_CHECK(t >= 0 && t < classes, op, ": target ", t, " in row ", r,
                  " is out of range [0, ", classes, ") for logits with C = ", classes,
                  " classes (and is not ignore_index ", ignore_index, ")");
      ++counted;
    }
    return counted;
  });
}

// Validates the targets; for a mean also returns the number of non-ignored rows as a {} tensor
// of the logits' dtype on their device (on CUDA it stays there, so no host round trip).
Tensor checked_row_count(const char* op, const Tensor& logits, const Tensor& targets,
                         int64_t ignore_index, Reduction r) {
  const int64_t classes = logits.size(1);
  const bool want_count = r == Reduction::mean;
  if (!logits.is_cuda()) {
    const int64_t n = check_targets_host(op, targets, classes, ignore_index);
    return want_count ? Tensor::full({}, static_cast<double>(n), logits.dtype()) : Tensor();
  }
  if (targets.numel() == 0) return want_count ? Tensor::zeros({}, logits.dtype(), logits.device()) : Tensor();
  Tensor counted = Tensor::empty({targets.numel()}, logits.dtype(), logits.device());
  try {
    AISLE_CUDA_ONLY(op, cuda::ce_count_targets(targets, classes, ignore_index, counted, op));
  } catch (const Error&) {
    // The device only reports a bad value; find it again on the host to name its row too.
    check_targets_host(op, targets.to(Device::cpu()), classes, ignore_index);
    throw;
  }
  return want_count ? sum_all(counted) : Tensor();
}

template <class T>
struct RowStats {
  T max;
  double log_sum;  // log(sum_j exp(x_j - max))
};

template <class T>
RowStats<T> row_stats(const T* x, int64_t classes) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t k = 0; k < classes; ++k) m = detail::nan_max_(m, x[k]);
  double s = 0;
  for (int64_t k = 0; k < classes; ++k) s += static_cast<double>(detail::exp_(x[k] - m));
  return {m, detail::log_(s)};
}

int64_t row_grain(int64_t classes) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(classes, 1)); }

}  // namespace

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::mean: return "mean";
    case Reduction::sum: return "sum";
    case Reduction::none: return "none";
  }
  return "unknown";
}

Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction r) {
  check_pair("mse_loss", "pred", pred, "target", target);
  return reduce_losses(point_losses(PointLoss::mse, "mse_loss", pred, target, Tensor(), 0.0), r);
}

Tensor mse_loss_backward(const Tensor& pred, const Tensor& target, const Tensor& dy, Reduction r) {
  const char* op = "mse_loss_backward";
  check_pair(op, "pred", pred, "target", target);
  check_dy(op, pred, dy, loss_shape(pred.shape(), r), r);
  Tensor dpred = Tensor::empty(pred.shape(), pred.dtype(), pred.device());
  point_grads(PointLoss::mse, op, pred, target, Tensor(), dy, r, 0.0, dpred, Tensor());
  return dpred;
}

Tensor bce_with_logits(const Tensor& logits, const Tensor& targets, Reduction r, const Tensor& weights) {
  const char* op = "bce_with_logits";
  check_pair(op, "logits", logits, "targets", targets);
  check_weights(op, logits, weights);
  return reduce_losses(point_losses(PointLoss::bce, op, logits, targets, weights, 0.0), r);
}

Tensor bce_with_logits_backward(const Tensor& logits, const Tensor& targets, const Tensor& dy,
                                Reduction r, const Tensor& weights) {
  const char* op = "bce_with_logits_backward";
  check_pair(op, "logits", logits, "targets", targets);
  check_weights(op, logits, weights);
  check_dy(op, logits, dy, loss_shape(logits.shape(), r), r);
  Tensor dlogits = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  point_grads(PointLoss::bce, op, logits, targets, weights, dy, r, 0.0, dlogits, Tensor());
  return dlogits;
}

Tensor bpr_loss(const Tensor& pos_scores, const Tensor& neg_scores, Reduction r) {
  check_pair("bpr_loss", "pos_scores", pos_scores, "neg_scores", neg_scores);
  return reduce_losses(point_losses(PointLoss::bpr, "bpr_loss", pos_scores, neg_scores, Tensor(), 0.0), r);
}

BprGrads bpr_loss_backward(const Tensor& pos_scores, const Tensor& neg_scores, const Tensor& dy,
                           Reduction r) {
  const char* op = "bpr_loss_backward";
  check_pair(op, "pos_scores", pos_scores, "neg_scores", neg_scores);
  check_dy(op, pos_scores, dy, loss_shape(pos_scores.shape(), r), r);
  BprGrads g{Tensor::empty(pos_scores.shape(), pos_scores.dtype(), pos_scores.device()),
             Tensor::empty(pos_scores.shape(), pos_scores.dtype(), pos_scores.device())};
  point_grads(PointLoss::bpr, op, pos_scores, neg_scores, Tensor(), dy, r, 0.0, g.dpos, g.dneg);
  return g;
}

Tensor huber_loss(const Tensor& pred, const Tensor& target, double delta, Reduction r) {
  check_pair("huber_loss", "pred", pred, "target", target);
  check_delta("huber_loss", delta);
  return reduce_losses(point_losses(PointLoss::huber, "huber_loss", pred, target, Tensor(), delta), r);
}

Tensor huber_loss_backward(const Tensor& pred, const Tensor& target, const Tensor& dy, double delta,
                           Reduction r) {
  const char* op = "huber_loss_backward";
  check_pair(op, "pred", pred, "target", target);
  check_delta(op, delta);
  check_dy(op, pred, dy, loss_shape(pred.shape(), r), r);
  Tensor dpred = Tensor::empty(pred.shape(), pred.dtype(), pred.device());
  point_grads(PointLoss::huber, op, pred, target, Tensor(), dy, r, delta, dpred, Tensor());
  return dpred;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index, Reduction r) {
  const char* op = "cross_entropy";
  check_ce_args(op, logits, targets);
  const Tensor count = checked_row_count(op, logits, targets, ignore_index, r);
  const int64_t rows = logits.size(0), classes = logits.size(1);
  Tensor losses = Tensor::empty({rows}, logits.dtype(), logits.device());
  if (rows > 0) {
    if (logits.is_cuda()) {
      AISLE_CUDA_ONLY(op, cuda::cross_entropy(logits, targets, ignore_index, losses));
    } else {
      detail::dispatch_float(logits.dtype(), op, [&](auto ftag) {
        using T = decltype(ftag);
        detail::dispatch_index(targets.dtype(), op, [&](auto itag) {
          using I = decltype(itag);
          const T* px = logits.data<T>();
          const I* pt = targets.data<I>();
          T* pl = losses.data<T>();
          cpu::parallel_for(rows, row_grain(classes), [&](int64_t r0, int64_t r1) {
            for (int64_t row = r0; row < r1; ++row) {
              const int64_t t = static_cast<int64_t>(pt[row]);
              if (t == ignore_index) {
                pl[row] = T(0);
                continue;
              }
              const T* x = px + row * classes;
              const RowStats<T> s = row_stats(x, classes);
              pl[row] = detail::ce_row_loss(s.max, s.log_sum, x[t]);
            }
          });
        });
      });
    }
  }
  if (r == Reduction::mean) return ops::div(sum_all(losses), count);
  return reduce_losses(losses, r);
}

Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& dy,
                              int64_t ignore_index, Reduction r) {
  const char* op = "cross_entropy_backward";
  check_ce_args(op, logits, targets);
  check_dy(op, logits, dy, loss_shape({logits.size(0)}, r), r);
  const Tensor count = checked_row_count(op, logits, targets, ignore_index, r);
  Tensor dlogits = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  if (dlogits.numel() == 0) return dlogits;
  if (logits.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::cross_entropy_backward(logits, targets, ignore_index, dy, r, count, dlogits));
    return dlogits;
  }
  const int64_t rows = logits.size(0), classes = logits.size(1);
  detail::dispatch_float(logits.dtype(), op, [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(targets.dtype(), op, [&](auto itag) {
      using I = decltype(itag);
      const T* px = logits.data<T>();
      const I* pt = targets.data<I>();
      T* pd = dlogits.data<T>();
      const T* divisor = count.defined() ? count.data<T>() : nullptr;
      const detail::LossGradIn<T> in = detail::row_grad_in(dy.data<T>(), r, divisor);
      cpu::parallel_for(rows, row_grain(classes), [&](int64_t r0, int64_t r1) {
        for (int64_t row = r0; row < r1; ++row) {
          const int64_t t = static_cast<int64_t>(pt[row]);
          T* out = pd + row * classes;
          if (t == ignore_index) {
            std::fill(out, out + classes, T(0));
            continue;
          }
          const T* x = px + row * classes;
          const RowStats<T> s = row_stats(x, classes);
          const T log_sum = static_cast<T>(s.log_sum);
          const T g = in.at(row);
          for (int64_t k = 0; k < classes; ++k)
            out[k] = detail::ce_logit_grad(x[k], s.max, log_sum, k == t, g);
        }
      });
    });
  });
  return dlogits;
}

}  // namespace aisle::ops
