#include "src/models/graphsage/sage_layers.hpp"

#include "aisle/autograd/elementwise.hpp"
#include "aisle/autograd/index.hpp"
#include "aisle/autograd/layer_norm.hpp"
#include "aisle/autograd/loss.hpp"
#include "aisle/autograd/matmul.hpp"
#include "aisle/autograd/reduce.hpp"
#include "aisle/autograd/scatter.hpp"
#include "aisle/autograd/segment_reduce.hpp"
#include "aisle/autograd/shape.hpp"
#include "src/models/embedding_loss.hpp"
#include "src/models/model_tensors.hpp"

namespace aisle::models::graphsage {
LayerGraph layer_graph(const ops::Csr& adjacency, int64_t num_dst, Aggregator aggregator, Device device, DType dtype) {
  ops::Csr a = adjacency;
  if (a.values.dtype() != dtype) a.values = a.values.to(dtype);
  LayerGraph g{num_dst, csr_on_device(a, device), std::nullopt};
  if (aggregator == Aggregator::mean) g.mean.emplace(g.adjacency);
  return g;
}

Var sage_layer(const Layer& layer, const Var& h, const LayerGraph& g, const Config& config, bool last) {
  AISLE_CHECK(g.adjacency.cols == h.size(0), "graphsage: a layer reads ", g.adjacency.cols, " source nodes but has ",
              h.size(0), " rows");
  const Var agg = config.aggregator == Aggregator::mean
                      ? spmm(*g.mean, h)
                      : neighbor_max(g.adjacency, relu(matmul(h, layer.w_pool) + layer.b_pool));
  const Var self = g.num_dst == h.size(0) ? h : slice(h, 0, 0, g.num_dst);
  Var out = matmul(self, layer.w_self) + matmul(agg, layer.w_neigh) + layer.bias;
  if (!last) {
    out = relu(out);
    if (config.normalize) out = l2_normalize_rows(out);
  }
  return out;
}

Var sage_forward(const Params& params, const Var& inputs, const std::vector<LayerGraph>& graphs, const Config& config,
                 std::vector<KeptRows>* keep) {
  AISLE_CHECK(graphs.size() == params.layers.size(), "graphsage: ", graphs.size(), " neighbourhoods for ",
              params.layers.size(), " layers");
  Var h = inputs;
  for (size_t l = 0; l < graphs.size(); ++l) {
    if (keep != nullptr)
      for (KeptRows& k : *keep) k.rows.push_back(h.value().rows(k.begin, k.end).clone());
    h = sage_layer(params.layers[l], h, graphs[l], config, l + 1 == graphs.size());
  }
  return h;
}

Var batch_loss(const Params& params, const Var& inputs, const std::vector<LayerGraph>& graphs, const Config& config,
               const SeedPositions& seeds) {
  return bpr_loss_with_row_l2(sage_forward(params, inputs, graphs, config), inputs, seeds.users, seeds.items,
                              seeds.negatives, config.reg);
}

}  // namespace aisle::models::graphsage
