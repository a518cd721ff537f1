#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

#include "aisle/data/compact.hpp"
#include "aisle/data/event.hpp"
#include "aisle/data/filter.hpp"
#include "support/testing.hpp"

namespace aisle::data {
namespace {

using Pair = std::pair<int64_t, int64_t>;

std::vector<Pair> pairs(const Interactions& x) {
  const auto u = x.users.to_vector<int64_t>(), i = x.items.to_vector<int64_t>();
  std::vector<Pair> out;
  for (size_t r = 0; r < u.size(); ++r) out.emplace_back(u[r], i[r]);
  return out;
}

Interactions random_pairs(int64_t n, int64_t users, int64_t items, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> u, it, ts;
  std::vector<float> v;
  for (int64_t r = 0; r < n; ++r) {
    // Squared draws skew degrees, so the core peels over several passes.
    const double a = gen.next_double(), b = gen.next_double();
    u.push_back(static_cast<int64_t>(a * a * static_cast<double>(users)));
    it.push_back(static_cast<int64_t>(b * b * static_cast<double>(items)));
    ts.push_back(static_cast<int64_t>(gen.next_below(20)));
    v.push_back(static_cast<float>(r));
  }
  return Interactions::from_vectors(u, it, users, items, v, ts);
}

bool is_core(const std::vector<Pair>& rows, int64_t k_user, int64_t k_item) {
  std::map<int64_t, int64_t> du, di;
  for (const auto& [u, i] : rows) ++du[u], ++di[i];
  for (const auto& [u, i] : rows)
    if (du[u] < k_user || di[i] < k_item) return false;
  return true;
}

TEST(Filter, KCoreHandCasePeelsToTheMaximalCore) {
  // The 2x2 block of users 0, 1 and items 0, 1 is the 2-core; user 3's single row starts a
  // cascade that takes item 2 and then user 2 with it.
  const Interactions x = Interactions::from_vectors({0, 0, 1, 1, 2, 2, 3}, {0, 1, 0, 1, 1, 2, 2}, 4, 3);
  const KCoreResult k = k_core(x, 2, 2);
  EXPECT_EQ(pairs(k.kept), (std::vector<Pair>{{0, 0}, {0, 1}, {1, 0}, {1, 1}}));
  EXPECT_EQ(k.iterations, 3);
  EXPECT_EQ(k.rows_removed, 3);
  EXPECT_EQ(k.users_removed, 2);
  EXPECT_EQ(k.items_removed, 1);
  EXPECT_EQ(k.kept.num_users, 4);  // the id space is kept
  // Only users constrained: user 3 goes, nothing cascades.
  EXPECT_EQ(k_core(x, 2, 0).rows_removed, 1);
  // A core is its own core.
  const KCoreResult again = k_core(k.kept, 2, 2);
  EXPECT_EQ(again.iterations, 0);
  EXPECT_EQ(again.rows_removed, 0);
  EXPECT_EQ(k_core(x, 3, 3).kept.size(), 0);
}

TEST(Filter, KCoreMatchesBruteForceOnTinyGraphs) {
  // The maximal core is the union of every subset that satisfies the core property.
  for (uint64_t seed = 0; seed < 30; ++seed) {
    const Interactions x = random_pairs(12, 4, 4, seed);
    const std::vector<Pair> all = pairs(x);
    for (const auto& [ku, ki] : {Pair{2, 2}, Pair{3, 1}, Pair{1, 3}, Pair{2, 3}}) {
      std::vector<bool> in_union(all.size(), false);
      for (uint32_t mask = 1; mask < (1u << all.size()); ++mask) {
        std::vector<Pair> sub;
        for (size_t r = 0; r < all.size(); ++r)
          if (mask >> r & 1) sub.push_back(all[r]);
        if (!is_core(sub, ku, ki)) continue;
        for (size_t r = 0; r < all.size(); ++r)
          if (mask >> r & 1) in_union[r] = true;
      }
      std::vector<int64_t> want;
      for (size_t r = 0; r < all.size(); ++r)
        if (in_union[r]) want.push_back(static_cast<int64_t>(r));
      std::vector<int64_t> got;
      for (const float f : k_core(x, ku, ki).kept.values.to_vector<float>()) got.push_back(static_cast<int64_t>(f));
      EXPECT_EQ(got, want) << "seed " << seed << " k " << ku << "," << ki;
    }
  }
}

TEST(Filter, KCoreOnRandomDataSatisfiesTheCore) {
  const Interactions x = random_pairs(200000, 20000, 10000, 3);
  const KCoreResult k = k_core(x, 10, 10);
  EXPECT_GT(k.iterations, 1);
  EXPECT_GT(k.kept.size(), 0);
  EXPECT_EQ(k.kept.size() + k.rows_removed, x.size());
  EXPECT_TRUE(is_core(pairs(k.kept), 10, 10));
  const auto rows = k.kept.values.to_vector<float>();
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));  // input order kept
}

