#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>

#include "aisle/data/dataset.hpp"
#include "aisle/data/dataset_writer.hpp"
#include "aisle/data/event.hpp"
#include "aisle/data/split.hpp"
#include "support/temp_dir.hpp"
#include "support/testing.hpp"

namespace aisle::data {
namespace {

// Random rows whose value is their row index, so every row can be traced through a split.
// Timestamps come from a small range so that ties are common.
Interactions traced_rows(int64_t n, int64_t users, int64_t items, uint64_t seed, int64_t time_range = 50) {
  Generator gen(seed);
  std::vector<int64_t> u(static_cast<size_t>(n)), it(static_cast<size_t>(n)), ts(static_cast<size_t>(n));
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    u[static_cast<size_t>(r)] = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(users)));
    it[static_cast<size_t>(r)] = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(items)));
    ts[static_cast<size_t>(r)] = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(time_range)));
    v[static_cast<size_t>(r)] = static_cast<float>(r);
  }
  return Interactions::from_vectors(u, it, users, items, v, ts);
}

std::vector<int64_t> traced(const Interactions& part) {
  std::vector<int64_t> rows;
  for (const float f : part.values.to_vector<float>()) rows.push_back(static_cast<int64_t>(f));
  return rows;
}

// Every input row is in exactly one part, unchanged, each part in input order and id space.
void expect_partition(const Interactions& x, const Split& s) {
  const auto u = x.users.to_vector<int64_t>(), it = x.items.to_vector<int64_t>(), ts = x.timestamps.to_vector<int64_t>();
  std::vector<int64_t> all;
  for (const Interactions* part : {&s.train, &s.valid, &s.test}) {
    part->validate("expect_partition");
    EXPECT_EQ(part->num_users, x.num_users);
    EXPECT_EQ(part->num_items, x.num_items);
    const auto rows = traced(*part);
    EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
    const auto pu = part->users.to_vector<int64_t>(), pi = part->items.to_vector<int64_t>(),
               pt = part->timestamps.to_vector<int64_t>();
    for (size_t j = 0; j < rows.size(); ++j) {
      const auto r = static_cast<size_t>(rows[j]);
      ASSERT_TRUE(pu[j] == u[r] && pi[j] == it[r] && pt[j] == ts[r]) << "row " << r << " changed";
    }
    all.insert(all.end(), rows.begin(), rows.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(static_cast<size_t>(x.size()));
  std::iota(expected.begin(), expected.end(), int64_t{0});
  EXPECT_EQ(all, expected) << "some row is missing or in two parts";
}

// Sets the OpenMP thread count for its lifetime, through the runtime libaisle already loaded
// (the tests do not link OpenMP themselves).
class ThreadCount {
 public:
  explicit ThreadCount(int n) {
    if (!set_ || !get_) throw std::runtime_error("the OpenMP runtime is not loaded");
    saved_ = get_();
    set_(n);
  }
  ~ThreadCount() { set_(saved_); }

 private:
  using Set = void (*)(int);
  using Get = int (*)();
  Set set_ = reinterpret_cast<Set>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  Get get_ = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  int saved_ = 1;
};

TEST(Split, LeaveOneOutHandCase) {
  // user 0: times 5, 9, 9 (tie: the later row, 4, is the latest), 1; user 1: two rows; user 2: one.
  const Interactions x = Interactions::from_vectors({0, 1, 0, 2, 0, 1, 0}, {0, 1, 2, 3, 4, 5, 6}, 3, 7,
                                                    {0, 1, 2, 3, 4, 5, 6}, {5, 7, 9, 4, 9, 3, 1});
  const Split s = leave_one_out_split(x, /*valid=*/true);
  expect_partition(x, s);
  EXPECT_EQ(traced(s.test), (std::vector<int64_t>{4}));
  EXPECT_EQ(traced(s.valid), (std::vector<int64_t>{2}));
  EXPECT_EQ(traced(s.train), (std::vector<int64_t>{0, 1, 3, 5, 6}));
  EXPECT_EQ(s.users_only_in_train, 2);  // users 1 and 2 have fewer than 3 rows

  const Split t = leave_one_out_split(x);
  EXPECT_EQ(traced(t.test), (std::vector<int64_t>{1, 4}));  // user 1's time 7 beats its time 3
  EXPECT_EQ(t.valid.size(), 0);
  EXPECT_EQ(t.users_only_in_train, 1);
  EXPECT_EQ(leave_one_out_split(x, false, /*min_train=*/3).test.size(), 1);
}

TEST(Split, LeaveOneOutHoldsOutEachUsersLatestAndLeavesHistory) {
  const Interactions x = traced_rows(5000, 2500, 300, 7);  // many users of 0-3 rows
  for (const bool valid : {false, true}) {
    const Split s = leave_one_out_split(x, valid);
    expect_partition(x, s);
    // Reference: each user's rows in (time, row) order.
    const auto u = x.users.to_vector<int64_t>(), ts = x.timestamps.to_vector<int64_t>();
    std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> by_user;
    for (int64_t r = 0; r < x.size(); ++r) by_user[u[static_cast<size_t>(r)]].push_back({ts[static_cast<size_t>(r)], r});
    std::vector<int64_t> want_test, want_valid;
    int64_t small = 0;
    for (auto& [user, rows] : by_user) {
      std::sort(rows.begin(), rows.end());
      if (static_cast<int64_t>(rows.size()) < (valid ? 3 : 2)) {
        ++small;
        continue;
      }
      want_test.push_back(rows.back().second);
      if (valid) want_valid.push_back(rows[rows.size() - 2].second);
    }
    std::sort(want_test.begin(), want_test.end());
    std::sort(want_valid.begin(), want_valid.end());
    EXPECT_EQ(traced(s.test), want_test);
    EXPECT_EQ(traced(s.valid), want_valid);
    EXPECT_EQ(s.users_only_in_train, small);
    // Every test user has training history, and nothing of theirs in train is later than the test row.
    std::map<int64_t, int64_t> test_time, train_rows;
    const auto tu = s.test.users.to_vector<int64_t>(), tt = s.test.timestamps.to_vector<int64_t>();
    for (size_t j = 0; j < tu.size(); ++j) test_time[tu[j]] = tt[j];
    const auto ru = s.train.users.to_vector<int64_t>(), rt = s.train.timestamps.to_vector<int64_t>();
    for (size_t j = 0; j < ru.size(); ++j) {
      ++train_rows[ru[j]];
      if (test_time.count(ru[j])) {
        EXPECT_LE(rt[j], test_time[ru[j]]);
      }
    }
    for (const auto& [user, t] : test_time) EXPECT_GE(train_rows[user], 1) << "user " << user;
  }
}

TEST(Split, RandomPerUserKeepsRatiosAndHistory) {
  const Interactions x = traced_rows(40000, 500, 2000, 11);
  const Split s = random_split(x, {0.7, 0.1, 0.2}, /*per_user=*/true, uint64_t{5});
  expect_partition(x, s);
  const double n = static_cast<double>(x.size());
  EXPECT_NEAR(s.train.size() / n, 0.7, 0.01);
  EXPECT_NEAR(s.valid.size() / n, 0.1, 0.01);
  EXPECT_NEAR(s.test.size() / n, 0.2, 0.01);
  // Stratified: every user is split by the ratio, give or take rounding of their own count.
  std::map<int64_t, std::array<int64_t, 3>> per_user;
  const Interactions* parts[3] = {&s.train, &s.valid, &s.test};
  for (int p = 0; p < 3; ++p)
    for (const int64_t u : parts[p]->users.to_vector<int64_t>()) ++per_user[u][static_cast<size_t>(p)];
  for (const auto& [u, c] : per_user) {
    const int64_t d = c[0] + c[1] + c[2];
    EXPECT_GE(c[0], 1) << "user " << u << " has no training rows";
    EXPECT_LE(std::abs(static_cast<double>(c[2]) - 0.2 * static_cast<double>(d)), 0.5 + 1e-9) << "user " << u;
  }
}

TEST(Split, RandomPerUserSmallUsersStayInTrain) {
  // Users of 1 and 2 rows with test 0.3: round(0.3) = 0 and round(0.6) = 1 test rows.
  const Interactions x = Interactions::from_vectors({0, 1, 1, 2, 2, 2}, {0, 1, 2, 3, 4, 5}, 3, 6);
  const Split s = random_split(x, {0.7, 0.0, 0.3}, true, uint64_t{1});
  EXPECT_EQ(s.users_only_in_train, 1);
  EXPECT_EQ(s.test.users.to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  // With test 0.9 a user of two rows still keeps one to train on.
  const Split t = random_split(x, {0.1, 0.0, 0.9}, true, uint64_t{1});
  EXPECT_EQ(t.train.users.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2}));
}

TEST(Split, RandomGlobalHasExactCounts) {
  const Interactions x = traced_rows(10001, 300, 300, 3);
  const Split s = random_split(x, {0.6, 0.15, 0.25}, /*per_user=*/false, uint64_t{9});
  expect_partition(x, s);
  EXPECT_EQ(s.test.size(), std::llround(10001 * 0.25));
  EXPECT_EQ(s.valid.size(), std::llround(10001 * 0.15));
  EXPECT_EQ(s.train.size(), 10001 - s.test.size() - s.valid.size());
}

TEST(Split, RandomIsDeterministicPerSeedAndThreadCount) {
  const Interactions x = traced_rows(200000, 3000, 5000, 21);
  for (const bool per_user : {true, false}) {
    const auto on_threads = [&](int threads) {
      const ThreadCount scope(threads);
      return random_split(x, {0.8, 0.1, 0.1}, per_user, uint64_t{42});
    };
    const Split one = on_threads(1), many = on_threads(3);
    const Split other = random_split(x, {0.8, 0.1, 0.1}, per_user, uint64_t{43});
    EXPECT_EQ(traced(one.train), traced(many.train));
    EXPECT_EQ(traced(one.valid), traced(many.valid));
    EXPECT_EQ(traced(one.test), traced(many.test));
    EXPECT_NE(traced(one.test), traced(other.test));
    // A Generator gives a fresh split per stream and replays from the same state.
    Generator g(42), h(42);
    const Split first = random_split(x, {0.8, 0.1, 0.1}, per_user, g);
    const Split second = random_split(x, {0.8, 0.1, 0.1}, per_user, g);
    EXPECT_EQ(traced(first.test), traced(random_split(x, {0.8, 0.1, 0.1}, per_user, h).test));
    EXPECT_NE(traced(first.test), traced(second.test));
  }
}

TEST(Split, TemporalCutByShares) {
  const Interactions x = traced_rows(9999, 200, 200, 5, /*time_range=*/300);
  const Split s = temporal_split(x, {0.7, 0.1, 0.2});
  expect_partition(x, s);
  EXPECT_EQ(s.test.size(), std::llround(9999 * 0.2));
  EXPECT_EQ(s.valid.size(), std::llround(9999 * 0.1));
  const auto max_of = [](const Interactions& p) {
    const auto t = p.timestamps.to_vector<int64_t>();
    return *std::max_element(t.begin(), t.end());
  };
  const auto min_of = [](const Interactions& p) {
    const auto t = p.timestamps.to_vector<int64_t>();
    return *std::min_element(t.begin(), t.end());
  };
  EXPECT_LE(max_of(s.train), min_of(s.valid));
  EXPECT_LE(max_of(s.valid), min_of(s.test));
  EXPECT_LE(max_of(s.train), min_of(s.test));

  // Equal times (unknown, all 0): the cut falls in row order.
  const Interactions flat = Interactions::from_vectors({0, 1, 0, 1, 0}, {0, 0, 1, 1, 2}, 2, 3, {0, 1, 2, 3, 4});
  const Split f = temporal_split(flat, {0.6, 0.2, 0.2});
  EXPECT_EQ(traced(f.train), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(traced(f.valid), (std::vector<int64_t>{3}));
  EXPECT_EQ(traced(f.test), (std::vector<int64_t>{4}));
}

TEST(Split, TemporalCutAtTimes) {
  const Interactions x = Interactions::from_vectors({0, 0, 1, 1, 2}, {0, 1, 2, 3, 4}, 3, 5, {0, 1, 2, 3, 4},
                                                    {30, 10, 20, 40, 25});
  const Split s = temporal_split_at(x, /*test_from=*/30, /*valid_from=*/20);
  expect_partition(x, s);
  EXPECT_EQ(traced(s.train), (std::vector<int64_t>{1}));
  EXPECT_EQ(traced(s.valid), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(traced(s.test), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(temporal_split_at(x, 30).valid.size(), 0);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { temporal_split_at(x, 10, 20); }), "'valid_from'");
}

TEST(Split, GivenHonoursTheSourceParts) {
  const auto T = static_cast<uint8_t>(Part::train), V = static_cast<uint8_t>(Part::valid),
             S = static_cast<uint8_t>(Part::test);
  const Interactions x = Interactions::from_vectors({0, 0, 1, 1, 1}, {0, 1, 0, 1, 2}, 2, 3, {0, 1, 2, 3, 4}, {},
                                                    {}, {T, S, T, V, S});
  const Split s = given_split(x);
  expect_partition(x, s);
  EXPECT_EQ(traced(s.train), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(traced(s.valid), (std::vector<int64_t>{3}));
  EXPECT_EQ(traced(s.test), (std::vector<int64_t>{1, 4}));

  const Interactions none = Interactions::from_vectors({0, 1}, {0, 1}, 2, 2);
  EXPECT_THROW(given_split(none), DataError);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { given_split(none); }), "2 of 2 rows have no part");
  const Interactions partly = Interactions::from_vectors({0, 1}, {0, 1}, 2, 2, {}, {}, {}, {T, 0});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { given_split(partly); }), "first: row 1");
}

