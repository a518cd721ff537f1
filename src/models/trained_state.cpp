#include "src/models/trained_state.hpp"

#include "aisle/autograd/grad_mode.hpp"
#include "aisle/core/error.hpp"
#include "aisle/ops/matmul.hpp"
#include "aisle/ops/scatter.hpp"
#include "src/models/model_tensors.hpp"

namespace aisle::models {
namespace {

constexpr const char* kOptimizerPrefix = "optimizer.";
constexpr const char* kUsers = "user_embeddings";
constexpr const char* kItems = "item_embeddings";

}  // namespace

std::map<std::string, Tensor> with_optimizer_state(std::map<std::string, Tensor> weights,
                                                   const optim::Optimizer& optimizer) {
  for (const auto& [name, tensor] : optimizer.state()) weights.emplace(kOptimizerPrefix + name, tensor);
  return weights;
}

void load_trained_state(const std::string& model, const std::map<std::string, Tensor>& state,
                        const std::map<std::string, Tensor>& mine, const NamedParams& params,
                        const std::vector<std::string>& derived, optim::Optimizer& optimizer) {
  for (const auto& [name, tensor] : state)
    AISLE_CHECK(mine.count(name) != 0, model, ": state tensor '", name, "' is not part of this model");
  std::vector<std::pair<Tensor, Tensor>> copies;  // (target, source), applied after every check
  for (const auto& [name, var] : params)
    copies.emplace_back(var.value(), expect_weight(model, state, name, var.shape(), /*artifact=*/false));
  for (const std::string& table : derived)
    if (state.count(table) != 0) expect_weight(model, state, table, mine.at(table).shape(), false);
  optim::NamedTensors optimizer_state;
  for (const auto& [name, tensor] : optimizer.state()) {
    const auto it = state.find(kOptimizerPrefix + name);
    AISLE_CHECK(it != state.end(), model, ": state tensor '", kOptimizerPrefix, name, "' is missing");
    optimizer_state.emplace_back(name, it->second);
  }
  optimizer.load_state(optimizer_state);  // validates everything before changing anything
  for (auto& [target, source] : copies) target.copy_(source);
}

std::pair<Tensor, Tensor> read_final_tables(const std::string& model, const std::map<std::string, Tensor>& weights) {
  const auto users = weights.find(kUsers);
  if (users == weights.end()) AISLE_ARTIFACT_FAIL(model, ": tensor '", kUsers, "' is missing");
  AISLE_ARTIFACT_CHECK(users->second.dim() == 2, model, ": tensor '", kUsers, "' has shape ",
                       shape_str(users->second.shape()), ", expected [users, width]");
  const int64_t width = users->second.size(1);
  return {expect_weight(model, weights, kUsers, {-1, width}, true), expect_weight(model, weights, kItems, {-1, width}, true)};
}

Tensor score_with_tables(const Tensor& final_users, const Tensor& final_items, const Tensor& users) {
  NoGradGuard no_grad;
  return ops::matmul(ops::gather_rows(final_users, users), final_items, false, true);
}

}  // namespace aisle::models