TEST(Filter, ThresholdToImplicit) {
  const float nan = std::nanf("");
  const auto rating = static_cast<uint8_t>(Event::rating);
  const Interactions x = Interactions::from_vectors({0, 0, 1, 1, 2}, {0, 1, 2, 3, 4}, 3, 5, {1, 3.5f, 4, 5, nan},
                                                    {10, 20, 30, 40, 50}, {rating, rating, rating, rating, rating});
  const Interactions y = threshold_implicit(x, 4.0f);
  EXPECT_EQ(y.timestamps.to_vector<int64_t>(), (std::vector<int64_t>{30, 40}));
  EXPECT_EQ(y.values.to_vector<float>(), (std::vector<float>{1, 1}));
  EXPECT_EQ(y.events.to_vector<uint8_t>(), (std::vector<uint8_t>{rating, rating}));
  EXPECT_EQ(threshold_implicit(x, 3.5f, /*keep_values=*/true).values.to_vector<float>(), (std::vector<float>{3.5f, 4, 5}));
  EXPECT_EQ(x.values.to_vector<float>()[3], 5.0f);  // the input is untouched
  EXPECT_MESSAGE_HAS(testing::error_message([&] { threshold_implicit(x, nan); }), "'threshold' must be finite");
}

TEST(Filter, DeduplicateHandCases) {
  // Pair (0, 7) three times, with a timestamp tie between rows 2 and 3 (row 3 is later);
  // pair (1, 7) twice, out of time order; (0, 8) once.
  const Interactions x = Interactions::from_vectors({0, 1, 0, 0, 1, 0}, {7, 7, 7, 7, 7, 8}, 2, 9,
                                                    {1, 2, 4, 8, 16, 32}, {5, 9, 6, 6, 3, 1}, {1, 1, 2, 3, 1, 1});
  const Interactions last = deduplicate(x, DedupPolicy::keep_last);
  EXPECT_EQ(pairs(last), (std::vector<Pair>{{1, 7}, {0, 7}, {0, 8}}));  // at rows 1, 3, 5
  EXPECT_EQ(last.values.to_vector<float>(), (std::vector<float>{2, 8, 32}));
  EXPECT_EQ(last.timestamps.to_vector<int64_t>(), (std::vector<int64_t>{9, 6, 1}));
  EXPECT_EQ(last.events.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 3, 1}));

  const Interactions sum = deduplicate(x, DedupPolicy::sum);
  EXPECT_EQ(pairs(sum), (std::vector<Pair>{{1, 7}, {0, 7}, {0, 8}}));
  EXPECT_EQ(sum.values.to_vector<float>(), (std::vector<float>{18, 13, 32}));
  EXPECT_EQ(sum.timestamps.to_vector<int64_t>(), (std::vector<int64_t>{9, 6, 1}));
  EXPECT_EQ(x.values.to_vector<float>()[3], 8.0f);  // the input is untouched
}

TEST(Filter, DeduplicateMatchesAReferenceOnRandomData) {
  // Few users with long histories, and 300k users spread over thousands of sort buckets.
  for (const auto& [n, users, items] : {std::tuple{50000, 300, 200}, std::tuple{150000, 300000, 3}}) {
    const Interactions x = random_pairs(n, users, items, 17);
    const auto u = x.users.to_vector<int64_t>(), it = x.items.to_vector<int64_t>(), ts = x.timestamps.to_vector<int64_t>();
    // Reference: per pair, the latest (time, row) and the sum of row ids (the values).
    std::map<Pair, std::pair<Pair, double>> ref;
    for (size_t r = 0; r < u.size(); ++r) {
      auto& [latest, total] = ref[{u[r], it[r]}];  // {0, 0} precedes every (time, row)
      latest = std::max(latest, Pair{ts[r], static_cast<int64_t>(r)});
      total += static_cast<double>(r);
    }
    std::vector<int64_t> want_rows;
    for (const auto& [pair, v] : ref) want_rows.push_back(v.first.second);
    std::sort(want_rows.begin(), want_rows.end());

    const Interactions last = deduplicate(x, DedupPolicy::keep_last);
    std::vector<int64_t> got;
    for (const float f : last.values.to_vector<float>()) got.push_back(static_cast<int64_t>(f));
    EXPECT_EQ(got, want_rows);

    const Interactions sum = deduplicate(x, DedupPolicy::sum);
    const auto su = sum.users.to_vector<int64_t>(), si = sum.items.to_vector<int64_t>(),
               st = sum.timestamps.to_vector<int64_t>();
    const auto sv = sum.values.to_vector<float>();
    ASSERT_EQ(su.size(), ref.size());
    for (size_t j = 0; j < su.size(); ++j) {
      const auto& [latest, total] = ref.at({su[j], si[j]});
      EXPECT_EQ(st[j], latest.first);
      EXPECT_FLOAT_EQ(sv[j], static_cast<float>(total));
    }
  }
}

