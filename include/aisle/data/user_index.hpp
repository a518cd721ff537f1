#pragma once
#include <cstdint>
#include <vector>

#include "aisle/data/interactions.hpp"

namespace aisle::data {

// Each user's distinct items, sorted: membership tests for negative sampling ("is this item a
// positive of this user?"), training-item masks for evaluation, per-user histories.
class UserItemIndex {
 public:
  UserItemIndex() = default;
  explicit UserItemIndex(const Interactions& interactions);

  int64_t num_users() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  int64_t num_items() const { return num_items_; }
  // The sorted distinct items of `user` as [begin, end) pointers.
  const int64_t* begin(int64_t user) const { return items_.data() + offsets_[static_cast<size_t>(user)]; }
  const int64_t* end(int64_t user) const { return items_.data() + offsets_[static_cast<size_t>(user) + 1]; }
  int64_t degree(int64_t user) const { return offsets_[static_cast<size_t>(user) + 1] - offsets_[static_cast<size_t>(user)]; }
  bool contains(int64_t user, int64_t item) const;
  // The CSR behind begin()/end(): offsets [num_users + 1] into items (for copies to a device).
  const std::vector<int64_t>& offsets() const { return offsets_; }
  const std::vector<int64_t>& items() const { return items_; }

 private:
  std::vector<int64_t> offsets_{0};
  std::vector<int64_t> items_;
  int64_t num_items_ = 0;
};

// Which items appear in at least one user's list: [num_items] of 0/1. The rest are the "cold"
// items (no training row) of GraphSAGE's negatives and of eval.cold_items.
std::vector<uint8_t> items_with_rows(const UserItemIndex& index);

}  // namespace aisle::data
