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

// parallel_for over segments of uneven cost: segment s of [0, n) costs about
// ptr[s + 1] - ptr[s] + 1 units (ptr: n + 1 non-decreasing offsets, e.g. a CSR row_ptr), and the
// chunks are cut at equal cost rather than equal count. Graph rows follow a power law: cut by count,
// the chunk holding the hubs keeps one thread busy while the others wait at the barrier.
// `unit_work` is one unit's weight against `min_chunk_work` (the least work worth a thread).
template <class Body>
void parallel_for_segments(int64_t n, const int64_t* ptr, int64_t unit_work, int64_t min_chunk_work, Body&& body) {
  if (n <= 0) return;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t total = ptr[n] - ptr[0] + n;  // cost units; + n so empty segments count
  const int64_t work = total * std::max<int64_t>(unit_work, 1);
  if (threads <= 1 || work <= min_chunk_work) {
    body(int64_t{0}, n);
    return;
  }
  const int64_t chunks =
      std::min<int64_t>({(work + min_chunk_work - 1) / std::max<int64_t>(min_chunk_work, 1), int64_t{threads} * 4, n});
  // First segment of chunk c: the first s whose cost prefix (ptr[s] - ptr[0] + s) reaches c/chunks of the total.
  const auto start = [&](int64_t c) {
    const int64_t target = c * total / chunks;
    int64_t lo = 0, hi = n;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (ptr[mid] - ptr[0] + mid < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t s0 = start(c), s1 = c + 1 == chunks ? n : start(c + 1);
    if (s0 < s1) body(s0, s1);
  }
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
