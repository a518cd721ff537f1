// Biased MF (model.type: mf): the per-rating SGD update is the textbook one, a planted low-rank
// rating matrix is recovered far better than the global mean predicts it with SGD, minibatch SGD
// and Adam, biases are learnt alone, runs repeat and resume bit for bit (after an epoch or
// mid-epoch), weights round-trip, bad keys and tensors are named, and CUDA matches the CPU: the
// minibatch path closely, the Hogwild kernel exactly where no two ratings share a row and up to
// its races elsewhere.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <memory>
#include <set>

#include "aisle/data/split.hpp"
#include "aisle/dist/communicator.hpp"
#include "aisle/eval/rating.hpp"
#include "aisle/models/biased_mf.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "cuda/mf_sgd.hpp"
#include "src/core/dispatch.hpp"
#include "src/models/biased_mf/biased_mf_model.hpp"
#include "src/models/biased_mf/gather_ratings.hpp"
#include "src/models/biased_mf/sequential_sgd.hpp"
#include "support/omp_threads.hpp"
#include "support/model_testing.hpp"
#include "support/testing.hpp"

namespace aisle::models::biased_mf {
namespace {

using testing::error_message;

constexpr int64_t kUsers = 150, kItems = 100, kRank = 3;
constexpr double kNoise = 0.1;

double normal(Generator& gen) {  // Box-Muller
  const double u1 = 1.0 - gen.next_double(), u2 = gen.next_double();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

struct Planted {
  data::Split split;
  std::vector<double> user_bias, item_bias;
};

// Each user rates 40 random items: 3.5 + b_u + b_i + p_u·q_i (rank kRank, entries N(0, 1))
// + N(0, kNoise^2). With factors = false the ratings are 3.5 + b_u + b_i exactly.
Planted planted(uint64_t seed, bool factors = true) {
  Generator gen(seed);
  Planted p;
  std::vector<double> pu(kUsers * kRank), qi(kItems * kRank);
  p.user_bias.resize(kUsers);
  p.item_bias.resize(kItems);
  for (double& b : p.user_bias) b = 0.5 * normal(gen);
  for (double& b : p.item_bias) b = 0.5 * normal(gen);
  for (double& x : pu) x = normal(gen);
  for (double& x : qi) x = normal(gen);
  std::vector<int64_t> users, items;
  std::vector<float> values;
  for (int64_t u = 0; u < kUsers; ++u) {
    std::set<int64_t> mine;
    while (mine.size() < 40) mine.insert(static_cast<int64_t>(gen.next_below(kItems)));
    for (int64_t i : mine) {
      double r = 3.5 + p.user_bias[u] + p.item_bias[i];
      if (factors) {
        for (int64_t k = 0; k < kRank; ++k) r += pu[u * kRank + k] * qi[i * kRank + k];
        r += kNoise * normal(gen);
      }
      users.push_back(u);
      items.push_back(i);
      values.push_back(static_cast<float>(r));
    }
  }
  const auto all = data::Interactions::from_vectors(users, items, kUsers, kItems, values);
  p.split = data::random_split(all, data::Ratios{0.8, 0.0, 0.2}, /*per_user=*/false, seed + 1);
  return p;
}

recipe::Recipe mf_recipe(std::vector<std::string> sets = {}) {
  sets.insert(sets.begin(), {"model.factors=8", "model.reg=0.02", "train.batch_size=500"});
  return testing::model_recipe("{type: mf}", sets);
}

struct Fixture {
  Planted data = planted(5);
  std::unique_ptr<dist::Communicator> comm = dist::make_local_communicator();

  std::unique_ptr<train::Model> model(const recipe::Recipe& r, Device device = Device::cpu(), uint64_t seed = 3) const {
    auto m = train::create_model("mf");
    m->configure(r);
    m->setup({data.split.train, nullptr, kUsers, kItems}, train::ModelContext{device, seed, comm.get()});
    return m;
  }

  double rmse(const train::Model& m) const {
    return eval::evaluate_ratings([&m](const Tensor& u, const Tensor& i) { return m.predict(u, i); }, data.split.test,
                                  {.device = m.device()})
        .at("RMSE");
  }
  // RMSE of predicting every test rating with the training mean.
  double mean_baseline() const {
    const auto train = data.split.train.values.to_vector<float>();
    double mean = 0;
    for (float v : train) mean += v;
    mean /= static_cast<double>(train.size());
    double sq = 0;
    const auto test = data.split.test.values.to_vector<float>();
    for (float v : test) sq += (v - mean) * (v - mean);
    return std::sqrt(sq / static_cast<double>(test.size()));
  }
};

std::map<std::string, Tensor> cloned(const std::map<std::string, Tensor>& state) {
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : state) out.emplace(name, t.to(Device::cpu()).clone());
  return out;
}

void expect_bit_identical(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    const Tensor x = t.to(Device::cpu()), y = b.at(name).to(Device::cpu());
    ASSERT_EQ(x.shape(), y.shape()) << name;
    ASSERT_EQ(x.dtype(), y.dtype()) << name;
    EXPECT_EQ(std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()), 0) << "tensor '" << name << "' differs";
  }
}

