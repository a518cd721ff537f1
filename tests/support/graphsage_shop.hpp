#pragma once
// The small shop the GraphSAGE tests train on (graphsage_test, graphsage_new_items_test): users
// with planted category tastes over 240 products in 8 categories (3 brands each, a price), a fifth
// of the catalogue never interacted with.
#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

#include "aisle/data/split.hpp"
#include "aisle/dist/communicator.hpp"
#include "aisle/eval/full_ranking.hpp"
#include "aisle/tensor/random.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "src/models/graphsage/model.hpp"

namespace aisle::models::graphsage::shop {

// ---- a small shop: planted category tastes, a fifth of the catalogue never interacted with ----

constexpr int64_t kUsers = 300, kItems = 240, kCategories = 8;

inline int64_t category_of(int64_t item) { return item % kCategories; }
// Every fifth product of a category is new: no interactions at all, only its attributes.
inline bool is_cold(int64_t item) { return (item / kCategories) % 5 == 4; }

inline data::SideFeatures shop_features() {
  data::SideFeatures f;
  std::vector<int64_t> category(kItems), brand(kItems);
  std::vector<float> price(kItems);
  Generator gen(5);
  for (int64_t i = 0; i < kItems; ++i) {
    category[static_cast<size_t>(i)] = category_of(i);
    brand[static_cast<size_t>(i)] = 3 * category_of(i) + (i / kCategories) % 3;  // 3 brands per category
    price[static_cast<size_t>(i)] = static_cast<float>((1 + category_of(i)) * (8 + 4 * gen.next_double()));
  }
  price[7] = std::nanf("");  // a product without a price
  f.categorical["category"] = {Tensor::from_vector(category), data::IdMap::dense(kCategories)};
  f.categorical["brand"] = {Tensor::from_vector(brand), data::IdMap::dense(3 * kCategories)};
  f.numeric["price"] = {Tensor::from_vector(price)};
  return f;
}

// testing::planted_taste_split's structure with categories as the tastes, over warm items only.
inline data::Split shop_split(uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> users, items, warm;
  for (int64_t i = 0; i < kItems; ++i)
    if (!is_cold(i)) warm.push_back(i);
  const int64_t per_category = static_cast<int64_t>(warm.size()) / kCategories;
  auto skewed = [&gen](int64_t n) {  // an index in [0, n), smaller ones likelier
    const double x = gen.next_double();
    return std::min<int64_t>(n - 1, static_cast<int64_t>(static_cast<double>(n) * x * x));
  };
  for (int64_t u = 0; u < kUsers; ++u) {
    const int64_t taste = u % kCategories;
    const int64_t n = 12 + static_cast<int64_t>(gen.next_below(13));
    std::set<int64_t> mine;
    while (static_cast<int64_t>(mine.size()) < n)
      mine.insert(gen.next_double() < 0.85 ? warm[static_cast<size_t>(skewed(per_category) * kCategories + taste)]
                                           : warm[static_cast<size_t>(skewed(static_cast<int64_t>(warm.size())))]);
    for (const int64_t i : mine) {
      users.push_back(u);
      items.push_back(i);
    }
  }
  const data::Interactions all = data::Interactions::from_vectors(users, items, kUsers, kItems);
  return data::random_split(all, data::Ratios{0.8, 0.0, 0.2}, /*per_user=*/true, seed + 1);
}

inline recipe::Recipe sage_recipe(const std::string& model_keys = "", const std::string& train_keys = "") {
  const std::string sizes = model_keys.find("layer_sizes") == std::string::npos
                                ? ", factors: 16, layer_sizes: [16, 16], fanouts: [8, 4]"
                                : "";
  return recipe::Recipe::load_text("data: {path: unused}\nmodel: {type: graphsage" + sizes + model_keys +
                                       "}\ntrain: {lr: 0.01, batch_size: 256" + train_keys + "}\n",
                                   "test.yaml", {}, train::training_schema());
}

struct Fixture {
  data::Split split = shop_split(7);
  std::shared_ptr<const data::UserItemIndex> train_index = std::make_shared<data::UserItemIndex>(split.train);
  std::shared_ptr<const data::SideFeatures> features = std::make_shared<data::SideFeatures>(shop_features());
  std::unique_ptr<dist::Communicator> comm = dist::make_local_communicator();

  train::TrainingData training(bool with_features = true) const {
    return {split.train, train_index, kUsers, kItems, with_features ? features : nullptr};
  }
  std::unique_ptr<GraphSage> model(const recipe::Recipe& r, Device device = Device::cpu(), uint64_t seed = 11,
                                   bool with_features = true) const {
    auto m = std::make_unique<GraphSage>();
    m->configure(r);
    m->setup(training(with_features), train::ModelContext{device, seed, comm.get()});
    return m;
  }
  eval::EvalResult evaluate(const eval::Scorer& scorer) const {
    eval::FullRankingOptions o;
    o.ks = {10};
    return eval::evaluate_full_ranking(scorer, *train_index, data::UserItemIndex(split.test), o);
  }
};

}  // namespace aisle::models::graphsage::shop