TEST(Split, GivenSplitOfAnOpenedDataset) {
  // The mapped columns of an opened dataset split like any other rows.
  testing::TempDir tmp;
  {
    DatasetWriter w(tmp / "d");
    const int64_t ana = w.user_id("ana"), bo = w.user_id("bo"), mug = w.item_id("mug"), tea = w.item_id("tea");
    w.add(ana, mug, 1, 10, Event::purchase, Part::train);
    w.add(bo, tea, 1, 20, Event::purchase, Part::train);
    w.add(ana, tea, 1, 30, Event::purchase, Part::test);
    w.finish({"test", {}, {}}, {});
  }
  const Dataset d = Dataset::open(tmp / "d");
  const Split s = given_split(d.interactions());
  EXPECT_EQ(s.train.timestamps.to_vector<int64_t>(), (std::vector<int64_t>{10, 20}));
  EXPECT_EQ(s.test.users.to_vector<int64_t>(), (std::vector<int64_t>{0}));
  EXPECT_EQ(s.test.num_items, 2);
  EXPECT_EQ(leave_one_out_split(d.interactions()).test.timestamps.to_vector<int64_t>(), (std::vector<int64_t>{30}));
}

TEST(Split, EmptyInputGivesEmptyParts) {
  const Interactions x = Interactions::empty(3, 4);
  for (const char* spec : {"random", "random:per_user=false", "loo:valid=true", "temporal", "temporal:test_from=5",
                           "given"}) {
    const Split s = make_split(x, SplitSpec::parse(spec));
    EXPECT_EQ(s.train.size() + s.valid.size() + s.test.size(), 0) << spec;
    EXPECT_EQ(s.train.num_items, 4) << spec;
  }
}

