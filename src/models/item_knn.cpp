#include "aisle/models/item_knn.hpp"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "aisle/core/error.hpp"
#include "src/models/item_knn/scoring.hpp"
#include "src/models/item_knn/similarity.hpp"

namespace aisle::models {
namespace {

using recipe::Kind;

// Checks a tensor of `tensors` by name, dtype and shape (-1: any size); throws E naming it.
template <class E>
const Tensor& expect(const std::map<std::string, Tensor>& tensors, const char* what, const std::string& name,
                     DType dtype, const std::vector<int64_t>& shape) {
  const auto it = tensors.find(name);
  if (it == tensors.end()) throw E(detail::concat("item_knn: the ", what, " has no tensor '", name, "'"));
  const Tensor& t = it->second;
  bool ok = t.dtype() == dtype && t.dim() == static_cast<int64_t>(shape.size());
  for (size_t a = 0; ok && a < shape.size(); ++a) ok = shape[a] < 0 || t.size(static_cast<int64_t>(a)) == shape[a];
  if (!ok) {
    std::string want = "[";
    for (size_t a = 0; a < shape.size(); ++a) want += (a ? ", " : "") + (shape[a] < 0 ? std::string("*") : std::to_string(shape[a]));
    throw E(detail::concat("item_knn: ", what, " tensor '", name, "' is ", t.describe(), ", expected ", want, "] ",
                           dtype_name(dtype)));
  }
  return t;
}

class ItemKnn final : public train::Model {
 public:
  std::string type() const override { return "item_knn"; }
  train::Feedback feedback() const override { return train::Feedback::implicit; }
  bool iterative() const override { return false; }

  void configure(const recipe::Recipe& recipe) override {
    neighbors_ = recipe.integer("model.neighbors");
    shrink_ = recipe.number("model.shrink");
    weighting_ = recipe.string("model.weighting");
  }

  void setup(const train::TrainingData& data, const train::ModelContext& ctx) override {
    AISLE_CHECK(data.train_index, "item_knn: the training data has no user index");
    data_ = data;
    device_ = ctx.device;
    num_users_ = data.num_users;
    num_items_ = data.num_items;
    const int64_t width = std::min(neighbors_, std::max<int64_t>(num_items_ - 1, 0));
    tables_.neighbor_items = Tensor::full({num_items_, width}, -1.0, DType::i64);
    tables_.neighbor_weights = Tensor::zeros({num_items_, width}, DType::f32);
    // Scoring ranks a user's items by their training history: the index's distinct items.
    const data::UserItemIndex& index = *data.train_index;
    AISLE_CHECK(index.num_users() == num_users_ && index.num_items() == num_items_, "item_knn: the user index "
                "covers ", index.num_users(), " users x ", index.num_items(), " items, the training data ", num_users_,
                " x ", num_items_);
    std::vector<int64_t> offsets(static_cast<size_t>(num_users_) + 1, 0), items;
    for (int64_t u = 0; u < num_users_; ++u) {
      items.insert(items.end(), index.begin(u), index.end(u));
      offsets[static_cast<size_t>(u) + 1] = static_cast<int64_t>(items.size());
    }
    tables_.history_offsets = Tensor::from_vector(offsets);
    tables_.history_items = Tensor::from_vector(items);
    refresh_device_tables();
  }

  int64_t steps_per_epoch() const override { return 1; }

  void train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) override {
    if (first_step >= 1) return;
    const knn::UserItemMatrix m =
        weighting_ == "values" ? knn::value_matrix(data_.train) : knn::binary_matrix(*data_.train_index);
    knn::NeighborTable t = knn::top_neighbors(m, tables_.neighbor_items.size(1), shrink_);
    tables_.neighbor_items = std::move(t.items);
    tables_.neighbor_weights = std::move(t.weights);
    refresh_device_tables();
    on_step({.step = 0, .steps = 1, .loss = std::numeric_limits<double>::quiet_NaN(),
             .examples = static_cast<int64_t>(m.items.size())});
  }

  Tensor score_users(const Tensor& users) const override {
    AISLE_CHECK(tables_.neighbor_items.defined(), "item_knn: score_users before setup or load_weights");
    AISLE_CHECK(users.dim() == 1 && users.dtype() == DType::i64 && users.device() == device_,
                "item_knn: score_users expects i64 [B] users on ", device_.str(), ", got ", users.describe());
    if (device_.is_cpu()) return knn::score_cpu(tables_, users);
    return knn::score_with_ops(tables_, device_neighbors_, users);
  }

  std::map<std::string, Tensor> state() const override { return weights(); }

  void load_state(const std::map<std::string, Tensor>& state) override {
    AISLE_CHECK(tables_.neighbor_items.defined(), "item_knn: load_state before setup");
    const int64_t width = tables_.neighbor_items.size(1);
    knn::ScoringTables t = read_tables<Error>(state, "checkpoint", {num_items_, width}, num_users_);
    AISLE_CHECK(t.history_items.numel() == tables_.history_items.numel(), "item_knn: checkpoint tensor "
                "'history_items' has ", t.history_items.numel(), " entries, the training data ",
                tables_.history_items.numel());
    tables_ = clone(t);
    refresh_device_tables();
  }

  std::map<std::string, Tensor> weights() const override {
    return {{"neighbor_items", tables_.neighbor_items},
            {"neighbor_weights", tables_.neighbor_weights},
            {"history_offsets", tables_.history_offsets},
            {"history_items", tables_.history_items}};
  }

