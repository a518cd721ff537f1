// Optimizer steps fused into the embedding-bag backward: checks, dispatch, the CPU kernels.
// CUDA twin: cuda/embedding_update.cu. Formulas: src/ops/embedding_functors.hpp (each id's share
// of its bag's gradient) and src/ops/optim_functors.hpp (the optimizers). A table stored as S is
// updated in T = compute_t<S> (src/core/storage.hpp): a bf16 row is widened, stepped in f32 and
// rounded back.
#include "aisle/ops/embedding_update.hpp"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "cuda/embedding_update.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/core/prefetch.hpp"
#include "src/core/storage.hpp"
#include "src/ops/embedding_checks.hpp"
#include "src/ops/embedding_functors.hpp"
#include "src/ops/optim_functors.hpp"
#include "src/ops/sorted_runs.hpp"

namespace aisle::ops {

namespace {

// Every check of a fused step, ids against the table's rows included; returns the offsets on the
// host for a CPU table (CUDA checks them on the device and returns none). Runs before anything is
// written.
std::vector<int64_t> checked_step(const char* op, const Tensor& table, const BagGradient& g) {
  detail::check_table(op, "table", table);
  detail::check_defined(op, "dy", g.dy);
  detail::check_compute_dtype(op, "dy", g.dy, "table", table);
  detail::check_same_device(op, "table", table, "dy", g.dy);
  detail::CheckedOffsets off = detail::checked_bags(op, g.ids, g.offsets, "table", table);
  detail::check_bag_dy(op, g.dy, off.segments);
  AISLE_CHECK(g.dy.size(1) == table.size(1), op, ": dy ", g.dy.describe(), " and table ", table.describe(),
              " have different embedding widths");
  detail::check_bag_weights(op, g.per_sample_weights, g.ids, g.mode, "table", table);
  // CUDA checks the range on the device, while sorting, before its update kernel runs.
  if (!table.is_cuda() && g.ids.numel() > 0) detail::check_index_range_host(op, g.ids, table.size(0));
  return std::move(off.host);
}

void check_state(const char* op, const char* name, const Tensor& state, const Tensor& table, const Shape& shape) {
  detail::check_defined(op, name, state);
  detail::check_compute_dtype(op, name, state, "table", table);
  detail::check_same_device(op, "table", table, name, state);
  AISLE_CHECK(state.shape() == shape, op, ": ", name, " ", state.describe(), " does not fit table ",
              table.describe());
}

// Calls row_step(id, gradient, scratch) once for every distinct id, with the id's gradient summed
// over its occurrences in position order into a per-chunk buffer of one row (scratch: another row
// of T the step may use). Distinct ids never share a
// table row, so chunks write disjoint rows; each row's sum is independent of the chunking, so
// the result does not depend on the thread count. prefetch(id) is called a few rows ahead: the
// touched rows are scattered over the table and its state, so each is a cache miss.
constexpr int64_t kRowsAhead = 32;

template <class T, class Prefetch, class RowStep>
void for_each_touched_row(const BagGradient& g, const std::vector<int64_t>& off, Prefetch&& prefetch,
                          RowStep&& row_step) {
  const Tensor ids = g.ids.to(DType::i64);
  const int64_t* pi = ids.data<int64_t>();
  const int64_t n = ids.numel(), dim = g.dy.size(1), bags = static_cast<int64_t>(off.size()) - 1;
  const detail::SortedRuns sorted = detail::sorted_runs(pi, n);
  const std::vector<int64_t>& pos = sorted.pos;
  const std::vector<int64_t>& run_start = sorted.run_start;
  const int64_t runs = sorted.runs();
  // The bag of each sorted position, looked up in one pass of independent loads rather than as
  // a dependent miss inside the summing loop.
  std::vector<int64_t> bag_of(static_cast<size_t>(n)), sorted_bag(static_cast<size_t>(n));
  for (int64_t b = 0; b < bags; ++b)
    std::fill(bag_of.begin() + off[static_cast<size_t>(b)], bag_of.begin() + off[static_cast<size_t>(b + 1)], b);
  cpu::parallel_for(n, 16384, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) sorted_bag[static_cast<size_t>(j)] = bag_of[static_cast<size_t>(pos[static_cast<size_t>(j)])];
  });
  const bool mean = g.mode == BagMode::mean;
  const T* pd = g.dy.data<T>();
  const T* pw = g.per_sample_weights.defined() ? g.per_sample_weights.data<T>() : nullptr;
  const size_t dy_row_bytes = static_cast<size_t>(dim) * sizeof(T);
  cpu::parallel_for(runs, std::max<int64_t>(1, 4096 / dim), [&](int64_t r0, int64_t r1) {
    std::vector<T> grad(static_cast<size_t>(dim)), scratch(static_cast<size_t>(dim));
    for (int64_t r = r0; r < r1; ++r) {
      if (r + kRowsAhead < runs) prefetch(pi[pos[static_cast<size_t>(run_start[static_cast<size_t>(r + kRowsAhead)])]]);
      std::fill(grad.begin(), grad.end(), T(0));
      const int64_t j0 = run_start[static_cast<size_t>(r)], j1 = run_start[static_cast<size_t>(r + 1)];
      for (int64_t j = j0; j < j1; ++j) {
        if (j + cpu::kPrefetchDistance < n)
          cpu::prefetch_row(pd + sorted_bag[static_cast<size_t>(j + cpu::kPrefetchDistance)] * dim, dy_row_bytes);
        const int64_t p = pos[static_cast<size_t>(j)], b = sorted_bag[static_cast<size_t>(j)];
        // The product is rounded before it is added, as the unfused path rounds each id's row.
        const T scale = detail::bag_grad_scale(mean, pw, p, off[static_cast<size_t>(b + 1)] - off[static_cast<size_t>(b)]);
        const T* src = pd + b * dim;
        for (int64_t c = 0; c < dim; ++c) grad[static_cast<size_t>(c)] += src[c] * scale;
      }
      row_step(pi[pos[static_cast<size_t>(j0)]], grad.data(), scratch.data());
    }
  });
}

}  // namespace

