#pragma once
#include "aisle/ops/embedding.hpp"
#include "aisle/ops/optim.hpp"

// Sparse optimizer steps fused into the embedding-bag backward. The table rows that a batch of
// bags touched are updated straight from the gradient of the bags, dy: no gradient table is
// built, neither one row per id (embedding_bag_backward) nor one per touched row (coalesce_rows).
// Each step equals the three-op path
//   g = embedding_bag_backward(ids, offsets, dy, mode, w);
//   c = coalesce_rows(g.indices, g.rows);
//   rowwise_adagrad_update(table, c, row_accumulator, hyper);   // or sparse_adam_update
// bit for bit on the CPU: every touched row sums its ids' contributions in position order (a
// stable sort by id), with the same roundings, then takes the optimizer's formula
// (src/ops/optim_functors.hpp). The CUDA twin sums in the same order; its row-wise Adagrad adds
// each row's squares in a tree, so it agrees with the CPU to rounding. Results never depend on
// the thread count.
//
// The table may be stored in bf16 or f16 (half the bytes of f32): its rows are then widened, the
// gradient sums and the optimizer formula run in f32, dy and the optimizer state are f32, and the
// updated rows are rounded back to 16 bits as `rounding` says (aisle/core/half.hpp): to nearest
// even, which equals the f32 step on the widened table followed by one rounding, or
// stochastically, which keeps updates below half a unit in the last place alive on average.
//
// Every argument is checked before anything is written: the bag layout as in embedding_bag, ids
// inside [0, table rows), dy [B, D] and the state tensors in the table's compute dtype (f32 for a
// 16-bit table, else the table's own) and on its device.
namespace aisle::ops {

// The gradient of one embedding_bag call: its ids, offsets, mode and weights, and dy [B, D].
struct BagGradient {
  Tensor ids, offsets, dy;
  BagMode mode = BagMode::sum;
  Tensor per_sample_weights;  // optional, sum mode only
};

// row_accumulator: [N], one entry per table row.
void embedding_bag_rowwise_adagrad_step(Tensor& table, Tensor& row_accumulator, const BagGradient& grad,
                                        const RowWiseAdagradHyper& hyper, const HalfRounding& rounding = {});

// exp_avg and exp_avg_sq: the table's shape. hyper.step counts this table's updates, this one included.
void embedding_bag_sparse_adam_step(Tensor& table, Tensor& exp_avg, Tensor& exp_avg_sq, const BagGradient& grad,
                                    const SparseAdamHyper& hyper, const HalfRounding& rounding = {});

}  // namespace aisle::ops
