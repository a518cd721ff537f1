// BPR-MF (model.type: bpr): it learns a planted taste structure better than popularity, draws
// only true negatives, runs the fused CPU step, the fused CUDA step and the autograd step to the
// same numbers, resumes bit-identically after an epoch or mid-epoch, and round-trips its weights.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>

#include "aisle/data/split.hpp"
#include "aisle/dist/communicator.hpp"
#include "aisle/eval/full_ranking.hpp"
#include "aisle/models/bpr_mf.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/optim.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "src/models/bpr_mf/model.hpp"
#include "support/omp_threads.hpp"
#include "support/model_testing.hpp"
#include "support/testing.hpp"

namespace aisle::models::bpr {
namespace {

using testing::error_message;

constexpr int64_t kUsers = 400, kItems = 240;  // testing::planted_taste_split's defaults
using testing::planted_taste_split;

recipe::Recipe bpr_recipe(const std::string& model_keys = "", const std::string& train_keys = "") {
  const std::string factors = model_keys.find("factors") == std::string::npos ? ", factors: 16" : "";
  return recipe::Recipe::load_text("data: {path: unused}\nmodel: {type: bpr" + factors + model_keys +
                                       "}\ntrain: {lr: 0.02, batch_size: 256" + train_keys + "}\n",
                                   "test.yaml", {}, train::training_schema());
}

struct Fixture {
  data::Split split = planted_taste_split(7);
  std::shared_ptr<const data::UserItemIndex> train_index = std::make_shared<data::UserItemIndex>(split.train);
  std::unique_ptr<dist::Communicator> comm = dist::make_local_communicator();

  train::TrainingData training() const { return {split.train, train_index, kUsers, kItems}; }

