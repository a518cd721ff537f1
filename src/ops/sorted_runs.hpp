#pragma once
// Internal: groups equal ids for the deterministic scatters on the CPU (coalesce_rows, the fused
// embedding-bag updates). Positions are ordered by id with ties in position order, which is the
// summation order of every run; the CUDA twin (cuda/scatter.cu) sorts into the same order.
#include <cstdint>
#include <vector>

namespace aisle::detail {

struct SortedRuns {
  std::vector<int64_t> pos;        // 0..n-1 ordered by id, ties in position order
  std::vector<int64_t> run_start;  // runs() + 1 entries: run r is pos[run_start[r] .. run_start[r + 1])
  int64_t runs() const { return static_cast<int64_t>(run_start.size()) - 1; }
};

// A stable least-significant-digit radix sort on (id - min id): linear in n, unlike a comparison
// sort, which is what makes it worth a helper (the single-threaded stable_sort it replaced was
// the slowest piece of a sparse optimizer step).
SortedRuns sorted_runs(const int64_t* ids, int64_t n);

}  // namespace aisle::detail
