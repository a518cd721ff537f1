#include "src/models/ngcf/propagation.hpp"

#include "aisle/autograd/elementwise.hpp"
#include "aisle/autograd/index.hpp"
#include "aisle/autograd/layer_norm.hpp"
#include "aisle/autograd/loss.hpp"
#include "aisle/autograd/matmul.hpp"
#include "aisle/autograd/reduce.hpp"
#include "aisle/autograd/scatter.hpp"
#include "aisle/autograd/shape.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/random.hpp"
#include "aisle/ops/scatter.hpp"
#include "aisle/ops/spmm.hpp"
#include "src/models/embedding_loss.hpp"

namespace aisle::models::ngcf {
namespace {

constexpr double kLeakySlope = 0.2;  // the reference code's tf.nn.leaky_relu default

// One layer's output for nodes with embeddings `self` and neighbourhood sums `side` (Â E's rows).
Var layer_output(const Layer& layer, const Var& self, const Var& side) {
  // (L + I) E in the paper's eq. 8: messages from neighbours plus the node's own embedding.
  const Var sum_part = leaky_relu(matmul(side + self, layer.w1) + layer.b1, kLeakySlope);
  const Var bi_part = leaky_relu(matmul(self * side, layer.w2) + layer.b2, kLeakySlope);
  return sum_part + bi_part;
}

// The next layer over every node: layer(E, Â E), times its dropout mask (undefined: none).
// `values` (undefined: the graph's own) are node dropout's adjacency values.
Var next_layer(const SparseOperator& graph, const Var& values, const Var& e, const Layer& layer, const Tensor& mask) {
  const Var side = values.defined() ? spmm(graph, values, e) : spmm(graph, e);
  const Var out = layer_output(layer, e, side);
  return mask.defined() ? out * Var(mask) : out;
}

void check_masks(const Params& params, const std::vector<Tensor>& masks) {
  AISLE_CHECK(masks.empty() || masks.size() == params.layers.size(), "ngcf: ", masks.size(),
              " dropout masks for ", params.layers.size(), " layers");
}

}  // namespace

std::vector<Tensor> dropout_masks(uint64_t seed, uint64_t stream, int64_t nodes, const std::vector<int64_t>& sizes,
                                  double rate, DType dtype, Device device) {
  if (rate == 0 || sizes.empty()) return {};
  int64_t total = 0;
  for (const int64_t d : sizes) total += nodes * d;
  Generator gen(seed);
  gen.set_state(seed, stream);
  // One draw for all layers: a single stream per step, whatever the number of layers.
  const Tensor all = ops::dropout_mask({total}, rate, gen, dtype, device);
  std::vector<Tensor> masks;
  int64_t offset = 0;
  for (const int64_t d : sizes) {
    masks.push_back(all.rows(offset, offset + nodes * d).reshape({nodes, d}));
    offset += nodes * d;
  }
  return masks;
}

Tensor edge_dropout_values(const SparseOperator& graph, uint64_t seed, uint64_t stream, double rate) {
  if (rate == 0) return Tensor();
  Generator gen(seed);
  gen.set_state(seed, stream);
  const Tensor& values = graph.matrix().values;
  return ops::mul(values, ops::dropout_mask({values.numel()}, rate, gen, values.dtype(), values.device()));
}

Var propagate(const SparseOperator& graph, const Params& params, const std::vector<Tensor>& masks,
              const Tensor& edge_values) {
  check_masks(params, masks);
  if (params.layers.empty()) return params.ego;
  // A constant Var: the values get no gradient, only the embeddings do.
  const Var values = edge_values.defined() ? Var(edge_values) : Var();
  std::vector<Var> parts{params.ego};
  Var e = params.ego;
  for (size_t l = 0; l < params.layers.size(); ++l) {
    e = next_layer(graph, values, e, params.layers[l], masks.empty() ? Tensor() : masks[l]);
    parts.push_back(l2_normalize_rows(e));
  }
  return concat(parts, 1);
}

Var propagate_rows(const SparseOperator& graph, const Params& params, const Tensor& rows,
                   const std::vector<Tensor>& masks, const Tensor& edge_values) {
  check_masks(params, masks);
  if (params.layers.empty()) return embedding(params.ego, rows);
  const Var values = edge_values.defined() ? Var(edge_values) : Var();
  std::vector<Var> parts{embedding(params.ego, rows)};
  Var e = params.ego;
  const size_t last = params.layers.size() - 1;
  for (size_t l = 0; l < last; ++l) {
    e = next_layer(graph, values, e, params.layers[l], masks.empty() ? Tensor() : masks[l]);
    parts.push_back(l2_normalize_rows(embedding(e, rows)));  // row-wise: the rows of the normalised table
  }
  // The last layer for `rows` alone: their rows of the adjacency (with node dropout's values).
  ops::Csr adjacency = graph.matrix();
  if (edge_values.defined()) adjacency.values = edge_values;
  const SparseOperator picked(ops::csr_select_rows(adjacency, rows));
  Var out = layer_output(params.layers[last], embedding(e, rows), spmm(picked, e));
  if (!masks.empty()) out = out * Var(ops::gather_rows(masks[last], rows));
  parts.push_back(l2_normalize_rows(out));
  return concat(parts, 1);
}

Var batch_loss(const SparseOperator& graph, const Params& params, const BatchIds& ids, double reg,
               const std::vector<Tensor>& masks, const Tensor& edge_values) {
  // Only the batch's rows of the final table are scored, so only they get the last layer.
  const TripleIds node_ids{ids.users, ids.items, ids.negatives};
  const BatchRows batch = batch_rows(node_ids);
  return bpr_loss_with_row_l2(propagate_rows(graph, params, batch.rows, masks, edge_values), batch.positions,
                              params.ego, node_ids, reg);
}

}  // namespace aisle::models::ngcf
