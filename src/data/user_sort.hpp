#pragma once
// Internal: rows grouped by user, each user's rows in a caller's order, for tens of millions of
// rows. A plain counting sort by user sends every row to one of num_users write positions at
// random, which at 10M rows and 200k users is bound by cache and TLB misses. Instead rows are
// (1) scattered into at most 512 buckets of consecutive users — few write streams, parallel
// over fixed row chunks — and (2) each bucket, a few thousand rows that stay in cache, is
// counting-sorted by user and each user's rows sorted by the caller's order, in parallel over
// buckets. Both steps depend only on the data, never on the thread count.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "aisle/data/interactions.hpp"
#include "src/core/parallel.hpp"

namespace aisle::data::row_ops {

template <class T>
struct ByUser {
  std::vector<int64_t> offsets;  // user u's entries are entries[offsets[u] .. offsets[u + 1])
  std::unique_ptr<T[]> entries;
  T* begin(int64_t u) const { return entries.get() + offsets[static_cast<size_t>(u)]; }
  T* end(int64_t u) const { return entries.get() + offsets[static_cast<size_t>(u) + 1]; }
};

// One entry make(r) per row; T has a member `user` (row r's user). `less` orders one user's
// entries and must be a strict total order (end with the row) so the result is unique.
template <class T, class Make, class Less>
ByUser<T> sort_by_user(const Interactions& x, Make&& make, Less&& less) {
  const int64_t n = x.size(), users = x.num_users;
  const int64_t* u = x.users.data<int64_t>();
  ByUser<T> out;
  out.offsets.assign(static_cast<size_t>(users) + 1, n);
  out.entries = std::make_unique_for_overwrite<T[]>(static_cast<size_t>(n));
  if (n == 0) {
    std::fill(out.offsets.begin(), out.offsets.end(), 0);
    return out;
  }
  // Buckets of at least 64 users, at most 512 of them: few enough write streams for the
  // scatter to stay within the TLB.
  int shift = 6;
  while (((users - 1) >> shift) >= 512) ++shift;
  const int64_t buckets = ((users - 1) >> shift) + 1;
  // At most 256 row chunks, so the per-chunk bucket counts stay small (<= 8 MB).
  const int64_t chunk = std::max<int64_t>(int64_t{1} << 16, (n + 255) / 256);
  const int64_t chunks = (n + chunk - 1) / chunk;
  std::vector<int64_t> pos(static_cast<size_t>(chunks * buckets), 0);
  cpu::parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t* count = pos.data() + c * buckets;
      for (int64_t r = c * chunk; r < std::min(n, (c + 1) * chunk); ++r) ++count[u[r] >> shift];
    }
  });
  // Bucket-major prefix: bucket b holds chunk 0's rows, then chunk 1's..., so it is in row order.
  std::vector<int64_t> bucket_start(static_cast<size_t>(buckets) + 1, 0);
  int64_t running = 0;
  for (int64_t b = 0; b < buckets; ++b) {
    bucket_start[static_cast<size_t>(b)] = running;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t count = pos[static_cast<size_t>(c * buckets + b)];
      pos[static_cast<size_t>(c * buckets + b)] = running;
      running += count;
    }
  }
  bucket_start[static_cast<size_t>(buckets)] = n;
  cpu::parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t* next = pos.data() + c * buckets;
      for (int64_t r = c * chunk; r < std::min(n, (c + 1) * chunk); ++r)
        out.entries[static_cast<size_t>(next[u[r] >> shift]++)] = make(r);
    }
  });
  cpu::parallel_for(buckets, 1, [&](int64_t b0, int64_t b1) {
    std::vector<T> scratch;
    std::vector<int64_t> start, fill;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t base = bucket_start[static_cast<size_t>(b)];
      const int64_t size = bucket_start[static_cast<size_t>(b) + 1] - base;
      const int64_t first_user = b << shift, span = std::min(users, (b + 1) << shift) - first_user;
      T* entries = out.entries.get() + base;
      // Counting sort by user inside the bucket (it fits in cache), then each user's own sort.
      start.assign(static_cast<size_t>(span) + 1, 0);
      for (int64_t j = 0; j < size; ++j) ++start[static_cast<size_t>(entries[j].user - first_user) + 1];
      for (int64_t k = 0; k < span; ++k) start[static_cast<size_t>(k) + 1] += start[static_cast<size_t>(k)];
      for (int64_t k = 0; k < span; ++k) out.offsets[static_cast<size_t>(first_user + k)] = base + start[static_cast<size_t>(k)];
      scratch.assign(entries, entries + size);
      fill.assign(start.begin(), start.end() - 1);
      for (const T& e : scratch) entries[fill[static_cast<size_t>(e.user - first_user)]++] = e;
      for (int64_t k = 0; k < span; ++k)
        std::sort(entries + start[static_cast<size_t>(k)], entries + start[static_cast<size_t>(k) + 1], less);
    }
  });
  return out;
}

}  // namespace aisle::data::row_ops