  std::unique_ptr<BprMf> model(const recipe::Recipe& r, Kernel kernel = Kernel::automatic,
                               Device device = Device::cpu(), uint64_t seed = 11) const {
    auto m = std::make_unique<BprMf>();
    m->configure(r);
    m->use_kernel(kernel);
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

TEST(BprMf, LearnsPlantedTastesBetterThanPopularity) {
  const Fixture fx;
  auto m = train::create_model("bpr");
  m->configure(bpr_recipe());
  m->setup(fx.training(), train::ModelContext{Device::cpu(), 3, fx.comm.get()});
  const std::vector<double> losses = testing::epoch_losses(*m, 0, 15);
  EXPECT_NEAR(losses.front(), std::log(2.0), 0.05) << "random init starts at log 2";
  EXPECT_LT(losses.back(), 0.6 * losses.front());
  // Stochastic steps and the L2 term let an epoch's mean wobble, but never by much.
  for (size_t e = 1; e < losses.size(); ++e) EXPECT_LT(losses[e], losses[e - 1] + 0.01) << "epoch " << e;

  const Tensor counts = [&] {
    std::vector<float> c(kItems, 0.0f);
    for (int64_t i : fx.split.train.items.to_vector<int64_t>()) c[static_cast<size_t>(i)] += 1;
    return Tensor::from_vector(c);
  }();
  const eval::EvalResult popularity = fx.evaluate([&](const Tensor& users) {
    return ops::broadcast_to(counts.reshape({1, kItems}), {users.numel(), kItems});
  });
  const eval::EvalResult bpr = fx.evaluate([&](const Tensor& users) { return m->score_users(users); });
  // About 0.47 vs 0.12 Recall@10 (and 0.37 vs 0.09 NDCG@10) when written.
  EXPECT_GT(bpr.at("Recall@10"), 2 * popularity.at("Recall@10"));
  EXPECT_GT(bpr.at("NDCG@10"), 2 * popularity.at("NDCG@10"));
}

TEST(BprMf, StepsCoverEveryRowOnceWithTrueNegatives) {
  const Fixture fx;
  auto m = fx.model(bpr_recipe("", ", negatives: 3"));
  const int64_t rows = fx.split.train.size();
  ASSERT_EQ(m->steps_per_epoch(), (rows + 255) / 256);
  for (int64_t epoch : {0, 1}) {
    std::multiset<std::pair<int64_t, int64_t>> seen;
    for (int64_t s = 0; s < m->steps_per_epoch(); ++s) {
      const BatchIds ids = m->batch_ids(epoch, s);
      const auto users = ids.users.to_vector<int64_t>(), items = ids.items.to_vector<int64_t>();
      const auto negs = ids.negatives.to_vector<int64_t>();
      ASSERT_EQ(ids.negatives.shape(), (Shape{ids.users.numel(), 3}));
      for (size_t b = 0; b < users.size(); ++b) {
        seen.emplace(users[b], items[b]);
        for (int64_t c = 0; c < 3; ++c)
          EXPECT_FALSE(fx.train_index->contains(users[b], negs[b * 3 + static_cast<size_t>(c)]))
              << "negative " << negs[b * 3 + static_cast<size_t>(c)] << " of user " << users[b] << " is a positive";
      }
    }
    std::multiset<std::pair<int64_t, int64_t>> expected;
    const auto u = fx.split.train.users.to_vector<int64_t>(), i = fx.split.train.items.to_vector<int64_t>();
    for (size_t r = 0; r < u.size(); ++r) expected.emplace(u[r], i[r]);
    EXPECT_EQ(seen, expected) << "epoch " << epoch;
  }
  // Epochs are shuffled differently, and a step's ids depend on (seed, epoch, step) only.
  EXPECT_FALSE(testing::all_close(m->batch_ids(0, 0).users, m->batch_ids(1, 0).users));
  auto other = fx.model(bpr_recipe("", ", negatives: 3"));
  const BatchIds a = m->batch_ids(1, 2), b = other->batch_ids(1, 2);
  EXPECT_TRUE(testing::all_close(a.users, b.users));
  EXPECT_TRUE(testing::all_close(a.negatives, b.negatives));
}

// The fused CPU step and the tape compute the same loss and the same coalesced row gradients.
TEST(BprMf, FusedGradientsMatchAutograd) {
  const Fixture fx;
  for (const bool bias : {false, true}) {
    for (const int64_t k : {1, 3}) {
      SCOPED_TRACE(::testing::Message() << "item_bias " << bias << ", negatives " << k);
      auto m = fx.model(bpr_recipe(bias ? ", item_bias: true, reg: 0.01" : ", reg: 0.01",
                                   ", negatives: " + std::to_string(k)));
      // Train a little first so the tables (and the bias) are not at their initial values.
      testing::epoch_losses(*m, 0, 2);
      const BatchIds ids = m->batch_ids(2, 1);
      const Gradients fused = fused_backward_cpu(m->params(), ids, 0.01);
      const Gradients tape = autograd_backward(m->params(), ids, 0.01);
      EXPECT_NEAR(fused.loss, tape.loss, 1e-6 * std::abs(tape.loss));
      ASSERT_EQ(fused.rows.size(), bias ? 3u : 2u);
      ASSERT_EQ(tape.rows.size(), fused.rows.size());
      for (size_t t = 0; t < fused.rows.size(); ++t) {
        EXPECT_TRUE(testing::all_close(fused.rows[t].indices, tape.rows[t].indices)) << "table " << t;
        EXPECT_TRUE(testing::all_close(fused.rows[t].rows, tape.rows[t].rows, 1e-4, 1e-8)) << "table " << t;
      }
      for (const Var& leaf : {m->params().user_factors, m->params().item_factors})
        EXPECT_FALSE(leaf.has_grad()) << "the tape's gradients stay behind in " << leaf.name();
    }
  }
}

// Whole epochs agree too: the two kernels feed the same optimizer (SGD here, linear in the
// gradient, so rounding differences stay rounding-sized).
TEST(BprMf, FusedTrainingMatchesAutogradTraining) {
  const Fixture fx;
  for (const char* optimizer : {"sgd", "adam"}) {
    SCOPED_TRACE(optimizer);
    const recipe::Recipe r = bpr_recipe(", item_bias: true", std::string(", optimizer: ") + optimizer);
    auto fused = fx.model(r, Kernel::fused);
    auto tape = fx.model(r, Kernel::autograd);
    const auto fused_losses = testing::epoch_losses(*fused, 0, 2), tape_losses = testing::epoch_losses(*tape, 0, 2);
    EXPECT_NEAR(fused_losses.back(), tape_losses.back(), 1e-5);
    for (const auto& [name, t] : fused->weights())
      EXPECT_TRUE(testing::all_close(t, tape->weights().at(name), 1e-3, 2e-5)) << name;
  }
}

constexpr const char* kOptimizers[] = {"adam", "adagrad", "rowwise_adagrad", "sgd"};

// The CPU row loops of RowOptimizer give the op catalogue's sparse updates bit for bit, on a
// table and on a bias (1-D: each element a row).
TEST(BprMf, RowOptimizerMatchesSparseUpdateKernels) {
  Generator gen(5);
  for (const std::string kind : kOptimizers) {
    for (const Shape& shape : {Shape{50, 13}, Shape{50}}) {
      SCOPED_TRACE(kind + ", table " + shape_str(shape));
      Shape rows_shape = shape;
      rows_shape[0] = 5;
      Tensor mine = testing::random_tensor(shape, gen, DType::f32);
      Tensor reference = mine.clone();
      Tensor first = Tensor::zeros(kind == "rowwise_adagrad" ? Shape{50} : shape), second = Tensor::zeros(shape);
      RowOptimizer opt(kind, 0.05, {{"t", mine}});
      for (int64_t step = 1; step <= 3; ++step) {
        const ops::SparseRows g{Tensor::from_vector(std::vector<int64_t>{1, 4, 5, 17, 49}),
                                testing::random_tensor(rows_shape, gen, DType::f32)};
        opt.step({g});
        if (kind == "adam")
          ops::sparse_adam_update(reference, g, first, second, ops::SparseAdamHyper{.lr = 0.05, .step = step});
        else if (kind == "adagrad")
          ops::sparse_adagrad_update(reference, g, first, ops::AdagradHyper{.lr = 0.05});
        else if (kind == "rowwise_adagrad")
          ops::rowwise_adagrad_update(reference, g, first, ops::RowWiseAdagradHyper{.lr = 0.05});
        else
          ops::sparse_sgd_update(reference, g, 0.05);
      }
      EXPECT_EQ(0, std::memcmp(mine.raw_data(), reference.raw_data(), mine.nbytes()));
      EXPECT_EQ(opt.steps(), 3);
      const auto state = opt.state();
      ASSERT_EQ(state.size(), kind == "adam" ? 3u : kind == "sgd" ? 1u : 2u);
      if (state.size() > 1) {
        EXPECT_EQ(state[1].second.shape(), first.shape()) << state[1].first;
        EXPECT_EQ(0, std::memcmp(state[1].second.raw_data(), first.raw_data(), first.nbytes())) << state[1].first;
      }
      if (kind == "rowwise_adagrad") {
        EXPECT_EQ(state[1].first, "t.row_sum");
      }
    }
  }
}

// Occurrence rows (ids repeating, out of order) give what coalescing them and stepping gives,
// bit for bit, for every optimizer: adam and rowwise_adagrad through the fused embedding-bag
// steps, sgd and adagrad through coalesce_rows; a table and a bias in one optimizer.
TEST(BprMf, OccurrenceStepsEqualCoalescedSteps) {
  Generator gen(testing::fresh_seed());
  for (const std::string kind : kOptimizers) {
    SCOPED_TRACE(kind);
    Tensor table = testing::random_tensor({30, 9}, gen, DType::f32), bias = testing::random_tensor({30}, gen, DType::f32);
    Tensor table_ref = table.clone(), bias_ref = bias.clone();
    RowOptimizer fused(kind, 0.05, {{"t", table}, {"b", bias}});
    RowOptimizer reference(kind, 0.05, {{"t", table_ref}, {"b", bias_ref}});
    EXPECT_EQ(fused.fuses_occurrences(), kind == "adam" || kind == "rowwise_adagrad");
    for (int step = 0; step < 3; ++step) {
      // 200 occurrences of 30 rows: every touched row repeats, some rows are never touched.
      const Tensor ids = testing::random_ids({200}, 25, gen);
      const Tensor rows = testing::random_tensor({200, 9}, gen, DType::f32);
      const Tensor bias_rows = testing::random_tensor({200}, gen, DType::f32);
      fused.step_occurrences({{ids, rows}, {ids, bias_rows}});
      reference.step({ops::coalesce_rows(ids, rows), ops::coalesce_rows(ids, bias_rows)});
    }
    EXPECT_EQ(0, std::memcmp(table.raw_data(), table_ref.raw_data(), table.nbytes()));
    EXPECT_EQ(0, std::memcmp(bias.raw_data(), bias_ref.raw_data(), bias.nbytes()));
    const auto a = fused.state(), b = reference.state();
    ASSERT_EQ(a.size(), b.size());
    for (size_t e = 0; e < a.size(); ++e)
      EXPECT_EQ(0, std::memcmp(a[e].second.raw_data(), b[e].second.raw_data(), a[e].second.nbytes())) << a[e].first;
    EXPECT_EQ(fused.steps(), 3);
  }
}

TEST(BprMf, OccurrenceStepsRejectMismatchedRows) {
  Tensor table = Tensor::zeros({10, 4});
  RowOptimizer opt("rowwise_adagrad", 0.1, {{"t", table}});
  const Tensor ids = Tensor::from_vector(std::vector<int64_t>{1, 2, 1});
  EXPECT_MESSAGE_HAS(error_message([&] { opt.step_occurrences({{ids, Tensor::zeros({3, 5})}}); }),
                     "3 occurrences of table 't' come with rows [3, 5] f32 cpu, expected [3, 4]");
  EXPECT_MESSAGE_HAS(error_message([&] { opt.step_occurrences({{ids, Tensor::zeros({3, 4})}, {ids, Tensor::zeros({3, 4})}}); }),
                     "2 gradients for 1 tables");
  EXPECT_MESSAGE_HAS(error_message([&] {
                       opt.step_occurrences({{Tensor::from_vector(std::vector<int64_t>{1, 10, 1}), Tensor::zeros({3, 4})}});
                     }),
                     "10");
  EXPECT_EQ(opt.steps(), 0) << "a refused step is not counted";
}

TEST(BprMf, DeterministicAcrossRunsAndThreadCounts) {
  const Fixture fx;
  // Batches large enough for the fused step to split its passes between threads.
  const recipe::Recipe r = bpr_recipe(", item_bias: true, factors: 256", ", negatives: 2, batch_size: 2500");
  testing::expect_deterministic_over_threads([&] { return fx.model(r); });
}

TEST(BprMf, ResumesBitIdenticallyAfterAnEpochAndMidEpoch) {
  const Fixture fx;
  for (const char* optimizer : {"adam", "adagrad", "rowwise_adagrad"}) {
    SCOPED_TRACE(optimizer);
    const recipe::Recipe r = bpr_recipe(", item_bias: true", std::string(", optimizer: ") + optimizer);
    testing::expect_exact_resume([&] { return fx.model(r); });
  }
}

TEST(BprMf, WeightsRoundTripAndScoreIdentically) {
  const Fixture fx;
  for (const bool bias : {false, true}) {
    auto m = fx.model(bpr_recipe(bias ? ", item_bias: true" : ""));
    testing::epoch_losses(*m, 0, 2);
    const auto w = m->weights();
    EXPECT_EQ(w.size(), bias ? 3u : 2u);
    EXPECT_EQ(w.at("user_factors").shape(), (Shape{kUsers, 16}));
    EXPECT_EQ(w.at("item_factors").shape(), (Shape{kItems, 16}));
    if (bias) {
      EXPECT_EQ(w.at("item_bias").shape(), (Shape{kItems}));
    }
    for (const auto& [name, t] : w) EXPECT_TRUE(m->state().count(name)) << "state() lacks weight " << name;

    // An exported checkpoint: load_weights takes state() and ignores the optimizer tensors.
    for (const auto& source : {snapshot(w), snapshot(m->state())}) {
      auto served = train::create_model("bpr");
      served->load_weights(source, Device::cpu());
      const Tensor users = Tensor::from_vector(std::vector<int64_t>{0, 5, 399, 5});
      const Tensor a = m->score_users(users), b = served->score_users(users);
      ASSERT_EQ(b.shape(), (Shape{4, kItems}));
      EXPECT_EQ(0, std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()));
      EXPECT_EQ(served->dimensions().at("factors"), 16);
      EXPECT_EQ(served->dimensions().at("items"), kItems);
    }
  }
}

TEST(BprMf, BadWeightsAndStatesNameTheTensor) {
  const Fixture fx;
  auto m = fx.model(bpr_recipe());
  auto w = snapshot(m->weights());
  auto served = train::create_model("bpr");
  w.erase("item_factors");
  EXPECT_MESSAGE_HAS(testing::artifact_error_message([&] { served->load_weights(w, Device::cpu()); }),
                     "'item_factors' is missing");
  w["item_factors"] = Tensor::zeros({kItems, 15});
  EXPECT_MESSAGE_HAS(error_message([&] { served->load_weights(w, Device::cpu()); }),
                     "'item_factors' has shape [240, 15]");

  auto state = snapshot(m->state());
  state.erase("optimizer.item_factors.exp_avg_sq");
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "optimizer.item_factors.exp_avg_sq");
  state = snapshot(m->state());
  state["user_factors"] = Tensor::zeros({kUsers + 1, 16});
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "'user_factors' has shape [401, 16]");
  state = snapshot(m->state());
  state["item_bias"] = Tensor::zeros({kItems});
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "'item_bias' is not part of this model");
}