TEST(BiasedMfKernel, OneRatingUpdatesLikeTheFormula) {
  std::vector<float> p{0.5f, -0.25f}, q{0.1f, 0.4f}, bu{0.2f}, bi{-0.1f};
  const PackedRating rating{0, 0, 4.0f};
  const SgdHyper h{.lr = 0.1f, .reg = 0.05f, .reg_bias = 0.02f, .global_mean = 3.0f, .use_biases = true};
  const Tables t{p.data(), q.data(), bu.data(), bi.data(), 2};
  const double sum_sq = sequential_sgd(t, &rating, 1, h);
  // e = 4 - (3 + 0.2 - 0.1 + (0.05 - 0.1)) = 0.95
  const double e = 0.95;
  EXPECT_NEAR(sum_sq, e * e, 1e-6);
  EXPECT_NEAR(bu[0], 0.2 + 0.1 * (e - 0.02 * 0.2), 1e-6);
  EXPECT_NEAR(bi[0], -0.1 + 0.1 * (e - 0.02 * -0.1), 1e-6);
  EXPECT_NEAR(p[0], 0.5 + 0.1 * (e * 0.1 - 0.05 * 0.5), 1e-6);
  EXPECT_NEAR(p[1], -0.25 + 0.1 * (e * 0.4 - 0.05 * -0.25), 1e-6);
  EXPECT_NEAR(q[0], 0.1 + 0.1 * (e * 0.5 - 0.05 * 0.1), 1e-6);  // from the old p
  EXPECT_NEAR(q[1], 0.4 + 0.1 * (e * -0.25 - 0.05 * 0.4), 1e-6);
}

// The kernel overlaps each rating's dot product with the previous update and redoes it when the
// two share a row: on a tiny table (shared rows everywhere) it must follow a plain double loop.
TEST(BiasedMfKernel, FollowsAPlainLoopWhenRatingsShareRows) {
  constexpr int64_t users = 3, items = 4, factors = 13;  // 13: vector body and scalar tail
  Generator gen(21);
  std::vector<float> p(users * factors), q(items * factors), bu(users, 0.1f), bi(items, -0.2f);
  for (float& x : p) x = static_cast<float>(0.3 * normal(gen));
  for (float& x : q) x = static_cast<float>(0.3 * normal(gen));
  std::vector<double> p64(p.begin(), p.end()), q64(q.begin(), q.end()), bu64(bu.begin(), bu.end()),
      bi64(bi.begin(), bi.end());
  std::vector<PackedRating> ratings;
  for (int k = 0; k < 400; ++k)
    ratings.push_back({static_cast<int32_t>(gen.next_below(users)), static_cast<int32_t>(gen.next_below(items)),
                       static_cast<float>(1 + gen.next_below(5))});
  const SgdHyper h{.lr = 0.02f, .reg = 0.05f, .reg_bias = 0.02f, .global_mean = 3.0f, .use_biases = true};
  const double sum_sq = sequential_sgd({p.data(), q.data(), bu.data(), bi.data(), factors}, ratings.data(),
                                       static_cast<int64_t>(ratings.size()), h);
  double expected_sq = 0;
  for (const PackedRating& r : ratings) {
    double* pu = &p64[r.user * factors];
    double* qi = &q64[r.item * factors];
    double d = 0;
    for (int64_t f = 0; f < factors; ++f) d += pu[f] * qi[f];
    const double e = r.value - (3.0 + bu64[r.user] + bi64[r.item] + d);
    expected_sq += e * e;
    bu64[r.user] += 0.02 * (e - 0.02 * bu64[r.user]);
    bi64[r.item] += 0.02 * (e - 0.02 * bi64[r.item]);
    for (int64_t f = 0; f < factors; ++f) {
      const double pf = pu[f], qf = qi[f];
      pu[f] += 0.02 * (e * qf - 0.05 * pf);
      qi[f] += 0.02 * (e * pf - 0.05 * qf);
    }
  }
  EXPECT_NEAR(sum_sq, expected_sq, 1e-4 * expected_sq);
  for (size_t j = 0; j < p.size(); ++j) ASSERT_NEAR(p[j], p64[j], 1e-4) << "user factor " << j;
  for (size_t j = 0; j < q.size(); ++j) ASSERT_NEAR(q[j], q64[j], 1e-4) << "item factor " << j;
  for (int64_t u = 0; u < users; ++u) ASSERT_NEAR(bu[u], bu64[u], 1e-4);
}

