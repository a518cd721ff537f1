#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "aisle/aisle.hpp"
#include "aisle/data/dataset.hpp"
#include "aisle/data/dataset_writer.hpp"
#include "aisle/data/user_index.hpp"
#include "support/temp_dir.hpp"
#include "support/testing.hpp"

namespace aisle::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// A small shop: 3 users, 4 items, a few events, and item side features.
void write_small(const fs::path& dir) {
  DatasetWriter w(dir);
  const int64_t ana = w.user_id("ana"), bo = w.user_id("bo"), cy = w.user_id("cy");
  const int64_t mug = w.item_id("SKU-1"), tea = w.item_id("SKU-2"), pot = w.item_id("SKU-3"), cup = w.item_id("SKU-4");
  w.add(ana, mug, 1, 100, Event::view);
  w.add(ana, mug, 2, 110, Event::cart);
  w.add(bo, tea, 3.5f, 90, Event::purchase);
  w.add(cy, pot, 1, 300, Event::view);
  w.add(ana, cup, 5, 200, Event::rating);
  w.item_categorical("category", mug, "kitchen");
  w.item_categorical("category", tea, "food");
  w.item_categorical("category", cup, "kitchen");
  w.item_numeric("price", tea, 4.25);
  w.item_tokens("title", pot, {"brown", "tea", "pot"});
  w.item_tokens("title", tea, {"green", "tea"});
  w.user_categorical("country", bo, "UK");
  ImportReport report;
  report.rows_read = 7;
  report.rows_kept = 5;
  report.drop("bad rating", "in.csv:3: rating: 'x' is not a number");
  report.drop("bad rating", "in.csv:6: rating: 'nan' is not finite");
  w.finish({"test", {}, {"k=v"}}, report);
}

TEST(Dataset, Sha256MatchesKnownVectors) {
  EXPECT_EQ(sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  TempDir tmp;
  std::ofstream(tmp / "f") << "abc";
  EXPECT_EQ(sha256_file(tmp / "f"), sha256_hex("abc", 3));
  EXPECT_THROW(sha256_file(tmp / "missing"), DataError);
}

TEST(Dataset, RoundTripsColumnsIdsFeaturesAndMeta) {
  TempDir tmp;
  write_small(tmp / "shop");
  const Dataset d = Dataset::open(tmp / "shop", /*verify_checksums=*/true);
  EXPECT_EQ(d.num_interactions(), 5);
  EXPECT_EQ(d.num_users(), 3);
  EXPECT_EQ(d.num_items(), 4);
  const Interactions x = d.interactions();
  EXPECT_EQ(x.users.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 2, 0}));
  EXPECT_EQ(x.items.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 2, 3}));
  EXPECT_EQ(x.values.to_vector<float>(), (std::vector<float>{1, 2, 3.5f, 1, 5}));
  EXPECT_EQ(x.timestamps.to_vector<int64_t>(), (std::vector<int64_t>{100, 110, 90, 300, 200}));
  EXPECT_EQ(x.events.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 2, 3, 1, 4}));
  x.validate("test");
  EXPECT_EQ(d.user_ids().external(1), "bo");
  EXPECT_EQ(d.item_ids().find("SKU-4"), 3);
  EXPECT_FALSE(d.item_ids().find("SKU-9").has_value());

  const CategoricalFeature& cat = d.item_features().categorical.at("category");
  EXPECT_EQ(cat.codes.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, -1, 0}));
  EXPECT_EQ(cat.vocab.external(1), "food");
  const std::vector<float> price = d.item_features().numeric.at("price").values.to_vector<float>();
  EXPECT_TRUE(std::isnan(price[0]));
  EXPECT_EQ(price[1], 4.25f);
  const TokenFeature& title = d.item_features().tokens.at("title");
  EXPECT_EQ(title.offsets.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 2, 5, 5}));
  EXPECT_EQ(title.vocab.external(title.tokens.to_vector<int64_t>()[3]), "tea");
  EXPECT_EQ(d.user_features().categorical.at("country").codes.to_vector<int64_t>(), (std::vector<int64_t>{-1, 0, -1}));

  const std::string& meta = d.meta_text();
  for (const char* part : {"\"format_version\": 1", "\"min\": 1.0", "\"max\": 300", "\"purchase\": 1",
                           "\"bad rating\"", "in.csv:3: rating", "\"rows_read\": 7", "\"k=v\""})
    EXPECT_NE(meta.find(part), std::string::npos) << part << "\n" << meta;
}

