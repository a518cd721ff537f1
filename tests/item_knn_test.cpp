#include <algorithm>
#include <cmath>
#include <numeric>

#include "aisle/dist/communicator.hpp"
#include "aisle/models/item_knn.hpp"
#include "aisle/ops/mask_items.hpp"
#include "aisle/ops/sort.hpp"
#include "aisle/recipe/recipe.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "src/models/item_knn/scoring.hpp"
#include "src/models/item_knn/similarity.hpp"
#include "support/omp_threads.hpp"
#include "support/model_testing.hpp"
#include "support/testing.hpp"

namespace aisle::models {
namespace {

using testing::error_message;

recipe::Recipe recipe_of(const std::string& model_yaml) { return testing::model_recipe(model_yaml); }

train::TrainingData training_data(data::Interactions rows) {
  train::TrainingData d;
  d.num_users = rows.num_users;
  d.num_items = rows.num_items;
  d.train = std::move(rows);
  d.train_index = std::make_shared<data::UserItemIndex>(d.train);
  return d;
}

std::unique_ptr<train::Model> fit(const std::string& model_yaml, const train::TrainingData& data,
                                  Device device = Device::cpu()) {
  auto comm = dist::make_local_communicator();
  auto m = train::create_model(model_yaml.find("popularity") != std::string::npos ? "popularity" : "item_knn");
  m->configure(recipe_of(model_yaml));
  m->setup(data, {.device = device, .seed = 7, .comm = comm.get()});
  m->train_steps(0, 0, [](const train::StepReport&) { return true; });
  return m;
}

// Random rows with repeats and random values, so both weightings have something to merge.
data::Interactions random_rows(int64_t users, int64_t items, int64_t rows, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> u(static_cast<size_t>(rows)), i(static_cast<size_t>(rows));
  std::vector<float> v(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    u[static_cast<size_t>(r)] = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(users)));
    // Skewed items: low ids are popular, so similarities vary and ties occur.
    const double x = gen.next_double();
    i[static_cast<size_t>(r)] = static_cast<int64_t>(x * x * static_cast<double>(items));
    v[static_cast<size_t>(r)] = static_cast<float>(1 + gen.next_below(5)) * 0.5f;
  }
  return data::Interactions::from_vectors(u, i, users, items, v);
}