TEST(BiasedMfKernel, GatherFollowsTheOrder) {
  Generator gen(4);
  std::vector<PackedRating> rows;
  for (int32_t r = 0; r < 1000; ++r) rows.push_back({r, 7 * r, 0.5f * static_cast<float>(r)});
  std::vector<int64_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  for (size_t k = order.size() - 1; k > 0; --k) std::swap(order[k], order[static_cast<size_t>(gen.next_below(k + 1))]);
  for (int64_t count : {0, 1, 15, 17, 1000}) {  // around the prefetch distance (16)
    std::vector<PackedRating> out(static_cast<size_t>(count) + 1, PackedRating{-1, -1, -1.0f});
    gather_in_order(rows.data(), order.data(), count, out.data());
    for (size_t k = 0; k < static_cast<size_t>(count); ++k) {
      const PackedRating &want = rows[static_cast<size_t>(order[k])], &got = out[k];
      ASSERT_TRUE(got.user == want.user && got.item == want.item && got.value == want.value) << count << " " << k;
    }
    EXPECT_EQ(out.back().user, -1) << "wrote past the end";
  }
  // Hogwild's host-to-device chunks: whole steps, about 4M ratings, at least one step.
  EXPECT_EQ(hogwild_chunk_steps(1024) * 1024, int64_t{1} << 22);
  EXPECT_EQ(hogwild_chunk_steps(1000), (int64_t{1} << 22) / 1000);
  EXPECT_EQ(hogwild_chunk_steps(int64_t{1} << 23), 1);
}

TEST(BiasedMf, SgdRecoversAPlantedLowRankMatrix) {
  Fixture f;
  auto m = f.model(mf_recipe());
  const std::vector<double> losses = testing::epoch_losses(*m, 0, 40);
  const double rmse = f.rmse(*m), baseline = f.mean_baseline();
  EXPECT_LT(losses.back(), 0.05 * losses.front());
  EXPECT_LT(rmse, 0.2 * baseline) << "model " << rmse << " vs global mean " << baseline;
}

TEST(BiasedMf, AdamAndMinibatchSgdLearnToo) {
  Fixture f;
  const double baseline = f.mean_baseline();
  for (const char* optimizer : {"train.optimizer=adam", "train.sgd_mode=minibatch"}) {
    auto m = f.model(mf_recipe({optimizer, "train.batch_size=128"}));
    const std::vector<double> losses = testing::epoch_losses(*m, 0, 40);
    EXPECT_LT(losses.back(), 0.05 * losses.front()) << optimizer;
    EXPECT_LT(f.rmse(*m), 0.2 * baseline) << optimizer;
  }
}

TEST(BiasedMf, LearnsBiasesOfABiasOnlyMatrix) {
  Fixture f;
  f.data = planted(9, /*factors=*/false);
  // init_std 0 keeps every factor at exactly 0 (their gradients are products with 0): a pure
  // bias model.
  auto m = f.model(mf_recipe({"model.init_std=0", "model.reg_bias=0.001", "train.lr=0.05"}));
  testing::epoch_losses(*m, 0, 60);
  const auto w = m->weights();
  for (const char* name : {"user_factors", "item_factors"})
    for (float x : w.at(name).to_vector<float>()) ASSERT_EQ(x, 0.0f) << name;
  // b_u + b_i is identified up to a constant moved between the two sides: compare centred.
  auto centred = [](std::vector<double> v) {
    double mean = 0;
    for (double x : v) mean += x;
    for (double& x : v) x -= mean / static_cast<double>(v.size());
    return v;
  };
  const auto bu = w.at("user_bias").to_doubles(), bi = w.at("item_bias").to_doubles();
  const auto true_bu = centred(f.data.user_bias), true_bi = centred(f.data.item_bias);
  const auto got_bu = centred(bu), got_bi = centred(bi);
  double worst = 0;
  for (int64_t u = 0; u < kUsers; ++u) worst = std::max(worst, std::abs(got_bu[u] - true_bu[u]));
  for (int64_t i = 0; i < kItems; ++i) worst = std::max(worst, std::abs(got_bi[i] - true_bi[i]));
  EXPECT_LT(worst, 0.02);
  EXPECT_LT(f.rmse(*m), 0.01);
}

TEST(BiasedMf, WithoutBiasesTheBiasesStayZero) {
  Fixture f;
  auto m = f.model(mf_recipe({"model.use_biases=false"}));
  testing::epoch_losses(*m, 0, 20);
  for (const char* name : {"user_bias", "item_bias"})
    for (float x : m->weights().at(name).to_vector<float>()) ASSERT_EQ(x, 0.0f) << name;
  EXPECT_LT(f.rmse(*m), f.mean_baseline());
}

