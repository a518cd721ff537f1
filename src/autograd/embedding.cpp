// Backward rules of the embedding-bag family (forward kernels: src/ops/embedding.cpp).
#include "aisle/autograd/embedding.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;
using autograd::record;

Var embedding_bag(const Var& table, const Tensor& ids, const Tensor& offsets, ops::BagMode mode,
                  const Var& per_sample_weights) {
  const DType stored = table.value().defined() ? table.value().dtype() : DType::f32;
  AISLE_CHECK(!table.requires_grad() || (stored != DType::bf16 && stored != DType::f16), "embedding_bag: a ",
              dtype_name(stored), " table cannot take autograd gradients (they would be f32 rows); train a 16-bit "
              "table with the fused sparse steps of aisle/ops/embedding_update.hpp, or store it in f32");
  const Tensor weights = per_sample_weights.defined() ? per_sample_weights.value() : Tensor();
  // The table value is kept only when the weights learn: their gradient reads the looked-up rows.
  const Tensor table_for_weights =
      per_sample_weights.defined() && per_sample_weights.requires_grad() ? table.value() : Tensor();
  return record("embedding_bag", ops::embedding_bag(table.value(), ids, offsets, mode, weights),
                {table, per_sample_weights},
                [ids, offsets, mode, weights, table_for_weights](const Tensor& dy,
                                                                 const NeedsGrad& needs) -> std::vector<Grad> {
                  std::vector<Grad> grads(2);
                  if (needs[0]) grads[0] = ops::embedding_bag_backward(ids, offsets, dy, mode, weights);
                  if (needs[1])
                    grads[1] = ops::embedding_bag_weights_backward(table_for_weights, ids, offsets, dy);
                  return grads;
                });
}

}  // namespace aisle
