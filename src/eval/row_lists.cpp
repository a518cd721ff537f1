#include "src/eval/row_lists.hpp"

#include <algorithm>
#include <vector>

namespace aisle::eval::detail {

RowLists row_lists(const data::UserItemIndex& index, std::span<const int64_t> users, Device device) {
  std::vector<int64_t> offsets(users.size() + 1, 0);
  for (size_t b = 0; b < users.size(); ++b) offsets[b + 1] = offsets[b] + index.degree(users[b]);
  std::vector<int64_t> items(static_cast<size_t>(offsets.back()));
  for (size_t b = 0; b < users.size(); ++b)
    std::copy(index.begin(users[b]), index.end(users[b]), items.begin() + offsets[b]);
  return {Tensor::from_vector(offsets, device), Tensor::from_vector(items, device)};
}

}  // namespace aisle::eval::detail
