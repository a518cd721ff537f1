// LightGCN (model.type: lightgcn): its loss and first Adam step equal an independent dense
// computation on a tiny graph, its gradient passes a float64 finite-difference check, with no
// layers it is BPR-MF without a bias, it learns a planted taste structure better than popularity,
// it is deterministic and resumes bit-identically (under both train.pair_sampling modes), round-trips
// its weights, rejects bad keys, and (with a GPU) trains on CUDA to the CPU's numbers.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>

#include "aisle/autograd/elementwise.hpp"
#include "aisle/data/graph.hpp"
#include "aisle/data/split.hpp"
#include "aisle/dist/communicator.hpp"
#include "aisle/eval/full_ranking.hpp"
#include "aisle/models/lightgcn.hpp"
#include "aisle/serve/artifact.hpp"
#include "aisle/train/export.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/matmul.hpp"
#include "aisle/ops/scatter.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "src/models/bpr_mf/model.hpp"
#include "src/models/lightgcn/model.hpp"
#include "support/artifact_testing.hpp"
#include "support/model_testing.hpp"
#include "support/omp_threads.hpp"
#include "support/temp_dir.hpp"
#include "support/testing.hpp"

namespace aisle::models::lightgcn {
namespace {

using testing::error_message;

constexpr int64_t kUsers = 400, kItems = 240;  // testing::planted_taste_split's defaults
using testing::planted_taste_split;

recipe::Recipe recipe_for(const std::string& type, const std::string& model_keys = "",
                          const std::string& train_keys = "") {
  const std::string factors = model_keys.find("factors") == std::string::npos ? ", factors: 16" : "";
  return recipe::Recipe::load_text("data: {path: unused}\nmodel: {type: " + type + factors + model_keys +
                                       "}\ntrain: {lr: 0.01, batch_size: 256" + train_keys + "}\n",
                                   "test.yaml", {}, train::training_schema());
}

recipe::Recipe lightgcn_recipe(const std::string& model_keys = "", const std::string& train_keys = "") {
  return recipe_for("lightgcn", model_keys, train_keys);
}

struct Fixture {
  data::Split split = planted_taste_split(7);
  std::shared_ptr<const data::UserItemIndex> train_index = std::make_shared<data::UserItemIndex>(split.train);
  std::unique_ptr<dist::Communicator> comm = dist::make_local_communicator();

  train::TrainingData training() const { return {split.train, train_index, kUsers, kItems}; }

  std::unique_ptr<LightGcn> model(const recipe::Recipe& r, Device device = Device::cpu(), uint64_t seed = 11) const {
    auto m = std::make_unique<LightGcn>();
    m->configure(r);
    m->setup(training(), train::ModelContext{device, seed, comm.get()});
    return m;
  }

