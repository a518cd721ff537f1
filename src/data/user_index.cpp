#include "aisle/data/user_index.hpp"

#include <algorithm>

#include "src/core/parallel.hpp"

namespace aisle::data {

UserItemIndex::UserItemIndex(const Interactions& x) : num_items_(x.num_items) {
  x.validate("UserItemIndex");
  const int64_t n = x.size();
  const int64_t* u = x.users.data<int64_t>();
  const int64_t* it = x.items.data<int64_t>();
  // Counting sort by user, then sort and deduplicate each user's items.
  std::vector<int64_t> start(static_cast<size_t>(x.num_users) + 1, 0);
  for (int64_t r = 0; r < n; ++r) ++start[static_cast<size_t>(u[r]) + 1];
  for (int64_t k = 0; k < x.num_users; ++k) start[static_cast<size_t>(k) + 1] += start[static_cast<size_t>(k)];
  std::vector<int64_t> fill(start.begin(), start.end() - 1), grouped(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) grouped[static_cast<size_t>(fill[static_cast<size_t>(u[r])]++)] = it[r];
  std::vector<int64_t> distinct(static_cast<size_t>(x.num_users), 0);
  cpu::parallel_for(x.num_users, 256, [&](int64_t u0, int64_t u1) {
    for (int64_t k = u0; k < u1; ++k) {
      auto b = grouped.begin() + start[static_cast<size_t>(k)], e = grouped.begin() + start[static_cast<size_t>(k) + 1];
      std::sort(b, e);
      distinct[static_cast<size_t>(k)] = std::unique(b, e) - b;
    }
  });
  offsets_.assign(static_cast<size_t>(x.num_users) + 1, 0);
  for (int64_t k = 0; k < x.num_users; ++k)
    offsets_[static_cast<size_t>(k) + 1] = offsets_[static_cast<size_t>(k)] + distinct[static_cast<size_t>(k)];
  items_.resize(static_cast<size_t>(offsets_.back()));
  for (int64_t k = 0; k < x.num_users; ++k)
    std::copy_n(grouped.begin() + start[static_cast<size_t>(k)], distinct[static_cast<size_t>(k)],
                items_.begin() + offsets_[static_cast<size_t>(k)]);
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
