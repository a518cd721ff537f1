// Checkpoints of a run on several ranks (in-process threads as ranks, BPR-MF with row-sharded
// tables): each rank's shard lands beside the main directory, one process reads back whole
// tensors, and another number of ranks reads back exactly its own rows of them — sharded or
// replicated, whatever the writer's world size. A missing shard is refused by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>

#include "aisle/train/checkpoint.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "src/models/bpr_mf/model.hpp"
#include "support/model_testing.hpp"
#include "support/temp_dir.hpp"
#include "support/testing.hpp"
#include "support/thread_communicator.hpp"

namespace aisle::train {
namespace {

namespace fs = std::filesystem;
using testing::run_ranks;

constexpr int64_t kUsers = 400, kItems = 240;

struct Data {
  data::Split split = testing::planted_taste_split(7);
  std::shared_ptr<const data::UserItemIndex> index = std::make_shared<data::UserItemIndex>(split.train);
  TrainingData training() const { return {split.train, index, kUsers, kItems}; }
};
const Data& shared_data() {
  static const Data d;
  return d;
}

std::unique_ptr<models::bpr::BprMf> make_model(const std::string& embeddings, dist::Communicator& comm) {
  const std::string text = "data: {path: unused}\nmodel: {type: bpr, factors: 8, item_bias: true}\n"
                           "train: {lr: 0.02, batch_size: 256}\ndist: {embeddings: " + embeddings + "}\n";
  auto m = std::make_unique<models::bpr::BprMf>();
  m->configure(recipe::Recipe::load_text(text, "test.yaml", {}, training_schema()));
  m->setup(shared_data().training(), ModelContext{Device::cpu(), 11, &comm});
  return m;
}

// Rows g of `whole` with g % world == rank, in order: what that rank of `world` holds.
std::vector<float> rows_of(const Tensor& whole, int64_t world, int64_t rank) {
  const int64_t rows = whole.size(0), width = whole.numel() / std::max<int64_t>(rows, 1);
  const std::vector<float> all = whole.to_vector<float>();
  std::vector<float> out;
  for (int64_t g = rank; g < rows; g += world) out.insert(out.end(), all.begin() + g * width, all.begin() + (g + 1) * width);
  return out;
}

// The serving tensors of a state (optimizer entries are named "optimizer.*").
std::map<std::string, Tensor> weights_of(const std::map<std::string, Tensor>& state) {
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : state)
    if (name.find('.') == std::string::npos) out.emplace(name, t);
  return out;
}

class ShardedCheckpoint : public ::testing::Test {
 protected:
  // Four sharded ranks train 5 steps and write checkpoint "epoch-0000-step-00000005".
  void SetUp() override {
    TrainerPosition at;
    at.step = 5;
    run_ranks(4, [&](int rank, dist::Communicator& comm) {
      auto model = make_model("sharded", comm);
      int64_t steps = 0;
      model->train_steps(0, 0, [&](const StepReport&) { return ++steps < 5; });
      const auto weights = model->weights();
      write_checkpoint(dir.path() / "checkpoints", "epoch-0000-step-00000005", *model, at, &comm);
      std::lock_guard<std::mutex> lock(mutex);
      if (rank == 0) whole_weights = weights;
      local_states[rank] = model->state();
    });
  }
  fs::path checkpoint() const { return dir.path() / "checkpoints" / "epoch-0000-step-00000005"; }

  testing::TempDir dir;
  std::mutex mutex;
  std::map<std::string, Tensor> whole_weights;
  std::map<std::string, Tensor> local_states[4];
};

TEST_F(ShardedCheckpoint, OneProcessReadsWholeTensors) {
  EXPECT_TRUE(fs::exists(dir.path() / "checkpoints" / ".shards" / "epoch-0000-step-00000005" / "rank-00003"));
  EXPECT_TRUE(fs::exists(checkpoint() / "sharding.json"));
  const LoadedCheckpoint c = read_checkpoint(checkpoint());
  EXPECT_EQ(c.position.step, 5);
  testing::expect_same_bits(weights_of(c.state), whole_weights);
  // Every sharded tensor (moments included) is rank r's local rows at rows g % 4 == r.
  for (const auto& [name, whole] : c.state) {
    if (whole.dim() == 0 || (whole.size(0) != kUsers && whole.size(0) != kItems)) continue;
    for (int r = 0; r < 4; ++r) EXPECT_EQ(rows_of(whole, 4, r), local_states[r].at(name).to_vector<float>()) << name;
  }
}

TEST_F(ShardedCheckpoint, TwoRanksReadTheirRowsAndThreeReplicatedRanksReadWholeTables) {
  const LoadedCheckpoint whole = read_checkpoint(checkpoint());
  run_ranks(2, [&](int rank, dist::Communicator& comm) {
    auto model = make_model("sharded", comm);
    const LoadedCheckpoint c = read_checkpoint(checkpoint(), model->state_sharding());
    model->load_state(c.state);
    for (const auto& [name, t] : model->state()) {
      if (model->state_sharding().count(name) == 0) continue;
      EXPECT_EQ(t.to_vector<float>(), rows_of(whole.state.at(name), 2, rank)) << name;
    }
  });
  run_ranks(3, [&](int, dist::Communicator& comm) {
    auto model = make_model("replicated", comm);
    EXPECT_TRUE(model->state_sharding().empty());
    model->load_state(read_checkpoint(checkpoint(), model->state_sharding()).state);
    testing::expect_same_bits(model->weights(), whole_weights);
  });
}

TEST_F(ShardedCheckpoint, AMissingShardIsRefusedByName) {
  fs::remove_all(dir.path() / "checkpoints" / ".shards" / "epoch-0000-step-00000005" / "rank-00002");
  const std::string message = testing::error_message([&] { read_checkpoint(checkpoint()); });
  EXPECT_MESSAGE_HAS(message, "rank-00002");
}

TEST_F(ShardedCheckpoint, PruningRemovesTheShardsWithTheirCheckpoint) {
  TrainerPosition at;
  run_ranks(2, [&](int, dist::Communicator& comm) {
    auto model = make_model("sharded", comm);
    write_checkpoint(dir.path() / "checkpoints", "epoch-0000-step-00000009", *model, at, &comm);
  });
  prune_checkpoints(dir.path() / "checkpoints", 1);  // keeps the newer one and its shards only
  const fs::path shards = dir.path() / "checkpoints" / ".shards";
  EXPECT_FALSE(fs::exists(checkpoint()));
  EXPECT_FALSE(fs::exists(shards / "epoch-0000-step-00000005"));
  EXPECT_TRUE(fs::exists(dir.path() / "checkpoints" / "epoch-0000-step-00000009"));
  EXPECT_TRUE(fs::exists(shards / "epoch-0000-step-00000009" / "rank-00001"));
}

}  // namespace
}  // namespace aisle::train