TEST(Filter, BadArguments) {
  const Interactions x = Interactions::from_vectors({0}, {0}, 1, 1);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { k_core(x, -1, 2); }), "'k_user' must be >= 0");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { k_core(x, 1, -2); }), "'k_item' must be >= 0");
  Interactions broken = x;
  broken.num_items = 0;  // item 0 is now out of range
  EXPECT_MESSAGE_HAS(testing::error_message([&] { deduplicate(broken, DedupPolicy::sum); }), "item id 0");
}

TEST(Compact, RenumbersIdsAndCarriesMapsAndFeatures) {
  // Users 1 and 3 of 5 and items 0, 2 of 4 have rows.
  const Interactions x = Interactions::from_vectors({3, 1, 3}, {2, 2, 0}, 5, 4, {1, 2, 3}, {7, 8, 9});
  const Compacted c = compact_ids(x);
  EXPECT_EQ(c.interactions.num_users, 2);
  EXPECT_EQ(c.interactions.num_items, 2);
  EXPECT_EQ(c.interactions.users.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(c.interactions.items.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 0}));
  EXPECT_EQ(c.interactions.timestamps.to_vector<int64_t>(), (std::vector<int64_t>{7, 8, 9}));
  EXPECT_EQ(c.user_old_to_new.to_vector<int64_t>(), (std::vector<int64_t>{-1, 0, -1, 1, -1}));
  EXPECT_EQ(c.user_new_to_old.to_vector<int64_t>(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(c.item_old_to_new.to_vector<int64_t>(), (std::vector<int64_t>{0, -1, 1, -1}));
  EXPECT_EQ(c.item_new_to_old.to_vector<int64_t>(), (std::vector<int64_t>{0, 2}));
  c.interactions.validate("compacted");

  IdInterner names;
  for (const char* s : {"ann", "bo", "cy", "di", "ed"}) names.intern(s);
  const IdMap users = compact_id_map(names.to_map(), c.user_new_to_old);
  EXPECT_EQ(users.size(), 2);
  EXPECT_EQ(users.external(0), "bo");
  EXPECT_EQ(users.find("di"), 1);
  // Dense maps keep their external names ("2" stays "2").
  const IdMap items = compact_id_map(IdMap::dense(4), c.item_new_to_old);
  EXPECT_EQ(items.external(1), "2");
  EXPECT_TRUE(compact_id_map(IdMap::dense(4), Tensor::from_vector<int64_t>({0, 1})).is_dense());

  SideFeatures f;
  f.categorical["brand"] = {Tensor::from_vector<int64_t>({0, -1, 1, 0}), IdMap::dense(2)};
  f.numeric["price"] = {Tensor::from_vector<float>({1.5f, 2.5f, 3.5f, 4.5f})};
  f.tokens["title"] = {Tensor::from_vector<int64_t>({0, 2, 3, 3, 5}), Tensor::from_vector<int64_t>({4, 5, 6, 7, 8}),
                       IdMap::dense(9)};
  const SideFeatures g = compact_side_features(f, c.item_new_to_old);
  EXPECT_EQ(g.categorical.at("brand").codes.to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(g.numeric.at("price").values.to_vector<float>(), (std::vector<float>{1.5f, 3.5f}));
  EXPECT_EQ(g.tokens.at("title").offsets.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 2}));
  EXPECT_EQ(g.tokens.at("title").tokens.to_vector<int64_t>(), (std::vector<int64_t>{4, 5}));
  EXPECT_MESSAGE_HAS(testing::error_message([&] { compact_id_map(IdMap::dense(2), c.user_new_to_old); }),
                     "new_to_old[1] = 3 is outside [0, 2)");
}

}  // namespace
}  // namespace aisle::data
