#include "src/models/embedding_loss.hpp"

#include "aisle/autograd/elementwise.hpp"
#include "aisle/autograd/loss.hpp"
#include "aisle/autograd/reduce.hpp"
#include "aisle/autograd/scatter.hpp"
#include "aisle/autograd/shape.hpp"
#include "aisle/ops/index.hpp"
#include "aisle/ops/sort.hpp"

namespace aisle::models {

Var bpr_loss_with_row_l2(const Var& final, const Var& base, const Tensor& users, const Tensor& items,
                         const Tensor& negatives, double reg) {
  const TripleIds ids{users, items, negatives};
  return bpr_loss_with_row_l2(final, ids, base, ids, reg);
}

Var bpr_loss_with_row_l2(const Var& final, const TripleIds& final_ids, const Var& base, const TripleIds& ids,
                         double reg) {
  const int64_t b = ids.users.numel(), k = ids.negatives.size(1), f = final.size(1);
  const Var eu = embedding(final, final_ids.users);      // [B, F]
  const Var ei = embedding(final, final_ids.items);      // [B, F]
  const Var ej = embedding(final, final_ids.negatives);  // [B, k, F]
  const Var pos = sum(eu * ei, -1);                      // [B]
  const Var neg = sum(reshape(eu, {b, 1, f}) * ej, -1);  // [B, k]
  const Var pos_per_triple = broadcast_to(reshape(pos, {b, 1}), {b, k});
  const Var l2 = sum_all(square(embedding(base, ids.users))) + sum_all(square(embedding(base, ids.items))) +
                 sum_all(square(embedding(base, ids.negatives))) * (1.0 / static_cast<double>(k));
  return bpr_loss(pos_per_triple, neg) + l2 * (reg / (2.0 * static_cast<double>(b)));
}

BatchRows batch_rows(const TripleIds& ids) {
  const int64_t b = ids.users.numel(), negatives = ids.negatives.numel();
  const ops::Unique u = ops::unique(
      ops::concat({ids.users.flatten(), ids.items.flatten(), ids.negatives.flatten()}, 0));
  const Tensor& at = u.inverse;
  return {u.values,
          {at.rows(0, b).reshape(ids.users.shape()), at.rows(b, 2 * b).reshape(ids.items.shape()),
           at.rows(2 * b, 2 * b + negatives).reshape(ids.negatives.shape())}};
}

}  // namespace aisle::models
