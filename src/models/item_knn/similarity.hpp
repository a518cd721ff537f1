#pragma once
// Internal: item-kNN's fit, the top-N cosine neighbours of every item, on the CPU.
#include <cstdint>
#include <vector>

#include "aisle/data/interactions.hpp"
#include "aisle/data/user_index.hpp"
#include "aisle/tensor/tensor.hpp"

namespace aisle::models::knn {

// A users x items matrix in CSR form with f64 entries; items sorted and distinct within a user.
struct UserItemMatrix {
  int64_t num_users = 0, num_items = 0;
  std::vector<int64_t> offsets{0};  // [users + 1]
  std::vector<int64_t> items;       // [nnz]
  std::vector<double> values;       // [nnz]
};

// Every distinct (user, item) pair with value 1.
UserItemMatrix binary_matrix(const data::UserItemIndex& index);
// The summed values of each (user, item)'s rows, added in row order.
UserItemMatrix value_matrix(const data::Interactions& rows);

// Each item's `width` most similar other items: items i64 [I, width] and weights f32 [I, width],
// best first, rows padded with -1 / 0 when an item has fewer neighbours.
struct NeighborTable {
  Tensor items, weights;
};

// sim(i, j) = <x_i, x_j> / (|x_i| |x_j| + shrink) over the item columns x of `m`, computed in f64
// and rounded to f32; neighbours of i are the items j != i sharing a user with i whose rounded
// similarity is finite and not zero, ranked by it, ties to the lower item id. Items are processed in parallel
// with one dense accumulator of size I per thread; each item's sums run over its users in
// ascending order, so the result does not depend on the thread count.
NeighborTable top_neighbors(const UserItemMatrix& m, int64_t width, double shrink);

}  // namespace aisle::models::knn
