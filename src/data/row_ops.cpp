#include "src/data/row_ops.hpp"

#include <algorithm>
#include <limits>

#include "aisle/tensor/random.hpp"
#include "src/core/parallel.hpp"

namespace aisle::data::row_ops {

RowFilter::RowFilter(const uint8_t* codes, int64_t n, uint8_t code)
    : chunks_((n + kChunk - 1) / kChunk), start_(static_cast<size_t>(chunks_) + 1, 0) {
  const auto chunk_end = [n](int64_t c) { return std::min(n, (c + 1) * kChunk); };
  cpu::parallel_for(chunks_, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t m = 0;
      for (int64_t r = c * kChunk; r < chunk_end(c); ++r) m += codes[r] == code;
      start_[static_cast<size_t>(c) + 1] = m;
    }
  });
  for (int64_t c = 0; c < chunks_; ++c) start_[static_cast<size_t>(c) + 1] += start_[static_cast<size_t>(c)];
  picked_.resize(static_cast<size_t>(count() + chunks_));
  cpu::parallel_for(chunks_, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      uint16_t* p = picked_.data() + start_[static_cast<size_t>(c)] + c;
      int64_t m = 0;
      for (int64_t r = c * kChunk; r < chunk_end(c); ++r) {
        p[m] = static_cast<uint16_t>(r - c * kChunk);
        m += codes[r] == code;
      }
    }
  });
}

template <class T>
Tensor RowFilter::take_column(const T* column) const {
  Tensor out = Tensor::empty({count()}, dtype_of<T>);
  T* o = out.data<T>();
  cpu::parallel_for(chunks_, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t w = start_[static_cast<size_t>(c)], m = start_[static_cast<size_t>(c) + 1] - w;
      const uint16_t* picked = picked_.data() + w + c;
      const T* src = column + c * kChunk;
      for (int64_t j = 0; j < m; ++j) o[w + j] = src[picked[j]];
    }
  });
  return out;
}

Tensor RowFilter::take(const int64_t* column) const { return take_column(column); }
Tensor RowFilter::take(const float* column) const { return take_column(column); }
Tensor RowFilter::take(const uint8_t* column) const { return take_column(column); }

Interactions RowFilter::take(const Interactions& x) const {
  Interactions out;
  out.users = take(x.users.data<int64_t>());
  out.items = take(x.items.data<int64_t>());
  out.values = take(x.values.data<float>());
  out.timestamps = take(x.timestamps.data<int64_t>());
  out.events = take(x.events.data<uint8_t>());
  out.parts = take(x.parts.data<uint8_t>());
  out.num_users = x.num_users;
  out.num_items = x.num_items;
  return out;
}

std::vector<uint64_t> random_row_keys(int64_t n, uint64_t seed, uint64_t stream) {
  std::vector<uint64_t> keys(static_cast<size_t>(n));
  const int64_t blocks = (n + 1) / 2;  // one Philox block gives two 64-bit keys
  cpu::parallel_for(blocks, 1 << 14, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const Philox4x32 w = philox_block(seed, stream, static_cast<uint64_t>(b));
      keys[static_cast<size_t>(2 * b)] = (uint64_t{w.v[0]} << 32) | w.v[1];
      if (2 * b + 1 < n) keys[static_cast<size_t>(2 * b + 1)] = (uint64_t{w.v[2]} << 32) | w.v[3];
    }
  });
  return keys;
}

template <class K>
std::vector<RankCut<K>> rank_cuts(const K* keys, int64_t n, std::vector<int64_t> ks) {
  std::vector<RankCut<K>> cuts(ks.size());
  std::vector<size_t> order(ks.size());
  for (size_t j = 0; j < ks.size(); ++j) {
    ks[j] = std::clamp<int64_t>(ks[j], 0, n);
    order[j] = j;
  }
  // Largest k first: each later selection only needs the prefix the previous one left below it.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ks[a] > ks[b]; });
  std::vector<K> copy(keys, keys + n);
  int64_t bound = n;
  for (const size_t j : order) {
    const int64_t k = ks[j];
    if (k == 0) {
      cuts[j] = {std::numeric_limits<K>::lowest(), 0};  // nothing is below the lowest key
      continue;
    }
    std::nth_element(copy.begin(), copy.begin() + (k - 1), copy.begin() + bound);
    const K value = copy[static_cast<size_t>(k - 1)];
    const int64_t below = std::count_if(copy.begin(), copy.begin() + (k - 1), [&](K v) { return v < value; });
    cuts[j] = {value, k - below};
    bound = k;  // [0, k) now holds exactly the k smallest keys
  }
  return cuts;
}

template std::vector<RankCut<int64_t>> rank_cuts(const int64_t*, int64_t, std::vector<int64_t>);
template std::vector<RankCut<uint64_t>> rank_cuts(const uint64_t*, int64_t, std::vector<int64_t>);

}  // namespace aisle::data::row_ops
