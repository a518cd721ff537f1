#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "aisle/data/dataset.hpp"
#include "aisle/data/event.hpp"
#include "aisle/data/synthetic.hpp"
#include "support/temp_dir.hpp"
#include "support/testing.hpp"

namespace aisle::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// 364 days from Sunday 2023-01-01: 52 of each weekday; Black Friday (2023-11-24) is day 327.
SynthOptions small_shop() {
  SynthOptions o;
  o.users = 3000;
  o.items = 2000;
  o.interactions = 300'000;
  o.seed = 7;
  o.categories = 20;
  o.brands = 30;
  o.days = 364;
  o.start_date = "2023-01-01";
  return o;
}
constexpr int64_t kStart = 1672531200;  // 2023-01-01T00:00:00Z

std::map<std::string, std::string> checksums(const fs::path& dir) {
  std::map<std::string, std::string> out;
  const Dataset d = Dataset::open(dir);
  for (const FileInfo& f : d.files()) out[f.path] = f.sha256;
  return out;
}

// One shop shared by the tests that only read it.
class SynthShop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    result_ = generate_synthetic(small_shop(), (*dir_ / "shop").string());
    truth_ = new SynthTruth(small_shop());
  }
  static void TearDownTestSuite() {
    delete truth_;
    delete dir_;
  }
  static Dataset shop() { return Dataset::open(*dir_ / "shop"); }
  static std::vector<int32_t> item_categories() {
    std::vector<int32_t> out;
    for (int64_t i = 0; i < small_shop().items; ++i) out.push_back(truth_->item(i).category);
    return out;
  }
  static TempDir* dir_;
  static SynthResult result_;
  static SynthTruth* truth_;
};
TempDir* SynthShop::dir_ = nullptr;
SynthResult SynthShop::result_;
SynthTruth* SynthShop::truth_ = nullptr;

TEST_F(SynthShop, WritesExactlyTheAskedCountsWithValidIdsValuesAndTimes) {
  const SynthOptions o = small_shop();
  const Dataset d = Dataset::open(*dir_ / "shop", /*verify_checksums=*/true);
  EXPECT_EQ(d.num_interactions(), o.interactions);
  EXPECT_EQ(d.num_users(), o.users);
  EXPECT_EQ(d.num_items(), o.items);
  const Interactions x = d.interactions();
  x.validate("synthetic");
  EXPECT_EQ(result_.views + result_.carts + result_.purchases, o.interactions);
  // The funnel narrows: views most, then carts, then purchases.
  EXPECT_GT(result_.views, 5 * result_.carts);
  EXPECT_GT(result_.carts, result_.purchases);
  EXPECT_GT(result_.purchases, o.interactions / 100);

  const auto events = x.events.to_vector<uint8_t>();
  const auto values = x.values.to_vector<float>();
  const auto times = x.timestamps.to_vector<int64_t>();
  const auto users = x.users.to_vector<int64_t>();
  int64_t purchases = 0, distinct_users = 0;
  for (size_t r = 0; r < events.size(); ++r) {
    ASSERT_TRUE(events[r] >= 1 && events[r] <= 3) << "row " << r;
    if (events[r] == static_cast<uint8_t>(Event::purchase)) {
      ++purchases;
      ASSERT_TRUE(values[r] >= 1 && values[r] == std::floor(values[r])) << "quantity " << values[r];
    } else {
      ASSERT_EQ(values[r], 1.0f);
    }
    ASSERT_GE(times[r], kStart);
    ASSERT_LT(times[r], kStart + o.days * 86400);
    if (r > 0) {
      ASSERT_LE(users[r - 1], users[r]) << "rows are grouped by user";
    }
    distinct_users += r == 0 || users[r] != users[r - 1];
  }
  EXPECT_EQ(purchases, result_.purchases);
  EXPECT_EQ(distinct_users, o.users) << "every user gets a history when the total allows it";
  EXPECT_NE(d.meta_text().find("\"view\": " + std::to_string(result_.views)), std::string::npos);
}