// The definition, densely: X[u][i] = 1 per distinct pair (binary) or the values summed in row
// order; sim = dot / (|x_i| |x_j| + shrink) summed over users in ascending order, in f64.
struct Expected {
  std::vector<int64_t> items;
  std::vector<float> weights;
};
Expected brute_force(const data::Interactions& rows, bool values, double shrink, int64_t width) {
  const int64_t U = rows.num_users, I = rows.num_items;
  std::vector<double> x(static_cast<size_t>(U * I), 0.0);
  const auto u = rows.users.to_vector<int64_t>(), it = rows.items.to_vector<int64_t>();
  const auto v = rows.values.to_vector<float>();
  for (size_t r = 0; r < u.size(); ++r) {
    double& cell = x[static_cast<size_t>(u[r] * I + it[r])];
    cell = values ? cell + static_cast<double>(v[r]) : 1.0;
  }
  std::vector<double> norm(static_cast<size_t>(I), 0.0);
  for (int64_t i = 0; i < I; ++i) {
    double s = 0;
    for (int64_t w = 0; w < U; ++w) s += x[static_cast<size_t>(w * I + i)] * x[static_cast<size_t>(w * I + i)];
    norm[static_cast<size_t>(i)] = std::sqrt(s);
  }
  Expected e{std::vector<int64_t>(static_cast<size_t>(I * width), -1), std::vector<float>(static_cast<size_t>(I * width), 0)};
  for (int64_t i = 0; i < I; ++i) {
    std::vector<std::pair<float, int64_t>> c;
    for (int64_t j = 0; j < I; ++j) {
      if (j == i) continue;
      double dot = 0;
      bool shared = false;
      for (int64_t w = 0; w < U; ++w) {
        const double a = x[static_cast<size_t>(w * I + i)], b = x[static_cast<size_t>(w * I + j)];
        if (a != 0 && b != 0) shared = true;
        if (a != 0 && b != 0) dot += a * b;
      }
      const double den = norm[static_cast<size_t>(i)] * norm[static_cast<size_t>(j)] + shrink;
      const float sim = shared && den > 0 ? static_cast<float>(dot / den) : 0.0f;
      if (sim != 0) c.push_back({sim, j});
    }
    std::sort(c.begin(), c.end(), [](auto a, auto b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    for (int64_t k = 0; k < std::min<int64_t>(width, static_cast<int64_t>(c.size())); ++k) {
      e.items[static_cast<size_t>(i * width + k)] = c[static_cast<size_t>(k)].second;
      e.weights[static_cast<size_t>(i * width + k)] = c[static_cast<size_t>(k)].first;
    }
  }
  return e;
}

TEST(ItemKnn, SimilaritiesEqualDenseCosine) {
  const data::Interactions rows = random_rows(40, 30, 400, 11);
  for (const bool values : {false, true})
    for (const double shrink : {0.0, 2.5})
      for (const int64_t neighbors : {4, 29, 100}) {
        SCOPED_TRACE(::testing::Message() << "values " << values << " shrink " << shrink << " neighbors " << neighbors);
        const std::string yaml = "{type: item_knn, neighbors: " + std::to_string(neighbors) + ", shrink: " +
                                 std::to_string(shrink) + ", weighting: " + (values ? "values" : "binary") + "}";
        const auto m = fit(yaml, training_data(rows));
        const auto w = m->weights();
        const int64_t width = std::min<int64_t>(neighbors, 29);
        ASSERT_EQ(w.at("neighbor_items").shape(), (Shape{30, width}));
        const Expected e = brute_force(rows, values, shrink, width);
        EXPECT_EQ(w.at("neighbor_items").to_vector<int64_t>(), e.items);
        EXPECT_EQ(w.at("neighbor_weights").to_vector<float>(), e.weights);
        EXPECT_EQ(m->dimensions().at("neighbors"), width);
      }
}

TEST(ItemKnn, TopNKeepsTheBestAndBreaksTiesByLowerId) {
  // Item 0 (users 0..4) shares one user each with items 3, 1 and 2 (equal cosines 1 / sqrt(5))
  // and two users with item 4 (2 / sqrt(10)); user 4 buys item 4 twice (binary: once).
  const data::Interactions rows = data::Interactions::from_vectors(
      {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4}, {0, 3, 0, 1, 0, 2, 0, 4, 0, 4, 4}, 5, 5);
  knn::NeighborTable t = knn::top_neighbors(knn::binary_matrix(data::UserItemIndex(rows)), 3, 0);
  const auto items = t.items.to_vector<int64_t>();
  const auto weights = t.weights.to_vector<float>();
  EXPECT_EQ(std::vector<int64_t>(items.begin(), items.begin() + 3), (std::vector<int64_t>{4, 1, 2}));
  EXPECT_FLOAT_EQ(weights[0], static_cast<float>(2 / std::sqrt(10.0)));
  EXPECT_FLOAT_EQ(weights[1], static_cast<float>(1 / std::sqrt(5.0)));
  EXPECT_EQ(weights[1], weights[2]);
  // Item 4 co-occurs only with item 0: the rest of its row is padding.
  EXPECT_EQ(std::vector<int64_t>(items.begin() + 12, items.end()), (std::vector<int64_t>{0, -1, -1}));
  EXPECT_EQ(weights[13], 0.0f);
}

TEST(ItemKnn, FitDoesNotDependOnTheThreadCount) {
  const data::Interactions rows = random_rows(300, 200, 6000, 5);
  const auto data = training_data(rows);
  std::map<std::string, Tensor> one, many;
  ASSERT_TRUE(testing::with_omp_threads(1, [&] { one = fit("{type: item_knn, neighbors: 20, weighting: values}", data)->weights(); }));
  ASSERT_TRUE(testing::with_omp_threads(4, [&] { many = fit("{type: item_knn, neighbors: 20, weighting: values}", data)->weights(); }));
  for (const auto& [name, t] : one) EXPECT_EQ(t.to_doubles(), many.at(name).to_doubles()) << name;
}

TEST(ItemKnn, ScoresByHand) {
  // Users 0: {0, 1}, 1: {1, 2}, 2: {0, 2}. Binary cosines: every pair shares one user, each item
  // has two users: sim = 1 / 2 for every pair.
  const auto data = training_data(data::Interactions::from_vectors({0, 0, 1, 1, 2, 2}, {0, 1, 1, 2, 0, 2}, 4, 3));
  const auto m = fit("{type: item_knn}", data);
  // User 0's history {0, 1}: item 0 gets sim(1, 0), item 1 gets sim(0, 1), item 2 both.
  // User 3 has no history: zeros.
  EXPECT_EQ(m->score_users(Tensor::from_vector<int64_t>({0, 3})).to_vector<float>(),
            (std::vector<float>{0.5f, 0.5f, 1.0f, 0, 0, 0}));
  EXPECT_MESSAGE_HAS(error_message([&] { m->score_users(Tensor::from_vector<int64_t>({4})); }), "user 4");
  EXPECT_FALSE(m->iterative());
  EXPECT_EQ(m->dimensions(), (std::map<std::string, int64_t>{{"users", 4}, {"items", 3}, {"neighbors", 2}}));
}

TEST(ItemKnn, OpCataloguePathEqualsTheCpuLoopBitForBit) {
  const data::Interactions rows = random_rows(120, 80, 3000, 9);
  const auto m = fit("{type: item_knn, neighbors: 10, shrink: 1, weighting: values}", training_data(rows));
  const auto w = m->weights();
  const knn::ScoringTables t{w.at("neighbor_items"), w.at("neighbor_weights"), w.at("history_offsets"),
                             w.at("history_items")};
  const knn::DeviceNeighbors d = knn::device_neighbors(t, Device::cpu());
  const Tensor users = Tensor::from_vector<int64_t>({5, 0, 119, 5, 77, 31});
  const Tensor expected = knn::score_cpu(t, users);
  EXPECT_EQ(m->score_users(users).to_vector<float>(), expected.to_vector<float>());
  EXPECT_EQ(knn::score_with_ops(t, d, users).to_vector<float>(), expected.to_vector<float>());
  // Small groups: the batch is split and concatenated.
  EXPECT_EQ(knn::score_with_ops(t, d, users, 50).to_vector<float>(), expected.to_vector<float>());
}

// Items come in pairs (2p, 2p + 1) bought together; each user buys both items of some pairs, and
// some popular "noise" items at random. Holding out one item of a pair, item-kNN should rank its
// partner high; popularity cannot know which pair a user is in.
TEST(ItemKnn, BeatsPopularityOnPlantedItemPairs) {
  const int64_t users = 400, pairs = 60, items = 2 * pairs + 10;
  Generator gen(3);
  std::vector<int64_t> u, i, held_out(static_cast<size_t>(users));
  for (int64_t w = 0; w < users; ++w) {
    for (int k = 0; k < 3; ++k) {
      const int64_t p = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(pairs)));
      u.push_back(w);
      i.push_back(2 * p);
      if (k == 0) {
        held_out[static_cast<size_t>(w)] = 2 * p + 1;  // the partner of the first pair is the test item
      } else {
        u.push_back(w);
        i.push_back(2 * p + 1);
      }
    }
    for (int k = 0; k < 4; ++k) {
      u.push_back(w);
      i.push_back(2 * pairs + static_cast<int64_t>(gen.next_below(10)));
    }
  }
  const auto data = training_data(data::Interactions::from_vectors(u, i, users, items));
  const auto hit_rate = [&](const train::Model& m) {
    Tensor scores = m.score_users(Tensor::arange(users));
    std::vector<int64_t> offsets{0}, seen;
    for (int64_t w = 0; w < users; ++w) {
      seen.insert(seen.end(), data.train_index->begin(w), data.train_index->end(w));
      offsets.push_back(static_cast<int64_t>(seen.size()));
    }
    ops::mask_items_(scores, Tensor::from_vector(offsets), Tensor::from_vector(seen));
    const auto top = ops::topk(scores, 10).indices.to_vector<int64_t>();
    int64_t hits = 0;
    for (int64_t w = 0; w < users; ++w)
      for (int64_t r = 0; r < 10; ++r) hits += top[static_cast<size_t>(w * 10 + r)] == held_out[static_cast<size_t>(w)];
    return static_cast<double>(hits) / static_cast<double>(users);
  };
  const double knn = hit_rate(*fit("{type: item_knn, neighbors: 20}", data));
  const double pop = hit_rate(*fit("{type: popularity}", data));
  EXPECT_GT(knn, 0.8) << "item_knn HR@10 " << knn << ", popularity " << pop;
  EXPECT_GT(knn, pop + 0.4) << "item_knn HR@10 " << knn << ", popularity " << pop;
}

