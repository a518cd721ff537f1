#pragma once
#include <cstdint>

#include "aisle/tensor/tensor.hpp"

// The device half of detail::checked_offsets (src/core/checks.cpp): CSR-style offsets on a GPU are
// checked where they live, so a call reads back two numbers instead of B + 1 offsets. The host
// names a bad entry (from a copy) only when this says there is one.
namespace aisle::cuda {

struct OffsetsScan {
  bool ok = false;   // offsets[0] == 0, non-decreasing, and offsets[B] == total (total < 0: any)
  int64_t last = 0;  // offsets[B]
};

// offsets: i32 or i64, 1-D with at least one entry, on a CUDA device.
OffsetsScan scan_offsets(const Tensor& offsets, int64_t total);

// The same check queued on offsets' stream without waiting: sets status[0] to 1 when a rule is
// broken (any other writer of status[0] must only set it non-zero too) and status[1] to the last
// offset. For checks that read back several results at once (csr_structure_ok).
void launch_scan_offsets(const Tensor& offsets, int64_t total, int64_t* status);

}  // namespace aisle::cuda
