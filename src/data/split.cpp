#include "aisle/data/split.hpp"

#include <algorithm>
#include <cmath>

#include "aisle/data/event.hpp"
#include "src/core/parallel.hpp"
#include "src/data/row_ops.hpp"
#include "src/data/user_sort.hpp"

namespace aisle::data {

namespace {

constexpr auto kTrain = static_cast<uint8_t>(Part::train);
constexpr auto kValid = static_cast<uint8_t>(Part::valid);
constexpr auto kTest = static_cast<uint8_t>(Part::test);

void check_ratios(const char* where, const Ratios& r) {
  for (const auto& [name, v] : {std::pair{"train", r.train}, {"valid", r.valid}, {"test", r.test}})
    AISLE_CHECK(std::isfinite(v) && v >= 0 && v <= 1, where, ": '", name, "' must be a share in [0, 1], got ", v);
  AISLE_CHECK(std::abs(r.train + r.valid + r.test - 1) <= 1e-9, where, ": train + valid + test must be 1, got ",
              r.train, " + ", r.valid, " + ", r.test, " = ", r.train + r.valid + r.test);
}

int64_t share_of(int64_t n, double share) { return std::llround(static_cast<double>(n) * share); }

// Builds the three parts from one part code per row.
Split assemble(const Interactions& x, const uint8_t* code) {
  Split s;
  const int64_t n = x.size();
  s.train = row_ops::RowFilter(code, n, kTrain).take(x);
  s.valid = row_ops::RowFilter(code, n, kValid).take(x);
  s.test = row_ops::RowFilter(code, n, kTest).take(x);
  s.notes.push_back(detail::concat("rows: train ", s.train.size(), ", valid ", s.valid.size(), ", test ",
                                   s.test.size()));
  return s;
}

int64_t count_flags(const std::vector<uint8_t>& flags) {
  return cpu::deterministic_sum<int64_t>(static_cast<int64_t>(flags.size()),
                                         [&](int64_t k) { return int64_t{flags[static_cast<size_t>(k)]}; });
}

// Held-out counts for one user of `d` rows: shares rounded to nearest, then valid and test shrunk
// (valid first: a test row is worth more) until at least one row is left to train on.
void per_user_counts(int64_t d, const Ratios& r, int64_t& n_valid, int64_t& n_test) {
  n_valid = share_of(d, r.valid);
  n_test = share_of(d, r.test);
  while (d - n_valid - n_test < 1 && n_valid > 0) --n_valid;
  while (d - n_valid - n_test < 1 && n_test > 0) --n_test;
}

Split random_per_user(const Interactions& x, const Ratios& r, std::vector<uint64_t> keys) {
  // A user's rows in (key, row) order are a seeded shuffle of them; the first n_train train, the
  // next n_valid validate. Each user's cuts are kept as the last (key, row) of train and of
  // valid, so the codes are then written in row order (sequential) rather than scattered.
  struct Keyed {
    int64_t user;
    uint64_t key;
    int64_t row;
  };
  struct Rank {
    uint64_t key;
    int64_t row;
    bool operator<=(const Rank& o) const { return key != o.key ? key < o.key : row <= o.row; }
  };
  struct alignas(32) Cuts {  // one cache line per user lookup
    Rank train{0, -1}, valid{0, -1};  // {0, -1} precedes every row: nothing
  };
  const int64_t* users = x.users.data<int64_t>();
  // Each temporary is released as soon as it is done with (the rows grouped by user before the
  // codes are written, the keys before the parts are copied), so at a billion rows the split
  // peaks at about 33 bytes a row beyond its input instead of 63.
  auto by_user = row_ops::sort_by_user<Keyed>(
      x, [&](int64_t row) { return Keyed{users[row], keys[static_cast<size_t>(row)], row}; },
      [](const Keyed& a, const Keyed& b) { return a.key != b.key ? a.key < b.key : a.row < b.row; });
  std::vector<Cuts> cuts(static_cast<size_t>(x.num_users));
  std::vector<uint8_t> small(static_cast<size_t>(x.num_users), 0);
  const bool holds_out = r.valid > 0 || r.test > 0;
  cpu::parallel_for(x.num_users, 512, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const Keyed* rows = by_user.begin(u);
      const int64_t d = by_user.end(u) - rows;
      if (d == 0) continue;
      int64_t n_valid = 0, n_test = 0;
      per_user_counts(d, r, n_valid, n_test);
      const int64_t n_train = d - n_valid - n_test;  // >= 1
      const Keyed& t = rows[n_train - 1];
      const Keyed& v = rows[n_train + n_valid - 1];
      cuts[static_cast<size_t>(u)] = {{t.key, t.row}, {v.key, v.row}};
      small[static_cast<size_t>(u)] = holds_out && n_train == d;
    }
  });
  by_user = {};
  std::vector<uint8_t> code(static_cast<size_t>(x.size()));
  cpu::parallel_for(x.size(), 1 << 16, [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      const Rank me{keys[static_cast<size_t>(row)], row};
      const Cuts& c = cuts[static_cast<size_t>(users[row])];
      code[static_cast<size_t>(row)] = me <= c.train ? kTrain : me <= c.valid ? kValid : kTest;
    }
  });
  std::vector<uint64_t>().swap(keys);
  std::vector<Cuts>().swap(cuts);
  Split s = assemble(x, code.data());
  s.users_only_in_train = count_flags(small);
  s.notes.push_back(detail::concat("random per user: ", s.users_only_in_train,
                                   " users too small to hold a row out stay wholly in train"));
  return s;
}