TEST(ItemKnn, StateAndWeightsRoundTrip) {
  const auto data = training_data(random_rows(50, 40, 600, 2));
  const auto m = fit("{type: item_knn, neighbors: 8}", data);
  const Tensor users = Tensor::from_vector<int64_t>({0, 1, 49});

  auto comm = dist::make_local_communicator();
  auto resumed = train::create_model("item_knn");
  resumed->configure(recipe_of("{type: item_knn, neighbors: 8}"));
  resumed->setup(data, {.comm = comm.get()});
  resumed->load_state(m->state());
  EXPECT_EQ(resumed->score_users(users).to_vector<float>(), m->score_users(users).to_vector<float>());

  auto served = create_item_knn();
  served->load_weights(m->weights(), Device::cpu());
  EXPECT_EQ(served->score_users(users).to_vector<float>(), m->score_users(users).to_vector<float>());
  EXPECT_EQ(served->dimensions(), m->dimensions());

  auto weights = m->weights();
  weights.erase("history_items");
  EXPECT_THROW(served->load_weights(weights, Device::cpu()), ArtifactError);
  EXPECT_MESSAGE_HAS(error_message([&] { served->load_weights(weights, Device::cpu()); }), "'history_items'");
  weights = m->weights();
  weights["neighbor_items"] = weights["neighbor_items"].clone();
  weights["neighbor_items"].data<int64_t>()[3] = 40;
  EXPECT_MESSAGE_HAS(error_message([&] { served->load_weights(weights, Device::cpu()); }), "'neighbor_items' row 0 holds 40");
  weights = m->weights();
  weights["neighbor_weights"] = Tensor::zeros({40, 7});
  EXPECT_MESSAGE_HAS(error_message([&] { resumed->load_state(weights); }), "'neighbor_weights' is [40, 7] f32");
}