void embedding_bag_rowwise_adagrad_step(Tensor& table, Tensor& row_accumulator, const BagGradient& grad,
                                        const RowWiseAdagradHyper& hyper, const HalfRounding& rounding) {
  const char* op = "embedding_bag_rowwise_adagrad_step";
  check_hyper(op, hyper);
  const std::vector<int64_t> off = checked_step(op, table, grad);
  check_state(op, "row_accumulator", row_accumulator, table, {table.size(0)});
  if (grad.ids.numel() == 0 || table.size(1) == 0) return;
  if (table.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::embedding_bag_rowwise_adagrad_step(table, row_accumulator, grad, hyper, rounding));
    return;
  }
  const int64_t dim = table.size(1);
  detail::dispatch_storage(table.dtype(), op, [&](auto tag) {
    using S = decltype(tag);
    using T = detail::compute_t<S>;
    const detail::RowWiseAdagradCoeffs<T> c = detail::rowwise_adagrad_coeffs<T>(hyper);
    S* p = table.data<S>();
    T* acc = row_accumulator.data<T>();
    auto prefetch = [&](int64_t id) {
      cpu::prefetch_row(p + id * dim, static_cast<size_t>(dim) * sizeof(S));
      cpu::prefetch_row(acc + id, sizeof(T));
    };
    for_each_touched_row<T>(grad, off, prefetch, [&](int64_t id, const T* g, T* row) {
      S* stored = p + id * dim;
      if constexpr (std::is_same_v<S, T>) {
        detail::rowwise_adagrad_row(stored, g, acc[id], dim, c);
      } else {
        for (int64_t k = 0; k < dim; ++k) row[k] = detail::widen(stored[k]);
        detail::rowwise_adagrad_row(row, g, acc[id], dim, c);
        detail::RoundingWords words(rounding);
        detail::narrow_row(row, stored, dim, id * dim, rounding.stochastic, words);
      }
    });
  });
}

void embedding_bag_sparse_adam_step(Tensor& table, Tensor& exp_avg, Tensor& exp_avg_sq, const BagGradient& grad,
                                    const SparseAdamHyper& hyper, const HalfRounding& rounding) {
  const char* op = "embedding_bag_sparse_adam_step";
  check_hyper(op, hyper);
  const std::vector<int64_t> off = checked_step(op, table, grad);
  check_state(op, "exp_avg", exp_avg, table, table.shape());
  check_state(op, "exp_avg_sq", exp_avg_sq, table, table.shape());
  if (grad.ids.numel() == 0 || table.size(1) == 0) return;
  if (table.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::embedding_bag_sparse_adam_step(table, exp_avg, exp_avg_sq, grad, hyper, rounding));
    return;
  }
  const int64_t dim = table.size(1);
  detail::dispatch_storage(table.dtype(), op, [&](auto tag) {
    using S = decltype(tag);
    using T = detail::compute_t<S>;
    const detail::SparseAdamCoeffs<T> c = detail::sparse_adam_coeffs<T>(hyper);
    S* p = table.data<S>();
    T* m = exp_avg.data<T>();
    T* v = exp_avg_sq.data<T>();
    const T* const state[] = {m, v};
    auto prefetch = [&](int64_t id) {
      cpu::prefetch_row(p + id * dim, static_cast<size_t>(dim) * sizeof(S));
      cpu::prefetch_rows(state, id, dim);
    };
    for_each_touched_row<T>(grad, off, prefetch, [&](int64_t id, const T* g, T* row) {
      const int64_t e0 = id * dim;
      if constexpr (std::is_same_v<S, T>) {
        for (int64_t e = e0, k = 0; k < dim; ++e, ++k) detail::sparse_adam_apply(p[e], g[k], m[e], v[e], c);
      } else {
        for (int64_t e = e0, k = 0; k < dim; ++e, ++k) {
          row[k] = detail::widen(p[e]);
          detail::sparse_adam_apply(row[k], g[k], m[e], v[e], c);
        }
        detail::RoundingWords words(rounding);
        detail::narrow_row(row, p + e0, dim, e0, rounding.stochastic, words);
      }
    });
  });
}

}  // namespace aisle::ops
