#pragma once
// Internal: the ALS conjugate-gradient half-iteration written with the op catalogue, so it runs
// wherever the ops do (the CUDA path; on the CPU it is a test twin of cpu_solver). All rows are
// solved at once: per-cell dot products are an SDDMM (ops::spmm_values_backward) and the sums
// over a row's cells a CSR product (ops::spmm), so memory stays O(nnz + rows * factors).
#include <cstdint>

#include "aisle/ops/spmm.hpp"
#include "src/models/implicit_als/confidence_rows.hpp"

namespace aisle::models::als {

// One side's confidences as tensors on a device.
struct DeviceRows {
  ops::Csr extra;      // [rows, cols] CSR with values c - 1
  Tensor confidence;   // f32 [nnz]: c
  Tensor has_entries;  // f32 [rows, 1]: 1 for rows with cells, 0 for empty rows (solved to zero)
};
DeviceRows to_device(const ConfidenceRows& m, Device device);

// cg_half_step's contract (cpu_solver.hpp) on tensors: fixed [cols, F], gram [F, F] (fixed^T
// fixed + reg * I) and solved [rows, F] (updated in place) on one device. The same algorithm,
// except that a converged row is not stopped early: its step sizes are guarded (rs / (pAp +
// 1e-30)) and shrink to zero, so rows agree with the CPU to rounding.
double batched_cg_half_step(const DeviceRows& rows, const Tensor& fixed, const Tensor& gram, Tensor solved,
                            int64_t cg_steps);

}  // namespace aisle::models::als
