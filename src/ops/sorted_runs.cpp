#include "src/ops/sorted_runs.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <utility>

namespace aisle::detail {

namespace {

constexpr int kDigitBits = 11;  // 2048 counters: fits in L1 beside the streamed keys
constexpr uint64_t kDigitMask = (uint64_t{1} << kDigitBits) - 1;
constexpr int64_t kComparisonSortBelow = 256;

int bits_for(uint64_t range) {
  int bits = 0;
  while (bits < 64 && (range >> bits) != 0) ++bits;
  return bits;
}

}  // namespace

SortedRuns sorted_runs(const int64_t* ids, int64_t n) {
  SortedRuns out;
  out.pos.resize(static_cast<size_t>(n));
  std::iota(out.pos.begin(), out.pos.end(), int64_t{0});
  if (n == 0) {
    out.run_start.push_back(0);
    return out;
  }
  if (n < kComparisonSortBelow) {
    std::stable_sort(out.pos.begin(), out.pos.end(), [&](int64_t a, int64_t b) { return ids[a] < ids[b]; });
  } else {
    const auto [lo, hi] = std::minmax_element(ids, ids + n);
    const uint64_t base = static_cast<uint64_t>(*lo);
    // Keys relative to the smallest id, so negative ids and narrow ranges sort in few passes.
    std::vector<uint64_t> keys(static_cast<size_t>(n)), keys_next(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) keys[static_cast<size_t>(j)] = static_cast<uint64_t>(ids[j]) - base;
    std::vector<int64_t> pos_next(static_cast<size_t>(n));
    const int bits = bits_for(static_cast<uint64_t>(*hi) - base);
    std::array<int64_t, kDigitMask + 1> count{};
    for (int shift = 0; shift < bits; shift += kDigitBits) {
      count.fill(0);
      for (int64_t j = 0; j < n; ++j) ++count[(keys[static_cast<size_t>(j)] >> shift) & kDigitMask];
      int64_t total = 0;
      for (int64_t& c : count) total += std::exchange(c, total);
      // Scanning in order keeps equal digits in their current order: the sort stays stable.
      for (int64_t j = 0; j < n; ++j) {
        const uint64_t key = keys[static_cast<size_t>(j)];
        const size_t to = static_cast<size_t>(count[(key >> shift) & kDigitMask]++);
        keys_next[to] = key;
        pos_next[to] = out.pos[static_cast<size_t>(j)];
      }
      keys.swap(keys_next);
      out.pos.swap(pos_next);
    }
  }
  for (int64_t j = 0; j < n; ++j)
    if (j == 0 || ids[out.pos[static_cast<size_t>(j)]] != ids[out.pos[static_cast<size_t>(j - 1)]])
      out.run_start.push_back(j);
  out.run_start.push_back(n);
  return out;
}

}  // namespace aisle::detail