  eval::EvalResult evaluate(const eval::Scorer& scorer, Device device = Device::cpu()) const {
    eval::FullRankingOptions o;
    o.ks = {10};
    o.device = device;
    return eval::evaluate_full_ranking(scorer, *train_index, data::UserItemIndex(split.test), o);
  }
};

using testing::expect_same_bits;
using testing::snapshot;

// ---- a tiny graph, computed by hand ---------------------------------------------------------

constexpr int64_t kTinyUsers = 4, kTinyItems = 5, kTinyFactors = 3, kTinyLayers = 2;
constexpr double kTinyReg = 0.1;

// Item 4 is nobody's: an isolated node that is still drawn as a negative. (0, 1) is repeated: two
// training rows, one edge.
data::Interactions tiny_interactions() {
  return data::Interactions::from_vectors(std::vector<int64_t>{0, 0, 1, 1, 2, 2, 2, 3, 0},
                                          std::vector<int64_t>{0, 1, 1, 2, 0, 2, 3, 3, 1}, kTinyUsers, kTinyItems);
}

// The loss of LightGCN written out with dense matrices in double: its own degrees, its own Â,
// plain loops for the propagation, the scores, softplus and the L2.
double reference_loss(const std::vector<double>& ego, const std::vector<int64_t>& users,
                      const std::vector<int64_t>& items, const std::vector<int64_t>& negatives, int64_t k) {
  const int64_t n = kTinyUsers + kTinyItems, f = kTinyFactors;
  std::vector<std::vector<double>> adj(static_cast<size_t>(n), std::vector<double>(static_cast<size_t>(n), 0.0));
  const auto u = tiny_interactions().users.to_vector<int64_t>(), it = tiny_interactions().items.to_vector<int64_t>();
  for (size_t r = 0; r < u.size(); ++r) {
    adj[static_cast<size_t>(u[r])][static_cast<size_t>(kTinyUsers + it[r])] = 1;
    adj[static_cast<size_t>(kTinyUsers + it[r])][static_cast<size_t>(u[r])] = 1;
  }
  std::vector<double> degree(static_cast<size_t>(n), 0.0);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b) degree[static_cast<size_t>(a)] += adj[static_cast<size_t>(a)][static_cast<size_t>(b)];
  auto at = [f](std::vector<double>& m, int64_t row, int64_t col) -> double& {
    return m[static_cast<size_t>(row * f + col)];
  };
  std::vector<double> layer = ego, total = ego;
  for (int64_t l = 0; l < kTinyLayers; ++l) {
    std::vector<double> next(layer.size(), 0.0);
    for (int64_t a = 0; a < n; ++a)
      for (int64_t b = 0; b < n; ++b) {
        if (adj[static_cast<size_t>(a)][static_cast<size_t>(b)] == 0) continue;
        const double w = 1.0 / std::sqrt(degree[static_cast<size_t>(a)] * degree[static_cast<size_t>(b)]);
        for (int64_t c = 0; c < f; ++c) at(next, a, c) += w * at(layer, b, c);
      }
    layer = next;
    for (size_t x = 0; x < total.size(); ++x) total[x] += layer[x];
  }
  for (double& x : total) x /= static_cast<double>(kTinyLayers + 1);
  std::vector<double> e0 = ego;
  auto dot = [&](std::vector<double>& m, int64_t a, int64_t b) {
    double s = 0;
    for (int64_t c = 0; c < f; ++c) s += at(m, a, c) * at(m, b, c);
    return s;
  };
  const int64_t batch = static_cast<int64_t>(users.size());
  double ranking = 0, l2 = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t user = users[static_cast<size_t>(b)], item = items[static_cast<size_t>(b)];
    l2 += dot(e0, user, user) + dot(e0, item, item);
    for (int64_t c = 0; c < k; ++c) {
      const int64_t neg = negatives[static_cast<size_t>(b * k + c)];
      ranking += std::log1p(std::exp(dot(total, user, neg) - dot(total, user, item)));
      l2 += dot(e0, neg, neg) / static_cast<double>(k);
    }
  }
  return ranking / static_cast<double>(batch * k) + kTinyReg / (2.0 * static_cast<double>(batch)) * l2;
}

struct Tiny {
  data::Interactions train = tiny_interactions();
  std::shared_ptr<const data::UserItemIndex> index = std::make_shared<data::UserItemIndex>(train);
  std::unique_ptr<dist::Communicator> comm = dist::make_local_communicator();
  std::unique_ptr<LightGcn> model = std::make_unique<LightGcn>();

  explicit Tiny(Device device = Device::cpu()) {
    model->configure(lightgcn_recipe(", factors: 3, layers: 2, reg: 0.1, init_std: 0.5",
                                     ", batch_size: 100, negatives: 2, lr: 0.01"));
    model->setup({train, index, kTinyUsers, kTinyItems}, train::ModelContext{device, 5, comm.get()});
  }
};

