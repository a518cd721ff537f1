// segment_reduce family: argument checks, dispatch, CPU reference kernels. CUDA twin:
// cuda/segment_reduce.cu; both compare with src/ops/segment_reduce_functors.hpp.
#include "aisle/ops/segment_reduce.hpp"

#include <algorithm>
#include <climits>

#include "aisle/ops/scatter.hpp"
#include "cuda/segment_reduce.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/ops/segment_gather.hpp"
#include "src/ops/segment_reduce_functors.hpp"

namespace aisle::ops {

namespace {

// Scatter-adds worth one parallel chunk of the backward.
constexpr int64_t kChunkWork = 1 << 16;
// Backward columns per task: 16 f32 fill a cache line, so tasks rarely write the same line.
constexpr int64_t kBackwardColumns = 16;

// The graph's structure (values are not read) and x [graph.cols, D] on one device.
void check_graph_and_x(const char* op, const Csr& graph, const Tensor& x) {
  AISLE_CHECK(graph.rows >= 0 && graph.cols >= 0, op, ": graph rows and cols must be non-negative, got [",
              graph.rows, ", ", graph.cols, "]");
  detail::check_defined(op, "graph.row_ptr", graph.row_ptr);
  AISLE_CHECK(graph.row_ptr.dtype() == DType::i64 && graph.row_ptr.dim() == 1 &&
                  graph.row_ptr.numel() == graph.rows + 1,
              op, ": graph.row_ptr must be i64 with rows + 1 = ", graph.rows + 1, " entries, got ",
              graph.row_ptr.describe(), " (build the graph with make_csr)");
  detail::check_index(op, "graph.col_idx", graph.col_idx);
  detail::check_dim(op, "graph.col_idx", graph.col_idx, 1);
  detail::check_float(op, "x", x);
  AISLE_CHECK(x.dim() == 2 && x.size(0) == graph.cols, op, ": x ", x.describe(), " must be [graph.cols = ",
              graph.cols, ", D] for the graph [", graph.rows, ", ", graph.cols, "]");
  detail::check_same_device(op, "graph.row_ptr", graph.row_ptr, "x", x);
  detail::check_same_device(op, "graph.col_idx", graph.col_idx, "x", x);
}

// Host graphs: row_ptr must delimit col_idx exactly, or the kernel would read out of bounds.
void check_row_ptr_host(const char* op, const Csr& graph) {
  const int64_t* rp = graph.row_ptr.data<int64_t>();
  const int64_t nnz = graph.col_idx.numel();
  AISLE_CHECK(rp[0] == 0, op, ": graph.row_ptr[0] must be 0, got ", rp[0]);
  for (int64_t r = 0; r < graph.rows; ++r)
    AISLE_CHECK(rp[r] <= rp[r + 1], op, ": graph.row_ptr must be non-decreasing, but row_ptr[", r, "] = ", rp[r],
                " > row_ptr[", r + 1, "] = ", rp[r + 1]);
  AISLE_CHECK(rp[graph.rows] == nnz, op, ": graph.row_ptr[", graph.rows, "] = ", rp[graph.rows],
              " must equal the number of entries of graph.col_idx ", graph.col_idx.describe());
}

template <class T, class I>
void neighbor_max_cpu(const Csr& graph, const Tensor& x, const Tensor& values, const Tensor& argmax) {
  const int64_t rows = graph.rows, d = x.size(1);
  const int64_t* ptr = graph.row_ptr.data<int64_t>();
  const I* idx = graph.col_idx.data<I>();
  const T* px = x.data<T>();
  T* out = values.data<T>();
  int64_t* arg = argmax.data<int64_t>();
  cpu::parallel_for_segments(rows, ptr, d, detail::kSegmentChunkWork, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t j0 = ptr[r], j1 = ptr[r + 1];
      T* best = out + r * d;
      int64_t* win = arg + r * d;
      if (j0 == j1) {
        std::fill(best, best + d, T(0));
        std::fill(win, win + d, int64_t{-1});
        continue;
      }
      const int64_t first = static_cast<int64_t>(idx[j0]);
      std::copy(px + first * d, px + (first + 1) * d, best);
      std::fill(win, win + d, first);
      for (int64_t j = j0 + 1; j < j1; ++j) {
        const int64_t c = static_cast<int64_t>(idx[j]);
        const T* src = px + c * d;
        for (int64_t k = 0; k < d; ++k)
          if (detail::max_replaces(src[k], best[k])) {
            best[k] = src[k];
            win[k] = c;
          }
      }
    }
  });
}