TEST_F(SynthShop, SideFeaturesDescribeEveryItemAndUser) {
  const Dataset d = shop();
  const SideFeatures& items = d.item_features();
  for (const char* name : {"category", "department", "brand"}) {
    const auto codes = items.categorical.at(name).codes.to_vector<int64_t>();
    ASSERT_EQ(codes.size(), 2000u) << name;
    EXPECT_TRUE(std::all_of(codes.begin(), codes.end(), [](int64_t c) { return c >= 0; })) << name;
  }
  EXPECT_EQ(items.categorical.at("category").vocab.size(), 20) << "every category has a product";
  EXPECT_EQ(items.categorical.at("department").vocab.size(), 4) << "round(sqrt(20)) departments";
  // The stored features are the truth's.
  const auto& category = items.categorical.at("category");
  const auto codes = category.codes.to_vector<int64_t>();
  const auto price = items.numeric.at("price").values.to_vector<float>();
  const auto launch = items.numeric.at("launch_day").values.to_vector<float>();
  for (int64_t i = 0; i < 2000; i += 37) {
    const SynthItem t = truth_->item(i);
    char name[16];
    std::snprintf(name, sizeof name, "cat-%03d", t.category);
    EXPECT_EQ(category.vocab.external(codes[static_cast<size_t>(i)]), name);
    EXPECT_FLOAT_EQ(price[static_cast<size_t>(i)], static_cast<float>(t.price));
    EXPECT_EQ(launch[static_cast<size_t>(i)], static_cast<float>(t.launch_day));
    EXPECT_GT(t.price, 0.0);
  }
  // Prices are log-normal-ish: they span orders of magnitude.
  EXPECT_GT(*std::max_element(price.begin(), price.end()) / *std::min_element(price.begin(), price.end()), 20.0f);
  const SideFeatures& users = d.user_features();
  EXPECT_EQ(users.categorical.at("segment").vocab.size(), 3);
  EXPECT_EQ(users.categorical.at("region").codes.numel(), 3000);
}

TEST_F(SynthShop, SessionsFollowTheViewCartPurchaseFunnel) {
  const Dataset d = shop();
  const Interactions x = d.interactions();
  const auto users = x.users.to_vector<int64_t>(), items = x.items.to_vector<int64_t>();
  const auto times = x.timestamps.to_vector<int64_t>();
  const auto events = x.events.to_vector<uint8_t>();
  const auto& sessions = d.tables().at("sessions");
  const auto first = sessions.at("first").to_vector<int64_t>(), length = sessions.at("length").to_vector<int64_t>();
  ASSERT_EQ(static_cast<int64_t>(first.size()), result_.sessions);
  int64_t next = 0, with_purchase = 0;
  for (size_t s = 0; s < first.size(); ++s) {
    ASSERT_EQ(first[s], next) << "sessions partition the rows in order";
    ASSERT_GE(length[s], 1);
    next += length[s];
    const auto b = static_cast<size_t>(first[s]), e = static_cast<size_t>(next);
    std::set<int64_t> viewed, carted;
    bool bought = false;
    for (size_t r = b; r < e; ++r) {
      ASSERT_EQ(users[r], users[b]) << "session " << s;
      if (r > b) {
        ASSERT_GT(times[r], times[r - 1]) << "session " << s << " row " << r;
      }
      const auto event = static_cast<Event>(events[r]);
      if (event == Event::view) viewed.insert(items[r]);
      if (event == Event::cart) {
        ASSERT_TRUE(viewed.count(items[r])) << "cart without an earlier view, session " << s;
        carted.insert(items[r]);
      }
      if (event == Event::purchase) {
        ASSERT_TRUE(carted.count(items[r])) << "purchase without an earlier cart, session " << s;
        bought = true;
      }
    }
    with_purchase += bought;
    ASSERT_EQ((times[b] - kStart) / 86400, (times[e - 1] - kStart) / 86400) << "session " << s << " crosses midnight";
  }
  EXPECT_EQ(next, x.size());
  EXPECT_GT(with_purchase, static_cast<int64_t>(first.size()) / 50);
}

TEST_F(SynthShop, PopularityIsZipfSkewed) {
  const auto items = shop().interactions().items.to_vector<int64_t>();
  std::vector<int64_t> count(2000, 0);
  for (int64_t i : items) ++count[static_cast<size_t>(i)];
  std::sort(count.begin(), count.end(), std::greater<>());
  const int64_t top = std::accumulate(count.begin(), count.begin() + 200, int64_t{0});
  // Uniform popularity would give the top 10% of products 10% of the interactions.
  EXPECT_GT(static_cast<double>(top) / static_cast<double>(items.size()), 0.5);
}