// One step's loss is the dense reference's, and the step moves every ego entry as Adam's first
// update must: by lr * g / (|g| + eps) against the reference's finite-difference gradient g.
TEST(LightGcn, FirstStepMatchesDenseReference) {
  Tiny tiny;
  LightGcn& m = *tiny.model;
  ASSERT_EQ(m.steps_per_epoch(), 1);
  const BatchIds ids = m.batch_ids(0, 0);
  ASSERT_EQ(ids.users.numel(), 9);
  const auto users = ids.users.to_vector<int64_t>(), items = ids.items.to_vector<int64_t>(),
             negatives = ids.negatives.to_vector<int64_t>();
  for (size_t b = 0; b < users.size(); ++b)
    for (size_t c = 0; c < 2; ++c) {
      const int64_t neg = negatives[b * 2 + c];
      ASSERT_GE(neg, kTinyUsers) << "negatives are item nodes";
      EXPECT_FALSE(tiny.index->contains(users[b], neg - kTinyUsers)) << "user " << users[b] << " node " << neg;
    }
  const std::vector<double> before = m.ego().value().to_doubles();
  const double expected = reference_loss(before, users, items, negatives, 2);

  double reported = 0;
  m.train_steps(0, 0, [&](const train::StepReport& s) {
    reported = s.loss;
    return true;
  });
  EXPECT_NEAR(reported, expected, 1e-5 * expected);

  const std::vector<double> after = m.ego().value().to_doubles();
  int checked = 0;
  for (size_t x = 0; x < before.size(); ++x) {
    std::vector<double> plus = before, minus = before;
    plus[x] += 1e-6;
    minus[x] -= 1e-6;
    const double g = (reference_loss(plus, users, items, negatives, 2) - reference_loss(minus, users, items, negatives, 2)) / 2e-6;
    if (std::abs(g) < 1e-5) continue;  // Adam's first step is ~lr sign(g): rounding decides tiny ones
    ++checked;
    EXPECT_NEAR(after[x] - before[x], -0.01 * g / (std::abs(g) + 1e-8), 1e-5) << "element " << x << ", g " << g;
  }
  EXPECT_GT(checked, static_cast<int>(before.size()) * 3 / 4);
}

// The loss as a function of the ego table, in float64, against central differences.
TEST(LightGcn, LossGradientPassesFiniteDifferences) {
  Tiny tiny;
  for (const int64_t layers : {0, 1, 3}) {
    SCOPED_TRACE(::testing::Message() << "layers " << layers);
    const SparseOperator graph(data::bipartite_graph(*tiny.index, data::GraphOptions{.dtype = DType::f64}).adjacency);
    const BatchIds ids = tiny.model->batch_ids(0, 0);
    Generator gen(3);
    const Tensor ego = testing::random_tensor({kTinyUsers + kTinyItems, 4}, gen, DType::f64);
    EXPECT_TRUE(testing::gradients_match(
        [&](const std::vector<Var>& x) { return batch_loss(graph, x[0], layers, ids, 0.3); }, {ego}));
  }
}

// With no propagation, LightGCN is BPR-MF without a bias: the same initial tables, the same batches
// and negatives, the same loss and the same gradient rows.
TEST(LightGcn, NoLayersIsBprMf) {
  const Fixture fx;
  const std::string model_keys = ", reg: 0.05", train_keys = ", negatives: 2";
  auto lgcn = fx.model(lightgcn_recipe(model_keys + ", layers: 0", train_keys));
  bpr::BprMf bpr_model;
  bpr_model.configure(recipe_for("bpr", model_keys, train_keys));
  bpr_model.setup(fx.training(), train::ModelContext{Device::cpu(), 11, fx.comm.get()});

  const Tensor users = Tensor::from_vector(std::vector<int64_t>{0, 7, 399});
  const Tensor a = lgcn->score_users(users), b = bpr_model.score_users(users);
  EXPECT_EQ(0, std::memcmp(a.raw_data(), b.raw_data(), a.nbytes())) << "same initial scores";

  for (const int64_t step : {0, 3}) {
    const BatchIds ids = lgcn->batch_ids(1, step);
    const bpr::BatchIds bpr_ids = bpr_model.batch_ids(1, step);
    EXPECT_EQ(ids.users.to_vector<int64_t>(), bpr_ids.users.to_vector<int64_t>());
    std::vector<int64_t> items = bpr_ids.items.to_vector<int64_t>(), negatives = bpr_ids.negatives.to_vector<int64_t>();
    for (int64_t& i : items) i += kUsers;
    for (int64_t& j : negatives) j += kUsers;
    EXPECT_EQ(ids.items.to_vector<int64_t>(), items);
    EXPECT_EQ(ids.negatives.to_vector<int64_t>(), negatives);

    const bpr::Gradients expected = bpr::autograd_backward(bpr_model.params(), bpr_ids, 0.05);
    Var ego = Var::parameter(lgcn->ego().value().clone());
    Var loss = batch_loss(lgcn->graph(), ego, 0, ids, 0.05);
    loss.backward();
    EXPECT_NEAR(loss.value().item<float>(), expected.loss, 1e-6 * expected.loss);
    // BPR's coalesced rows, scattered into one [U + I, F] table, are LightGCN's dense gradient.
    std::vector<double> dense(static_cast<size_t>((kUsers + kItems) * 16), 0.0);
    for (int64_t t = 0; t < 2; ++t) {
      const auto ids_t = expected.rows[static_cast<size_t>(t)].indices.to_vector<int64_t>();
      const auto rows_t = expected.rows[static_cast<size_t>(t)].rows.to_doubles();
      for (size_t r = 0; r < ids_t.size(); ++r)
        for (size_t c = 0; c < 16; ++c)
          dense[static_cast<size_t>(ids_t[r] + t * kUsers) * 16 + c] = rows_t[r * 16 + c];
    }
    EXPECT_TRUE(testing::all_close(ego.grad(), Tensor::from_vector(dense, {kUsers + kItems, 16}).to(DType::f32),
                                   1e-5, 1e-7));
  }
}