TEST(Dataset, PartsAndExtraTablesRoundTrip) {
  TempDir tmp;
  {
    DatasetWriter w(tmp / "d");
    const int64_t u = w.user_id("u"), a = w.item_id("a"), b = w.item_id("b");
    w.add(u, a, 1, 0, Event::unknown, Part::train);
    w.add(u, b, 1, 0, Event::unknown, Part::test);
    DatasetWriter::Column& day = w.table_column("daily_sales", "day", DType::i64);
    DatasetWriter::Column& units = w.table_column("daily_sales", "units", DType::f32);
    for (int64_t k = 0; k < 3; ++k) {
      day.push<int64_t>(k);
      units.push<float>(2.5f * static_cast<float>(k));
    }
    EXPECT_THROW(w.table_column("daily_sales", "day", DType::i64), Error);
    EXPECT_THROW(w.table_column("Bad Name", "x", DType::i64), Error);
    w.finish({"test", {}, {}}, {});
  }
  const Dataset d = Dataset::open(tmp / "d", true);
  EXPECT_EQ(d.interactions().parts.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 3}));
  const auto& sales = d.tables().at("daily_sales");
  EXPECT_EQ(sales.at("day").to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(sales.at("units").to_vector<float>(), (std::vector<float>{0, 2.5f, 5}));
  // Columns of one table must agree in length.
  DatasetWriter w(tmp / "e");
  w.table_column("t", "a", DType::i64).push<int64_t>(1);
  w.table_column("t", "b", DType::i64);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { w.finish({"test", {}, {}}, {}); }), "table 't' has columns of");
}

TEST(Dataset, ColumnsAreMappedNotCopied) {
  TempDir tmp;
  {
    DatasetWriter w(tmp / "big");
    w.use_dense_ids(1000, 500);
    for (int64_t r = 0; r < 2'000'000; ++r) w.add(r % 1000, (r * 7) % 500, 1.0f, r);
    w.finish({"synthetic", {}, {}}, {});
  }
  const size_t before = host_memory_stats().allocated;
  const Dataset d = Dataset::open(tmp / "big");
  const Interactions x = d.interactions();
  EXPECT_EQ(x.size(), 2'000'000);
  EXPECT_EQ(x.items.to_vector<int64_t>()[1'999'999], (1'999'999 * 7) % 500);
  // 2M rows x 29 bytes would be 58 MB; mapping allocates none of it on the heap.
  EXPECT_LT(host_memory_stats().allocated - before, size_t{1} << 20);
  EXPECT_TRUE(d.user_ids().is_dense());
  EXPECT_EQ(d.user_ids().external(42), "42");
  EXPECT_EQ(d.item_ids().find("499"), 499);
}

TEST(Dataset, WritesThroughMappedColumnsNeverReachTheFile) {
  TempDir tmp;
  write_small(tmp / "shop");
  {
    const Dataset d = Dataset::open(tmp / "shop");
    d.interactions().values.fill_(-7.0);  // a private copy-on-write page
  }
  EXPECT_NO_THROW(Dataset::open(tmp / "shop", true));
  EXPECT_EQ(Dataset::open(tmp / "shop").interactions().values.to_vector<float>()[0], 1.0f);
}

TEST(Dataset, FailedWritesLeaveNothingBehind) {
  TempDir tmp;
  {
    DatasetWriter w(tmp / "out");
    w.add(w.user_id("u"), w.item_id("i"));
    EXPECT_THROW(w.add(5, 0), Error);  // no such user
  }  // destroyed without finish()
  EXPECT_TRUE(fs::is_empty(tmp.path())) << "temporary files were left behind";
  write_small(tmp / "shop");
  try {
    DatasetWriter w(tmp / "shop");
    FAIL() << "an existing dataset must not be overwritten silently";
  } catch (const DataError& e) {
    FAIL() << "an existing output is a usage error, not bad data: " << e.what();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already exists; pass --force"), std::string::npos) << e.what();
  }
  {
    DatasetWriter w(tmp / "shop", /*overwrite=*/true);
    w.add(w.user_id("z"), w.item_id("z"));
    w.finish({"test", {}, {}}, {});
  }
  EXPECT_EQ(Dataset::open(tmp / "shop").num_interactions(), 1);
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
  EXPECT_THROW(DatasetWriter(tmp / "no-such-parent" / "x"), Error);
}

