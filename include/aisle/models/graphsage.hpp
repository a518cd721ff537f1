#pragma once
#include <memory>

#include "aisle/recipe/schema.hpp"
#include "aisle/train/model.hpp"

// GraphSAGE for implicit feedback on a shop's heterogeneous graph (model.type: graphsage;
// Hamilton, Ying & Leskovec, NeurIPS 2017, "Inductive Representation Learning on Large Graphs"),
// built so that products nobody has interacted with yet still get useful embeddings.
//
// The graph (src/models/graphsage/feature_graph.hpp): users, items, and one attribute node per
// value of each item feature in model.item_features (a category, a brand, a quantile bucket of a
// numeric feature such as price, a word of a title). Edges join users to the items they
// interacted with in training and items to their attribute values. A node's input is the mean of
// learned rows: a user's own row; an attribute value's own row; for an item, the rows of its
// attribute values plus one shared "item" row (and its own row with model.item_ids, off by default
// so that the model stays inductive: a known item and a new one with the same attributes and
// neighbours are embedded alike).
//
// Layers (one per model.layer_sizes entry): h'_v = h_v W_self + agg_v W_neigh + b with the mean
// of the neighbours (model.aggregator: mean) or the max of ReLU(h_u W_pool + b_pool) over them
// (pool), ReLU and L2 normalisation between layers (model.normalize), none after the last. The
// last layer's output is the embedding; score(u, i) = z_u . z_i.
//
// Training is mini-batch, as in the paper: each step takes train.batch_size rows (u, i) and
// train.negatives uniform non-positive items j per row, samples the L-hop neighbourhoods of the
// distinct u, i, j nodes with model.fanouts neighbours per hop (data::NeighborSampler: uniform
// without replacement, keyed by seed, epoch, step, hop and node, so resume is exact), and
// minimises mean softplus(s_uj - s_ui) + model.reg / (2 B) * sum (|x_u|^2 + |x_i|^2 +
// mean_j |x_j|^2) over the input rows, with lazy Adam (rows of nodes that were not sampled do not
// move; the layers move every step). With model.cold_item_rate each of a step's items (positives
// and negatives alike) is, with that probability, trained as if it were new: its user neighbours
// are hidden in the sampled blocks, so the layers learn to embed items from their attribute nodes
// alone, the only thing a product launched after training has (src/models/graphsage/cold_items.hpp).
//
// Inference (evaluation, export) embeds every node from its whole neighbourhood, layer by layer
// over the full graph: items without training interactions are embedded from their attribute
// nodes, the cold-start case. weights(): "user_embeddings" [U, width] and "item_embeddings"
// [I, width] (all that serving needs), plus the trained parameters "input_tokens" and
// "layer<l>.{w_self,w_neigh,bias[,w_pool,b_pool]}" and each layer's input at the attribute nodes
// "layer<l>.attribute_inputs" and at the users "layer<l>.user_inputs" (model.export_user_states,
// on by default; it lets new products take their first buyers); state() adds the optimizer. With the item features' layout and
// vocabularies that export adds (artifact_extras), that is what `aisle add-items` needs to embed
// products added to the catalogue after export (src/models/graphsage/new_items.hpp).
//
// Everything goes through the op catalogue (embedding_bag, spmm, neighbor_max, matmul), so the
// same code runs on CUDA; neighbourhoods are sampled on the model's device (data::NeighborSampler
// on a CUDA graph; the input rows' lookup is still built on the host). One process only.
namespace aisle::models {

void add_graphsage_keys(recipe::Schema& schema);
std::unique_ptr<train::Model> create_graphsage();

}  // namespace aisle::models
