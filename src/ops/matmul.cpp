// Matmul family: argument checks, dispatch, and the CPU kernel. CUDA twin: cuda/matmul.cu (cuBLAS).
//
// The CPU product runs Eigen's GEMM on fixed tiles of C (kTileRows x kTileCols, every tile taking
// the full inner dimension) spread over threads with cpu::parallel_for. Eigen itself is kept
// single-threaded: when Eigen parallelises a product it also changes its k-blocking, so the
// rounding would depend on the thread count. With tiles fixed by the shape alone, every element
// is summed in the same order on 1 or 64 cores.
#include "aisle/ops/matmul.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <string>

#include "cuda/matmul.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"

namespace aisle::ops {

namespace {

constexpr int64_t kTileRows = 64;
constexpr int64_t kTileCols = 256;
constexpr int64_t kFlopsPerChunk = int64_t{1} << 20;  // below this a thread is not worth waking

struct Gemm {
  int64_t batch, m, n, k;
  bool trans_a, trans_b;
};

template <class T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstView = Eigen::Map<const RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using View = Eigen::Map<RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

void keep_eigen_single_threaded() {
  static const bool done = [] {
    Eigen::setNbThreads(1);
    return true;
  }();
  (void)done;
}

// C[r0:r1, c0:c1] = op(A)[r0:r1, :] · op(B)[:, c0:c1] for one matrix of the batch.
template <class T>
void tile_product(const T* a, const T* b, T* c, const Gemm& g, int64_t r0, int64_t r1, int64_t c0,
                  int64_t c1) {
  using Eigen::OuterStride;
  const Eigen::Index rows = r1 - r0, cols = c1 - c0, k = g.k;
  // Rows r0..r1 of op(A) are stored rows of A, or stored columns of A when it is transposed;
  // likewise columns c0..c1 of op(B).
  const ConstView<T> lhs = g.trans_a ? ConstView<T>(a + r0, k, rows, OuterStride<>(g.m))
                                     : ConstView<T>(a + r0 * k, rows, k, OuterStride<>(k));
  const ConstView<T> rhs = g.trans_b ? ConstView<T>(b + c0 * k, cols, k, OuterStride<>(k))
                                     : ConstView<T>(b + c0, k, cols, OuterStride<>(g.n));
  View<T> out(c + r0 * g.n + c0, rows, cols, OuterStride<>(g.n));
  if (g.trans_a && g.trans_b) out.noalias() = lhs.transpose() * rhs.transpose();
  else if (g.trans_a) out.noalias() = lhs.transpose() * rhs;
  else if (g.trans_b) out.noalias() = lhs * rhs.transpose();
  else out.noalias() = lhs * rhs;
}

void matmul_cpu(const Tensor& a, const Tensor& b, const Tensor& out, const Gemm& g) {
  keep_eigen_single_threaded();
  const int64_t tiles_m = (g.m + kTileRows - 1) / kTileRows;
  const int64_t tiles_n = (g.n + kTileCols - 1) / kTileCols;
  const int64_t per_matrix = tiles_m * tiles_n;
  const int64_t tile_flops = 2 * std::min(g.m, kTileRows) * std::min(g.n, kTileCols) * g.k;
  const int64_t grain = std::max<int64_t>(1, kFlopsPerChunk / std::max<int64_t>(tile_flops, 1));
  detail::dispatch_float(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = out.data<T>();
    cpu::parallel_for(g.batch * per_matrix, grain, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const int64_t item = t / per_matrix, tile = t % per_matrix;
        const int64_t r0 = (tile / tiles_n) * kTileRows, c0 = (tile % tiles_n) * kTileCols;
        tile_product<T>(pa + item * g.m * g.k, pb + item * g.k * g.n, pc + item * g.m * g.n, g, r0,
                        std::min(g.m, r0 + kTileRows), c0, std::min(g.n, c0 + kTileCols));
      }
    });
  });
}

std::string flags(bool trans_a, bool trans_b) {
  return detail::concat("(trans_a = ", trans_a ? "true" : "false", ", trans_b = ",
                        trans_b ? "true" : "false", ")");
}

void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  detail::check_float(op, "a", a);
  detail::check_float(op, "b", b);
  detail::check_same_dtype(op, "a", a, "b", b);
  detail::check_same_device(op, "a", a, "b", b);
}

Tensor multiply(const char* op, const Tensor& a, const Tensor& b, Shape out_shape, const Gemm& g) {
  if (shape_numel(out_shape) == 0) return Tensor::empty(out_shape, a.dtype(), a.device());
  if (g.k == 0) return Tensor::zeros(out_shape, a.dtype(), a.device());  // an empty sum
  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  if (a.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::matmul(a, b, out, g.batch, g.m, g.n, g.k, g.trans_a, g.trans_b));
    return out;
  }
  matmul_cpu(a, b, out, g);
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  check_operands("matmul", a, b);
  AISLE_CHECK(b.dim() == 2, "matmul: b must be 2-D, got b ", b.describe(), " (a ", a.describe(), ")");
  if (trans_a)
    AISLE_CHECK(a.dim() == 2, "matmul: a must be 2-D when trans_a is set, got a ", a.describe());
  else
    AISLE_CHECK(a.dim() >= 1, "matmul: a needs at least one axis, got a ", a.describe());
  Gemm g{1, 1, 0, 0, trans_a, trans_b};
  Shape out_shape;
  if (trans_a) {
    g.k = a.size(0);
    g.m = a.size(1);
    out_shape = {g.m};
  } else {
    g.k = a.size(-1);
    out_shape.assign(a.shape().begin(), a.shape().end() - 1);
    g.m = shape_numel(out_shape);  // leading axes flatten into rows
  }
  const int64_t k_b = trans_b ? b.size(1) : b.size(0);
  g.n = trans_b ? b.size(0) : b.size(1);
  AISLE_CHECK(g.k == k_b, "matmul: inner dimensions differ: a ", a.describe(), " gives k = ", g.k,
              " but b ", b.describe(), " gives k = ", k_b, " ", flags(trans_a, trans_b));
  out_shape.push_back(g.n);
  return multiply("matmul", a, b, std::move(out_shape), g);
}

Tensor bmm(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  check_operands("bmm", a, b);
  AISLE_CHECK(a.dim() == 3 && b.dim() == 3, "bmm: a and b must be 3-D [batch, rows, cols], got a ",
              a.describe(), " and b ", b.describe());
  AISLE_CHECK(a.size(0) == b.size(0), "bmm: batch sizes differ: a ", a.describe(), " and b ",
              b.describe());
  Gemm g{a.size(0), trans_a ? a.size(2) : a.size(1), trans_b ? b.size(1) : b.size(2),
         trans_a ? a.size(1) : a.size(2), trans_a, trans_b};
  const int64_t k_b = trans_b ? b.size(2) : b.size(1);
  AISLE_CHECK(g.k == k_b, "bmm: inner dimensions differ: a ", a.describe(), " gives k = ", g.k,
              " but b ", b.describe(), " gives k = ", k_b, " ", flags(trans_a, trans_b));
  return multiply("bmm", a, b, {g.batch, g.m, g.n}, g);
}

}  // namespace aisle::ops