Split random_global(const Interactions& x, const Ratios& r, std::vector<uint64_t> keys) {
  const int64_t n = x.size();
  const int64_t n_test = share_of(n, r.test), n_valid = std::min(share_of(n, r.valid), n - n_test);
  const auto cuts = row_ops::rank_cuts(keys.data(), n, {n - n_valid - n_test, n - n_test});
  row_ops::CutCursor<uint64_t> to_train(cuts[0]), to_valid(cuts[1]);
  std::vector<uint8_t> code(static_cast<size_t>(n));
  for (int64_t row = 0; row < n; ++row) {
    const uint64_t k = keys[static_cast<size_t>(row)];
    // Both cursors see every row so each counts its own ties in row order.
    const bool t = to_train.take(k), v = to_valid.take(k);
    code[static_cast<size_t>(row)] = t ? kTrain : v ? kValid : kTest;
  }
  std::vector<uint64_t>().swap(keys);
  Split s = assemble(x, code.data());
  s.notes.push_back("random over all rows (not per user)");
  return s;
}

// Notes the time range of each part (a temporal split's cut, in words).
void note_time_ranges(Split& s) {
  for (const auto& [name, part] : {std::pair{"train", &s.train}, {"valid", &s.valid}, {"test", &s.test}}) {
    if (part->size() == 0) continue;
    const int64_t* t = part->timestamps.data<int64_t>();
    const auto [lo, hi] = std::minmax_element(t, t + part->size());
    s.notes.push_back(detail::concat(name, " times: ", *lo, " .. ", *hi));
  }
}

}  // namespace

Split random_split(const Interactions& x, const Ratios& ratios, bool per_user, Generator& gen) {
  check_ratios("random_split", ratios);
  x.validate("random_split");
  std::vector<uint64_t> keys = row_ops::random_row_keys(x.size(), gen.seed(), gen.take_stream());
  return per_user ? random_per_user(x, ratios, std::move(keys)) : random_global(x, ratios, std::move(keys));
}

Split random_split(const Interactions& x, const Ratios& ratios, bool per_user, uint64_t seed) {
  Generator gen(seed);
  return random_split(x, ratios, per_user, gen);
}