TEST(BiasedMf, RunsRepeatBitForBitWhateverTheThreadCount) {
  Fixture f;
  for (const char* optimizer : {"train.optimizer=sgd", "train.optimizer=adam"}) {
    const recipe::Recipe r = mf_recipe({optimizer});
    auto a = f.model(r);
    testing::epoch_losses(*a, 0, 3);
    std::unique_ptr<train::Model> b;
    const bool ran = testing::with_omp_threads(1, [&] {
      b = f.model(r);
      testing::epoch_losses(*b, 0, 3);
    });
    if (!ran) {
      b = f.model(r);
      testing::epoch_losses(*b, 0, 3);
    }
    SCOPED_TRACE(optimizer);
    expect_bit_identical(a->state(), b->state());
  }
}

TEST(BiasedMf, ResumesBitIdenticallyAfterAnEpochAndMidEpoch) {
  Fixture f;
  for (const char* optimizer : {"train.optimizer=sgd", "train.optimizer=adam"}) {
    SCOPED_TRACE(optimizer);
    const recipe::Recipe r = mf_recipe({optimizer, "train.batch_size=100"});
    auto straight = f.model(r);
    testing::epoch_losses(*straight, 0, 3);

    // Stopped after epoch 1, restored into a fresh model.
    auto first = f.model(r);
    testing::epoch_losses(*first, 0, 2);
    auto resumed = f.model(r, Device::cpu(), /*seed=*/3);
    resumed->load_state(cloned(first->state()));
    testing::epoch_losses(*resumed, 2, 3);
    expect_bit_identical(straight->state(), resumed->state());

    // Stopped inside epoch 2 after step 1, restored, finished from step 2.
    auto partial = f.model(r);
    testing::epoch_losses(*partial, 0, 2);
    ASSERT_GT(partial->steps_per_epoch(), 3);
    partial->train_steps(2, 0, [](const train::StepReport& s) { return s.step < 1; });
    auto rest = f.model(r);
    rest->load_state(cloned(partial->state()));
    rest->train_steps(2, 2, [](const train::StepReport&) { return true; });
    expect_bit_identical(straight->state(), rest->state());
  }
}

TEST(BiasedMf, StateHoldsTheWeightsAndTheOptimizer) {
  Fixture f;
  auto sgd = f.model(mf_recipe());
  const auto w = sgd->weights();
  for (const char* name : {"user_factors", "item_factors", "user_bias", "item_bias", "global_mean", "rating_range"})
    ASSERT_TRUE(w.count(name)) << name;
  EXPECT_EQ(w.at("user_factors").shape(), (Shape{kUsers, 8}));
  EXPECT_EQ(w.at("item_bias").shape(), (Shape{kItems}));
  EXPECT_EQ(sgd->state().size(), w.size());  // per-rating SGD keeps nothing else

  auto adam = f.model(mf_recipe({"train.optimizer=adam"}));
  testing::epoch_losses(*adam, 0, 1);
  const auto s = adam->state();
  for (const auto& [name, t] : adam->weights()) EXPECT_TRUE(s.at(name).shares_storage(t)) << name;
  EXPECT_TRUE(s.count("optimizer.step"));
  EXPECT_TRUE(s.count("optimizer.param0.exp_avg"));
  // A checkpoint (with optimizer tensors) loads for serving.
  auto served = train::create_model("mf");
  served->load_weights(s, Device::cpu());
  EXPECT_EQ(served->dimensions().at("factors"), 8);
}

TEST(BiasedMf, LoadedWeightsPredictAndScoreIdentically) {
  Fixture f;
  auto m = f.model(mf_recipe());
  testing::epoch_losses(*m, 0, 5);
  auto served = train::create_model("mf");
  served->load_weights(cloned(m->weights()), Device::cpu());
  const Tensor users = f.data.split.test.users, items = f.data.split.test.items;
  expect_bit_identical({{"predict", m->predict(users, items)}}, {{"predict", served->predict(users, items)}});
  const Tensor some = Tensor::from_vector(std::vector<int64_t>{0, 7, 149});
  expect_bit_identical({{"scores", m->score_users(some)}}, {{"scores", served->score_users(some)}});
  EXPECT_EQ(served->dimensions(), m->dimensions());
}

