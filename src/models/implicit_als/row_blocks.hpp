#pragma once
// Internal: how the CPU solvers spread the rows of a half-step over threads.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "src/core/parallel.hpp"
#include "src/models/implicit_als/confidence_rows.hpp"

namespace aisle::models::als {

// Row ranges of roughly equal work, fixed by the data alone: parallel_for hands each thread a
// contiguous run of blocks, and rows differ a lot in length (a few heavy users).
inline std::vector<int64_t> balanced_blocks(const ConfidenceRows& conf, int64_t factors) {
  constexpr int64_t kBlocks = 512;
  const int64_t per_row = std::max<int64_t>(1, factors / 2);  // the Gram product, in entry units
  const double total = static_cast<double>(conf.nnz() + conf.rows * per_row);
  const int64_t blocks = std::max<int64_t>(1, std::min(kBlocks, conf.rows));
  std::vector<int64_t> bounds{0};
  double done = 0;
  for (int64_t r = 0; r < conf.rows; ++r) {
    done += static_cast<double>(conf.degree(r) + per_row);
    const auto block = static_cast<int64_t>(bounds.size());
    if (block < blocks && done >= total * static_cast<double>(block) / static_cast<double>(blocks))
      bounds.push_back(r + 1);
  }
  if (bounds.back() != conf.rows) bounds.push_back(conf.rows);
  return bounds;
}

// Runs solve_rows(row_begin, row_end) -> double over the blocks in parallel and adds the blocks'
// results in block order.
template <class SolveRows>
double over_blocks(const ConfidenceRows& conf, int64_t factors, SolveRows&& solve_rows) {
  const std::vector<int64_t> bounds = balanced_blocks(conf, factors);
  const auto blocks = static_cast<int64_t>(bounds.size()) - 1;
  std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
  cpu::parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      partial[static_cast<size_t>(b)] = solve_rows(bounds[static_cast<size_t>(b)], bounds[static_cast<size_t>(b) + 1]);
  });
  double sum = 0;
  for (double p : partial) sum += p;
  return sum;
}

}  // namespace aisle::models::als
