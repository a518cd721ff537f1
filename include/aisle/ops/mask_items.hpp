#pragma once
#include <limits>

#include "aisle/tensor/tensor.hpp"

// Per-row item lists over a score matrix, the two device-side steps of full-ranking evaluation
// (src/eval/full_ranking.cpp): masking each user's training items and locating each user's test
// items in the ranking. Not differentiable.
//
// Arguments: scores f32/f64 [B, n] (row b scores items 0..n-1 for one user); offsets i64 [B + 1],
// non-decreasing from 0 to items.numel(); items i32/i64 [nnz], row b's list being
// items[offsets[b] .. offsets[b + 1]). All three on one device. A listed item outside [0, n) throws
// aisle::Error naming the op, the item and the range.
namespace aisle::ops {

// scores[b, items[j]] = value for every j of row b, in place (the masked items then sort last
// under ops::topk, which orders -inf below every number).
void mask_items_(Tensor& scores, const Tensor& offsets, const Tensor& items,
                 double value = -std::numeric_limits<double>::infinity());

// The 0-based position of every listed item in its row's ranking, i64 [nnz]. Scores rank in
// descending order; ties follow the evaluation's pessimistic rule: a listed item loses every tie
// against an unlisted one, and ties among listed items go to the lower item id. For t = items[j]
// in row b, with s = scores[b]:
//   rank[j] = #{i : s[i] > s[t]}  +  #{i unlisted : s[i] == s[t]}  +  #{listed t' < t : s[t'] == s[t]}
// Comparisons use the sort family's order (aisle/ops/sort.hpp): NaN is above every number and
// equal to NaN, -0.0 equals 0.0. A row's listed items must be distinct (evaluation passes a
// user's distinct test items); duplicates give unspecified ranks.
Tensor rank_items(const Tensor& scores, const Tensor& offsets, const Tensor& items);

}  // namespace aisle::ops