TEST(BiasedMf, PredictionsAreClampedToTheTrainingRangeAndScoresAreNot) {
  Fixture f;
  auto m = f.model(mf_recipe());
  testing::epoch_losses(*m, 0, 5);
  auto w = cloned(m->weights());
  const auto range = w.at("rating_range").to_vector<float>();
  w.at("global_mean").fill_(100.0);  // every raw prediction far above the range
  auto served = train::create_model("mf");
  served->load_weights(w, Device::cpu());
  const Tensor u = Tensor::from_vector(std::vector<int64_t>{0, 1}), i = Tensor::from_vector(std::vector<int64_t>{2, 3});
  for (float p : served->predict(u, i).to_vector<float>()) EXPECT_EQ(p, range[1]);
  for (float s : served->score_users(u).to_vector<float>()) EXPECT_GT(s, 90.0f);

  w.erase("rating_range");  // no range: predictions are the raw sums
  served->load_weights(w, Device::cpu());
  for (float p : served->predict(u, i).to_vector<float>()) EXPECT_GT(p, 90.0f);
}

TEST(BiasedMf, ScoresAreThePredictionsOfEveryItem) {
  Fixture f;
  auto m = f.model(mf_recipe({"model.init_std=0.01"}));  // keeps raw predictions inside the range
  testing::epoch_losses(*m, 0, 2);
  const Tensor users = Tensor::from_vector(std::vector<int64_t>{4, 4, 4, 9}),
               items = Tensor::from_vector(std::vector<int64_t>{0, 50, 99, 13});
  const auto p = m->predict(users, items).to_vector<float>();
  const auto s = m->score_users(Tensor::from_vector(std::vector<int64_t>{4, 9})).to_vector<float>();
  EXPECT_NEAR(p[0], s[0], 1e-5);
  EXPECT_NEAR(p[1], s[50], 1e-5);
  EXPECT_NEAR(p[2], s[99], 1e-5);
  EXPECT_NEAR(p[3], s[kItems + 13], 1e-5);
}

TEST(BiasedMf, BadKeysAndTensorsAreNamed) {
  EXPECT_MESSAGE_HAS(error_message([] { mf_recipe({"model.factors=0"}); }), "model.factors");
  EXPECT_MESSAGE_HAS(error_message([] { mf_recipe({"train.optimizer=rmsprop"}); }), "train.optimizer");
  EXPECT_MESSAGE_HAS(error_message([] { mf_recipe({"model.regularisation=1"}); }), "model.regularisation");
  auto configure = [](std::vector<std::string> sets) {
    return error_message([&] { train::create_model("mf")->configure(mf_recipe(sets)); });
  };
  EXPECT_MESSAGE_HAS(configure({"train.lr=0"}), "train.lr");
  EXPECT_MESSAGE_HAS(configure({"train.lr_decay=0"}), "train.lr_decay");
  EXPECT_MESSAGE_HAS(configure({"train.optimizer=adam", "train.sgd_mode=per_rating"}), "train.sgd_mode");

  Fixture f;
  // Per-rating SGD is refused on CUDA before anything is allocated there.
  auto m = train::create_model("mf");
  m->configure(mf_recipe({"train.sgd_mode=per_rating"}));
  EXPECT_MESSAGE_HAS(error_message([&] {
                       m->setup({f.data.split.train, nullptr, kUsers, kItems},
                                train::ModelContext{Device::cuda(0), 1, f.comm.get()});
                     }),
                     "train.sgd_mode");
  // Hogwild is the CUDA kernel; the CPU has per_rating.
  auto h = train::create_model("mf");
  h->configure(mf_recipe({"train.sgd_mode=hogwild"}));
  EXPECT_MESSAGE_HAS(error_message([&] {
                       h->setup({f.data.split.train, nullptr, kUsers, kItems},
                                train::ModelContext{Device::cpu(), 1, f.comm.get()});
                     }),
                     "train.sgd_mode");
  EXPECT_MESSAGE_HAS(configure({"train.optimizer=adam", "train.sgd_mode=hogwild"}), "train.sgd_mode");

  auto adam = f.model(mf_recipe({"train.optimizer=adam"}));
  auto state = cloned(adam->state());
  state.erase("optimizer.param1.exp_avg_sq");
  EXPECT_MESSAGE_HAS(error_message([&] { adam->load_state(state); }), "optimizer.param1.exp_avg_sq");
  state = cloned(adam->state());
  state["item_factors"] = Tensor::zeros({kItems, 9});
  EXPECT_MESSAGE_HAS(error_message([&] { adam->load_state(state); }), "item_factors");

  auto weights = cloned(adam->weights());
  weights["user_bias"] = Tensor::zeros({kUsers + 1});
  auto served = train::create_model("mf");
  try {
    served->load_weights(weights, Device::cpu());
    ADD_FAILURE() << "a mis-shaped user_bias loaded";
  } catch (const ArtifactError& e) {
    EXPECT_MESSAGE_HAS(std::string(e.what()), "user_bias");
  }
  weights["user_bias"] = Tensor::zeros({kUsers});
  weights.erase("global_mean");
  EXPECT_MESSAGE_HAS(error_message([&] { served->load_weights(weights, Device::cpu()); }), "global_mean");
}

