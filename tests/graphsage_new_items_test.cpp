// Items added after export (serve::add_items, `aisle add-items`): a new product gets exactly the
// embedding that an item with the same attribute values and no interactions had in training
// (categorical, numeric and title-word features, mean and pool aggregators), every earlier
// embedding is left bit for bit as it was, products the model never saw rank beside their own
// category and by the users' tastes, batches add up (also in place), and every bad input is named
// with nothing written.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "aisle/autograd/embedding.hpp"
#include "aisle/autograd/grad_mode.hpp"
#include "aisle/core/error.hpp"
#include "aisle/io/artifact_reader.hpp"
#include "aisle/io/artifact_writer.hpp"
#include "aisle/ops/index.hpp"
#include "aisle/ops/scatter.hpp"
#include "aisle/serve/add_items.hpp"
#include "aisle/serve/artifact.hpp"
#include "aisle/train/export.hpp"
#include "support/graphsage_shop.hpp"
#include "support/model_testing.hpp"
#include "support/temp_dir.hpp"
#include "support/testing.hpp"

namespace aisle::models::graphsage {
namespace {

namespace fs = std::filesystem;
using namespace shop;

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' is not in: " << text;
}

std::string sku(int64_t item) { return "sku-" + std::to_string(item); }

data::IdMap skus(const std::vector<int64_t>& items) {
  data::IdInterner ids;
  for (const int64_t i : items) ids.intern(sku(i));
  return ids.to_map();
}

std::vector<int64_t> range(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

// The shop's features plus title words: "c<category> b<brand> shop".
data::SideFeatures shop_with_titles() {
  data::SideFeatures f = shop_features();
  data::IdInterner vocab;
  std::vector<int64_t> offsets{0}, tokens;
  for (int64_t i = 0; i < kItems; ++i) {
    char category[16], brand[16];
    std::snprintf(category, sizeof category, "c%lld", static_cast<long long>(category_of(i)));
    std::snprintf(brand, sizeof brand, "b%lld",
                  static_cast<long long>(f.categorical.at("brand").codes.to_vector<int64_t>()[static_cast<size_t>(i)]));
    for (const char* w : {static_cast<const char*>(category), static_cast<const char*>(brand), "shop"})
      tokens.push_back(vocab.intern(w));
    offsets.push_back(static_cast<int64_t>(tokens.size()));
  }
  f.tokens["title"] = {Tensor::from_vector(offsets), Tensor::from_vector(tokens), vocab.to_map()};
  return f;
}

// One CSV row per item of `items` with its values in `features` (the catalogue's rows).
struct ItemRow {
  std::string id, category, brand, price, title;
};

ItemRow row_of(int64_t item, const data::SideFeatures& f, const std::string& id) {
  const int64_t brand = f.categorical.at("brand").codes.to_vector<int64_t>()[static_cast<size_t>(item)];
  const float price = f.numeric.at("price").values.to_vector<float>()[static_cast<size_t>(item)];
  char text[32] = "", title[64];
  if (!std::isnan(price)) std::snprintf(text, sizeof text, "%.9g", static_cast<double>(price));
  // Upper case and punctuation, split and lowered as the importers do: "c3", "b7", "shop".
  std::snprintf(title, sizeof title, "C%lld, B%lld (shop)", static_cast<long long>(category_of(item)),
                static_cast<long long>(brand));
  return {id, std::to_string(category_of(item)), std::to_string(brand), text, title};
}

fs::path write_items(const fs::path& path, const std::vector<ItemRow>& rows, bool titles = true) {
  std::ofstream out(path);
  out << "item,category,brand,price" << (titles ? ",title" : "") << ",note\n";
  for (const ItemRow& r : rows)
    out << r.id << "," << r.category << "," << r.brand << "," << r.price << (titles ? ",\"" + r.title + "\"" : "")
        << ",ignored\n";
  return path;
}

void export_model(const train::Model& m, const data::UserItemIndex& seen, const data::IdMap& items,
                  const fs::path& dir) {
  train::export_artifact({.model = &m, .user_ids = data::IdMap::dense(kUsers), .item_ids = items, .seen = &seen,
                          .metrics = {{"Recall@10", 0.5}}, .dir = dir});
}

std::vector<float> row(const Tensor& table, int64_t r) {
  return table.rows(r, r + 1).to(DType::f32).to_vector<float>();
}

serve::AddItemsRequest request(const fs::path& artifact, const fs::path& items, const fs::path& out) {
  serve::AddItemsRequest r;
  r.artifact = artifact;
  r.items = items;
  r.out = out;
  return r;
}

// The shop with title words and a model of it trained for 2 epochs, exported to `dir`.
struct ExportedShop {
  Fixture fx;
  std::unique_ptr<GraphSage> model;
  ExportedShop(const std::string& aggregator, const fs::path& dir) {
    fx.features = std::make_shared<data::SideFeatures>(shop_with_titles());
    model = fx.model(sage_recipe(", aggregator: " + aggregator));
    testing::epoch_losses(*model, 0, 2);
    export_model(*model, *fx.train_index, skus(range(kItems)), dir);
  }
};

TEST(GraphSageNewItems, AnAddedItemGetsTheEmbeddingOfAnItemWithTheSameValues) {
  for (const std::string aggregator : {"mean", "pool"}) {
    SCOPED_TRACE(aggregator);
    testing::TempDir tmp;
    const ExportedShop shop(aggregator, tmp.path() / "a");
    const Fixture& fx = shop.fx;
    const GraphSage* m = shop.model.get();

    // Every item without interactions again, under a new id, with its own values; then one with
    // a brand and a title word the training data never had.
    std::vector<int64_t> cold;
    std::vector<ItemRow> rows;
    for (int64_t i = 0; i < kItems; ++i)
      if (is_cold(i)) {
        cold.push_back(i);
        rows.push_back(row_of(i, *fx.features, "new-" + std::to_string(i)));
      }
    ItemRow odd = rows.front();
    odd.id = "odd";
    odd.brand = "acme";
    odd.title += " glitter";
    rows.push_back(odd);
    const serve::AddItemsResult r =
        serve::add_items(request(tmp.path() / "a", write_items(tmp.path() / "items.csv", rows), tmp.path() / "b"));
    EXPECT_EQ(r.items_before, kItems);
    EXPECT_EQ(r.added, static_cast<int64_t>(rows.size()));
    EXPECT_EQ(r.features, (std::vector<std::string>{"brand", "category", "price", "title"}));
    EXPECT_EQ(r.unknown_values, 2);
    ASSERT_EQ(r.unknown_examples.size(), 2u);
    const std::string last_line = std::to_string(rows.size() + 1);
    EXPECT_EQ(r.unknown_examples[0], (tmp.path() / "items.csv").string() + ":" + last_line + ": brand 'acme'");
    EXPECT_EQ(r.unknown_examples[1], (tmp.path() / "items.csv").string() + ":" + last_line + ": title 'glitter'");
    EXPECT_EQ(r.without_attributes, 0);

    const Artifact before = Artifact::load(tmp.path() / "a"), after = Artifact::load(tmp.path() / "b");
    ASSERT_EQ(after.num_items(), kItems + static_cast<int64_t>(rows.size()));
    EXPECT_EQ(after.manifest().dimensions.at("items"), after.num_items());
    const Tensor z = after.model().weights().at("item_embeddings");
    const Tensor known = m->item_embeddings();
    for (size_t k = 0; k < cold.size(); ++k)
      EXPECT_EQ(row(z, kItems + static_cast<int64_t>(k)), row(known, cold[k])) << "new item for " << cold[k];
    // The unknown brand and word are left out, so "odd" is its twin without its brand node.
    EXPECT_NE(row(z, after.num_items() - 1), row(known, cold[0]));
    // Nothing that was there moves: users, known items, and so their scores.
    EXPECT_EQ(after.model().weights().at("user_embeddings").to_vector<float>(),
              before.model().weights().at("user_embeddings").to_vector<float>());
    EXPECT_EQ(z.rows(0, kItems).to_vector<float>(), before.model().weights().at("item_embeddings").to_vector<float>());
    const Tensor users = Tensor::from_vector(std::vector<int64_t>{0, 3, 299});
    EXPECT_EQ(ops::slice(after.model().score_users(users), 1, 0, kItems).to_vector<float>(),
              before.model().score_users(users).to_vector<float>());
  }
}

// A new product that already has buyers (--interactions): with its values and its buyers it gets
// exactly the embedding of the known item with the same values and the same buyers.
TEST(GraphSageNewItems, AnItemWithBuyersGetsTheEmbeddingOfTheKnownItemWithTheSameBuyers) {
  for (const std::string aggregator : {"mean", "pool"}) {
    SCOPED_TRACE(aggregator);
    testing::TempDir tmp;
    const ExportedShop shop(aggregator, tmp.path() / "a");
    const Fixture& fx = shop.fx;
    const GraphSage* m = shop.model.get();
    std::vector<int64_t> known;
    std::vector<ItemRow> rows;
    std::ofstream buyers(tmp.path() / "buyers.csv");
    buyers << "user,item\n";
    int64_t pairs = 0;
    for (int64_t i = 0; i < 20; ++i) {
      if (is_cold(i)) continue;
      known.push_back(i);
      const std::string id = "again-" + std::to_string(i);
      rows.push_back(row_of(i, *fx.features, id));
      for (int64_t u = kUsers - 1; u >= 0; --u)  // any order, and twice: buyers are a set
        if (fx.train_index->contains(u, i)) {
          buyers << u << "," << id << "\n" << u << "," << id << "\n";
          ++pairs;
        }
    }
    buyers << "someone-new," << rows.front().id << "\n";
    buyers.close();
    ASSERT_GT(pairs, 50);
    serve::AddItemsRequest r = request(tmp.path() / "a", write_items(tmp.path() / "items.csv", rows), tmp.path() / "b");
    r.interactions = tmp.path() / "buyers.csv";
    const serve::AddItemsResult result = serve::add_items(r);
    EXPECT_EQ(result.interactions, pairs);
    EXPECT_EQ(result.unknown_users, 1);
    ASSERT_EQ(result.unknown_user_examples.size(), 1u);
    EXPECT_EQ(result.unknown_user_examples[0],
              (tmp.path() / "buyers.csv").string() + ":" + std::to_string(2 * pairs + 2) + ": user 'someone-new'");
    const Tensor z = Artifact::load(tmp.path() / "b").model().weights().at("item_embeddings");
    for (size_t k = 0; k < known.size(); ++k)
      EXPECT_EQ(row(z, kItems + static_cast<int64_t>(k)), row(m->item_embeddings(), known[k])) << "item " << known[k];
  }
}

TEST(GraphSageNewItems, BuyersNeedNewItemsAndTheUsersStates) {
  Fixture fx;
  testing::TempDir tmp;
  auto m = fx.model(sage_recipe(", export_user_states: false"));
  export_model(*m, *fx.train_index, skus(range(kItems)), tmp.path() / "a");
  EXPECT_EQ(m->weights().count("layer0.user_inputs"), 0u);
  std::ofstream(tmp.path() / "items.csv") << "item,category,brand,price\nx,1,2,3\n";
  std::ofstream(tmp.path() / "buyers.csv") << "item,user\nx,4\n";
  serve::AddItemsRequest r = request(tmp.path() / "a", tmp.path() / "items.csv", tmp.path() / "b");
  EXPECT_EQ(serve::add_items(r).added, 1) << "without buyers the users' states are not needed";
  fs::remove_all(tmp.path() / "b");
  r.interactions = tmp.path() / "buyers.csv";
  expect_contains(testing::artifact_error_message([&] { serve::add_items(r); }),
                  "exported without the users' states (model.export_user_states: false)");
  auto with_states = fx.model(sage_recipe());
  export_model(*with_states, *fx.train_index, skus(range(kItems)), tmp.path() / "c");
  r.artifact = tmp.path() / "c";
  std::ofstream(tmp.path() / "buyers.csv") << "item,user\nx,4\nsku-3,4\n";
  expect_contains(testing::error_message([&] { serve::add_items(r); }),
                  (tmp.path() / "buyers.csv").string() + ":3: item 'sku-3' is not one of the new items of");
  std::ofstream(tmp.path() / "buyers.csv") << "item,customer\nx,4\n";
  expect_contains(testing::error_message([&] { serve::add_items(r); }), "no column 'user' for the user id (--user-column)");
  EXPECT_FALSE(fs::exists(tmp.path() / "b"));
}

// model.cold_item_rate trains items as if they were new: with every item made cold and every
// neighbour sampled, a step embeds each item seed exactly as add-items embeds a product with the
// same values (its user neighbours hidden, its attribute nodes at their full-graph states).
TEST(GraphSageNewItems, ItemsTrainedAsNewAreEmbeddedAsAddItemsEmbedsThem) {
  Fixture fx;
  for (const std::string aggregator : {"mean", "pool"}) {
    SCOPED_TRACE(aggregator);
    auto m = fx.model(sage_recipe(", aggregator: " + aggregator +
                                  ", factors: 8, layer_sizes: [8, 4], fanouts: [-1, -1], cold_item_rate: 1"));
    testing::epoch_losses(*m, 0, 1);
    const StepInputs in = m->step_inputs(1, 2);
    std::vector<int64_t> item_seeds;
    for (const int64_t v : in.seeds)
      if (v >= kUsers) item_seeds.push_back(v);
    ASSERT_EQ(in.cold_items, item_seeds);
    NoGradGuard no_grad;
    const Var inputs = embedding_bag(m->params().tokens, in.input_ids, in.input_offsets, ops::BagMode::mean);
    const Tensor sampled = sage_forward(m->params(), inputs, in.graphs, m->config()).value();

    testing::TempDir tmp;
    export_model(*m, *fx.train_index, skus(range(kItems)), tmp.path() / "a");
    std::vector<ItemRow> rows;
    for (const int64_t v : item_seeds) rows.push_back(row_of(v - kUsers, *fx.features, "again-" + std::to_string(v)));
    serve::add_items(request(tmp.path() / "a", write_items(tmp.path() / "items.csv", rows, false), tmp.path() / "b"));
    const Tensor added = Artifact::load(tmp.path() / "b").model().weights().at("item_embeddings");
    const auto first_item = static_cast<int64_t>(in.seeds.size() - item_seeds.size());  // seeds are sorted: users first
    EXPECT_TRUE(testing::all_close(sampled.rows(first_item, sampled.size(0)),
                                   added.rows(kItems, kItems + static_cast<int64_t>(rows.size())), 1e-5, 1e-6));
    // The full graph, where they keep their buyers, embeds the same items otherwise.
    std::vector<int64_t> item_ids;
    for (const int64_t v : item_seeds) item_ids.push_back(v - kUsers);
    EXPECT_FALSE(testing::all_close(sampled.rows(first_item, sampled.size(0)),
                                    ops::gather_rows(m->item_embeddings(), Tensor::from_vector(item_ids)), 1e-3, 1e-3));
  }
}

// The real case: products that did not exist when the model was trained (not in its graph at all)
// are embedded from their values alone and land beside their category and by the users' tastes;
// given no values, they all look the same.
TEST(GraphSageNewItems, ProductsUnknownAtTrainingRankBesideTheirCategory) {
  const Fixture full;
  std::vector<int64_t> warm, cold, warm_index(kItems, -1);
  for (int64_t i = 0; i < kItems; ++i) {
    if (is_cold(i)) {
      cold.push_back(i);
    } else {
      warm_index[static_cast<size_t>(i)] = static_cast<int64_t>(warm.size());
      warm.push_back(i);
    }
  }
  const auto num_warm = static_cast<int64_t>(warm.size());
  // The catalogue as it was at training time: the warm items only, renumbered.
  data::SideFeatures f;
  const data::SideFeatures all = shop_features();
  auto pick = [&](const Tensor& t) { return ops::index_select(t, 0, Tensor::from_vector(warm)); };
  f.categorical["category"] = {pick(all.categorical.at("category").codes), all.categorical.at("category").vocab};
  f.categorical["brand"] = {pick(all.categorical.at("brand").codes), all.categorical.at("brand").vocab};
  f.numeric["price"] = {pick(all.numeric.at("price").values)};
  std::vector<int64_t> items = full.split.train.items.to_vector<int64_t>();
  for (int64_t& i : items) i = warm_index[static_cast<size_t>(i)];
  const data::Interactions train =
      data::Interactions::from_vectors(full.split.train.users.to_vector<int64_t>(), items, kUsers, num_warm);
  const auto index = std::make_shared<const data::UserItemIndex>(train);
  auto m = std::make_unique<GraphSage>();
  m->configure(sage_recipe(", factors: 32, layer_sizes: [32, 32], fanouts: [10, 5]"));
  m->setup({train, index, kUsers, num_warm, std::make_shared<const data::SideFeatures>(f)},
           train::ModelContext{Device::cpu(), 3, full.comm.get()});
  testing::epoch_losses(*m, 0, 12);

  testing::TempDir tmp;
  export_model(*m, *index, skus(warm), tmp.path() / "a");
  std::vector<ItemRow> rows, blank;
  for (const int64_t c : cold) {
    rows.push_back(row_of(c, all, sku(c)));
    blank.push_back({sku(c), "", "", "", ""});
  }
  serve::add_items(request(tmp.path() / "a", write_items(tmp.path() / "new.csv", rows, false), tmp.path() / "b"));
  serve::add_items(request(tmp.path() / "a", write_items(tmp.path() / "blank.csv", blank, false), tmp.path() / "c"));

  // Share of the 10 nearest known items (cosine) of each new one that are of its category.
  auto cohesion = [&](const Artifact& a) {
    const Tensor z = a.model().weights().at("item_embeddings");
    double total = 0;
    for (size_t k = 0; k < cold.size(); ++k) {
      const std::vector<float> mine = row(z, num_warm + static_cast<int64_t>(k));
      std::vector<std::pair<double, int64_t>> near;
      for (int64_t w = 0; w < num_warm; ++w) {
        const std::vector<float> other = row(z, w);
        double dot = 0, a2 = 0, b2 = 0;
        for (size_t c = 0; c < mine.size(); ++c) {
          dot += double(mine[c]) * other[c];
          a2 += double(mine[c]) * mine[c];
          b2 += double(other[c]) * other[c];
        }
        near.emplace_back(-dot / std::sqrt(a2 * b2 + 1e-30), warm[static_cast<size_t>(w)]);
      }
      std::sort(near.begin(), near.end());
      for (size_t n = 0; n < 10; ++n) total += (category_of(near[n].second) == category_of(cold[k])) / 10.0;
    }
    return total / static_cast<double>(cold.size());
  };
  // Per user, the chance that a new item of their taste outscores a new item of another category.
  auto taste_auc = [&](const Artifact& a) {
    const std::vector<float> s = a.model().score_users(Tensor::from_vector(range(kUsers))).to_vector<float>();
    const int64_t n = a.num_items();
    double total = 0;
    for (int64_t u = 0; u < kUsers; ++u) {
      double wins = 0, pairs = 0;
      for (size_t x = 0; x < cold.size(); ++x) {
        if (category_of(cold[x]) != u % kCategories) continue;
        for (size_t y = 0; y < cold.size(); ++y) {
          if (category_of(cold[y]) == u % kCategories) continue;
          const float sx = s[static_cast<size_t>(u * n + num_warm) + x], sy = s[static_cast<size_t>(u * n + num_warm) + y];
          wins += sx > sy ? 1.0 : sx == sy ? 0.5 : 0.0;
          pairs += 1;
        }
      }
      total += wins / pairs;
    }
    return total / kUsers;
  };
  const Artifact described = Artifact::load(tmp.path() / "b"), undescribed = Artifact::load(tmp.path() / "c");
  const double c = cohesion(described), auc = taste_auc(described), blind_auc = taste_auc(undescribed);
  std::printf("products added after export: category share of 10 nearest known items %.3f (chance 0.125), "
              "taste AUC %.3f (added without values %.3f)\n", c, auc, blind_auc);
  EXPECT_GT(c, 0.8);
  EXPECT_GT(auc, 0.9);
  EXPECT_DOUBLE_EQ(blind_auc, 0.5) << "without values every new item gets the same embedding";
}

TEST(GraphSageNewItems, BatchesAddUpAlsoInPlace) {
  Fixture fx;
  auto m = fx.model(sage_recipe());
  testing::epoch_losses(*m, 0, 3);
  testing::TempDir tmp;
  const fs::path a = tmp.path() / "a";
  export_model(*m, *fx.train_index, skus(range(kItems)), a);
  const data::SideFeatures f = shop_features();
  serve::add_items(request(a, write_items(tmp.path() / "one.csv", {row_of(4 * kCategories, f, "x1")}, false),
                           tmp.path() / "b"));
  serve::AddItemsRequest again = request(tmp.path() / "b",
                                         write_items(tmp.path() / "two.csv",
                                                     {row_of(4 * kCategories + 1, f, "x2"), row_of(4 * kCategories + 2, f, "x3")},
                                                     false),
                                         tmp.path() / "b");
  expect_contains(testing::error_message([&] { serve::add_items(again); }), "already exists");
  again.overwrite = true;
  serve::add_items(again);

  const Artifact once = Artifact::load(tmp.path() / "b");
  ASSERT_EQ(once.num_items(), kItems + 3);
  const io::ArtifactReader reader = io::ArtifactReader::open(tmp.path() / "b");
  EXPECT_EQ(reader.item_ids().external(kItems), "x1");
  EXPECT_EQ(reader.item_ids().external(kItems + 2), "x3");
  EXPECT_EQ(reader.item_ids().external(7), sku(7));
  std::ifstream in(reader.file("added_items.json"));
  const nlohmann::json record = nlohmann::json::parse(in);
  ASSERT_EQ(record.at("batches").size(), 2u);
  EXPECT_EQ(record["batches"][0]["first_item_index"], kItems);
  EXPECT_EQ(record["batches"][0]["file"], "one.csv");
  EXPECT_EQ(record["batches"][1]["first_item_index"], kItems + 1);
  EXPECT_EQ(record["batches"][1]["items"], 2);
  EXPECT_EQ(reader.manifest().metrics.at("Recall@10"), 0.5) << "the manifest keeps the training evaluation";
  // The second batch is embedded like the first: the same values, the same embedding.
  const Tensor z = once.model().weights().at("item_embeddings");
  EXPECT_EQ(row(z, kItems), row(m->item_embeddings(), 4 * kCategories));
  EXPECT_EQ(row(z, kItems + 1), row(m->item_embeddings(), 4 * kCategories + 1));
  // The new items are served: a user of category 0's taste is offered x1 (category 0) before x2 and x3.
  std::vector<std::string> order;
  for (const Recommendation& r : once.recommend("0", kItems + 3))
    if (r.item.front() == 'x') order.push_back(r.item);
  EXPECT_EQ(order.front(), "x1");
}

TEST(GraphSageNewItems, BadInputsAreNamedAndWriteNothing) {
  Fixture fx;
  auto m = fx.model(sage_recipe());
  testing::epoch_losses(*m, 0, 1);
  testing::TempDir tmp;
  const fs::path a = tmp.path() / "a", out = tmp.path() / "out";
  export_model(*m, *fx.train_index, skus(range(kItems)), a);
  auto fails = [&](const std::string& csv, const std::string& expected, serve::AddItemsRequest r = {}) {
    SCOPED_TRACE(csv);
    const fs::path file = tmp.path() / "items.csv";
    std::ofstream(file) << csv;
    if (r.artifact.empty()) r = request(a, file, out);
    const std::string message = testing::error_message([&] { serve::add_items(r); });
    expect_contains(message, expected);
    EXPECT_FALSE(fs::exists(out)) << "nothing is written on error";
  };
  const std::string file = (tmp.path() / "items.csv").string();
  fails("item,category,price\nx,1,2\n", file + ": no column 'brand' for item feature 'brand'");
  fails("item,category,brand,price\nx,1,2,cheap\n", file + ":2: item feature 'price': 'cheap' is not a number");
  fails("item,category,brand,price\nx,1,2,3\ny,1,2,3\nx,1,2,3\n", file + ":4: item 'x' is listed twice (first on line 2)");
  fails("item,category,brand,price\nsku-7,1,2,3\n", file + ":2: item 'sku-7' is already in the artifact (item index 7)");
  fails("item,category,brand,price\n ,1,2,3\n", file + ":2: column 'item' (the item id) is empty");
  fails("item,category,brand,price\nx,1,2\n", file + ":2: 3 fields, but the header names 4");
  fails("item,category,brand,price\n", file + ": has a header but no items");
  fails("", file + ": is empty");
  serve::AddItemsRequest mapped = request(a, tmp.path() / "items.csv", out);
  mapped.columns = {{"colour", "Colour"}};
  fails("item,category,brand,price\nx,1,2,3\n", "--map names 'colour', which is not an item feature of the model "
        "(it reads: brand, category, price)", mapped);
  mapped.columns = {{"brand", "Maker"}};  // a renamed column is found
  std::ofstream(tmp.path() / "items.csv") << "item,category,Maker,price\nx,1,2,3\n";
  EXPECT_EQ(serve::add_items(mapped).added, 1);
  fs::remove_all(out);

  // Artifacts that cannot do it: another model, and a graphsage one without the item features' layout.
  for (const std::string type : {"popularity", "graphsage"}) {
    const fs::path other = tmp.path() / ("other-" + type);
    io::ArtifactWriter w(other);
    w.set_model(type, "{}", {{"users", 1}, {"items", 1}});
    w.write_weights({{"item_embeddings", Tensor::zeros({1, 2})}});
    w.write_id_map("users", data::IdMap::dense(1));
    w.write_id_map("items", data::IdMap::dense(1));
    w.finish();
    const std::string expected = type == "popularity"
                                     ? "holds a 'popularity' model, which cannot embed items it was not trained on"
                                     : "has no item_features.json";
    fails("item,category,brand,price\nx,1,2,3\n", expected, request(other, tmp.path() / "items.csv", out));
  }
  // An existing output is refused before anything is read.
  fs::create_directories(out);
  expect_contains(testing::error_message([&] { serve::add_items(request(a, tmp.path() / "items.csv", out)); }),
                  "already exists; pass --force");
}

}  // namespace
}  // namespace aisle::models::graphsage
