// The CUDA step without the tape: one kernel (cuda/bpr_step.cu) writes each occurrence's gradient
// row, and the scatter family's deterministic coalescing (or the optimizer's fused update) sums
// each id's rows in occurrence order, the order fused_backward_cpu uses. In a CPU-only build it
// throws like any CUDA op.
#include "aisle/core/error.hpp"
#include "aisle/ops/reduce.hpp"
#include "aisle/ops/scatter.hpp"
#include "cuda/bpr_step.hpp"
#include "src/core/dispatch.hpp"
#include "src/models/bpr_mf/backward.hpp"

namespace aisle::models::bpr {
namespace {

constexpr const char* kOp = "BPR fused CUDA step";

void check_on(const Tensor& t, const char* name, Device device, DType dtype, int64_t dim) {
  AISLE_CHECK(t.defined(), kOp, ": ", name, " is undefined");
  AISLE_CHECK(t.device() == device && t.dtype() == dtype && t.dim() == dim, kOp, ": ", name, " is ",
              t.describe(), ", expected ", dim, "-D ", dtype_name(dtype), " on ", device.str());
}

}  // namespace

Gradients fused_occurrences_cuda(const Params& params, const BatchIds& batch, double reg) {
  const Tensor& user_table = params.user_factors.value();
  const Tensor& item_table = params.item_factors.value();
  const bool has_bias = params.item_bias.defined();
  const Tensor item_bias = has_bias ? params.item_bias.value() : Tensor();
  AISLE_CHECK(user_table.defined() && user_table.is_cuda(), kOp, ": the user table must be a CUDA tensor, got ",
              user_table.defined() ? user_table.describe() : std::string("undefined"));
  const Device dev = user_table.device();
  const DType storage = user_table.dtype();
  AISLE_CHECK(storage == DType::f32 || storage == DType::bf16 || storage == DType::f16, kOp,
              ": tables must be f32, bf16 or f16, got ", user_table.describe());
  check_on(user_table, "user_factors", dev, storage, 2);
  check_on(item_table, "item_factors", dev, storage, 2);
  const int64_t f = user_table.size(1);
  AISLE_CHECK(item_table.size(1) == f, kOp, ": item_factors ", item_table.describe(), " and user_factors ",
              user_table.describe(), " differ in width");
  if (has_bias) {
    check_on(item_bias, "item_bias", dev, DType::f32, 1);
    AISLE_CHECK(item_bias.size(0) == item_table.size(0), kOp, ": item_bias ", item_bias.describe(),
                " does not match item_factors ", item_table.describe());
  }
  check_on(batch.users, "users", dev, DType::i64, 1);
  check_on(batch.items, "items", dev, DType::i64, 1);
  check_on(batch.negatives, "negatives", dev, DType::i64, 2);
  const int64_t b_count = batch.users.numel();
  AISLE_CHECK(b_count > 0 && batch.items.numel() == b_count && batch.negatives.size(0) == b_count &&
                  batch.negatives.size(1) > 0,
              kOp, ": users ", batch.users.describe(), ", items ", batch.items.describe(), " and negatives ",
              batch.negatives.describe(), " must be [B], [B] and [B, k] with B, k >= 1");

  cuda::BprStepRows r;
  AISLE_CUDA_ONLY(kOp, r = cuda::bpr_step(user_table, item_table, item_bias, batch.users, batch.items,
                                          batch.negatives, reg));
  Gradients g;
  g.rows.push_back({batch.users, r.user_rows});
  g.rows.push_back({r.item_ids, r.item_rows});
  if (has_bias) g.rows.push_back({r.item_ids, r.bias_rows});
  g.loss = ops::sum_all(r.example_loss).item<double>();
  return g;
}

Gradients fused_backward_cuda(const Params& params, const BatchIds& batch, double reg) {
  Gradients g = fused_occurrences_cuda(params, batch, reg);
  for (ops::SparseRows& rows : g.rows) rows = ops::coalesce_rows(rows.indices, rows.rows);
  return g;
}

}  // namespace aisle::models::bpr