TEST(BprMf, BadKeysNameTheKey) {
  auto load = [](const std::string& yaml) {
    return error_message([&] { recipe::Recipe::load_text(yaml, "test.yaml", {}, train::training_schema()); });
  };
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: bpr, factors: 0}\n"), "model.factors");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: bpr}\ntrain: {optimizer: rmsprop}\n"), "train.optimizer");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: bpr}\ntrain: {negative_sampling: hard}\n"),
                     "train.negative_sampling");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: bpr, factor: 8}\n"), "model.factor");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: bpr, reg: -1}\n"), "model.reg");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: bpr}\ntrain: {negatives: 0}\n"), "train.negatives");
  BprMf m;
  EXPECT_MESSAGE_HAS(error_message([&] { m.configure(bpr_recipe("", ", lr: 0")); }), "train.lr");
}

TEST(BprMf, DescribesItself) {
  const Fixture fx;
  auto m = fx.model(bpr_recipe(", item_bias: true"));
  EXPECT_EQ(m->type(), "bpr");
  EXPECT_EQ(m->feedback(), train::Feedback::implicit);
  EXPECT_EQ(m->dimensions().at("users"), kUsers);
  EXPECT_MESSAGE_HAS(m->hyperparameters_json(), "\"factors\":16");
  EXPECT_MESSAGE_HAS(m->hyperparameters_json(), "\"item_bias\":true");
  EXPECT_EQ(train::model_info("bpr").feedback, train::Feedback::implicit);
}