TEST(Dataset, DamagedDirectoriesAreReportedByFile) {
  TempDir tmp;
  write_small(tmp / "shop");
  auto message = [&](bool verify) { return testing::error_message([&] { Dataset::open(tmp / "shop", verify); }); };
  // Flip a byte: sizes still match, so only the checksum catches it.
  {
    std::fstream f(tmp / "shop/interactions/value.f32", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('\x7f');
  }
  EXPECT_EQ(message(false), "(no error)");
  EXPECT_MESSAGE_HAS(message(true), "value.f32: checksum mismatch");
  fs::resize_file(tmp / "shop/interactions/item.i64", 12);
  EXPECT_MESSAGE_HAS(message(false), "item.i64: 12 bytes, but meta.json says 5 x i64 = 40 bytes");
  fs::remove(tmp / "shop/interactions/item.i64");
  EXPECT_MESSAGE_HAS(message(false), "item.i64: listed in meta.json but missing");
  std::ofstream(tmp / "shop/meta.json") << "{\"format\": \"aisle-dataset\", \"format_version\": 9}";
  EXPECT_MESSAGE_HAS(message(false), "format version 9 is not supported");
  std::ofstream(tmp / "shop/meta.json") << "{not json";
  EXPECT_MESSAGE_HAS(message(false), "meta.json: invalid JSON");
  fs::remove(tmp / "shop/meta.json");
  EXPECT_MESSAGE_HAS(message(false), "not an Aisle dataset");
  EXPECT_THROW(Dataset::open(tmp / "nothing"), DataError);
}

TEST(Interactions, SelectValidateAndUserIndex) {
  const Interactions x = Interactions::from_vectors({0, 2, 0, 1, 0}, {3, 1, 1, 1, 3}, 3, 4);
  const Interactions sub = x.select(Tensor::from_vector<int64_t>({4, 1}));
  EXPECT_EQ(sub.users.to_vector<int64_t>(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(sub.items.to_vector<int64_t>(), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(sub.num_items, 4);
  const UserItemIndex index(x);
  EXPECT_EQ(std::vector<int64_t>(index.begin(0), index.end(0)), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(index.degree(1), 1);
  EXPECT_TRUE(index.contains(2, 1));
  EXPECT_FALSE(index.contains(2, 3));
  EXPECT_THROW(Interactions::from_vectors({0, 3}, {0, 0}, 3, 4), Error);
  EXPECT_MESSAGE_HAS(testing::error_message([] { Interactions::from_vectors({0}, {9}, 1, 4); }),
                     "row 0: item id 9 is outside [0, 4)");
  EXPECT_EQ(parse_event("addtocart"), Event::cart);
  EXPECT_EQ(parse_event("transaction"), Event::purchase);
  EXPECT_FALSE(parse_event("click").has_value());
}

// The index against a std::set per user on rows with many repeats, users without rows (first,
// middle, last) and a heavy user: its in-place compaction of duplicates must keep every list.
TEST(Interactions, UserIndexMatchesSetsWithRepeatsAndEmptyUsers) {
  std::mt19937_64 rng(11);
  const int64_t num_users = 40, num_items = 25;
  std::vector<int64_t> users, items;
  for (int k = 0; k < 3000; ++k) {
    int64_t u = static_cast<int64_t>(rng() % num_users);
    if (u == 0 || u == 17 || u == num_users - 1) u = 5;  // users 0, 17 and the last have no rows
    users.push_back(k % 4 == 0 ? 9 : u);                 // user 9 is heavy
    items.push_back(static_cast<int64_t>(rng() % (k % 3 == 0 ? 4 : num_items)));  // small ids repeat
  }
  std::map<int64_t, std::set<int64_t>> want;
  for (size_t r = 0; r < users.size(); ++r) want[users[r]].insert(items[r]);
  const UserItemIndex index(Interactions::from_vectors(users, items, num_users, num_items));
  ASSERT_EQ(index.num_users(), num_users);
  int64_t total = 0;
  for (int64_t u = 0; u < num_users; ++u) {
    const std::vector<int64_t> got(index.begin(u), index.end(u));
    const std::vector<int64_t> expected(want[u].begin(), want[u].end());
    EXPECT_EQ(got, expected) << "user " << u;
    total += static_cast<int64_t>(expected.size());
  }
  EXPECT_EQ(index.degree(0), 0);
  EXPECT_EQ(index.degree(num_users - 1), 0);
  EXPECT_EQ(static_cast<int64_t>(index.items().size()), total);
  EXPECT_EQ(index.offsets().back(), total);
}

}  // namespace
}  // namespace aisle::data
