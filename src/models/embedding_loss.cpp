#include "src/models/embedding_loss.hpp"

#include "aisle/autograd/elementwise.hpp"
#include "aisle/autograd/loss.hpp"
#include "aisle/autograd/reduce.hpp"
#include "aisle/autograd/scatter.hpp"
#include "aisle/autograd/shape.hpp"

namespace aisle::models {

Var bpr_loss_with_row_l2(const Var& final, const Var& base, const Tensor& users, const Tensor& items,
                         const Tensor& negatives, double reg) {
  const int64_t b = users.numel(), k = negatives.size(1), f = final.size(1);
  const Var eu = embedding(final, users);      // [B, F]
  const Var ei = embedding(final, items);      // [B, F]
  const Var ej = embedding(final, negatives);  // [B, k, F]
  const Var pos = sum(eu * ei, -1);            // [B]
  const Var neg = sum(reshape(eu, {b, 1, f}) * ej, -1);  // [B, k]
  const Var pos_per_triple = broadcast_to(reshape(pos, {b, 1}), {b, k});
  const Var l2 = sum_all(square(embedding(base, users))) + sum_all(square(embedding(base, items))) +
                 sum_all(square(embedding(base, negatives))) * (1.0 / static_cast<double>(k));
  return bpr_loss(pos_per_triple, neg) + l2 * (reg / (2.0 * static_cast<double>(b)));
}

}  // namespace aisle::models