TEST_F(SynthShop, UsersBuyInTheirPreferredCategoriesFarAboveChance) {
  const Interactions x = shop().interactions();
  const auto users = x.users.to_vector<int64_t>(), items = x.items.to_vector<int64_t>();
  const auto events = x.events.to_vector<uint8_t>();
  const std::vector<int32_t> category = item_categories();
  std::vector<double> share(20, 0.0);  // of all purchases, per category
  std::vector<std::vector<int64_t>> bought(3000);
  for (size_t r = 0; r < items.size(); ++r)
    if (events[r] == static_cast<uint8_t>(Event::purchase)) {
      bought[static_cast<size_t>(users[r])].push_back(items[r]);
      share[static_cast<size_t>(category[static_cast<size_t>(items[r])])] += 1;
    }
  const double total = std::accumulate(share.begin(), share.end(), 0.0);
  for (double& s : share) s /= total;
  double in_preferred = 0, by_chance = 0;
  for (int64_t u = 0; u < 3000; ++u) {
    const SynthUser taste = truth_->user(u);
    const auto& b = bought[static_cast<size_t>(u)];
    double chance = 0;
    for (int32_t c : taste.categories) chance += share[static_cast<size_t>(c)];
    by_chance += chance * static_cast<double>(b.size());
    for (int64_t i : b)
      in_preferred += std::count(taste.categories.begin(), taste.categories.end(), category[static_cast<size_t>(i)]) > 0;
  }
  in_preferred /= total;
  by_chance /= total;
  EXPECT_GT(in_preferred, 0.65);
  EXPECT_GT(in_preferred, 3.0 * by_chance) << "chance " << by_chance;
}

// Collaborative filtering has real signal: ranking by the user's category profile x popularity
// finds the first product of each user's last session (the whole session held out) far more
// often than popularity alone.
TEST_F(SynthShop, ATasteAwareModelBeatsPopularity) {
  const Dataset d = shop();
  const Interactions x = d.interactions();
  const auto users = x.users.to_vector<int64_t>(), items = x.items.to_vector<int64_t>();
  const auto first = d.tables().at("sessions").at("first").to_vector<int64_t>();
  const std::vector<int32_t> category = item_categories();
  const int64_t n_users = 3000, n_items = 2000, k = 10;
  // Each user's last session starts at held_out[u]; the rows from there on are the test.
  std::vector<int64_t> held_out(n_users, -1), sessions(n_users, 0);
  for (int64_t f : first) {
    held_out[static_cast<size_t>(users[static_cast<size_t>(f)])] = f;
    ++sessions[static_cast<size_t>(users[static_cast<size_t>(f)])];
  }
  std::vector<double> popularity(n_items, 0);
  std::vector<std::vector<double>> profile(n_users, std::vector<double>(20, 0));
  for (size_t r = 0; r < users.size(); ++r) {
    const auto u = static_cast<size_t>(users[r]);
    if (static_cast<int64_t>(r) >= held_out[u]) continue;
    popularity[static_cast<size_t>(items[r])] += 1;
    profile[u][static_cast<size_t>(category[static_cast<size_t>(items[r])])] += 1;
  }
  auto hit = [&](int64_t target, auto score) {
    const double s = score(target);
    int64_t better = 0;
    for (int64_t i = 0; i < n_items; ++i) better += score(i) > s;
    return better < k;
  };
  double hits_popular = 0, hits_taste = 0, tested = 0;
  for (int64_t u = 0; u < n_users; ++u) {
    if (sessions[static_cast<size_t>(u)] < 2) continue;
    const auto& p = profile[static_cast<size_t>(u)];
    const int64_t target = items[static_cast<size_t>(held_out[static_cast<size_t>(u)])];
    tested += 1;
    hits_popular += hit(target, [&](int64_t i) { return popularity[static_cast<size_t>(i)]; });
    hits_taste += hit(target, [&](int64_t i) {
      return popularity[static_cast<size_t>(i)] * (p[static_cast<size_t>(category[static_cast<size_t>(i)])] + 0.5);
    });
  }
  ASSERT_GT(tested, 2000);
  EXPECT_GT(hits_taste, 1.4 * hits_popular) << "HR@10 " << hits_taste / tested << " vs " << hits_popular / tested;
  EXPECT_GT(hits_popular / tested, 0.05) << "popularity itself is informative";
}