TEST(SplitSpec, ParsesAndRoundTrips) {
  const SplitSpec r = SplitSpec::parse(" random : train=0.7, valid=0.1, per_user=false, seed=12 ");
  EXPECT_EQ(r.method, SplitMethod::random);
  EXPECT_DOUBLE_EQ(r.ratios.test, 0.2);
  EXPECT_FALSE(r.per_user);
  EXPECT_EQ(r.seed, 12u);
  EXPECT_DOUBLE_EQ(SplitSpec::parse("random:test=0.1").ratios.train, 0.9);
  const SplitSpec l = SplitSpec::parse("loo:valid=true");
  EXPECT_EQ(l.method, SplitMethod::leave_one_out);
  EXPECT_TRUE(l.valid);
  const SplitSpec t = SplitSpec::parse("temporal:test_from=1600000000,valid_from=1500000000");
  EXPECT_EQ(t.test_from, 1600000000);
  EXPECT_EQ(t.valid_from, 1500000000);
  EXPECT_EQ(SplitSpec::parse("given").method, SplitMethod::given);
  for (const SplitSpec& s : {r, l, t, SplitSpec::parse("temporal:train=0.6,valid=0.2"), SplitSpec::parse("given")})
    EXPECT_EQ(SplitSpec::parse(s.to_string()).to_string(), s.to_string());
  EXPECT_EQ(r.to_string(), "random:train=0.7,valid=0.1,test=0.2,per_user=false,seed=12");

  // make_split runs what the spec names.
  const Interactions x = traced_rows(3000, 100, 100, 8);
  EXPECT_EQ(traced(make_split(x, r).test), traced(random_split(x, {0.7, 0.1, 0.2}, false, uint64_t{12}).test));
  EXPECT_EQ(traced(make_split(x, l).valid), traced(leave_one_out_split(x, true).valid));
  EXPECT_EQ(traced(make_split(x, SplitSpec::parse("temporal:test=0.3")).test),
            traced(temporal_split(x, {0.7, 0.0, 0.3}).test));
}

