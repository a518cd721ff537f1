#include "aisle/data/user_index.hpp"

#include <algorithm>

#include "src/core/parallel.hpp"

namespace aisle::data {

UserItemIndex::UserItemIndex(const Interactions& x) : num_items_(x.num_items) {
  x.validate("UserItemIndex");
  const int64_t n = x.size();
  const int64_t* u = x.users.data<int64_t>();
  const int64_t* it = x.items.data<int64_t>();
  // Counting sort by user into items_ itself, then sort and deduplicate each user's items and
  // close the gaps left by duplicates in place: one i64 per row at the peak, not two (at a
  // billion rows that is 8 GB).
  const auto nu = static_cast<size_t>(x.num_users);
  std::vector<int64_t> start(nu + 1, 0);
  for (int64_t r = 0; r < n; ++r) ++start[static_cast<size_t>(u[r]) + 1];
  for (size_t k = 0; k < nu; ++k) start[k + 1] += start[k];
  items_.resize(static_cast<size_t>(n));
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t r = 0; r < n; ++r) items_[static_cast<size_t>(fill[static_cast<size_t>(u[r])]++)] = it[r];
  }
  std::vector<int64_t> distinct(nu, 0);
  cpu::parallel_for(x.num_users, 256, [&](int64_t u0, int64_t u1) {
    for (int64_t k = u0; k < u1; ++k) {
      auto b = items_.begin() + start[static_cast<size_t>(k)], e = items_.begin() + start[static_cast<size_t>(k) + 1];
      std::sort(b, e);
      distinct[static_cast<size_t>(k)] = std::unique(b, e) - b;
    }
  });
  offsets_.assign(nu + 1, 0);
  for (size_t k = 0; k < nu; ++k) offsets_[k + 1] = offsets_[k] + distinct[k];
  if (offsets_.back() != n) {
    // offsets_[k] <= start[k]: every user's run moves left (or stays), so one forward pass works.
    for (size_t k = 0; k < nu; ++k)
      if (offsets_[k] != start[k])
        std::copy_n(items_.begin() + start[k], distinct[k], items_.begin() + offsets_[k]);
    items_.resize(static_cast<size_t>(offsets_.back()));
    items_.shrink_to_fit();
  }
}

bool UserItemIndex::contains(int64_t user, int64_t item) const {
  AISLE_CHECK(user >= 0 && user < num_users(), "UserItemIndex: user ", user, " is outside [0, ", num_users(), ")");
  return std::binary_search(begin(user), end(user), item);
}

std::vector<uint8_t> items_with_rows(const UserItemIndex& index) {
  std::vector<uint8_t> seen(static_cast<size_t>(index.num_items()), 0);
  for (int64_t u = 0; u < index.num_users(); ++u)
    for (const int64_t* i = index.begin(u); i != index.end(u); ++i) seen[static_cast<size_t>(*i)] = 1;
  return seen;
}

}  // namespace aisle::data
