#pragma once
#include "aisle/ops/mask_items.hpp"

// Launchers for aisle/ops/mask_items.hpp. Arguments are validated by src/ops/mask_items.cpp
// (shapes, dtypes, devices, offsets); listed items are range-checked in the kernels and an
// out-of-range item is raised as an error naming the op.
namespace aisle::cuda {

void mask_items(const Tensor& scores, const Tensor& offsets, const Tensor& items, double value);
void rank_items(const Tensor& scores, const Tensor& offsets, const Tensor& items, const Tensor& out);

}  // namespace aisle::cuda