// Both pair samplings (train.pair_sampling rows and users) learn the planted tastes.
class LightGcnSampling : public ::testing::TestWithParam<const char*> {};

TEST_P(LightGcnSampling, LearnsPlantedTastesBetterThanPopularity) {
  const Fixture fx;
  auto m = train::create_model("lightgcn");
  m->configure(lightgcn_recipe(", layers: 3", std::string(", pair_sampling: ") + GetParam()));
  m->setup(fx.training(), train::ModelContext{Device::cpu(), 3, fx.comm.get()});
  const auto start = std::chrono::steady_clock::now();
  const std::vector<double> losses = testing::epoch_losses(*m, 0, 15);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("lightgcn: %lld training rows, %lld steps/epoch, %.4f s per epoch\n",
              static_cast<long long>(fx.split.train.size()), static_cast<long long>(m->steps_per_epoch()),
              seconds / 15);
  EXPECT_NEAR(losses.front(), std::log(2.0), 0.1) << "random init starts near log 2";
  EXPECT_LT(losses.back(), 0.6 * losses.front());

  const Tensor counts = [&] {
    std::vector<float> c(kItems, 0.0f);
    for (int64_t i : fx.split.train.items.to_vector<int64_t>()) c[static_cast<size_t>(i)] += 1;
    return Tensor::from_vector(c);
  }();
  const eval::EvalResult popularity = fx.evaluate([&](const Tensor& users) {
    return ops::broadcast_to(counts.reshape({1, kItems}), {users.numel(), kItems});
  });
  const eval::EvalResult lgcn = fx.evaluate([&](const Tensor& users) { return m->score_users(users); });
  std::printf("Recall@10 %.4f (popularity %.4f), NDCG@10 %.4f (popularity %.4f)\n", lgcn.at("Recall@10"),
              popularity.at("Recall@10"), lgcn.at("NDCG@10"), popularity.at("NDCG@10"));
  EXPECT_GT(lgcn.at("Recall@10"), 2 * popularity.at("Recall@10"));
  EXPECT_GT(lgcn.at("NDCG@10"), 2 * popularity.at("NDCG@10"));
}

INSTANTIATE_TEST_SUITE_P(PairSampling, LightGcnSampling, ::testing::Values("rows", "users"));

// train.pair_sampling reaches every graph-free pairwise model built the same way: the same key
// trains the same, the other one differently.
TEST(PairSampling, ReachesBprMfLightGcnAndNgcf) {
  const Fixture fx;
  for (const std::string type : {"bpr", "lightgcn", "ngcf"}) {
    const auto first_epoch = [&](const std::string& sampling) {
      auto m = train::create_model(type);
      m->configure(recipe_for(type, "", ", pair_sampling: " + sampling));
      m->setup(fx.training(), train::ModelContext{Device::cpu(), 5, fx.comm.get()});
      return testing::epoch_losses(*m, 0, 1).front();
    };
    EXPECT_EQ(first_epoch("users"), first_epoch("users")) << type;
    EXPECT_NE(first_epoch("users"), first_epoch("rows")) << type;
  }
}