// The autograd step on CUDA (the op catalogue's kernels) follows the CPU's fused step to rounding
// (tables initialised from the same seed on the host).
TEST(BprMf, CudaMatchesCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Fixture fx;
  const recipe::Recipe r = bpr_recipe(", item_bias: true", ", negatives: 2");
  auto cpu = fx.model(r);
  auto gpu = fx.model(r, Kernel::autograd, testing::gpu());
  const auto cpu_losses = testing::epoch_losses(*cpu, 0, 2), gpu_losses = testing::epoch_losses(*gpu, 0, 2);
  EXPECT_NEAR(cpu_losses.back(), gpu_losses.back(), 1e-5);
  for (const auto& [name, t] : cpu->state())
    EXPECT_TRUE(testing::all_close(gpu->state().at(name), t, 1e-3, 1e-4)) << name;
  const Tensor users = Tensor::from_vector(std::vector<int64_t>{1, 2, 3});
  EXPECT_TRUE(testing::all_close(gpu->score_users(users.to(testing::gpu())), cpu->score_users(users), 1e-3, 1e-4));
  const double cpu_ndcg = fx.evaluate([&](const Tensor& u) { return cpu->score_users(u); }).at("NDCG@10");
  const double gpu_ndcg =
      fx.evaluate([&](const Tensor& u) { return gpu->score_users(u); }, testing::gpu()).at("NDCG@10");
  EXPECT_NEAR(cpu_ndcg, gpu_ndcg, 0.01);
}

