#include "aisle/models/popularity.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "aisle/core/error.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/sort.hpp"

namespace aisle::models {
namespace {

using recipe::Kind;

class Popularity final : public train::Model {
 public:
  std::string type() const override { return "popularity"; }
  train::Feedback feedback() const override { return train::Feedback::implicit; }
  bool iterative() const override { return false; }

  void configure(const recipe::Recipe& recipe) override { count_ = recipe.string("model.count"); }

  void setup(const train::TrainingData& data, const train::ModelContext& ctx) override {
    AISLE_CHECK(data.train_index, "popularity: the training data has no user index");
    data_ = data;
    device_ = ctx.device;
    num_users_ = data.num_users;
    num_items_ = data.num_items;
    item_scores_ = Tensor::zeros({num_items_}, DType::f32, device_);
  }

  int64_t steps_per_epoch() const override { return 1; }

  void train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) override {
    if (first_step >= 1) return;
    item_scores_ = count_items().to(device_);
    on_step({.step = 0, .steps = 1, .loss = std::numeric_limits<double>::quiet_NaN(),
             .examples = data_.train.size()});
  }

  Tensor score_users(const Tensor& users) const override {
    AISLE_CHECK(item_scores_.defined(), "popularity: score_users before setup or load_weights");
    AISLE_CHECK(users.dim() == 1 && users.dtype() == DType::i64 && users.device() == device_,
                "popularity: score_users expects i64 [B] users on ", device_.str(), ", got ", users.describe());
    return ops::broadcast_to(item_scores_.reshape({1, num_items_}), {users.numel(), num_items_});
  }

  std::map<std::string, Tensor> state() const override { return weights(); }

  void load_state(const std::map<std::string, Tensor>& state) override {
    const auto it = state.find("item_scores");
    AISLE_CHECK(it != state.end(), "popularity: the checkpoint has no tensor 'item_scores'");
    const Tensor& t = it->second;
    AISLE_CHECK(t.dtype() == DType::f32 && t.shape() == Shape{num_items_}, "popularity: checkpoint tensor "
                "'item_scores' is ", t.describe(), ", expected [", num_items_, "] f32");
    item_scores_ = t.to(device_).clone();
  }

  std::map<std::string, Tensor> weights() const override { return {{"item_scores", item_scores_}}; }

  void load_weights(const std::map<std::string, Tensor>& weights, Device device) override {
    const auto it = weights.find("item_scores");
    AISLE_ARTIFACT_CHECK(it != weights.end(), "popularity: no tensor 'item_scores' in the weights");
    const Tensor& t = it->second;
    AISLE_ARTIFACT_CHECK(t.dtype() == DType::f32 && t.dim() == 1, "popularity: tensor 'item_scores' is ",
                         t.describe(), ", expected [items] f32");
    device_ = device;
    num_items_ = t.numel();
    num_users_ = 0;  // serving does not need it: every user gets the same scores
    item_scores_ = t.to(device);
  }

  std::string hyperparameters_json() const override { return nlohmann::json{{"count", count_}}.dump(); }

  std::map<std::string, int64_t> dimensions() const override {
    std::map<std::string, int64_t> d{{"items", num_items_}};
    if (num_users_ > 0) d["users"] = num_users_;
    return d;
  }

  Device device() const override { return device_; }

 private:
  // f32 [items] on the CPU. Counts are exact integers; value sums are added in row order in f64.
  Tensor count_items() const {
    const int64_t items = num_items_;
    if (count_ == "rows") return ops::bincount(data_.train.items, items).to(DType::f32);
    if (count_ == "values")
      return ops::bincount(data_.train.items, items, data_.train.values.to(DType::f64)).to(DType::f32);
    // One pass over the index's distinct (user, item) pairs: memory-bound, not worth threads.
    std::vector<int64_t> users_per_item(static_cast<size_t>(items), 0);
    const data::UserItemIndex& index = *data_.train_index;
    for (int64_t u = 0; u < index.num_users(); ++u)
      for (const int64_t* i = index.begin(u); i != index.end(u); ++i) ++users_per_item[static_cast<size_t>(*i)];
    return Tensor::from_vector(users_per_item).to(DType::f32);
  }

  std::string count_ = "users";
  train::TrainingData data_;
  Device device_ = Device::cpu();
  int64_t num_users_ = 0, num_items_ = 0;
  Tensor item_scores_;  // f32 [items] on device_
};

}  // namespace

void add_popularity_keys(recipe::Schema& schema) {
  schema.add_variant("model.type", "popularity", "model.count", Kind::string).with_default("users")
      .one_of({"users", "rows", "values"})
      .help("what makes an item popular: distinct users, training rows, or summed row values");
}

std::unique_ptr<train::Model> create_popularity() { return std::make_unique<Popularity>(); }

}  // namespace aisle::models
