// LightGCN on several ranks (in-process threads as ranks): data parallel with the graph and the
// tables replicated. Each rank trains on its share of every global batch, the dense ego gradient
// is summed over the ranks, and every rank takes the same Adam step, so training ends where one
// process ends (to float rounding: the gradient is summed in another order), step losses are the
// one-process ones, replicas agree bit for bit, ranks without rows in a step still take it, and
// every rank resumes mid-epoch from its state bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "aisle/train/recipe_schema.hpp"
#include "src/models/lightgcn/model.hpp"
#include "support/model_testing.hpp"
#include "support/testing.hpp"
#include "support/thread_communicator.hpp"

namespace aisle::models::lightgcn {
namespace {

using testing::expect_same_bits;
using testing::run_ranks;
using testing::snapshot;

struct Data {
  Data(data::Interactions train, int64_t users, int64_t items)
      : train(std::move(train)), index(std::make_shared<data::UserItemIndex>(this->train)), users(users),
        items(items) {}
  data::Interactions train;
  std::shared_ptr<const data::UserItemIndex> index;
  int64_t users, items;
  train::TrainingData training() const { return {train, index, users, items}; }
};

const Data& planted() {
  static const Data d(testing::planted_taste_split(7).train, 400, 240);
  return d;
}

// Item 4 is nobody's; (0, 1) appears twice. Nine rows.
const Data& tiny() {
  static const Data d(data::Interactions::from_vectors(std::vector<int64_t>{0, 0, 1, 1, 2, 2, 2, 3, 0},
                                                       std::vector<int64_t>{0, 1, 1, 2, 0, 2, 3, 3, 1}, 4, 5),
                      4, 5);
  return d;
}

// A batch size whose last batch holds ONE row: on several ranks all but rank 0 have nothing to
// train on in that step (and every other batch of an odd size splits unevenly too).
int64_t batch_with_single_row_tail() {
  const int64_t rows = planted().train.size();
  for (int64_t b = 301; b > 100; b -= 2)
    if (rows % b == 1) return b;
  return 0;
}

recipe::Recipe make_recipe(int64_t batch_size) {
  const std::string text =
      "data: {path: unused}\nmodel: {type: lightgcn, factors: 8, layers: 2, reg: 0.01, init_std: 0.1}\n"
      "train: {lr: 0.02, negatives: 2, batch_size: " + std::to_string(batch_size) + "}\n";
  return recipe::Recipe::load_text(text, "test.yaml", {}, train::training_schema());
}

std::unique_ptr<LightGcn> make_model(const Data& data, int64_t batch_size, dist::Communicator& comm) {
  auto m = std::make_unique<LightGcn>();
  m->configure(make_recipe(batch_size));
  m->setup(data.training(), train::ModelContext{Device::cpu(), 5, &comm});
  return m;
}

struct Result {
  std::map<std::string, Tensor> weights, state;
  std::vector<double> losses;     // per step
  std::vector<int64_t> examples;  // per step
  bool sharded_state = false;
};

std::vector<Result> run(int world, const Data& data, int64_t batch_size, int64_t epochs = 2) {
  std::vector<Result> out(static_cast<size_t>(world));
  run_ranks(world, [&](int rank, dist::Communicator& comm) {
    auto m = make_model(data, batch_size, comm);
    Result& r = out[static_cast<size_t>(rank)];
    for (int64_t e = 0; e < epochs; ++e)
      m->train_steps(e, 0, [&](const train::StepReport& s) {
        r.losses.push_back(s.loss);
        r.examples.push_back(s.examples);
        return true;
      });
    r.weights = snapshot(m->weights());
    r.state = snapshot(m->state());
    r.sharded_state = !m->state_sharding().empty();
  });
  return out;
}

void expect_close(const std::map<std::string, Tensor>& actual, const std::map<std::string, Tensor>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [name, t] : expected) {
    ASSERT_TRUE(actual.count(name)) << name;
    // Adam turns the last bits of a differently ordered gradient sum into a drift of about
    // lr * 1e-6 per step in the worst element (1e-6 after 80 steps here), so elements are held
    // to 1e-5 against the 0.1 scale of the tables, and each table as a whole to 1e-5 relative.
    EXPECT_LE(testing::relative_error(actual.at(name), t), 1e-5) << name;
    EXPECT_TRUE(testing::all_close(actual.at(name), t, 1e-5, 1e-5)) << name;
  }
}

// Every rank ends with one process's weights, losses and example counts; replicas bit-identical.
void expect_matches_one_process(const Data& data, int64_t batch_size, const std::vector<int>& worlds) {
  const Result single = run(1, data, batch_size)[0];
  for (const int world : worlds) {
    SCOPED_TRACE(std::to_string(world) + " ranks, batch " + std::to_string(batch_size));
    const std::vector<Result> ranks = run(world, data, batch_size);
    expect_close(ranks[0].weights, single.weights);
    expect_close(ranks[0].state, single.state);
    EXPECT_EQ(ranks[0].examples, single.examples);
    ASSERT_EQ(ranks[0].losses.size(), single.losses.size());
    for (size_t s = 0; s < single.losses.size(); ++s)
      EXPECT_NEAR(ranks[0].losses[s], single.losses[s], 1e-6 * std::abs(single.losses[s])) << "step " << s;
    for (int r = 0; r < world; ++r) {
      const Result& mine = ranks[static_cast<size_t>(r)];
      EXPECT_FALSE(mine.sharded_state) << "replicated: the whole state on every rank";
      expect_same_bits(mine.weights, ranks[0].weights);
      expect_same_bits(mine.state, ranks[0].state);
      EXPECT_EQ(mine.losses, ranks[0].losses) << "rank " << r;
    }
  }
}

TEST(LightGcnDistributed, TheBatchSplitsUnevenlyAndEndsWithOneRow) {
  ASSERT_GT(batch_with_single_row_tail(), 0) << "no odd batch size leaves one row";
  EXPECT_EQ(planted().train.size() % batch_with_single_row_tail(), 1);
  auto comm = dist::make_local_communicator();
  EXPECT_TRUE(make_model(planted(), 64, *comm)->trains_on_ranks());
}

// The heart of it: 2, 3 and 4 ranks end where one process ends.
TEST(LightGcnDistributed, DataParallelTrainingMatchesOneProcess) {
  expect_matches_one_process(planted(), batch_with_single_row_tail(), {2, 3, 4});
}

// Batches of two rows on four ranks: ranks 2 and 3 never have a row, and the last batch (one
// row) leaves rank 1 idle too; they still take every step with the others.
TEST(LightGcnDistributed, RanksWithoutRowsStillTakeEveryStep) {
  ASSERT_EQ(tiny().train.size(), 9);
  expect_matches_one_process(tiny(), 2, {3, 4});
}

// A rank's share: positions r, r + R, ... of the global batch, real rows only, with the
// negatives one process draws for those dataset rows.
TEST(LightGcnDistributed, EachRankTakesItsShareWithTheOneProcessNegatives) {
  const int world = 3;
  const int64_t batch = 7;
  std::vector<BatchIds> shares(world);
  run_ranks(world, [&](int rank, dist::Communicator& comm) {
    shares[static_cast<size_t>(rank)] = make_model(planted(), batch, comm)->batch_ids(1, 4);
  });
  auto comm = dist::make_local_communicator();
  const BatchIds whole = make_model(planted(), batch, *comm)->batch_ids(1, 4);
  ASSERT_EQ(whole.users.numel(), batch);
  const auto users = whole.users.to_vector<int64_t>(), items = whole.items.to_vector<int64_t>(),
             negatives = whole.negatives.to_vector<int64_t>();
  for (int r = 0; r < world; ++r) {
    const BatchIds& mine = shares[static_cast<size_t>(r)];
    std::vector<int64_t> u, i, n;
    for (int64_t p = r; p < batch; p += world) {
      u.push_back(users[static_cast<size_t>(p)]);
      i.push_back(items[static_cast<size_t>(p)]);
      for (int64_t c = 0; c < 2; ++c) n.push_back(negatives[static_cast<size_t>(p * 2 + c)]);
    }
    EXPECT_EQ(mine.users.to_vector<int64_t>(), u) << "rank " << r;
    EXPECT_EQ(mine.items.to_vector<int64_t>(), i) << "rank " << r;
    EXPECT_EQ(mine.negatives.to_vector<int64_t>(), n) << "rank " << r;
  }
}

// Every rank saves its state mid-epoch; fresh models on the same ranks load it and continue to
// exactly the weights of the uninterrupted run.
TEST(LightGcnDistributed, EveryRankResumesMidEpochBitForBit) {
  const int world = 3;
  const int64_t batch = batch_with_single_row_tail();
  std::vector<std::map<std::string, Tensor>> uninterrupted(world), resumed(world);
  std::vector<std::vector<double>> uninterrupted_losses(world), resumed_losses(world);
  run_ranks(world, [&](int rank, dist::Communicator& comm) {
    const size_t me = static_cast<size_t>(rank);
    auto a = make_model(planted(), batch, comm);
    std::map<std::string, Tensor> saved;
    const int64_t stop_after = 5;
    a->train_steps(0, 0, [&](const train::StepReport& s) {
      if (s.step + 1 == stop_after) saved = snapshot(a->state());
      if (s.step >= stop_after) uninterrupted_losses[me].push_back(s.loss);
      return true;
    });
    a->train_steps(1, 0, [&](const train::StepReport& s) {
      uninterrupted_losses[me].push_back(s.loss);
      return true;
    });
    uninterrupted[me] = snapshot(a->weights());

    auto b = make_model(planted(), batch, comm);
    b->load_state(saved);
    for (const int64_t epoch : {0, 1})
      b->train_steps(epoch, epoch == 0 ? stop_after : 0, [&](const train::StepReport& s) {
        resumed_losses[me].push_back(s.loss);
        return true;
      });
    resumed[me] = snapshot(b->weights());
  });
  for (int r = 0; r < world; ++r) {
    expect_same_bits(resumed[static_cast<size_t>(r)], uninterrupted[0]);
    EXPECT_EQ(resumed_losses[static_cast<size_t>(r)], uninterrupted_losses[0]) << "rank " << r;
  }
}

}  // namespace
}  // namespace aisle::models::lightgcn
