#pragma once
// Internal: a batch of users' item lists (training items to mask, test items to rank) as the CSR
// tensors the mask_items ops take, built on the host and copied to the scores' device.
#include <cstdint>
#include <span>

#include "aisle/data/user_index.hpp"
#include "aisle/tensor/tensor.hpp"

namespace aisle::eval::detail {

struct RowLists {
  Tensor offsets;  // i64 [B + 1]
  Tensor items;    // i64 [nnz]
};

RowLists row_lists(const data::UserItemIndex& index, std::span<const int64_t> users, Device device);

}  // namespace aisle::eval::detail