// ---- the fused CUDA step -----------------------------------------------------------------

struct RandomStep {
  Params params;
  BatchIds ids;
};

// Tables much smaller than the batch, so users, positives and negatives all repeat within it
// (and a negative may repeat within one example's k).
RandomStep random_step(Generator& gen, int64_t factors, int64_t k, bool bias, int64_t users = 37,
                       int64_t items = 23, int64_t batch = 300) {
  RandomStep s;
  s.params.user_factors = Var(testing::random_tensor({users, factors}, gen, DType::f32));
  s.params.item_factors = Var(testing::random_tensor({items, factors}, gen, DType::f32));
  if (bias) s.params.item_bias = Var(testing::random_tensor({items}, gen, DType::f32));
  s.ids = {testing::random_ids({batch}, users, gen), testing::random_ids({batch}, items, gen),
           testing::random_ids({batch, k}, items, gen)};
  return s;
}

RandomStep to_device(const RandomStep& s, Device device) {
  RandomStep d;
  d.params.user_factors = Var(s.params.user_factors.value().to(device));
  d.params.item_factors = Var(s.params.item_factors.value().to(device));
  if (s.params.item_bias.defined()) d.params.item_bias = Var(s.params.item_bias.value().to(device));
  d.ids = {s.ids.users.to(device), s.ids.items.to(device), s.ids.negatives.to(device)};
  return d;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_doubles()) m = std::max(m, std::abs(v));
  return m;
}