TEST_F(SynthShop, DailySalesAddUpAndShowTheSeasons) {
  const Dataset d = shop();
  const auto& sales = d.tables().at("daily_sales");
  const auto item = sales.at("item").to_vector<int64_t>(), day = sales.at("day").to_vector<int64_t>();
  const auto units = sales.at("units").to_vector<int64_t>();
  const auto revenue = sales.at("revenue").to_vector<double>();
  ASSERT_EQ(static_cast<int64_t>(item.size()), result_.sales_rows);
  // The table is exactly the purchases, aggregated.
  const Interactions x = d.interactions();
  const auto items = x.items.to_vector<int64_t>(), times = x.timestamps.to_vector<int64_t>();
  const auto events = x.events.to_vector<uint8_t>();
  const auto values = x.values.to_vector<float>();
  std::map<std::pair<int64_t, int64_t>, int64_t> expected;
  for (size_t r = 0; r < items.size(); ++r)
    if (events[r] == static_cast<uint8_t>(Event::purchase))
      expected[{items[r], (times[r] - kStart) / 86400}] += static_cast<int64_t>(values[r]);
  ASSERT_EQ(expected.size(), item.size());
  size_t row = 0;
  std::vector<double> per_day(364, 0);
  for (const auto& [key, u] : expected) {  // std::map order is (item, day): the table's order
    ASSERT_EQ(item[row], key.first);
    ASSERT_EQ(day[row], key.second);
    ASSERT_EQ(units[row], u);
    EXPECT_NEAR(revenue[row], static_cast<double>(u) * truth_->item(key.first).price, 1e-6);
    per_day[static_cast<size_t>(key.second)] += static_cast<double>(u);
    ++row;
  }
  EXPECT_EQ(std::accumulate(units.begin(), units.end(), int64_t{0}), result_.units_sold);
  // Weekly cycle: day 0 is a Sunday, the busiest day; Friday (day 5) is the quietest.
  double sundays = 0, fridays = 0;
  for (int64_t w = 0; w < 52; ++w) {
    sundays += per_day[static_cast<size_t>(7 * w)];
    fridays += per_day[static_cast<size_t>(7 * w + 5)];
  }
  EXPECT_GT(sundays, 1.3 * fridays);
  // Black Friday to Cyber Monday sell far more than the autumn before it.
  const double peak = std::accumulate(per_day.begin() + 327, per_day.begin() + 331, 0.0) / 4;
  const double autumn = std::accumulate(per_day.begin() + 245, per_day.begin() + 301, 0.0) / 56;
  EXPECT_GT(peak, 2.5 * autumn);
}

TEST_F(SynthShop, LifeCyclesShapeSales) {
  const Dataset d = shop();
  const Interactions x = d.interactions();
  const auto items = x.items.to_vector<int64_t>(), times = x.timestamps.to_vector<int64_t>();
  std::vector<SynthItem> truth;
  for (int64_t i = 0; i < 2000; ++i) truth.push_back(truth_->item(i));
  // Nothing is seen, let alone sold, before its launch.
  for (size_t r = 0; r < items.size(); ++r)
    ASSERT_GE((times[r] - kStart) / 86400, truth[static_cast<size_t>(items[r])].launch_day) << "row " << r;
  const auto& sales = d.tables().at("daily_sales");
  const auto item = sales.at("item").to_vector<int64_t>(), day = sales.at("day").to_vector<int64_t>();
  const auto units = sales.at("units").to_vector<int64_t>();
  std::vector<std::vector<double>> grid(2000, std::vector<double>(364, 0.0));
  for (size_t r = 0; r < item.size(); ++r) grid[static_cast<size_t>(item[r])][static_cast<size_t>(day[r])] = static_cast<double>(units[r]);
  // Units per product-day in maturity versus deep decline (two half-lives in), over products
  // that show both phases in the window.
  double mature_units = 0, mature_days = 0, old_units = 0, old_days = 0;
  int products = 0;
  for (size_t i = 0; i < 2000; ++i) {
    const SynthItem& t = truth[i];
    const int64_t deep = t.decline_day + static_cast<int64_t>(2 * t.decline_half_life);
    const int64_t m0 = std::max<int64_t>(0, t.mature_day), m1 = std::min<int64_t>(364, t.decline_day);
    if (m1 - m0 < 14 || 364 - deep < 14) continue;
    ++products;
    for (int64_t k = m0; k < m1; ++k) mature_units += grid[i][static_cast<size_t>(k)];
    for (int64_t k = deep; k < 364; ++k) old_units += grid[i][static_cast<size_t>(k)];
    mature_days += static_cast<double>(m1 - m0);
    old_days += static_cast<double>(364 - deep);
  }
  ASSERT_GT(products, 20);
  EXPECT_LT(old_units / old_days, 0.5 * (mature_units / mature_days))
      << products << " products: " << old_units << " units in " << old_days << " declining days, " << mature_units
      << " in " << mature_days << " mature days";
  EXPECT_EQ(truth_->lifecycle(0, truth[0].launch_day - 1), 0.0);
  EXPECT_EQ(truth_->lifecycle(0, truth[0].mature_day), 1.0);
}

