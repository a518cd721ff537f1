#include "src/models/graphsage/model.hpp"

#include <algorithm>
#include <utility>

#include "aisle/autograd/embedding.hpp"
#include "aisle/autograd/grad_mode.hpp"
#include "aisle/data/sampler_streams.hpp"
#include "aisle/models/graphsage.hpp"
#include "aisle/nn/init.hpp"
#include "aisle/ops/index.hpp"
#include "src/models/graphsage/cold_items.hpp"
#include "src/models/graphsage/new_items.hpp"
#include "src/models/model_tensors.hpp"
#include "src/models/trained_state.hpp"

namespace aisle::models {
namespace graphsage {
namespace {

constexpr const char* kTokens = "input_tokens";
constexpr const char* kUsers = "user_embeddings";
constexpr const char* kItems = "item_embeddings";
constexpr const char* kAttributeInputs = "attribute_inputs";
constexpr const char* kUserInputs = "user_inputs";

std::string layer_name(size_t l, const char* part) { return "layer" + std::to_string(l) + "." + part; }
// Layer l's input at the attribute nodes, [A, d_l]: what embedding a new item needs (new_items.hpp).
std::string attribute_inputs_name(size_t l) { return layer_name(l, kAttributeInputs); }
// Layer l's input at the users, [U, d_l]: what a new item's early buyers contribute to it.
std::string user_inputs_name(size_t l) { return layer_name(l, kUserInputs); }

Tensor positions_of(const std::vector<int64_t>& seeds, const Tensor& nodes) {
  std::vector<int64_t> pos = nodes.to_vector<int64_t>();
  for (int64_t& p : pos) p = std::lower_bound(seeds.begin(), seeds.end(), p) - seeds.begin();
  return Tensor::from_vector(pos, nodes.shape());
}

}  // namespace

void GraphSage::configure(const recipe::Recipe& recipe) {
  config_ = Config::from_recipe(recipe);
  configured_ = true;
}

void GraphSage::setup(const train::TrainingData& data, const train::ModelContext& ctx) {
  AISLE_CHECK(configured_, "graphsage: setup() before configure()");
  AISLE_CHECK(ctx.comm == nullptr || ctx.comm->world_size() == 1, "graphsage: trains in one process only, not on ",
              ctx.comm == nullptr ? 1 : ctx.comm->world_size(), " ranks");
  AISLE_CHECK(data.train.size() > 0, "graphsage: the training split has no interactions");
  AISLE_CHECK(data.train_index != nullptr, "graphsage: TrainingData.train_index is not set");
  device_ = ctx.device;
  seed_ = ctx.seed;
  num_users_ = data.num_users;
  num_items_ = data.num_items;
  width_ = config_.width();
  graph_.emplace(build_feature_graph(*data.train_index, num_users_, num_items_, data.item_features.get(),
                                     config_.graph));
  // The sampler works where the layers do: on a GPU its blocks are made on the device (and are
  // the CPU sampler's blocks bit for bit), so a step copies no neighbourhood to the device.
  sampler_.emplace(csr_on_device(graph_->adjacency, device_), config_.fanouts);

  // All from one host generator: the same numbers on every device. Weights Xavier-uniform (as
  // PyG's SAGEConv's glorot), biases zero.
  Generator gen(ctx.seed);
  Params p;
  p.tokens = Var::parameter(nn::init::normal({graph_->num_tokens, config_.factors}, config_.init_std, gen).to(device_),
                            kTokens);
  int64_t d_in = config_.factors;
  for (size_t l = 0; l < config_.layer_sizes.size(); ++l) {
    const int64_t d_out = config_.layer_sizes[l];
    auto weight = [&](const char* part, int64_t rows, int64_t cols) {
      return Var::parameter(nn::init::xavier_uniform({rows, cols}, rows, cols, gen).to(device_), layer_name(l, part));
    };
    auto zeros = [&](const char* part, int64_t n) {
      return Var::parameter(Tensor::zeros({n}, DType::f32, device_), layer_name(l, part));
    };
    Layer layer;
    layer.w_self = weight("w_self", d_in, d_out);
    layer.w_neigh = weight("w_neigh", d_in, d_out);
    layer.bias = zeros("bias", d_out);
    if (config_.aggregator == Aggregator::pool) {
      layer.w_pool = weight("w_pool", d_in, d_in);
      layer.b_pool = zeros("b_pool", d_in);
    }
    p.layers.push_back(layer);
    d_in = d_out;
  }
  params_ = p;
  // The input rows get sparse gradients (only the sampled nodes' rows); lazy Adam moves only those.
  params_.tokens.set_sparse(true);
  std::vector<Var> trained;
  for (const auto& [name, var] : named_params()) trained.push_back(var);
  optimizer_ = std::make_unique<optim::SparseAdam>(trained, optim::SparseAdamOptions{.lr = config_.lr});

  data::NegativeSampler negatives = data::NegativeSampler::uniform(data.train_index);
  if (config_.known_negatives) {
    // Uniform over the items that have training rows: a new item is never a positive, and making
    // it a negative at every step would teach the model that items without user neighbours are
    // bad, which is the prior cold start has to overcome.
    const std::vector<uint8_t> seen = data::items_with_rows(*data.train_index);
    std::vector<float> known(static_cast<size_t>(num_items_), 0.0f);
    for (size_t i = 0; i < seen.size(); ++i) known[i] = seen[i];
    negatives = data::NegativeSampler::popularity(data.train_index, Tensor::from_vector(known), /*alpha=*/1.0);
  }
  batches_.emplace(data.train, data::BatchSamplerOptions{.batch_size = config_.batch_size, .seed = seed_},
                   std::move(negatives), config_.negatives, config_.pair_sampling);
  served_parameters_.clear();
  final_stale_ = true;
}

std::vector<std::pair<std::string, Var>> GraphSage::named_params() const {
  std::vector<std::pair<std::string, Var>> named{{kTokens, params_.tokens}};
  for (size_t l = 0; l < params_.layers.size(); ++l) {
    const Layer& layer = params_.layers[l];
    named.emplace_back(layer_name(l, "w_self"), layer.w_self);
    named.emplace_back(layer_name(l, "w_neigh"), layer.w_neigh);
    named.emplace_back(layer_name(l, "bias"), layer.bias);
    if (layer.w_pool.defined()) {
      named.emplace_back(layer_name(l, "w_pool"), layer.w_pool);
      named.emplace_back(layer_name(l, "b_pool"), layer.b_pool);
    }
  }
  return named;
}

void GraphSage::check_ready(const char* what) const {
  AISLE_CHECK(optimizer_ != nullptr, "graphsage: ", what, " needs setup() first");
}

const FeatureGraph& GraphSage::graph() const {
  check_ready("graph()");
  return *graph_;
}

std::vector<std::string> GraphSage::setup_notes() const { return graph_ ? graph_->describe() : std::vector<std::string>{}; }

int64_t GraphSage::steps_per_epoch() const {
  check_ready("steps_per_epoch()");
  return batches_->num_batches();
}

StepInputs GraphSage::step_inputs(int64_t epoch, int64_t step) {
  check_ready("training");
  const data::PairwiseBatch b = batches_->batch(epoch, step);
  const Tensor items = item_nodes(b.rows.items, num_users_), negative_nodes = item_nodes(b.negatives, num_users_);
  StepInputs in;
  for (const Tensor* t : {&b.rows.users, &items, &negative_nodes}) {
    const std::vector<int64_t> v = t->to_vector<int64_t>();
    in.seeds.insert(in.seeds.end(), v.begin(), v.end());
  }
  std::sort(in.seeds.begin(), in.seeds.end());
  in.seeds.erase(std::unique(in.seeds.begin(), in.seeds.end()), in.seeds.end());
  // Each node's neighbours are drawn from a stream keyed by (epoch, step, hop, node): a resumed run
  // redraws them exactly.
  data::NeighborSample sample = sampler_->sample(
      Tensor::from_vector(in.seeds), seed_,
      data::sampler_stream(data::SamplerPurpose::neighbors, static_cast<uint64_t>(epoch), static_cast<uint64_t>(step)));
  // Items trained as if new this step (model.cold_item_rate): positives and negatives alike, so
  // looking new is no hint either way.
  in.cold_items = items_made_cold(in.seeds, num_users_, num_items_, config_.cold_item_rate, seed_,
                                  data::sampler_stream(data::SamplerPurpose::cold_items, static_cast<uint64_t>(epoch),
                                                       static_cast<uint64_t>(step)));
  hide_user_neighbours(sample, in.cold_items, num_users_);
  // The input rows are looked up on the host (the token layout lives there), so the input nodes
  // come back from the device; the blocks themselves stay where the sampler made them.
  graph_->input_bags(sample.input_nodes().to_vector<int64_t>(), in.input_ids, in.input_offsets);
  in.input_ids = in.input_ids.to(device_);
  in.input_offsets = in.input_offsets.to(device_);
  // The sampler's blocks go outwards from the seeds; the layers run inwards. layer_graph moves
  // nothing for blocks already on device_.
  for (auto block = sample.blocks.rbegin(); block != sample.blocks.rend(); ++block)
    in.graphs.push_back(layer_graph(block->adjacency, block->num_dst, config_.aggregator, device_));
  in.positions = SeedPositions{positions_of(in.seeds, b.rows.users).to(device_), positions_of(in.seeds, items).to(device_),
                               positions_of(in.seeds, negative_nodes).to(device_)};
  return in;
}

void GraphSage::train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) {
  check_ready("train_steps()");
  const int64_t steps = steps_per_epoch();
  AISLE_CHECK(first_step >= 0 && first_step <= steps, "graphsage: first_step ", first_step, " is outside [0, ", steps,
              "]");
  for (int64_t s = first_step; s < steps; ++s) {
    const StepInputs in = step_inputs(epoch, s);
    const Var inputs = embedding_bag(params_.tokens, in.input_ids, in.input_offsets, ops::BagMode::mean);
    Var loss = batch_loss(params_, inputs, in.graphs, config_, in.positions);
    loss.backward();
    const double loss_value = loss.value().to(Device::cpu()).to(DType::f64).item<double>();
    optimizer_->step();
    optimizer_->zero_grad();
    final_stale_ = true;
    if (!on_step(train::StepReport{.step = s, .steps = steps, .loss = loss_value,
                                   .examples = in.positions.users.numel()}))
      return;
  }
}

// Inference uses every neighbour (fan-out -1), layer by layer over the whole graph, as PyG's
// SAGE inference does: O(nodes x width) memory and no sampling noise in the served embeddings.
void GraphSage::refresh_final() const {
  if (!final_stale_) return;
  AISLE_CHECK(params_.tokens.defined() && graph_.has_value(), "graphsage: the final embeddings need setup() first");
  NoGradGuard no_grad;
  std::vector<int64_t> all(static_cast<size_t>(graph_->num_nodes));
  for (size_t v = 0; v < all.size(); ++v) all[v] = static_cast<int64_t>(v);
  Tensor ids, offsets;
  graph_->input_bags(all, ids, offsets);
  const Var inputs = embedding_bag(Var(params_.tokens.value()), ids.to(device_), offsets.to(device_),
                                   ops::BagMode::mean);
  const LayerGraph whole = layer_graph(graph_->adjacency, graph_->num_nodes, config_.aggregator, device_);
  const std::vector<LayerGraph> graphs(params_.layers.size(), whole);
  std::vector<KeptRows> keep{{num_users_ + num_items_, graph_->num_nodes, {}}};
  if (config_.export_user_states) keep.push_back({0, num_users_, {}});
  const Tensor z = sage_forward(params_, inputs, graphs, config_, &keep).value();
  final_users_ = z.rows(0, num_users_).clone();
  final_items_ = z.rows(num_users_, num_users_ + num_items_).clone();
  final_attributes_ = std::move(keep[0].rows);
  final_user_states_ = config_.export_user_states ? std::move(keep[1].rows) : std::vector<Tensor>{};
  final_stale_ = false;
}

Tensor GraphSage::item_embeddings() const {
  AISLE_CHECK(params_.tokens.defined() || final_items_.defined(),
              "graphsage: item_embeddings() needs setup() or load_weights() first");
  refresh_final();
  return final_items_;
}

Tensor GraphSage::score_users(const Tensor& users) const {
  AISLE_CHECK(params_.tokens.defined() || final_users_.defined(),
              "graphsage: score_users() needs setup() or load_weights() first");
  refresh_final();
  return score_with_tables(final_users_, final_items_, users);
}

std::map<std::string, Tensor> GraphSage::weights() const {
  AISLE_CHECK(params_.tokens.defined() || final_users_.defined(),
              "graphsage: weights() needs setup() or load_weights() first");
  refresh_final();
  std::map<std::string, Tensor> w{{kUsers, final_users_}, {kItems, final_items_}};
  if (params_.tokens.defined()) {
    for (const auto& [name, var] : named_params()) w.emplace(name, var.value());
    for (size_t l = 0; l < final_attributes_.size(); ++l) w.emplace(attribute_inputs_name(l), final_attributes_[l]);
    for (size_t l = 0; l < final_user_states_.size(); ++l) w.emplace(user_inputs_name(l), final_user_states_[l]);
  } else
    w.insert(served_parameters_.begin(), served_parameters_.end());
  return w;
}

std::map<std::string, Tensor> GraphSage::state() const {
  check_ready("state()");
  return with_optimizer_state(weights(), *optimizer_);
}

void GraphSage::load_state(const std::map<std::string, Tensor>& state) {
  check_ready("load_state()");
  std::vector<std::string> derived{kUsers, kItems};
  for (size_t l = 0; l < params_.layers.size(); ++l) {
    derived.push_back(attribute_inputs_name(l));
    derived.push_back(user_inputs_name(l));
  }
  load_trained_state("graphsage", state, this->state(), named_params(), derived, *optimizer_);
  final_stale_ = true;  // the final tables are derived from the parameters
}

// Serving needs only the final tables. The trained parameters and attribute states an artifact
// carries are kept as they are, so that weights() gives them back (`aisle add-items` reads them
// from the artifact itself, new_items.hpp).
void GraphSage::load_weights(const std::map<std::string, Tensor>& weights, Device device) {
  const auto [p, q] = read_final_tables("graphsage", weights);
  std::map<std::string, Tensor> kept;
  for (const auto& [name, tensor] : weights)
    if (name != kUsers && name != kItems) kept.emplace(name, tensor);
  device_ = device;
  num_users_ = p.size(0);
  num_items_ = q.size(0);
  width_ = p.size(1);
  params_ = Params{};
  served_parameters_ = std::move(kept);
  final_users_ = p.to(device);
  final_items_ = q.to(device);
  final_attributes_.clear();
  final_user_states_.clear();
  final_stale_ = false;  // there is no graph to propagate over: the exported tables are final
  graph_.reset();
  sampler_.reset();
  optimizer_.reset();
  batches_.reset();
}

train::ArtifactExtras GraphSage::artifact_extras() const {
  return graph_ ? item_feature_extras(*graph_) : train::ArtifactExtras{};
}

std::map<std::string, int64_t> GraphSage::dimensions() const {
  return {{"users", num_users_}, {"items", num_items_}, {"width", width_}};
}

}  // namespace graphsage

std::unique_ptr<train::Model> create_graphsage() { return std::make_unique<graphsage::GraphSage>(); }

}  // namespace aisle::models
