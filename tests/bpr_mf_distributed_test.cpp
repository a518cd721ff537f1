// BPR-MF on several ranks (in-process threads as ranks): data parallel with replicated tables and
// with row-sharded tables, each ends where one process with the same global batch ends (to float
// rounding: rows meeting from several ranks are summed in another order), replicas and gathered
// weights agree bit for bit on every rank, a rank's state holds its rows of the one-process
// optimizer moments, and every rank resumes mid-epoch from its own state bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>

#include "aisle/train/recipe_schema.hpp"
#include "src/models/bpr_mf/model.hpp"
#include "support/model_testing.hpp"
#include "support/testing.hpp"
#include "support/thread_communicator.hpp"

namespace aisle::models::bpr {
namespace {

using testing::error_message;
using testing::run_ranks;

constexpr int64_t kUsers = 400, kItems = 240;

struct Data {
  data::Split split = testing::planted_taste_split(7);
  std::shared_ptr<const data::UserItemIndex> index = std::make_shared<data::UserItemIndex>(split.train);
  train::TrainingData training() const { return {split.train, index, kUsers, kItems}; }
};

// dist.memory_per_rank_gib for a budget in bytes, exactly enough to round back to the byte.
std::string gib(double bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", bytes / (1024.0 * 1024.0 * 1024.0));
  return text;
}

const Data& shared_data() {
  static const Data d;
  return d;
}

// A batch size whose last batch holds ONE row: on several ranks all but rank 0 have nothing to
// train on in that step (and every other batch of an odd size splits unevenly too).
int64_t batch_with_single_row_tail() {
  const int64_t rows = shared_data().split.train.size();
  for (int64_t b = 301; b > 100; b -= 2)
    if (rows % b == 1) return b;
  return 0;
}

struct Options {
  std::string optimizer = "adam";
  std::string embeddings = "replicated";
  std::string memory_gib = "0";
  int64_t negatives = 3;
  bool item_bias = true;
  std::string table_dtype = "f32";
};

recipe::Recipe make_recipe(const Options& o) {
  const std::string text = "data: {path: unused}\nmodel: {type: bpr, factors: 12, reg: 0.01, item_bias: " +
                           std::string(o.item_bias ? "true" : "false") + ", table_dtype: " + o.table_dtype +
                           "}\ntrain: {lr: 0.02, batch_size: " +
                           std::to_string(batch_with_single_row_tail()) + ", optimizer: " + o.optimizer +
                           ", negatives: " + std::to_string(o.negatives) + "}\ndist: {embeddings: " + o.embeddings +
                           ", memory_per_rank_gib: " + o.memory_gib + "}\n";
  return recipe::Recipe::load_text(text, "test.yaml", {}, train::training_schema());
}

std::unique_ptr<BprMf> make_model(const Options& o, dist::Communicator& comm) {
  auto m = std::make_unique<BprMf>();
  m->configure(make_recipe(o));
  m->setup(shared_data().training(), train::ModelContext{Device::cpu(), 5, &comm});
  return m;
}

struct Result {
  std::map<std::string, Tensor> weights, state;
  std::map<std::string, dist::RowSharding> sharding;
  std::vector<double> losses;  // per step
  bool users_sharded = false, items_sharded = false;
};

void train(BprMf& m, int64_t epochs, std::vector<double>& losses) {
  for (int64_t e = 0; e < epochs; ++e)
    m.train_steps(e, 0, [&](const train::StepReport& s) {
      losses.push_back(s.loss);
      return true;
    });
}

std::vector<Result> run(int world, const Options& o, int64_t epochs = 2) {
  std::vector<Result> out(static_cast<size_t>(world));
  run_ranks(world, [&](int rank, dist::Communicator& comm) {
    auto m = make_model(o, comm);
    Result& r = out[static_cast<size_t>(rank)];
    train(*m, epochs, r.losses);
    r.weights = testing::snapshot(m->weights());
    r.state = testing::snapshot(m->state());
    r.sharding = m->state_sharding();
    r.users_sharded = m->users_sharded();
    r.items_sharded = m->items_sharded();
  });
  return out;
}

Result one_process(const Options& o, int64_t epochs = 2) {
  Options single = o;
  single.embeddings = "replicated";
  return run(1, single, epochs)[0];
}

void expect_close(const std::map<std::string, Tensor>& actual, const std::map<std::string, Tensor>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [name, t] : expected) {
    ASSERT_TRUE(actual.count(name)) << name;
    EXPECT_TRUE(testing::all_close(actual.at(name), t, 1e-5, 1e-6)) << name;
  }
}

TEST(BprMfDistributed, TheBatchSplitsUnevenlyAndEndsWithOneRow) {
  ASSERT_GT(batch_with_single_row_tail(), 0) << "no odd batch size leaves one row";
  EXPECT_EQ(shared_data().split.train.size() % batch_with_single_row_tail(), 1);
}

// The heart of it: every world size, placement and optimizer ends where one process ends.
TEST(BprMfDistributed, ReplicatedAndShardedTrainingMatchOneProcess) {
  for (const std::string optimizer : {"adam", "adagrad", "rowwise_adagrad", "sgd"}) {
    const Result single = one_process({.optimizer = optimizer});
    for (const int world : {2, 3, 4}) {
      for (const std::string embeddings : {"replicated", "sharded"}) {
        SCOPED_TRACE(optimizer + ", " + std::to_string(world) + " ranks, " + embeddings);
        const std::vector<Result> ranks = run(world, {.optimizer = optimizer, .embeddings = embeddings});
        EXPECT_EQ(ranks[0].users_sharded, embeddings == "sharded");
        EXPECT_EQ(ranks[0].items_sharded, embeddings == "sharded");
        expect_close(ranks[0].weights, single.weights);
        ASSERT_EQ(ranks[0].losses.size(), single.losses.size());
        for (size_t s = 0; s < single.losses.size(); ++s)
          EXPECT_NEAR(ranks[0].losses[s], single.losses[s], 1e-6 * std::abs(single.losses[s])) << "step " << s;
        for (int r = 1; r < world; ++r) {
          testing::expect_same_bits(ranks[static_cast<size_t>(r)].weights, ranks[0].weights);
          EXPECT_EQ(ranks[static_cast<size_t>(r)].losses, ranks[0].losses) << "rank " << r;
        }
      }
    }
  }
}

TEST(BprMfDistributed, OneNegativeWithoutBiasMatchesToo) {
  const Options o{.embeddings = "sharded", .negatives = 1, .item_bias = false};
  const Result single = one_process(o);
  for (const int world : {2, 3}) expect_close(run(world, o)[0].weights, single.weights);
}

// Sharded state: rank r holds exactly global rows g % world == r of the one-process tables and
// moments; replicated state is the whole one-process state on every rank.
// (rowwise_adagrad's state is one value per row: "<table>.row_sum" is sharded like its table.)
TEST(BprMfDistributed, StateHoldsThisRanksRowsOfTheOneProcessState) {
  for (const std::string optimizer : {"adam", "rowwise_adagrad"}) {
    SCOPED_TRACE(optimizer);
    const Result single = one_process({.optimizer = optimizer});
    if (optimizer == "rowwise_adagrad") {
      EXPECT_EQ(single.state.at("optimizer.user_factors.row_sum").shape(), (Shape{kUsers}));
    }
    const int world = 3;
    const std::vector<Result> sharded = run(world, {.optimizer = optimizer, .embeddings = "sharded"});
    for (int r = 0; r < world; ++r) {
      const Result& mine = sharded[static_cast<size_t>(r)];
      ASSERT_EQ(mine.state.size(), single.state.size());
      EXPECT_EQ(mine.state.at("optimizer.step").item<int64_t>(), single.state.at("optimizer.step").item<int64_t>());
      for (const auto& [name, whole] : single.state) {
        if (name == "optimizer.step") {
          EXPECT_EQ(mine.sharding.count(name), 0u);
          continue;
        }
        ASSERT_EQ(mine.sharding.count(name), 1u) << name;
        const dist::RowSharding& s = mine.sharding.at(name);
        EXPECT_EQ(s.world, world);
        EXPECT_EQ(s.rank, r);
        EXPECT_EQ(s.rows, whole.size(0)) << name;
        std::vector<int64_t> rows;
        for (int64_t g = r; g < whole.size(0); g += world) rows.push_back(g);
        const Tensor expected = ops::gather_rows(whole, Tensor::from_vector(rows));
        EXPECT_TRUE(testing::all_close(mine.state.at(name), expected, 1e-5, 1e-6)) << name << " of rank " << r;
      }
    }
    const std::vector<Result> replicated = run(2, {.optimizer = optimizer});
    for (const Result& mine : replicated) {
      EXPECT_TRUE(mine.sharding.empty());
      expect_close(mine.state, single.state);
    }
  }
}

// Every rank saves its state mid-epoch; fresh models on the same ranks load it and continue to
// exactly the weights of the uninterrupted run.
TEST(BprMfDistributed, EveryRankResumesMidEpochBitForBit) {
  for (const std::string embeddings : {"replicated", "sharded"}) {
    SCOPED_TRACE(embeddings);
    const int world = 3;
    const Options o{.optimizer = "adam", .embeddings = embeddings};
    std::vector<std::map<std::string, Tensor>> uninterrupted(world), resumed(world);
    run_ranks(world, [&](int rank, dist::Communicator& comm) {
      auto a = make_model(o, comm);
      std::map<std::string, Tensor> saved;
      const int64_t stop_after = 5;
      a->train_steps(0, 0, [&](const train::StepReport& s) {
        if (s.step + 1 == stop_after) saved = testing::snapshot(a->state());
        return true;
      });
      a->train_steps(1, 0, [&](const train::StepReport&) { return true; });
      uninterrupted[static_cast<size_t>(rank)] = testing::snapshot(a->weights());

      auto b = make_model(o, comm);
      b->load_state(saved);
      b->train_steps(0, stop_after, [](const train::StepReport&) { return true; });
      b->train_steps(1, 0, [](const train::StepReport&) { return true; });
      resumed[static_cast<size_t>(rank)] = testing::snapshot(b->weights());
    });
    for (int r = 0; r < world; ++r) testing::expect_same_bits(resumed[static_cast<size_t>(r)], uninterrupted[0]);
  }
}

// Budgets in bytes, for 400 users and 240 items of 12 f32 (+ bias) with Adam's two moments:
// user_factors 57,600 B whole, item_factors 37,440 B whole.
TEST(BprMfDistributed, AutoShardsTheLargestTableFirstWithinTheBudget) {
  struct Case {
    double bytes;
    bool users, items;
  };
  // Everything fits; only the users must go (28,800 + 37,440); both must go (28,800 + 18,720).
  for (const Case c : {Case{100000, false, false}, Case{70000, true, false}, Case{50000, true, true}}) {
    SCOPED_TRACE(c.bytes);
    std::vector<std::vector<std::string>> notes(2);
    std::vector<Result> ranks(2);
    run_ranks(2, [&](int rank, dist::Communicator& comm) {
      auto m = make_model({.embeddings = "auto", .memory_gib = gib(c.bytes)}, comm);
      notes[static_cast<size_t>(rank)] = m->setup_notes();
      std::vector<double> losses;
      train(*m, 1, losses);
      ranks[static_cast<size_t>(rank)].weights = testing::snapshot(m->weights());
      ranks[static_cast<size_t>(rank)].users_sharded = m->users_sharded();
      ranks[static_cast<size_t>(rank)].items_sharded = m->items_sharded();
    });
    EXPECT_EQ(ranks[0].users_sharded, c.users);
    EXPECT_EQ(ranks[0].items_sharded, c.items);
    ASSERT_EQ(notes[0].size(), 3u);
    EXPECT_NE(notes[0][1].find(c.users ? "user_factors  400 x 12 f32 + adam: sharded over 2 ranks"
                                       : "user_factors  400 x 12 f32 + adam: replicated"),
              std::string::npos)
        << notes[0][1];
    EXPECT_NE(notes[0][2].find(c.items ? "item_factors  240 x 12 f32 + bias + adam: sharded"
                                       : "item_factors  240 x 12 f32 + bias + adam: replicated"),
              std::string::npos)
        << notes[0][2];
    EXPECT_EQ(notes[0], notes[1]);
    expect_close(ranks[0].weights, one_process({}, 1).weights);
  }
}

TEST(BprMfDistributed, ATooSmallBudgetIsAClearError) {
  std::vector<std::string> errors(2);
  run_ranks(2, [&](int rank, dist::Communicator& comm) {
    errors[static_cast<size_t>(rank)] = error_message([&] {
      make_model({.embeddings = "auto", .memory_gib = gib(40000)}, comm);
    });
  });
  EXPECT_NE(errors[0].find("need 46.4 KiB per rank even sharded over 2 ranks"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("39.1 KiB per rank is available"), std::string::npos) << errors[0];
}

// 16-bit tables train on one process only: every rank says so at setup instead of training.
TEST(BprMfDistributed, HalfTablesAreRefusedOnSeveralRanks) {
  std::vector<std::string> errors(2);
  run_ranks(2, [&](int rank, dist::Communicator& comm) {
    errors[static_cast<size_t>(rank)] = error_message([&] { make_model({.table_dtype = "bf16"}, comm); });
  });
  for (const std::string& e : errors)
    EXPECT_EQ(e, "bpr: model.table_dtype bf16 trains on one process (the ranks' row exchanges are f32); this run has "
                 "2 ranks");
}

TEST(BprMfDistributed, ShardedModelsDoNotScoreButTheirWeightsServe) {
  std::vector<std::string> errors(2);
  std::map<std::string, Tensor> weights;
  run_ranks(2, [&](int rank, dist::Communicator& comm) {
    auto m = make_model({.embeddings = "sharded"}, comm);
    errors[static_cast<size_t>(rank)] = error_message([&] { m->score_users(Tensor::from_vector(std::vector<int64_t>{0})); });
    const auto w = m->weights();
    if (rank == 0) weights = testing::snapshot(w);
  });
  EXPECT_EQ(errors[0], "bpr: score_users() on a row-sharded model: evaluate a serving copy made from weights()");
  BprMf serving;
  serving.load_weights(weights, Device::cpu());
  EXPECT_EQ(serving.score_users(Tensor::from_vector(std::vector<int64_t>{0, 1})).shape(), (Shape{2, kItems}));
}

// Sharded on one rank keeps everything local and trains like the replicated model; it scores.
TEST(BprMfDistributed, ShardedOnOneRankIsThePlainModel) {
  const Result single = one_process({});
  const Result sharded = run(1, {.embeddings = "sharded"})[0];
  EXPECT_TRUE(sharded.users_sharded && sharded.items_sharded);
  expect_close(sharded.weights, single.weights);
  auto comm = dist::make_local_communicator();
  auto m = make_model({.embeddings = "sharded"}, *comm);
  EXPECT_EQ(m->score_users(Tensor::from_vector(std::vector<int64_t>{3})).shape(), (Shape{1, kItems}));
  EXPECT_EQ(m->setup_notes().size(), 3u);
  auto plain = make_model({}, *comm);
  EXPECT_TRUE(plain->setup_notes().empty()) << "nothing to say on one rank";
}

TEST(BprMfDistributed, LoadStateRejectsAnotherRanksShape) {
  std::vector<std::string> errors(2);
  run_ranks(2, [&](int rank, dist::Communicator& comm) {
    auto m = make_model({.embeddings = "sharded"}, comm);
    auto whole = make_model({.embeddings = "replicated"}, comm);
    errors[static_cast<size_t>(rank)] = error_message([&] { m->load_state(whole->state()); });
  });
  EXPECT_NE(errors[0].find("bpr: tensor 'user_factors' has shape [400, 12], expected [200, 12]"), std::string::npos)
      << errors[0];
}

}  // namespace
}  // namespace aisle::models::bpr