// Evaluation scores come from the propagated embeddings: the cache follows training.
TEST(LightGcn, ScoresUsePropagatedEmbeddingsAndFollowTraining) {
  const Fixture fx;
  auto m = fx.model(lightgcn_recipe(", layers: 2"));
  const Tensor users = Tensor::from_vector(std::vector<int64_t>{3, 9});
  const Var final_embeddings = propagate(m->graph(), Var(m->ego().value()), 2);
  const Tensor u = ops::gather_rows(final_embeddings.value(), users);
  const Tensor items = final_embeddings.value().rows(kUsers, kUsers + kItems);
  const Tensor expected = ops::matmul(u, items, false, true);
  const Tensor before = m->score_users(users).clone();
  EXPECT_TRUE(testing::all_close(before, expected, 1e-6, 1e-7));
  testing::epoch_losses(*m, 0, 1);
  EXPECT_FALSE(testing::all_close(m->score_users(users), before, 1e-3, 1e-4)) << "stale cache after training";
  const Var now = propagate(m->graph(), Var(m->ego().value()), 2);
  EXPECT_TRUE(testing::all_close(m->score_users(users),
                                 ops::matmul(ops::gather_rows(now.value(), users),
                                             now.value().rows(kUsers, kUsers + kItems), false, true),
                                 1e-6, 1e-7));
}

TEST_P(LightGcnSampling, DeterministicAcrossRunsAndThreadCounts) {
  const Fixture fx;
  const recipe::Recipe r =
      lightgcn_recipe(", factors: 64", std::string(", negatives: 2, batch_size: 1000, pair_sampling: ") + GetParam());
  testing::expect_deterministic_over_threads([&] { return fx.model(r); });
}

TEST_P(LightGcnSampling, ResumesBitIdenticallyAfterAnEpochAndMidEpoch) {
  const Fixture fx;
  const recipe::Recipe r = lightgcn_recipe("", std::string(", pair_sampling: ") + GetParam());
  const auto [straight, continued] = testing::expect_exact_resume([&] { return fx.model(r); });
  // The propagated tables used for scoring follow the restored ego table too.
  const double a = fx.evaluate([&](const Tensor& u) { return straight->score_users(u); }).at("NDCG@10");
  const double b = fx.evaluate([&](const Tensor& u) { return continued->score_users(u); }).at("NDCG@10");
  EXPECT_EQ(a, b);
}

TEST(LightGcn, WeightsRoundTripAndScoreIdentically) {
  const Fixture fx;
  auto m = fx.model(lightgcn_recipe());
  testing::epoch_losses(*m, 0, 2);
  const auto w = m->weights();
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.at("user_embeddings").shape(), (Shape{kUsers, 16}));
  EXPECT_EQ(w.at("item_embeddings").shape(), (Shape{kItems, 16}));
  EXPECT_EQ(w.at("ego_embeddings").shape(), (Shape{kUsers + kItems, 16}));
  for (const auto& [name, t] : w) EXPECT_TRUE(m->state().count(name)) << "state() lacks weight " << name;

  auto served_only = snapshot(w);
  served_only.erase("ego_embeddings");  // the propagated tables alone serve
  for (const auto& source : {snapshot(w), snapshot(m->state()), served_only}) {
    auto served = train::create_model("lightgcn");
    served->load_weights(source, Device::cpu());
    const Tensor users = Tensor::from_vector(std::vector<int64_t>{0, 5, 399, 5});
    const Tensor a = m->score_users(users), b = served->score_users(users);
    ASSERT_EQ(b.shape(), (Shape{4, kItems}));
    EXPECT_EQ(0, std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()));
    EXPECT_EQ(served->dimensions().at("factors"), 16);
    EXPECT_EQ(served->dimensions().at("items"), kItems);
  }
}

// Exported like any model and served by aisle::Artifact: recommendations are the trained model's
// ranking of the propagated embeddings, seen items left out.
TEST(LightGcn, ExportedArtifactRecommendsLikeTheModel) {
  const Fixture fx;
  auto m = fx.model(lightgcn_recipe(", layers: 2"));
  testing::epoch_losses(*m, 0, 3);
  testing::expect_artifact_recommends_like_the_model(*m, *fx.train_index, "lightgcn", {0, 17, 399});
}

