#include "src/models/ngcf/model.hpp"

#include "aisle/autograd/grad_mode.hpp"
#include "aisle/data/sampler_streams.hpp"
#include "aisle/models/ngcf.hpp"
#include "aisle/nn/init.hpp"
#include "aisle/ops/index.hpp"
#include "src/models/model_tensors.hpp"
#include "src/models/trained_state.hpp"

namespace aisle::models {
namespace ngcf {
namespace {

constexpr const char* kEgo = "ego_embeddings";
constexpr const char* kUsers = "user_embeddings";
constexpr const char* kItems = "item_embeddings";
constexpr const char* kLayerParts[] = {"w1", "b1", "w2", "b2"};
constexpr auto kDropoutPurpose = data::SamplerPurpose::message_dropout;

std::string layer_name(size_t l, const char* part) { return "layer" + std::to_string(l) + "." + part; }

}  // namespace

void Ngcf::configure(const recipe::Recipe& recipe) {
  config_ = Config::from_recipe(recipe);
  configured_ = true;
}

void Ngcf::setup(const train::TrainingData& data, const train::ModelContext& ctx) {
  AISLE_CHECK(configured_, "ngcf: setup() before configure()");
  AISLE_CHECK(ctx.comm == nullptr || ctx.comm->world_size() == 1,
              "ngcf: trains in one process only, not on ", ctx.comm == nullptr ? 1 : ctx.comm->world_size(), " ranks");
  AISLE_CHECK(data.train.size() > 0, "ngcf: the training split has no interactions");
  AISLE_CHECK(data.train_index != nullptr, "ngcf: TrainingData.train_index is not set");
  device_ = ctx.device;
  seed_ = ctx.seed;
  num_users_ = data.num_users;
  num_items_ = data.num_items;
  // Everything Xavier-uniform from one host generator, as the reference code initialises every
  // variable (the tables over [rows, F], the biases as [1, d]): the same numbers on every device.
  Generator gen(ctx.seed);
  const int64_t f = config_.factors;
  const Tensor users = nn::init::xavier_uniform({num_users_, f}, num_users_, f, gen);
  const Tensor items = nn::init::xavier_uniform({num_items_, f}, num_items_, f, gen);
  params_ = Params{Var::parameter(ops::concat({users, items}, 0).to(device_), kEgo), {}};
  int64_t d_in = f;
  for (size_t l = 0; l < config_.layer_sizes.size(); ++l) {
    const int64_t d_out = config_.layer_sizes[l];
    auto weight = [&](const char* part) {
      return Var::parameter(nn::init::xavier_uniform({d_in, d_out}, d_in, d_out, gen).to(device_),
                            layer_name(l, part));
    };
    auto bias = [&](const char* part) {
      return Var::parameter(nn::init::xavier_uniform({d_out}, 1, d_out, gen).to(device_), layer_name(l, part));
    };
    Layer layer;
    layer.w1 = weight("w1");
    layer.b1 = bias("b1");
    layer.w2 = weight("w2");
    layer.b2 = bias("b2");
    params_.layers.push_back(layer);
    d_in = d_out;
  }
  std::vector<Var> trained;
  for (const auto& [name, var] : named_params()) trained.push_back(var);
  optimizer_ = std::make_unique<optim::Adam>(trained, optim::AdamOptions{.lr = config_.lr});
  graph_.emplace(training_adjacency(*data.train_index, device_));

  batches_.emplace(data.train, data::BatchSamplerOptions{.batch_size = config_.batch_size, .seed = seed_},
                   data::NegativeSampler::uniform(data.train_index), config_.negatives, config_.pair_sampling);
  final_stale_ = true;
}

std::vector<std::pair<std::string, Var>> Ngcf::named_params() const {
  std::vector<std::pair<std::string, Var>> named{{kEgo, params_.ego}};
  for (size_t l = 0; l < params_.layers.size(); ++l) {
    const Layer& layer = params_.layers[l];
    named.emplace_back(layer_name(l, "w1"), layer.w1);
    named.emplace_back(layer_name(l, "b1"), layer.b1);
    named.emplace_back(layer_name(l, "w2"), layer.w2);
    named.emplace_back(layer_name(l, "b2"), layer.b2);
  }
  return named;
}

void Ngcf::check_ready(const char* what) const {
  AISLE_CHECK(optimizer_ != nullptr, "ngcf: ", what, " needs setup() first");
}

const SparseOperator& Ngcf::graph() const {
  check_ready("graph()");
  return *graph_;
}

int64_t Ngcf::steps_per_epoch() const {
  check_ready("steps_per_epoch()");
  return batches_->num_batches();
}

BatchIds Ngcf::batch_ids(int64_t epoch, int64_t step) {
  check_ready("training");
  const data::PairwiseBatch b = batches_->batch(epoch, step);
  return {b.rows.users, item_nodes(b.rows.items, num_users_), item_nodes(b.negatives, num_users_)};
}

std::vector<Tensor> Ngcf::dropout_masks(int64_t epoch, int64_t step) const {
  check_ready("dropout_masks()");
  return ngcf::dropout_masks(
      seed_, data::sampler_stream(kDropoutPurpose, static_cast<uint64_t>(epoch), static_cast<uint64_t>(step)),
      num_users_ + num_items_, config_.layer_sizes, config_.message_dropout, DType::f32, device_);
}

Tensor Ngcf::edge_values(int64_t epoch, int64_t step) const {
  check_ready("edge_values()");
  return ngcf::edge_dropout_values(
      *graph_, seed_,
      data::sampler_stream(data::SamplerPurpose::node_dropout, static_cast<uint64_t>(epoch), static_cast<uint64_t>(step)),
      config_.node_dropout);
}

void Ngcf::train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) {
  check_ready("train_steps()");
  const int64_t steps = steps_per_epoch();
  AISLE_CHECK(first_step >= 0 && first_step <= steps, "ngcf: first_step ", first_step, " is outside [0, ", steps,
              "]");
  for (int64_t s = first_step; s < steps; ++s) {
    const BatchIds ids = batch_ids(epoch, s);
    const BatchIds on_device = device_.is_cuda()
                                   ? BatchIds{ids.users.to(device_), ids.items.to(device_), ids.negatives.to(device_)}
                                   : ids;
    Var loss = batch_loss(*graph_, params_, on_device, config_.reg, dropout_masks(epoch, s), edge_values(epoch, s));
    loss.backward();
    const double loss_value = loss.value().to(Device::cpu()).to(DType::f64).item<double>();
    optimizer_->step();
    optimizer_->zero_grad();
    final_stale_ = true;
    if (!on_step(train::StepReport{.step = s, .steps = steps, .loss = loss_value, .examples = ids.users.numel()}))
      return;
  }
}

void Ngcf::refresh_final() const {
  if (!final_stale_) return;
  AISLE_CHECK(params_.ego.defined() && graph_.has_value(), "ngcf: the final embeddings need setup() first");
  NoGradGuard no_grad;
  const Tensor all = propagate(*graph_, params_).value();
  final_users_ = all.rows(0, num_users_).clone();
  final_items_ = all.rows(num_users_, num_users_ + num_items_).clone();
  final_stale_ = false;
}

Tensor Ngcf::score_users(const Tensor& users) const {
  AISLE_CHECK(params_.ego.defined() || final_users_.defined(),
              "ngcf: score_users() needs setup() or load_weights() first");
  refresh_final();
  return score_with_tables(final_users_, final_items_, users);
}

std::map<std::string, Tensor> Ngcf::weights() const {
  AISLE_CHECK(params_.ego.defined() || final_users_.defined(), "ngcf: weights() needs setup() or load_weights() first");
  refresh_final();
  std::map<std::string, Tensor> w{{kUsers, final_users_}, {kItems, final_items_}};
  if (params_.ego.defined())
    for (const auto& [name, var] : named_params()) w.emplace(name, var.value());
  return w;
}

std::map<std::string, Tensor> Ngcf::state() const {
  check_ready("state()");
  return with_optimizer_state(weights(), *optimizer_);
}

void Ngcf::load_state(const std::map<std::string, Tensor>& state) {
  check_ready("load_state()");
  load_trained_state("ngcf", state, this->state(), named_params(), {kUsers, kItems}, *optimizer_);
  final_stale_ = true;  // the final tables are derived from the parameters
}

// Serving needs only the final tables; the trained parameters, when the artifact has them, are
// checked against each other and kept so that weights() gives them back.
void Ngcf::load_weights(const std::map<std::string, Tensor>& weights, Device device) {
  const auto [p, q] = read_final_tables("ngcf", weights);
  const int64_t width = p.size(1);
  Params params;
  std::vector<int64_t> sizes;
  int64_t factors = 0;
  if (weights.count(kEgo) != 0) {
    const Tensor ego = expect_weight("ngcf", weights, kEgo, {p.size(0) + q.size(0), -1}, true);
    factors = ego.size(1);
    params.ego = Var(ego.to(device));
    int64_t d_in = factors, total = factors;
    for (size_t l = 0; weights.count(layer_name(l, "w1")) != 0; ++l) {
      const Tensor w1 = expect_weight("ngcf", weights, layer_name(l, "w1"), {d_in, -1}, true);
      const int64_t d_out = w1.size(1);
      Layer layer;
      layer.w1 = Var(w1.to(device));
      layer.b1 = Var(expect_weight("ngcf", weights, layer_name(l, "b1"), {d_out}, true).to(device));
      layer.w2 = Var(expect_weight("ngcf", weights, layer_name(l, "w2"), {d_in, d_out}, true).to(device));
      layer.b2 = Var(expect_weight("ngcf", weights, layer_name(l, "b2"), {d_out}, true).to(device));
      params.layers.push_back(layer);
      sizes.push_back(d_out);
      d_in = d_out;
      total += d_out;
    }
    AISLE_ARTIFACT_CHECK(total == width, "ngcf: the parameters give final embeddings of width ", total, " but '",
                         kUsers, "' has ", width);
  }
  device_ = device;
  num_users_ = p.size(0);
  num_items_ = q.size(0);
  params_ = params;
  if (params_.ego.defined()) {
    config_.factors = factors;
    config_.layer_sizes = sizes;
  }
  final_users_ = p.to(device);
  final_items_ = q.to(device);
  final_stale_ = false;  // there is no graph to propagate over: the exported tables are final
  graph_.reset();
  optimizer_.reset();
  batches_.reset();
}

std::map<std::string, int64_t> Ngcf::dimensions() const {
  // Only what the final tables show (a served model may have nothing else); the layer sizes are in
  // the hyperparameters.
  const int64_t width = final_users_.defined() && !final_stale_ ? final_users_.size(1) : config_.final_width();
  return {{"users", num_users_}, {"items", num_items_}, {"width", width}};
}

}  // namespace ngcf

std::unique_ptr<train::Model> create_ngcf() { return std::make_unique<ngcf::Ngcf>(); }

}  // namespace aisle::models