TEST(Synthetic, SameSeedSameBytesOtherSeedOtherBytes) {
  TempDir tmp;
  SynthOptions o = small_shop();
  o.interactions = 50'000;
  generate_synthetic(o, (tmp / "a").string());
  generate_synthetic(o, (tmp / "b").string());
  o.seed += 1;
  generate_synthetic(o, (tmp / "c").string());
  const auto a = checksums(tmp / "a"), b = checksums(tmp / "b"), c = checksums(tmp / "c");
  EXPECT_EQ(a, b);
  for (const char* file : {"interactions/item.i64", "interactions/timestamp.i64", "items/price.f32",
                           "tables/daily_sales/units.i64"})
    EXPECT_NE(a.at(file), c.at(file)) << file;
}

TEST(Synthetic, OutputDoesNotDependOnTheThreadCount) {
  TempDir tmp;
  SynthOptions o = small_shop();
  o.users = 70'000;  // two blocks of users (65536 a block), each split among the threads
  o.interactions = 150'000;
  o.threads = 1;
  generate_synthetic(o, (tmp / "one").string());
  o.threads = 2;
  generate_synthetic(o, (tmp / "two").string());
  o.threads = 3;
  generate_synthetic(o, (tmp / "three").string());
  EXPECT_EQ(checksums(tmp / "one"), checksums(tmp / "two"));
  EXPECT_EQ(checksums(tmp / "one"), checksums(tmp / "three"));
}

TEST(Synthetic, ExactCountsAtTheEdges) {
  TempDir tmp;
  SynthOptions o;
  o.users = 50;
  o.items = 5;
  o.categories = 5;
  o.brands = 1;
  o.days = 7;
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{49}, int64_t{1234}}) {
    o.interactions = n;
    const fs::path dir = tmp / std::to_string(n);
    const SynthResult r = generate_synthetic(o, dir.string());
    const Dataset d = Dataset::open(dir, true);
    EXPECT_EQ(d.num_interactions(), n);
    EXPECT_EQ(r.views + r.carts + r.purchases, n);
    d.interactions().validate("synthetic");
    const auto lengths = d.tables().at("sessions").at("length").to_vector<int64_t>();
    EXPECT_EQ(std::accumulate(lengths.begin(), lengths.end(), int64_t{0}), n);
  }
}

TEST(Synthetic, BadOptionsAreRejectedByName) {
  TempDir tmp;
  auto message = [&](auto edit) {
    SynthOptions o = small_shop();
    edit(o);
    return testing::error_message([&] { generate_synthetic(o, (tmp / "x").string()); });
  };
  EXPECT_MESSAGE_HAS(message([](SynthOptions& o) { o.users = 0; }), "users must be in [1, ");
  EXPECT_MESSAGE_HAS(message([](SynthOptions& o) { o.items = -3; }), "items must be in [1, ");
  EXPECT_MESSAGE_HAS(message([](SynthOptions& o) { o.categories = 2001; }), "categories must be in [1, 2000], got 2001");
  EXPECT_MESSAGE_HAS(message([](SynthOptions& o) { o.days = 0; }), "days must be in");
  EXPECT_MESSAGE_HAS(message([](SynthOptions& o) { o.interactions = -1; }), "interactions must be in");
  EXPECT_MESSAGE_HAS(message([](SynthOptions& o) { o.start_date = "2023-02-30"; }), "'2023-02-30' is not a valid");
  EXPECT_MESSAGE_HAS(message([](SynthOptions& o) { o.start_date = "1/2/2023"; }), "is not a valid YYYY-MM-DD");
  EXPECT_MESSAGE_HAS(message([](SynthOptions& o) { o.items = 100'000'000; o.days = 3650; }), "daily-sales counters");
  EXPECT_TRUE(fs::is_empty(tmp.path())) << "nothing is written for bad options";
  // An existing dataset is kept unless overwriting is asked for.
  SynthOptions o = small_shop();
  o.interactions = 1000;
  generate_synthetic(o, (tmp / "x").string());
  EXPECT_MESSAGE_HAS(testing::error_message([&] { generate_synthetic(o, (tmp / "x").string()); }), "already exists");
  o.overwrite = true;
  o.interactions = 2000;
  generate_synthetic(o, (tmp / "x").string());
  EXPECT_EQ(Dataset::open(tmp / "x").num_interactions(), 2000);
}

}  // namespace
}  // namespace aisle::data
