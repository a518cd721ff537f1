#include "aisle/data/filter.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "src/core/parallel.hpp"
#include "src/data/row_ops.hpp"
#include "src/data/user_sort.hpp"

namespace aisle::data {

namespace {

int64_t count_nonzero(const std::vector<int64_t>& counts) {
  return std::count_if(counts.begin(), counts.end(), [](int64_t c) { return c > 0; });
}

}  // namespace

KCoreResult k_core(const Interactions& x, int64_t k_user, int64_t k_item) {
  AISLE_CHECK(k_user >= 0, "k_core: 'k_user' must be >= 0, got ", k_user);
  AISLE_CHECK(k_item >= 0, "k_core: 'k_item' must be >= 0, got ", k_item);
  x.validate("k_core");
  const int64_t n = x.size();
  const int64_t* u = x.users.data<int64_t>();
  const int64_t* it = x.items.data<int64_t>();
  std::vector<int64_t> user_rows(static_cast<size_t>(x.num_users), 0), item_rows(static_cast<size_t>(x.num_items), 0);
  for (int64_t r = 0; r < n; ++r) {
    ++user_rows[static_cast<size_t>(u[r])];
    ++item_rows[static_cast<size_t>(it[r])];
  }
  const int64_t users_before = count_nonzero(user_rows), items_before = count_nonzero(item_rows);

  // Each pass judges every live row against the counts as they were at the start of the pass
  // (so a pass is order-free and parallel), then removes the failures and updates the counts.
  // Only the failures touch the counts, and later passes scan only the survivors.
  std::vector<int64_t> live(static_cast<size_t>(n));
  std::iota(live.begin(), live.end(), int64_t{0});
  std::vector<uint8_t> fails(static_cast<size_t>(n));
  KCoreResult res;
  for (;;) {
    const int64_t m = static_cast<int64_t>(live.size());
    cpu::parallel_for(m, 1 << 15, [&](int64_t j0, int64_t j1) {
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t r = live[static_cast<size_t>(j)];
        fails[static_cast<size_t>(j)] = user_rows[static_cast<size_t>(u[r])] < k_user ||
                                        item_rows[static_cast<size_t>(it[r])] < k_item;
      }
    });
    int64_t kept = 0;
    for (int64_t j = 0; j < m; ++j) {
      const int64_t r = live[static_cast<size_t>(j)];
      if (fails[static_cast<size_t>(j)]) {
        --user_rows[static_cast<size_t>(u[r])];
        --item_rows[static_cast<size_t>(it[r])];
      } else {
        live[static_cast<size_t>(kept++)] = r;
      }
    }
    if (kept == m) break;
    live.resize(static_cast<size_t>(kept));
    ++res.iterations;
  }
  std::vector<uint8_t> keep(static_cast<size_t>(n), 0);
  for (const int64_t r : live) keep[static_cast<size_t>(r)] = 1;
  res.kept = row_ops::RowFilter(keep.data(), n, 1).take(x);
  res.rows_removed = n - res.kept.size();
  res.users_removed = users_before - count_nonzero(user_rows);
  res.items_removed = items_before - count_nonzero(item_rows);
  return res;
}

Interactions threshold_implicit(const Interactions& x, float threshold, bool keep_values) {
  AISLE_CHECK(std::isfinite(threshold), "threshold_implicit: 'threshold' must be finite, got ", threshold);
  x.validate("threshold_implicit");
  const int64_t n = x.size();
  const float* v = x.values.data<float>();
  std::vector<uint8_t> keep(static_cast<size_t>(n));
  cpu::parallel_for(n, 1 << 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) keep[static_cast<size_t>(r)] = v[r] >= threshold;  // false for NaN
  });
  Interactions out = row_ops::RowFilter(keep.data(), n, 1).take(x);
  if (!keep_values) out.values.fill_(1.0);  // take() copied the column, so the input is untouched
  return out;
}

Interactions deduplicate(const Interactions& x, DedupPolicy policy) {
  x.validate("deduplicate");
  const int64_t n = x.size();
  const int64_t* it = x.items.data<int64_t>();
  const int64_t* ts = x.timestamps.data<int64_t>();
  const float* v = x.values.data<float>();
  // A user's rows in (item, time, row) order: each pair is then a run whose last entry is the
  // latest row, and a sum over the run adds in time order whatever the input order was.
  struct Entry {
    int64_t user, item, time, row;
    float value;
  };
  const int64_t* u = x.users.data<int64_t>();
  const auto by_user = row_ops::sort_by_user<Entry>(
      x, [&](int64_t r) { return Entry{u[r], it[r], ts[r], r, v[r]}; },
      [](const Entry& a, const Entry& b) {
        return a.item != b.item ? a.item < b.item : a.time != b.time ? a.time < b.time : a.row < b.row;
      });
  std::vector<uint8_t> keep(static_cast<size_t>(n), 0);
  std::vector<float> summed(policy == DedupPolicy::sum ? static_cast<size_t>(n) : 0);
  cpu::parallel_for(x.num_users, 512, [&](int64_t u0, int64_t u1) {
    for (int64_t user = u0; user < u1; ++user) {
      const Entry* e = by_user.end(user);
      for (const Entry* run = by_user.begin(user); run != e;) {
        const Entry* end = run + 1;
        double total = run->value;
        for (; end != e && end->item == run->item; ++end) total += end->value;
        const auto latest = static_cast<size_t>(end[-1].row);
        keep[latest] = 1;
        if (policy == DedupPolicy::sum) summed[latest] = static_cast<float>(total);
        run = end;
      }
    }
  });
  const row_ops::RowFilter kept(keep.data(), n, 1);
  Interactions out = kept.take(x);
  if (policy == DedupPolicy::sum) out.values = kept.take(summed.data());
  return out;
}

}  // namespace aisle::data
