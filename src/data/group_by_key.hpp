#pragma once
// Internal: stable grouping of entries by a dense key (rows by user, edges by item), the core of
// building per-user sequences and transposing the user-item graph.
#include <cstdint>
#include <vector>

namespace aisle::detail {

// Groups entries 0..n-1 by key[i] in [0, num_keys) (keys must be valid). On return, the values
// of key k's entries are grouped[offsets[k] .. offsets[k + 1]), in increasing entry order, where
// entry i's value is values[i], or i itself when values is null. A one-pass counting sort writes
// every entry to a random place (a cache miss each, which dominates at 10M entries); this sorts
// in two passes, first into at most 1024 coarse buckets of consecutive keys (carrying keys and
// values along, so the second pass reads sequentially) and then within each bucket, so both
// passes write to few active cache lines. Both run in parallel with results independent of the
// thread count.
void group_by_key(const int64_t* key, const int64_t* values, int64_t n, int64_t num_keys,
                  std::vector<int64_t>& offsets, std::vector<int64_t>& grouped);

// Turns per-(chunk, bucket) counts (chunk-major) into each one's first output position, bucket by
// bucket, chunks in order within a bucket (the order that keeps a bucketed scatter stable), and
// fills bucket_start[0..buckets] with each bucket's first position and the total.
void counts_to_positions(std::vector<int64_t>& slots, int64_t chunks, int64_t buckets,
                         std::vector<int64_t>& bucket_start);

}  // namespace aisle::detail
