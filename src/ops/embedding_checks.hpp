#pragma once
// Internal: argument checks shared by the embedding-bag ops (src/ops/embedding.cpp) and the
// optimizer steps fused into their backward (src/ops/embedding_update.cpp).
#include <cstdint>
#include <vector>

#include "aisle/ops/embedding.hpp"
#include "src/core/checks.hpp"
#include "src/core/storage.hpp"

namespace aisle::detail {

// Validates ids and offsets (on the device of `ref`) and returns the offsets on the host.
inline CheckedOffsets checked_bags(const char* op, const Tensor& ids, const Tensor& offsets,
                                         const char* ref_name, const Tensor& ref) {
  check_index(op, "ids", ids);
  AISLE_CHECK(ids.dim() == 1, op, ": ids must be 1-D (all bags concatenated), got ", ids.describe());
  check_same_device(op, ref_name, ref, "ids", ids);
  check_defined(op, "offsets", offsets);
  check_same_device(op, ref_name, ref, "offsets", offsets);
  return checked_offsets(op, offsets, ids.numel());
}

// t (weights, dy, optimizer state) must be in the compute dtype of `ref`, a table that may be
// stored in 16 bits: f32 for a bf16/f16 table, else the table's own dtype.
inline void check_compute_dtype(const char* op, const char* name, const Tensor& t, const char* ref_name,
                                const Tensor& ref) {
  const DType want = compute_dtype(ref.dtype());
  AISLE_CHECK(t.dtype() == want, op, ": ", name, " ", t.describe(), " must have dtype ", dtype_name(want),
              (want == ref.dtype() ? ", the dtype of " : ", the compute dtype of "), ref_name, " ", ref.describe());
}

inline void check_bag_weights(const char* op, const Tensor& weights, const Tensor& ids, ops::BagMode mode,
                              const char* ref_name, const Tensor& ref) {
  if (!weights.defined()) return;
  AISLE_CHECK(mode == ops::BagMode::sum, op, ": per_sample_weights are only supported in sum mode, got mode ",
              ops::bag_mode_name(mode));
  check_float(op, "per_sample_weights", weights);
  check_compute_dtype(op, "per_sample_weights", weights, ref_name, ref);
  check_same_device(op, ref_name, ref, "per_sample_weights", weights);
  AISLE_CHECK(weights.dim() == 1 && weights.numel() == ids.numel(), op, ": per_sample_weights ",
              weights.describe(), " must hold one weight per id, ids ", ids.describe());
}

inline void check_bag_dy(const char* op, const Tensor& dy, int64_t bags) {
  AISLE_CHECK(dy.dim() == 2 && dy.size(0) == bags, op, ": dy ", dy.describe(),
              " must be [B, D] with one row per bag (", bags, " bags from offsets)");
}

}  // namespace aisle::detail
