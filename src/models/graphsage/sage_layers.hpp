#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "aisle/autograd/spmm.hpp"
#include "aisle/autograd/var.hpp"
#include "src/models/graphsage/config.hpp"

// GraphSAGE's forward pass as differentiable functions, shared by the training step (sampled
// neighbourhoods), the full-graph inference of evaluation and export, and the tests.
namespace aisle::models::graphsage {

struct Layer {
  Var w_self, w_neigh;  // [d_in, d_out]
  Var bias;             // [d_out]
  Var w_pool, b_pool;   // [d_in, d_in], [d_in]: the pool aggregator's layer (undefined for mean)
};
struct Params {
  Var tokens;  // [num_tokens, factors]: the input rows (FeatureGraph's token layout)
  std::vector<Layer> layers;
};

// One layer's neighbourhood on the parameters' device: its dst nodes are its first num_dst src
// nodes, and row d of `adjacency` ([num_dst, num_src], values 1/deg) lists d's neighbours.
struct LayerGraph {
  int64_t num_dst = 0;
  ops::Csr adjacency;
  std::optional<SparseOperator> mean;  // the same matrix with its transpose, for the mean aggregator
};
// From a CSR (a sampled block or the whole graph) on any device: copied to `device` unless it is
// there already, values cast to `dtype` unless they have it.
LayerGraph layer_graph(const ops::Csr& adjacency, int64_t num_dst, Aggregator aggregator, Device device,
                       DType dtype = DType::f32);

// inputs: [num_src of graphs[0], factors], the input rows of the first layer's src nodes; layer l
// runs on graphs[l] (so graphs[l + 1]'s src nodes are graphs[l]'s dst nodes). Each layer is
//   h'_v = h_v W_self + agg_v W_neigh + b,  agg_v = mean of h_u over v's neighbours u   (mean)
//                                           agg_v = max of ReLU(h_u W_pool + b_pool)    (pool)
// followed, in every layer but the last, by ReLU and (config.normalize) L2 normalisation.
// Returns [graphs.back().num_dst, width]. With `keep`, also copies of rows [begin, end) of every
// layer's input for each entry (rows[l] for layer l; rows[0] from `inputs`), taken as the layers
// go, so no earlier layer's whole output outlives its use (full-graph inference keeps the user and
// attribute nodes' states this way).
struct KeptRows {
  int64_t begin = 0, end = 0;
  std::vector<Tensor> rows;
};
Var sage_forward(const Params& params, const Var& inputs, const std::vector<LayerGraph>& graphs, const Config& config,
                 std::vector<KeptRows>* keep = nullptr);
// One of those layers: h over g's src nodes -> [g.num_dst, d_out]; `last` skips ReLU and the
// normalisation. Also what embeds items added after training, one layer at a time over the
// attribute nodes' saved states (new_items.hpp).
Var sage_layer(const Layer& layer, const Var& h, const LayerGraph& g, const Config& config, bool last);

// One step's triples as positions among the seeds (the first rows of `inputs`), on the device.
struct SeedPositions {
  Tensor users;      // i64 [B]
  Tensor items;      // i64 [B]
  Tensor negatives;  // i64 [B, k]
};

// mean over the B k triples of softplus(s_uj - s_ui), s the dot product of the embeddings,
// + config.reg / (2 B) * sum over the batch of (|x_u|^2 + |x_i|^2 + mean_j |x_j|^2) on the input
// rows x.
Var batch_loss(const Params& params, const Var& inputs, const std::vector<LayerGraph>& graphs, const Config& config,
               const SeedPositions& seeds);

}  // namespace aisle::models::graphsage
