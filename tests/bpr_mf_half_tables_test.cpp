// BPR-MF with 16-bit tables (model.table_dtype: bf16 | f16): the fused step on a 16-bit table
// computes exactly what it computes on the f32 widening of that table; training learns as f32
// does, is deterministic and resumes bit for bit; stochastic rounding keeps updates smaller than
// half a 16-bit step that rounding to nearest loses; exported weights are f32; and the recipe
// combinations that cannot work are refused by name.
#include <cmath>
#include <memory>

#include "aisle/eval/full_ranking.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "src/models/bpr_mf/model.hpp"
#include "support/model_testing.hpp"
#include "support/testing.hpp"

namespace aisle::models::bpr {
namespace {

using testing::error_message;

constexpr int64_t kUsers = 400, kItems = 240;  // testing::planted_taste_split's defaults

recipe::Recipe half_recipe(const std::string& dtype, const std::string& optimizer, const std::string& extra_train = "",
                           double lr = 0.02) {
  return recipe::Recipe::load_text("data: {path: unused}\nmodel: {type: bpr, factors: 16, item_bias: true, table_dtype: " +
                                       dtype + "}\ntrain: {lr: " + std::to_string(lr) +
                                       ", batch_size: 256, negatives: 2, optimizer: " + optimizer + extra_train + "}\n",
                                   "test.yaml", {}, train::training_schema());
}

struct Fixture {
  data::Split split = testing::planted_taste_split(7);
  std::shared_ptr<const data::UserItemIndex> train_index = std::make_shared<data::UserItemIndex>(split.train);
  std::unique_ptr<dist::Communicator> comm = dist::make_local_communicator();

  std::unique_ptr<BprMf> model(const recipe::Recipe& r, Device device = Device::cpu()) const {
    auto m = std::make_unique<BprMf>();
    m->configure(r);
    m->setup(train::TrainingData{split.train, train_index, kUsers, kItems}, train::ModelContext{device, 11, comm.get()});
    return m;
  }

