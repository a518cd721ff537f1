#pragma once
// Internal: argument checks shared by the op catalogue. Every failure throws aisle::Error that
// names the op, the argument, and the offending tensors' shape, dtype and device.
#include <initializer_list>
#include <vector>

#include "aisle/tensor/tensor.hpp"

namespace aisle::detail {

void check_defined(const char* op, const char* name, const Tensor& t);
void check_float(const char* op, const char* name, const Tensor& t);  // f32 or f64
void check_index(const char* op, const char* name, const Tensor& t);  // i32 or i64
// An embedding table: 2-D, stored in f32, f64, bf16 or f16 (src/core/storage.hpp).
void check_table(const char* op, const char* name, const Tensor& t);
void check_dim(const char* op, const char* name, const Tensor& t, int64_t dim);
void check_same_device(const char* op, const char* name_a, const Tensor& a, const char* name_b,
                       const Tensor& b);
void check_same_dtype(const char* op, const char* name_a, const Tensor& a, const char* name_b,
                      const Tensor& b);
void check_same_shape(const char* op, const char* name_a, const Tensor& a, const char* name_b,
                      const Tensor& b);

}  // namespace aisle::detail

namespace aisle::detail {

// Throws aisle::Error naming `op` and the first index outside [0, bound). Host tensors only.
void check_index_range_host(const char* op, const Tensor& index, int64_t bound);

// CSR-style offsets, validated: B + 1 non-decreasing entries from 0 to `total` (`total` < 0: any
// end). CPU offsets come back whole in `host`; CUDA offsets are checked on the device, which reads
// back two numbers instead of B + 1 (`host` stays empty), and copied to the host only to name a
// bad entry, so both devices throw the same message.
struct CheckedOffsets {
  int64_t segments = 0;       // B
  int64_t last = 0;           // offsets[B]
  std::vector<int64_t> host;  // every entry, for CPU offsets only
};
CheckedOffsets checked_offsets(const char* op, const Tensor& offsets, int64_t total);

}  // namespace aisle::detail