// Same ids per table exactly; rows within 1e-5 relative to the table's largest gradient entry (a
// row summed over many occurrences may cancel to near zero, where an elementwise relative bound
// would only measure rounding); the loss within 1e-6 relative.
void expect_same_gradients(const Gradients& actual, const Gradients& expected) {
  EXPECT_NEAR(actual.loss, expected.loss, 1e-6 * std::abs(expected.loss));
  ASSERT_EQ(actual.rows.size(), expected.rows.size());
  for (size_t t = 0; t < expected.rows.size(); ++t) {
    SCOPED_TRACE(::testing::Message() << "table " << t);
    EXPECT_TRUE(actual.rows[t].indices.is_cuda());
    EXPECT_EQ(actual.rows[t].indices.to(Device::cpu()).to_vector<int64_t>(),
              expected.rows[t].indices.to_vector<int64_t>());
    const Tensor rows = actual.rows[t].rows.to(Device::cpu());
    ASSERT_EQ(rows.shape(), expected.rows[t].rows.shape());
    EXPECT_TRUE(testing::all_close(rows, expected.rows[t].rows, 1e-5, 1e-5 * max_abs(expected.rows[t].rows)));
  }
}

// The two fused steps compute one function: on float4-able widths (64, 200: more chunks than a
// warp has lanes) and scalar ones (1, 13), one or several negatives, with and without the bias.
TEST(BprMfCuda, FusedStepMatchesCpuFusedStep) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  for (const int64_t factors : {1, 13, 64, 200}) {
    for (const int64_t k : {1, 4}) {
      for (const bool bias : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "factors " << factors << ", negatives " << k << ", item_bias " << bias);
        const RandomStep cpu = random_step(gen, factors, k, bias);
        const RandomStep gpu = to_device(cpu, testing::gpu());
        const Gradients expected = fused_backward_cpu(cpu.params, cpu.ids, 0.05);
        expect_same_gradients(fused_backward_cuda(gpu.params, gpu.ids, 0.05), expected);
      }
    }
  }
}

// The extremes of the warp-per-example loop: a batch of one, and a batch with more examples than
// the largest grid has warps (8192 blocks of 8), so warps take several examples each.
TEST(BprMfCuda, FusedStepMatchesCpuOnTinyAndHugeBatches) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  struct Case {
    int64_t factors, k, users, items, batch;
  };
  for (const Case c : {Case{32, 2, 11, 7, 1}, Case{4, 1, 5000, 3000, 70000}}) {
    SCOPED_TRACE(::testing::Message() << "batch " << c.batch);
    const RandomStep cpu = random_step(gen, c.factors, c.k, true, c.users, c.items, c.batch);
    const RandomStep gpu = to_device(cpu, testing::gpu());
    expect_same_gradients(fused_backward_cuda(gpu.params, gpu.ids, 0.01),
                          fused_backward_cpu(cpu.params, cpu.ids, 0.01));
  }
}