TEST(BiasedMf, DescribesItself) {
  Fixture f;
  auto m = f.model(mf_recipe({"train.optimizer=adam"}));
  EXPECT_EQ(m->type(), "mf");
  EXPECT_EQ(m->feedback(), train::Feedback::ratings);
  EXPECT_MESSAGE_HAS(m->hyperparameters_json(), "\"optimizer\":\"adam\"");
  EXPECT_MESSAGE_HAS(m->hyperparameters_json(), "\"lr\":0.005");  // adam's default
  EXPECT_EQ(m->dimensions().at("users"), kUsers);
  EXPECT_EQ(m->steps_per_epoch(), (f.data.split.train.size() + 499) / 500);
}

// ---- CUDA, with CPU twins (skipped without a GPU) -------------------------------------------

TEST(BiasedMfCuda, AdamAndMinibatchSgdMatchTheCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Fixture f;
  for (const char* optimizer : {"train.optimizer=adam", "train.sgd_mode=minibatch"}) {
    SCOPED_TRACE(optimizer);
    auto cpu = f.model(mf_recipe({optimizer}));
    auto gpu = f.model(mf_recipe({optimizer}), testing::gpu());
    const auto cpu_losses = testing::epoch_losses(*cpu, 0, 3), gpu_losses = testing::epoch_losses(*gpu, 0, 3);
    for (size_t e = 0; e < cpu_losses.size(); ++e) EXPECT_NEAR(cpu_losses[e], gpu_losses[e], 1e-4);
    const auto a = cpu->state(), b = gpu->state();
    for (const auto& [name, t] : a) EXPECT_TRUE(testing::all_close(b.at(name), t, 1e-4, 1e-5)) << name;
    EXPECT_NEAR(f.rmse(*cpu), f.rmse(*gpu), 1e-4);
  }
}

TEST(BiasedMfCuda, ServesOnCudaLikeOnTheCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Fixture f;
  auto m = f.model(mf_recipe());
  testing::epoch_losses(*m, 0, 5);
  auto on_gpu = train::create_model("mf");
  on_gpu->load_weights(m->weights(), testing::gpu());
  const Tensor users = f.data.split.test.users, items = f.data.split.test.items;
  EXPECT_TRUE(testing::all_close(on_gpu->predict(users.to(testing::gpu()), items.to(testing::gpu())),
                                 m->predict(users, items), 1e-5, 1e-5));
  const Tensor some = Tensor::from_vector(std::vector<int64_t>{0, 7, 149});
  EXPECT_TRUE(testing::all_close(on_gpu->score_users(some.to(testing::gpu())), m->score_users(some), 1e-5, 1e-5));
}

// ---- the Hogwild kernel against sequential_sgd --------------------------------------------

// The four tables of the kernel tests, in host memory.
struct HostTables {
  int64_t users = 0, items = 0, factors = 0;
  std::vector<float> p, q, bu, bi;
  Tables view() { return {p.data(), q.data(), bu.data(), bi.data(), factors}; }
};

HostTables random_tables(int64_t users, int64_t items, int64_t factors, double factor_std, double bias_std,
                         Generator& gen) {
  HostTables t{users, items, factors, std::vector<float>(users * factors), std::vector<float>(items * factors),
               std::vector<float>(users), std::vector<float>(items)};
  for (auto* v : {&t.p, &t.q}) for (float& x : *v) x = static_cast<float>(factor_std * normal(gen));
  for (auto* v : {&t.bu, &t.bi}) for (float& x : *v) x = static_cast<float>(bias_std * normal(gen));
  return t;
}

double dot(const HostTables& t, const PackedRating& r) {
  double d = 0;
  for (int64_t f = 0; f < t.factors; ++f) d += double{t.p[r.user * t.factors + f]} * t.q[r.item * t.factors + f];
  return d;
}

