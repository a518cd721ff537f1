#pragma once
// What the graph models (LightGCN, NGCF, GraphSAGE) share for their checkpoints and artifacts:
// state() is the named parameters, the final embedding tables derived from them, and the
// optimizer's tensors under "optimizer."; an artifact needs only the final tables.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "aisle/autograd/var.hpp"
#include "aisle/optim/optimizer.hpp"

namespace aisle::models {

using NamedParams = std::vector<std::pair<std::string, Var>>;

// `weights` plus the optimizer's state, each name prefixed with "optimizer.".
std::map<std::string, Tensor> with_optimizer_state(std::map<std::string, Tensor> weights,
                                                   const optim::Optimizer& optimizer);

// load_state() for such a model: `mine` is its current state(); every entry of `state` must be
// one of mine, every parameter and optimizer tensor present and shaped as now; the `derived` tables
// are checked for shape only (the caller recomputes them). Nothing changes unless everything is
// valid. Errors (aisle::Error) name `model` and the tensor.
void load_trained_state(const std::string& model, const std::map<std::string, Tensor>& state,
                        const std::map<std::string, Tensor>& mine, const NamedParams& params,
                        const std::vector<std::string>& derived, optim::Optimizer& optimizer);

// The final tables "user_embeddings" [U, W] and "item_embeddings" [I, W] of an artifact, as f32.
// Throws aisle::ArtifactError naming `model` and the tensor when one is missing or mis-shaped.
std::pair<Tensor, Tensor> read_final_tables(const std::string& model, const std::map<std::string, Tensor>& weights);

// Scores of every item for `users`: final_users[users] . final_itemsᵀ, without autograd.
Tensor score_with_tables(const Tensor& final_users, const Tensor& final_items, const Tensor& users);

}  // namespace aisle::models
