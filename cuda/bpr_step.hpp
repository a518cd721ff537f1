#pragma once
#include "aisle/tensor/tensor.hpp"

// Launcher for BPR-MF's fused step on CUDA (the model's host side is
// src/models/bpr_mf/fused_backward_cuda.cpp, which validates shapes, dtypes and devices and
// coalesces these rows; the meaning is fused_backward_cpu's, see src/models/bpr_mf/backward.hpp).
namespace aisle::cuda {

// Per-occurrence gradient rows of one batch, not yet coalesced. Items occur first as the B
// positives, then as the B k negatives in triple order: the order in which fused_backward_cpu
// sums a row's occurrences, so a stable sort by id sums them in the same order.
struct BprStepRows {
  Tensor user_rows;     // f32 [B, F]: example b's gradient of p_{u_b}
  Tensor item_ids;      // i64 [B + B k]: the item of each occurrence
  Tensor item_rows;     // f32 [B + B k, F]
  Tensor bias_rows;     // f32 [B + B k]; undefined when item_bias is
  Tensor example_loss;  // f64 [B]: each positive's share of the loss (BPR terms and L2)
};

// Tables on one CUDA device ([U, F] and [I, F] both f32, bf16 or f16, read widened to f32; item_bias
// f32 [I] or undefined); the rows out are f32 whatever the tables' storage; ids i64 on that device
// ([B], [B], [B, k]) with B, k >= 1. Ids outside their table throw aisle::Error naming the table.
BprStepRows bpr_step(const Tensor& user_table, const Tensor& item_table, const Tensor& item_bias,
                     const Tensor& users, const Tensor& items, const Tensor& negatives, double reg);

}  // namespace aisle::cuda