TEST(ItemKnn, BadKeysNameTheKey) {
  EXPECT_MESSAGE_HAS(error_message([] { recipe_of("{type: item_knn, neighbors: 0}"); }), "model.neighbors");
  EXPECT_MESSAGE_HAS(error_message([] { recipe_of("{type: item_knn, shrink: -1}"); }), "model.shrink");
  EXPECT_MESSAGE_HAS(error_message([] { recipe_of("{type: item_knn, weighting: tfidf}"); }), "model.weighting");
}

TEST(ItemKnn, CudaMatchesCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const auto data = training_data(random_rows(200, 150, 5000, 4));
  const auto cpu = fit("{type: item_knn, neighbors: 12, weighting: values}", data);
  const auto gpu = fit("{type: item_knn, neighbors: 12, weighting: values}", data, testing::gpu());
  for (const auto& [name, t] : cpu->weights()) EXPECT_EQ(t.to_doubles(), gpu->weights().at(name).to_doubles()) << name;
  const Tensor users = Tensor::from_vector<int64_t>({3, 199, 0, 3, 57});
  EXPECT_EQ(gpu->score_users(users.to(testing::gpu())).to(Device::cpu()).to_vector<float>(),
            cpu->score_users(users).to_vector<float>());
  auto served = create_item_knn();
  served->load_weights(cpu->weights(), testing::gpu());
  EXPECT_EQ(served->score_users(users.to(testing::gpu())).to(Device::cpu()).to_vector<float>(),
            cpu->score_users(users).to_vector<float>());
}

}  // namespace
}  // namespace aisle::models