  void load_weights(const std::map<std::string, Tensor>& weights, Device device) override {
    const Tensor& items = expect<ArtifactError>(weights, "weights", "neighbor_items", DType::i64, {-1, -1});
    const Tensor& offsets = expect<ArtifactError>(weights, "weights", "history_offsets", DType::i64, {-1});
    AISLE_ARTIFACT_CHECK(offsets.numel() >= 1, "item_knn: weights tensor 'history_offsets' is empty");
    tables_ = read_tables<ArtifactError>(weights, "weights", {items.size(0), items.size(1)}, offsets.numel() - 1);
    device_ = device;
    num_items_ = items.size(0);
    num_users_ = offsets.numel() - 1;
    neighbors_ = items.size(1);
    configured_ = false;
    refresh_device_tables();
  }

  std::string hyperparameters_json() const override {
    if (!configured_) return nlohmann::json{{"neighbors", neighbors_}}.dump();
    return nlohmann::json{{"neighbors", neighbors_}, {"shrink", shrink_}, {"weighting", weighting_}}.dump();
  }

  std::map<std::string, int64_t> dimensions() const override {
    return {{"users", num_users_},
            {"items", num_items_},
            {"neighbors", tables_.neighbor_items.defined() ? tables_.neighbor_items.size(1) : neighbors_}};
  }

  Device device() const override { return device_; }

 private:
  // Reads and validates the four tensors (shapes, and every index in range, since scoring
  // trusts them); returns them as given, on the CPU.
  template <class E>
  static knn::ScoringTables read_tables(const std::map<std::string, Tensor>& tensors, const char* what,
                                        std::vector<int64_t> table_shape, int64_t users) {
    knn::ScoringTables t;
    t.neighbor_items = expect<E>(tensors, what, "neighbor_items", DType::i64, table_shape).to(Device::cpu());
    t.neighbor_weights = expect<E>(tensors, what, "neighbor_weights", DType::f32, table_shape).to(Device::cpu());
    t.history_offsets = expect<E>(tensors, what, "history_offsets", DType::i64, {users + 1}).to(Device::cpu());
    t.history_items = expect<E>(tensors, what, "history_items", DType::i64, {-1}).to(Device::cpu());
    const int64_t items = table_shape[0], width = table_shape[1];
    const int64_t* nb = t.neighbor_items.data<int64_t>();
    for (int64_t i = 0; i < items; ++i)
      for (int64_t k = 0; k < width; ++k) {
        const int64_t j = nb[i * width + k];
        if (j < -1 || j >= items || (j == -1 && k + 1 < width && nb[i * width + k + 1] != -1))
          throw E(detail::concat("item_knn: ", what, " tensor 'neighbor_items' row ", i, " holds ", j,
                                 " at column ", k, " (items are in [0, ", items, "), -1 pads the end of a row)"));
      }
    const int64_t* off = t.history_offsets.data<int64_t>();
    const int64_t nnz = t.history_items.numel();
    for (int64_t u = 0; u <= users; ++u)
      if ((u == 0 && off[0] != 0) || (u > 0 && off[u] < off[u - 1]) || (u == users && off[u] != nnz))
        throw E(detail::concat("item_knn: ", what, " tensor 'history_offsets' is not non-decreasing from 0 to ",
                               nnz, " (entry ", u, " is ", off[u], ")"));
    const int64_t* hist = t.history_items.data<int64_t>();
    for (int64_t e = 0; e < nnz; ++e)
      if (hist[e] < 0 || hist[e] >= items)
        throw E(detail::concat("item_knn: ", what, " tensor 'history_items' holds item ", hist[e], " at ", e,
                               ", outside [0, ", items, ")"));
    return t;
  }

  static knn::ScoringTables clone(const knn::ScoringTables& t) {
    return {t.neighbor_items.clone(), t.neighbor_weights.clone(), t.history_offsets.clone(), t.history_items.clone()};
  }

  void refresh_device_tables() {
    device_neighbors_ = device_.is_cpu() ? knn::DeviceNeighbors{} : knn::device_neighbors(tables_, device_);
  }

  int64_t neighbors_ = 100;
  double shrink_ = 0;
  std::string weighting_ = "binary";
  bool configured_ = true;
  train::TrainingData data_;
  Device device_ = Device::cpu();
  int64_t num_users_ = 0, num_items_ = 0;
  knn::ScoringTables tables_;              // CPU: the weights, and what score_cpu reads
  knn::DeviceNeighbors device_neighbors_;  // on device_ when it is not the CPU
};

}  // namespace

void add_item_knn_keys(recipe::Schema& schema) {
  schema.add_variant("model.type", "item_knn", "model.neighbors", Kind::integer).with_default("100").at_least(1)
      .help("most similar items kept per item");
  schema.add_variant("model.type", "item_knn", "model.shrink", Kind::number).with_default("0").at_least(0)
      .help("added to the cosine's denominator: damps similarities that few users support");
  schema.add_variant("model.type", "item_knn", "model.weighting", Kind::string).with_default("binary")
      .one_of({"binary", "values"})
      .help("binary: 1 per distinct (user, item); values: the summed row values (e.g. quantities)");
}

std::unique_ptr<train::Model> create_item_knn() { return std::make_unique<ItemKnn>(); }

}  // namespace aisle::models
