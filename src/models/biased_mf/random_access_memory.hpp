#pragma once
// Internal: host memory for tables that per-rating SGD reads and writes at random rows.
#include <cstddef>
#include <memory>

#include "aisle/tensor/tensor.hpp"

namespace aisle::models::biased_mf {

// A zeroed CPU tensor whose memory is backed by transparent huge pages where Linux offers them
// (tables of 2 MiB and more): one TLB entry then covers 2 MiB instead of 4 KiB, which takes
// about a tenth off an ML-1M epoch, whose rows are touched in random order.
Tensor random_access_tensor(const Shape& shape, DType dtype = DType::f32);

// The same memory as a plain buffer of `bytes` (zeroed), freed with the returned handle.
std::shared_ptr<void> random_access_buffer(size_t bytes);

}  // namespace aisle::models::biased_mf