Split leave_one_out_split(const Interactions& x, bool valid, int64_t min_train) {
  AISLE_CHECK(min_train >= 0, "leave_one_out_split: 'min_train' must be >= 0, got ", min_train);
  x.validate("leave_one_out_split");
  const int64_t n = x.size();
  const int64_t* u = x.users.data<int64_t>();
  const int64_t* ts = x.timestamps.data<int64_t>();
  // Only each user's two latest rows matter, so one pass keeping them per user replaces a sort.
  // Their times are kept beside them so the pass reads no row but the current one. Rows arrive
  // in increasing order, so ">=" makes the later row win a timestamp tie.
  struct Latest {
    int64_t row = -1, time = 0;
  };
  const auto nu = static_cast<size_t>(x.num_users);
  std::vector<Latest> last(nu), before_last(nu);
  std::vector<int64_t> degree(nu, 0);
  for (int64_t r = 0; r < n; ++r) {
    const auto k = static_cast<size_t>(u[r]);
    ++degree[k];
    if (last[k].row < 0 || ts[r] >= last[k].time) {
      before_last[k] = last[k];
      last[k] = {r, ts[r]};
    } else if (before_last[k].row < 0 || ts[r] >= before_last[k].time) {
      before_last[k] = {r, ts[r]};
    }
  }
  const int64_t needed = min_train + (valid ? 2 : 1);
  std::vector<uint8_t> code(static_cast<size_t>(n), kTrain);
  int64_t small = 0;
  for (size_t k = 0; k < nu; ++k) {
    if (degree[k] == 0) continue;
    if (degree[k] < needed) {
      ++small;
      continue;
    }
    code[static_cast<size_t>(last[k].row)] = kTest;
    if (valid) code[static_cast<size_t>(before_last[k].row)] = kValid;
  }
  Split s = assemble(x, code.data());
  s.users_only_in_train = small;
  s.notes.push_back(detail::concat("leave one out: ", s.test.size(), " users hold out their latest row",
                                   valid ? " (and the one before it for validation)" : "", "; ", small,
                                   " users with fewer than ", needed, " rows stay wholly in train"));
  return s;
}

Split temporal_split(const Interactions& x, const Ratios& ratios) {
  check_ratios("temporal_split", ratios);
  x.validate("temporal_split");
  const int64_t n = x.size();
  const int64_t n_test = share_of(n, ratios.test), n_valid = std::min(share_of(n, ratios.valid), n - n_test);
  const int64_t* ts = x.timestamps.data<int64_t>();
  const auto cuts = row_ops::rank_cuts(ts, n, {n - n_valid - n_test, n - n_test});
  row_ops::CutCursor<int64_t> to_train(cuts[0]), to_valid(cuts[1]);
  std::vector<uint8_t> code(static_cast<size_t>(n));
  for (int64_t row = 0; row < n; ++row) {
    const bool t = to_train.take(ts[row]), v = to_valid.take(ts[row]);
    code[static_cast<size_t>(row)] = t ? kTrain : v ? kValid : kTest;
  }
  Split s = assemble(x, code.data());
  note_time_ranges(s);
  return s;
}

Split temporal_split_at(const Interactions& x, int64_t test_from, std::optional<int64_t> valid_from) {
  AISLE_CHECK(!valid_from || *valid_from <= test_from, "temporal_split_at: 'valid_from' (", valid_from.value_or(0),
              ") must not be after 'test_from' (", test_from, ")");
  x.validate("temporal_split_at");
  const int64_t n = x.size();
  const int64_t* ts = x.timestamps.data<int64_t>();
  const int64_t vf = valid_from.value_or(test_from);
  std::vector<uint8_t> code(static_cast<size_t>(n));
  cpu::parallel_for(n, 1 << 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) code[static_cast<size_t>(r)] = ts[r] < vf ? kTrain : ts[r] < test_from ? kValid : kTest;
  });
  Split s = assemble(x, code.data());
  note_time_ranges(s);
  return s;
}

Split given_split(const Interactions& x) {
  x.validate("given_split");
  const int64_t n = x.size();
  const uint8_t* parts = x.parts.data<uint8_t>();
  constexpr auto kNone = static_cast<uint8_t>(Part::none);
  if (const uint8_t* first = std::find(parts, parts + n, kNone); first != parts + n)
    AISLE_DATA_FAIL("given split: ", std::count(first, parts + n, kNone), " of ", n,
                    " rows have no part from the source (first: row ", first - parts,
                    "); the given split needs train and test files (e.g. import with --test FILE), or "
                    "choose another split method");
  Split s = assemble(x, parts);
  s.notes.push_back("split given by the source files");
  return s;
}

}  // namespace aisle::data