// The Hogwild kernel on a cuda:0 copy of `t`: the updated tables and the sum of e^2.
std::pair<HostTables, double> hogwild_on_gpu(const HostTables& t, const std::vector<PackedRating>& ratings,
                                             const SgdHyper& h) {
  const Device g = testing::gpu();
  const Tensor p = Tensor::from_vector(t.p, g), q = Tensor::from_vector(t.q, g), bu = Tensor::from_vector(t.bu, g),
               bi = Tensor::from_vector(t.bi, g);
  const auto n = static_cast<int64_t>(ratings.size());
  const Tensor r = Tensor::from_host(ratings.data(), {n, 3}, DType::i32, g);
  [[maybe_unused]] const Tables tables{p.data<float>(), q.data<float>(), bu.data<float>(), bi.data<float>(), t.factors};
  double sum_sq = 0;
  [[maybe_unused]] const auto* on_device = reinterpret_cast<const PackedRating*>(r.data<int32_t>());
  AISLE_CUDA_ONLY("hogwild_sgd", sum_sq = cuda::hogwild_sgd(0, tables, t.users, t.items, on_device, n, h));
  HostTables out = t;
  out.p = p.to_vector<float>();
  out.q = q.to_vector<float>();
  out.bu = bu.to_vector<float>();
  out.bi = bi.to_vector<float>();
  return {out, sum_sq};
}

void expect_tables_close(const HostTables& got, const HostTables& want) {
  const std::pair<const char*, std::pair<const std::vector<float>*, const std::vector<float>*>> tables[] = {
      {"user_factors", {&got.p, &want.p}}, {"item_factors", {&got.q, &want.q}},
      {"user_bias", {&got.bu, &want.bu}}, {"item_bias", {&got.bi, &want.bi}}};
  for (const auto& [name, pair] : tables)
    EXPECT_TRUE(testing::all_close(Tensor::from_vector(*pair.first), Tensor::from_vector(*pair.second), 1e-5, 1e-6))
        << name;
}

// Ids in [0, n) with P(id) proportional to 1 / (id + 1)^s: the first ids take most draws.
std::vector<int32_t> zipf_ids(int64_t count, int64_t n, double s, Generator& gen) {
  std::vector<double> cdf(static_cast<size_t>(n));
  double total = 0;
  for (int64_t i = 0; i < n; ++i) cdf[static_cast<size_t>(i)] = total += std::pow(static_cast<double>(i + 1), -s);
  std::vector<int32_t> ids(static_cast<size_t>(count));
  for (int32_t& id : ids) {
    const auto it = std::lower_bound(cdf.begin(), cdf.end(), gen.next_double() * total);
    id = static_cast<int32_t>(std::min<int64_t>(it - cdf.begin(), n - 1));
  }
  return ids;
}

// When no two ratings share a user or an item nothing races, and the kernel must apply exactly
// sequential_sgd's updates: float4 widths with full and partial groups (4, 48, 64, 128), and the
// generic warp path (13, 160), with and without biases.
TEST(BiasedMfCuda, HogwildIsSequentialSgdWhenNoRowIsShared) {
  AISLE_SKIP_WITHOUT_CUDA();
  constexpr int64_t users = 700, items = 500, count = 400;
  for (int64_t factors : {64, 13, 4, 48, 128, 160}) {
    for (bool biases : {true, false}) {
      SCOPED_TRACE(detail::concat("factors ", factors, biases ? " with biases" : " without biases"));
      Generator gen(static_cast<uint64_t>(31 + factors));
      const HostTables start = random_tables(users, items, factors, 0.3, 0.2, gen);
      std::vector<int32_t> us(users), is(items);
      std::iota(us.begin(), us.end(), 0);
      std::iota(is.begin(), is.end(), 0);
      for (auto* ids : {&us, &is})
        for (size_t k = ids->size() - 1; k > 0; --k)
          std::swap((*ids)[k], (*ids)[static_cast<size_t>(gen.next_below(k + 1))]);
      std::vector<PackedRating> ratings;
      for (int64_t k = 0; k < count; ++k)
        ratings.push_back({us[static_cast<size_t>(k)], is[static_cast<size_t>(k)],
                           static_cast<float>(1 + gen.next_below(5))});
      const SgdHyper h{.lr = 0.05f, .reg = 0.05f, .reg_bias = 0.02f, .global_mean = 3.0f, .use_biases = biases};
      HostTables cpu = start;
      const double cpu_sq = sequential_sgd(cpu.view(), ratings.data(), count, h);
      const auto [gpu, gpu_sq] = hogwild_on_gpu(start, ratings, h);
      EXPECT_NEAR(gpu_sq, cpu_sq, 1e-5 * cpu_sq);
      expect_tables_close(gpu, cpu);
    }
  }
}

