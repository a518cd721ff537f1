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

}  // namespace aisle::detail
