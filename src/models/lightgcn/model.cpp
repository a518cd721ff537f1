#include "src/models/lightgcn/model.hpp"

#include <algorithm>

#include "aisle/autograd/elementwise.hpp"
#include "aisle/autograd/grad_mode.hpp"
#include "aisle/data/sampler_streams.hpp"
#include "aisle/dist/gradient_buckets.hpp"
#include "aisle/models/lightgcn.hpp"
#include "aisle/nn/init.hpp"
#include "aisle/ops/index.hpp"
#include "aisle/ops/matmul.hpp"
#include "aisle/ops/scatter.hpp"
#include "src/models/model_tensors.hpp"
#include "src/models/trained_state.hpp"

namespace aisle::models {
namespace lightgcn {
namespace {

constexpr const char* kEgo = "ego_embeddings";
constexpr const char* kUsers = "user_embeddings";
constexpr const char* kItems = "item_embeddings";

}  // namespace

void LightGcn::configure(const recipe::Recipe& recipe) {
  config_ = Config::from_recipe(recipe);
  configured_ = true;
}

void LightGcn::setup(const train::TrainingData& data, const train::ModelContext& ctx) {
  AISLE_CHECK(configured_, "lightgcn: setup() before configure()");
  AISLE_CHECK(data.train.size() > 0, "lightgcn: the training split has no interactions");
  AISLE_CHECK(data.train_index != nullptr, "lightgcn: TrainingData.train_index is not set");
  device_ = ctx.device;
  seed_ = ctx.seed;
  comm_ = ctx.comm;
  world_ = comm_ != nullptr ? comm_->world_size() : 1;
  const int rank = comm_ != nullptr ? comm_->rank() : 0;
  num_users_ = data.num_users;
  num_items_ = data.num_items;
  // Users then items from one generator on the host: the same numbers on every device and every
  // rank, and the same as BPR-MF's tables for the same seed (so layers: 0 is BPR-MF without a bias).
  Generator gen(ctx.seed);
  const Tensor users = nn::init::normal({num_users_, config_.factors}, config_.init_std, gen);
  const Tensor items = nn::init::normal({num_items_, config_.factors}, config_.init_std, gen);
  ego_ = Var::parameter(ops::concat({users, items}, 0).to(device_), kEgo);
  optimizer_ = std::make_unique<optim::Adam>(std::vector<Var>{ego_}, optim::AdamOptions{.lr = config_.lr});
  graph_.emplace(training_adjacency(*data.train_index, device_));

  batches_.emplace(data.train,
                   data::BatchSamplerOptions{.batch_size = config_.batch_size, .seed = seed_, .rank = rank,
                                             .world_size = world_},
                   data::NegativeSampler::uniform(data.train_index), config_.negatives, config_.pair_sampling);
  final_stale_ = true;
}

void LightGcn::check_ready(const char* what) const {
  AISLE_CHECK(optimizer_ != nullptr, "lightgcn: ", what, " needs setup() first");
}

const SparseOperator& LightGcn::graph() const {
  check_ready("graph()");
  return *graph_;
}

int64_t LightGcn::steps_per_epoch() const {
  check_ready("steps_per_epoch()");
  return batches_->num_batches();
}

BatchIds LightGcn::batch_ids(int64_t epoch, int64_t step) {
  int64_t global_size = 0;
  return rank_batch(epoch, step, global_size);
}

BatchIds LightGcn::rank_batch(int64_t epoch, int64_t step, int64_t& global_size) {
  check_ready("training");
  // Only this rank's real rows: padding of a short share is not trained on.
  const data::PairwiseBatch b = batches_->batch(epoch, step);
  global_size = b.rows.global_size;
  return {b.rows.users, item_nodes(b.rows.items, num_users_), item_nodes(b.negatives, num_users_)};
}

void LightGcn::train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) {
  check_ready("train_steps()");
  const int64_t steps = steps_per_epoch();
  AISLE_CHECK(first_step >= 0 && first_step <= steps, "lightgcn: first_step ", first_step, " is outside [0, ", steps,
              "]");
  for (int64_t s = first_step; s < steps; ++s) {
    int64_t global_size = 0;
    const BatchIds ids = rank_batch(epoch, s, global_size);
    const double loss = step_gradient(ids, global_size);
    optimizer_->step();
    optimizer_->zero_grad();
    final_stale_ = true;
    if (!on_step(train::StepReport{.step = s, .steps = steps, .loss = loss, .examples = global_size})) return;
  }
}

// Each rank runs the whole propagation (the graph is replicated) on its share of the batch, with
// the loss scaled by valid / global_size so that the shares' losses and gradients add up to the
// one-process ones. The ego gradient is dense — propagation reaches rows beyond the batch — so
// it is summed over the ranks whole, and every rank then takes the same Adam step.
double LightGcn::step_gradient(const BatchIds& ids, int64_t global_size) {
  const int64_t valid = ids.users.numel();
  double loss_value = 0;
  if (valid > 0) {
    const BatchIds on_device = device_.is_cuda()
                                   ? BatchIds{ids.users.to(device_), ids.items.to(device_), ids.negatives.to(device_)}
                                   : ids;
    Var loss = batch_loss(*graph_, ego_, config_.layers, on_device, config_.reg);
    if (valid != global_size) loss = loss * (static_cast<double>(valid) / static_cast<double>(global_size));
    loss.backward();
    loss_value = loss.value().to(Device::cpu()).to(DType::f64).item<double>();
  }
  if (world_ == 1) return loss_value;
  // A rank without real rows (a short last batch) still joins the collectives, with nothing to add.
  if (!ego_.grad().defined()) ego_.set_grad(Tensor::zeros(ego_.shape(), ego_.value().dtype(), device_));
  dist::all_reduce_gradients(*comm_, {ego_.grad()});
  return comm_->all_reduce_scalar(loss_value);
}

void LightGcn::refresh_final() const {
  if (!final_stale_) return;
  AISLE_CHECK(ego_.defined() && graph_.has_value(), "lightgcn: the propagated embeddings need setup() first");
  NoGradGuard no_grad;
  const Tensor all = propagate(*graph_, Var(ego_.value()), config_.layers).value();
  final_users_ = all.rows(0, num_users_).clone();
  final_items_ = all.rows(num_users_, num_users_ + num_items_).clone();
  final_stale_ = false;
}

Tensor LightGcn::score_users(const Tensor& users) const {
  AISLE_CHECK(ego_.defined() || final_users_.defined(),
              "lightgcn: score_users() needs setup() or load_weights() first");
  refresh_final();
  return score_with_tables(final_users_, final_items_, users);
}

std::map<std::string, Tensor> LightGcn::weights() const {
  AISLE_CHECK(ego_.defined() || final_users_.defined(), "lightgcn: weights() needs setup() or load_weights() first");
  refresh_final();
  std::map<std::string, Tensor> w{{kUsers, final_users_}, {kItems, final_items_}};
  if (ego_.defined()) w.emplace(kEgo, ego_.value());
  return w;
}

std::map<std::string, Tensor> LightGcn::state() const {
  check_ready("state()");
  return with_optimizer_state(weights(), *optimizer_);
}

void LightGcn::load_state(const std::map<std::string, Tensor>& state) {
  check_ready("load_state()");
  load_trained_state("lightgcn", state, this->state(), {{kEgo, ego_}}, {kUsers, kItems}, *optimizer_);
  final_stale_ = true;  // the propagated tables are derived from the ego table
}

void LightGcn::load_weights(const std::map<std::string, Tensor>& weights, Device device) {
  const auto [p, q] = read_final_tables("lightgcn", weights);
  const int64_t factors = p.size(1);
  Tensor ego;
  if (weights.count(kEgo) != 0) ego = expect_weight("lightgcn", weights, kEgo, {p.size(0) + q.size(0), factors}, true);
  device_ = device;
  num_users_ = p.size(0);
  num_items_ = q.size(0);
  config_.factors = factors;
  ego_ = ego.defined() ? Var(ego.to(device)) : Var();
  final_users_ = p.to(device);
  final_items_ = q.to(device);
  final_stale_ = false;  // there is no graph to propagate over: the exported tables are final
  graph_.reset();
  comm_ = nullptr;  // a served model trains no more
  world_ = 1;
  optimizer_.reset();
  batches_.reset();
}

std::map<std::string, int64_t> LightGcn::dimensions() const {
  // Not the layer count: a model served from its propagated tables has none (it is in the
  // hyperparameters), and the manifest's dimensions must match the served model's.
  return {{"users", num_users_}, {"items", num_items_}, {"factors", config_.factors}};
}

}  // namespace lightgcn

std::unique_ptr<train::Model> create_lightgcn() { return std::make_unique<lightgcn::LightGcn>(); }

}  // namespace aisle::models
