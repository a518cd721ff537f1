#include <cmath>

#include "aisle/dist/communicator.hpp"
#include "aisle/models/popularity.hpp"
#include "aisle/recipe/recipe.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "support/model_testing.hpp"
#include "support/testing.hpp"

namespace aisle::models {
namespace {

using testing::error_message;

recipe::Recipe recipe_of(const std::string& model_yaml) { return testing::model_recipe(model_yaml); }

// 3 users x 4 items. Item 1: users 0, 1, 2 (user 0 twice); item 2: user 1 once with value 5;
// item 3: user 2 three times with value 0.5; item 0: nobody.
train::TrainingData tiny_data() {
  train::TrainingData d;
  d.train = data::Interactions::from_vectors({0, 0, 1, 2, 1, 2, 2, 2}, {1, 1, 1, 1, 2, 3, 3, 3}, 3, 4,
                                             {1, 2, 1, 1, 5, 0.5f, 0.5f, 0.5f});
  d.train_index = std::make_shared<data::UserItemIndex>(d.train);
  d.num_users = 3;
  d.num_items = 4;
  return d;
}

std::unique_ptr<train::Model> fitted(const std::string& model_yaml, Device device = Device::cpu()) {
  auto comm = dist::make_local_communicator();
  auto m = train::create_model("popularity");
  m->configure(recipe_of(model_yaml));
  m->setup(tiny_data(), {.device = device, .seed = 1, .comm = comm.get()});
  m->train_steps(0, 0, [](const train::StepReport&) { return true; });
  return m;
}

std::vector<float> item_scores(const train::Model& m) { return m.weights().at("item_scores").to_vector<float>(); }

TEST(Popularity, CountsDistinctUsersByDefault) {
  auto m = fitted("{type: popularity}");
  EXPECT_EQ(item_scores(*m), (std::vector<float>{0, 3, 1, 1}));
  EXPECT_FALSE(m->iterative());
  EXPECT_EQ(m->steps_per_epoch(), 1);
  EXPECT_EQ(m->feedback(), train::Feedback::implicit);
  EXPECT_EQ(m->dimensions(), (std::map<std::string, int64_t>{{"users", 3}, {"items", 4}}));
  EXPECT_EQ(m->hyperparameters_json(), R"({"count":"users"})");
}

TEST(Popularity, CountsRowsOrSummedValues) {
  EXPECT_EQ(item_scores(*fitted("{type: popularity, count: rows}")), (std::vector<float>{0, 4, 1, 3}));
  EXPECT_EQ(item_scores(*fitted("{type: popularity, count: values}")), (std::vector<float>{0, 5, 5, 1.5f}));
}

TEST(Popularity, ReportsOneStepWithoutLoss) {
  auto comm = dist::make_local_communicator();
  auto m = train::create_model("popularity");
  m->configure(recipe_of("{type: popularity}"));
  m->setup(tiny_data(), {.comm = comm.get()});
  std::vector<train::StepReport> reports;
  m->train_steps(0, 0, [&](const train::StepReport& r) { reports.push_back(r); return true; });
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].step, 0);
  EXPECT_EQ(reports[0].steps, 1);
  EXPECT_TRUE(std::isnan(reports[0].loss));
  EXPECT_EQ(reports[0].examples, 8);
  // Resuming after the only step runs nothing.
  m->train_steps(0, 1, [&](const train::StepReport& r) { reports.push_back(r); return true; });
  EXPECT_EQ(reports.size(), 1u);
}

TEST(Popularity, ScoresEveryUserAlike) {
  auto m = fitted("{type: popularity}");
  const Tensor s = m->score_users(Tensor::from_vector<int64_t>({2, 0}));
  ASSERT_EQ(s.shape(), (Shape{2, 4}));
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{0, 3, 1, 1, 0, 3, 1, 1}));
  // The evaluator masks the result in place: it must not alias the weights.
  Tensor t = m->score_users(Tensor::from_vector<int64_t>({1}));
  t.fill_(-1);
  EXPECT_EQ(item_scores(*m), (std::vector<float>{0, 3, 1, 1}));
  EXPECT_MESSAGE_HAS(error_message([&] { m->score_users(Tensor::from_vector<int32_t>({1})); }), "i64 [B]");
}

TEST(Popularity, StateAndWeightsRoundTrip) {
  auto m = fitted("{type: popularity, count: rows}");
  auto comm = dist::make_local_communicator();
  auto resumed = train::create_model("popularity");
  resumed->configure(recipe_of("{type: popularity, count: rows}"));
  resumed->setup(tiny_data(), {.comm = comm.get()});
  resumed->load_state(m->state());
  EXPECT_EQ(item_scores(*resumed), item_scores(*m));

  auto served = create_popularity();
  served->load_weights(m->weights(), Device::cpu());
  EXPECT_EQ(served->score_users(Tensor::from_vector<int64_t>({0})).to_vector<float>(),
            m->score_users(Tensor::from_vector<int64_t>({0})).to_vector<float>());
  EXPECT_EQ(served->dimensions().at("items"), 4);

  EXPECT_MESSAGE_HAS(error_message([&] { resumed->load_state({}); }), "'item_scores'");
  EXPECT_MESSAGE_HAS(error_message([&] { resumed->load_state({{"item_scores", Tensor::zeros({5})}}); }),
                     "expected [4] f32");
  EXPECT_THROW(served->load_weights({}, Device::cpu()), ArtifactError);
  EXPECT_THROW(served->load_weights({{"item_scores", Tensor::zeros({2, 2})}}, Device::cpu()), ArtifactError);
}

TEST(Popularity, BadCountNamesTheKey) {
  EXPECT_MESSAGE_HAS(error_message([] { recipe_of("{type: popularity, count: clicks}"); }), "model.count");
  EXPECT_MESSAGE_HAS(error_message([] { recipe_of("{type: popularity, neighbors: 3}"); }), "model.neighbors");
}

TEST(Popularity, CudaMatchesCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  auto cpu = fitted("{type: popularity, count: values}");
  auto gpu = fitted("{type: popularity, count: values}", testing::gpu());
  const Tensor users = Tensor::from_vector<int64_t>({0, 2, 1});
  EXPECT_EQ(gpu->score_users(users.to(testing::gpu())).to(Device::cpu()).to_vector<float>(),
            cpu->score_users(users).to_vector<float>());
}

}  // namespace
}  // namespace aisle::models