// Each task owns a block of columns and walks the rows in order, so every element of grad_x sums
// its contributions in increasing r whatever the thread count.
template <class T>
void neighbor_max_backward_cpu(const Tensor& argmax, const Tensor& grad_out, const Tensor& grad_x) {
  const int64_t rows = grad_out.size(0), d = grad_out.size(1);
  const int64_t* arg = argmax.data<int64_t>();
  const T* g = grad_out.data<T>();
  T* gx = grad_x.data<T>();
  const int64_t blocks = (d + kBackwardColumns - 1) / kBackwardColumns;
  const int64_t grain = std::max<int64_t>(1, kChunkWork / std::max<int64_t>(rows * kBackwardColumns, 1));
  cpu::parallel_for(blocks, grain, [&](int64_t b0, int64_t b1) {
    const int64_t k0 = b0 * kBackwardColumns, k1 = std::min(d, b1 * kBackwardColumns);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = k0; k < k1; ++k) {
        const int64_t c = arg[r * d + k];
        if (c >= 0) gx[c * d + k] += g[r * d + k];
      }
  });
}

}  // namespace

NeighborMaxResult neighbor_max(const Csr& graph, const Tensor& x) {
  const char* op = "neighbor_max";
  check_graph_and_x(op, graph, x);
  NeighborMaxResult r{Tensor::empty({graph.rows, x.size(1)}, x.dtype(), x.device()),
                      Tensor::empty({graph.rows, x.size(1)}, DType::i64, x.device())};
  if (x.is_cuda()) {
    // The kernel checks only the ids it reads, and with an empty result it reads none.
    if (r.values.numel() > 0) AISLE_CUDA_ONLY(op, cuda::neighbor_max(graph, x, r.values, r.argmax));
    return r;
  }
  // Validated up front, even for D = 0: the loop must not throw.
  check_row_ptr_host(op, graph);
  detail::check_index_range_host(op, graph.col_idx, x.size(0));
  if (r.values.numel() == 0) return r;
  detail::dispatch_float(x.dtype(), op, [&](auto ftag) {
    detail::dispatch_index(graph.col_idx.dtype(), op, [&](auto itag) {
      neighbor_max_cpu<decltype(ftag), decltype(itag)>(graph, x, r.values, r.argmax);
    });
  });
  return r;
}

Tensor neighbor_max_backward(const Tensor& argmax, const Tensor& grad_out, int64_t cols) {
  const char* op = "neighbor_max_backward";
  detail::check_float(op, "grad_out", grad_out);
  detail::check_dim(op, "grad_out", grad_out, 2);
  detail::check_defined(op, "argmax", argmax);
  AISLE_CHECK(argmax.dtype() == DType::i64 && argmax.shape() == grad_out.shape(), op, ": argmax ",
              argmax.describe(), " must be i64 with the shape of grad_out ", grad_out.describe());
  detail::check_same_device(op, "argmax", argmax, "grad_out", grad_out);
  AISLE_CHECK(cols >= 0, op, ": cols must be non-negative, got ", cols);
  const int64_t rows = grad_out.size(0), d = grad_out.size(1), n = rows * d;
  if (grad_out.is_cuda()) {
    if (n == 0) return Tensor::zeros({cols, d}, grad_out.dtype(), grad_out.device());
    // Said here rather than by the scatter_add below, whose message would name the wrong op.
    AISLE_CHECK(n <= INT_MAX, op, ": grad_out ", grad_out.describe(), " holds ", n,
                " elements, over the CUDA backward's limit of ", INT_MAX, " per call; split the rows into blocks");
    // Flat destinations, then the stable sort-based scatter_add: contributions to one element are
    // added in position order, i.e. increasing r, as on the CPU. Empty rows go to spare slots.
    Tensor keys = Tensor::empty({n}, DType::i64, grad_out.device());
    AISLE_CUDA_ONLY(op, cuda::neighbor_max_scatter_keys(argmax, cols, keys));
    const Tensor flat = scatter_add(grad_out.reshape({n, 1}), keys, cols * d + cuda::kNeighborMaxSpareSlots);
    return flat.rows(0, cols * d).reshape({cols, d});
  }
  const int64_t* arg = argmax.data<int64_t>();
  for (int64_t i = 0; i < n; ++i)
    AISLE_CHECK(arg[i] >= -1 && arg[i] < cols, op, ": argmax ", arg[i], " at [", i / d, ", ", i % d,
                "] is out of range [-1, ", cols, ") for argmax ", argmax.describe());
  Tensor grad_x = Tensor::zeros({cols, d}, grad_out.dtype(), grad_out.device());
  if (n == 0 || cols == 0) return grad_x;
  detail::dispatch_float(grad_out.dtype(), op, [&](auto ftag) {
    neighbor_max_backward_cpu<decltype(ftag)>(argmax, grad_out, grad_x);
  });
  return grad_x;
}

}  // namespace aisle::ops