  double recall(const BprMf& m, Device device = Device::cpu()) const {
    eval::FullRankingOptions o;
    o.ks = {10};
    o.device = device;
    return eval::evaluate_full_ranking([&](const Tensor& u) { return m.score_users(u); }, *train_index,
                                       data::UserItemIndex(split.test), o)
        .at("Recall@10");
  }
};

// The tables' values widened to f64 (exact for every storage type).
std::vector<double> values(const Tensor& t) { return t.to(Device::cpu()).to(DType::f64).to_vector<double>(); }

// The step reads a 16-bit row by widening it exactly, then computes in f32 as it does for f32
// tables: on the widened tables it gives the same loss and rows, bit for bit.
TEST(BprMfHalfTables, TheFusedStepOnAHalfTableIsTheStepOnItsWidening) {
  Generator gen(testing::fresh_seed());
  for (const DType storage : {DType::bf16, DType::f16}) {
    SCOPED_TRACE(dtype_name(storage));
    const Tensor p = testing::random_tensor({37, 24}, gen, DType::f32).to(storage);
    const Tensor q = testing::random_tensor({23, 24}, gen, DType::f32).to(storage);
    const Tensor bias = testing::random_tensor({23}, gen, DType::f32);
    const BatchIds ids{testing::random_ids({300}, 37, gen), testing::random_ids({300}, 23, gen),
                       testing::random_ids({300, 3}, 23, gen)};
    const Gradients half = fused_backward_cpu(Params{Var(p), Var(q), Var(bias)}, ids, 0.05);
    const Gradients wide = fused_backward_cpu(Params{Var(p.to(DType::f32)), Var(q.to(DType::f32)), Var(bias)}, ids, 0.05);
    EXPECT_EQ(half.loss, wide.loss);
    ASSERT_EQ(half.rows.size(), 3u);
    for (size_t t = 0; t < 3; ++t) {
      EXPECT_EQ(half.rows[t].indices.to_vector<int64_t>(), wide.rows[t].indices.to_vector<int64_t>());
      EXPECT_EQ(half.rows[t].rows.dtype(), DType::f32);
      EXPECT_EQ(values(half.rows[t].rows), values(wide.rows[t].rows)) << "table " << t;
    }
  }
}

// Both 16-bit types with both optimizers learn the planted tastes about as well as f32 tables;
// the tables stay 16-bit in state() (the checkpoint) and come out f32 in weights() (the artifact).
TEST(BprMfHalfTables, LearnAsF32TablesDoAndExportF32) {
  const Fixture fx;
  for (const std::string optimizer : {"adam", "rowwise_adagrad"}) {
    auto reference = fx.model(half_recipe("f32", optimizer));
    testing::epoch_losses(*reference, 0, 12);
    const double f32_recall = fx.recall(*reference);
    for (const std::string dtype : {"bf16", "f16"}) {
      SCOPED_TRACE(optimizer + ", " + dtype);
      auto m = fx.model(half_recipe(dtype, optimizer));
      const std::vector<double> losses = testing::epoch_losses(*m, 0, 12);
      EXPECT_LT(losses.back(), 0.75 * losses.front());
      const auto state = m->state();
      EXPECT_EQ(state.at("user_factors").dtype(), dtype == "bf16" ? DType::bf16 : DType::f16);
      EXPECT_EQ(state.at("item_factors").dtype(), state.at("user_factors").dtype());
      EXPECT_EQ(state.at("item_bias").dtype(), DType::f32);
      for (const auto& [name, t] : state)
        if (name.rfind("optimizer.", 0) == 0 && name != "optimizer.step") {
          EXPECT_EQ(t.dtype(), DType::f32) << name;
        }
      const auto weights = m->weights();
      EXPECT_EQ(weights.at("user_factors").dtype(), DType::f32);
      EXPECT_EQ(values(weights.at("user_factors")), values(state.at("user_factors")));
      const double recall = fx.recall(*m);
      EXPECT_GT(recall, 0.9 * f32_recall) << "f32 tables reach " << f32_recall;

      // The exported weights serve the same scores from f32 tables.
      auto served = std::make_unique<BprMf>();
      served->load_weights(weights, Device::cpu());
      const Tensor users = Tensor::from_vector(std::vector<int64_t>{0, 7, 399});
      EXPECT_EQ(values(served->score_users(users)), values(m->score_users(users)));
    }
  }
}

TEST(BprMfHalfTables, DeterministicAcrossThreadCountsAndResumesBitForBit) {
  const Fixture fx;
  const recipe::Recipe r = half_recipe("bf16", "rowwise_adagrad");
  testing::expect_deterministic_over_threads([&] { return fx.model(r); });
  testing::expect_exact_resume([&] { return fx.model(r); });
}

// Adam steps of lr = 5e-5 are below half a bf16 step for most table values (|w| > ~0.03 at
// init_std 0.1): rounded to nearest they mostly vanish, rounded stochastically they survive on
// average. Measured as the projection of each run's table change onto the f32 run's change.
TEST(BprMfHalfTables, StochasticRoundingKeepsSmallUpdatesThatNearestLoses) {
  const Fixture fx;
  auto change = [&](const std::string& dtype, bool stochastic) {
    auto m = fx.model(half_recipe(dtype, "adam", std::string(", stochastic_rounding: ") + (stochastic ? "true" : "false"),
                                  5e-5));
    const std::vector<double> before = values(m->state().at("item_factors"));
    testing::epoch_losses(*m, 0, 3);
    std::vector<double> after = values(m->state().at("item_factors"));
    for (size_t e = 0; e < after.size(); ++e) after[e] -= before[e];
    return after;
  };
  const std::vector<double> exact = change("f32", true);
  auto projection = [&](const std::vector<double>& d) {
    double dot = 0, norm = 0;
    for (size_t e = 0; e < d.size(); ++e) {
      dot += d[e] * exact[e];
      norm += exact[e] * exact[e];
    }
    return dot / norm;
  };
  const double stochastic = projection(change("bf16", true)), nearest = projection(change("bf16", false));
  EXPECT_NEAR(stochastic, 1.0, 0.15);
  EXPECT_LT(nearest, 0.6);
  EXPECT_GT(stochastic - nearest, 0.3);
}

TEST(BprMfHalfTables, RefusesWhatCannotWorkByName) {
  const Fixture fx;
  BprMf m;
  EXPECT_MESSAGE_HAS(error_message([&] { m.configure(half_recipe("bf16", "sgd")); }),
                     "model.table_dtype bf16 needs train.optimizer adam or rowwise_adagrad");
  EXPECT_MESSAGE_HAS(error_message([&] { m.configure(half_recipe("f16", "adagrad")); }), "test.yaml");

  // A checkpoint of f32 tables does not load into 16-bit tables (nor the other way round).
  auto half = fx.model(half_recipe("bf16", "adam"));
  auto full = fx.model(half_recipe("f32", "adam"));
  EXPECT_MESSAGE_HAS(error_message([&] { half->load_state(testing::snapshot(full->state())); }),
                     "state tensor 'user_factors' is [400, 16] f32 cpu, expected [400, 16] bf16 cpu (model.table_dtype bf16)");
  EXPECT_MESSAGE_HAS(error_message([&] { full->load_state(testing::snapshot(half->state())); }),
                     "tensor 'user_factors' has dtype bf16, expected f32");

  // The tape is the f32 reference only.
  half->use_kernel(Kernel::autograd);
  EXPECT_MESSAGE_HAS(error_message([&] { testing::epoch_losses(*half, 0, 1); }),
                     "the autograd step runs on f32 tables only, not bf16");
}

// The CUDA step reads 16-bit rows as the CPU does, and training on the GPU follows the CPU.
TEST(BprMfHalfTablesCuda, FusedStepAndTrainingMatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  for (const DType storage : {DType::bf16, DType::f16}) {
    for (const int64_t factors : {13, 64}) {
      SCOPED_TRACE(::testing::Message() << dtype_name(storage) << ", factors " << factors);
      const Tensor p = testing::random_tensor({37, factors}, gen, DType::f32).to(storage);
      const Tensor q = testing::random_tensor({23, factors}, gen, DType::f32).to(storage);
      const Tensor bias = testing::random_tensor({23}, gen, DType::f32);
      const BatchIds ids{testing::random_ids({300}, 37, gen), testing::random_ids({300}, 23, gen),
                         testing::random_ids({300, 2}, 23, gen)};
      const Device g = testing::gpu();
      const Gradients cpu = fused_backward_cpu(Params{Var(p), Var(q), Var(bias)}, ids, 0.05);
      const Gradients gpu = fused_backward_cuda(Params{Var(p.to(g)), Var(q.to(g)), Var(bias.to(g))},
                                                BatchIds{ids.users.to(g), ids.items.to(g), ids.negatives.to(g)}, 0.05);
      EXPECT_NEAR(gpu.loss, cpu.loss, 1e-6 * std::abs(cpu.loss));
      for (size_t t = 0; t < cpu.rows.size(); ++t)
        EXPECT_TRUE(testing::all_close(gpu.rows[t].rows.to(Device::cpu()), cpu.rows[t].rows, 1e-5, 1e-5)) << t;
    }
  }
  const Fixture fx;
  for (const std::string optimizer : {"adam", "rowwise_adagrad"}) {
    SCOPED_TRACE(optimizer);
    const recipe::Recipe r = half_recipe("bf16", optimizer, ", stochastic_rounding: false");
    auto cpu = fx.model(r);
    auto gpu = fx.model(r, testing::gpu());
    const auto cpu_losses = testing::epoch_losses(*cpu, 0, 3), gpu_losses = testing::epoch_losses(*gpu, 0, 3);
    for (size_t e = 0; e < cpu_losses.size(); ++e) EXPECT_NEAR(gpu_losses[e], cpu_losses[e], 1e-4) << "epoch " << e;
    EXPECT_EQ(gpu->state().at("user_factors").dtype(), DType::bf16);
    EXPECT_NEAR(fx.recall(*gpu, testing::gpu()), fx.recall(*cpu), 0.02);
  }
}

}  // namespace
}  // namespace aisle::models::bpr