// A Zipf-skewed batch: the hottest items and users appear thousands of times, so many ratings in
// flight share rows and race. The tables start at the ones that generated the ratings (plus
// noise of variance 0.25), so a pass changes them little and lost updates can only perturb the
// errors: the sum of e^2 must stay within 1% of sequential SGD's, and near 0.25 per rating (an
// error computed without the biases or the dot product would be far off).
TEST(BiasedMfCuda, HogwildRacesOnSkewedBatchesOnlyPerturb) {
  AISLE_SKIP_WITHOUT_CUDA();
  constexpr int64_t users = 5000, items = 1000, count = 200000;
  for (int64_t factors : {64, 13}) {
    SCOPED_TRACE(detail::concat("factors ", factors));
    Generator gen(static_cast<uint64_t>(77 + factors));
    const HostTables truth = random_tables(users, items, factors, 0.15, 0.5, gen);
    const std::vector<int32_t> us = zipf_ids(count, users, 0.8, gen), is = zipf_ids(count, items, 1.1, gen);
    ASSERT_GT(std::count(is.begin(), is.end(), 0), 10000);  // the batch really is skewed
    std::vector<PackedRating> ratings;
    for (size_t k = 0; k < static_cast<size_t>(count); ++k) {
      PackedRating r{us[k], is[k], 0.0f};
      r.value = static_cast<float>(3.0 + truth.bu[r.user] + truth.bi[r.item] + dot(truth, r) + 0.5 * normal(gen));
      ratings.push_back(r);
    }
    const SgdHyper h{.lr = 0.002f, .reg = 0.001f, .reg_bias = 0.001f, .global_mean = 3.0f, .use_biases = true};
    HostTables cpu = truth;
    const double cpu_sq = sequential_sgd(cpu.view(), ratings.data(), count, h);
    const auto [gpu, gpu_sq] = hogwild_on_gpu(truth, ratings, h);
    for (const auto* v : {&gpu.p, &gpu.q, &gpu.bu, &gpu.bi})
      for (float x : *v) ASSERT_TRUE(std::isfinite(x));
    EXPECT_NEAR(gpu_sq, cpu_sq, 0.01 * cpu_sq);
    EXPECT_NEAR(gpu_sq / count, 0.25, 0.025);
  }
}

// One rating per step leaves nothing to run concurrently: the CUDA path is then sequential SGD,
// follows the CPU's per_rating run, and resumes mid-epoch bit for bit (each step's kernel is
// deterministic).
TEST(BiasedMfCuda, HogwildWithOneRatingPerStepIsSequentialAndResumes) {
  AISLE_SKIP_WITHOUT_CUDA();
  Fixture f;
  const recipe::Recipe r = mf_recipe({"train.batch_size=1", "train.sgd_mode=hogwild"});
  auto straight = f.model(r, testing::gpu());
  const auto gpu_losses = testing::epoch_losses(*straight, 0, 2);
  auto cpu = f.model(mf_recipe({"train.batch_size=1"}));
  const auto cpu_losses = testing::epoch_losses(*cpu, 0, 2);
  for (size_t e = 0; e < cpu_losses.size(); ++e) EXPECT_NEAR(gpu_losses[e], cpu_losses[e], 1e-4 * cpu_losses[e]);
  const auto a = cpu->state(), b = straight->state();
  for (const auto& [name, t] : a) EXPECT_TRUE(testing::all_close(b.at(name), t, 1e-4, 1e-5)) << name;

  auto partial = f.model(r, testing::gpu());
  testing::epoch_losses(*partial, 0, 1);
  partial->train_steps(1, 0, [](const train::StepReport& s) { return s.step < 99; });
  auto rest = f.model(r, testing::gpu());
  rest->load_state(cloned(partial->state()));
  rest->train_steps(1, 100, [](const train::StepReport&) { return true; });
  expect_bit_identical(straight->state(), rest->state());
}

// The model on CUDA picks Hogwild by itself and learns the planted matrix as well as the CPU.
// Steps of 32: a step's ratings all run at once, and on this small table larger steps share rows
// so often that lost updates slow learning (in a CPU simulation of fully concurrent steps the
// test RMSE after 40 epochs was 0.137 at 32, 0.144 at 64 and 1.22 at 500, against 0.135
// sequentially).
TEST(BiasedMfCuda, HogwildLearnsLikeTheCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Fixture f;
  const recipe::Recipe r = mf_recipe({"train.batch_size=32"});
  auto cpu = f.model(r);
  auto gpu = f.model(r, testing::gpu());
  EXPECT_MESSAGE_HAS(gpu->hyperparameters_json(), "\"updates\":\"hogwild\"");
  testing::epoch_losses(*cpu, 0, 40);
  const std::vector<double> losses = testing::epoch_losses(*gpu, 0, 40);
  EXPECT_LT(losses.back(), 0.05 * losses.front());
  for (const auto& [name, t] : gpu->weights())
    for (double x : t.to_doubles()) ASSERT_TRUE(std::isfinite(x)) << name;
  EXPECT_NEAR(f.rmse(*gpu), f.rmse(*cpu), 0.02);
}

}  // namespace
}  // namespace aisle::models::biased_mf