TEST(SplitSpec, BadSpecsNameTheParameter) {
  const std::vector<std::pair<const char*, std::vector<const char*>>> cases = {
      {"random:trian=0.8", {"no parameter 'trian'", "known: ", "per_user"}},
      {"random:train=1.5", {"'train'", "share in [0, 1]", "'1.5'", "random:train=1.5"}},
      {"random:train=abc", {"'train'", "'abc'"}},
      {"random:train=0.7,valid=0.2,test=0.2", {"'train' + 'valid' + 'test' must be 1"}},
      {"random:train=0.9,valid=0.3", {"'test'", "share in [0, 1]"}},
      {"random:seed=-1", {"'seed'", "non-negative integer"}},
      {"random:per_user=maybe", {"'per_user'", "true or false"}},
      {"random:seed=1,seed=2", {"'seed' is given twice"}},
      {"random:train", {"expected key=value, got 'train'"}},
      {"loo:valid=0.1", {"'valid'", "true or false"}},
      {"loo:min_train=-2", {"'min_train'", ">= 0"}},
      {"temporal:train=0.8,test_from=5", {"not both"}},
      {"temporal:valid_from=5", {"'valid_from' needs 'test_from'"}},
      {"temporal:test_from=5,valid_from=9", {"'valid_from' (9) must not be after 'test_from' (5)"}},
      {"given:train=0.5", {"no parameter 'train'", "takes none"}},
      {"randm", {"unknown split method 'randm'", "leave_one_out"}},
  };
  for (const auto& [spec, parts] : cases) {
    const std::string msg = testing::error_message([&] { SplitSpec::parse(spec); });
    for (const char* part : parts) EXPECT_MESSAGE_HAS(msg, part) << " for " << spec;
  }
  // A hand-filled struct is checked too, before any work.
  SplitSpec bad;
  bad.ratios = {0.5, 0.0, 0.6};
  EXPECT_MESSAGE_HAS(testing::error_message([&] { make_split(Interactions::empty(1, 1), bad); }), "must be 1");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { random_split(Interactions::empty(1, 1), {1.2, 0, -0.2}, true, 0); }),
                     "'train' must be a share");
}

}  // namespace
}  // namespace aisle::data