TEST(BprMfCuda, FusedStepRejectsOutOfRangeIds) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(3);
  const RandomStep good = random_step(gen, 8, 2, true);
  auto with = [&](int64_t user, int64_t item, int64_t negative) {
    RandomStep s = good;
    std::vector<int64_t> u = s.ids.users.to_vector<int64_t>(), i = s.ids.items.to_vector<int64_t>(),
                         n = s.ids.negatives.to_vector<int64_t>();
    u[17] = user;
    i[18] = item;
    n[19] = negative;
    s.ids = {Tensor::from_vector(u), Tensor::from_vector(i), Tensor::from_vector(n, s.ids.negatives.shape())};
    const RandomStep gpu = to_device(s, testing::gpu());
    return error_message([&] { fused_backward_cuda(gpu.params, gpu.ids, 0.01); });
  };
  EXPECT_MESSAGE_HAS(with(37, 0, 0), "user id 37 is outside [0, 37)");
  EXPECT_MESSAGE_HAS(with(0, -1, 0), "item id -1 is outside [0, 23)");
  EXPECT_MESSAGE_HAS(with(0, 0, 23), "negative item id 23 is outside [0, 23)");
  // The error is not left behind for the next step.
  const RandomStep gpu = to_device(good, testing::gpu());
  EXPECT_NO_THROW(fused_backward_cuda(gpu.params, gpu.ids, 0.01));
}

// The automatic kernel is the fused step on CUDA too, and trains to the CPU's numbers.
// adam and rowwise_adagrad update from the kernel's occurrence rows (fused optimizer steps), adagrad
// from coalesced rows.
TEST(BprMfCuda, AutomaticTrainingMatchesCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Fixture fx;
  for (const auto& [optimizer, bias] : std::vector<std::pair<std::string, bool>>{
           {"adam", false}, {"adam", true}, {"rowwise_adagrad", false}, {"rowwise_adagrad", true}, {"adagrad", true}}) {
    SCOPED_TRACE(::testing::Message() << optimizer << ", item_bias " << bias);
    const recipe::Recipe r = bpr_recipe(bias ? ", item_bias: true" : "", ", negatives: 3, optimizer: " + optimizer);
    auto cpu = fx.model(r);
    auto gpu = fx.model(r, Kernel::automatic, testing::gpu());
    const auto cpu_losses = testing::epoch_losses(*cpu, 0, 4), gpu_losses = testing::epoch_losses(*gpu, 0, 4);
    for (size_t e = 0; e < cpu_losses.size(); ++e) EXPECT_NEAR(gpu_losses[e], cpu_losses[e], 1e-5) << "epoch " << e;
    for (const auto& [name, t] : cpu->weights())
      EXPECT_TRUE(testing::all_close(gpu->weights().at(name), t, 1e-3, 1e-4)) << name;
    const eval::EvalResult on_cpu = fx.evaluate([&](const Tensor& u) { return cpu->score_users(u); });
    const eval::EvalResult on_gpu = fx.evaluate([&](const Tensor& u) { return gpu->score_users(u); }, testing::gpu());
    for (const char* metric : {"Recall@10", "NDCG@10"}) EXPECT_NEAR(on_gpu.at(metric), on_cpu.at(metric), 1e-3) << metric;
  }
}

// Runs in every build: host tensors are refused (and a CPU-only build has no CUDA step at all).
TEST(BprMf, FusedCudaStepRefusesHostTensors) {
  Generator gen(4);
  const RandomStep cpu = random_step(gen, 8, 1, false);
  EXPECT_MESSAGE_HAS(error_message([&] { fused_backward_cuda(cpu.params, cpu.ids, 0.01); }),
                     "the user table must be a CUDA tensor, got [37, 8] f32 cpu");
}

}  // namespace
}  // namespace aisle::models::bpr
