#pragma once
// Internal: the per-rating SGD kernel of biased MF (Funk 2006; Koren, Bell & Volinsky 2009), the
// update Surprise's SVD makes, on contiguous f32 rows.
#include <cstdint>

namespace aisle::models::biased_mf {

// One training row, packed so a step reads 12 bytes per rating instead of three columns.
struct PackedRating {
  int32_t user;
  int32_t item;
  float value;
};

// Row-major parameter tables the kernel updates in place (CPU memory).
struct Tables {
  float* user_factors;  // [users, factors]
  float* item_factors;  // [items, factors]
  float* user_bias;     // [users]
  float* item_bias;     // [items]
  int64_t factors;
};

struct SgdHyper {
  float lr = 0;
  float reg = 0;       // L2 on the factor rows a rating touches
  float reg_bias = 0;  // L2 on its two biases
  float global_mean = 0;
  bool use_biases = true;  // false: biases stay as they are (zero)
};

// For each rating r = ratings[k], k in [0, count), in that order:
//   e    = value - (mean + b_u + b_i + p_u·q_i)
//   b_u += lr (e - reg_bias b_u);     b_i += lr (e - reg_bias b_i)
//   p_u += lr (e q_i - reg p_u);      q_i += lr (e p_u - reg q_i)   (both from the old rows,
//                                      as (1 - lr reg) p_u + (lr e) q_i and likewise for q_i)
// Returns the sum of e^2 (errors before each update). One thread, fixed arithmetic order: the
// result depends on the inputs only. `ratings` is read front to back (callers gather a step's
// shuffled rows first), so only the factor rows are random reads.
double sequential_sgd(const Tables& tables, const PackedRating* ratings, int64_t count, const SgdHyper& hyper);

}  // namespace aisle::models::biased_mf