TEST(LightGcn, BadWeightsAndStatesNameTheTensor) {
  const Fixture fx;
  auto m = fx.model(lightgcn_recipe());
  auto w = snapshot(m->weights());
  auto served = train::create_model("lightgcn");
  w.erase("item_embeddings");
  EXPECT_MESSAGE_HAS(testing::artifact_error_message([&] { served->load_weights(w, Device::cpu()); }),
                     "'item_embeddings' is missing");
  w["item_embeddings"] = Tensor::zeros({kItems, 15});
  EXPECT_MESSAGE_HAS(error_message([&] { served->load_weights(w, Device::cpu()); }),
                     "'item_embeddings' has shape [240, 15]");

  auto state = snapshot(m->state());
  state.erase("optimizer.param0.exp_avg_sq");
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "optimizer.param0.exp_avg_sq");
  state = snapshot(m->state());
  state["ego_embeddings"] = Tensor::zeros({kUsers + kItems + 1, 16});
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "'ego_embeddings' has shape [641, 16]");
  state = snapshot(m->state());
  state["item_bias"] = Tensor::zeros({kItems});
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "'item_bias' is not part of this model");
}

TEST(LightGcn, BadKeysNameTheKey) {
  auto load = [](const std::string& yaml) {
    return error_message([&] { recipe::Recipe::load_text(yaml, "test.yaml", {}, train::training_schema()); });
  };
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: lightgcn, layers: -1}\n"), "model.layers");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: lightgcn, reg: -1e-4}\n"), "model.reg");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: lightgcn, factors: 0}\n"), "model.factors");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: lightgcn, init_std: -0.1}\n"), "model.init_std");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: lightgcn}\ntrain: {optimizer: sgd}\n"), "train.optimizer");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: lightgcn}\ntrain: {negatives: 0}\n"), "train.negatives");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: lightgcn, item_bias: true}\n"), "model.item_bias");
  LightGcn m;
  EXPECT_MESSAGE_HAS(error_message([&] { m.configure(lightgcn_recipe("", ", lr: 0")); }), "train.lr");
}

TEST(LightGcn, DescribesItself) {
  const Fixture fx;
  auto m = fx.model(lightgcn_recipe(", layers: 2"));
  EXPECT_EQ(m->type(), "lightgcn");
  EXPECT_EQ(m->feedback(), train::Feedback::implicit);
  EXPECT_EQ(m->dimensions().at("users"), kUsers);
  EXPECT_MESSAGE_HAS(m->hyperparameters_json(), "\"layers\":2");
  EXPECT_EQ(train::model_info("lightgcn").feedback, train::Feedback::implicit);
  // The paper's defaults.
  const recipe::Recipe defaults = testing::model_recipe("{type: lightgcn}");
  EXPECT_EQ(defaults.integer("model.factors"), 64);
  EXPECT_EQ(defaults.integer("model.layers"), 3);
  EXPECT_EQ(defaults.number("model.reg"), 1e-4);
  EXPECT_EQ(defaults.number("train.lr"), 1e-3);
  EXPECT_EQ(defaults.integer("train.batch_size"), 2048);
  EXPECT_EQ(defaults.integer("train.negatives"), 1);
}

// The same steps on CUDA (the op catalogue's kernels; tables initialised on the host from the same
// seed) give the CPU's losses and weights to rounding.
TEST(LightGcnCuda, TrainingMatchesCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Fixture fx;
  const recipe::Recipe r = lightgcn_recipe(", layers: 3", ", negatives: 2");
  auto cpu = fx.model(r);
  auto gpu = fx.model(r, testing::gpu());
  testing::expect_cuda_training_matches_cpu(*cpu, *gpu, 2);
  const double cpu_ndcg = fx.evaluate([&](const Tensor& u) { return cpu->score_users(u); }).at("NDCG@10");
  const double gpu_ndcg =
      fx.evaluate([&](const Tensor& u) { return gpu->score_users(u); }, testing::gpu()).at("NDCG@10");
  EXPECT_NEAR(cpu_ndcg, gpu_ndcg, 0.01);
}

}  // namespace
}  // namespace aisle::models::lightgcn
