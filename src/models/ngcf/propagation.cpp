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
#include "src/models/embedding_loss.hpp"

namespace aisle::models::ngcf {
namespace {

constexpr double kLeakySlope = 0.2;  // the reference code's tf.nn.leaky_relu default

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
  AISLE_CHECK(masks.empty() || masks.size() == params.layers.size(), "ngcf: ", masks.size(),
              " dropout masks for ", params.layers.size(), " layers");
  if (params.layers.empty()) return params.ego;
  // A constant Var: the values get no gradient, only the embeddings do.
  const Var values = edge_values.defined() ? Var(edge_values) : Var();
  std::vector<Var> parts{params.ego};
  Var e = params.ego;
  for (size_t l = 0; l < params.layers.size(); ++l) {
    const Layer& layer = params.layers[l];
    const Var side = edge_values.defined() ? spmm(graph, values, e) : spmm(graph, e);
    // (L + I) E in the paper's eq. 8: messages from neighbours plus the node's own embedding.
    const Var sum_part = leaky_relu(matmul(side + e, layer.w1) + layer.b1, kLeakySlope);
    const Var bi_part = leaky_relu(matmul(e * side, layer.w2) + layer.b2, kLeakySlope);
    e = sum_part + bi_part;
    if (!masks.empty()) e = e * Var(masks[l]);
    parts.push_back(l2_normalize_rows(e));
  }
  return concat(parts, 1);
}

Var batch_loss(const SparseOperator& graph, const Params& params, const BatchIds& ids, double reg,
               const std::vector<Tensor>& masks, const Tensor& edge_values) {
  return bpr_loss_with_row_l2(propagate(graph, params, masks, edge_values), params.ego, ids.users, ids.items,
                              ids.negatives, reg);
}

}  // namespace aisle::models::ngcf
