#pragma once
// Internal: CPU parallel loops (OpenMP). parallel_for's chunk boundaries DO depend on the thread
// count, so a body must compute each element independently of where its chunk starts; anything
// that accumulates across elements uses deterministic_sum (fixed blocks, partials added in
// order) or a fixed blocking of its own. That is what keeps results bit-identical on 1 or 64 cores.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace aisle::cpu {

// Calls body(begin, end) over disjoint chunks covering [0, n) (about 4 per thread). `grain` is the
// smallest chunk worth a thread. The body must not throw (validate inputs before the loop).
template <class Body>
void parallel_for(int64_t n, int64_t grain, Body&& body) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads <= 1 || n <= grain) {
    body(int64_t{0}, n);
    return;
  }
  const int64_t chunks = std::min<int64_t>((n + grain - 1) / grain, int64_t{threads} * 4);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) body(c * n / chunks, (c + 1) * n / chunks);
}

// Sum of f(i) over [0, n) with a fixed blocking (4096 terms per partial sum, partials added in
// order), so the rounding is the same whatever the thread count.
template <class Acc, class F>
Acc deterministic_sum(int64_t n, F&& f) {
  constexpr int64_t kBlock = 4096;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  if (blocks <= 1) {
    Acc s = 0;
    for (int64_t i = 0; i < n; ++i) s += f(i);
    return s;
  }
  std::vector<Acc> partial(static_cast<size_t>(blocks));
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      Acc s = 0;
      const int64_t end = std::min(n, (b + 1) * kBlock);
      for (int64_t i = b * kBlock; i < end; ++i) s += f(i);
      partial[static_cast<size_t>(b)] = s;
    }
  });
  Acc s = 0;
  for (Acc p : partial) s += p;
  return s;
}

}  // namespace aisle::cpu
